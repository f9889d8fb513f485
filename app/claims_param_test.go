package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
)

// claimsFlow is one authorization request with a claims parameter, driven
// step by step so that a test can look at the consent page.
type claimsFlow struct {
	t        *testing.T
	r        *rp
	b        *apptest.Browser
	verifier string
}

func (r *rp) claimsFlow(t *testing.T, b *apptest.Browser, claims string, extra ...oauth2.AuthCodeOption) (*claimsFlow, *apptest.Page) {
	t.Helper()
	f := &claimsFlow{t: t, r: r, b: b, verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oidc.Nonce("nonce-123456")}, extra...)
	if claims != "" {
		opts = append(opts, oauth2.SetAuthURLParam("claims", claims))
	}
	p := b.Get(r.oauth.AuthCodeURL("state-123456", opts...))
	if strings.HasSuffix(p.URL.Path, "/login") {
		p = b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
	}
	return f, p
}

// tokens exchanges the code the flow ended with and returns the id_token's
// claims and userinfo.
func (f *claimsFlow) tokens(back *url.URL) (idToken, userinfo map[string]any) {
	f.t.Helper()
	if back.Query().Get("code") == "" {
		f.t.Fatalf("no code: %s", back)
	}
	tok, err := f.r.oauth.Exchange(f.r.ctx, back.Query().Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		f.t.Fatalf("exchange: %v", err)
	}
	return tokenClaims(f.t, f.r, tok)
}

func tokenClaims(t *testing.T, r *rp, tok *oauth2.Token) (idToken, userinfo map[string]any) {
	t.Helper()
	idt, err := r.verifier.Verify(r.ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	if err := idt.Claims(&idToken); err != nil {
		t.Fatal(err)
	}
	ui, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if err := ui.Claims(&userinfo); err != nil {
		t.Fatal(err)
	}
	return idToken, userinfo
}

// hasOnly checks that of the personal-data claims, claims holds exactly
// want (with those values).
func hasOnly(t *testing.T, where string, claims map[string]any, want map[string]any) {
	t.Helper()
	for _, k := range []string{"name", "family_name", "given_name", "middle_name", "locale", "updated_at",
		"email", "email_verified", "phone_number", "phone_number_verified", "verified_claims", "nickname"} {
		w, wanted := want[k]
		got, present := claims[k]
		switch {
		case wanted && !present:
			t.Errorf("%s lacks %s: %v", where, k, claims)
		case !wanted && present:
			t.Errorf("%s releases %s, which was not asked for or not agreed to: %v", where, k, claims)
		case wanted && w != nil && got != w:
			t.Errorf("%s: %s = %v, want %v", where, k, got, w)
		}
	}
}

// TestClaimsParameter: claims asked for one by one (OpenID Connect Core
// 5.5) are listed on the consent page, released to the target that asked
// (id_token or userinfo) and only there, remembered as agreed to, and a
// claim the citizen was not shown is never released: asking for one more
// needs the consent page again. A claim of a scope the service is not
// registered for is not offered at all. Before, the parameter was ignored
// (discovery said claims_parameter_supported: false).
func TestClaimsParameter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		env.CreateAccount(t, testPhone, testPassword)
		c := webClient() // profile, email, phone, offline_access; not verified_claims; not first-party
		secret := env.CreateClient(t, c)
		r := newRP(t, env, c.ID, secret, "openid")
		b := env.NewBrowser(t)

		var disc map[string]any
		if err := r.provider.Claims(&disc); err != nil || disc["claims_parameter_supported"] != true {
			t.Fatalf("discovery: claims_parameter_supported = %v (%v)", disc["claims_parameter_supported"], err)
		}

		const claims = `{"userinfo":{"given_name":{"essential":true,"purpose":"Чтобы обращаться к вам по имени"},"phone_number":null,
			"verified_claims":{"verification":{"trust_framework":null},"claims":{"snils":null}}},
			"id_token":{"family_name":null,"nickname":null,"auth_time":{"essential":true}}}`
		f, p := r.claimsFlow(t, b, claims)
		if !strings.HasSuffix(p.URL.Path, "/consent") {
			t.Fatalf("no consent page: %d %s", p.Status, p.URL)
		}
		for _, want := range []string{`data-claim="claim:given_name"`, `data-claim="claim:phone_number"`, `data-claim="claim:family_name"`,
			"Чтобы обращаться к вам по имени", "сервису это необходимо", "Фамилия"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("consent page lacks %s", want)
			}
		}
		for _, unwanted := range []string{"verified_claims", "nickname", "scope-profile", "auth_time"} {
			if strings.Contains(p.Body, unwanted) {
				t.Errorf("consent page shows %s", unwanted)
			}
		}
		back := b.Submit("/consent", url.Values{"decision": {"allow"}}).URL
		idToken, userinfo := f.tokens(back)
		hasOnly(t, "id_token", idToken, map[string]any{"family_name": "Иванов"})
		hasOnly(t, "userinfo", userinfo, map[string]any{"given_name": "Иван", "phone_number": "+79123456789"})
		if idToken["auth_time"] == nil {
			t.Error("essential auth_time missing from the id_token")
		}

		// The same request again: remembered, no consent page.
		f, p = r.claimsFlow(t, b, claims, oauth2.SetAuthURLParam("prompt", "none"))
		idToken, userinfo = f.tokens(p.URL)
		hasOnly(t, "id_token (remembered)", idToken, map[string]any{"family_name": "Иванов"})
		hasOnly(t, "userinfo (remembered)", userinfo, map[string]any{"given_name": "Иван", "phone_number": "+79123456789"})

		// One claim more: not covered by what was shown.
		_, p = r.claimsFlow(t, b, `{"userinfo":{"given_name":null,"middle_name":null}}`, oauth2.SetAuthURLParam("prompt", "none"))
		if got := p.URL.Query().Get("error"); got != "consent_required" {
			t.Fatalf("a claim never shown, prompt=none: %s", p.URL)
		}
		_, p = r.claimsFlow(t, b, `{"userinfo":{"given_name":null,"middle_name":null}}`)
		if !strings.Contains(p.Body, `data-claim="claim:middle_name"`) {
			t.Fatalf("the consent page does not ask for the new claim: %d %s", p.Status, p.URL)
		}

		// A value the citizen does not have: the claim is not released.
		f, p = r.claimsFlow(t, b, `{"userinfo":{"given_name":{"value":"Пётр"},"phone_number":{"values":["+79123456789"]}}}`,
			oauth2.SetAuthURLParam("prompt", "none"))
		_, userinfo = f.tokens(p.URL)
		hasOnly(t, "userinfo (values)", userinfo, map[string]any{"phone_number": "+79123456789"})

		// A parameter that is not JSON goes back to the service.
		_, p = r.claimsFlow(t, b, `{"userinfo":`)
		if p.URL.Query().Get("error") != "invalid_request" || p.URL.Host != "127.0.0.1:9" {
			t.Fatalf("invalid claims parameter: %d %s", p.Status, p.URL)
		}
	})
}

// TestClaimsParameterRefresh: an access token from a refresh answers
// userinfo as the first one did.
func TestClaimsParameterRefresh(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	c.FirstParty = true
	r := newRP(t, env, c.ID, env.CreateClient(t, c), "openid", "offline_access")
	f, p := r.claimsFlow(t, env.NewBrowser(t), `{"userinfo":{"given_name":null}}`)
	tok, err := r.oauth.Exchange(r.ctx, p.URL.Query().Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	next, err := r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	_, userinfo := tokenClaims(t, r, next)
	hasOnly(t, "userinfo after refresh", userinfo, map[string]any{"given_name": "Иван"})
}

// TestClaimsParameterACR: acr asked for as an essential claim with values
// must be met, and the id_token then carries the strongest requested value
// the authentication meets (Core 5.5.1.1); an unmet or unknown essential
// acr is unmet_authentication_requirements; a voluntary unknown one is
// ignored. A sub the request demands must be the citizen's.
func TestClaimsParameterACR(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	acct := env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	c.FirstParty = true
	r := newRP(t, env, c.ID, env.CreateClient(t, c), "openid")
	b := env.NewBrowser(t)
	r.login(t, b)
	none := oauth2.SetAuthURLParam("prompt", "none")

	for _, tc := range []struct {
		name, claims, err, acr string
	}{
		{"essential, met by the weaker value", `{"id_token":{"acr":{"essential":true,"values":["urn:gosid:loa:confirmed","urn:gosid:loa:simplified"]}}}`, "", "urn:gosid:loa:simplified"},
		{"essential, a level the account lacks", `{"id_token":{"acr":{"essential":true,"value":"urn:gosid:loa:standard"}}}`, "unmet_authentication_requirements", ""},
		{"essential, unknown", `{"id_token":{"acr":{"essential":true,"values":["urn:example:loa:9"]}}}`, "unmet_authentication_requirements", ""},
		{"voluntary, unknown", `{"id_token":{"acr":{"values":["urn:example:loa:9"]}}}`, "", "urn:gosid:loa:simplified"},
		{"sub of this citizen", `{"id_token":{"sub":{"value":"` + acct.ID + `"}}}`, "", "urn:gosid:loa:simplified"},
		{"sub of someone else", `{"id_token":{"sub":{"value":"someone-else"}}}`, "login_required", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, p := r.claimsFlow(t, b, tc.claims, none)
			if tc.err != "" {
				if got := p.URL.Query().Get("error"); got != tc.err {
					t.Fatalf("error = %q (%s), want %s", got, p.URL.Query().Get("error_description"), tc.err)
				}
				return
			}
			idToken, _ := f.tokens(p.URL)
			if idToken["acr"] != tc.acr {
				t.Fatalf("acr = %v, want %s", idToken["acr"], tc.acr)
			}
		})
	}
}

// TestClaimsParameterFromPARAndRequestObject: the claims member is
// honoured wherever the request's parameters come from: a pushed request,
// or a signed request object (where it is a JSON object, not a string).
func TestClaimsParameterFromPARAndRequestObject(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "rk1", Algorithm: "ES256", Use: "sig"}}})
	c := webClient()
	c.FirstParty = true
	c.JWKS = set
	secret := env.CreateClient(t, c)
	r := newRP(t, env, c.ID, secret, "openid")
	b := env.NewBrowser(t)
	verifier := oauth2.GenerateVerifier()
	params := func(claims string) url.Values {
		return url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
			"state": {"state-123456"}, "nonce": {"nonce-123456"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
			"code_challenge_method": {"S256"}, "claims": {claims}}
	}
	exchange := func(back *url.URL) (map[string]any, map[string]any) {
		t.Helper()
		tok, err := r.oauth.Exchange(r.ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange (%s): %v", back, err)
		}
		return tokenClaims(t, r, tok)
	}

	// Pushed.
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth2/par", strings.NewReader(params(`{"userinfo":{"middle_name":null}}`).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, secret)
	resp, err := env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var par struct {
		RequestURI string `json:"request_uri"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &par) != nil {
		t.Fatalf("par: %d %s", resp.StatusCode, body)
	}
	back := b.SignIn(env.URL+"/oauth2/authorize?"+url.Values{"client_id": {c.ID}, "request_uri": {par.RequestURI}}.Encode(), testPhone, testPassword)
	_, userinfo := exchange(back)
	hasOnly(t, "userinfo (PAR)", userinfo, map[string]any{"middle_name": "Иванович"})

	// A pushed request with a broken claims parameter is refused at once.
	req, _ = http.NewRequest(http.MethodPost, env.URL+"/oauth2/par", strings.NewReader(params(`[]`).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, secret)
	if resp, err = env.Client().Do(req); err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "invalid_request") {
		t.Fatalf("par with a broken claims parameter: %d %s", resp.StatusCode, body)
	}

	// In a signed request object.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "rk1"}},
		(&jose.SignerOptions{}).WithType("oauth-authz-req+jwt"))
	ro := map[string]any{}
	for k, v := range params("") {
		if k != "claims" {
			ro[k] = v[0]
		}
	}
	ro["claims"] = map[string]any{"id_token": map[string]any{"given_name": nil}}
	ro["iss"], ro["aud"] = c.ID, env.URL
	ro["exp"] = time.Now().Add(time.Minute).Unix()
	jwt, err := josejwt.Signed(signer).Claims(ro).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	q := params("")
	q.Del("claims")
	q.Set("request", jwt)
	back = b.SignIn(env.URL+"/oauth2/authorize?"+q.Encode(), testPhone, testPassword)
	idToken, _ := exchange(back)
	hasOnly(t, "id_token (request object)", idToken, map[string]any{"given_name": "Иван"})
}

// TestVerifiedClaimsRequest: a verified_claims request (OpenID Connect for
// Identity Assurance 1.0) releases only the verified claims it names, with
// the verification elements it asks for, after the citizen agreed to each
// on the consent page, and nothing when its trust framework is not
// gosid's.
func TestVerifiedClaimsRequest(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	_, v := a.password(testPhone, testPassword)
	a.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, ivanov(), nil)
	if p := a.waitProfile(v.SessionToken); p.Status != "verified" {
		t.Fatalf("%+v", p)
	}
	c := webClient()
	c.Scopes = append(c.Scopes, "verified_claims")
	r := newRP(t, env, c.ID, env.CreateClient(t, c), "openid")
	b := env.NewBrowser(t)

	f, p := r.claimsFlow(t, b, `{"userinfo":{"verified_claims":{"verification":{"trust_framework":{"value":"ru_gosid"},"time":null},
		"claims":{"snils":{"purpose":"Для записи к врачу"},"birthdate":null}}}}`)
	for _, want := range []string{`data-claim="claim:verified_claims.snils"`, `data-claim="claim:verified_claims.birthdate"`, "Для записи к врачу"} {
		if !strings.Contains(p.Body, want) {
			t.Fatalf("consent page lacks %s:\n%s", want, p.Body)
		}
	}
	if strings.Contains(p.Body, "verified_claims.inn") || strings.Contains(p.Body, "scope-verified_claims") {
		t.Fatal("consent page offers more than was asked")
	}
	_, userinfo := f.tokens(b.Submit("/consent", url.Values{"decision": {"allow"}}).URL)
	vc, _ := userinfo["verified_claims"].(map[string]any)
	claims, _ := vc["claims"].(map[string]any)
	verification, _ := vc["verification"].(map[string]any)
	if len(claims) != 2 || claims["snils"] != "12345678964" || claims["birthdate"] != "1985-03-14" {
		t.Fatalf("verified claims: %v", claims)
	}
	if verification["trust_framework"] != "ru_gosid" || verification["time"] == nil || verification["evidence"] != nil {
		t.Fatalf("verification: %v", verification)
	}
	hasOnly(t, "userinfo", userinfo, map[string]any{"verified_claims": nil})

	// Another trust framework: nothing verified is released.
	f, p = r.claimsFlow(t, b, `{"userinfo":{"verified_claims":{"verification":{"trust_framework":{"value":"eidas"}},"claims":{"snils":null}}}}`,
		oauth2.SetAuthURLParam("prompt", "none"))
	_, userinfo = f.tokens(p.URL)
	hasOnly(t, "userinfo (eidas)", userinfo, map[string]any{})
}
