package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/clients"
)

// spaServer serves the test single-page app (testdata/rp/spa) with the
// stock oidc-client-ts browser bundle, configured by conf.
func spaServer(t *testing.T, conf map[string]string) *httptest.Server {
	t.Helper()
	raw, err := json.Marshal(conf)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/oidc-client-ts.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(rpHarness, "node_modules", "oidc-client-ts", "dist", "browser", "oidc-client-ts.min.js"))
	})
	mux.HandleFunc("/app.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(rpHarness, "spa", "app.js"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>SPA</title></head><body><p>SPA %s</p>
<script type="application/json" id="conf">%s</script>
<script src="/oidc-client-ts.min.js"></script><script src="/app.js"></script></body></html>`,
			html.EscapeString(r.URL.Path), raw)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// TestOIDCClientTSInBrowser runs the stock oidc-client-ts (latest 3.x, its
// browser bundle, default settings) in Chromium as a single-page app on an
// origin of its own: signinRedirect with PKCE as a public client, sign-in on
// gosid's pages, the callback's token request, userinfo, a refresh through
// signinSilent, revocation, signoutRedirect — every call to gosid's API
// across origins, which only CORS allows. A page on an origin no client
// registered can read discovery and the key set, and nothing else.
func TestOIDCClientTSInBrowser(t *testing.T) {
	nodePackages(t, "oidc-client-ts")
	ctx := chromium(t)
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	const phone, password = "+79161234568", "Correct-Horse-9-battery"
	env.CreateAccount(t, phone, password)
	conf := map[string]string{"issuer": env.URL, "client_id": "spa", "userinfo": env.URL + "/oauth2/userinfo"}
	spa := spaServer(t, conf)
	foreign := spaServer(t, conf)
	env.CreateClient(t, &clients.Client{ID: "spa", Name: "SPA", Public: true, TokenEndpointAuthMethod: clients.AuthNone,
		RedirectURIs: []string{spa.URL + "/callback"}, PostLogoutRedirectURIs: []string{spa.URL + "/bye"},
		Scopes: []string{"openid", "profile", "offline_access"}})

	issuer, _ := url.Parse(env.URL)
	done := func(sctx context.Context) (string, error) {
		var out string
		err := chromedp.Run(sctx, chromedp.Evaluate(`window.__done || ""`, &out))
		return out, err
	}
	var result string
	var lastURL, body string
	sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx, chromedp.Navigate(spa.URL+"/start")); err != nil {
		t.Fatal(err)
	}
	for result == "" {
		if sctx.Err() != nil {
			_ = chromedp.Run(ctx, shot("oidc-client-ts-failed"), chromedp.Text("body", &body, chromedp.ByQuery))
			t.Fatalf("the app did not finish; last at %s\n%s", lastURL, body)
		}
		var loc string
		if err := chromedp.Run(sctx, chromedp.Location(&loc)); err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		lastURL = loc
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		switch {
		case u.Host == issuer.Host && u.Path == "/login":
			err = chromedp.Run(sctx,
				chromedp.WaitVisible(`input[name="login"]`, chromedp.ByQuery),
				chromedp.SendKeys(`input[name="login"]`, phone, chromedp.ByQuery),
				chromedp.SendKeys(`input[name="password"]`, password, chromedp.ByQuery),
				chromedp.Submit(`input[name="password"]`, chromedp.ByQuery),
				chromedp.Sleep(300*time.Millisecond))
		case u.Host == issuer.Host:
			// Consent, or an offer to add a second factor.
			err = chromedp.Run(sctx, chromedp.Evaluate(`(() => {
				const b = document.querySelector('button[name="decision"][value="allow"], button[name="decision"][value="later"]');
				if (b) { b.click(); return 1 } return 0 })()`, &n), chromedp.Sleep(300*time.Millisecond))
		case u.Host == strings.TrimPrefix(spa.URL, "http://"):
			result, err = done(sctx)
			if result == "" {
				time.Sleep(100 * time.Millisecond)
			}
		default:
			t.Fatalf("the browser went to %s", loc)
		}
		if err != nil && sctx.Err() == nil {
			t.Logf("at %s: %v", loc, err)
		}
	}
	_ = chromedp.Run(ctx, shot("oidc-client-ts-done"))
	var checks []rpCheck
	if err := json.Unmarshal([]byte(result), &checks); err != nil {
		t.Fatalf("the app's results: %v\n%s", err, result)
	}
	for _, c := range checks {
		if c.OK {
			t.Logf("ok   %s %s", c.Check, c.Detail)
		} else {
			t.Errorf("FAIL %s: %s", c.Check, c.Detail)
		}
	}
	if len(checks) != 6 {
		t.Errorf("the app reported %d checks, want 6 (ended at %s)", len(checks), lastURL)
	}

	// A page on another origin: public documents only.
	fctx, cancel2 := context.WithTimeout(ctx, 30*time.Second)
	defer cancel2()
	result = ""
	if err := chromedp.Run(fctx, chromedp.Navigate(foreign.URL+"/foreign"),
		chromedp.Poll(`window.__done`, &result, chromedp.WithPollingTimeout(25*time.Second))); err != nil {
		t.Fatalf("foreign page: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(result), &got); err != nil {
		t.Fatalf("foreign page: %v %s", err, result)
	}
	want := map[string]any{"discovery": 200.0, "jwks": 200.0, "token": "blocked", "userinfo": "blocked"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("a page on an unregistered origin, %s: got %v, want %v (all: %s)", k, got[k], v, result)
		}
	}
}
