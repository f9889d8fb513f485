package app_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gosid/gosid/app/apptest"
)

var hstsPaths = []string{
	"/.well-known/openid-configuration", "/login", "/healthz", "/no-such-page", "/api/v1/no-such-endpoint", "/oauth2/token",
}

// An https issuer gets Strict-Transport-Security on every answer, whether
// gosid terminates TLS itself or a proxy does (gosid then speaks plain
// http to it).
func TestHSTSWithHTTPSIssuer(t *testing.T) {
	cfg := apptest.NewConfig(t, apptest.SQLite)
	cfg.Issuer = "https://id.localhost"
	srv := apptest.NewServer(t, cfg)
	for name, hs := range map[string]*httptest.Server{
		"tls in gosid":   httptest.NewTLSServer(srv.Handler),
		"behind a proxy": httptest.NewServer(srv.Handler),
	} {
		defer hs.Close()
		for _, path := range hstsPaths {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				req, _ := http.NewRequest(method, hs.URL+path, nil)
				resp, err := hs.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
					t.Errorf("%s: %s %s: Strict-Transport-Security %q", name, method, path, got)
				}
			}
		}
	}
}

// A plain-http development issuer never sends it: a browser would then
// refuse http for localhost for a year.
func TestNoHSTSWithHTTPIssuer(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	for _, path := range hstsPaths {
		resp, err := env.Client().Get(env.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("GET %s: Strict-Transport-Security %q on an http issuer", path, got)
		}
	}
}
