package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
)

// signedInRP starts a server with a citizen signed in to a first-party
// confidential client; it returns the server, the relying party and the
// browser.
func signedInRP(t *testing.T) (*apptest.Env, *clients.Client, *rp, *apptest.Browser) {
	t.Helper()
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	c.FirstParty = true
	secret := env.CreateClient(t, c)
	r := newRP(t, env, c.ID, secret)
	b := env.NewBrowser(t)
	r.login(t, b)
	return env, c, r, b
}

// TestStateIsOptionalWithPKCE: RFC 6749 makes state optional and RFC 9700
// §2.1 lets a client that uses PKCE rely on it against CSRF; without PKCE
// gosid still wants an unguessable state. An absent state is never echoed
// as an empty one, and the refusal uses a registered error code.
func TestStateIsOptionalWithPKCE(t *testing.T) {
	env, c, r, b := signedInRP(t)
	verifier := oauth2.GenerateVerifier()
	q := codeRequest(c.ID, verifier)
	q.Del("state")
	p := b.Get(authorizeURL(env, q))
	back := p.URL.Query()
	if !atClient(p) || back.Get("code") == "" {
		t.Fatalf("PKCE without state: %d %s", p.Status, p.URL)
	}
	if back.Has("state") {
		t.Fatalf("an absent state was echoed: %s", p.URL)
	}
	if _, err := r.oauth.Exchange(r.ctx, back.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange: %v", err)
	}

	noPKCE := codeRequest(c.ID, verifier)
	noPKCE.Del("code_challenge")
	noPKCE.Del("code_challenge_method")
	for name, state := range map[string]string{"no state": "", "short state": "abc"} {
		t.Run(name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range noPKCE {
				q[k] = v
			}
			q.Del("state")
			if state != "" {
				q.Set("state", state)
			}
			p := b.Get(authorizeURL(env, q))
			back := p.URL.Query()
			if !atClient(p) || back.Get("error") != "invalid_request" {
				t.Fatalf("without PKCE: %d %s", p.Status, p.URL)
			}
			if back.Has("state") != (state != "") || back.Get("state") != state {
				t.Fatalf("state echoed wrongly: %s", p.URL)
			}
		})
	}
}

// TestResponseModes: the response modes discovery lists work for every
// client when asked for explicitly; fragment, which the code flow does not
// use here, is refused with a registered error code.
func TestResponseModes(t *testing.T) {
	env, c, r, b := signedInRP(t)
	verifier := oauth2.GenerateVerifier()
	q := codeRequest(c.ID, verifier)
	q.Set("response_mode", "query")
	p := b.Get(authorizeURL(env, q))
	if !atClient(p) || p.URL.Query().Get("code") == "" {
		t.Fatalf("response_mode=query: %d %s", p.Status, p.URL)
	}

	q.Set("response_mode", "form_post")
	action, vals := formPost(t, b.Get(authorizeURL(env, q)))
	if action != redirectURI || vals.Get("code") == "" || vals.Get("state") != "state-123456" {
		t.Fatalf("response_mode=form_post: %s %v", action, vals)
	}
	if _, err := r.oauth.Exchange(r.ctx, vals.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange of a form_post code: %v", err)
	}

	q.Set("response_mode", "fragment")
	p = b.Get(authorizeURL(env, q))
	if !atClient(p) || p.URL.Query().Get("error") != "invalid_request" || p.URL.Fragment != "" {
		t.Fatalf("response_mode=fragment: %d %s", p.Status, p.URL)
	}
}

// TestAuthorizationResponseIss: every authorization response, success or
// error, in the query or posted, names the issuer (RFC 9207), so a client
// talking to several servers cannot be fooled by a mix-up.
func TestAuthorizationResponseIss(t *testing.T) {
	env, c, _, b := signedInRP(t)
	var disc map[string]any
	getJSON(t, env, "/.well-known/openid-configuration", &disc)
	if disc["authorization_response_iss_parameter_supported"] != true {
		t.Fatalf("discovery does not advertise iss: %v", disc["authorization_response_iss_parameter_supported"])
	}
	ok := codeRequest(c.ID, oauth2.GenerateVerifier())
	bad := codeRequest(c.ID, oauth2.GenerateVerifier())
	bad.Set("scope", "openid admin") // a scope the client may not ask for
	for _, mode := range []string{"", "form_post"} {
		for name, q := range map[string]url.Values{"success": ok, "error": bad} {
			t.Run(name+" "+mode, func(t *testing.T) {
				q.Del("response_mode")
				if mode != "" {
					q.Set("response_mode", mode)
				}
				p := b.Get(authorizeURL(env, q))
				var got url.Values
				if mode == "form_post" {
					_, got = formPost(t, p)
				} else {
					got = p.URL.Query()
				}
				if got.Get("iss") != env.URL || (got.Get("code") == "") == (name == "success") {
					t.Fatalf("%v", got)
				}
			})
		}
	}
	// An error the citizen causes on a page (declining consent) too.
	third := webClient()
	secret := env.CreateClient(t, third)
	r3 := newRP(t, env, third.ID, secret)
	b.Get(r3.oauth.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	p := b.Submit("/consent", url.Values{"decision": {"deny"}})
	if p.URL.Query().Get("error") != "access_denied" || p.URL.Query().Get("iss") != env.URL {
		t.Fatalf("declined consent: %s", p.URL)
	}
}

// TestAuthorizeErrorCodes: a request that lacks a required parameter is an
// invalid_request (RFC 6749 §4.1.2.1), response_type included.
func TestAuthorizeErrorCodes(t *testing.T) {
	env, c, _, b := signedInRP(t)
	for _, missing := range []string{"response_type"} {
		q := codeRequest(c.ID, oauth2.GenerateVerifier())
		q.Del(missing)
		p := b.Get(authorizeURL(env, q))
		if !atClient(p) || p.URL.Query().Get("error") != "invalid_request" {
			t.Fatalf("without %s: %d %s", missing, p.Status, p.URL)
		}
	}
}

// TestDuplicatedAuthorizeParameters: a parameter sent twice is refused
// (RFC 6749 §3.1), never read as its first value; a duplicated state is not
// echoed, and a duplicated client_id or redirect_uri cannot be answered at
// a redirect URI at all.
func TestDuplicatedAuthorizeParameters(t *testing.T) {
	env, c, _, b := signedInRP(t)
	for _, name := range []string{"scope", "state", "code_challenge", "client_id", "redirect_uri"} {
		t.Run(name, func(t *testing.T) {
			q := codeRequest(c.ID, oauth2.GenerateVerifier())
			q.Add(name, q.Get(name)+"2")
			p := b.Get(authorizeURL(env, q))
			if name == "client_id" || name == "redirect_uri" {
				if atClient(p) || p.Status != http.StatusBadRequest {
					t.Fatalf("duplicated %s: %d %s", name, p.Status, p.URL)
				}
				return
			}
			back := p.URL.Query()
			if !atClient(p) || back.Get("error") != "invalid_request" || back.Get("code") != "" {
				t.Fatalf("duplicated %s: %d %s", name, p.Status, p.URL)
			}
			if name == "state" && back.Has("state") {
				t.Fatalf("a duplicated state was echoed: %s", p.URL)
			}
		})
	}
}

// TestLoopbackRedirectPort: RFC 8252 §7.3 lets a native app listen on any
// loopback port; a web client's redirect URI is matched exactly.
func TestLoopbackRedirectPort(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	web := webClient()
	web.FirstParty = true
	env.CreateClient(t, web)
	spa := webClient()
	spa.FirstParty, spa.Public, spa.TokenEndpointAuthMethod = true, true, clients.AuthNone
	env.CreateClient(t, spa)
	native := webClient()
	native.FirstParty, native.Public, native.TokenEndpointAuthMethod = true, true, clients.AuthNone
	native.ApplicationType = clients.AppNative
	native.RedirectURIs = []string{"http://127.0.0.1/callback"}
	env.CreateClient(t, native)
	b := env.NewBrowser(t)

	for _, c := range []*clients.Client{web, spa} {
		q := codeRequest(c.ID, oauth2.GenerateVerifier())
		q.Set("redirect_uri", "http://127.0.0.1:8/callback")
		p := b.Get(authorizeURL(env, q))
		if p.URL.Host == "127.0.0.1:8" || p.Status != http.StatusBadRequest {
			t.Fatalf("%s client, another loopback port: %d %s", c.TokenEndpointAuthMethod, p.Status, p.URL)
		}
	}

	verifier := oauth2.GenerateVerifier()
	const nativeRedirect = "http://127.0.0.1:53123/callback"
	q := codeRequest(native.ID, verifier)
	q.Set("redirect_uri", nativeRedirect)
	back := b.SignIn(authorizeURL(env, q), testPhone, testPassword)
	if back.Host != "127.0.0.1:53123" || back.Query().Get("code") == "" {
		t.Fatalf("native client on its own port: %s", back)
	}
	r := newRP(t, env, native.ID, "")
	r.oauth.RedirectURL = nativeRedirect
	if _, err := r.oauth.Exchange(r.ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("native exchange: %v", err)
	}
}

func getJSON(t *testing.T, env *apptest.Env, path string, out any) oauthAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, env.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := doOAuth(t, env, req)
	if a.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, a.Status, a.Raw)
	}
	if err := json.Unmarshal([]byte(a.Raw), out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return a
}
