package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// issue gets a CSRF token and cookie the way a page does.
func issue(t *testing.T, r *Renderer) (token string, cookie *http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	token = r.CSRFToken(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("%d cookies set, want 1", len(cookies))
	}
	return token, cookies[0]
}

func postForm(form url.Values, cookies ...*http.Cookie) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return req
}

// alter changes one character in the middle of a base64url token, where
// every bit counts (the last character may carry padding bits, and a token
// that already ended in the replacement would not change at all).
func alter(token string) string {
	b := []byte(token)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestCSRFRoundTrip(t *testing.T) {
	for _, secure := range []bool{false, true} {
		r := newRenderer(t, secure)
		token, cookie := issue(t, r)
		other, otherCookie := issue(t, r)
		forged := *cookie
		forged.Value = strings.Repeat("A", len(cookie.Value))
		for _, tc := range []struct {
			name    string
			form    url.Values
			cookies []*http.Cookie
			want    bool
		}{
			{"right token", url.Values{"csrf_token": {token}}, []*http.Cookie{cookie}, true},
			{"wrong token", url.Values{"csrf_token": {alter(token)}}, []*http.Cookie{cookie}, false},
			{"missing token", url.Values{}, []*http.Cookie{cookie}, false},
			{"empty token", url.Values{"csrf_token": {""}}, []*http.Cookie{cookie}, false},
			{"missing cookie", url.Values{"csrf_token": {token}}, nil, false},
			{"token of another cookie", url.Values{"csrf_token": {other}}, []*http.Cookie{cookie}, false},
			{"cookie of another token", url.Values{"csrf_token": {token}}, []*http.Cookie{otherCookie}, false},
			{"the cookie value as token", url.Values{"csrf_token": {cookie.Value}}, []*http.Cookie{cookie}, false},
			{"a planted cookie", url.Values{"csrf_token": {token}}, []*http.Cookie{&forged}, false},
		} {
			if got := r.CheckCSRF(postForm(tc.form, tc.cookies...)); got != tc.want {
				t.Errorf("secure=%v %s: CheckCSRF = %v", secure, tc.name, got)
			}
		}
		// Another key does not accept the token.
		r2, _ := New(Options{Secure: secure, CSRFKey: []byte("another-key-another-key-another-")})
		if r2.CheckCSRF(postForm(url.Values{"csrf_token": {token}}, cookie)) {
			t.Errorf("secure=%v: a token made with another key was accepted", secure)
		}
	}
}

func TestCSRFCookie(t *testing.T) {
	for _, tc := range []struct {
		secure bool
		name   string
	}{{false, "gosid_csrf"}, {true, "__Host-gosid_csrf"}} {
		r := newRenderer(t, tc.secure)
		_, c := issue(t, r)
		if c.Name != tc.name || !c.HttpOnly || c.Secure != tc.secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
			t.Errorf("secure=%v: cookie %+v", tc.secure, c)
		}
		if len(c.Value) < 43 {
			t.Errorf("cookie value %q is too short to be 256 random bits", c.Value)
		}
	}
}

func TestCSRFTokenStable(t *testing.T) {
	r := newRenderer(t, true)
	// Two calls in one response agree and set one cookie.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/login", nil)
	a, b := r.CSRFToken(rec, req), r.CSRFToken(rec, req)
	if a != b || len(rec.Result().Cookies()) != 1 {
		t.Fatalf("tokens %q, %q; %d cookies", a, b, len(rec.Result().Cookies()))
	}
	// A browser that has the cookie keeps it.
	cookie := rec.Result().Cookies()[0]
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodGet, "/consent", nil)
	req.AddCookie(cookie)
	if c := r.CSRFToken(rec, req); c != a || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("token %q (want %q); cookies %v", c, a, rec.Result().Cookies())
	}
	// A malformed cookie is replaced.
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodGet, "/consent", nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: "short"})
	if c := r.CSRFToken(rec, req); c == a || len(rec.Result().Cookies()) != 1 {
		t.Fatalf("a malformed cookie was kept")
	}
}

func TestCookieHelpers(t *testing.T) {
	for _, secure := range []bool{false, true} {
		r := newRenderer(t, secure)
		want := "gosid_session"
		if secure {
			want = "__Host-gosid_session"
		}
		if got := r.CookieName("gosid_session"); got != want {
			t.Errorf("CookieName = %q, want %q", got, want)
		}
		if got := r.CookieName(r.CookieName("gosid_session")); got != want {
			t.Errorf("CookieName twice = %q, want %q", got, want)
		}
		for _, name := range []string{"gosid_session", r.CookieName("gosid_session")} {
			rec := httptest.NewRecorder()
			r.SetCookie(rec, name, "v1", time.Hour)
			r.SetCookie(rec, name, "v2", 0)
			r.ClearCookie(rec, name)
			cs := rec.Result().Cookies()
			if len(cs) != 3 {
				t.Fatalf("%d cookies", len(cs))
			}
			for _, c := range cs {
				if c.Name != want || !c.HttpOnly || c.Secure != secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
					t.Errorf("cookie %+v", c)
				}
			}
			if cs[0].MaxAge != 3600 || cs[1].MaxAge != 0 || !cs[1].Expires.IsZero() || cs[2].MaxAge >= 0 || cs[2].Value != "" {
				t.Errorf("lifetimes: %d, %d %v, %d", cs[0].MaxAge, cs[1].MaxAge, cs[1].Expires, cs[2].MaxAge)
			}
		}
	}
}
