package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gosid/gosid/web"
)

// A handler renders a page with the CSRF token of the browser, and checks
// it when the form comes back.
func ExampleRenderer_Render() {
	r, err := web.New(web.Options{CSRFKey: []byte("example-key-of-32-bytes-........")})
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/login?lang=en", nil)
	rec := httptest.NewRecorder()
	r.Render(rec, req, http.StatusOK, "login", &web.LoginData{
		Page:       web.Page{CSRF: r.CSRFToken(rec, req)},
		ClientName: "City clinic",
	})
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(strings.Contains(rec.Body.String(), "to continue to City clinic"))
	// Output:
	// 200 text/html; charset=utf-8
	// true
}
