package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gosid/gosid/app/apptest"
)

// badIDs are identifiers no gosid record can have: they must answer "not
// found" (or "expired") on every backend, never a server error — PostgreSQL
// refuses NUL and invalid UTF-8 in text, so they must not reach it.
var badIDs = map[string]string{
	"nul":      "abc\x00def",
	"utf8":     "abc\xff\xfedef",
	"oversize": strings.Repeat("a", 2000),
	"unicode":  "абв",
	"space":    "a b",
	"quote":    `a'"b`,
}

// idBackends are the storages ids reach: SQLite, PostgreSQL with Redis, and
// PostgreSQL alone (short-lived state, flows too, in PostgreSQL).
func idBackends(t *testing.T) map[string]func() *apptest.Env {
	return map[string]func() *apptest.Env{
		"sqlite":         func() *apptest.Env { return apptest.Start(t, apptest.NewConfig(t, apptest.SQLite)) },
		"postgres+redis": func() *apptest.Env { return apptest.Start(t, apptest.NewConfig(t, apptest.PostgresRedis)) },
		"postgres": func() *apptest.Env {
			cfg := apptest.NewConfig(t, apptest.PostgresRedis)
			cfg.RedisURL = ""
			return apptest.Start(t, cfg)
		},
	}
}

func TestBadIDsAPI(t *testing.T) {
	for name, start := range idBackends(t) {
		t.Run(name, func(t *testing.T) {
			env := start()
			env.CreateAccount(t, testPhone, testPassword)
			a := &api{t: t, env: env}
			status, v := a.password(testPhone, testPassword)
			if status != http.StatusOK || v.SessionToken == "" {
				t.Fatalf("sign in: %d %+v", status, v)
			}
			lf := a.start("login")
			endpoints := []struct{ method, path, token string }{
				{http.MethodDelete, "/api/v1/session/sessions/", v.SessionToken},
				{http.MethodGet, "/api/v1/session/scans/", v.SessionToken},
				{http.MethodDelete, "/api/v1/session/scans/", v.SessionToken},
				{http.MethodDelete, "/api/v1/session/factors/", v.SessionToken},
				{http.MethodDelete, "/api/v1/session/services/", v.SessionToken},
				{http.MethodGet, "/api/v1/flows/login/", lf.FlowToken},
				{http.MethodPost, "/api/v1/flows/login/", lf.FlowToken},
			}
			for idName, id := range badIDs {
				for _, ep := range endpoints {
					req, _ := http.NewRequest(ep.method, env.URL+ep.path+url.PathEscape(id), nil)
					req.Header.Set("Authorization", "Bearer "+ep.token)
					if ep.method == http.MethodPost {
						req.Body = http.NoBody
						req.Header.Set("Content-Type", "application/json")
					}
					resp, err := env.Client().Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					ct := resp.Header.Get("Content-Type")
					if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.HasPrefix(ct, "application/json") {
						t.Errorf("%s %s<%s>: %d %q, want 4xx JSON", ep.method, ep.path, idName, resp.StatusCode, ct)
					}
				}
			}
		})
	}
}

func TestBadIDsPages(t *testing.T) {
	for name, start := range idBackends(t) {
		t.Run(name, func(t *testing.T) {
			env := start()
			env.CreateAccount(t, testPhone, testPassword)
			b := env.NewBrowser(t)
			b.Get(env.URL + "/login")
			b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
			p := b.Get(env.URL + "/settings/sessions")
			f, err := p.Form("/settings/sessions")
			if err != nil {
				t.Fatal(err)
			}
			csrf := f.Values.Get("csrf_token")
			if csrf == "" {
				t.Fatalf("no csrf token on the sessions page")
			}
			check := func(what string, p *apptest.Page) {
				t.Helper()
				if p.Status >= 500 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
					t.Errorf("%s: %d %q, want the citizen's page", what, p.Status, p.Header.Get("Content-Type"))
				}
			}
			for idName, id := range badIDs {
				check("GET /profile/scans/<"+idName+">", b.Get(env.URL+"/profile/scans/"+url.PathEscape(id)))
				for _, q := range []string{"/login", "/login/offer", "/consent", "/login/second-factor", "/settings/security/enroll", "/settings/contacts", "/settings/delete"} {
					check("GET "+q+"?flow=<"+idName+">", b.Get(env.URL+q+"?"+url.Values{"flow": {id}}.Encode()))
				}
				forms := []struct {
					path   string
					fields url.Values
				}{
					{"/settings/sessions", url.Values{"action": {"end"}, "session": {id}}},
					{"/settings/services", url.Values{"client_id": {id}}},
					{"/settings/security", url.Values{"action": {"remove"}, "factor": {id}}},
					{"/login", url.Values{"flow": {id}, "login": {testPhone}, "password": {"wrong"}}},
					{"/login/offer", url.Values{"flow": {id}, "decision": {"later"}}},
					{"/settings/contacts", url.Values{"flow": {id}, "action": {"code"}}},
					{"/settings/delete", url.Values{"flow": {id}, "action": {"confirm"}}},
				}
				for _, fm := range forms {
					fm.fields.Set("csrf_token", csrf)
					check("POST "+fm.path+" <"+idName+">", b.Post(env.URL+fm.path, fm.fields))
				}
			}
		})
	}
}

// The OAuth endpoints take ids and tokens from forms and queries too.
func TestBadIDsOAuth(t *testing.T) {
	for name, start := range idBackends(t) {
		t.Run(name, func(t *testing.T) {
			env := start()
			c := webClient()
			secret := env.CreateClient(t, c)
			for idName, id := range badIDs {
				for _, rq := range []struct {
					method, path string
					form         url.Values
					auth         bool
				}{
					{http.MethodGet, "/oauth2/authorize", url.Values{"client_id": {id}, "response_type": {"code"}, "scope": {"openid"}}, false},
					{http.MethodGet, "/oauth2/authorize", url.Values{"client_id": {c.ID}, "request_uri": {"urn:ietf:params:oauth:request_uri:" + id}}, false},
					{http.MethodPost, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {"a." + id}, "redirect_uri": {redirectURI}}, true},
					{http.MethodPost, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"a." + id}}, true},
					{http.MethodPost, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {"x"}}, false},
					{http.MethodPost, "/oauth2/revoke", url.Values{"token": {"a." + id}}, true},
					{http.MethodPost, "/oauth2/introspect", url.Values{"token": {"a." + id}}, true},
					{http.MethodPost, "/oauth2/userinfo", url.Values{"access_token": {"a." + id}}, false},
					{http.MethodGet, "/oauth2/logout", url.Values{"id_token_hint": {"a." + id}, "client_id": {id}}, false},
				} {
					var req *http.Request
					if rq.method == http.MethodGet {
						req, _ = http.NewRequest(rq.method, env.URL+rq.path+"?"+rq.form.Encode(), nil)
					} else {
						req, _ = http.NewRequest(rq.method, env.URL+rq.path, strings.NewReader(rq.form.Encode()))
						req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					}
					if rq.auth {
						req.SetBasicAuth(c.ID, secret)
					}
					resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode >= 500 {
						t.Errorf("%s %s <%s>: %d", rq.method, rq.path, idName, resp.StatusCode)
					}
				}
			}
		})
	}
}
