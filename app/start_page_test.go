package app_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gosid/gosid/app/apptest"
)

// TestStartAndErrorPagesLeadBack (#17.15): / is a start page in the
// citizen's language with sign-in and registration, discovery stays at
// its well-known address, and every error page — a missing page, an
// unknown client — offers a way back and speaks the citizen's language.
func TestStartAndErrorPagesLeadBack(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	for _, tc := range []struct{ lang, title, home, unknown string }{
		{"ru", "Единый вход в государственные сервисы", "На главную", "не зарегистрирован в gosid"},
		{"en", "One sign-in for public services", "To the start page", "not registered with gosid"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b := env.NewBrowser(t)
			b.Header.Set("Accept-Language", tc.lang)
			p := b.Get(env.URL + "/")
			if p.Status != 200 || !strings.Contains(p.Header.Get("Content-Type"), "text/html") || p.URL.Path != "/" {
				t.Fatalf("/: %d %s at %s", p.Status, p.Header.Get("Content-Type"), p.URL)
			}
			for _, want := range []string{tc.title, `href="/account"`, `href="/registration"`, `href="/recovery"`} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("start page lacks %q", want)
				}
			}
			d := b.Get(env.URL + "/.well-known/openid-configuration")
			if d.Status != 200 || !strings.Contains(d.Body, `"issuer"`) {
				t.Fatalf("discovery: %d %s", d.Status, d.Body)
			}
			nf := b.Get(env.URL + "/no/such/page")
			if nf.Status != 404 || !strings.Contains(nf.Body, `href="/"`) || !strings.Contains(nf.Body, tc.home) {
				t.Errorf("404 page has no way back in %s:\n%s", tc.lang, nf.Body)
			}
			q := url.Values{"client_id": {"nope"}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:9/cb"},
				"scope": {"openid"}, "state": {"state-123456"}}
			uc := b.Get(env.URL + "/oauth2/authorize?" + q.Encode())
			if uc.Status < 400 || !strings.Contains(uc.Body, tc.unknown) || !strings.Contains(uc.Body, `href="/"`) {
				t.Errorf("unknown client page: %d\n%s", uc.Status, uc.Body)
			}
			// The raw English OAuth description is for the log, not the citizen.
			if strings.Contains(uc.Body, "Client authentication failed") {
				t.Errorf("unknown client page shows the raw OAuth description:\n%s", uc.Body)
			}
		})
	}
}
