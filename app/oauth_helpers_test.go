package app_test

import (
	"crypto"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
)

// Helpers for the tests of what stock relying-party libraries check of an
// OpenID provider (issue #11): raw requests, so that each test sees exactly
// what gosid answers.

// oauthAnswer is an answer of a JSON endpoint.
type oauthAnswer struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// postOAuth posts form to path, with HTTP Basic credentials when user is
// not empty.
func postOAuth(t *testing.T, env *apptest.Env, path string, form url.Values, user, pass string) oauthAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return doOAuth(t, env, req)
}

func doOAuth(t *testing.T, env *apptest.Env, req *http.Request) oauthAnswer {
	t.Helper()
	resp, err := env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := oauthAnswer{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.Body); err != nil {
			t.Fatalf("%s %s: not JSON: %s", req.Method, req.URL.Path, raw)
		}
	}
	return a
}

// wantError fails unless the answer is an RFC 6749 error with code and status.
func (a oauthAnswer) wantError(t *testing.T, status int, code string) {
	t.Helper()
	if a.Status != status || a.Body["error"] != code {
		t.Fatalf("got %d %s; want %d %s", a.Status, a.Raw, status, code)
	}
}

// codeRequest is an authorization-code request of clientID with PKCE
// (S256 of verifier), a state and a nonce.
func codeRequest(clientID, verifier string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {"openid profile"}, "state": {"state-123456"}, "nonce": {"nonce-123456"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	}
}

func authorizeURL(env *apptest.Env, q url.Values) string {
	return env.URL + "/oauth2/authorize?" + q.Encode()
}

// atClient reports whether the browser ended at the relying service (the
// redirect URI's host), not at gosid.
func atClient(p *apptest.Page) bool { return p.URL.Host == "127.0.0.1:9" }

// signJWT signs claims with key (alg ES256 or RS256, key id kid).
func signJWT(t *testing.T, alg jose.SignatureAlgorithm, key crypto.Signer, kid string, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := josejwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clientAssertion is a private_key_jwt assertion (RFC 7523) of clientID for
// aud (a string or a list), with a fresh jti.
func clientAssertion(t *testing.T, key crypto.Signer, clientID string, aud any) string {
	t.Helper()
	now := time.Now()
	return signJWT(t, jose.ES256, key, "k1", map[string]any{
		"iss": clientID, "sub": clientID, "aud": aud, "jti": oauth2.GenerateVerifier(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	})
}

// publicJWKS is the JSON Web Key Set of key's public half (kid k1).
func publicJWKS(t *testing.T, key crypto.Signer, alg string) []byte {
	t.Helper()
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: alg, Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// formPost reads the auto-submitting form of a form_post response: its
// target and the parameters it carries.
func formPost(t *testing.T, p *apptest.Page) (string, url.Values) {
	t.Helper()
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("form_post: want an HTML page, got %d %s at %s", p.Status, p.Header.Get("Content-Type"), p.URL)
	}
	f, err := p.Form(redirectURI)
	if err != nil {
		t.Fatalf("form_post: %v\n%s", err, p.Body)
	}
	return f.Action, f.Values
}
