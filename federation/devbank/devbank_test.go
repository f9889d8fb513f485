package devbank_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gosid/gosid/federation"
	"github.com/gosid/gosid/federation/devbank"
	fedoidc "github.com/gosid/gosid/federation/oidc"
)

const redirect = "http://127.0.0.1:9/bank/callback"

func start(tb testing.TB) (*devbank.Server, *fedoidc.Connector) {
	tb.Helper()
	s, err := devbank.Start("127.0.0.1:0", devbank.Options{ClientID: "gosid", ClientSecret: "dev-secret", RedirectURI: redirect})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	c, err := fedoidc.New(&federation.Bank{ID: "devbank", Issuer: s.URL, ClientID: "gosid", ClientSecret: "dev-secret",
		Claims: map[federation.Field]string{federation.BirthDate: "birthdate"}, MinACR: devbank.ACR,
		Vouches: []federation.Field{federation.SNILS}, Enabled: true}, fedoidc.Options{RedirectURL: redirect})
	if err != nil {
		tb.Fatal(err)
	}
	return s, c
}

var noFollow = &http.Client{Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// pick plays the developer at the bank's page: it opens it and picks
// person ("" cancels).
func pick(tb testing.TB, authURL, person string) url.Values {
	tb.Helper()
	res, err := noFollow.Get(authURL)
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Development only") {
		tb.Fatalf("bank page: %d %s", res.StatusCode, body)
	}
	u, _ := url.Parse(authURL)
	form := u.Query()
	if person == "" {
		form.Set("cancel", "1")
	} else {
		form.Set("person", person)
	}
	res, err = noFollow.PostForm(u.Scheme+"://"+u.Host+"/authorize", form)
	if err != nil {
		tb.Fatal(err)
	}
	_ = res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), redirect) {
		tb.Fatalf("no redirect back: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	return back.Query()
}

func request() *federation.Request {
	return &federation.Request{Bank: "devbank", State: rand.Text(), Nonce: rand.Text(), Verifier: rand.Text() + rand.Text()}
}

func TestDevBankThroughTheConnector(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	req := request()
	u, err := c.AuthURL(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Callback(ctx, req, pick(t, u, "ivanov"))
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "dev-ivanov" || id.Values[federation.SNILS] != "12345678964" || id.Values[federation.BirthDate] != "1985-03-14" ||
		id.Values[federation.FamilyName] != "Иванов" || id.ACR != devbank.ACR {
		t.Fatalf("identity %+v", id)
	}

	req = request()
	u, _ = c.AuthURL(ctx, req)
	if _, err := c.Callback(ctx, req, pick(t, u, "")); !errors.Is(err, federation.ErrRefused) {
		t.Fatalf("cancel: %v", err)
	}

	// The code is bound to the PKCE verifier and used once.
	req = request()
	u, _ = c.AuthURL(ctx, req)
	answer := pick(t, u, "ivanov")
	other := *req
	other.Verifier = rand.Text() + rand.Text()
	if _, err := c.Callback(ctx, &other, answer); !errors.Is(err, federation.ErrRefused) {
		t.Fatalf("wrong verifier: %v", err)
	}
	if _, err := c.Callback(ctx, req, answer); !errors.Is(err, federation.ErrRefused) {
		t.Fatalf("a spent code: %v", err)
	}
}

// BenchmarkRoundTrip is a whole trip through the development bank and the
// connector: discovery cached, the bank's page, the code, the token
// exchange, the id_token check and userinfo.
func BenchmarkRoundTrip(b *testing.B) {
	ctx := context.Background()
	_, c := start(b)
	for b.Loop() {
		req := request()
		u, err := c.AuthURL(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Callback(ctx, req, pick(b, u, "ivanov")); err != nil {
			b.Fatal(err)
		}
	}
}
