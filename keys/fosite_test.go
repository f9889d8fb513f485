package keys

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

const testIssuer = "https://id.gosid.test"

func testClaims(exp time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer, "sub": "citizen-1", "aud": []string{"client-1"},
		"iat": time.Now().Unix(), "exp": exp.Unix(),
	}
}

func TestFositeSignerRoundTrip(t *testing.T) {
	ctx := context.Background()
	m := initManager(t, &memStore{}, testOptions(newTestClock()))
	for _, alg := range []string{ES256, RS256} {
		t.Run(alg, func(t *testing.T) {
			s := m.FositeSigner(alg)
			hdr := &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}}
			tok, sig, err := s.Generate(ctx, testClaims(time.Now().Add(time.Hour)), hdr)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(tok, "."+sig) {
				t.Fatalf("signature %q is not the token's third part", sig)
			}
			if got, err := s.GetSignature(ctx, tok); err != nil || got != sig {
				t.Fatalf("GetSignature = %q, %v", got, err)
			}
			if got, err := s.Validate(ctx, tok); err != nil || got != sig {
				t.Fatalf("Validate = %q, %v", got, err)
			}
			dec, err := s.Decode(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if !dec.Valid() || string(dec.Method) != alg {
				t.Fatalf("decoded token: valid %v, method %s", dec.Valid(), dec.Method)
			}
			if dec.Header["typ"] != "at+jwt" || dec.Header["kid"] != activeKID(m, alg) || dec.Header["alg"] != alg {
				t.Fatalf("decoded header %v", dec.Header)
			}
			if dec.Claims["sub"] != "citizen-1" || !dec.Claims.VerifyAudience("client-1", true) {
				t.Fatalf("decoded claims %v", dec.Claims)
			}
			if _, _, err := m.Verify(tok, alg); err != nil {
				t.Fatalf("Manager.Verify of a fosite token: %v", err)
			}
			h, err := s.Hash(ctx, []byte("abc"))
			if err != nil || len(h) != s.GetSigningMethodLength(ctx) || len(h) != 32 {
				t.Fatalf("Hash: %x %v", h, err)
			}
		})
	}
}

func TestFositeSignerHeaders(t *testing.T) {
	ctx := context.Background()
	m := initManager(t, &memStore{}, testOptions(newTestClock(), ES256))
	s := m.FositeSigner(ES256)
	claims := testClaims(time.Now().Add(time.Hour))

	tok, _, err := s.Generate(ctx, claims, &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	if h, _, _ := m.Verify(tok); h.Typ != "JWT" {
		t.Fatalf("default typ %q, want JWT as fosite sets it", h.Typ)
	}

	hdr := &jwt.Headers{Extra: map[string]any{"kid": "forged", "alg": "none", "x5u": "https://evil.test", "cty": "x"}}
	tok, _, err = s.Generate(ctx, claims, hdr)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := s.Decode(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if dec.Header["kid"] != activeKID(m, ES256) || dec.Header["alg"] != ES256 || dec.Header["cty"] != "x" {
		t.Fatalf("header %v: kid and alg must be the key's, other headers kept", dec.Header)
	}

	if _, _, err := s.Generate(ctx, nil, &jwt.Headers{}); err == nil {
		t.Fatal("Generate accepted nil claims")
	}
	if _, _, err := s.Generate(ctx, claims, nil); err == nil {
		t.Fatal("Generate accepted a nil header")
	}
}

// TestFositeDecodeExpired: as with fosite's own signer, an expired but
// genuine token is returned together with an expiry ValidationError, which
// the id_token_hint handling accepts.
func TestFositeDecodeExpired(t *testing.T) {
	ctx := context.Background()
	m := initManager(t, &memStore{}, testOptions(newTestClock()))
	s := m.FositeSigner(RS256)
	tok, _, err := s.Generate(ctx, testClaims(time.Now().Add(-time.Hour)), &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := s.Decode(ctx, tok)
	var ve *jwt.ValidationError
	if !errors.As(err, &ve) || !ve.Has(jwt.ValidationErrorExpired) {
		t.Fatalf("Decode of an expired token: %v", err)
	}
	if dec == nil || dec.Claims["sub"] != "citizen-1" {
		t.Fatal("the expired token's claims are not returned")
	}
	if _, err := s.Validate(ctx, tok); err == nil {
		t.Fatal("Validate accepted an expired token")
	}
}

func TestFositeDecodeAfterRotation(t *testing.T) {
	ctx := context.Background()
	m := initManager(t, &memStore{}, testOptions(newTestClock(), ES256))
	s := m.FositeSigner(ES256)
	old, _, err := s.Generate(ctx, testClaims(time.Now().Add(time.Hour)), &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	oldKID := activeKID(m, ES256)
	if err := m.Rotate(ctx, ES256); err != nil {
		t.Fatal(err)
	}
	dec, err := s.Decode(ctx, old)
	if err != nil || dec.Header["kid"] != oldKID {
		t.Fatalf("a token signed before rotation: %v", err)
	}
	fresh, _, err := s.Generate(ctx, testClaims(time.Now().Add(time.Hour)), &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := s.Decode(ctx, fresh); err != nil || dec.Header["kid"] == oldKID {
		t.Fatalf("a token signed after rotation: %v %v", dec.Header, err)
	}
}

func TestFositeDecodeRejects(t *testing.T) {
	ctx := context.Background()
	m := initManager(t, &memStore{}, testOptions(newTestClock()))
	stranger := initManager(t, &memStore{}, testOptions(newTestClock()))
	claims := testClaims(time.Now().Add(time.Hour))
	es, _, _ := m.FositeSigner(ES256).Generate(ctx, claims, &jwt.Headers{})
	foreign, _, _ := stranger.FositeSigner(ES256).Generate(ctx, claims, &jwt.Headers{})
	parts := strings.Split(es, ".")
	// The JSON serialization lets an unprotected header claim typ at+jwt.
	jsonForm := `{"payload":"` + parts[1] + `","protected":"` + parts[0] +
		`","header":{"typ":"at+jwt"},"signature":"` + parts[2] + `"}`
	tests := []struct {
		name, alg, token string
	}{
		{"ES256 token to the RS256 signer", RS256, es},
		{"unknown kid", ES256, foreign},
		{"tampered", ES256, parts[0] + "." + parts[1] + "x." + parts[2]},
		{"JSON serialization", ES256, jsonForm},
		{"whitespace", ES256, parts[0] + ".\n" + parts[1] + "." + parts[2]},
		{"alg none", ES256, base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+
			activeKID(m, ES256)+`"}`)) + "." + parts[1] + "."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := m.FositeSigner(tc.alg)
			if tok, err := s.Decode(ctx, tc.token); err == nil {
				t.Fatalf("Decode accepted it: %v", tok.Header)
			}
			if _, err := s.Validate(ctx, tc.token); err == nil {
				t.Fatal("Validate accepted it")
			}
		})
	}
}

// TestFositeStrategies drives fosite's own JWT access-token and id_token
// strategies with the Manager's signers.
func TestFositeStrategies(t *testing.T) {
	ctx := context.Background()
	m := initManager(t, &memStore{}, testOptions(newTestClock()))
	cfg := &fosite.Config{AccessTokenIssuer: testIssuer, IDTokenIssuer: testIssuer}
	client := &fosite.DefaultClient{ID: "client-1"}

	at := &oauth2.DefaultJWTStrategy{Signer: m.FositeSigner(ES256), Config: cfg}
	req := fosite.NewRequest()
	req.Client = client
	req.Session = &oauth2.JWTSession{
		JWTClaims: &jwt.JWTClaims{Subject: "citizen-1"},
		JWTHeader: &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}},
		ExpiresAt: map[fosite.TokenType]time.Time{fosite.AccessToken: time.Now().Add(time.Hour)},
	}
	tok, sig, err := at.GenerateAccessToken(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if at.AccessTokenSignature(ctx, tok) != sig {
		t.Fatal("signature mismatch")
	}
	if err := at.ValidateAccessToken(ctx, req, tok); err != nil {
		t.Fatalf("fosite rejects its access token: %v", err)
	}
	if h, _, err := m.Verify(tok); err != nil || h.Typ != "at+jwt" {
		t.Fatalf("access token header: %+v %v", h, err)
	}

	idt := &openid.DefaultStrategy{Signer: m.FositeSigner(RS256), Config: cfg}
	areq := fosite.NewAccessRequest(&openid.DefaultSession{
		Claims:  &jwt.IDTokenClaims{Subject: "citizen-1", AuthTime: time.Now().UTC()},
		Headers: &jwt.Headers{},
	})
	areq.Client = client
	idToken, err := idt.GenerateIDToken(ctx, time.Hour, areq)
	if err != nil {
		t.Fatal(err)
	}
	// The id_token_hint path decodes it again.
	areq.Form.Set("id_token_hint", idToken)
	if _, err := idt.GenerateIDToken(ctx, time.Hour, areq); err != nil {
		t.Fatalf("id_token_hint: %v", err)
	}
	verifyWithGoOIDC(t, m.JWKS(), idToken, "client-1")
}

// verifyWithGoOIDC checks token as a standard client does: coreos/go-oidc
// with the keys from the published JWKS.
func verifyWithGoOIDC(t *testing.T, jwks []byte, token, clientID string) *oidc.IDToken {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	var pubs []crypto.PublicKey
	for _, k := range set.Keys {
		pubs = append(pubs, k.Key)
	}
	v := oidc.NewVerifier(testIssuer, &oidc.StaticKeySet{PublicKeys: pubs}, &oidc.Config{
		ClientID: clientID, SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256},
	})
	idt, err := v.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("go-oidc rejects the token: %v", err)
	}
	return idt
}

func TestGoOIDCAcceptsTokens(t *testing.T) {
	ctx := context.Background()
	m := initManager(t, &memStore{}, testOptions(newTestClock()))
	var before []string
	for _, alg := range []string{ES256, RS256} {
		tok, _, err := m.FositeSigner(alg).Generate(ctx, testClaims(time.Now().Add(time.Hour)), &jwt.Headers{})
		if err != nil {
			t.Fatal(err)
		}
		if idt := verifyWithGoOIDC(t, m.JWKS(), tok, "client-1"); idt.Subject != "citizen-1" {
			t.Fatalf("subject %q", idt.Subject)
		}
		before = append(before, tok)
	}
	for _, alg := range []string{ES256, RS256} {
		if err := m.Rotate(ctx, alg); err != nil {
			t.Fatal(err)
		}
	}
	for _, tok := range before {
		verifyWithGoOIDC(t, m.JWKS(), tok, "client-1")
	}
}
