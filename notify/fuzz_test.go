package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRenderData feeds outside values (a User-Agent, an address) into the
// templates: rendering never panics, and no value reaches the HTML part
// unescaped.
func FuzzRenderData(f *testing.F) {
	f.Add("Mozilla/5.0", "203.0.113.7", "ivan@example.com")
	f.Add("<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "a@b")
	f.Add("\x00\xff{{.code}}", "javascript:alert(1)", "+79161234567")
	f.Fuzz(func(t *testing.T, device, ip, to string) {
		// The marker can reach the HTML raw only if escaping failed.
		const marker = "<gosid-fuzz>"
		for _, lang := range []string{"ru", "en"} {
			r, err := Render(Message{Channel: ChannelEmail, To: to, Template: "login_new_device", Lang: lang,
				Data: map[string]string{"device": marker + device, "ip": ip + marker, "time": "01.03.2025 10:00 UTC"}})
			if to == "" {
				if err == nil {
					t.Fatal("rendered without a recipient")
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(r.HTML, marker) {
				t.Fatalf("%q or %q reached the HTML unescaped", device, ip)
			}
			if strings.ContainsAny(r.Subject, "\r\n") {
				t.Fatalf("subject %q", r.Subject)
			}
		}
	})
}

// FuzzMask: never a panic, never the whole contact, always valid UTF-8 for
// valid input.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"+79161234567", "ivan@example.com", "@", "", "иван@пример.рф", "a@b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := Mask(s)
		// A phone shows its first two and last four characters, nothing
		// between. (Comparing m with s was wrong: a contact with "*" in
		// the middle masks to itself without revealing anything; the
		// fuzzer found "и0**0000", kept in testdata/fuzz/FuzzMask.)
		if r := []rune(s); len(r) >= 8 && !strings.Contains(s, "@") {
			want := string(r[:2]) + strings.Repeat("*", len(r)-6) + string(r[len(r)-4:])
			if m != want {
				t.Fatalf("Mask(%q) = %q, want %q", s, m, want)
			}
		}
		if utf8.ValidString(s) && !utf8.ValidString(m) {
			t.Fatalf("Mask(%q) = %q, invalid UTF-8", s, m)
		}
	})
}
