package web

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

const evil = `<script>alert("x")</script>`

func newRenderer(t testing.TB, secure bool) *Renderer {
	t.Helper()
	r, err := New(Options{Secure: secure, CSRFKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The self-service pages' data is defined in package login (which imports
// this one); these types have the same shape.
type testView struct {
	ID, Type, State, Contact, Channel string
	Values                            map[string]string
	Errors, Messages                  []testMessage
	Methods                           []testMethod
	Method, TOTPSecret                string
	QR                                template.URL
	WebAuthn                          []byte
	RecoveryCodes                     []string
}

type testMethod struct{ Method, Contact string }

type testMessage struct{ Field, Code, Text string }

func (v *testView) Err(field string) string {
	for _, e := range v.Errors {
		if e.Field == field {
			return e.Text
		}
	}
	return ""
}

func (v *testView) Value(field string) string { return v.Values[field] }

type selfPage struct {
	Page
	View     *testView
	LoginURL string
}

type testAccount struct {
	ID, Phone, Email, FamilyName, GivenName, MiddleName string
	PhoneVerified, EmailVerified                        bool
	Level                                               string
}

type accountPage struct {
	Page
	Account       *testAccount
	Phone         string
	OfferMFA, MFA bool
}

type testFactor struct {
	ID, Kind, Name, Contact string
	CreatedAt               time.Time
	LastUsedAt              *time.Time
}

type securityPage struct {
	Page
	View                                               *testView
	Factors                                            []testFactor
	RecoveryLeft                                       int
	HasPhone, HasEmail, HasTOTP, HasSMS, HasEmailCodes bool
	LoginNotice, ReturnTo                              string
	WebAuthn                                           bool
}

type testSession struct {
	ID, Device, IP, Location string
	Current                  bool
	CreatedAt, LastSeenAt    time.Time
}

type sessionsPage struct {
	Page
	Sessions []testSession
	Ended    int
}

type testService struct {
	ClientID, Name string
	Scopes         []string
	GrantedAt      time.Time
}

type servicesPage struct {
	Page
	Services []testService
	Revoked  string
}

type levelPage struct {
	Page
	FlowID, ClientName, Need, Have string
}

type offerPage struct {
	Page
	FlowID, ClientName string
}

type outboxEntry struct {
	At      time.Time
	Channel string
	To      string
	Body    string
}

type outboxPage struct {
	Page
	Entries []outboxEntry
}

type sample struct {
	name, page string
	data       func() any
}

func samples() []sample {
	allScopes := []ScopeItem{}
	for _, s := range []string{"openid", "profile", "email", "phone", "offline_access"} {
		allScopes = append(allScopes, ScopeItem{Name: s, TitleKey: "scope." + s + ".title", DescKey: "scope." + s + ".desc"})
	}
	regErrs := []testMessage{
		{Field: "family_name", Text: "bad " + evil},
		{Field: "contact", Text: "bad contact"},
		{Field: "password", Text: "weak"},
		{Field: "consent", Text: "consent needed"},
		{Text: "form-level " + evil},
	}
	return []sample{
		{"login", "login", func() any {
			return &LoginData{FlowID: "flow1", ClientName: evil, ForgotURL: "/recovery?return_to=flow1", RegisterURL: "/registration"}
		}},
		{"login-error", "login", func() any {
			return &LoginData{FlowID: "flow1", Login: evil, ErrorKey: "login.error.invalid", ForgotURL: "/recovery"}
		}},
		{"login-locked", "login", func() any {
			return &LoginData{Login: "+79161234567", ErrorKey: "login.error.locked", ForgotURL: "/recovery"}
		}},
		{"consent", "consent", func() any { return &ConsentData{FlowID: "flow1", ClientName: evil, Scopes: allScopes} }},
		{"consent-unnamed", "consent", func() any { return &ConsentData{FlowID: "flow1", Scopes: allScopes[:2]} }},
		{"logout", "logout", func() any { return &LogoutData{FlowID: "flow2", ClientName: evil} }},
		{"message", "message", func() any { return &MessageData{TitleKey: "logout.done.title", MessageKey: "logout.done.message"} }},
		{"message-link", "message", func() any {
			return &MessageData{TitleKey: "logout.cancelled.title", MessageKey: "logout.cancelled.message", LinkURL: "https://rp.example/", LinkKey: "message.continue"}
		}},
		{"home", "home", func() any { return &HomeData{} }},
		{"error-no-retry", "error", func() any { return &ErrorData{TitleKey: "error.title", MessageKey: "error.not_found"} }},
		{"error", "error", func() any {
			return &ErrorData{TitleKey: "oauth.error", MessageKey: "oauth.error.message", RetryURL: "/login", Detail: "invalid_request: " + evil}
		}},
		{"registration", "registration", func() any {
			return &selfPage{View: &testView{ID: "reg1", State: "form", Values: map[string]string{"family_name": evil}}, LoginURL: "/account"}
		}},
		{"registration-errors", "registration", func() any {
			return &selfPage{View: &testView{ID: "reg1", State: "form", Errors: regErrs, Values: map[string]string{"contact": "x"}}, LoginURL: "/account"}
		}},
		{"registration-confirm", "registration", func() any {
			return &selfPage{View: &testView{ID: "reg1", State: "confirm", Channel: "phone", Contact: "+7(916)***-**-84",
				Messages: []testMessage{{Text: "code sent"}}, Errors: []testMessage{{Field: "code", Text: "wrong"}}}, LoginURL: "/account"}
		}},
		{"registration-done", "registration", func() any {
			return &selfPage{View: &testView{ID: "reg1", State: "done", Messages: []testMessage{{Text: "done"}}}, LoginURL: "/account"}
		}},
		{"recovery", "recovery", func() any {
			return &selfPage{View: &testView{ID: "rec1", State: "form", Errors: []testMessage{{Field: "login", Text: "bad"}}}, LoginURL: "/login?flow=f"}
		}},
		{"recovery-confirm", "recovery", func() any {
			return &selfPage{View: &testView{ID: "rec1", State: "confirm", Channel: "email"}, LoginURL: "/account"}
		}},
		{"recovery-password", "recovery", func() any {
			return &selfPage{View: &testView{ID: "rec1", State: "password", Errors: []testMessage{{Field: "password_confirm", Text: "mismatch"}}}, LoginURL: "/account"}
		}},
		{"recovery-done", "recovery", func() any {
			return &selfPage{View: &testView{ID: "rec1", State: "done"}, LoginURL: "/login"}
		}},
		{"password", "password", func() any {
			return &selfPage{View: &testView{Type: "password", State: "form", Errors: []testMessage{{Field: "current_password", Text: "wrong"}}}}
		}},
		{"password-done", "password", func() any { return &selfPage{View: &testView{Type: "password", State: "done"}} }},
		{"account", "account", func() any {
			return &accountPage{Account: &testAccount{FamilyName: evil, GivenName: "Анна", Phone: "+79163527184", PhoneVerified: true, Level: "simplified"}, Phone: "+7(916)352-71-84"}
		}},
		{"outbox", "outbox", func() any {
			return &outboxPage{Entries: []outboxEntry{{At: time.Now(), Channel: "sms", To: "+79163527184", Body: "Код: 123456 " + evil}}}
		}},
		{"outbox-empty", "outbox", func() any { return &outboxPage{} }},
		{"account-offer", "account", func() any {
			return &accountPage{Account: &testAccount{FamilyName: "Иванова", GivenName: "Анна", Level: "standard"}, OfferMFA: true}
		}},
		{"mfa", "mfa", func() any {
			return &selfPage{View: &testView{ID: "m1", State: "second_factor", Method: "sms", WebAuthn: []byte(`{"publicKey":{"challenge":"` + evil + `"}}`),
				Methods: []testMethod{{Method: "totp"}, {Method: "sms", Contact: "+7(916)***-**-84"}, {Method: "email", Contact: "a***@example.ru"},
					{Method: "webauthn"}, {Method: "recovery"}}, Errors: []testMessage{{Field: "code", Text: "wrong"}}}}
		}},
		{"enroll-totp", "enroll", func() any {
			return &selfPage{View: &testView{ID: "e1", State: "confirm", Method: "totp", TOTPSecret: "JBSWY3DPEHPK3PXP",
				QR: "data:image/png;base64,iVBORw0KGgo="}, LoginURL: "/settings/security"}
		}},
		{"enroll-webauthn", "enroll", func() any {
			return &selfPage{View: &testView{ID: "e1", State: "confirm", Method: "webauthn", WebAuthn: []byte(`{"publicKey":{}}`)}}
		}},
		{"enroll-sms", "enroll", func() any {
			return &selfPage{View: &testView{ID: "e1", State: "confirm", Method: "sms", Contact: "+7(916)***-**-84"}}
		}},
		{"enroll-done", "enroll", func() any {
			return &selfPage{View: &testView{State: "done", Method: "totp", RecoveryCodes: []string{"ABCDE-FGHJK", evil}}}
		}},
		{"security", "security", func() any {
			used := time.Now()
			return &securityPage{View: &testView{}, HasPhone: true, HasEmail: true, HasTOTP: true, LoginNotice: "email", ReturnTo: "f1", WebAuthn: true,
				RecoveryLeft: 9, Factors: []testFactor{{ID: "f1", Kind: "totp", CreatedAt: time.Now(), LastUsedAt: &used},
					{ID: "f2", Kind: "webauthn", Name: evil, CreatedAt: time.Now()}}}
		}},
		{"security-off", "security", func() any { return &securityPage{View: &testView{}, LoginNotice: "all"} }},
		{"sessions", "sessions", func() any {
			return &sessionsPage{Ended: -1, Sessions: []testSession{{ID: "s1", Current: true, Device: "Chrome, Linux", IP: "192.0.2.1",
				CreatedAt: time.Now(), LastSeenAt: time.Now()}, {ID: "s2", Device: evil, IP: "198.51.100.2", Location: "Москва"}}}
		}},
		{"services", "services", func() any {
			return &servicesPage{Revoked: evil, Services: []testService{{ClientID: "c1", Name: evil, Scopes: []string{"openid", "profile"}}}}
		}},
		{"services-empty", "services", func() any { return &servicesPage{} }},
		{"level", "level", func() any { return &levelPage{FlowID: "f1", ClientName: evil, Need: "confirmed", Have: "simplified"} }},
		{"level-standard", "level", func() any {
			return &levelPage{FlowID: "f1", ClientName: "Налоги", Need: "standard", Have: "simplified"}
		}},
		{"offer", "offer", func() any { return &offerPage{} }},
		{"unavailable", "unavailable", func() any {
			return &UnavailableData{Action: "/registration", Fields: []KeptField{{Name: "flow", Value: "f1"},
				{Name: "family_name", Value: evil, Label: "field.family_name"},
				{Name: "password", Label: "field.password", Retype: true, Type: "password"},
				{Name: "code", Label: "field.code", Retype: true, Type: "text"}}}
		}},
		{"unavailable-reload", "unavailable", func() any { return &UnavailableData{RetryURL: "/account"} }},
	}
}

// csrfOf returns the Page of a sample's data, for setting the token.
func csrfOf(d any) *Page { return d.(pageData).basePage() }

func TestRenderEveryPage(t *testing.T) {
	r := newRenderer(t, true)
	for _, lang := range languages {
		for _, s := range samples() {
			t.Run(lang+"/"+s.name, func(t *testing.T) {
				req := httptest.NewRequest(http.MethodGet, "/"+s.page+"?flow=abc", nil)
				req.AddCookie(&http.Cookie{Name: LangCookie, Value: lang})
				rec := httptest.NewRecorder()
				data := s.data()
				csrfOf(data).CSRF = r.CSRFToken(rec, req)
				csrfOf(data).Dev = true
				r.Render(rec, req, http.StatusTeapot, s.page, data)
				body := rec.Body.String()
				if rec.Code != http.StatusTeapot {
					t.Fatalf("status %d:\n%s", rec.Code, body)
				}
				checkHeaders(t, rec.Result().Header)
				if strings.Contains(body, "<script>alert") {
					t.Errorf("unescaped script in page:\n%s", body)
				}
				if strings.Contains(body, "<no value>") || strings.Contains(body, "%!") {
					t.Errorf("template artefact in page:\n%s", body)
				}
				doc, err := html.Parse(strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				checkDocument(t, doc, lang, csrfOf(data).CSRF)
				if csrfOf(data).AltLangURL != "/"+s.page+"?flow=abc&lang="+otherLang(lang) {
					t.Errorf("AltLangURL = %q", csrfOf(data).AltLangURL)
				}
			})
		}
	}
}

func checkHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if strings.Contains(h.Get("Content-Security-Policy"), "form-action") {
		t.Error("CSP must not restrict form-action")
	}
}

// checkDocument checks the page's accessibility and form basics: the
// language, one h1, labels tied to existing controls, every visible control
// labelled, aria-describedby pointing at existing elements, unique ids, and
// a CSRF token in every POST form.
func checkDocument(t *testing.T, doc *html.Node, lang, csrf string) {
	t.Helper()
	ids := map[string]int{}
	labels := map[string]bool{}
	var controls []*html.Node
	var described []string
	h1 := 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if id := attr(n, "id"); id != "" {
				ids[id]++
			}
			switch n.Data {
			case "html":
				if attr(n, "lang") != lang {
					t.Errorf("<html lang=%q>, want %q", attr(n, "lang"), lang)
				}
			case "h1":
				h1++
			case "label":
				labels[attr(n, "for")] = true
			case "input", "select", "textarea":
				if attr(n, "type") != "hidden" {
					controls = append(controls, n)
				}
			case "form":
				checkForm(t, n, csrf)
			case "script":
				if src := attr(n, "src"); !strings.HasPrefix(src, "/static/") {
					t.Errorf("script from %q", src)
				}
			case "link":
				if href := attr(n, "href"); !strings.HasPrefix(href, "/static/") {
					t.Errorf("link to %q", href)
				}
			}
			if d := attr(n, "aria-describedby"); d != "" {
				described = append(described, strings.Fields(d)...)
			}
			if attr(n, "style") != "" {
				t.Errorf("inline style on <%s> (blocked by the CSP)", n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if h1 != 1 {
		t.Errorf("%d h1 elements, want 1", h1)
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
	for f := range labels {
		if ids[f] == 0 {
			t.Errorf("<label for=%q> has no matching id", f)
		}
	}
	for _, c := range controls {
		if id := attr(c, "id"); id == "" || !labels[id] {
			t.Errorf("<%s name=%q id=%q> has no label", c.Data, attr(c, "name"), id)
		}
	}
	for _, d := range described {
		if ids[d] == 0 {
			t.Errorf("aria-describedby %q points at nothing", d)
		}
	}
}

func checkForm(t *testing.T, form *html.Node, csrf string) {
	t.Helper()
	if !strings.EqualFold(attr(form, "method"), "post") {
		t.Errorf("form %q is not POST", attr(form, "action"))
		return
	}
	var found bool
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "type") == "hidden" && attr(n, "name") == CSRFField {
			found = attr(n, "value") == csrf && csrf != ""
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	if !found {
		t.Errorf("form %q has no csrf_token field with the page's token", attr(form, "action"))
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestRenderEscapesAndTranslates(t *testing.T) {
	r := newRenderer(t, false)
	for lang, want := range map[string][]string{
		"ru": {"Вход", "Неверный логин или пароль", "Забыли пароль?", "Зарегистрироваться", "English"},
		"en": {"Sign in", "Incorrect login or password", "Forgot your password?", "Create an account", "Русский"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/login?lang="+lang, nil)
		rec := httptest.NewRecorder()
		r.Render(rec, req, http.StatusOK, "login", &LoginData{
			Page: Page{CSRF: "tok"}, Login: evil, ClientName: evil, ErrorKey: "login.error.invalid", ForgotURL: "/recovery", RegisterURL: "/registration",
		})
		body := rec.Body.String()
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q", lang, w)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s: the client name is not shown escaped", lang)
		}
		if !strings.Contains(body, `role="alert"`) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%s: the error is not announced", lang)
		}
		// ?lang= is remembered.
		if c := rec.Result().Cookies(); len(c) != 1 || c[0].Name != LangCookie || c[0].Value != lang {
			t.Errorf("%s: cookies %v", lang, c)
		}
	}
}

func TestRenderHidesEmptyLinks(t *testing.T) {
	r := newRenderer(t, false)
	rec := httptest.NewRecorder()
	r.Render(rec, httptest.NewRequest(http.MethodGet, "/login", nil), http.StatusOK, "login", &LoginData{})
	body := rec.Body.String()
	for _, s := range []string{"/recovery", "/registration", "Забыли пароль?", `role="alert"`} {
		if strings.Contains(body, s) {
			t.Errorf("page shows %q without data for it", s)
		}
	}
	rec = httptest.NewRecorder()
	r.Render(rec, httptest.NewRequest(http.MethodGet, "/x", nil), http.StatusNotFound, "error", &ErrorData{TitleKey: "error.title", MessageKey: "error.not_found"})
	if body := rec.Body.String(); strings.Contains(body, "Начать заново") || strings.Contains(body, "Код ошибки") {
		t.Errorf("error page shows retry or detail without data:\n%s", body)
	}
}

func TestRenderFailureIsACleanError(t *testing.T) {
	r := newRenderer(t, false)
	for name, call := range map[string]func(w http.ResponseWriter, req *http.Request){
		// MessageData has no FlowID: the login template fails half-way.
		"template error": func(w http.ResponseWriter, req *http.Request) {
			r.Render(w, req, http.StatusOK, "login", &MessageData{})
		},
		"unknown page": func(w http.ResponseWriter, req *http.Request) {
			r.Render(w, req, http.StatusOK, "nope", &LoginData{})
		},
	} {
		rec := httptest.NewRecorder()
		call(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
		body := rec.Body.String()
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("%s: status %d", name, rec.Code)
		}
		if strings.Count(body, "<html") != 1 || !strings.Contains(body, "Произошла ошибка на нашей стороне") || strings.Contains(body, `action="/login"`) {
			t.Errorf("%s: not a clean error page:\n%s", name, body)
		}
		checkHeaders(t, rec.Result().Header)
	}
}

func TestRenderValueData(t *testing.T) {
	r := newRenderer(t, false)
	rec := httptest.NewRecorder()
	r.Render(rec, httptest.NewRequest(http.MethodGet, "/logout?lang=en", nil), http.StatusOK, "logout", LogoutData{FlowID: "f", ClientName: "Portal"})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Portal asks you to end your session") {
		t.Fatalf("%d\n%s", rec.Code, rec.Body)
	}
}

func TestRenderHead(t *testing.T) {
	r := newRenderer(t, false)
	rec := httptest.NewRecorder()
	r.Render(rec, httptest.NewRequest(http.MethodHead, "/login", nil), http.StatusOK, "login", &LoginData{})
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "0" {
		t.Fatalf("HEAD: %d, %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

func TestError(t *testing.T) {
	r, err := New(Options{Dev: true, CSRFKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/consent?flow=x", nil)
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	r.Error(rec, req, http.StatusGone, "flow.error.title", "flow.error.expired", "/login")
	body := rec.Body.String()
	for _, w := range []string{"Session expired", "Your sign-in session has expired", `href="/login"`, "Start again", `href="/dev/outbox"`, `lang="en"`} {
		if !strings.Contains(body, w) {
			t.Errorf("error page lacks %q", w)
		}
	}
	if rec.Code != http.StatusGone {
		t.Errorf("status %d", rec.Code)
	}
}

func TestAltLangURL(t *testing.T) {
	post := func(target string, form url.Values) *http.Request {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_ = req.ParseForm()
		return req
	}
	for _, tc := range []struct {
		name string
		req  *http.Request
		page string
		want string
	}{
		{"get", httptest.NewRequest(http.MethodGet, "/login?flow=a%26b", nil), "login", "/login?flow=a%26b&lang=en"},
		{"get replaces lang", httptest.NewRequest(http.MethodGet, "/login?lang=ru", nil), "login", "/login?lang=en"},
		{"post keeps the flow", post("/login", url.Values{"flow": {"f1"}, "password": {"secret"}}), "login", "/login?flow=f1&lang=en"},
		{"post message", post("/logout/confirm", url.Values{"flow": {"f1"}}), "message", ""},
		{"no other site", httptest.NewRequest(http.MethodGet, "//evil.example/x", nil), "error", "/evil.example/x?lang=en"},
	} {
		if got := altLangURL(tc.req, tc.page, "en"); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNewRefusesShortKey(t *testing.T) {
	if _, err := New(Options{CSRFKey: make([]byte, 16)}); err == nil {
		t.Fatal("a 16-byte CSRF key was accepted")
	}
}

func TestFieldsOf(t *testing.T) {
	// The server's own zone must not matter: 07:00 UTC is 10:00 in Moscow.
	r, err := New(Options{CSRFKey: make([]byte, 32), Location: Moscow})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 7, 0, 0, 0, time.UTC)
	when := func(t time.Time) string { return r.DateTime("ru", t) }
	got := fieldsOf(when, &outboxEntry{At: at, To: "+7", Body: "hi"})
	want := []Field{{"At", "01.03.2025 10:00 МСК"}, {"To", "+7"}, {"Body", "hi"}}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %v, want %v", i, got[i], want[i])
		}
	}
	if got := fieldsOf(when, "plain"); len(got) != 1 || got[0].Value != "plain" {
		t.Errorf("%v", got)
	}
}
