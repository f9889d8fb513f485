package mfa_test

import (
	"regexp"
	"testing"

	"github.com/gosid/gosid/mfa"
)

func TestRecoveryCodes(t *testing.T) {
	list, err := mfa.NewRecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != mfa.RecoveryCodeCount {
		t.Fatalf("%d codes", len(list))
	}
	shape := regexp.MustCompile(`^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$`)
	seen := map[string]bool{}
	for _, c := range list {
		if !shape.MatchString(c) || seen[c] {
			t.Fatalf("bad or repeated code %q", c)
		}
		seen[c] = true
		if n := mfa.NormalizeRecoveryCode(c); n != c[:5]+c[6:] {
			t.Fatalf("normalize %q = %q", c, n)
		}
	}
	for in, want := range map[string]string{
		"abcde-fghjk": "ABCDEFGHJK", " ABCDE FGHJK ": "ABCDEFGHJK", "ABCDEFGHJK": "ABCDEFGHJK",
		"ABCDE-FGHJ": "", "ABCDE-FGHJKL": "", "ABCD0-FGHJK": "", "ABCDI-FGHJK": "", "": "", "ABCDE;FGHJK": "",
	} {
		if got := mfa.NormalizeRecoveryCode(in); got != want {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, want %q", in, got, want)
		}
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	a := mfa.HashRecoveryCode(key, "acct-1", "ABCDEFGHJK")
	if a == mfa.HashRecoveryCode(key, "acct-2", "ABCDEFGHJK") || a == mfa.HashRecoveryCode([]byte("other-key-other-key-other-key-xx"), "acct-1", "ABCDEFGHJK") {
		t.Fatal("the hash does not depend on the account and the key")
	}
	if a != mfa.HashRecoveryCode(key, "acct-1", "ABCDEFGHJK") {
		t.Fatal("the hash is not deterministic")
	}
}

func FuzzNormalizeRecoveryCode(f *testing.F) {
	f.Add("abcde-fghjk")
	f.Add("ЖЖЖЖЖ-ЖЖЖЖЖ")
	f.Fuzz(func(t *testing.T, s string) {
		n := mfa.NormalizeRecoveryCode(s)
		if n != "" && (len(n) != 10 || mfa.NormalizeRecoveryCode(n) != n) {
			t.Fatalf("%q -> %q", s, n)
		}
	})
}
