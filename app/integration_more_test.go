package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/clients"
)

func TestClientCredentialsIntrospectRevoke(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		for _, method := range []string{clients.AuthSecretBasic, clients.AuthSecretPost} {
			t.Run(method, func(t *testing.T) {
				c := &clients.Client{Name: "svc", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}, TokenEndpointAuthMethod: method}
				secret := env.CreateClient(t, c)
				style := oauth2.AuthStyleInHeader
				if method == clients.AuthSecretPost {
					style = oauth2.AuthStyleInParams
				}
				cc := clientcredentials.Config{ClientID: c.ID, ClientSecret: secret, TokenURL: env.URL + "/oauth2/token", Scopes: []string{"api"}, AuthStyle: style}
				tok, err := cc.Token(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				// An RFC 9068 access token, signed ES256, verifiable with the JWKS.
				parsed, err := josejwt.ParseSigned(tok.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
				if err != nil {
					t.Fatal(err)
				}
				if typ, _ := parsed.Headers[0].ExtraHeaders["typ"].(string); typ != "at+jwt" {
					t.Fatalf("typ = %q", typ)
				}
				var claims map[string]any
				if err := parsed.Claims(fetchJWKS(t, env).Key(parsed.Headers[0].KeyID)[0].Key, &claims); err != nil {
					t.Fatalf("verify with JWKS: %v", err)
				}
				if claims["sub"] != c.ID || claims["client_id"] != c.ID || claims["scope"] != "api" || claims["iss"] != env.URL {
					t.Fatalf("claims: %v", claims)
				}
				if !introspect(t, env, c.ID, secret, tok.AccessToken) {
					t.Fatal("fresh token inactive")
				}
				// Introspection requires an authenticated caller.
				resp, err := http.PostForm(env.URL+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("unauthenticated introspection: %d", resp.StatusCode)
				}
				// Revocation (RFC 7009) reaches the JWT through the deny-list.
				form := url.Values{"token": {tok.AccessToken}}
				if method == clients.AuthSecretPost {
					form.Set("client_id", c.ID)
					form.Set("client_secret", secret)
				}
				req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth2/revoke", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if method == clients.AuthSecretBasic {
					req.SetBasicAuth(c.ID, secret)
				}
				resp, err = env.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("revoke: %d", resp.StatusCode)
				}
				if introspect(t, env, c.ID, secret, tok.AccessToken) {
					t.Fatal("revoked token still active")
				}
			})
		}
	})
}

func fetchJWKS(t *testing.T, env *apptest.Env) *jose.JSONWebKeySet {
	t.Helper()
	resp, err := env.Client().Get(env.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return &set
}

func TestPrivateKeyJWT(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := jose.JSONWebKey{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	c := &clients.Client{Name: "pkjwt", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"},
		TokenEndpointAuthMethod: clients.AuthPrivateKeyJWT, JWKS: set}
	env.CreateClient(t, c)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	assertion := func(jti string) string {
		now := time.Now()
		s, err := josejwt.Signed(signer).Claims(josejwt.Claims{
			Issuer: c.ID, Subject: c.ID, Audience: josejwt.Audience{env.URL + "/oauth2/token"}, ID: jti,
			IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(time.Minute)),
		}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	post := func(a string) int {
		resp, err := http.PostForm(env.URL+"/oauth2/token", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {c.ID},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a},
		})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Logf("token: %d %s", resp.StatusCode, body)
		}
		return resp.StatusCode
	}
	a := assertion("jti-1")
	if got := post(a); got != http.StatusOK {
		t.Fatalf("private_key_jwt: %d", got)
	}
	if got := post(a); got == http.StatusOK {
		t.Fatal("a replayed client assertion was accepted")
	}
	if got := post(assertion("jti-2")); got != http.StatusOK {
		t.Fatalf("second assertion: %d", got)
	}
}

func TestPushedAuthorizationRequest(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	c.FirstParty = true
	secret := env.CreateClient(t, c)
	r := newRP(t, env, c.ID, secret)
	verifier := oauth2.GenerateVerifier()
	form := url.Values{
		"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid profile"},
		"state": {"par-state-123"}, "nonce": {"par-nonce-123"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
	}
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth2/par", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, secret)
	resp, err := env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var par struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &par) != nil || par.RequestURI == "" {
		t.Fatalf("par: %d %s", resp.StatusCode, body)
	}
	b := env.NewBrowser(t)
	back := b.SignIn(env.URL+"/oauth2/authorize?"+url.Values{"client_id": {c.ID}, "request_uri": {par.RequestURI}}.Encode(), testPhone, testPassword)
	if back.Query().Get("state") != "par-state-123" || back.Query().Get("code") == "" {
		t.Fatalf("par authorization: %s", back)
	}
	if _, err := r.oauth.Exchange(r.ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange: %v", err)
	}
}

func TestRPInitiatedLogout(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	c.FirstParty = true
	secret := env.CreateClient(t, c)
	r := newRP(t, env, c.ID, secret)
	b := env.NewBrowser(t)
	tok, _ := r.login(t, b)
	idToken := tok.Extra("id_token").(string)

	// An unregistered post_logout_redirect_uri is refused.
	p := b.Get(env.URL + "/oauth2/logout?" + url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"http://127.0.0.1:9/evil"}}.Encode())
	if p.Status != http.StatusBadRequest {
		t.Fatalf("unregistered post-logout URI: %d %s", p.Status, p.URL)
	}
	// With a valid hint the session ends and the citizen goes back with state.
	p = b.Get(env.URL + "/oauth2/logout?" + url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"st"}}.Encode())
	if p.URL.String() != "http://127.0.0.1:9/bye?state=st" {
		t.Fatalf("logout redirect: %d %s", p.Status, p.URL)
	}
	// The session is gone: prompt=none now fails with login_required.
	p = b.Get(r.oauth.AuthCodeURL("state-123456", oauth2.SetAuthURLParam("prompt", "none"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if p.URL.Query().Get("error") != "login_required" {
		t.Fatalf("after logout: %s", p.URL)
	}
}

func TestLogoutWithoutHintAsksToConfirm(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	c.FirstParty = true
	secret := env.CreateClient(t, c)
	r := newRP(t, env, c.ID, secret)
	b := env.NewBrowser(t)
	r.login(t, b)
	p := b.Get(env.URL + "/oauth2/logout?" + url.Values{"client_id": {c.ID}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}}.Encode())
	if p.Status != http.StatusOK {
		t.Fatalf("confirmation page: %d", p.Status)
	}
	p = b.Submit("/logout/confirm", url.Values{"decision": {"yes"}})
	if p.URL.String() != "http://127.0.0.1:9/bye" {
		t.Fatalf("after confirm: %s", p.URL)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	secret := env.CreateClient(t, c)
	r := newRP(t, env, c.ID, secret)
	b := env.NewBrowser(t)
	tok, _ := r.login(t, b)
	kidsBefore := kids(fetchJWKS(t, env))

	env = env.Restart(t)
	b2 := b // the same browser, cookies and all, against the restarted server
	r = newRP(t, env, c.ID, secret)

	if got := kids(fetchJWKS(t, env)); got != kidsBefore {
		t.Fatalf("signing keys changed across restart: %s -> %s", kidsBefore, got)
	}
	if _, err := r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh after restart: %v", err)
	}
	// Session and consent survived: prompt=none succeeds.
	p := b2.Get(r.oauth.AuthCodeURL("state-123456", oauth2.SetAuthURLParam("prompt", "none"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if p.URL.Query().Get("code") == "" {
		t.Fatalf("session lost across restart: %s", p.URL)
	}
}

func kids(set *jose.JSONWebKeySet) string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return strings.Join(out, ",")
}

func TestLockoutIsAtomic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		acct := env.CreateAccount(t, testPhone, testPassword)
		c := webClient()
		c.FirstParty = true
		secret := env.CreateClient(t, c)
		r := newRP(t, env, c.ID, secret)

		// Open 100 sign-in pages, then submit a wrong password on all at once.
		const n = 100
		browsers := make([]*apptest.Browser, n)
		for i := range browsers {
			browsers[i] = env.NewBrowser(t)
			browsers[i].Get(r.oauth.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		}
		var wg sync.WaitGroup
		statuses := make([]int, n)
		for i, b := range browsers {
			wg.Add(1)
			go func(i int, b *apptest.Browser) {
				defer wg.Done()
				statuses[i] = b.Submit("/login", url.Values{"login": {testPhone}, "password": {"Wrong-password-1"}}).Status
			}(i, b)
		}
		wg.Wait()
		events, err := env.Stores.DB.ListEvents(context.Background(), acct.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		failures := countEvents(events, "login.failure")
		if failures > 3 || failures == 0 {
			t.Fatalf("%d passwords were checked; the lockout allows 3", failures)
		}
		if countEvents(events, "login.locked") != 1 {
			t.Fatalf("want exactly one lock event, got %d", countEvents(events, "login.locked"))
		}
		// Even the right password is refused while locked.
		b := env.NewBrowser(t)
		b.Get(r.oauth.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		p := b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
		if p.Status != http.StatusForbidden {
			t.Fatalf("locked account signed in: %d %s", p.Status, p.URL)
		}
	})
}

func countEvents(events []*audit.Event, typ string) int {
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func TestOperationsEndpoints(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := env.Client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	// The probes answer on both listeners (load balancers reach the public
	// one); the metrics only on the admin listener.
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ok", "/metrics": "gosid_http_requests_total"} {
		// Hit discovery first so the request counter has a sample.
		get(env.URL + "/.well-known/openid-configuration")
		if status, body := get(env.Admin.URL + path); status != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("admin %s: %d %q", path, status, body)
		}
		status, body := get(env.URL + path)
		if path == "/metrics" {
			if status != http.StatusNotFound || strings.Contains(body, want) {
				t.Fatalf("public /metrics: %d %q, want 404 without metrics", status, body)
			}
		} else if status != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("public %s: %d %q", path, status, body)
		}
	}
	// The admin listener serves nothing else.
	if status, _ := get(env.Admin.URL + "/.well-known/openid-configuration"); status != http.StatusNotFound {
		t.Fatalf("admin discovery: %d, want 404", status)
	}
	// Oversize bodies are refused with a JSON error, not a 500.
	resp, err := http.Post(env.URL+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(strings.Repeat("a", 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize body: %d", resp.StatusCode)
	}
}
