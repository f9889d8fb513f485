package app_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gosid/gosid/app/apptest"
)

// TestTimesInDeploymentZone (#17.8): the activity log and the new-device
// notice show Moscow time by default («11:12 МСК», never «UTC»), and the
// zone is a per-deployment setting (GOSID_TIMEZONE).
func TestTimesInDeploymentZone(t *testing.T) {
	for _, tc := range []struct{ zone, ru, en string }{
		{"", "МСК", "MSK"},
		{"Asia/Yekaterinburg", "UTC+5", "UTC+5"},
	} {
		t.Run("zone="+tc.zone, func(t *testing.T) {
			cfg := apptest.NewConfig(t, apptest.SQLite)
			if tc.zone != "" {
				cfg.Timezone = tc.zone
			}
			env := apptest.Start(t, cfg)
			env.CreateAccount(t, testPhone, testPassword)
			b := env.NewBrowser(t)
			b.Get(env.URL + "/account")
			p := b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
			if p.Status != 200 {
				t.Fatalf("sign-in: %d at %s", p.Status, p.URL)
			}
			stamp := regexp.MustCompile(`\d\d\.\d\d\.\d{4} \d\d:\d\d ([^\s<,]+)`)
			for lang, want := range map[string]string{"ru": tc.ru, "en": tc.en} {
				a := b.Get(env.URL + "/settings/activity?lang=" + lang)
				m := stamp.FindStringSubmatch(html.UnescapeString(a.Body))
				if a.Status != 200 || m == nil || m[1] != want || strings.Contains(a.Body, " UTC<") {
					t.Errorf("activity log (%s) stamps %v, want zone %q", lang, m, want)
				}
			}
			env.WaitTemplate(t, testPhone, "login_new_device")
			for _, e := range env.Server.Outbox.List() {
				if e.Template != "login_new_device" {
					continue
				}
				m := stamp.FindStringSubmatch(e.Message.Data["time"])
				if m == nil || m[1] != tc.ru || strings.Contains(e.Text, "UTC") && tc.zone == "" {
					t.Errorf("new-device notice time %q (text %q), want zone %q", e.Message.Data["time"], e.Text, tc.ru)
				}
			}
		})
	}
}
