package account

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var normalizedPhone = regexp.MustCompile(`^\+7\d{10}$`)

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{
		"+7 (912) 345-67-89", "89123456789", "7-912-345-67-89", "8.912.345.67.89",
		"+89123456789", "+7 (912 345-67-89", "(+7) 912", "", "+", "9123456789",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := NormalizePhone(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPhone) || p != "" {
				t.Fatalf("NormalizePhone(%q) = %q, %v", s, p, err)
			}
			return
		}
		if !normalizedPhone.MatchString(p) {
			t.Fatalf("NormalizePhone(%q) = %q, not +7 and 10 digits", s, p)
		}
		if again, err := NormalizePhone(p); err != nil || again != p {
			t.Fatalf("NormalizePhone(%q) = %q, %v; want the fixed point %q", p, again, err, p)
		}
		if back, err := NormalizePhone(FormatPhone(p)); err != nil || back != p {
			t.Fatalf("NormalizePhone(FormatPhone(%q)) = %q, %v", p, back, err)
		}
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"ivan@example.ru", " Ivan.Petrov@Example.RU ", "иван@почта.рф", "user@xn--p1ai.xn--p1ai",
		"\"q\"@example.ru", "a..b@example.ru", "a@b", "a@@b.ru", "İ@K.ru", "ǅ@ǅǅ.ǅǅ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := NormalizeEmail(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidEmail) || e != "" {
				t.Fatalf("NormalizeEmail(%q) = %q, %v", s, e, err)
			}
			return
		}
		if again, err := NormalizeEmail(e); err != nil || again != e {
			t.Fatalf("NormalizeEmail(%q) = %q, %v; want the fixed point %q", e, again, err, e)
		}
		if len(e) > 254 || strings.Count(e, "@") != 1 || !utf8.ValidString(e) ||
			strings.ContainsAny(e, " \t\r\n\"") || strings.Contains(e, "..") {
			t.Fatalf("NormalizeEmail(%q) = %q breaks an invariant", s, e)
		}
	})
}

func FuzzClassifyLogin(f *testing.F) {
	for _, s := range []string{
		"+7 (912) 345-67-89", "89123456789", "Ivan@Example.RU", "123-456-789 01",
		"12345678901", "791-234-567 89", "", "ivan", "+12345678901",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, norm, err := ClassifyLogin(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidLogin) || kind != "" || norm != "" {
				t.Fatalf("ClassifyLogin(%q) = %q, %q, %v", s, kind, norm, err)
			}
			return
		}
		// The fixed point of a SNILS is its written form: bare, 11 digits
		// starting with 7 or 8 read as a phone number (see ClassifyLogin).
		again := norm
		switch kind {
		case LoginPhone:
			if !normalizedPhone.MatchString(norm) {
				t.Fatalf("ClassifyLogin(%q) = phone %q", s, norm)
			}
		case LoginEmail:
		case LoginSNILS:
			if len(norm) != 11 || strings.Trim(norm, "0123456789") != "" {
				t.Fatalf("ClassifyLogin(%q) = snils %q", s, norm)
			}
			again = norm[:3] + "-" + norm[3:6] + "-" + norm[6:9] + " " + norm[9:]
		default:
			t.Fatalf("ClassifyLogin(%q) kind %q", s, kind)
		}
		k2, n2, err := ClassifyLogin(again)
		if err != nil || k2 != kind || n2 != norm {
			t.Fatalf("ClassifyLogin(%q) = %q, %q, %v; want %q, %q", again, k2, n2, err, kind, norm)
		}
	})
}
