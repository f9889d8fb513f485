package provider

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzParseParams feeds token and authorization requests (query and form
// body) to parseParams: whatever it lets through names every parameter
// once (resource indicators aside), in the query and the body together.
func FuzzParseParams(f *testing.F) {
	f.Add("client_id=a&scope=openid", "grant_type=refresh_token&refresh_token=x", "application/x-www-form-urlencoded")
	f.Add("a=1", "a=2", "application/x-www-form-urlencoded")
	f.Add("", "resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb", "application/x-www-form-urlencoded")
	f.Add("%zz", "a=%", "application/x-www-form-urlencoded")
	f.Add("", "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n", "multipart/form-data; boundary=b")
	f.Fuzz(func(t *testing.T, query, body, contentType string) {
		if strings.ContainsAny(query, " #\r\n") {
			return // not a request line
		}
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", contentType)
		if err := parseParams(r); err != nil {
			return
		}
		for k, v := range r.Form {
			if len(v) > 1 && !repeatable[k] {
				t.Fatalf("parameter %q passed with %d values", k, len(v))
			}
		}
	})
}
