package notify

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// sampleData is data for every template, as the login flows send it.
var sampleData = map[string]map[string]string{
	"otp":           {"code": "481516", "minutes": "5", "purpose": "register"},
	"recovery_code": {"code": "481516", "minutes": "5"},
	"email_confirm": {"code": "481516", "link": "https://id.example/register/link?token=Zm9v&x=1", "minutes": "10", "hours": "24"},
	"register_existing": {
		"login_url": "https://id.example/login", "recover_url": "https://id.example/recovery",
	},
	"login_locked":        {"minutes": "15", "recover_url": "https://id.example/recovery"},
	"login_new_device":    {"device": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "ip": "203.0.113.7", "time": "01.03.2025 10:00 UTC"},
	"password_changed":    nil,
	"security_changed":    {"change": "mfa_enabled", "time": "01.03.2025 10:00 UTC"},
	"verification_done":   nil,
	"identity_confirmed":  {"cause": "bank", "by": "Demo Bank"},
	"verification_failed": nil,
}

func TestTemplatesAreTheSameInEveryLanguage(t *testing.T) {
	if got := Languages(); !slices.Equal(got, []string{"en", "ru"}) {
		t.Fatalf("languages %v", got)
	}
	want := []string{"email_confirm", "identity_confirmed", "login_locked", "login_new_device", "otp", "password_changed", "register_existing", "security_changed", "verification_done", "verification_failed"}
	for _, lang := range Languages() {
		if got := Templates(lang); !slices.Equal(got, want) {
			t.Errorf("%s templates %v, want %v", lang, got, want)
		}
	}
	for name := range aliases {
		if _, ok := sampleData[name]; !ok {
			t.Errorf("alias %s has no sample data", name)
		}
	}
}

func TestRenderEveryTemplate(t *testing.T) {
	names := slices.Sorted(maps.Keys(sampleData))
	for _, lang := range Languages() {
		for _, name := range names {
			for _, ch := range []Channel{ChannelSMS, ChannelEmail} {
				t.Run(fmt.Sprintf("%s/%s/%s", lang, name, ch), func(t *testing.T) {
					to := map[Channel]string{ChannelSMS: "+79161234567", ChannelEmail: "ivan@example.com"}[ch]
					m := Message{Channel: ch, To: to, Template: name, Lang: lang, Data: sampleData[name]}
					r, err := Render(m)
					if err != nil {
						t.Fatal(err)
					}
					checkRendered(t, lang, m, r)
				})
			}
		}
	}
}

func checkRendered(t *testing.T, lang string, m Message, r Rendered) {
	t.Helper()
	if r.Channel != m.Channel || r.To != m.To || r.Text == "" {
		t.Fatalf("rendered %+v", r)
	}
	for _, part := range []string{r.Subject, r.Text, r.HTML} {
		for _, bad := range []string{"<no value>", "{{", "}}", "%!"} {
			if strings.Contains(part, bad) {
				t.Errorf("%q in %q", bad, part)
			}
		}
		if !utf8.ValidString(part) {
			t.Errorf("invalid UTF-8")
		}
	}
	cyrillic := strings.IndexFunc(r.Subject+r.Text, func(c rune) bool { return unicode.Is(unicode.Cyrillic, c) }) >= 0
	if cyrillic != (lang == "ru") {
		t.Errorf("%s text with Cyrillic=%v: %q", lang, cyrillic, r.Subject+r.Text)
	}
	if code := m.Data["code"]; code != "" && !strings.Contains(r.Text, code) {
		t.Errorf("text lacks the code: %q", r.Text)
	}
	switch m.Channel {
	case ChannelSMS:
		if r.Subject != "" || r.HTML != "" {
			t.Errorf("an SMS with a subject or HTML: %+v", r)
		}
		// Two segments at most (UCS-2: 134 characters; GSM-7: 306).
		if n := utf8.RuneCountInString(r.Text); (lang == "ru" && n > 134) || n > 160 {
			t.Errorf("SMS of %d characters: %q", n, r.Text)
		}
		if strings.Contains(r.Text, "http") || strings.Contains(r.Text, "\n") {
			t.Errorf("an SMS with a link or a line break: %q", r.Text)
		}
	case ChannelEmail:
		if r.Subject == "" || strings.ContainsAny(r.Subject, "\r\n") || len(r.Subject) > 120 {
			t.Errorf("subject %q", r.Subject)
		}
		if !strings.HasPrefix(r.HTML, "<!DOCTYPE html>") || !strings.Contains(r.HTML, `<html lang="`+lang+`">`) {
			t.Errorf("html %q", r.HTML)
		}
		if code := m.Data["code"]; code != "" && !strings.Contains(r.HTML, code) {
			t.Errorf("html lacks the code")
		}
		for _, k := range []string{"link", "login_url", "recover_url"} {
			if v := m.Data[k]; v != "" && (!strings.Contains(r.Text, v) ||
				!strings.Contains(r.HTML, `href="`+strings.ReplaceAll(v, "&", "&amp;")+`"`)) {
				t.Errorf("%s %q missing from a body", k, v)
			}
		}
	}
}

func TestRenderOTPPurposes(t *testing.T) {
	seen := map[string]string{}
	for _, lang := range Languages() {
		for _, purpose := range []string{"register", "recover", "confirm_contact", "login", ""} {
			for _, ch := range []Channel{ChannelSMS, ChannelEmail} {
				m := Message{Channel: ch, To: "+79161234567", Template: "otp", Lang: lang,
					Data: map[string]string{"code": "123456", "minutes": "5", "purpose": purpose}}
				r, err := Render(m)
				if err != nil {
					t.Fatal(err)
				}
				key := r.Subject + r.Text
				if other, dup := seen[key]; dup {
					t.Errorf("%s/%s/%s renders the same as %s", lang, purpose, ch, other)
				}
				seen[key] = lang + "/" + purpose + "/" + string(ch)
			}
		}
	}
	r, err := Render(Message{Channel: ChannelSMS, To: "+79161234567", Template: "otp",
		Data: map[string]string{"code": "123456", "minutes": "5"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Код gosid: 123456. Никому не сообщайте его. Действует 5 минут."; r.Text != want {
		t.Errorf("SMS %q, want %q", r.Text, want)
	}
	if n := utf8.RuneCountInString(r.Text); n > 70 {
		t.Errorf("the plain code SMS takes two segments (%d characters)", n)
	}
}

func TestRecoveryCodeIsOTPToRecover(t *testing.T) {
	for _, lang := range Languages() {
		data := map[string]string{"code": "123456", "minutes": "5"}
		a, err := Render(Message{Channel: ChannelEmail, To: "a@example.com", Template: "recovery_code", Lang: lang, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Render(Message{Channel: ChannelEmail, To: "a@example.com", Template: "otp", Lang: lang,
			Data: map[string]string{"code": "123456", "minutes": "5", "purpose": "recover"}})
		if err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("%s: recovery_code differs from otp/recover", lang)
		}
		if _, ok := data["purpose"]; ok {
			t.Error("Render changed the caller's data")
		}
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	evil := `<script>alert(1)</script>"'&`
	r, err := Render(Message{Channel: ChannelEmail, To: "a@example.com", Template: "login_new_device", Lang: "en",
		Data: map[string]string{"device": evil, "ip": evil, "time": evil}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<script>") || !strings.Contains(r.HTML, "&lt;script&gt;") {
		t.Errorf("device not escaped in HTML")
	}
	if !strings.Contains(r.Text, evil) {
		t.Errorf("the text part should carry the value as it is")
	}
	r, err = Render(Message{Channel: ChannelEmail, To: "a@example.com", Template: "email_confirm",
		Data: map[string]string{"code": "1", "link": "javascript:alert(1)", "minutes": "10", "hours": "24"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, `href="javascript:`) {
		t.Errorf("a javascript: link reached an href")
	}
}

func TestRenderLanguages(t *testing.T) {
	data := map[string]string{"code": "123456", "minutes": "5"}
	for lang, wantCyrillic := range map[string]bool{"": true, "ru": true, "RU": true, "ru-RU": true, "en": false, "en-GB": false, "en_US": false} {
		r, err := Render(Message{Channel: ChannelSMS, To: "+79161234567", Template: "otp", Lang: lang, Data: data})
		if err != nil {
			t.Fatalf("%q: %v", lang, err)
		}
		if got := strings.Contains(r.Text, "Код"); got != wantCyrillic {
			t.Errorf("%q rendered %q", lang, r.Text)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	ok := Message{Channel: ChannelSMS, To: "+79161234567", Template: "otp", Data: map[string]string{"code": "1", "minutes": "5"}}
	tests := []struct {
		name   string
		change func(*Message)
		want   error
	}{
		{"unknown template", func(m *Message) { m.Template = "nope" }, ErrUnknownTemplate},
		{"shared part", func(m *Message) { m.Template = "_footer" }, ErrUnknownTemplate},
		{"unknown language", func(m *Message) { m.Lang = "de" }, ErrUnknownLang},
		{"missing code", func(m *Message) { m.Data = map[string]string{"minutes": "5"} }, nil},
		{"nil data", func(m *Message) { m.Data = nil }, nil},
		{"unknown channel", func(m *Message) { m.Channel = "pigeon" }, nil},
		{"no recipient", func(m *Message) { m.To = "" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.change(&m)
			_, err := Render(m)
			if err == nil {
				t.Fatal("rendered")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("%v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Render(ok); err != nil {
		t.Fatal(err)
	}
}

func TestPlural(t *testing.T) {
	ru := []string{"минуту", "минуты", "минут"}
	en := []string{"minute", "minutes"}
	tests := []struct {
		n     string
		forms []string
		want  string
	}{
		{"1", ru, "минуту"}, {"2", ru, "минуты"}, {"4", ru, "минуты"}, {"5", ru, "минут"},
		{"11", ru, "минут"}, {"12", ru, "минут"}, {"14", ru, "минут"}, {"21", ru, "минуту"},
		{"22", ru, "минуты"}, {"24", ru, "минуты"}, {"0", ru, "минут"}, {"111", ru, "минут"},
		{"x", ru, "минут"}, {"1", en, "minute"}, {"0", en, "minutes"}, {"24", en, "minutes"},
	}
	for _, tt := range tests {
		if got, err := plural(tt.n, tt.forms...); err != nil || got != tt.want {
			t.Errorf("plural(%s, %v) = %q, %v; want %q", tt.n, tt.forms, got, err, tt.want)
		}
	}
	if _, err := plural("1", "one"); err == nil {
		t.Error("one form accepted")
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"+79161234567":     "+7******4567",
		"ivan@example.com": "i***@example.com",
		"иван@пример.рф":   "и***@пример.рф",
		"@example.com":     "***@example.com",
		"12345":            "***",
		"":                 "***",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMessagePrintsWithoutData(t *testing.T) {
	m := Message{Channel: ChannelSMS, To: "+79161234567", Template: "otp", Data: map[string]string{"code": "902211", "minutes": "5"}}
	r, err := Render(m)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "msg", m, "rendered", r)
	out := buf.String() + fmt.Sprint(m) + fmt.Sprintf("%v %+v", m, r)
	for _, secret := range []string{"902211", "+79161234567"} {
		if strings.Contains(out, secret) {
			t.Errorf("%s printed: %s", secret, out)
		}
	}
}

// TestIdentityConfirmedSaysHow: the notice names the way the identity was
// confirmed (a bank, a service centre, a Post letter), never "a bank" for
// the other two.
func TestIdentityConfirmedSaysHow(t *testing.T) {
	for _, tc := range []struct{ cause, by, lang, want, not string }{
		{"bank", "Демо-банк", "ru", "через банк «Демо-банк»", "центре"},
		{"centre", "МФЦ Тверской", "ru", "в центре обслуживания «МФЦ Тверской»", "банк"},
		{"post", "Почта России", "ru", "кодом из письма Почты России", "банк"},
		{"post", "Russian Post", "en", "Russian Post letter", "through Russian Post"},
	} {
		for _, ch := range []Channel{ChannelSMS, ChannelEmail} {
			to := map[Channel]string{ChannelSMS: "+79161234567", ChannelEmail: "ivan@example.com"}[ch]
			r, err := Render(Message{Channel: ch, To: to, Template: "identity_confirmed", Lang: tc.lang,
				Data: map[string]string{"cause": tc.cause, "by": tc.by}})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.Text, tc.want) || strings.Contains(r.Text, tc.not) {
				t.Errorf("%s/%s/%s: %q", tc.cause, tc.lang, ch, r.Text)
			}
		}
	}
}

// TestBankUnlinkedNotice: unlinking a bank is told in words, with the bank.
func TestBankUnlinkedNotice(t *testing.T) {
	for lang, want := range map[string]string{"ru": "отвязан банк «Демо-банк»", "en": "The bank Демо-банк has been unlinked"} {
		r, err := Render(Message{Channel: ChannelEmail, To: "ivan@example.com", Template: "security_changed", Lang: lang,
			Data: map[string]string{"change": "bank_unlinked", "bank": "Демо-банк", "time": "03.12.2026 23:00 МСК"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Text, want) {
			t.Errorf("%s: %q", lang, r.Text)
		}
		s, err := Render(Message{Channel: ChannelSMS, To: "+79161234567", Template: "security_changed", Lang: lang,
			Data: map[string]string{"change": "bank_unlinked", "bank": "Демо-банк", "time": "03.12.2026 23:00 МСК"}})
		if err != nil || !strings.Contains(s.Text, "Демо-банк") {
			t.Errorf("%s sms: %q %v", lang, s.Text, err)
		}
	}
}
