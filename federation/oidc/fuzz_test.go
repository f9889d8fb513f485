package oidc

import (
	"testing"
	"unicode/utf8"

	"github.com/gosid/gosid/federation"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		f      federation.Field
		in, to string
	}{
		{federation.SNILS, "123-456-789 64", "12345678964"},
		{federation.Passport, "45 05 № 123456", "4505123456"},
		{federation.Phone, "8 (916) 000-00-01", "+79160000001"},
		{federation.BirthDate, "14.03.1985", "1985-03-14"},
		{federation.BirthDate, "1985-03-14", "1985-03-14"},
		{federation.FamilyName, "Иванов", "Иванов"},
	} {
		if got := Normalize(tc.f, tc.in); got != tc.to {
			t.Errorf("%s %q: %q, want %q", tc.f, tc.in, got, tc.to)
		}
	}
}

// FuzzClaims: whatever a bank sends, reading and normalising its claims
// neither panics nor turns valid text invalid.
func FuzzClaims(f *testing.F) {
	f.Add("snils", "123-456-789 64")
	f.Add("document.number", "45 05 123456")
	f.Add("birth_date", "14.03.1985")
	f.Fuzz(func(t *testing.T, name, v string) {
		claims := map[string]any{"snils": v, "document": map[string]any{"number": v}, name: v}
		for _, fl := range federation.Fields {
			got := Normalize(fl, value(claims, name))
			if utf8.ValidString(v) && !utf8.ValidString(got) {
				t.Fatalf("%s %q -> %q", fl, v, got)
			}
		}
	})
}
