package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
)

// api is a tiny client of the flows API, as a mobile app would use it.
type api struct {
	t    *testing.T
	env  *apptest.Env
	lang string
}

type flowView struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	State        string            `json:"state"`
	Values       map[string]string `json:"values"`
	Errors       []message         `json:"errors"`
	Messages     []message         `json:"messages"`
	Contact      string            `json:"contact"`
	Channel      string            `json:"channel"`
	FlowToken    string            `json:"flow_token"`
	SessionToken string            `json:"session_token"`
	DeviceToken  string            `json:"device_token"`
	Error        string            `json:"error"`
}

type message struct {
	Field string `json:"field"`
	Code  string `json:"code"`
	Text  string `json:"text"`
}

func (a *api) do(method, path, token string, body any) (int, *flowView) {
	a.t.Helper()
	status, raw, _ := a.send(method, path, token, body)
	v := &flowView{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, v); err != nil {
			a.t.Fatalf("%s %s: not JSON (%d): %s", method, path, status, raw)
		}
	}
	return status, v
}

// send makes a request and returns the answer as it came and how long it
// took (from sending the request to the end of the body).
func (a *api) send(method, path, token string, body any) (int, []byte, time.Duration) {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			r = strings.NewReader(b)
		default:
			raw, _ := json.Marshal(b)
			r = bytes.NewReader(raw)
		}
	}
	req, _ := http.NewRequest(method, a.env.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if a.lang != "" {
		req.Header.Set("Accept-Language", a.lang)
	}
	start := time.Now()
	resp, err := a.env.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, raw, took
}

func (v *flowView) errCode(field string) string {
	for _, e := range v.Errors {
		if e.Field == field {
			return e.Code
		}
	}
	return ""
}

func (a *api) start(kind string) *flowView {
	a.t.Helper()
	status, v := a.do(http.MethodPost, "/api/v1/flows/"+kind, "", nil)
	if status != http.StatusCreated || v.FlowToken == "" {
		a.t.Fatalf("start %s: %d %+v", kind, status, v)
	}
	return v
}

func (a *api) submit(f *flowView, kind string, body map[string]any) (int, *flowView) {
	a.t.Helper()
	return a.do(http.MethodPost, "/api/v1/flows/"+kind+"/"+f.ID, f.FlowToken, body)
}

// register runs a whole registration over the API and returns the session token.
func (a *api) register(contact, password string) string {
	a.t.Helper()
	f := a.start("registration")
	status, v := a.submit(f, "registration", map[string]any{
		"action": "register", "family_name": "Кузнецова", "given_name": "Ольга", "contact": contact,
		"password": password, "password_confirm": password, "consent": true,
	})
	if status != http.StatusOK || v.State != "confirm" {
		a.t.Fatalf("register: %d %+v", status, v)
	}
	status, v = a.submit(f, "registration", map[string]any{"action": "confirm", "code": a.env.LatestCode(a.t, contact)})
	if status != http.StatusOK || v.State != "done" || v.SessionToken == "" {
		a.t.Fatalf("confirm: %d %+v", status, v)
	}
	return v.SessionToken
}

func TestAPIRegistration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		a := &api{t: t, env: env, lang: "en"}
		f := a.start("registration")

		// Every field is checked and named, in the caller's language.
		status, v := a.submit(f, "registration", map[string]any{
			"action": "register", "family_name": "Кузнец0ва", "given_name": "", "contact": "12345",
			"password": "short", "password_confirm": "other",
		})
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("invalid form: %d", status)
		}
		for field, code := range map[string]string{
			"family_name": "name.invalid_chars", "given_name": "name.required", "contact": "contact.invalid",
			"password": "password.too_short", "consent": "consent.required",
		} {
			if got := v.errCode(field); got != code {
				t.Errorf("%s: got %q, want %q (%+v)", field, got, code, v.Errors)
			}
		}
		for _, e := range v.Errors {
			if e.Text == "" || strings.HasPrefix(e.Text, "err.") {
				t.Errorf("untranslated error %+v", e)
			}
		}
		if v.Values["family_name"] != "Кузнец0ва" {
			t.Error("what the citizen typed was not kept")
		}
		// Mismatched confirmation.
		_, v = a.submit(f, "registration", map[string]any{
			"action": "register", "family_name": "Кузнецова", "given_name": "Ольга", "contact": "+79163527101",
			"password": "Глубокий-Сон-7-Лес", "password_confirm": "Глубокий-Сон-7-Лез", "consent": true,
		})
		if v.errCode("password_confirm") != "password.mismatch" {
			t.Fatalf("mismatch: %+v", v.Errors)
		}
		// A wrong code is refused; the right one finishes with a session token.
		_, v = a.submit(f, "registration", map[string]any{
			"action": "register", "family_name": "Кузнецова", "given_name": "Ольга", "contact": "+7 916 352-71-01",
			"password": "Глубокий-Сон-7-Лес", "password_confirm": "Глубокий-Сон-7-Лес", "consent": true,
		})
		if v.State != "confirm" || v.Contact != "+7(916)***-**-01" {
			t.Fatalf("after register: %+v", v)
		}
		code := env.LatestCode(t, "+79163527101")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		status, v = a.submit(f, "registration", map[string]any{"action": "confirm", "code": wrong})
		if status != http.StatusUnprocessableEntity || v.errCode("code") != "code.invalid" {
			t.Fatalf("wrong code: %d %+v", status, v)
		}
		status, v = a.submit(f, "registration", map[string]any{"action": "confirm", "code": code})
		if status != http.StatusOK || v.SessionToken == "" {
			t.Fatalf("right code: %d %+v", status, v)
		}
		status, who := a.do(http.MethodGet, "/api/v1/session", v.SessionToken, nil)
		if status != http.StatusOK {
			t.Fatalf("whoami: %d %+v", status, who)
		}
	})
}

func TestAPIRecoveryRevokesEverything(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		a := &api{t: t, env: env}
		const phone = "+79163527104"
		session := a.register(phone, "Глубокий-Сон-7-Лес")

		// Unknown and known contacts get the same answer.
		for _, login := range []string{"+79163527199", phone} {
			f := a.start("recovery")
			status, v := a.submit(f, "recovery", map[string]any{"action": "start", "login": login})
			if status != http.StatusOK || v.State != "confirm" || len(v.Messages) != 1 || v.Messages[0].Code != "recovery.sent" {
				t.Fatalf("recovery start for %s: %d %+v", login, status, v)
			}
			if login != phone {
				continue
			}
			status, v = a.submit(f, "recovery", map[string]any{"action": "confirm", "code": env.LatestCode(t, phone)})
			if status != http.StatusOK || v.State != "password" {
				t.Fatalf("recovery code: %d %+v", status, v)
			}
			status, v = a.submit(f, "recovery", map[string]any{"action": "password", "password": "qwerty", "password_confirm": "qwerty"})
			if status != http.StatusUnprocessableEntity || v.errCode("password") == "" {
				t.Fatalf("weak password accepted: %d %+v", status, v)
			}
			status, v = a.submit(f, "recovery", map[string]any{"action": "password", "password": "Тихий-Ветер-5-Сад", "password_confirm": "Тихий-Ветер-5-Сад"})
			if status != http.StatusOK || v.State != "done" {
				t.Fatalf("new password: %d %+v", status, v)
			}
		}
		if status, _ := a.do(http.MethodGet, "/api/v1/session", session, nil); status != http.StatusUnauthorized {
			t.Fatalf("the old session survived recovery: %d", status)
		}
		env.WaitTemplate(t, phone, "password_changed")
		// The new password signs in through the API login flow.
		f := a.start("login")
		status, v := a.submit(f, "login", map[string]any{"login": phone, "password": "Тихий-Ветер-5-Сад"})
		if status != http.StatusOK || v.SessionToken == "" {
			t.Fatalf("login with the new password: %d %+v", status, v)
		}
	})
}

func TestAPIChangePassword(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	const phone = "+79163527105"
	first := a.register(phone, "Глубокий-Сон-7-Лес")
	f := a.start("login")
	_, second := a.submit(f, "login", map[string]any{"login": phone, "password": "Глубокий-Сон-7-Лес"})

	status, v := a.do(http.MethodPost, "/api/v1/session/password", first, map[string]any{
		"current_password": "wrong", "password": "Тихий-Ветер-5-Сад", "password_confirm": "Тихий-Ветер-5-Сад"})
	if status != http.StatusUnprocessableEntity || v.errCode("current_password") == "" {
		t.Fatalf("wrong current password: %d %+v", status, v)
	}
	status, v = a.do(http.MethodPost, "/api/v1/session/password", first, map[string]any{
		"current_password": "Глубокий-Сон-7-Лес", "password": "Тихий-Ветер-5-Сад", "password_confirm": "Тихий-Ветер-5-Сад"})
	if status != http.StatusOK || v.SessionToken == "" {
		t.Fatalf("change: %d %+v", status, v)
	}
	for _, old := range []string{first, second.SessionToken} {
		if status, _ := a.do(http.MethodGet, "/api/v1/session", old, nil); status != http.StatusUnauthorized {
			t.Fatalf("an old session survived the change: %d", status)
		}
	}
	if status, _ := a.do(http.MethodGet, "/api/v1/session", v.SessionToken, nil); status != http.StatusOK {
		t.Fatalf("the new session does not work: %d", status)
	}
}

func TestAPIBadInput(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	f := a.start("registration")
	cases := []struct {
		name   string
		token  string
		body   any
		status int
		check  func(*flowView) bool
	}{
		{"not json", f.FlowToken, "family_name=x", http.StatusBadRequest, func(v *flowView) bool { return v.Error == "invalid_request" }},
		{"number field", f.FlowToken, map[string]any{"action": "register", "family_name": 5}, http.StatusBadRequest, nil},
		{"invalid utf-8", f.FlowToken, "{\"action\":\"register\",\"family_name\":\"\xff\xfe\"}", http.StatusUnprocessableEntity, nil},
		{"control characters", f.FlowToken, map[string]any{"action": "register", "family_name": "a\u0007b"}, http.StatusUnprocessableEntity,
			func(v *flowView) bool { return v.errCode("family_name") == "field.control_chars" }},
		{"oversize field", f.FlowToken, map[string]any{"action": "register", "family_name": strings.Repeat("я", 300)}, http.StatusUnprocessableEntity,
			func(v *flowView) bool { return v.errCode("family_name") == "field.too_long" }},
		{"wrong token", "nope", map[string]any{"action": "register"}, http.StatusUnauthorized, func(v *flowView) bool { return v.Error == "invalid_token" }},
		{"unknown action", f.FlowToken, map[string]any{"action": "fly"}, http.StatusUnprocessableEntity, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, v := a.do(http.MethodPost, "/api/v1/flows/registration/"+f.ID, c.token, c.body)
			if status != c.status || (c.check != nil && !c.check(v)) {
				t.Fatalf("got %d %+v, want %d", status, v, c.status)
			}
		})
	}
	if status, v := a.do(http.MethodGet, "/api/v1/flows/registration/unknown-flow", f.FlowToken, nil); status != http.StatusGone {
		t.Fatalf("unknown flow: %d %+v", status, v)
	}
	// Paths the API does not have answer JSON too, never the HTML error page.
	for _, p := range []struct{ method, path string }{
		{http.MethodPost, "/api/v1/flows/bogus"}, {http.MethodPost, "/api/v1/flows/lo%00gin"},
		{http.MethodGet, "/api/v1/nope"}, {http.MethodGet, "/oauth2/nope"},
	} {
		req, err := http.NewRequest(p.method, env.URL+p.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Error string }
		decodeErr := json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			decodeErr != nil || body.Error != "not_found" {
			t.Errorf("%s %s: %d %s %q (%v); want a JSON 404", p.method, p.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), body.Error, decodeErr)
		}
	}
}

func TestAPILoginRateLimitPerIP(t *testing.T) {
	cfg := apptest.NewConfig(t, apptest.SQLite)
	cfg.LoginRatePerIP = 5
	env := apptest.Start(t, cfg)
	a := &api{t: t, env: env}
	var last int
	for i := 0; i < 6; i++ {
		f := a.start("login")
		// Different (unknown) accounts each time: credential stuffing.
		last, _ = a.submit(f, "login", map[string]any{"login": "+7916352" + string(rune('0'+i)) + "100", "password": "Whatever-123!"})
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("sixth attempt from one IP: %d, want 429", last)
	}
}

// TestAPIAddContact: a citizen registered with a phone adds an e-mail later,
// confirms it with the code sent there, and can then sign in with it.
func TestAPIAddContact(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		a := &api{t: t, env: env}
		session := a.register("+79163527106", "Глубокий-Сон-7-Лес")
		env.CreateAccount(t, "+79163527107", testPassword)

		status, f := a.do(http.MethodPost, "/api/v1/session/contacts", session, nil)
		if status != http.StatusCreated || f.FlowToken == "" {
			t.Fatalf("start: %d %+v", status, f)
		}
		// Someone else's phone: the same answer, but no code is sent to it.
		status, v := a.submit(f, "contact", map[string]any{"action": "add", "contact": "+79163527107"})
		if status != http.StatusOK || v.State != "confirm" {
			t.Fatalf("add taken phone: %d %+v", status, v)
		}
		status, v = a.submit(f, "contact", map[string]any{"action": "add", "contact": "Olga.K@Example.ru"})
		if status != http.StatusOK || v.State != "confirm" || v.Contact != "o***@example.ru" {
			t.Fatalf("add e-mail: %d %+v", status, v)
		}
		status, v = a.submit(f, "contact", map[string]any{"action": "confirm", "code": env.LatestCode(t, "olga.k@example.ru")})
		// The e-mail's code arrived after the taken phone was tried: had a
		// code gone there, it would have arrived too.
		if n := env.Sent(t, "+79163527107"); n != 0 {
			t.Fatalf("%d messages were sent to another account's phone", n)
		}
		if status != http.StatusOK || v.State != "done" {
			t.Fatalf("confirm: %d %+v", status, v)
		}
		lf := a.start("login")
		status, v = a.submit(lf, "login", map[string]any{"login": "olga.k@example.ru", "password": "Глубокий-Сон-7-Лес"})
		if status != http.StatusOK || v.SessionToken == "" {
			t.Fatalf("sign in with the added e-mail: %d %+v", status, v)
		}
	})
}

// TestEmailLinkRegistration: an e-mail registration can be confirmed by the
// single-use link in the letter instead of the code; the link works once.
func TestEmailLinkRegistration(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	f := a.start("registration")
	status, v := a.submit(f, "registration", map[string]any{
		"action": "register", "family_name": "Кузнецова", "given_name": "Ольга", "contact": "olga@example.ru",
		"password": "Глубокий-Сон-7-Лес", "password_confirm": "Глубокий-Сон-7-Лес", "consent": true,
	})
	if status != http.StatusOK || v.State != "confirm" || v.Channel != "email" {
		t.Fatalf("register: %d %+v", status, v)
	}
	env.WaitTemplate(t, "olga@example.ru", "email_confirm")
	link := ""
	for _, m := range env.Server.Outbox.List() {
		if m.Message.To == "olga@example.ru" {
			link = m.Message.Data["link"]
		}
	}
	if !strings.HasPrefix(link, env.URL+"/registration/link?token=") {
		t.Fatalf("link %q", link)
	}
	b := env.NewBrowser(t)
	if p := b.Get(link); p.Status != http.StatusOK || !strings.Contains(p.Body, "Регистрация завершена") {
		t.Fatalf("link: %d %s", p.Status, p.Body)
	}
	if p := b.Get(link); p.Status != http.StatusGone {
		t.Fatalf("a used link worked again: %d", p.Status)
	}
	lf := a.start("login")
	if status, v := a.submit(lf, "login", map[string]any{"login": "olga@example.ru", "password": "Глубокий-Сон-7-Лес"}); status != http.StatusOK || v.SessionToken == "" {
		t.Fatalf("sign in after link confirmation: %d %+v", status, v)
	}
}

// TestExpiredFormKeepsWhatWasTyped: a registration form posted to an expired
// flow comes back as a fresh form with the citizen's entries (not the
// password) and a note to send it again.
func TestExpiredFormKeepsWhatWasTyped(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	b := env.NewBrowser(t)
	b.Get(env.URL + "/registration")
	p := b.Submit("/registration", url.Values{"flow": {"expired-flow-id"}, "family_name": {"Соколова"}, "contact": {"+79163527120"},
		"password": {"Глубокий-Сон-7-Лес"}})
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, `value="Соколова"`) || strings.Contains(p.Body, "Глубокий") {
		t.Fatalf("expired flow: %d\n%s", p.Status, p.Body)
	}
	f, err := p.Form("/registration")
	if err != nil || f.Values.Get("flow") == "" || f.Values.Get("flow") == "expired-flow-id" {
		t.Fatalf("no fresh flow in the form: %v %v", err, f)
	}
}

// TestRecoveryLiftsLockoutAndRevokesGrants: a locked-out citizen with a
// relying service's refresh token recovers access: the lock is lifted, the
// owner was told about the lock and the new password, and the refresh and
// access tokens issued before are dead.
func TestRecoveryLiftsLockoutAndRevokesGrants(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		env.CreateAccount(t, testPhone, testPassword)
		c := webClient()
		c.FirstParty = true
		secret := env.CreateClient(t, c)
		r := newRP(t, env, c.ID, secret)
		tok, _ := r.login(t, env.NewBrowser(t))

		a := &api{t: t, env: env}
		for i := 0; i < 3; i++ {
			f := a.start("login")
			a.submit(f, "login", map[string]any{"login": testPhone, "password": "Wrong-password-1"})
		}
		f := a.start("login")
		if _, v := a.submit(f, "login", map[string]any{"login": testPhone, "password": testPassword}); v.errCode("") != "login.locked" {
			t.Fatalf("not locked after 3 failures: %+v", v)
		}
		env.WaitTemplate(t, testPhone, "login_locked")

		rf := a.start("recovery")
		a.submit(rf, "recovery", map[string]any{"action": "start", "login": testPhone})
		a.submit(rf, "recovery", map[string]any{"action": "confirm", "code": env.LatestCode(t, testPhone)})
		if status, v := a.submit(rf, "recovery", map[string]any{"action": "password", "password": "Тихий-Ветер-5-Сад", "password_confirm": "Тихий-Ветер-5-Сад"}); status != http.StatusOK {
			t.Fatalf("recovery: %d %+v", status, v)
		}
		env.WaitTemplate(t, testPhone, "password_changed")
		f = a.start("login")
		if status, v := a.submit(f, "login", map[string]any{"login": testPhone, "password": "Тихий-Ветер-5-Сад"}); status != http.StatusOK || v.SessionToken == "" {
			t.Fatalf("the lock was not lifted by recovery: %d %+v", status, v)
		}
		_, err := r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		assertOAuthError(t, err, "invalid_grant")
		if introspect(t, env, c.ID, secret, tok.AccessToken) {
			t.Fatal("an access token issued before recovery is still active")
		}
	})
}
