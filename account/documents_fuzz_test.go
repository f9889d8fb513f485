package account

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var (
	elevenDigits   = regexp.MustCompile(`^\d{11}$`)
	twelveDigits   = regexp.MustCompile(`^\d{12}$`)
	formattedSNILS = regexp.MustCompile(`^\d{3}-\d{3}-\d{3} \d{2}$`)
	deptCodeForm   = regexp.MustCompile(`^\d{3}-\d{3}$`)
	fourDigits     = regexp.MustCompile(`^\d{4}$`)
	sixDigits      = regexp.MustCompile(`^\d{6}$`)
	licenceForm    = regexp.MustCompile(`^\d{2}(\d{2}|[АВЕКМНОРСТУХ]{2})\d{6}$`)
	nineDigits     = regexp.MustCompile(`^\d{9}$`)
	codeForm       = regexp.MustCompile(`^[a-z_]+(\.[a-z_0-9]+)+$`)
	fuzzBirth      = time.Date(1985, 3, 14, 0, 0, 0, 0, time.UTC)
	fuzzNow        = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	noControl      = regexp.MustCompile(`^[^\x00-\x1f]*$`)
)

// checkRefusal fails unless a refusal carries the field it was given, a
// well-formed code and no value.
func checkRefusal(t *testing.T, name, in, got string, fe *FieldError) {
	t.Helper()
	if got != "" || fe.Field != "f" || !codeForm.MatchString(fe.Code) {
		t.Fatalf("%s(%q) = %q, %+v", name, in, got, fe)
	}
}

func FuzzSNILS(f *testing.F) {
	for _, s := range []string{
		"112-233-445 95", "11223344595", "112 233 445 95", "001-001-998 57", "000-000-000 00",
		"112-233-445 96", "464-460-495 00", "1-1-2-2-3-3-4-4-5-9-5", "", "１１２", "112\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, fe := NormalizeSNILS("f", s)
		if fe != nil {
			checkRefusal(t, "NormalizeSNILS", s, d, fe)
			if FormatSNILS(s) != s {
				t.Fatalf("FormatSNILS changed refused input %q", s)
			}
			return
		}
		if !elevenDigits.MatchString(d) {
			t.Fatalf("NormalizeSNILS(%q) = %q", s, d)
		}
		if again, fe := NormalizeSNILS("f", d); fe != nil || again != d {
			t.Fatalf("NormalizeSNILS(%q) = %q, %v; want the fixed point %q", d, again, fe, d)
		}
		shown := FormatSNILS(s)
		if !formattedSNILS.MatchString(shown) {
			t.Fatalf("FormatSNILS(%q) = %q", s, shown)
		}
		if back, fe := NormalizeSNILS("f", shown); fe != nil || back != d {
			t.Fatalf("NormalizeSNILS(FormatSNILS(%q)) = %q, %v; want %q", s, back, fe, d)
		}
		// Any change to one digit of a checked number breaks it, unless it
		// lands at or below 001-001-998, where nothing is checked.
		if d[:9] > "001001998" {
			b := []byte(d)
			b[0] = '0' + (b[0]-'0'+1)%10
			if m := string(b); m[:9] > "001001998" {
				if _, fe := NormalizeSNILS("f", m); fe == nil {
					t.Fatalf("NormalizeSNILS accepts both %q and %q", d, m)
				}
			}
		}
	})
}

func FuzzINN(f *testing.F) {
	for _, s := range []string{
		"500100732259", "5001 0073 2259", "7707083893", "500100732258", "000000000000",
		"", "50010073225O", "ИНН 500100732259", "5001007322590",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, fe := NormalizeINN("f", s)
		if fe != nil {
			checkRefusal(t, "NormalizeINN", s, d, fe)
			return
		}
		if !twelveDigits.MatchString(d) {
			t.Fatalf("NormalizeINN(%q) = %q", s, d)
		}
		if again, fe := NormalizeINN("f", d); fe != nil || again != d {
			t.Fatalf("NormalizeINN(%q) = %q, %v; want the fixed point %q", d, again, fe, d)
		}
		// A single wrong digit anywhere is always caught by the check digits.
		for i := range d {
			b := []byte(d)
			b[i] = '0' + (b[i]-'0'+1)%10
			if _, fe := NormalizeINN("f", string(b)); fe == nil {
				t.Fatalf("NormalizeINN accepts both %q and %q", d, b)
			}
		}
	})
}

func FuzzPassport(f *testing.F) {
	f.Add("45 06", "123456", "15.04.2020", "ГУ МВД России по г. Москве", "770001")
	f.Add("4506", "000101", "2020-04-15", "ОВД", "770-001")
	f.Add("45-06", "12345", "31.02.2020", "<b>", "77-0001")
	f.Add("", "", "", "", "")
	f.Add("45 06", "123456", "01.10.1997", "ТП № 2 ОУФМС «Невский» (СПб)", "780 002")
	f.Fuzz(func(t *testing.T, series, number, issue, issuedBy, dept string) {
		in := PassportInput{Series: series, Number: number, IssueDate: issue, IssuedBy: issuedBy, DeptCode: dept}
		for _, birth := range []time.Time{{}, fuzzBirth} {
			p, errs := CheckPassport(in, birth, fuzzNow)
			if len(errs) > 0 {
				if p != (Passport{}) {
					t.Fatalf("refused passport came back filled: %+v", p)
				}
				for _, fe := range errs {
					if !strings.HasPrefix(fe.Field, "passport_") || !codeForm.MatchString(fe.Code) {
						t.Fatalf("bad error %+v", fe)
					}
				}
				continue
			}
			if !fourDigits.MatchString(p.Series) || !sixDigits.MatchString(p.Number) || !deptCodeForm.MatchString(p.DeptCode) {
				t.Fatalf("CheckPassport(%+v) = %+v", in, p)
			}
			if p.IssueDate.Before(passportIntroduced) || p.IssueDate.After(fuzzNow) {
				t.Fatalf("issue date %v out of bounds", p.IssueDate)
			}
			if !utf8.ValidString(p.IssuedBy) || !noControl.MatchString(p.IssuedBy) ||
				strings.Contains(p.IssuedBy, "  ") || strings.TrimSpace(p.IssuedBy) != p.IssuedBy ||
				strings.ContainsAny(p.IssuedBy, "<>&") {
				t.Fatalf("issued by %q breaks an invariant", p.IssuedBy)
			}
			again, errs := CheckPassport(PassportInput{
				Series: p.Series, Number: p.Number, IssueDate: p.IssueDate.Format("02.01.2006"),
				IssuedBy: p.IssuedBy, DeptCode: p.DeptCode,
			}, birth, fuzzNow)
			if errs != nil || again != p {
				t.Fatalf("not a fixed point: %+v -> %+v, %v", p, again, errs)
			}
		}
	})
}

func FuzzDeptCode(f *testing.F) {
	for _, s := range []string{"770-001", "770001", "770 001", "77-0001", "", "770--001", "７７０-001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, fe := NormalizeDeptCode("f", s)
		if fe != nil {
			checkRefusal(t, "NormalizeDeptCode", s, d, fe)
			return
		}
		if !deptCodeForm.MatchString(d) {
			t.Fatalf("NormalizeDeptCode(%q) = %q", s, d)
		}
		if again, fe := NormalizeDeptCode("f", d); fe != nil || again != d {
			t.Fatalf("NormalizeDeptCode(%q) = %q, %v", d, again, fe)
		}
		if bare, fe := NormalizeDeptCode("f", strings.Replace(d, "-", "", 1)); fe != nil || bare != d {
			t.Fatalf("NormalizeDeptCode without the dash = %q, %v", bare, fe)
		}
	})
}

func FuzzDates(f *testing.F) {
	for _, s := range []string{
		"14.03.1985", "1985-03-14", "29.02.2000", "29.02.2001", "31.04.1990", "22.11.2026",
		"23.11.2026", "01.01.1876", "aa.bb.cccc", "1985-03-14T00:00:00Z", "+1985-03-1", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, fe := ParseDate("f", s)
		if fe != nil {
			if !d.IsZero() || (fe.Code != "date.required" && fe.Code != "date.format") {
				t.Fatalf("ParseDate(%q) = %v, %+v", s, d, fe)
			}
			if _, fe2 := ParseIssueDate("f", s, fuzzNow); codeOf(fe2) != fe.Code {
				t.Fatalf("ParseIssueDate(%q) = %v; ParseDate said %v", s, fe2, fe)
			}
			return
		}
		if d != dateOf(d) {
			t.Fatalf("ParseDate(%q) = %v, not a bare date", s, d)
		}
		// Both written forms parse back to the same day.
		for _, layout := range []string{"02.01.2006", "2006-01-02"} {
			if back, fe := ParseDate("f", d.Format(layout)); fe != nil || !back.Equal(d) {
				t.Fatalf("ParseDate(%q) round trip through %q: %v, %v", s, layout, back, fe)
			}
		}
		issue, fe := ParseIssueDate("f", s, fuzzNow)
		switch {
		case fe == nil:
			if !issue.Equal(d) || issue.After(fuzzNow) || issue.Before(fuzzNow.AddDate(-150, 0, -1)) {
				t.Fatalf("ParseIssueDate(%q) = %v", s, issue)
			}
		case fe.Code == "date.future":
			if !d.After(dateOf(fuzzNow)) {
				t.Fatalf("ParseIssueDate(%q) called %v the future", s, d)
			}
		case fe.Code == "date.range":
			if !d.Before(dateOf(fuzzNow).AddDate(-150, 0, 0)) {
				t.Fatalf("ParseIssueDate(%q) called %v too old", s, d)
			}
		default:
			t.Fatalf("ParseIssueDate(%q) = %+v after ParseDate accepted it", s, fe)
		}
		// ParseBirthDate reads the same two forms.
		if b, fe := ParseBirthDate("f", s, fuzzNow); fe == nil && !b.Equal(d) {
			t.Fatalf("ParseBirthDate(%q) = %v, ParseDate %v", s, b, d)
		} else if fe != nil && fe.Code != "date.range" {
			t.Fatalf("ParseBirthDate(%q) = %+v after ParseDate accepted it", s, fe)
		}
	})
}

func FuzzDriverLicence(f *testing.F) {
	for _, s := range []string{"77 12 345678", "77 АВ 123456", "77 ab 123456", "77 А1 123456", "", "77\u00a012 345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, fe := NormalizeDriverLicence("f", s)
		if fe != nil {
			checkRefusal(t, "NormalizeDriverLicence", s, d, fe)
			return
		}
		if !licenceForm.MatchString(d) {
			t.Fatalf("NormalizeDriverLicence(%q) = %q", s, d)
		}
		if again, fe := NormalizeDriverLicence("f", FormatDriverLicence(d)); fe != nil || again != d {
			t.Fatalf("round trip of %q through %q: %q, %v", d, FormatDriverLicence(d), again, fe)
		}
	})
}

func FuzzForeignPassport(f *testing.F) {
	for _, s := range []string{"75 1234567", "751234567", "75 123456", "", "75-12-34-567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, fe := NormalizeForeignPassport("f", s)
		if fe != nil {
			checkRefusal(t, "NormalizeForeignPassport", s, d, fe)
			return
		}
		if !nineDigits.MatchString(d) {
			t.Fatalf("NormalizeForeignPassport(%q) = %q", s, d)
		}
		if again, fe := NormalizeForeignPassport("f", FormatForeignPassport(d)); fe != nil || again != d {
			t.Fatalf("round trip of %q: %q, %v", d, again, fe)
		}
	})
}

func FuzzText(f *testing.F) {
	for _, s := range []string{
		"ГОР. МОСКВА", "  ул.\u00a0 Мясницкая ", "ОВД\u202e", "<b>", "12", "", "\xff", "ТП № 2 «Невский»",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, fn := range map[string]func(string, string) (string, *FieldError){
			"NormalizeIssuedBy": NormalizeIssuedBy, "NormalizeBirthplace": NormalizeBirthplace,
		} {
			got, fe := fn("f", s)
			if fe != nil {
				checkRefusal(t, name, s, got, fe)
				continue
			}
			if !utf8.ValidString(got) || !noControl.MatchString(got) || strings.Contains(got, "  ") ||
				strings.TrimSpace(got) != got || strings.ContainsAny(got, "<>&\u00a0") || utf8.RuneCountInString(got) > 250 {
				t.Fatalf("%s(%q) = %q breaks an invariant", name, s, got)
			}
			if again, fe := fn("f", got); fe != nil || again != got {
				t.Fatalf("%s(%q) = %q, %v; want the fixed point %q", name, got, again, fe, got)
			}
		}
	})
}
