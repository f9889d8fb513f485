package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
)

// corsAsk sends method to path with an Origin header and, for a preflight,
// the method and headers the page wants to use.
func corsAsk(t *testing.T, env *apptest.Env, method, path, origin, wantMethod, wantHeaders string, form url.Values) oauthAnswer {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, env.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if wantMethod != "" {
		req.Header.Set("Access-Control-Request-Method", wantMethod)
	}
	if wantHeaders != "" {
		req.Header.Set("Access-Control-Request-Headers", wantHeaders)
	}
	return doOAuth(t, env, req)
}

// TestCORS: discovery and the key set are open to every origin; the token,
// userinfo, revocation and PAR endpoints answer preflights and requests only
// for the origins of the client the request is for (its redirect URIs' and
// its allowed_cors_origins); nothing else opens, and credentials mode never.
func TestCORS(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	const spa, extra, other, evil = "http://127.0.0.1:7001", "https://app.spa.example", "http://127.0.0.1:7002", "https://evil.example"
	env.CreateClient(t, &clients.Client{ID: "spa", Name: "SPA", Public: true, TokenEndpointAuthMethod: clients.AuthNone,
		RedirectURIs: []string{spa + "/cb"}, AllowedCORSOrigins: []string{extra}})
	env.CreateClient(t, &clients.Client{ID: "other", Name: "Other", Public: true, TokenEndpointAuthMethod: clients.AuthNone,
		RedirectURIs: []string{other + "/cb"}})

	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/.well-known/jwks.json"} {
		a := corsAsk(t, env, http.MethodOptions, path, evil, "GET", "", nil)
		if a.Status != http.StatusNoContent || a.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(a.Header.Get("Access-Control-Allow-Methods"), "GET") {
			t.Fatalf("preflight of %s: %d %v", path, a.Status, a.Header)
		}
		a = corsAsk(t, env, http.MethodGet, path, evil, "", "", nil)
		if a.Status != http.StatusOK || a.Header.Get("Access-Control-Allow-Origin") != "*" || a.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("GET %s from a page: %d %v", path, a.Status, a.Header)
		}
	}

	preflight := func(path, origin, method, headers string) http.Header {
		t.Helper()
		a := corsAsk(t, env, http.MethodOptions, path, origin, method, headers, nil)
		if a.Status != http.StatusNoContent {
			t.Fatalf("OPTIONS %s: %d %s", path, a.Status, a.Raw)
		}
		if a.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("OPTIONS %s allows credentials: %v", path, a.Header)
		}
		return a.Header
	}
	for _, path := range []string{"/oauth2/token", "/oauth2/userinfo", "/oauth2/revoke", "/oauth2/par"} {
		for _, o := range []string{spa, extra, other} {
			h := preflight(path, o, "POST", "content-type, authorization")
			if h.Get("Access-Control-Allow-Origin") != o || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
				!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") {
				t.Fatalf("preflight of %s from %s: %v", path, o, h)
			}
		}
		for _, o := range []string{evil, "null", spa + "/", "https://127.0.0.1:7001"} {
			if h := preflight(path, o, "POST", "content-type"); h.Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("preflight of %s from the unregistered %s was allowed: %v", path, o, h)
			}
		}
		if h := preflight(path, spa, "PUT", ""); h.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight of PUT %s was allowed: %v", path, h)
		}
		if h := preflight(path, spa, "POST", "x-custom"); h.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight of %s with an unknown header was allowed: %v", path, h)
		}
	}
	if h := preflight("/oauth2/userinfo", spa, "GET", "authorization"); h.Get("Access-Control-Allow-Origin") != spa {
		t.Fatalf("preflight of GET userinfo: %v", h)
	}

	// Everything else stays closed.
	for _, path := range []string{"/oauth2/introspect", "/oauth2/authorize", "/login"} {
		a := corsAsk(t, env, http.MethodOptions, path, spa, "POST", "", nil)
		if a.Header.Get("Access-Control-Allow-Origin") != "" || a.Status == http.StatusNoContent || a.Status == http.StatusOK {
			t.Fatalf("OPTIONS %s from a client origin: %d %v", path, a.Status, a.Header)
		}
	}
	a := corsAsk(t, env, http.MethodPost, "/oauth2/introspect", spa, "", "", url.Values{"token": {"x"}})
	if a.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("introspection answered a page: %v", a.Header)
	}

	// A request carries the headers only for its own client's origins.
	tokenFrom := func(origin, clientID string) oauthAnswer {
		return corsAsk(t, env, http.MethodPost, "/oauth2/token", origin, "", "", url.Values{"grant_type": {"authorization_code"},
			"client_id": {clientID}, "code": {"bogus"}, "redirect_uri": {spa + "/cb"}, "code_verifier": {strings.Repeat("v", 43)}})
	}
	a = tokenFrom(spa, "spa")
	if a.Status != http.StatusBadRequest || a.Header.Get("Access-Control-Allow-Origin") != spa ||
		!strings.Contains(a.Header.Get("Vary"), "Origin") {
		t.Fatalf("token error to the client's own origin: %d %v", a.Status, a.Header)
	}
	if a = tokenFrom(extra, "spa"); a.Header.Get("Access-Control-Allow-Origin") != extra {
		t.Fatalf("token error to the client's allowed_cors_origins: %v", a.Header)
	}
	if a = tokenFrom(other, "spa"); a.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("another client's origin may read spa's token answer: %v", a.Header)
	}
	if a = tokenFrom(evil, "spa"); a.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("an unregistered origin may read a token answer: %v", a.Header)
	}
	if a = tokenFrom(spa, "nobody"); a.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("an unknown client's answer opened to an origin: %v", a.Header)
	}
	// Userinfo without a token names no client: any registered origin may
	// read the challenge, and WWW-Authenticate is exposed to it.
	a = corsAsk(t, env, http.MethodGet, "/oauth2/userinfo", other, "", "", nil)
	if a.Status != http.StatusUnauthorized || a.Header.Get("Access-Control-Allow-Origin") != other ||
		!strings.Contains(a.Header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
		t.Fatalf("userinfo challenge to a page: %d %v", a.Status, a.Header)
	}
	if a = corsAsk(t, env, http.MethodGet, "/oauth2/userinfo", evil, "", "", nil); a.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("userinfo challenge opened to an unregistered origin: %v", a.Header)
	}

	// A client registered later is allowed within a second or so, without
	// a restart (the index of origins is rebuilt on a miss).
	env.CreateClient(t, &clients.Client{ID: "late", Name: "Late", Public: true, TokenEndpointAuthMethod: clients.AuthNone,
		RedirectURIs: []string{"http://127.0.0.1:7003/cb"}})
	for i := 0; ; i++ {
		h := preflight("/oauth2/token", "http://127.0.0.1:7003", "POST", "")
		if h.Get("Access-Control-Allow-Origin") != "" {
			break
		}
		if i == 600 {
			t.Fatal("a new client's origin is never allowed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
