package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gosid/gosid/claimsreq"
)

func TestLang(t *testing.T) {
	for _, tc := range []struct {
		name, query, cookie, accept, want string
	}{
		{"default", "", "", "", "ru"},
		{"query en", "en", "", "", "en"},
		{"query beats cookie", "ru", "en", "en", "ru"},
		{"cookie", "", "en", "ru", "en"},
		{"cookie beats header", "", "ru", "en-US,en;q=0.9", "ru"},
		{"unknown query ignored", "de", "en", "", "en"},
		{"unknown cookie ignored", "", "fr", "en", "en"},
		{"header en", "", "", "en-US,en;q=0.9", "en"},
		{"header ru", "", "", "ru-RU,ru;q=0.9,en-US;q=0.8", "ru"},
		{"header by quality", "", "", "en;q=0.5, ru;q=0.8", "ru"},
		{"header skips others", "", "", "de-DE,fr;q=0.9,en;q=0.3", "en"},
		{"header refuses q=0", "", "", "en;q=0, de", "ru"},
		{"header none known", "", "", "de, fr", "ru"},
		{"header case", "", "", "EN-gb", "en"},
		{"header garbage", "", "", ";;,q=,en;q=abc", "ru"},
		{"wildcard is not a choice", "", "", "*", "ru"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "/login"
			if tc.query != "" {
				target += "?lang=" + tc.query
			}
			req := httptest.NewRequest(http.MethodGet, target, nil)
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: LangCookie, Value: tc.cookie})
			}
			if tc.accept != "" {
				req.Header.Set("Accept-Language", tc.accept)
			}
			if got := Lang(req); got != tc.want {
				t.Errorf("Lang = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSetLang(t *testing.T) {
	r := newRenderer(t, true)
	for _, tc := range []struct {
		lang, have string
		set        bool
	}{{"en", "", true}, {"ru", "en", true}, {"en", "en", false}, {"de", "", false}, {"", "", false}} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/login", nil)
		if tc.have != "" {
			req.AddCookie(&http.Cookie{Name: LangCookie, Value: tc.have})
		}
		r.SetLang(rec, req, tc.lang)
		cs := rec.Result().Cookies()
		if !tc.set {
			if len(cs) != 0 {
				t.Errorf("SetLang(%q) with %q set %v", tc.lang, tc.have, cs)
			}
			continue
		}
		if len(cs) != 1 || cs[0].Name != LangCookie || cs[0].Value != tc.lang || cs[0].MaxAge <= 0 || !cs[0].Secure {
			t.Errorf("SetLang(%q): %v", tc.lang, cs)
		}
	}
}

func TestT(t *testing.T) {
	r := newRenderer(t, false)
	for _, tc := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"ru", "login.title", nil, "Вход"},
		{"en", "login.title", nil, "Sign in"},
		{"xx", "login.title", nil, "Вход"},
		{"en", "consent.lead", []any{"Портал"}, "Портал is asking for access to your data"},
		{"ru", "msg.code.sent", []any{"+7(916)***-**-84"}, "Мы отправили код подтверждения на +7(916)***-**-84"},
		// Extra arguments to a text without verbs are ignored.
		{"en", "msg.registration.done", []any{"x"}, "Your account has been created and you are signed in"},
		{"en", "no.such.key", nil, "no.such.key"},
	} {
		if got := r.T(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("T(%q, %q) = %q, want %q", tc.lang, tc.key, got, tc.want)
		}
	}
}

// TestTranslationsComplete: both languages have the same keys, no empty
// text, and the same printf verbs in the same order.
func TestTranslationsComplete(t *testing.T) {
	tr, err := loadTranslations(files)
	if err != nil {
		t.Fatal(err)
	}
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	ru, en := tr["ru"], tr["en"]
	for k, v := range ru {
		ev, ok := en[k]
		if !ok {
			t.Errorf("en.json lacks %q", k)
			continue
		}
		if strings.TrimSpace(v) == "" || strings.TrimSpace(ev) == "" {
			t.Errorf("%q is empty in ru or en", k)
		}
		if a, b := strings.Join(verbs.FindAllString(v, -1), " "), strings.Join(verbs.FindAllString(ev, -1), " "); a != b {
			t.Errorf("%q: verbs %q in ru, %q in en", k, a, b)
		}
	}
	for k := range en {
		if _, ok := ru[k]; !ok {
			t.Errorf("ru.json lacks %q", k)
		}
	}
}

// requiredKeys are the keys other packages pass to the Renderer (error
// pages, form errors, scope titles) or that templates build at run time.
var requiredKeys = []string{
	"mfa.title", "mfa.none", "err.mfa.method", "err.mfa.invalid", "err.mfa.replayed", "err.mfa.locked", "err.mfa.send_first",
	"err.mfa.recovery_invalid", "err.mfa.webauthn_failed", "err.mfa.exists", "err.mfa.no_contact", "msg.mfa.enabled",
	"msg.mfa.disabled", "msg.settings.saved", "msg.account.deleted", "msg.profile.submitted", "err.profile.busy",
	"err.field.invalid",
	"login.error.invalid", "login.error.locked", "login.error.rate", "login.error.required",
	"flow.error.title", "flow.error.expired", "csrf.error", "error.title", "error.generic", "error.not_found",
	"error.bad_request", "oauth.error", "oauth.error.message", "link.error.title", "link.error.expired",
	"logout.done.title", "logout.done.message", "logout.cancelled.title", "logout.cancelled.message",
	"logout.error.title", "logout.error.hint", "logout.error.client", "logout.error.redirect",
	"level.simplified", "level.standard", "level.confirmed", "message.continue",
	"err.field.too_long", "err.field.invalid_utf8", "err.field.control_chars",
	"err.name.required", "err.name.invalid_chars", "err.name.too_long", "err.name.mixed_scripts",
	"err.date.required", "err.date.format", "err.date.range",
	"err.contact.required", "err.contact.invalid", "err.consent.required",
	"err.password.required", "err.password.invalid", "err.password.too_short", "err.password.too_long",
	"err.password.need_cases", "err.password.need_digit", "err.password.need_special", "err.password.common",
	"err.password.sequence", "err.password.personal", "err.password.mismatch", "err.password.current_wrong",
	"err.password.same", "err.code.required", "err.code.invalid", "err.code.expired", "err.code.burned",
	"err.code.too_soon", "err.code.hourly_limit", "err.code.blocked", "err.registration.conflict",
	"err.flow.error.action", "err.csrf.error", "err.login.required", "err.login.invalid", "err.login.locked",
	"msg.code.sent", "msg.recovery.sent", "msg.registration.done", "msg.registration.done_link",
	"msg.recovery.done", "msg.password.changed",
}

func TestTranslationKeysUsedExist(t *testing.T) {
	tr, err := loadTranslations(files)
	if err != nil {
		t.Fatal(err)
	}
	keys := append([]string(nil), requiredKeys...)
	for _, s := range []string{"openid", "profile", "email", "phone", "offline_access", "verified_claims"} {
		keys = append(keys, "scope."+s+".title", "scope."+s+".desc")
	}
	// The consent page names each claim a claims request can ask for.
	for _, it := range claimsreq.AllItems() {
		keys = append(keys, claimsreq.LabelKey(it))
	}
	// Every literal key a template passes to t.
	use := regexp.MustCompile(`\bt\s+"([^"]+)"`)
	n := 0
	err = fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		for _, m := range use.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("found only %d uses of t in the templates; is the pattern right?", n)
	}
	for _, k := range keys {
		for _, lang := range languages {
			if _, ok := tr[lang][k]; !ok {
				t.Errorf("%s.json lacks %q", lang, k)
			}
		}
	}
}

func FuzzAcceptLanguage(f *testing.F) {
	for _, s := range []string{"", "ru", "en-US,en;q=0.9", "de;q=1,ru;q=0.1", ";q=", "en;q=1e400", ",,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if got := acceptLanguage(h); got != "" && !isLang(got) {
			t.Fatalf("acceptLanguage(%q) = %q", h, got)
		}
	})
}

// TestConsentEntry: the connected-services page names what a service may
// read in words, scopes and claims agreed to one by one alike.
func TestConsentEntry(t *testing.T) {
	r := newRenderer(t, true)
	for _, tc := range []struct{ lang, entry, want string }{
		{"en", "profile", "Full name"},
		{"en", "claim:given_name", "First name"},
		{"ru", "claim:verified_claims.snils", "СНИЛС, подтверждённый государственными реестрами"},
		{"en", "api", "api"},
		{"en", "claim:nickname", "claim:nickname"},
	} {
		if got := r.consentEntry(tc.lang, tc.entry); got != tc.want {
			t.Errorf("consentEntry(%s, %s) = %q, want %q", tc.lang, tc.entry, got, tc.want)
		}
	}
}
