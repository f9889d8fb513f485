package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestStatic(t *testing.T) {
	r := newRenderer(t, false)
	// Mounted as the app does (under StripPrefix) and directly.
	for name, h := range map[string]http.Handler{
		"stripped": http.StripPrefix("/static/", r.Static()),
		"direct":   r.Static(),
	} {
		srv := httptest.NewServer(h)
		cssURL, err := r.static.url("gosid.css")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(srv.URL + cssURL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "--blue") {
			t.Fatalf("%s: %d %.60q", name, resp.StatusCode, body)
		}
		for k, v := range map[string]string{
			"Content-Type":           "text/css; charset=utf-8",
			"Cache-Control":          "public, max-age=31536000, immutable",
			"X-Content-Type-Options": "nosniff",
		} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got, v)
			}
		}
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("%s: no ETag", name)
		}

		// Without the current version: revalidate, and 304 when unchanged.
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/static/gosid.js", nil)
		req.Header.Set("If-None-Match", `"`+r.static.byName["gosid.js"].hash+`"`)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: conditional GET: %d, Cache-Control %q", name, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}

		for _, p := range []string{"/static/nope.css", "/static/", "/static/../web.go", "/static/static/gosid.css"} {
			resp, err := http.Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %s: %d", name, p, resp.StatusCode)
			}
		}
		resp, err = http.Post(srv.URL+"/static/gosid.css", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: POST: %d", name, resp.StatusCode)
		}
		srv.Close()
	}
}

// TestPageAssetsResolve: every /static/ link a page makes is served.
func TestPageAssetsResolve(t *testing.T) {
	r := newRenderer(t, false)
	rec := httptest.NewRecorder()
	r.Render(rec, httptest.NewRequest(http.MethodGet, "/login", nil), http.StatusOK, "login", &LoginData{})
	links := regexp.MustCompile(`"(/static/[^"]+)"`).FindAllStringSubmatch(rec.Body.String(), -1)
	if len(links) < 3 {
		t.Fatalf("only %d asset links", len(links))
	}
	for _, l := range links {
		target := strings.ReplaceAll(l[1], "&amp;", "&")
		res := httptest.NewRecorder()
		http.StripPrefix("/static/", r.Static()).ServeHTTP(res, httptest.NewRequest(http.MethodGet, target, nil))
		if res.Code != http.StatusOK || !strings.Contains(res.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d, %q", target, res.Code, res.Header().Get("Cache-Control"))
		}
	}
}

// TestNoThirdPartyRequests: nothing embedded refers to another origin.
func TestNoThirdPartyRequests(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import|url\(\s*['"]?(https?:|//)`)
	for name, a := range newRenderer(t, false).static.byName {
		body := string(a.body)
		// The SVG namespace is an identifier, not a request.
		body = strings.ReplaceAll(body, "http://www.w3.org/2000/svg", "")
		if m := external.FindString(body); m != "" {
			t.Errorf("%s refers to %q", name, m)
		}
	}
}
