package sim

import "testing"

func TestValidSNILS(t *testing.T) {
	for _, tc := range []struct {
		snils string
		ok    bool
	}{
		{"11223344595", true},  // the textbook example, sum 95
		{"10058205299", true},  // sum 99: kept
		{"05023431600", true},  // sum 100 → 00
		{"01610339600", true},  // sum 101 → 00
		{"91098015500", true},  // sum 201 → 201 mod 101 = 100 → 00
		{"05210381401", true},  // sum 102 → 1
		{"11223344594", false}, // wrong check number
		{"05023431601", false},
		{"1122334459", false},   // 10 digits
		{"112233445955", false}, // 12 digits
		{"112-233-445", false},
		{"1122334459a", false},
	} {
		if got := validSNILS(tc.snils); got != tc.ok {
			t.Errorf("validSNILS(%q) = %v, want %v", tc.snils, got, tc.ok)
		}
	}
}

func TestValidINN(t *testing.T) {
	for _, tc := range []struct {
		inn string
		ok  bool
	}{
		{"770112345695", true},
		{"500289012300", true},
		{"770112345694", false}, // second check digit wrong
		{"770112345685", false}, // first check digit wrong
		{"7701123456", false},   // a company's 10 digits
		{"77011234569a", false},
		{"", false},
	} {
		if got := validINN(tc.inn); got != tc.ok {
			t.Errorf("validINN(%q) = %v, want %v", tc.inn, got, tc.ok)
		}
	}
}
