package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gosid/gosid/federation"
	"github.com/gosid/gosid/federation/banktest"
	fedoidc "github.com/gosid/gosid/federation/oidc"
)

const redirect = "http://127.0.0.1:9/bank/callback"

// ivanov as two banks spell him: bank A with standard claim names and
// ISO dates, bank B with its own names, separators and ДД.ММ.ГГГГ.
var (
	ivanovA = map[string]any{"family_name": "Иванов", "given_name": "Иван", "middle_name": "Иванович",
		"birthdate": "1985-03-14", "snils": "12345678964", "inn": "770112345695", "passport": "4505123456"}
	ivanovB = map[string]any{"last_name": "Иванов", "first_name": "Иван", "patronymic": "Иванович",
		"birth_date": "14.03.1985", "snils_number": "123-456-789 64", "document": map[string]any{"number": "45 05 123456"}}
)

func bankA() *federation.Bank {
	return &federation.Bank{ID: "bank-a", NameRU: "Банк А", ClientID: "gosid", ClientSecret: "s3cret-a",
		Scopes: []string{"bank_identity"}, Claims: map[federation.Field]string{federation.BirthDate: "birthdate"},
		Vouches: []federation.Field{federation.FamilyName, federation.GivenName, federation.MiddleName, federation.BirthDate,
			federation.SNILS, federation.INN, federation.Passport},
		MinACR: "urn:bank:loa:high", Enabled: true}
}

// startA runs bank A (client_secret_basic).
func startA(t testing.TB) (*banktest.Bank, *federation.Bank) {
	bank := banktest.Launch(t)
	bank.Configure(t, banktest.Config{ClientID: "gosid", ClientSecret: "s3cret-a", RedirectURI: redirect,
		Customers: map[string]map[string]any{"ivanov": ivanovA}})
	b := bankA()
	b.Issuer = bank.Issuer
	return bank, b
}

// startB runs bank B (private_key_jwt, its own claim names).
func startB(t testing.TB) (*banktest.Bank, *federation.Bank) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	path := filepath.Join(t.TempDir(), "bank-b.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pub := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "gosid-1", Algorithm: "ES256", Use: "sig"}
	bank := banktest.Launch(t)
	bank.Configure(t, banktest.Config{ClientID: "gosid-b", JWKS: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}},
		RedirectURI: redirect, Customers: map[string]map[string]any{"77-0001": ivanovB}})
	b := &federation.Bank{ID: "bank-b", ClientID: "gosid-b", PrivateKey: path, KeyID: "gosid-1", Issuer: bank.Issuer,
		Scopes: []string{"bank_identity"}, Enabled: true,
		Claims: map[federation.Field]string{federation.FamilyName: "last_name", federation.GivenName: "first_name",
			federation.MiddleName: "patronymic", federation.BirthDate: "birth_date", federation.SNILS: "snils_number",
			federation.Passport: "document.number"},
		Vouches: []federation.Field{federation.FamilyName, federation.GivenName, federation.BirthDate, federation.SNILS}}
	return bank, b
}

func newRequest(bank string) *federation.Request {
	return &federation.Request{Bank: bank, State: rand.Text(), Nonce: rand.Text(), Verifier: rand.Text() + rand.Text()}
}

// signInAtBank plays the citizen's browser: it follows the bank's
// redirects until the bank sends it back to gosid, and returns that
// answer's query.
func signInAtBank(t testing.TB, authURL string) url.Values {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	var answer *url.URL
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == "127.0.0.1:9" {
			answer = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("at the bank: %v", err)
	}
	_ = res.Body.Close()
	if answer == nil {
		t.Fatalf("the bank did not send the citizen back: %d %s", res.StatusCode, res.Request.URL)
	}
	return answer.Query()
}

func connector(t testing.TB, b *federation.Bank) *fedoidc.Connector {
	t.Helper()
	c, err := fedoidc.New(b, fedoidc.Options{RedirectURL: redirect})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTripClaimMapping(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		start func(testing.TB) (*banktest.Bank, *federation.Bank)
		sub   string
	}{{"client_secret_basic", startA, "ivanov"}, {"private_key_jwt", startB, "77-0001"}} {
		t.Run(tc.name, func(t *testing.T) {
			_, b := tc.start(t)
			c := connector(t, b)
			req := newRequest(b.ID)
			u, err := c.AuthURL(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			q, _ := url.Parse(u)
			if q.Query().Get("code_challenge_method") != "S256" || q.Query().Get("nonce") != req.Nonce {
				t.Fatalf("no PKCE or nonce in %s", u)
			}
			answer := signInAtBank(t, u)
			if answer.Get("iss") != b.Issuer {
				t.Fatalf("the bank sent no RFC 9207 iss: %v", answer)
			}
			id, err := c.Callback(ctx, req, answer)
			if err != nil {
				t.Fatal(err)
			}
			want := map[federation.Field]string{federation.FamilyName: "Иванов", federation.GivenName: "Иван",
				federation.MiddleName: "Иванович", federation.BirthDate: "1985-03-14", federation.SNILS: "12345678964",
				federation.Passport: "4505123456"}
			for f, v := range want {
				if id.Values[f] != v {
					t.Errorf("%s = %q, want %q (%v)", f, id.Values[f], v, id.Values)
				}
			}
			if id.Subject != tc.sub || id.Issuer != b.Issuer || id.Bank != b.ID {
				t.Errorf("identity %+v", id)
			}
			if b.ID == "bank-a" && (id.ACR != "urn:bank:loa:high" || len(id.AMR) != 3) {
				t.Errorf("acr %q amr %v", id.ACR, id.AMR)
			}
			// The code is spent: the same answer twice is refused.
			if _, err := c.Callback(ctx, req, answer); !errors.Is(err, federation.ErrRefused) {
				t.Errorf("a replayed code: %v", err)
			}
		})
	}
}

// TestTamperedAnswers: every protocol check refuses its own tampering.
func TestTamperedAnswers(t *testing.T) {
	ctx := context.Background()
	bank, b := startA(t)
	c := connector(t, b)
	for _, tc := range []struct {
		name   string
		tamper func(req *federation.Request, answer url.Values)
		want   error
	}{
		{"wrong state", func(_ *federation.Request, a url.Values) { a.Set("state", "forged") }, federation.ErrInvalid},
		{"wrong iss", func(_ *federation.Request, a url.Values) { a.Set("iss", "http://127.0.0.1:1") }, federation.ErrInvalid},
		{"no iss", func(_ *federation.Request, a url.Values) { a.Del("iss") }, federation.ErrInvalid},
		{"wrong nonce", func(req *federation.Request, _ url.Values) { req.Nonce = "another" }, federation.ErrInvalid},
		{"wrong verifier", func(req *federation.Request, _ url.Values) { req.Verifier = rand.Text() + rand.Text() }, federation.ErrRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(b.ID)
			u, err := c.AuthURL(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			answer := signInAtBank(t, u)
			tc.tamper(req, answer)
			if id, err := c.Callback(ctx, req, answer); !errors.Is(err, tc.want) {
				t.Fatalf("got %+v, %v; want %v", id, err, tc.want)
			}
		})
	}
	t.Run("the customer cancels", func(t *testing.T) {
		bank.Next(t, "ivanov", true)
		defer bank.Next(t, "ivanov", false)
		req := newRequest(b.ID)
		u, err := c.AuthURL(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Callback(ctx, req, signInAtBank(t, u)); !errors.Is(err, federation.ErrRefused) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("acr below the minimum", func(t *testing.T) {
		strict := *b
		strict.MinACR = "urn:bank:loa:highest"
		c := connector(t, &strict)
		req := newRequest(b.ID)
		u, err := c.AuthURL(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		answer := signInAtBank(t, u)
		if answer.Get("error") == "" {
			if _, err := c.Callback(ctx, req, answer); !errors.Is(err, federation.ErrRefused) {
				t.Fatalf("got %v", err)
			}
		}
	})
}

// TestBankDown: a bank that does not answer is ErrUnavailable, before the
// trip (discovery) and after it (token endpoint).
func TestBankDown(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	_ = ln.Close()
	b := bankA()
	b.Issuer = dead
	if _, err := connector(t, b).AuthURL(ctx, newRequest(b.ID)); !errors.Is(err, federation.ErrUnavailable) {
		t.Fatalf("discovery of a dead bank: %v", err)
	}

	bank, b := startA(t)
	c := connector(t, b)
	req := newRequest(b.ID)
	u, err := c.AuthURL(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	answer := signInAtBank(t, u)
	bank.Stop()
	if _, err := c.Callback(ctx, req, answer); !errors.Is(err, federation.ErrUnavailable) {
		t.Fatalf("token endpoint of a stopped bank: %v", err)
	}
}

// BenchmarkRoundTrip is a whole trip to oidc-provider: authorization
// request through the bank's redirects, code exchange, id_token check,
// userinfo.
func BenchmarkRoundTrip(b *testing.B) {
	ctx := context.Background()
	_, bk := startA(b)
	c := connector(b, bk)
	b.ResetTimer()
	for b.Loop() {
		req := newRequest(bk.ID)
		u, err := c.AuthURL(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Callback(ctx, req, signInAtBank(b, u)); err != nil {
			b.Fatal(err)
		}
	}
}
