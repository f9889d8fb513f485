package post

import (
	"errors"
	"testing"
)

func TestParseCode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ABCDE-23456", "ABCDE23456"},
		{" abcde 23456 ", "ABCDE23456"},
		{"oil0o-xyzxy", "0110" + "0XYZXY"},
		{"ABCDE2345", ""},    // short
		{"ABCDE-234567", ""}, // long
		{"ABCDU-23456", ""},  // U is not in the alphabet
		{"АВСDE-23456", ""},  // Cyrillic look-alikes
		{"ABCDE_23456", ""},  // other separators
		{"", ""},
	} {
		got, err := ParseCode(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrCodeFormat) {
				t.Errorf("ParseCode(%q) = %q, %v; want a format error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseCode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for i := 0; i < 100; i++ {
		c := newCode()
		if got, err := ParseCode(FormatCode(c)); err != nil || got != c {
			t.Fatalf("round trip of %q: %q, %v", c, got, err)
		}
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"ABCDE-23456", "abcde 23456", "oiloo-xyzxy", "", "ÿÿÿÿÿ-ÿÿÿÿÿ", "-----------"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			return
		}
		if len(c) != codeLen {
			t.Fatalf("ParseCode(%q) = %q: not %d characters", s, c, codeLen)
		}
		if again, err := ParseCode(FormatCode(c)); err != nil || again != c {
			t.Fatalf("ParseCode(FormatCode(%q)) = %q, %v", c, again, err)
		}
	})
}
