package app_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gosid/gosid/app/apptest"
)

// TestAccountPageWording (#17.14): «Безопасность входа выключена» agrees
// in gender, no heading repeats the text of a link under it, each level
// has a badge of its own, and the verified status is not titled
// «Регистрация завершена».
func TestAccountPageWording(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	b := env.NewBrowser(t)
	b.Get(env.URL + "/account")
	b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
	p := b.Get(env.URL + "/account?lang=ru")
	if p.Status != 200 {
		t.Fatalf("/account: %d", p.Status)
	}
	if !regexp.MustCompile(`Безопасность входа</a> <span class="tag">выключена</span>`).MatchString(p.Body) {
		t.Errorf("security state does not read «Безопасность входа выключена»:\n%s", p.Body)
	}
	heads := regexp.MustCompile(`<h2>([^<]+)</h2>`).FindAllStringSubmatch(p.Body, -1)
	for _, h := range heads {
		if strings.Contains(p.Body, ">"+h[1]+"</a>") {
			t.Errorf("heading %q repeats a link", h[1])
		}
	}
	if !strings.Contains(p.Body, `badge-level-simplified`) {
		t.Errorf("no level badge on the account page")
	}
	css := b.Get(env.URL + "/static/gosid.css")
	rule := regexp.MustCompile(`\.badge-level-(simplified|standard|confirmed) \{([^}]*)\}`)
	seen := map[string]string{}
	for _, m := range rule.FindAllStringSubmatch(css.Body, -1) {
		seen[m[1]] = m[2]
	}
	if len(seen) != 3 || seen["simplified"] == seen["standard"] || seen["standard"] == seen["confirmed"] || seen["simplified"] == seen["confirmed"] {
		t.Errorf("levels do not have badges of their own: %v", seen)
	}
	for lang, done := range map[string]string{"ru": "Регистрация завершена", "en": "Registration complete"} {
		if got := env.Server.Web.T(lang, "profile.status.verified"); got == done {
			t.Errorf("%s: the verified status is titled %q", lang, got)
		}
	}
}
