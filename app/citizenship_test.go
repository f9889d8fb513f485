package app_test

import (
	"net/url"
	"regexp"
	"testing"

	"github.com/gosid/gosid/app/apptest"
)

// TestCitizenshipIsAList (#17.5): the profile offers citizenship as a list
// of countries by name in the page's language, Russia first and chosen by
// default, each sending the ISO code the server accepts.
func TestCitizenshipIsAList(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	b := env.NewBrowser(t)
	b.Get(env.URL + "/account")
	b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
	opt := regexp.MustCompile(`<option value="([A-Z]{3})"( selected)?>([^<]+)</option>`)
	sel := regexp.MustCompile(`(?s)<select class="input" id="citizenship" name="citizenship"[^>]*>(.*?)</select>`)
	for lang, want := range map[string][2]string{"ru": {"Россия", "Казахстан"}, "en": {"Russia", "Kazakhstan"}} {
		p := b.Get(env.URL + "/profile?lang=" + lang)
		s := sel.FindStringSubmatch(p.Body)
		if s == nil {
			t.Fatalf("%s: no citizenship list on /profile:\n%s", lang, p.Body)
		}
		opts := opt.FindAllStringSubmatch(s[1], -1)
		if len(opts) < 200 || opts[0][1] != "RUS" || opts[0][2] == "" || opts[0][3] != want[0] {
			t.Fatalf("%s: list starts %v (%d countries)", lang, opts[:min(3, len(opts))], len(opts))
		}
		found := false
		for _, o := range opts {
			if o[1] == "KAZ" && o[3] == want[1] {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: Kazakhstan is not listed as %q", lang, want[1])
		}
	}
}
