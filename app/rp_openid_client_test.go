package app_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/internal/testenv"
)

// rpHarness is the directory of the stock relying-party packages
// (package.json pins them; scripts/test runs npm ci there).
const rpHarness = "testdata/rp"

// nodePackages returns the node binary, or skips (fails in CI) when node or
// the harness's installed packages are missing.
func nodePackages(t *testing.T, pkgs ...string) string {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		if testenv.InCI() || os.Getenv("GOSID_TEST_NODE") == "1" {
			t.Fatalf("%s (scripts/test installs them)", why)
		}
		t.Skipf("%s; scripts/test installs them", why)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	for _, p := range pkgs {
		if _, err := os.Stat(filepath.Join(rpHarness, "node_modules", p, "package.json")); err != nil {
			missing("npm package " + p + " is not installed in app/" + rpHarness)
		}
	}
	return node
}

// rpCheck is one check a relying-party script reports.
type rpCheck struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Browse string `json:"browse"`
	Done   bool   `json:"done"`
}

// browseAsCitizen opens u in b: signs in and consents on gosid's pages when
// they appear, and returns where the browser ended (the client's redirect
// URI, or a gosid page when it did not get there).
func browseAsCitizen(b *apptest.Browser, u, login, password string) *url.URL {
	p := b.Get(u)
	for range 4 {
		switch {
		case strings.HasSuffix(p.URL.Path, "/login"):
			p = b.Submit("/login", url.Values{"login": {login}, "password": {password}})
		case strings.HasSuffix(p.URL.Path, "/consent"):
			p = b.Submit("/consent", url.Values{"decision": {"allow"}})
		default:
			return p.URL
		}
	}
	return p.URL
}

// TestOpenIDClient runs a relying party built on the stock npm openid-client
// (latest 6.x, default settings, over https) against gosid, the citizen's
// browser going through the hosted pages: code + PKCE with
// client_secret_post, client_secret_basic, private_key_jwt and a public
// client, state-less PKCE, refresh with rotation, userinfo, introspection,
// revocation, PAR, JAR, JAR through PAR, client credentials, RP-initiated
// logout, DPoP (RFC 9449) bound tokens, refresh and userinfo. Every check
// the script reports must pass, except those in knownFailing (none now):
// each of those must fail, so that the work that makes one pass removes it
// here.
func TestOpenIDClient(t *testing.T) {
	node := nodePackages(t, "openid-client")
	env := apptest.StartTLS(t, apptest.NewConfig(t, apptest.SQLite))
	const phone, password = "+79161234567", "Correct-Horse-9-battery"
	env.CreateAccount(t, phone, password)
	const rp = "http://127.0.0.1:9"

	webSecret := env.CreateClient(t, &clients.Client{ID: "oc-web", Name: "openid-client web",
		TokenEndpointAuthMethod: clients.AuthSecretPost, RedirectURIs: []string{rp + "/web/cb"},
		PostLogoutRedirectURIs: []string{rp + "/web/bye"}, Scopes: []string{"openid", "profile", "offline_access"}})
	basicSecret := env.CreateClient(t, &clients.Client{ID: "oc-basic", Name: "openid-client basic",
		RedirectURIs: []string{rp + "/basic/cb"}, Scopes: []string{"openid", "profile", "offline_access", "svc"},
		GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}, IDTokenAlg: "ES256"})
	env.CreateClient(t, &clients.Client{ID: "oc-public", Name: "openid-client public", Public: true,
		TokenEndpointAuthMethod: clients.AuthNone, RedirectURIs: []string{rp + "/public/cb"}, Scopes: []string{"openid", "profile", "offline_access"}})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	env.CreateClient(t, &clients.Client{ID: "oc-pkjwt", Name: "openid-client private_key_jwt",
		TokenEndpointAuthMethod: clients.AuthPrivateKeyJWT, JWKS: publicJWKS(t, key, "ES256"),
		RedirectURIs: []string{rp + "/pk/cb"}, Scopes: []string{"openid", "profile", "offline_access"}})
	privJWK, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: "k1", Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}

	cfg, err := json.Marshal(map[string]any{
		"issuer": env.URL,
		"clients": map[string]any{
			"web": map[string]any{"client_id": "oc-web", "client_secret": webSecret, "redirect_uri": rp + "/web/cb",
				"post_logout_redirect_uri": rp + "/web/bye"},
			"basic":  map[string]any{"client_id": "oc-basic", "client_secret": basicSecret, "redirect_uri": rp + "/basic/cb", "cc_scope": "svc"},
			"public": map[string]any{"client_id": "oc-public", "redirect_uri": rp + "/public/cb"},
			"pkjwt":  map[string]any{"client_id": "oc-pkjwt", "redirect_uri": rp + "/pk/cb", "private_jwk": json.RawMessage(privJWK)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(t.TempDir(), "gosid.pem")
	if err := os.WriteFile(certFile, env.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	knownFailing := map[string]bool{}
	checks := runRPScript(t, env, node, "openid-client.mjs", []string{"RP_CONFIG=" + string(cfg), "NODE_EXTRA_CA_CERTS=" + certFile},
		phone, password, knownFailing)
	const want = 36
	if len(checks) < want {
		t.Errorf("the script reported %d checks, want %d", len(checks), want)
	}
}

// runRPScript runs a relying-party script of the harness, browses for it
// and returns the checks it reported, failing the test for each that did
// not pass (and for each in knownFailing that did).
func runRPScript(t *testing.T, env *apptest.Env, node, script string, envVars []string, login, password string, knownFailing map[string]bool) []rpCheck {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), node, script)
	cmd.Dir = rpHarness
	cmd.Env = append(os.Environ(), envVars...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := env.NewBrowser(t)
	var checks []rpCheck
	done := false
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m rpCheck
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("script wrote %q", sc.Text())
			continue
		}
		switch {
		case m.Browse != "":
			end := browseAsCitizen(b, m.Browse, login, password)
			if _, err := stdin.Write([]byte(end.String() + "\n")); err != nil {
				t.Fatal(err)
			}
		case m.Done:
			done = true
		default:
			checks = append(checks, m)
			if knownFailing[m.Check] {
				if m.OK {
					t.Errorf("PASS %s, listed as known to fail: remove it from knownFailing", m.Check)
				} else {
					t.Logf("known to fail: %s: %.200s", m.Check, m.Detail)
				}
				continue
			}
			if m.OK {
				t.Logf("ok   %s %s", m.Check, m.Detail)
			} else {
				t.Errorf("FAIL %s: %s", m.Check, m.Detail)
			}
		}
	}
	_ = stdin.Close()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		err = <-waited
	}
	if err != nil || !done {
		t.Fatalf("%s did not finish (%v):\n%s", script, err, stderr.String())
	}
	return checks
}
