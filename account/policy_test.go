package account

import (
	"strings"
	"testing"
	"time"
)

func TestCheckPassword(t *testing.T) {
	p := PersonalData{
		Phone: "+79163527184", BirthDate: time.Date(1985, 3, 14, 0, 0, 0, 0, time.UTC),
		FamilyName: "Петров", GivenName: "Alexei", Email: "apetrov@example.ru",
	}
	tests := []struct {
		pw   string
		want string
	}{
		{"Zq7!vr-Lp2#k", ""},
		{"Глубокий-Сон-7-Лес", ""},
		{"Short1!a", "password.too_short"},
		{strings.Repeat("Ab1!", 33), "password.too_long"},
		{"alllowercase-7x", "password.need_cases"},
		{"ALLUPPERCASE-7X", "password.need_cases"},
		{"NoDigitsHere-x!", "password.need_digit"},
		{"NoSpecials7Here", "password.need_special"},
		{"Qwerty123456!", "password.common"},
		{"P@ssw0rd1234", "password.common"},
		{"Gosuslugi2026!", "password.common"},
		{"Zq7!vr-aaaa-Lp", "password.sequence"},
		{"Zq7!vr-1234-Lp", "password.sequence"},
		{"Zq7!vr-dcba-Lp", "password.sequence"},
		{"Zq7!vr-qwer-Lp", "password.sequence"},
		{"Zq7!-9163527184", "password.personal"},
		{"Zq7!vr-14031985", "password.personal"},
		{"Zq7!vr-петров-Lp", "password.personal"},
		{"Zq7!-ALEXEI-rvX", "password.personal"},
		{"Zq7!-apetrov-rv", "password.personal"},
		{"Bad\x00Control-7x", "password.invalid"},
		{"Bad\xffUtf8-Control7", "password.invalid"},
	}
	for _, tt := range tests {
		err := CheckPassword(tt.pw, p)
		got := ""
		if err != nil {
			got = err.Code
			if err.Field != "password" {
				t.Errorf("%q: field %q", tt.pw, err.Field)
			}
		}
		if got != tt.want {
			t.Errorf("CheckPassword(%q) = %q, want %q", tt.pw, got, tt.want)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		in, want, code string
	}{
		{"Иванов", "Иванов", ""},
		{"  Салтыков-Щедрин ", "Салтыков-Щедрин", ""},
		{"Анна  Мария", "Анна Мария", ""},
		{"O'Neil", "O'Neil", ""},
		{"Ёлкина", "Ёлкина", ""},
		{"", "", "name.required"},
		{"   ", "", "name.required"},
		{"Иван0в", "", "name.invalid_chars"},
		{"<script>", "", "name.invalid_chars"},
		{"-Иван", "", "name.invalid_chars"},
		{"Иван-", "", "name.invalid_chars"},
		{"Ива--нов", "", "name.invalid_chars"},
		{"Ivanов", "", "name.mixed_scripts"},
		{strings.Repeat("я", 101), "", "name.too_long"},
		{"Ива\x00нов", "", "name.invalid_chars"},
		{"\xff", "", "name.invalid_chars"},
	}
	for _, tt := range tests {
		got, err := NormalizeName("family_name", tt.in)
		code := ""
		if err != nil {
			code = err.Code
		}
		if got != tt.want || code != tt.code {
			t.Errorf("NormalizeName(%q) = %q, %q; want %q, %q", tt.in, got, code, tt.want, tt.code)
		}
	}
}

func TestParseBirthDate(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want string
		code string
	}{
		{"14.03.1985", "1985-03-14", ""},
		{"1985-03-14", "1985-03-14", ""},
		{"29.02.2000", "2000-02-29", ""},
		{"29.02.2001", "", "date.format"},
		{"31.04.1990", "", "date.format"},
		{"14/03/1985", "", "date.format"},
		{"1985.03.14", "", "date.format"},
		{"дд.мм.гггг", "", "date.format"},
		{"01.01.2030", "", "date.range"},
		{"01.01.1800", "", "date.range"},
		{"", "", "date.required"},
	}
	for _, tt := range tests {
		d, err := ParseBirthDate("birth_date", tt.in, now)
		code, got := "", ""
		if err != nil {
			code = err.Code
		} else {
			got = d.Format("2006-01-02")
		}
		if got != tt.want || code != tt.code {
			t.Errorf("ParseBirthDate(%q) = %q, %q; want %q, %q", tt.in, got, code, tt.want, tt.code)
		}
	}
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"Иванов", "O'Neil", "Анна  Мария", "<b>", "Ivanов", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeName("n", s)
		if err != nil {
			return
		}
		again, err2 := NormalizeName("n", got)
		if err2 != nil || again != got {
			t.Fatalf("not a fixed point: %q -> %q -> %q (%v)", s, got, again, err2)
		}
		if strings.ContainsAny(got, "<>\"&\x00") {
			t.Fatalf("accepted markup or NUL: %q", got)
		}
	})
}

func FuzzParseBirthDate(f *testing.F) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for _, s := range []string{"14.03.1985", "1985-03-14", "31.02.2000", "aa.bb.cccc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseBirthDate("d", s, now)
		if err != nil {
			return
		}
		if d.After(now) {
			t.Fatalf("future date accepted: %q", s)
		}
		if back, err := ParseBirthDate("d", d.Format("02.01.2006"), now); err != nil || !back.Equal(d) {
			t.Fatalf("round trip failed for %q", s)
		}
	})
}
