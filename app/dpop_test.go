package app_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
)

// dpopKey makes DPoP proofs (RFC 9449) as a client would, with go-jose.
type dpopKey struct {
	priv crypto.Signer
	alg  jose.SignatureAlgorithm
	jkt  string
}

func newDPoPKey(t testing.TB) *dpopKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := (&jose.JSONWebKey{Key: k.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopKey{priv: k, alg: jose.ES256, jkt: base64.RawURLEncoding.EncodeToString(tp)}
}

// proofOpts change one thing of a proof, for the refusals.
type proofOpts struct {
	typ     string
	jwk     any // the key put in the header (default: the public key)
	iat     time.Time
	jti     string
	omitJTI bool
}

func (k *dpopKey) proof(t testing.TB, htm, htu, nonce, accessToken string, o proofOpts) string {
	t.Helper()
	if o.typ == "" {
		o.typ = "dpop+jwt"
	}
	if o.jwk == nil {
		o.jwk = k.priv.Public()
	}
	if o.iat.IsZero() {
		o.iat = time.Now()
	}
	if o.jti == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		o.jti = base64.RawURLEncoding.EncodeToString(b)
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(o.typ)).WithHeader("jwk", jose.JSONWebKey{Key: o.jwk})
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"htm": htm, "htu": htu, "iat": o.iat.Unix()}
	if !o.omitJTI {
		claims["jti"] = o.jti
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type dpopAnswer struct {
	Status      int
	Header      http.Header
	Body        map[string]any
	Raw         string
	AccessToken string
}

func doDPoP(t testing.TB, env *apptest.Env, method, path string, form url.Values, user, pass, authz string, proofs ...string) dpopAnswer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, env.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := dpopAnswer{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &a.Body)
	a.AccessToken, _ = a.Body["access_token"].(string)
	return a
}

// jwtPayload decodes a JWT's claims without checking it (the tests that
// need the signature checked verify it against the JWKS).
func jwtPayload(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// verifyWithJWKS checks a JWS against the provider's published keys and
// returns its header and claims.
func verifyWithJWKS(t testing.TB, env *apptest.Env, tok string) (jose.Header, map[string]any) {
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
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) == 0 {
		t.Fatalf("kid %q is not in the JWKS", h.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	return h, m
}

// TestDPoPTokenEndpoint drives the token endpoint with DPoP proofs (RFC
// 9449 §4.3, §8): the nonce dance, binding (cnf.jkt), every refusal of a
// bad proof, replay, and a client that requires DPoP.
func TestDPoPTokenEndpoint(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	c := &clients.Client{Name: "svc", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}}
	secret := env.CreateClient(t, c)
	strict := &clients.Client{Name: "strict", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}, DPoPBoundAccessTokens: true}
	strictSecret := env.CreateClient(t, strict)
	htu := env.URL + "/oauth2/token"
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}}
	k := newDPoPKey(t)

	// No nonce: use_dpop_nonce with a nonce to use.
	a := doDPoP(t, env, "POST", "/oauth2/token", form, c.ID, secret, "", k.proof(t, "POST", htu, "", "", proofOpts{}))
	if a.Status != http.StatusBadRequest || a.Body["error"] != "use_dpop_nonce" || a.Header.Get("DPoP-Nonce") == "" {
		t.Fatalf("no nonce: %d %s nonce=%q", a.Status, a.Raw, a.Header.Get("DPoP-Nonce"))
	}
	nonce := a.Header.Get("DPoP-Nonce")
	if a = doDPoP(t, env, "POST", "/oauth2/token", form, c.ID, secret, "", k.proof(t, "POST", htu, "forged", "", proofOpts{})); a.Body["error"] != "use_dpop_nonce" {
		t.Errorf("forged nonce: %d %s", a.Status, a.Raw)
	}

	// A good proof (htu with a query, which is ignored): a DPoP token.
	good := k.proof(t, "POST", htu+"?x=1#f", nonce, "", proofOpts{})
	a = doDPoP(t, env, "POST", "/oauth2/token", form, c.ID, secret, "", good)
	if a.Status != http.StatusOK || !strings.EqualFold(a.Body["token_type"].(string), "DPoP") {
		t.Fatalf("good proof: %d %s", a.Status, a.Raw)
	}
	if cnf, _ := jwtPayload(t, a.AccessToken)["cnf"].(map[string]any); cnf["jkt"] != k.jkt {
		t.Errorf("access token cnf = %v, want jkt %s", cnf, k.jkt)
	}
	at := a.AccessToken

	// Replay of the same proof.
	if a = doDPoP(t, env, "POST", "/oauth2/token", form, c.ID, secret, "", good); a.Body["error"] != "invalid_dpop_proof" {
		t.Errorf("replayed proof: %d %s", a.Status, a.Raw)
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for name, proof := range map[string]string{
		"typ jwt":           k.proof(t, "POST", htu, nonce, "", proofOpts{typ: "JWT"}),
		"wrong htm":         k.proof(t, "GET", htu, nonce, "", proofOpts{}),
		"wrong htu":         k.proof(t, "POST", env.URL+"/oauth2/par", nonce, "", proofOpts{}),
		"old iat":           k.proof(t, "POST", htu, nonce, "", proofOpts{iat: time.Now().Add(-time.Hour)}),
		"future iat":        k.proof(t, "POST", htu, nonce, "", proofOpts{iat: time.Now().Add(time.Hour)}),
		"no jti":            k.proof(t, "POST", htu, nonce, "", proofOpts{omitJTI: true}),
		"private jwk":       k.proof(t, "POST", htu, nonce, "", proofOpts{jwk: k.priv}),
		"another key's jwk": k.proof(t, "POST", htu, nonce, "", proofOpts{jwk: rsaKey.Public()}),
		"symmetric alg":     hmacProof(t, htu, nonce),
		"not a JWS":         "garbage",
	} {
		if a := doDPoP(t, env, "POST", "/oauth2/token", form, c.ID, secret, "", proof); a.Status != http.StatusBadRequest || a.Body["error"] != "invalid_dpop_proof" {
			t.Errorf("%s: %d %s", name, a.Status, a.Raw)
		}
	}
	if a := doDPoP(t, env, "POST", "/oauth2/token", form, c.ID, secret, "",
		k.proof(t, "POST", htu, nonce, "", proofOpts{}), k.proof(t, "POST", htu, nonce, "", proofOpts{})); a.Body["error"] != "invalid_dpop_proof" {
		t.Errorf("two DPoP headers: %d %s", a.Status, a.Raw)
	}

	// Without a proof: a bearer token for a client that does not require
	// DPoP, a refusal for one that does.
	if a := doDPoP(t, env, "POST", "/oauth2/token", form, c.ID, secret, ""); a.Status != http.StatusOK || !strings.EqualFold(a.Body["token_type"].(string), "bearer") {
		t.Errorf("bearer: %d %s", a.Status, a.Raw)
	}
	if a := doDPoP(t, env, "POST", "/oauth2/token", form, strict.ID, strictSecret, ""); a.Body["error"] != "invalid_dpop_proof" {
		t.Errorf("dpop_bound_access_tokens client without a proof: %d %s", a.Status, a.Raw)
	}
	if a := doDPoP(t, env, "POST", "/oauth2/token", form, strict.ID, strictSecret, "", k.proof(t, "POST", htu, nonce, "", proofOpts{})); a.Status != http.StatusOK {
		t.Errorf("dpop_bound_access_tokens client with a proof: %d %s", a.Status, a.Raw)
	}

	// Introspection reports the binding, in JSON and as an RFC 9701 JWT.
	a = doDPoP(t, env, "POST", "/oauth2/introspect", url.Values{"token": {at}}, c.ID, secret, "")
	if cnf, _ := a.Body["cnf"].(map[string]any); a.Body["active"] != true || cnf["jkt"] != k.jkt || a.Body["token_type"] != "DPoP" {
		t.Errorf("introspection: %s", a.Raw)
	}

	// Discovery advertises the proof algorithms.
	d := doDPoP(t, env, "GET", "/.well-known/openid-configuration", nil, "", "", "")
	algs, _ := d.Body["dpop_signing_alg_values_supported"].([]any)
	if len(algs) == 0 {
		t.Errorf("dpop_signing_alg_values_supported missing: %v", d.Body["dpop_signing_alg_values_supported"])
	}
	for _, alg := range algs {
		if s := alg.(string); strings.HasPrefix(s, "HS") || s == "none" {
			t.Errorf("dpop_signing_alg_values_supported lists %s", s)
		}
	}
}

// hmacProof is a proof signed with a symmetric key, which a DPoP proof
// may never be.
func hmacProof(t testing.TB, htu, nonce string) string {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key},
		(&jose.SignerOptions{}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"htm": "POST", "htu": htu, "iat": time.Now().Unix(), "jti": "x", "nonce": nonce})
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// TestDPoPUserinfo: a DPoP-bound access token works at userinfo only under
// the DPoP scheme, with a proof by its key over this request (htm, htu,
// ath) carrying a current nonce; every other way is a 401 with a DPoP
// challenge.
func TestDPoPUserinfo(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	c := &clients.Client{Name: "svc", GrantTypes: []string{"client_credentials"}, Scopes: []string{"openid", "api"}}
	secret := env.CreateClient(t, c)
	htu, uinfo := env.URL+"/oauth2/token", env.URL+"/oauth2/userinfo"
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid api"}}
	k := newDPoPKey(t)
	nonce := doDPoP(t, env, "POST", "/oauth2/token", form, c.ID, secret, "", k.proof(t, "POST", htu, "", "", proofOpts{})).Header.Get("DPoP-Nonce")
	a := doDPoP(t, env, "POST", "/oauth2/token", form, c.ID, secret, "", k.proof(t, "POST", htu, nonce, "", proofOpts{}))
	if a.Status != http.StatusOK {
		t.Fatalf("token: %d %s", a.Status, a.Raw)
	}
	at := a.AccessToken

	ok := doDPoP(t, env, "GET", "/oauth2/userinfo", nil, "", "", "DPoP "+at, k.proof(t, "GET", uinfo, nonce, at, proofOpts{}))
	if ok.Status != http.StatusOK || ok.Body["sub"] != c.ID {
		t.Fatalf("userinfo with a proof: %d %s %v", ok.Status, ok.Raw, ok.Header)
	}
	other := newDPoPKey(t)
	for name, tc := range map[string]struct {
		authz, proof, code string
	}{
		"Bearer scheme":   {"Bearer " + at, "", "invalid_token"},
		"no proof":        {"DPoP " + at, "", "invalid_dpop_proof"},
		"another key":     {"DPoP " + at, other.proof(t, "GET", uinfo, nonce, at, proofOpts{}), "invalid_dpop_proof"},
		"wrong ath":       {"DPoP " + at, k.proof(t, "GET", uinfo, nonce, at+"x", proofOpts{}), "invalid_dpop_proof"},
		"no ath":          {"DPoP " + at, k.proof(t, "GET", uinfo, nonce, "", proofOpts{}), "invalid_dpop_proof"},
		"token endpoint":  {"DPoP " + at, k.proof(t, "GET", htu, nonce, at, proofOpts{}), "invalid_dpop_proof"},
		"no nonce":        {"DPoP " + at, k.proof(t, "GET", uinfo, "", at, proofOpts{}), "use_dpop_nonce"},
		"unbound as DPoP": {"DPoP " + bearerToken(t, env, c.ID, secret, form), k.proof(t, "GET", uinfo, nonce, "", proofOpts{}), "invalid_token"},
	} {
		var proofs []string
		if tc.proof != "" {
			proofs = append(proofs, tc.proof)
		}
		a := doDPoP(t, env, "GET", "/oauth2/userinfo", nil, "", "", tc.authz, proofs...)
		www := strings.Join(a.Header.Values("WWW-Authenticate"), "; ")
		if a.Status != http.StatusUnauthorized || a.Body["error"] != tc.code || !strings.Contains(www, `error="`+tc.code+`"`) {
			t.Errorf("%s: %d %s WWW-Authenticate %q", name, a.Status, a.Raw, www)
		}
		if tc.code == "use_dpop_nonce" && a.Header.Get("DPoP-Nonce") == "" {
			t.Errorf("%s: no DPoP-Nonce", name)
		}
		if strings.HasPrefix(tc.authz, "DPoP") && !strings.Contains(www, "DPoP ") {
			t.Errorf("%s: no DPoP challenge: %q", name, www)
		}
	}
}

func bearerToken(t testing.TB, env *apptest.Env, id, secret string, form url.Values) string {
	t.Helper()
	a := doDPoP(t, env, "POST", "/oauth2/token", form, id, secret, "")
	if a.Status != http.StatusOK {
		t.Fatalf("bearer token: %d %s", a.Status, a.Raw)
	}
	return a.AccessToken
}

// TestSignedUserinfo: userinfo answers a JWT signed with the provider's
// published keys (iss, aud) when the client asks with Accept:
// application/jwt or registered userinfo_signed_response_alg; JSON
// otherwise. Discovery lists the algorithms.
func TestSignedUserinfo(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	plain := &clients.Client{Name: "plain", GrantTypes: []string{"client_credentials"}, Scopes: []string{"openid"}}
	plainSecret := env.CreateClient(t, plain)
	signed := &clients.Client{Name: "signed", GrantTypes: []string{"client_credentials"}, Scopes: []string{"openid"}, UserinfoSignedResponseAlg: "ES256"}
	signedSecret := env.CreateClient(t, signed)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}

	get := func(at, accept string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, env.URL+"/oauth2/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+at)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := env.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	at := bearerToken(t, env, plain.ID, plainSecret, form)
	if resp, body := get(at, ""); !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(body, plain.ID) {
		t.Errorf("plain userinfo: %s %q", resp.Header.Get("Content-Type"), body)
	}
	for name, tc := range map[string]struct{ at, accept, alg, aud string }{
		"Accept: application/jwt":      {at, "application/jwt", "RS256", plain.ID},
		"userinfo_signed_response_alg": {bearerToken(t, env, signed.ID, signedSecret, form), "", "ES256", signed.ID},
	} {
		resp, body := get(tc.at, tc.accept)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwt" {
			t.Errorf("%s: %d %s %q", name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			continue
		}
		h, claims := verifyWithJWKS(t, env, body)
		if h.Algorithm != tc.alg || claims["iss"] != env.URL || claims["aud"] != tc.aud || claims["sub"] != tc.aud {
			t.Errorf("%s: alg %s claims %v", name, h.Algorithm, claims)
		}
	}
	d := doDPoP(t, env, "GET", "/.well-known/openid-configuration", nil, "", "", "")
	algs, _ := json.Marshal(d.Body["userinfo_signing_alg_values_supported"])
	if string(algs) != `["RS256","ES256"]` {
		t.Errorf("userinfo_signing_alg_values_supported = %s", algs)
	}
}

// TestJWTIntrospection: a resource server that accepts
// application/token-introspection+jwt gets RFC 9701's signed answer (typ
// token-introspection+jwt, iss, aud = the caller, token_introspection).
func TestJWTIntrospection(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	c := &clients.Client{Name: "svc", GrantTypes: []string{"client_credentials"}, Scopes: []string{"api"}}
	secret := env.CreateClient(t, c)
	at := bearerToken(t, env, c.ID, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}})
	for _, tc := range []struct {
		token  string
		active bool
	}{{at, true}, {"not-a-token", false}} {
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {tc.token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/token-introspection+jwt")
		req.SetBasicAuth(c.ID, secret)
		resp, err := env.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/token-introspection+jwt" {
			t.Fatalf("%d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		h, claims := verifyWithJWKS(t, env, string(body))
		ti, _ := claims["token_introspection"].(map[string]any)
		if h.ExtraHeaders[jose.HeaderType] != "token-introspection+jwt" || claims["iss"] != env.URL || claims["aud"] != c.ID ||
			ti["active"] != tc.active {
			t.Errorf("token %.10s: header %v claims %v", tc.token, h.ExtraHeaders, claims)
		}
		if tc.active && ti["client_id"] != c.ID {
			t.Errorf("token_introspection %v", ti)
		}
	}
}

// TestIntrospectRefreshTokenExpiry (issue #11 point 6): introspecting a
// refresh token reports its own expiry, not its access token's, and
// active:false once it has passed.
func TestIntrospectRefreshTokenExpiry(t *testing.T) {
	cfg := apptest.NewConfig(t, apptest.SQLite)
	cfg.RefreshTokenTTL = 3 * time.Second
	env := apptest.Start(t, cfg)
	c, secret, tok := firstPartyLogin(t, env)
	introspect := func(token string) map[string]any {
		return doDPoP(t, env, "POST", "/oauth2/introspect", url.Values{"token": {token}}, c.ID, secret, "").Body
	}
	issued := time.Now()
	rt, at := introspect(tok.RefreshToken), introspect(tok.AccessToken)
	rexp, _ := rt["exp"].(float64)
	aexp, _ := at["exp"].(float64)
	if rt["active"] != true || rexp == 0 || rexp == aexp || time.Unix(int64(rexp), 0).After(issued.Add(cfg.RefreshTokenTTL+2*time.Second)) {
		t.Fatalf("refresh token exp %v (access token's %v), want about now+%s: %v", rexp, aexp, cfg.RefreshTokenTTL, rt)
	}
	// Past the refresh token's expiry (the access token lives on).
	time.Sleep(time.Until(time.Unix(int64(rexp)+1, 0)))
	if rt = introspect(tok.RefreshToken); rt["active"] != false {
		t.Errorf("an expired refresh token is active: %v", rt)
	}
	if at = introspect(tok.AccessToken); at["active"] != true {
		t.Errorf("the access token should still be active: %v", at)
	}
}
