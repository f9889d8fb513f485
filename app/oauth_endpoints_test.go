package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
)

// keyClient registers a private_key_jwt client that may use the code flow
// (and so PAR) and client_credentials; it returns its signing key.
func keyClient(t *testing.T, env *apptest.Env) (*clients.Client, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := webAndServiceClient()
	c.TokenEndpointAuthMethod, c.JWKS = clients.AuthPrivateKeyJWT, publicJWKS(t, key, "ES256")
	env.CreateClient(t, c)
	return c, key
}

// webAndServiceClient is a web client that may also use client_credentials
// (scope api): one client for every endpoint that authenticates clients.
func webAndServiceClient() *clients.Client {
	c := webClient()
	c.GrantTypes = append(c.GrantTypes, clients.GrantClientCredentials)
	c.Scopes = append(c.Scopes, "api")
	return c
}

func withAssertion(form url.Values, assertion string) url.Values {
	out := url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	for k, v := range form {
		out[k] = v
	}
	return out
}

// TestPrivateKeyJWTAudience: a client assertion may name the issuer (what
// current clients send, and what RFC 9126 §2 says the PAR endpoint must
// accept), the token endpoint or the PAR endpoint as its audience, at the
// token endpoint and at PAR alike; no other audience.
func TestPrivateKeyJWTAudience(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	c, key := keyClient(t, env)
	cases := []struct {
		name string
		aud  any
		ok   bool
	}{
		{"issuer", env.URL, true},
		{"token endpoint", env.URL + "/oauth2/token", true},
		{"PAR endpoint", env.URL + "/oauth2/par", true},
		{"a list naming the issuer", []string{"https://other.example", env.URL}, true},
		{"userinfo endpoint", env.URL + "/oauth2/userinfo", false},
		{"the issuer with a slash", env.URL + "/", false},
		{"another server", "https://other.example", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := postOAuth(t, env, "/oauth2/token", withAssertion(url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}},
				clientAssertion(t, key, c.ID, tc.aud)), "", "")
			par := postOAuth(t, env, "/oauth2/par", withAssertion(codeRequest(c.ID, oauth2.GenerateVerifier()),
				clientAssertion(t, key, c.ID, tc.aud)), "", "")
			if tc.ok {
				if tok.Status != http.StatusOK || par.Status != http.StatusCreated {
					t.Fatalf("token %d %s; par %d %s", tok.Status, tok.Raw, par.Status, par.Raw)
				}
				return
			}
			tok.wantError(t, http.StatusUnauthorized, "invalid_client")
			par.wantError(t, http.StatusUnauthorized, "invalid_client")
		})
	}
	// A replayed assertion is a failed client authentication, not a code of
	// fosite's own.
	a := clientAssertion(t, key, c.ID, env.URL)
	form := withAssertion(url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}}, a)
	if got := postOAuth(t, env, "/oauth2/token", form, "", ""); got.Status != http.StatusOK {
		t.Fatalf("first use: %d %s", got.Status, got.Raw)
	}
	postOAuth(t, env, "/oauth2/token", form, "", "").wantError(t, http.StatusUnauthorized, "invalid_client")
}

// TestInvalidClientAnswers: a failed client authentication is a 401
// invalid_client that challenges for Basic when Basic was used (RFC 6749
// §5.2), and says the same for an unknown client_id as for a wrong secret,
// at every endpoint that authenticates clients.
func TestInvalidClientAnswers(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	c := webAndServiceClient()
	secret := env.CreateClient(t, c)
	post := webClient()
	post.TokenEndpointAuthMethod = clients.AuthSecretPost
	postSecret := env.CreateClient(t, post)
	forms := map[string]url.Values{
		"/oauth2/token":      {"grant_type": {"client_credentials"}, "scope": {"api"}},
		"/oauth2/par":        codeRequest(c.ID, oauth2.GenerateVerifier()),
		"/oauth2/revoke":     {"token": {"some-token"}},
		"/oauth2/introspect": {"token": {"some-token"}},
	}
	for path, form := range forms {
		t.Run(path, func(t *testing.T) {
			if path == "/oauth2/par" {
				form = codeRequest("nobody", oauth2.GenerateVerifier())
			}
			unknown := postOAuth(t, env, path, form, "nobody", secret)
			if path == "/oauth2/par" {
				form = codeRequest(c.ID, oauth2.GenerateVerifier())
			}
			wrong := postOAuth(t, env, path, form, c.ID, secret+"x")
			for _, a := range []oauthAnswer{unknown, wrong} {
				a.wantError(t, http.StatusUnauthorized, "invalid_client")
				if h := a.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, `Basic realm="`) {
					t.Fatalf("WWW-Authenticate %q after Basic", h)
				}
			}
			if unknown.Raw != wrong.Raw {
				t.Fatalf("an unknown client and a wrong secret are told apart:\n%s\n%s", unknown.Raw, wrong.Raw)
			}
			f := url.Values{"client_id": {post.ID}, "client_secret": {postSecret + "x"}}
			for k, v := range form {
				if k != "client_id" {
					f[k] = v
				}
			}
			inBody := postOAuth(t, env, path, f, "", "")
			inBody.wantError(t, http.StatusUnauthorized, "invalid_client")
			if inBody.Body["error_description"] != wrong.Body["error_description"] {
				t.Fatalf("descriptions differ: %s / %s", inBody.Raw, wrong.Raw)
			}
		})
	}
}

// TestIntrospectionAndUserinfoErrors: introspection refuses a wrong secret
// as invalid_client and a missing token as invalid_request; userinfo
// without any token only challenges (RFC 6750 §3.1: no error code).
func TestIntrospectionAndUserinfoErrors(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	c := &clients.Client{Name: "rs", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}}
	secret := env.CreateClient(t, c)
	postOAuth(t, env, "/oauth2/introspect", url.Values{"token": {"x.y.z"}}, c.ID, "wrong").wantError(t, http.StatusUnauthorized, "invalid_client")
	postOAuth(t, env, "/oauth2/introspect", url.Values{"token_type_hint": {"access_token"}}, c.ID, secret).wantError(t, http.StatusBadRequest, "invalid_request")

	req, _ := http.NewRequest(http.MethodGet, env.URL+"/oauth2/userinfo", nil)
	a := doOAuth(t, env, req)
	if a.Status != http.StatusUnauthorized || a.Header.Get("WWW-Authenticate") != `Bearer realm="gosid"` || strings.Contains(a.Raw, "error") {
		t.Fatalf("userinfo without a token: %d %q %s", a.Status, a.Header.Get("WWW-Authenticate"), a.Raw)
	}
	req, _ = http.NewRequest(http.MethodGet, env.URL+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	a = doOAuth(t, env, req)
	if a.Status != http.StatusUnauthorized || !strings.Contains(a.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("userinfo with a bad token: %d %q", a.Status, a.Header.Get("WWW-Authenticate"))
	}
}

// TestDuplicatedParametersRefused: a parameter sent twice is an
// invalid_request at every endpoint taking a form (RFC 6749 §3.1).
func TestDuplicatedParametersRefused(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	c := webAndServiceClient()
	secret := env.CreateClient(t, c)
	par := codeRequest(c.ID, oauth2.GenerateVerifier())
	par.Add("state", "state-654321")
	cases := map[string]url.Values{
		"/oauth2/token":      {"grant_type": {"client_credentials"}, "scope": {"api", "openid"}},
		"/oauth2/par":        par,
		"/oauth2/revoke":     {"token": {"a", "b"}},
		"/oauth2/introspect": {"token": {"a", "b"}},
	}
	for path, form := range cases {
		t.Run(path, func(t *testing.T) {
			postOAuth(t, env, path, form, c.ID, secret).wantError(t, http.StatusBadRequest, "invalid_request")
		})
	}
	// A parameter in the query and again in the body is sent twice too.
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth2/token?grant_type=client_credentials",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, secret)
	doOAuth(t, env, req).wantError(t, http.StatusBadRequest, "invalid_request")
}

// TestIntrospectionOnlyForOwnerAndAudience (#11 point 13): a token is
// active, with its subject and scope, only to the client it was issued to
// and to a resource server named in its audience; any other confidential
// client gets active:false. Before, every confidential client read every
// token.
func TestIntrospectionOnlyForOwnerAndAudience(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	rs := &clients.Client{ID: "rs-orders", Name: "orders API", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}}
	rsSecret := env.CreateClient(t, rs)
	other := &clients.Client{ID: "nosy", Name: "another service", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}}
	otherSecret := env.CreateClient(t, other)
	owner := &clients.Client{ID: "owner", Name: "owner", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"},
		Audience: []string{"rs-orders"}}
	ownerSecret := env.CreateClient(t, owner)

	get := func(form url.Values) string {
		t.Helper()
		a := postOAuth(t, env, "/oauth2/token", form, "owner", ownerSecret)
		at, _ := a.Body["access_token"].(string)
		if a.Status != http.StatusOK || at == "" {
			t.Fatalf("client_credentials: %d %s", a.Status, a.Raw)
		}
		return at
	}
	forRS := get(url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}, "audience": {"rs-orders"}})
	plain := get(url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}})
	for _, tt := range []struct {
		caller, secret, token string
		want                  bool
	}{
		{"owner", ownerSecret, forRS, true},
		{"owner", ownerSecret, plain, true},
		{"rs-orders", rsSecret, forRS, true},
		{"rs-orders", rsSecret, plain, false},
		{"nosy", otherSecret, forRS, false},
		{"nosy", otherSecret, plain, false},
	} {
		a := postOAuth(t, env, "/oauth2/introspect", url.Values{"token": {tt.token}}, tt.caller, tt.secret)
		if a.Status != http.StatusOK || a.Body["active"] != tt.want {
			t.Fatalf("%s introspecting: %d %s, want active %v", tt.caller, a.Status, a.Raw, tt.want)
		}
		if !tt.want && len(a.Body) != 1 {
			t.Fatalf("%s learnt more than active:false: %s", tt.caller, a.Raw)
		}
		if tt.token == forRS && tt.want && !strings.Contains(a.Raw, `"aud":["rs-orders"]`) {
			t.Fatalf("%s: the introspection answer lacks the token's audience: %s", tt.caller, a.Raw)
		}
	}
}
