package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// unavailablePage posts form to /registration (with the CSRF cookie when
// given) and renders the 503 page for it.
func unavailablePage(t *testing.T, r *Renderer, form url.Values, lang string, cookie *http.Cookie) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/registration", nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	if lang != "" {
		req.AddCookie(&http.Cookie{Name: LangCookie, Value: lang})
	}
	rec := httptest.NewRecorder()
	r.Unavailable(rec, req, form.Encode())
	return rec.Code, rec.Body.String()
}

// inputs lists the page's form inputs: name → type and value.
func inputs(t *testing.T, body string) map[string][2]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]string{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" {
			out[attr(n, "name")] = [2]string{attr(n, "type"), attr(n, "value")}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// TestUnavailableGivesTheFormBack: the 503 page of a form posted from
// gosid's pages gives what the citizen typed back in a form that posts to
// the same address with the same CSRF token; passwords are to be typed
// again, never echoed; everything is escaped; and nothing comes back for a
// post without this browser's CSRF token.
func TestUnavailableGivesTheFormBack(t *testing.T) {
	r := newRenderer(t, false)
	token, cookie := issue(t, r)
	form := url.Values{"flow": {"f1"}, CSRFField: {token}, "family_name": {"Соколова"}, "given_name": {evil},
		"contact": {"+7 916 352-71-20"}, "password": {"Глубокий-Сон-7-Лес"}, "password_confirm": {"Глубокий-Сон-7-Лес"},
		"consent": {"yes"}, "action": {"register"}}

	for lang, retry := range map[string]string{"ru": "Отправить ещё раз", "en": "Send again"} {
		status, body := unavailablePage(t, r, form, lang, cookie)
		if status != http.StatusServiceUnavailable || !strings.Contains(body, retry) || !strings.Contains(body, `action="/registration"`) {
			t.Fatalf("%s: %d\n%s", lang, status, body)
		}
		if strings.Contains(body, "Глубокий") || strings.Contains(body, "<script>alert") {
			t.Errorf("%s: a password or unescaped markup in the page:\n%s", lang, body)
		}
		in := inputs(t, body)
		for name, want := range map[string][2]string{
			"family_name": {"text", "Соколова"}, "given_name": {"text", evil}, "contact": {"text", "+7 916 352-71-20"},
			"password": {"password", ""}, "password_confirm": {"password", ""}, CSRFField: {"hidden", token},
			"flow": {"hidden", "f1"}, "consent": {"hidden", "yes"}, "action": {"hidden", "register"},
		} {
			if in[name] != want {
				t.Errorf("%s: input %s = %q, want %q", lang, name, in[name], want)
			}
		}
	}

	// A post from elsewhere (no CSRF cookie, or a token that is not this
	// browser's) gets the plain page: nothing it sent is shown.
	other, _ := issue(t, r)
	for name, c := range map[string]*http.Cookie{"no cookie": nil, "another browser's token": cookie} {
		f := url.Values{CSRFField: {token}, "family_name": {"Соколова"}}
		if name == "another browser's token" {
			f.Set(CSRFField, other)
		}
		status, body := unavailablePage(t, r, f, "", c)
		if status != http.StatusServiceUnavailable || strings.Contains(body, "Соколова") || strings.Contains(body, "<form") {
			t.Errorf("%s: %d\n%s", name, status, body)
		}
	}
}

// TestUnavailableBounds: the page never grows with what a request sends:
// malformed, oversized or control-character fields are dropped, at most
// maxKeptFields come back, and secrets with nowhere to type them are
// dropped too.
func TestUnavailableBounds(t *testing.T) {
	r := newRenderer(t, false)
	token, cookie := issue(t, r)
	form := url.Values{CSRFField: {token}, "family_name": {strings.Repeat("Я", maxKeptValue)}, "given_name": {"a\x00b"},
		"Bad-Name": {"x"}, strings.Repeat("n", maxKeptName+1): {"x"}, "middle_name": {"Ивановна"},
		"credential": {`{"id":"x"}`}, "device_token": {"t"}}
	for i := 0; i < 3*maxKeptFields; i++ {
		form.Set(fmt.Sprintf("zz_extra_%03d", i), "v")
	}
	_, body := unavailablePage(t, r, form, "", cookie)
	in := inputs(t, body)
	for _, dropped := range []string{"family_name", "given_name", "Bad-Name", strings.Repeat("n", maxKeptName+1), "credential", "device_token"} {
		if _, ok := in[dropped]; ok {
			t.Errorf("%.20s was kept", dropped)
		}
	}
	if in["middle_name"] != [2]string{"text", "Ивановна"} {
		t.Errorf("middle_name = %q", in["middle_name"])
	}
	if n := len(in); n > maxKeptFields+1 { // the kept fields and the CSRF token
		t.Errorf("%d inputs, at most %d", n, maxKeptFields+1)
	}
	if len(body) > 64<<10 {
		t.Errorf("the page is %d bytes", len(body))
	}
}

// TestUnavailableGET: a page that failed to load offers to load it again.
func TestUnavailableGET(t *testing.T) {
	r := newRenderer(t, false)
	req := httptest.NewRequest(http.MethodGet, "/settings/profile?tab=docs", nil)
	rec := httptest.NewRecorder()
	r.Unavailable(rec, req, "")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `href="/settings/profile?tab=docs"`) {
		t.Fatalf("%d\n%s", rec.Code, rec.Body.String())
	}
}
