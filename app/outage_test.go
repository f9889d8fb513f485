package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/internal/testenv"
)

// TestRedisOutage: while Redis is gone, requests that need it answer 503
// with Retry-After (JSON on the APIs, a page in the citizen's language on
// the pages) instead of 500; gosid recovers by itself when Redis is back.
func TestRedisOutage(t *testing.T) {
	rd := testenv.StartRedis(t, 0, "")
	cfg := apptest.NewConfig(t, apptest.SQLite)
	cfg.RedisURL = "redis://" + rd.Addr() + "/0"
	cfg.RedisPrefix = "outage:"
	env := apptest.Start(t, cfg)
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	if _, v := a.password(testPhone, testPassword); v.SessionToken == "" {
		t.Fatal("sign-in before the outage failed")
	}

	b := env.NewBrowser(t)
	b.Get(env.URL + "/login")

	rd.Kill()

	// The API: JSON 503 with Retry-After, for a request that needs Redis.
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/api/v1/flows/login", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Error string }
	decodeErr := json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || decodeErr != nil ||
		body.Error != "temporarily_unavailable" {
		t.Fatalf("API during the outage: %d Retry-After %q %s %q (%v)", resp.StatusCode, resp.Header.Get("Retry-After"),
			resp.Header.Get("Content-Type"), body.Error, decodeErr)
	}

	// The sign-in page: a 503 page in the citizen's language.
	p := b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "временно недоступен") {
		t.Fatalf("sign-in page during the outage: %d %.300s", p.Status, p.Body)
	}
	// It keeps the login typed, never the password.
	if f, err := p.Form("/login"); err != nil || f.Values.Get("login") != testPhone || strings.Contains(p.Body, testPassword) {
		t.Fatalf("sign-in page during the outage: %v %v", f, err)
	}

	// Liveness stays up; readiness says why not.
	if resp, err := http.Get(env.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz during the outage: %v %v", resp, err)
	}

	// Redis comes back (empty): gosid recovers without a restart.
	rd.Restart()
	testenv.WaitReady(t, env.URL)
	if _, v := a.password(testPhone, testPassword); v.SessionToken == "" {
		t.Fatal("sign-in after the outage failed")
	}
}

// TestOutageKeepsTheForm (issue 10, defect 6): a citizen who sends the
// registration form while Redis is down gets a 503 page in their language
// (Russian by default, English by Accept-Language) that gives back what
// they typed (the names and the phone, never the password) in a form
// posting to the same address; when Redis is back, typing the password
// again and pressing the button completes the step, and the registration
// finishes.
func TestOutageKeepsTheForm(t *testing.T) {
	rd := testenv.StartRedis(t, 0, "")
	cfg := apptest.NewConfig(t, apptest.SQLite)
	cfg.RedisURL = "redis://" + rd.Addr() + "/0"
	cfg.RedisPrefix = "outage:"
	env := apptest.Start(t, cfg)
	const (
		phone    = "+7 916 352-71-20"
		password = "Глубокий-Сон-7-Лес"
	)
	typed := url.Values{"action": {"register"}, "family_name": {"Соколова"}, "given_name": {"Анна"},
		"middle_name": {"Сергеевна"}, "contact": {phone}, "password": {password}, "password_confirm": {password}, "consent": {"yes"}}
	ru, en := env.NewBrowser(t), env.NewBrowser(t)
	en.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	ru.Get(env.URL + "/registration")
	en.Get(env.URL + "/registration")

	rd.Save()
	rd.Kill()
	for _, c := range []struct {
		b           *apptest.Browser
		lang, title string
	}{{ru, "ru", "Сервис временно недоступен"}, {en, "en", "The service is temporarily unavailable"}} {
		p := c.b.Submit("/registration", typed)
		if p.Status != http.StatusServiceUnavailable || p.Header.Get("Retry-After") == "" || p.Header.Get("Content-Language") != c.lang ||
			!strings.Contains(p.Body, c.title) {
			t.Fatalf("%s: registration during the outage: %d Retry-After %q %s\n%.600s", c.lang, p.Status,
				p.Header.Get("Retry-After"), p.Header.Get("Content-Language"), p.Body)
		}
		f, err := p.Form("/registration")
		if err != nil {
			t.Fatalf("%s: no form to send again: %v", c.lang, err)
		}
		for _, k := range []string{"family_name", "given_name", "middle_name", "contact", "consent", "action"} {
			if f.Values.Get(k) != typed.Get(k) {
				t.Errorf("%s: %s is %q, typed %q", c.lang, k, f.Values.Get(k), typed.Get(k))
			}
		}
		if f.Values.Get("flow") == "" || f.Values.Get("csrf_token") == "" || f.Values.Has("password") {
			t.Errorf("%s: the form to send again: %v", c.lang, f.Values)
		}
		if strings.Contains(p.Body, password) {
			t.Errorf("%s: the password is in the page", c.lang)
		}
	}

	rd = rd.Restart()
	testenv.WaitReady(t, env.URL)
	p := ru.Submit("/registration", url.Values{"password": {password}, "password_confirm": {password}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="code"`) {
		t.Fatalf("send again after the outage: %d\n%.600s", p.Status, p.Body)
	}
	p = ru.Submit("/registration", url.Values{"action": {"confirm"}, "code": {env.LatestCode(t, phone)}})
	if p.Status != http.StatusOK {
		t.Fatalf("confirm: %d\n%.600s", p.Status, p.Body)
	}
	acct, err := env.Stores.DB.FindAccountByPhone(context.Background(), "+79163527120")
	if err != nil || acct.FamilyName != "Соколова" || acct.GivenName != "Анна" || acct.MiddleName != "Сергеевна" {
		t.Fatalf("the account after the outage: %+v %v", acct, err)
	}
}
