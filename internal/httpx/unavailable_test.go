package httpx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestUnavailableKeepsPostedForm: the 503 answer receives the form the
// request posted, whether or not the handler read it before it failed,
// within MaxKeptForm; nothing for other requests.
func TestUnavailableKeepsPostedForm(t *testing.T) {
	form := "flow=f1&family_name=%D0%A1%D0%BE%D0%BA%D0%BE%D0%BB%D0%BE%D0%B2%D0%B0&password=x"
	long := "a=" + strings.Repeat("b", MaxKeptForm)
	fail := func(read bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if read {
				_ = r.ParseForm()
			}
			w.WriteHeader(http.StatusInternalServerError)
		})
	}
	for _, tc := range []struct {
		name, method, contentType, body string
		read                            bool
		want                            string
	}{
		{"read by the handler", http.MethodPost, "application/x-www-form-urlencoded", form, true, form},
		{"left unread", http.MethodPost, "application/x-www-form-urlencoded; charset=utf-8", form, false, form},
		{"at the bound", http.MethodPost, "application/x-www-form-urlencoded", long[:MaxKeptForm], true, long[:MaxKeptForm]},
		{"over the bound", http.MethodPost, "application/x-www-form-urlencoded", long, true, ""},
		{"over the bound, unread", http.MethodPost, "application/x-www-form-urlencoded", long, false, ""},
		{"JSON", http.MethodPost, "application/json", `{"a":1}`, true, ""},
		{"an upload", http.MethodPost, "multipart/form-data; boundary=x", form, false, ""},
		{"a page", http.MethodGet, "", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *string
			answer := func(w http.ResponseWriter, r *http.Request, form string) {
				got = &form
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			h := Unavailable(func(context.Context) bool { return true }, answer)(fail(tc.read))
			req := httptest.NewRequest(tc.method, "/registration", strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != RetryAfter || got == nil {
				t.Fatalf("%d Retry-After %q, answered: %v", w.Code, w.Header().Get("Retry-After"), got != nil)
			}
			if *got != tc.want {
				t.Errorf("form %.80q, want %.80q", *got, tc.want)
			}
		})
	}
}

// TestUnavailableAddsRetryAfter: a handler's own 503 (fosite's
// temporarily_unavailable when client authentication could not reach the
// database) gets Retry-After too, and keeps its body; a Retry-After the
// handler set stays.
func TestUnavailableAddsRetryAfter(t *testing.T) {
	for _, own := range []string{"", "30"} {
		h := Unavailable(func(context.Context) bool { return false }, func(w http.ResponseWriter, r *http.Request, form string) {
			t.Error("a handler's own 503 was answered again")
		})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if own != "" {
				w.Header().Set("Retry-After", own)
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"temporarily_unavailable"}`))
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/oauth2/token", nil))
		want := own
		if want == "" {
			want = RetryAfter
		}
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != want || w.Body.String() != `{"error":"temporarily_unavailable"}` {
			t.Errorf("%d Retry-After %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
		}
	}
}
