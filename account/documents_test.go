package account

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// testNow is "today" for every date test: 22 November 2026, 12:00 Moscow.
var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.FixedZone("MSK", 3*3600))

func mustDate(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

// codeOf returns the code of fe, or "" for nil.
func codeOf(fe *FieldError) string {
	if fe == nil {
		return ""
	}
	return fe.Code
}

// normalizeCase is one input to a func(field, s) (string, *FieldError) and
// its expected value and code; want is "" when code is not.
type normalizeCase struct {
	in, want, code string
}

func runNormalize(t *testing.T, name string, fn func(field, s string) (string, *FieldError), tests []normalizeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, fe := fn("f", tt.in)
			if got != tt.want || codeOf(fe) != tt.code {
				t.Fatalf("%s(%q) = %q, %q; want %q, %q", name, tt.in, got, codeOf(fe), tt.want, tt.code)
			}
			if fe != nil && fe.Field != "f" {
				t.Fatalf("%s(%q) reported field %q", name, tt.in, fe.Field)
			}
		})
	}
}

func TestNormalizeSNILS(t *testing.T) {
	runNormalize(t, "NormalizeSNILS", NormalizeSNILS, []normalizeCase{
		{"112-233-445 95", "11223344595", ""},
		{"11223344595", "11223344595", ""},
		{"112 233 445 95", "11223344595", ""},
		{"112-233-445-95", "11223344595", ""},
		{"  112-233-445 95\t", "11223344595", ""},
		{"526-018-159 61", "52601815961", ""}, // sum 162: 162 mod 101
		{"114-402-426 99", "11440242699", ""}, // sum 99: the sum itself
		{"302-243-306 00", "30224330600", ""}, // sum 100
		{"161-302-051 00", "16130205100", ""}, // sum 101
		{"464-460-495 00", "46446049500", ""}, // sum 201: mod 101 is 100
		{"701-687-731 00", "70168773100", ""}, // sum 202: mod 101 is 0
		{"495-897-983 07", "49589798307", ""},
		{"893-948-280 91", "89394828091", ""},
		{"669-208-441 28", "66920844128", ""},
		{"001-001-998 00", "00100199800", ""}, // up to 001-001-998: no check
		{"001-001-998 57", "00100199857", ""},
		{"000-000-001 42", "00000000142", ""},
		{"001-001-999 65", "00100199965", ""}, // first number with a check

		{"", "", "snils.required"},
		{"  ", "", "snils.required"},
		{"112-233-445 96", "", "snils.checksum"},
		{"112-233-445 59", "", "snils.checksum"},
		{"121-233-445 95", "", "snils.checksum"}, // transposed digits
		{"302-243-306 100", "", "snils.format"},
		{"464-460-495 01", "", "snils.checksum"},
		{"001-001-999 00", "", "snils.checksum"},
		{"000-000-000 00", "", "snils.format"},
		{"112-233-445 9", "", "snils.format"},
		{"112-233-445 955", "", "snils.format"},
		{"112233445", "", "snils.format"}, // the "nine digits" of 003:29
		{"112_233_445 95", "", "snils.format"},
		{"112.233.445 95", "", "snils.format"},
		{"112-233-445 9O", "", "snils.format"},
		{"112-233-445\t95", "", "snils.format"},
		{"１１２-233-445 95", "", "snils.format"},
		{"+11223344595", "", "snils.format"},
		{"1122334459\x005", "", "snils.format"},
		{strings.Repeat(" ", 60) + "11223344595", "11223344595", ""}, // trimmed first
		{"1" + strings.Repeat("-", 64) + "1223344595", "", "snils.format"},
	})
}

func TestSNILSCheckMatchesEveryBody(t *testing.T) {
	// A brute check of the rule against a direct reading of it for every
	// possible weighted sum (0..405).
	for sum := 0; sum <= 405; sum++ {
		want := sum
		switch {
		case sum == 100 || sum == 101:
			want = 0
		case sum > 101:
			want = sum % 101
			if want == 100 {
				want = 0
			}
		}
		body := snilsBodyWithSum(sum)
		if got := snilsCheck(body); got != want {
			t.Fatalf("sum %d (%s): check %d, want %d", sum, body, got, want)
		}
	}
}

// snilsBodyWithSum builds nine digits whose weighted sum is sum (≤ 405).
func snilsBodyWithSum(sum int) string {
	b := []byte("000000000")
	for i := 0; i < 9; i++ {
		w := 9 - i
		d := min(sum/w, 9)
		b[i] = byte('0' + d)
		sum -= d * w
	}
	return string(b)
}

func TestFormatSNILS(t *testing.T) {
	for in, want := range map[string]string{
		"11223344595":    "112-233-445 95",
		"112 233 445 95": "112-233-445 95",
		"112-233-445 95": "112-233-445 95",
		"00100199857":    "001-001-998 57",
		"11223344596":    "11223344596", // bad check digits: unchanged
		"snils":          "snils",
		"":               "",
	} {
		if got := FormatSNILS(in); got != want {
			t.Errorf("FormatSNILS(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeINN(t *testing.T) {
	runNormalize(t, "NormalizeINN", NormalizeINN, []normalizeCase{
		{"500100732259", "500100732259", ""},
		{" 500100732259 ", "500100732259", ""},
		{"5001 0073 2259", "500100732259", ""},
		{"5001-007322-59", "500100732259", ""},
		{"784604753702", "784604753702", ""},
		{"784751533680", "784751533680", ""},
		{"785048055649", "785048055649", ""},
		{"776984355727", "776984355727", ""},
		{"772715347015", "772715347015", ""},
		{"505674625202", "505674625202", ""},
		{"770708389324", "770708389324", ""},

		{"", "", "inn.required"},
		{"500100732258", "", "inn.checksum"}, // 12th digit wrong
		{"500100732269", "", "inn.checksum"}, // 11th digit wrong
		{"500100732295", "", "inn.checksum"}, // check digits swapped
		{"050100732259", "", "inn.checksum"},
		{"7707083893", "", "inn.legal_entity"}, // Sberbank
		{"77 0708 3893", "", "inn.legal_entity"},
		{"000000000000", "", "inn.format"},
		{"50010073225", "", "inn.format"},
		{"5001007322590", "", "inn.format"},
		{"50010073225O", "", "inn.format"},
		{"500100732259.", "", "inn.format"},
		{"500100/732259", "", "inn.format"},
		{"ИНН500100732259", "", "inn.format"},
		{"５００100732259", "", "inn.format"},
		{"5001007322\n59", "", "inn.format"},
	})
}

func TestNormalizePassportSeries(t *testing.T) {
	runNormalize(t, "NormalizePassportSeries", NormalizePassportSeries, []normalizeCase{
		{"4506", "4506", ""},
		{"45 06", "4506", ""},
		{" 4506 ", "4506", ""},
		{"0000", "0000", ""},
		{"", "", "passport.series.required"},
		{"450", "", "passport.series.format"},
		{"45066", "", "passport.series.format"},
		{"4 506", "", "passport.series.format"},
		{"450 6", "", "passport.series.format"},
		{"45  06", "", "passport.series.format"},
		{"45-06", "", "passport.series.format"},
		{"45О6", "", "passport.series.format"}, // Cyrillic О
		{"45 0a", "", "passport.series.format"},
		{"4506123456", "", "passport.series.format"},
		{"IV-МЮ", "", "passport.series.format"}, // a Soviet passport
	})
}

func TestNormalizePassportNumber(t *testing.T) {
	runNormalize(t, "NormalizePassportNumber", NormalizePassportNumber, []normalizeCase{
		{"123456", "123456", ""},
		{" 000101 ", "000101", ""},
		{"", "", "passport.number.required"},
		{"12345", "", "passport.number.format"},
		{"1234567", "", "passport.number.format"},
		{"123 456", "", "passport.number.format"},
		{"12345б", "", "passport.number.format"},
		{"№123456", "", "passport.number.format"},
	})
}

func TestNormalizeDeptCode(t *testing.T) {
	runNormalize(t, "NormalizeDeptCode", NormalizeDeptCode, []normalizeCase{
		{"770-001", "770-001", ""},
		{"770001", "770-001", ""},
		{"770 001", "770-001", ""},
		{" 500-112 ", "500-112", ""},
		{"", "", "dept_code.required"},
		{"770-01", "", "dept_code.format"},
		{"77-0001", "", "dept_code.format"},
		{"770--001", "", "dept_code.format"},
		{"770_001", "", "dept_code.format"},
		{"7700011", "", "dept_code.format"},
		{"770-0011", "", "dept_code.format"},
		{"77O-001", "", "dept_code.format"},
		{"-770001", "", "dept_code.format"},
	})
}

func TestNormalizeIssuedBy(t *testing.T) {
	long := strings.Repeat("ОТДЕЛ ", 42) // 252 characters once trimmed
	runNormalize(t, "NormalizeIssuedBy", NormalizeIssuedBy, []normalizeCase{
		{"ОТДЕЛОМ УФМС РОССИИ ПО ГОР. МОСКВЕ ПО РАЙОНУ ТВЕРСКОЙ", "ОТДЕЛОМ УФМС РОССИИ ПО ГОР. МОСКВЕ ПО РАЙОНУ ТВЕРСКОЙ", ""},
		{"  ГУ МВД  России по\u00a0Московской области ", "ГУ МВД России по Московской области", ""},
		{"ТП № 2 ОУФМС России по Санкт-Петербургу и Ленинградской обл. в Невском р-не", "ТП № 2 ОУФМС России по Санкт-Петербургу и Ленинградской обл. в Невском р-не", ""},
		{"УВД «Северное» (г. Тверь)", "УВД «Северное» (г. Тверь)", ""},
		{"ОВД", "ОВД", ""},
		{"MVD 77", "MVD 77", ""},
		{"", "", "issued_by.required"},
		{" \u00a0 ", "", "issued_by.required"},
		{"ОВ", "", "issued_by.too_short"},
		{long, "", "issued_by.too_long"},
		{strings.Repeat("Я", maxTextInput), "", "issued_by.too_long"},
		{"123", "", "issued_by.invalid_chars"}, // no letter
		{"ОВД\nТверского района", "", "issued_by.invalid_chars"},
		{"ОВД\tТверского района", "", "issued_by.invalid_chars"},
		{"ОВД <b>Тверского</b>", "", "issued_by.invalid_chars"},
		{"ОВД & Co", "", "issued_by.invalid_chars"},
		{"ОВД\u202eТверского", "", "issued_by.invalid_chars"}, // bidi override
		{"ОВД\u200bТверского", "", "issued_by.invalid_chars"}, // zero width space
		{"ОВД \x00", "", "issued_by.invalid_chars"},
		{"ОВД \xff", "", "issued_by.invalid_chars"},
		{"ΟΒΔ", "", "issued_by.invalid_chars"}, // Greek
		{"ＯＶＤ", "", "issued_by.invalid_chars"}, // fullwidth
		{"ОВД 😀", "", "issued_by.invalid_chars"},
	})
}

func TestParseDate(t *testing.T) {
	for _, tt := range []struct{ in, want, code string }{
		{"14.03.1985", "1985-03-14", ""},
		{"1985-03-14", "1985-03-14", ""},
		{" 01.10.1997 ", "1997-10-01", ""},
		{"29.02.2024", "2024-02-29", ""},
		{"31.12.2099", "2099-12-31", ""},
		{"", "", "date.required"},
		{"29.02.2023", "", "date.format"},
		{"31.06.2020", "", "date.format"},
		{"00.01.2020", "", "date.format"},
		{"01.13.2020", "", "date.format"},
		{"1.3.1985", "", "date.format"},
		{"14.3.1985x", "", "date.format"},
		{"14.03.85", "", "date.format"},
		{"14-03-1985", "", "date.format"},
		{"1985/03/14", "", "date.format"},
		{"1985-3-14", "", "date.format"},
		{"1985-03-14T00:00:00Z", "", "date.format"},
		{"+1985-03-1", "", "date.format"},
		{"14.03.-985", "", "date.format"},
		{"дд.мм.гггг", "", "date.format"},
		{"１４.03.1985", "", "date.format"},
	} {
		d, fe := ParseDate("f", tt.in)
		got := ""
		if fe == nil {
			got = d.Format("2006-01-02")
			if d.Location() != time.UTC || d.Hour() != 0 {
				t.Errorf("ParseDate(%q) = %v, not midnight UTC", tt.in, d)
			}
		}
		if got != tt.want || codeOf(fe) != tt.code {
			t.Errorf("ParseDate(%q) = %q, %q; want %q, %q", tt.in, got, codeOf(fe), tt.want, tt.code)
		}
	}
}

func TestParseIssueDate(t *testing.T) {
	for _, tt := range []struct{ in, want, code string }{
		{"22.11.2026", "2026-11-22", ""}, // today in Moscow, still the 22nd
		{"2026-11-21", "2026-11-21", ""},
		{"01.10.1997", "1997-10-01", ""},
		{"23.11.1876", "1876-11-23", ""},
		{"22.11.1876", "1876-11-22", ""}, // exactly 150 years
		{"21.11.1876", "", "date.range"},
		{"01.01.0001", "", "date.range"},
		{"23.11.2026", "", "date.future"},
		{"2030-01-01", "", "date.future"},
		{"", "", "date.required"},
		{"31.11.2026", "", "date.format"},
	} {
		d, fe := ParseIssueDate("f", tt.in, testNow)
		got := ""
		if fe == nil {
			got = d.Format("2006-01-02")
		}
		if got != tt.want || codeOf(fe) != tt.code {
			t.Errorf("ParseIssueDate(%q) = %q, %q; want %q, %q", tt.in, got, codeOf(fe), tt.want, tt.code)
		}
	}
}

func TestParseIssueDateUsesLocalToday(t *testing.T) {
	// 23 November 00:30 in Moscow is still the 22nd in UTC; the citizen's
	// calendar is the one that counts.
	now := time.Date(2026, 11, 23, 0, 30, 0, 0, time.FixedZone("MSK", 3*3600))
	if _, fe := ParseIssueDate("f", "23.11.2026", now); fe != nil {
		t.Fatalf("today refused: %v", fe)
	}
}

func TestAddYears(t *testing.T) {
	for _, tt := range []struct {
		from string
		n    int
		want string
	}{
		{"2000-03-14", 14, "2014-03-14"},
		{"2000-02-29", 14, "2014-02-28"},
		{"2000-02-29", 20, "2020-02-29"},
		{"2000-02-29", -1, "1999-02-28"},
		{"1990-12-31", 45, "2035-12-31"},
	} {
		if got := addYears(mustDate(tt.from), tt.n).Format("2006-01-02"); got != tt.want {
			t.Errorf("addYears(%s, %d) = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}

func validPassportInput() PassportInput {
	return PassportInput{
		Series:    "45 06",
		Number:    "123456",
		IssueDate: "15.04.2020",
		IssuedBy:  "ГУ МВД России по г. Москве",
		DeptCode:  "770001",
	}
}

func TestCheckPassport(t *testing.T) {
	p, errs := CheckPassport(validPassportInput(), mustDate("1985-03-14"), testNow)
	want := Passport{Series: "4506", Number: "123456", IssueDate: mustDate("2020-04-15"), IssuedBy: "ГУ МВД России по г. Москве", DeptCode: "770-001"}
	if errs != nil || p != want {
		t.Fatalf("CheckPassport = %+v, %v; want %+v", p, errs, want)
	}
	if _, errs := CheckPassport(validPassportInput(), time.Time{}, testNow); errs != nil {
		t.Fatalf("without a birth date: %v", errs)
	}

	tests := []struct {
		name  string
		edit  func(*PassportInput)
		birth string
		want  []string // field:code
	}{
		{"all empty", func(in *PassportInput) { *in = PassportInput{} }, "", []string{
			"passport_series:passport.series.required", "passport_number:passport.number.required",
			"passport_issued_by:issued_by.required", "passport_dept_code:dept_code.required",
			"passport_issue_date:date.required",
		}},
		{"bad series and code", func(in *PassportInput) { in.Series, in.DeptCode = "45-06", "77-0001" }, "1985-03-14", []string{
			"passport_series:passport.series.format", "passport_dept_code:dept_code.format",
		}},
		{"future issue", func(in *PassportInput) { in.IssueDate = "01.01.2027" }, "1985-03-14", []string{"passport_issue_date:date.future"}},
		{"before 1997-10-01", func(in *PassportInput) { in.IssueDate = "30.09.1997" }, "1970-03-14", []string{"passport_issue_date:passport.issue_date.too_early"}},
		{"on 1997-10-01", func(in *PassportInput) { in.IssueDate = "01.10.1997" }, "1950-03-14", nil},
		{"before 14", func(in *PassportInput) { in.IssueDate = "13.03.2026" }, "2012-03-14", []string{"passport_issue_date:passport.issue_date.before_14"}},
		{"on the 14th birthday", func(in *PassportInput) { in.IssueDate = "14.03.2026" }, "2012-03-14", nil},
		{"before birth", func(in *PassportInput) { in.IssueDate = "01.01.2010" }, "2012-03-14", []string{"passport_issue_date:passport.issue_date.before_14"}},
		{"leap birthday, 28 February", func(in *PassportInput) { in.IssueDate = "28.02.2022" }, "2008-02-29", nil},
		{"leap birthday, a day early", func(in *PassportInput) { in.IssueDate = "27.02.2022" }, "2008-02-29", []string{"passport_issue_date:passport.issue_date.before_14"}},
		{"issued at 14, holder now 20 + 90 days", func(in *PassportInput) { in.IssueDate = "01.09.2020" }, "2006-08-24", nil},
		{"issued at 14, holder past 20 + 90 days", func(in *PassportInput) { in.IssueDate = "01.09.2020" }, "2006-08-23", []string{"passport_issue_date:passport.expired"}},
		{"issued at 20, holder 44", func(in *PassportInput) { in.IssueDate = "01.06.2002" }, "1982-05-01", nil},
		{"issued at 20, holder past 45 + 90 days", func(in *PassportInput) { in.IssueDate = "01.06.2000" }, "1980-05-01", []string{"passport_issue_date:passport.expired"}},
		{"issued at 45 never expires", func(in *PassportInput) { in.IssueDate = "01.06.2000" }, "1955-05-01", nil},
		{"issued by markup", func(in *PassportInput) { in.IssuedBy = "<script>" }, "", []string{"passport_issued_by:issued_by.invalid_chars"}},
		{"number too short", func(in *PassportInput) { in.Number = "12345" }, "", []string{"passport_number:passport.number.format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validPassportInput()
			tt.edit(&in)
			var birth time.Time
			if tt.birth != "" {
				birth = mustDate(tt.birth)
			}
			p, errs := CheckPassport(in, birth, testNow)
			if got := fieldCodes(errs); !slices.Equal(got, tt.want) {
				t.Fatalf("errors %v, want %v", got, tt.want)
			}
			if errs != nil && p != (Passport{}) {
				t.Fatalf("a refused passport came back filled: %+v", p)
			}
		})
	}
}

func fieldCodes(errs []*FieldError) []string {
	var out []string
	for _, fe := range errs {
		out = append(out, fe.Field+":"+fe.Code)
	}
	return out
}

func TestPassportValidUntil(t *testing.T) {
	for _, tt := range []struct {
		issue, birth, want string // want "" means never expires
	}{
		{"2000-06-01", "1985-03-14", "2005-06-12"}, // at 20 + 90 days
		{"2005-04-01", "1985-03-14", "2030-06-12"}, // at 45 + 90 days
		{"2005-03-14", "1985-03-14", "2030-06-12"}, // issued on the 20th birthday
		{"2005-03-13", "1985-03-14", "2005-06-12"}, // the day before
		{"2030-03-14", "1985-03-14", ""},
		{"2030-03-13", "1985-03-14", "2030-06-12"},
		{"2022-02-28", "2008-02-29", "2028-05-29"}, // 29 Feb 2028 exists
	} {
		until, ok := PassportValidUntil(mustDate(tt.issue), mustDate(tt.birth))
		got := ""
		if ok {
			got = until.Format("2006-01-02")
		}
		if got != tt.want {
			t.Errorf("PassportValidUntil(%s, %s) = %q, want %q", tt.issue, tt.birth, got, tt.want)
		}
	}
}

func TestNormalizeDriverLicence(t *testing.T) {
	runNormalize(t, "NormalizeDriverLicence", NormalizeDriverLicence, []normalizeCase{
		{"77 12 345678", "7712345678", ""},
		{"7712345678", "7712345678", ""},
		{"7712 345678", "7712345678", ""},
		{" 99 01 000001 ", "9901000001", ""},
		{"77 АВ 123456", "77АВ123456", ""},
		{"77ав123456", "77АВ123456", ""},
		{"77 AB 123456", "77АВ123456", ""}, // Latin look-alikes
		{"50 ХО 654321", "50ХО654321", ""},
		{"50 xo 654321", "50ХО654321", ""},
		{"78 ТУ 000000", "78ТУ000000", ""},
		{"", "", "licence.required"},
		{"77 12 34567", "", "licence.format"},
		{"77 12 3456789", "", "licence.format"},
		{"77 А1 123456", "", "licence.format"}, // a letter and a digit
		{"77 1В 123456", "", "licence.format"},
		{"77 ЯБ 123456", "", "licence.format"}, // no Latin look-alike
		{"77 QW 123456", "", "licence.format"},
		{"АВ 77 123456", "", "licence.format"},
		{"77 12 34567А", "", "licence.format"},
		{"77-12-345678", "", "licence.format"},
		{"77\t12 345678", "", "licence.format"},
		{"77 АВС 12345", "", "licence.format"},
		{"77 12 345678" + strings.Repeat(" ", 60), "7712345678", ""},
		{"77" + strings.Repeat(" ", 70) + "12345678", "", "licence.format"},
	})
}

func TestFormatDriverLicence(t *testing.T) {
	for in, want := range map[string]string{
		"7712345678":   "77 12 345678",
		"77AB123456":   "77 АВ 123456",
		"77ab123456":   "77ab123456", // lower-case b does not look like в
		"77 АВ 123456": "77 АВ 123456",
		"licence":      "licence",
	} {
		if got := FormatDriverLicence(in); got != want {
			t.Errorf("FormatDriverLicence(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckDriverLicence(t *testing.T) {
	valid := DriverLicenceInput{Number: "77 12 345678", IssueDate: "10.06.2018", ExpiryDate: "10.06.2028"}
	l, errs := CheckDriverLicence(valid, mustDate("1990-01-01"), testNow)
	want := DriverLicence{Number: "7712345678", IssueDate: mustDate("2018-06-10"), ExpiryDate: mustDate("2028-06-10")}
	if errs != nil || l != want {
		t.Fatalf("CheckDriverLicence = %+v, %v; want %+v", l, errs, want)
	}
	tests := []struct {
		name  string
		in    DriverLicenceInput
		birth string
		want  []string
	}{
		{"expired long ago is not refused here", DriverLicenceInput{"77 АВ 123456", "10.06.2005", "10.06.2015"}, "", nil},
		{"empty", DriverLicenceInput{}, "", []string{
			"licence_number:licence.required", "licence_issue_date:date.required", "licence_expiry_date:date.required",
		}},
		{"expiry before issue", DriverLicenceInput{"7712345678", "10.06.2018", "09.06.2018"}, "", []string{"licence_expiry_date:licence.expiry.before_issue"}},
		{"expiry on issue day", DriverLicenceInput{"7712345678", "10.06.2018", "10.06.2018"}, "", []string{"licence_expiry_date:licence.expiry.before_issue"}},
		{"expiry after 10 years", DriverLicenceInput{"7712345678", "10.06.2018", "11.06.2028"}, "", []string{"licence_expiry_date:licence.expiry.too_late"}},
		{"short term", DriverLicenceInput{"7712345678", "10.06.2018", "10.06.2021"}, "", nil},
		{"issued at 15", DriverLicenceInput{"7712345678", "10.06.2018", "10.06.2028"}, "2003-01-01", []string{"licence_issue_date:licence.issue_date.before_16"}},
		{"issued at 16", DriverLicenceInput{"7712345678", "10.06.2018", "10.06.2028"}, "2002-06-10", nil},
		{"future issue, expiry not compared", DriverLicenceInput{"7712345678", "10.06.2027", "01.01.2020"}, "", []string{"licence_issue_date:date.future"}},
		{"bad expiry format", DriverLicenceInput{"7712345678", "10.06.2018", "2028/06/10"}, "", []string{"licence_expiry_date:date.format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var birth time.Time
			if tt.birth != "" {
				birth = mustDate(tt.birth)
			}
			l, errs := CheckDriverLicence(tt.in, birth, testNow)
			if got := fieldCodes(errs); !slices.Equal(got, tt.want) {
				t.Fatalf("errors %v, want %v", got, tt.want)
			}
			if errs != nil && l != (DriverLicence{}) {
				t.Fatalf("a refused licence came back filled: %+v", l)
			}
		})
	}
}

func TestNormalizeForeignPassport(t *testing.T) {
	runNormalize(t, "NormalizeForeignPassport", NormalizeForeignPassport, []normalizeCase{
		{"75 1234567", "751234567", ""},
		{"751234567", "751234567", ""},
		{"75-1234567", "751234567", ""},
		{" 72 0000001 ", "720000001", ""},
		{"", "", "foreign_passport.required"},
		{"75 123456", "", "foreign_passport.format"},
		{"75 12345678", "", "foreign_passport.format"},
		{"7 51234567", "751234567", ""}, // separators anywhere, as SNILS
		{"75 №1234567", "", "foreign_passport.format"},
		{"AB 1234567", "", "foreign_passport.format"},
	})
	if got := FormatForeignPassport("751234567"); got != "75 1234567" {
		t.Errorf("FormatForeignPassport = %q", got)
	}
	if got := FormatForeignPassport("75 12"); got != "75 12" {
		t.Errorf("FormatForeignPassport(invalid) = %q", got)
	}
}

func TestCheckForeignPassport(t *testing.T) {
	valid := ForeignPassportInput{Number: "75 1234567", IssueDate: "2019-08-01", ExpiryDate: "2029-08-01"}
	p, errs := CheckForeignPassport(valid, mustDate("1985-03-14"), testNow)
	want := ForeignPassport{Number: "751234567", IssueDate: mustDate("2019-08-01"), ExpiryDate: mustDate("2029-08-01")}
	if errs != nil || p != want {
		t.Fatalf("CheckForeignPassport = %+v, %v; want %+v", p, errs, want)
	}
	tests := []struct {
		name  string
		in    ForeignPassportInput
		birth string
		want  []string
	}{
		{"old-style, 5 years", ForeignPassportInput{"64 1234567", "01.02.2022", "01.02.2027"}, "", nil},
		{"expires today", ForeignPassportInput{"64 1234567", "22.11.2021", "22.11.2026"}, "", nil},
		{"expired yesterday", ForeignPassportInput{"64 1234567", "21.11.2021", "21.11.2026"}, "", []string{"foreign_passport_expiry_date:foreign_passport.expired"}},
		{"issued before birth", ForeignPassportInput{"75 1234567", "01.02.2020", "01.02.2025"}, "2021-01-01", []string{
			"foreign_passport_issue_date:foreign_passport.issue_date.before_birth",
			"foreign_passport_expiry_date:foreign_passport.expired",
		}},
		{"child's passport", ForeignPassportInput{"75 1234567", "01.02.2024", "01.02.2029"}, "2023-12-01", nil},
		{"expiry before issue", ForeignPassportInput{"75 1234567", "01.02.2024", "01.02.2023"}, "", []string{"foreign_passport_expiry_date:foreign_passport.expiry.before_issue"}},
		{"more than 10 years", ForeignPassportInput{"75 1234567", "01.02.2024", "02.02.2034"}, "", []string{"foreign_passport_expiry_date:foreign_passport.expiry.too_late"}},
		{"empty", ForeignPassportInput{}, "", []string{
			"foreign_passport_number:foreign_passport.required",
			"foreign_passport_issue_date:date.required",
			"foreign_passport_expiry_date:date.required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var birth time.Time
			if tt.birth != "" {
				birth = mustDate(tt.birth)
			}
			p, errs := CheckForeignPassport(tt.in, birth, testNow)
			if got := fieldCodes(errs); !slices.Equal(got, tt.want) {
				t.Fatalf("errors %v, want %v", got, tt.want)
			}
			if errs != nil && p != (ForeignPassport{}) {
				t.Fatalf("a refused passport came back filled: %+v", p)
			}
		})
	}
}

func TestNormalizeSex(t *testing.T) {
	runNormalize(t, "NormalizeSex", NormalizeSex, []normalizeCase{
		{"male", SexMale, ""},
		{"Female", SexFemale, ""},
		{" M ", SexMale, ""},
		{"f", SexFemale, ""},
		{"М", SexMale, ""}, // Cyrillic
		{"ж", SexFemale, ""},
		{"Мужской", SexMale, ""},
		{"ЖЕНСКИЙ", SexFemale, ""},
		{"муж", SexMale, ""},
		{"жен", SexFemale, ""},
		{"", "", "sex.required"},
		{"other", "", "sex.invalid"},
		{"1", "", "sex.invalid"},
		{"males", "", "sex.invalid"},
		{"x", "", "sex.invalid"},
	})
}

func TestNormalizeBirthplace(t *testing.T) {
	runNormalize(t, "NormalizeBirthplace", NormalizeBirthplace, []normalizeCase{
		{"ГОР. МОСКВА", "ГОР. МОСКВА", ""},
		{"с. Никольское  Ленинского р-на Тульской обл.", "с. Никольское Ленинского р-на Тульской обл.", ""},
		{"Ош", "Ош", ""},
		{"гор. Ереван, Армянская ССР", "гор. Ереван, Армянская ССР", ""},
		{"Berlin", "Berlin", ""},
		{"пос. Октябрьский-2", "пос. Октябрьский-2", ""},
		{"", "", "birthplace.required"},
		{"Я", "", "birthplace.too_short"},
		{strings.Repeat("я", 251), "", "birthplace.too_long"},
		{"12", "", "birthplace.invalid_chars"},
		{"Москва\r\n", "", "birthplace.invalid_chars"},
		{"Москва; DROP TABLE", "Москва; DROP TABLE", ""}, // text, not code
		{"Москва`", "", "birthplace.invalid_chars"},
		{"Москва {}", "", "birthplace.invalid_chars"},
	})
}

func TestNormalizeCitizenship(t *testing.T) {
	runNormalize(t, "NormalizeCitizenship", NormalizeCitizenship, []normalizeCase{
		{"", "RUS", ""},
		{"  ", "RUS", ""},
		{"RUS", "RUS", ""},
		{"rus", "RUS", ""},
		{"RU", "RUS", ""},
		{"by", "BLR", ""},
		{"KAZ", "KAZ", ""},
		{"AM", "ARM", ""},
		{"gb", "GBR", ""},
		{"ZW", "ZWE", ""},
		{"AD", "AND", ""},
		{"XX", "", "citizenship.unknown"},
		{"SUN", "", "citizenship.unknown"}, // the USSR is gone
		{"UK", "", "citizenship.unknown"},
		{"R", "", "citizenship.format"},
		{"RUSS", "", "citizenship.format"},
		{"РУС", "", "citizenship.format"},
		{"R1", "", "citizenship.format"},
		{"Россия", "", "citizenship.format"},
	})
	if n := len(countryAlpha3); n != 2*249 {
		t.Errorf("country table has %d codes, want %d", n, 2*249)
	}
}

func TestNormalizePostalIndex(t *testing.T) {
	runNormalize(t, "NormalizePostalIndex", NormalizePostalIndex, []normalizeCase{
		{"101000", "101000", ""},
		{" 630099 ", "630099", ""},
		{"", "", "postal_index.required"},
		{"10100", "", "postal_index.format"},
		{"1010000", "", "postal_index.format"},
		{"101 000", "", "postal_index.format"},
		{"1O1000", "", "postal_index.format"},
	})
}

func TestNormalizeAddress(t *testing.T) {
	in := Address{
		PostalIndex: "101000", Region: "г. Москва", City: "Москва",
		Street: "ул.  Мясницкая", House: "12 к. 2", Flat: "45",
	}
	got, errs := NormalizeAddress("reg_address", in)
	want := in
	want.Street = "ул. Мясницкая"
	if errs != nil || got != want {
		t.Fatalf("NormalizeAddress = %+v, %v; want %+v", got, errs, want)
	}

	village := Address{PostalIndex: "301234", Region: "Тульская обл.", City: "д. Ивановка", House: "7"}
	if got, errs := NormalizeAddress("live_address", village); errs != nil || got != village {
		t.Fatalf("a village without street or flat: %+v, %v", got, errs)
	}

	tests := []struct {
		name string
		edit func(*Address)
		want []string
	}{
		{"empty", func(a *Address) { *a = Address{} }, []string{
			"a_postal_index:postal_index.required", "a_region:address.required",
			"a_city:address.required", "a_house:address.required",
		}},
		{"blank street is omitted", func(a *Address) { a.Street = "   " }, nil},
		{"long street", func(a *Address) { a.Street = strings.Repeat("ш", 151) }, []string{"a_street:address.too_long"}},
		{"long house", func(a *Address) { a.House = strings.Repeat("1", 21) }, []string{"a_house:address.too_long"}},
		{"short region", func(a *Address) { a.Region = "М" }, []string{"a_region:address.too_short"}},
		{"flat with a newline", func(a *Address) { a.Flat = "4\n5" }, []string{"a_flat:address.invalid_chars"}},
		{"city of digits", func(a *Address) { a.City = "123" }, []string{"a_city:address.invalid_chars"}},
		{"house with a slash", func(a *Address) { a.House = "12/3 стр. 1" }, nil},
		{"markup", func(a *Address) { a.Street = "<img src=x>" }, []string{"a_street:address.invalid_chars"}},
		{"bad index", func(a *Address) { a.PostalIndex = "12345" }, []string{"a_postal_index:postal_index.format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := in
			tt.edit(&a)
			out, errs := NormalizeAddress("a", a)
			if got := fieldCodes(errs); !slices.Equal(got, tt.want) {
				t.Fatalf("errors %v, want %v", got, tt.want)
			}
			if errs != nil && out != (Address{}) {
				t.Fatalf("a refused address came back filled: %+v", out)
			}
		})
	}
}

func ExampleNormalizeSNILS() {
	d, fe := NormalizeSNILS("snils", "112-233-445 95")
	fmt.Println(d, fe)
	_, fe = NormalizeSNILS("snils", "112-233-445 96")
	fmt.Println(fe)
	// Output:
	// 11223344595 <nil>
	// snils: snils.checksum
}

func ExampleFormatSNILS() {
	fmt.Println(FormatSNILS("11223344595"))
	// Output: 112-233-445 95
}

func ExampleNormalizeINN() {
	d, fe := NormalizeINN("inn", "500100732259")
	fmt.Println(d, fe)
	_, fe = NormalizeINN("inn", "7707083893")
	fmt.Println(fe)
	// Output:
	// 500100732259 <nil>
	// inn: inn.legal_entity
}

func ExampleCheckPassport() {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	birth := time.Date(1985, 3, 14, 0, 0, 0, 0, time.UTC)
	p, errs := CheckPassport(PassportInput{
		Series: "45 06", Number: "123456", IssueDate: "15.04.2020",
		IssuedBy: "ГУ МВД России по г. Москве", DeptCode: "770001",
	}, birth, now)
	fmt.Println(p.Series, p.Number, p.IssueDate.Format("02.01.2006"), p.DeptCode, errs)
	// Output: 4506 123456 15.04.2020 770-001 []
}
