package httpx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gorilla/mux"
)

func TestLimitBodyHonoursTheRoute(t *testing.T) {
	read := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	r := mux.NewRouter()
	r.Use(LimitBody(10))
	r.Handle("/small", read).Methods(http.MethodPost)
	r.Handle("/upload", MaxBody(100, read)).Methods(http.MethodPost)
	for _, tc := range []struct {
		path string
		size int
		want int
	}{
		{"/small", 10, http.StatusOK},
		{"/small", 11, http.StatusRequestEntityTooLarge},
		{"/upload", 100, http.StatusOK},
		{"/upload", 101, http.StatusRequestEntityTooLarge},
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(strings.Repeat("x", tc.size))))
		if w.Code != tc.want {
			t.Errorf("%s, %d bytes: %d, want %d", tc.path, tc.size, w.Code, tc.want)
		}
	}
}

func TestValidID(t *testing.T) {
	for _, id := range []string{"a", "AbC-_.~09", "mysvc", strings.Repeat("x", MaxID)} {
		if !ValidID(id) {
			t.Errorf("ValidID(%q) = false, want true", id)
		}
	}
	for _, id := range []string{"", "abc\x00def", "abc\xffdef", "абв", "a b", "a/b", "a%00", "a'b", strings.Repeat("x", MaxID+1)} {
		if ValidID(id) {
			t.Errorf("ValidID(%q) = true, want false", id)
		}
	}
}

func TestHSTS(t *testing.T) {
	h := HSTS(http.NotFoundHandler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nope", nil))
	if got := rec.Header().Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
		t.Fatalf("Strict-Transport-Security: %q", got)
	}
}

// FuzzValidID: an accepted identifier is 1 to MaxID unreserved ASCII
// characters, so it is valid UTF-8 without NUL, and a path segment or query
// value as it is (escaping changes nothing).
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"abc", "abc\x00def", "a b", "ключ", "\xff", strings.Repeat("a", MaxID+1), "a-b.c_d~e", "", "%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !ValidID(id) {
			return
		}
		if id == "" || len(id) > MaxID || !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
			t.Fatalf("ValidID accepted %q", id)
		}
		if url.PathEscape(id) != id || url.QueryEscape(id) != id {
			t.Fatalf("ValidID accepted %q, which needs escaping", id)
		}
	})
}
