package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
)

// requestClaims is a request object (RFC 9101) for clientID at env: the
// whole authorization request, PKCE included, plus iss, aud and exp.
func requestClaims(env *apptest.Env, clientID, verifier string) map[string]any {
	now := time.Now()
	claims := map[string]any{
		"iss": clientID, "aud": env.URL, "client_id": clientID, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"jti": oauth2.GenerateVerifier(), "max_age": 3600,
	}
	for k, v := range codeRequest(clientID, verifier) {
		claims[k] = v[0]
	}
	return claims
}

// unsignedJWT is a plaintext request object (alg none).
func unsignedJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc(payload) + "."
}

// TestRequestObjects: JAR as RFC 9101 sends it (only client_id and request
// in the URL), at the authorization endpoint and through PAR; a client that
// registered require_signed_request_object gets unsigned or foreign
// request objects refused.
func TestRequestObjects(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	strict := webClient()
	strict.FirstParty, strict.JWKS = true, publicJWKS(t, key, "ES256")
	strict.RequireSignedRequestObject, strict.RequestObjectSigningAlg = true, "ES256"
	strictSecret := env.CreateClient(t, strict)
	lax := webClient()
	lax.FirstParty = true
	laxSecret := env.CreateClient(t, lax)
	b := env.NewBrowser(t)
	jar := func(clientID, request string) string {
		return authorizeURL(env, url.Values{"client_id": {clientID}, "request": {request}})
	}

	verifier := oauth2.GenerateVerifier()
	back := b.SignIn(jar(strict.ID, signJWT(t, jose.ES256, key, "k1", requestClaims(env, strict.ID, verifier))), testPhone, testPassword)
	if back.Query().Get("code") == "" || back.Query().Get("state") != "state-123456" {
		t.Fatalf("signed request object: %s", back)
	}
	r := newRP(t, env, strict.ID, strictSecret)
	if _, err := r.oauth.Exchange(r.ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange: %v", err)
	}

	// A client that did not require signing may send a plaintext request object.
	verifier = oauth2.GenerateVerifier()
	p := b.Get(jar(lax.ID, unsignedJWT(t, requestClaims(env, lax.ID, verifier))))
	if !atClient(p) || p.URL.Query().Get("code") == "" {
		t.Fatalf("plaintext request object: %d %s", p.Status, p.URL)
	}
	rl := newRP(t, env, lax.ID, laxSecret)
	if _, err := rl.oauth.Exchange(rl.ctx, p.URL.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange: %v", err)
	}

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	refused := map[string]string{
		"unsigned":       unsignedJWT(t, requestClaims(env, strict.ID, verifier)),
		"foreign key":    signJWT(t, jose.ES256, other, "k1", requestClaims(env, strict.ID, verifier)),
		"other audience": signJWT(t, jose.ES256, key, "k1", with(requestClaims(env, strict.ID, verifier), "aud", "https://other.example")),
		"other issuer":   signJWT(t, jose.ES256, key, "k1", with(requestClaims(env, strict.ID, verifier), "iss", lax.ID)),
		"expired":        signJWT(t, jose.ES256, key, "k1", with(requestClaims(env, strict.ID, verifier), "exp", time.Now().Add(-time.Hour).Unix())),
		"nested request": signJWT(t, jose.ES256, key, "k1", with(requestClaims(env, strict.ID, verifier), "request_uri", "https://a.example/r")),
	}
	for name, ro := range refused {
		t.Run(name, func(t *testing.T) {
			p := b.Get(jar(strict.ID, ro))
			if !atClient(p) || p.URL.Query().Get("error") != "invalid_request_object" {
				t.Fatalf("%d %s", p.Status, p.URL)
			}
		})
	}

	// Pushed: the request object travels in the PAR body.
	verifier = oauth2.GenerateVerifier()
	par := postOAuth(t, env, "/oauth2/par", url.Values{"client_id": {strict.ID},
		"request": {signJWT(t, jose.ES256, key, "k1", requestClaims(env, strict.ID, verifier))}}, strict.ID, strictSecret)
	if par.Status != http.StatusCreated {
		t.Fatalf("par with a request object: %d %s", par.Status, par.Raw)
	}
	// Only the pushed parameters count (RFC 9126 §4, RFC 9101 §5): one
	// added to the URL (here prompt=login, which would show the sign-in
	// page again) is ignored.
	p = b.Get(authorizeURL(env, url.Values{"client_id": {strict.ID}, "request_uri": {par.Body["request_uri"].(string)},
		"prompt": {"login"}}))
	if !atClient(p) || p.URL.Query().Get("code") == "" {
		t.Fatalf("authorize with the pushed request object: %d %s", p.Status, p.URL)
	}
	// A strict client cannot send or push a plain request either.
	p = b.Get(authorizeURL(env, codeRequest(strict.ID, verifier)))
	if !atClient(p) || p.URL.Query().Get("error") != "invalid_request" {
		t.Fatalf("plain request of a strict client: %d %s", p.Status, p.URL)
	}
	postOAuth(t, env, "/oauth2/par", codeRequest(strict.ID, verifier), strict.ID, strictSecret).
		wantError(t, http.StatusBadRequest, "invalid_request")
}

func with(m map[string]any, k string, v any) map[string]any {
	m[k] = v
	return m
}

// TestRequestObjectRegistration: require_signed_request_object needs keys
// to check signatures with, and only algorithms gosid verifies.
func TestRequestObjectRegistration(t *testing.T) {
	c := webClient()
	c.RequireSignedRequestObject = true
	clients.ApplyDefaults(c)
	if err := clients.Validate(c); err == nil {
		t.Fatal("require_signed_request_object without keys accepted")
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c.JWKS = publicJWKS(t, key, "ES256")
	c.RequestObjectSigningAlg = "HS256"
	if err := clients.Validate(c); err == nil {
		t.Fatal("request_object_signing_alg HS256 accepted")
	}
	c.RequestObjectSigningAlg = "ES256"
	if err := clients.Validate(c); err != nil {
		t.Fatal(err)
	}
}
