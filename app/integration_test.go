package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
)

const (
	testPhone    = "+7 (912) 345-67-89"
	testPassword = "Correct-Horse-9-battery"
	redirectURI  = "http://127.0.0.1:9/callback"
)

// rp is a relying service wired exactly as its engineers would: go-oidc
// discovery and verification plus x/oauth2.
type rp struct {
	provider *oidc.Provider
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	ctx      context.Context
}

func newRP(t *testing.T, env *apptest.Env, clientID, secret string, scopes ...string) *rp {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), env.Client())
	p, err := oidc.NewProvider(ctx, env.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "phone", oidc.ScopeOfflineAccess}
	}
	style := oauth2.AuthStyleInHeader
	if secret == "" {
		style = oauth2.AuthStyleInParams
	}
	return &rp{
		provider: p,
		oauth: &oauth2.Config{
			ClientID: clientID, ClientSecret: secret,
			RedirectURL: redirectURI, Scopes: scopes,
			Endpoint: oauth2.Endpoint{AuthURL: p.Endpoint().AuthURL, TokenURL: p.Endpoint().TokenURL, AuthStyle: style},
		},
		verifier: p.Verifier(&oidc.Config{ClientID: clientID}),
		ctx:      ctx,
	}
}

// login runs an authorization-code flow with PKCE through the hosted pages
// and returns the token and verified id_token.
func (r *rp) login(t *testing.T, b *apptest.Browser, opts ...oauth2.AuthCodeOption) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	state, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	opts = append(opts, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	back := b.SignIn(r.oauth.AuthCodeURL(state, opts...), testPhone, testPassword)
	q := back.Query()
	if q.Get("error") != "" {
		t.Fatalf("authorization error: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != state {
		t.Fatalf("state mismatch: %q", q.Get("state"))
	}
	tok, err := r.oauth.Exchange(r.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		t.Fatal("no id_token in token response")
	}
	idt, err := r.verifier.Verify(r.ctx, raw)
	if err != nil {
		t.Fatalf("verify id_token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Fatalf("nonce mismatch")
	}
	return tok, idt
}

func forEachBackend(t *testing.T, f func(t *testing.T, backend apptest.Backend)) {
	for _, b := range apptest.Backends {
		t.Run(string(b), func(t *testing.T) { f(t, b) })
	}
}

func webClient() *clients.Client {
	return &clients.Client{
		Name: "Портал <госуслуг>", RedirectURIs: []string{redirectURI},
		PostLogoutRedirectURIs: []string{"http://127.0.0.1:9/bye"},
		GrantTypes:             []string{"authorization_code", "refresh_token"},
		Scopes:                 []string{"openid", "profile", "email", "phone", "offline_access"},
	}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		acct := env.CreateAccount(t, testPhone, testPassword)
		c := webClient()
		secret := env.CreateClient(t, c)
		r := newRP(t, env, c.ID, secret)
		b := env.NewBrowser(t)

		// First sign-in shows the consent page (the client is not first-party).
		tok, idt := r.login(t, b)
		if idt.Subject != acct.ID {
			t.Fatalf("sub = %q, want %q", idt.Subject, acct.ID)
		}
		var claims struct {
			ACR      string   `json:"acr"`
			AMR      []string `json:"amr"`
			AuthTime int64    `json:"auth_time"`
			SID      string   `json:"sid"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.ACR != "urn:gosid:loa:simplified" || len(claims.AMR) == 0 || claims.AMR[0] != "pwd" || claims.AuthTime == 0 || claims.SID == "" {
			t.Fatalf("unexpected id_token claims: %+v", claims)
		}
		// The owner hears of a sign-in from a browser never seen before.
		env.WaitTemplate(t, testPhone, "login_new_device")

		// Userinfo returns the profile and the confirmed phone.
		ui, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		var info map[string]any
		if err := ui.Claims(&info); err != nil {
			t.Fatal(err)
		}
		if info["family_name"] != "Иванов" || info["phone_number"] != "+79123456789" || info["phone_number_verified"] != true {
			t.Fatalf("userinfo claims: %v", info)
		}
		if _, ok := info["email"]; ok {
			t.Fatalf("email released without the email scope being requested: %v", info)
		}

		// Consent is remembered: the second flow goes straight back to the client.
		b.Get(r.oauth.AuthCodeURL("s2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if b.Last.URL.Host != "127.0.0.1:9" {
			t.Fatalf("second authorization did not skip sign-in and consent: %s", b.Last.URL)
		}

		// Refresh rotates the refresh token.
		src := r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken})
		tok2, err := src.Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
			t.Fatal("refresh token was not rotated")
		}
		if _, ok := tok2.Extra("id_token").(string); !ok {
			t.Fatal("refresh did not return an id_token")
		}
	})
}

func TestRefreshReuseRevokesGrant(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		env.CreateAccount(t, testPhone, testPassword)
		c := webClient()
		c.FirstParty = true
		secret := env.CreateClient(t, c)
		r := newRP(t, env, c.ID, secret)
		tok, _ := r.login(t, env.NewBrowser(t))

		tok2, err := r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatal(err)
		}
		// Reusing the first refresh token (grace window is 0 in tests) fails...
		_, err = r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		assertOAuthError(t, err, "invalid_grant")
		// ...and revokes the whole grant: the rotated token and the access tokens.
		_, err = r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token()
		assertOAuthError(t, err, "invalid_grant")
		for _, at := range []string{tok.AccessToken, tok2.AccessToken} {
			if active := introspect(t, env, c.ID, secret, at); active {
				t.Fatal("access token still active after refresh-token reuse")
			}
		}
	})
}

func TestCodeReuseRevokesTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		env.CreateAccount(t, testPhone, testPassword)
		c := webClient()
		c.FirstParty = true
		secret := env.CreateClient(t, c)
		r := newRP(t, env, c.ID, secret)
		b := env.NewBrowser(t)
		verifier := oauth2.GenerateVerifier()
		back := b.SignIn(r.oauth.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier)), testPhone, testPassword)
		code := back.Query().Get("code")
		tok, err := r.oauth.Exchange(r.ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if !introspect(t, env, c.ID, secret, tok.AccessToken) {
			t.Fatal("fresh access token inactive")
		}
		_, err = r.oauth.Exchange(r.ctx, code, oauth2.VerifierOption(verifier))
		assertOAuthError(t, err, "invalid_grant")
		if introspect(t, env, c.ID, secret, tok.AccessToken) {
			t.Fatal("access token from a reused code still active")
		}
		_, err = r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		assertOAuthError(t, err, "invalid_grant")
	})
}

func TestPublicClientRequiresPKCE(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	c.Public, c.TokenEndpointAuthMethod, c.FirstParty = true, clients.AuthNone, true
	env.CreateClient(t, c)
	r := newRP(t, env, c.ID, "")
	b := env.NewBrowser(t)

	// Without a code_challenge the request is refused back to the client.
	p := b.Get(r.oauth.AuthCodeURL("state-123456"))
	if p.URL.Host != "127.0.0.1:9" || p.URL.Query().Get("error") != "invalid_request" {
		t.Fatalf("missing PKCE: got %d %s", p.Status, p.URL)
	}
	// A plain challenge is refused too.
	p = b.Get(r.oauth.AuthCodeURL("state-123456", oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)),
		oauth2.SetAuthURLParam("code_challenge_method", "plain")))
	if p.URL.Query().Get("error") == "" {
		t.Fatalf("plain PKCE accepted: %s", p.URL)
	}
	// With S256, a wrong verifier fails at the token endpoint.
	verifier := oauth2.GenerateVerifier()
	back := b.SignIn(r.oauth.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier)), testPhone, testPassword)
	_, err := r.oauth.Exchange(r.ctx, back.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	assertOAuthError(t, err, "invalid_grant")
}

func TestAuthorizeErrorsShownToCitizen(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	c := webClient()
	env.CreateClient(t, c)
	b := env.NewBrowser(t)
	cases := map[string]url.Values{
		"unknown client":      {"client_id": {"nope"}, "response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {"openid"}, "state": {"state-123456"}},
		"wrong redirect uri":  {"client_id": {c.ID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:9/callback/evil"}, "scope": {"openid"}, "state": {"state-123456"}},
		"redirect uri prefix": {"client_id": {c.ID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:9/callbac"}, "scope": {"openid"}, "state": {"state-123456"}},
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			p := b.Get(env.URL + "/oauth2/authorize?" + q.Encode())
			if p.Status < 400 || p.URL.Host != strings.TrimPrefix(env.URL, "http://") {
				t.Fatalf("want an error page at gosid, got %d at %s", p.Status, p.URL)
			}
			if !strings.Contains(p.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("error page content type %q", p.Header.Get("Content-Type"))
			}
		})
	}
	// Implicit flow is not offered at all.
	q := url.Values{"client_id": {c.ID}, "response_type": {"token"}, "redirect_uri": {redirectURI}, "scope": {"openid"}, "state": {"state-123456"}}
	p := b.Get(env.URL + "/oauth2/authorize?" + q.Encode())
	if errCode := p.URL.Query().Get("error"); errCode != "unsupported_response_type" && !strings.Contains(p.URL.Fragment, "unsupported_response_type") {
		t.Fatalf("implicit: got %d %s", p.Status, p.URL)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	cc := &clients.Client{Name: "svc", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}}
	secret := env.CreateClient(t, cc)
	post := func(form url.Values, user, pass string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" {
			req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
		}
		resp, err := env.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("token endpoint did not answer JSON (status %d): %v", resp.StatusCode, err)
		}
		return resp.StatusCode, out
	}
	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		wantStatus int
		wantError  string
	}{
		{"ok", url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}}, cc.ID, secret, 200, ""},
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}}, cc.ID, secret + "x", 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}}, "nobody", "x", 401, "invalid_client"},
		{"password grant", url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}}, cc.ID, secret, 400, "unsupported_grant_type"},
		{"unknown grant", url.Values{"grant_type": {"urn:nope"}}, cc.ID, secret, 400, "unsupported_grant_type"},
		{"scope not allowed", url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, cc.ID, secret, 400, "invalid_scope"},
		{"bad code", url.Values{"grant_type": {"authorization_code"}, "code": {"x.y"}, "redirect_uri": {redirectURI}}, cc.ID, secret, 400, "unauthorized_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := post(tt.form, tt.user, tt.pass)
			if status != tt.wantStatus || (tt.wantError != "" && out["error"] != tt.wantError) {
				t.Fatalf("status %d body %v; want %d %s", status, out, tt.wantStatus, tt.wantError)
			}
			if tt.wantError != "" && out["error_description"] == "" {
				t.Fatal("error without error_description")
			}
			if tt.wantError == "" && out["access_token"] == nil {
				t.Fatalf("no access token: %v", out)
			}
		})
	}
}

func introspect(t *testing.T, env *apptest.Env, clientID, secret, token string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: %d %s", resp.StatusCode, body)
	}
	var out struct {
		Active bool `json:"active"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Active
}

func assertOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want OAuth error %s, got %v", code, err)
	}
	if re.ErrorCode != code {
		t.Fatalf("want %s, got %s (%s)", code, re.ErrorCode, re.ErrorDescription)
	}
}

func TestExpiredCode(t *testing.T) {
	cfg := apptest.NewConfig(t, apptest.SQLite)
	cfg.AuthCodeTTL = time.Second
	env := apptest.Start(t, cfg)
	env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	c.FirstParty = true
	secret := env.CreateClient(t, c)
	r := newRP(t, env, c.ID, secret)
	verifier := oauth2.GenerateVerifier()
	back := env.NewBrowser(t).SignIn(r.oauth.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier)), testPhone, testPassword)
	time.Sleep(1500 * time.Millisecond) // let the one-second code lifetime pass
	_, err := r.oauth.Exchange(r.ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	assertOAuthError(t, err, "invalid_grant")
}

// TestLevelRequirementsAreNotSilentlyWeakened: a client that needs a higher
// trust level (by registration or acr_values) gets an error, never a token
// for a weaker account.
func TestLevelRequirementsAreNotSilentlyWeakened(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	plain := webClient()
	plain.FirstParty = true
	secret := env.CreateClient(t, plain)
	strict := webClient()
	strict.FirstParty, strict.MinLevel = true, "standard"
	strictSecret := env.CreateClient(t, strict)

	b := env.NewBrowser(t)
	r := newRP(t, env, plain.ID, secret)
	p := b.Get(r.oauth.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("acr_values", "urn:gosid:loa:confirmed"), oauth2.SetAuthURLParam("ui_locales", "en")))
	p = b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
	// The citizen is told which level the service needs and how to reach it.
	if p.Status != http.StatusForbidden || !strings.HasSuffix(p.URL.Path, "/login/level") ||
		!strings.Contains(p.Body, "confirmed") || !strings.Contains(p.Body, "partner bank") {
		t.Fatalf("level page: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	// Going back tells the service the requirement was not met.
	p = b.Submit("/login/level", nil)
	if p.URL.Query().Get("error") != "unmet_authentication_requirements" {
		t.Fatalf("acr_values above the account's level: %s", p.URL)
	}
	// Asking for the account's own level (or lower) is fine.
	p = b.Get(r.oauth.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("acr_values", "urn:gosid:loa:simplified urn:gosid:loa:standard")))
	if p.URL.Query().Get("code") == "" {
		t.Fatalf("acr_values including the account's level: %s", p.URL)
	}
	rs := newRP(t, env, strict.ID, strictSecret)
	p = b.Get(rs.oauth.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if !strings.HasSuffix(p.URL.Path, "/login/level") {
		t.Fatalf("client minimum level: %s", p.URL)
	}
	if p = b.Submit("/login/level", nil); p.URL.Query().Get("error") != "unmet_authentication_requirements" {
		t.Fatalf("client minimum level: %s", p.URL)
	}
	// prompt=none cannot show the page: the error goes straight back.
	p = b.Get(rs.oauth.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("prompt", "none")))
	if p.URL.Query().Get("error") != "unmet_authentication_requirements" {
		t.Fatalf("prompt=none with an unmet level: %s", p.URL)
	}
}
