package account

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want string // want "" means ErrInvalidPhone
	}{
		{"+79123456789", "+79123456789"},
		{"+7 (912) 345-67-89", "+79123456789"},
		{"+7(912)345-67-89", "+79123456789"},
		{"89123456789", "+79123456789"},
		{"79123456789", "+79123456789"},
		{"7-912-345-67-89", "+79123456789"},
		{"8 912 345 67 89", "+79123456789"},
		{"8.912.345.67.89", "+79123456789"},
		{"8 (912) 345.67.89", "+79123456789"},
		{"(8912) 3456789", "+79123456789"},
		{"  +7 912 3456789  ", "+79123456789"},
		{"+7 495 123-45-67", "+74951234567"},

		{"", ""},
		{"   ", ""},
		{"+", ""},
		{"9123456789", ""},                            // 10 digits
		{"+7912345678", ""},                           // 10 digits after +
		{"+791234567890", ""},                         // 12 digits
		{"891234567890", ""},                          // 12 digits
		{"69123456789", ""},                           // wrong first digit
		{"+89123456789", ""},                          // +8
		{"+19123456789", ""},                          // another country
		{"+380501234567", ""},                         // another country, 12 digits
		{"7+9123456789", ""},                          // + inside
		{"++79123456789", ""},                         // two +
		{"-+79123456789", ""},                         // + after a dash
		{"(+7) 912 345 67 89", ""},                    // + inside brackets
		{"+7 (912 345-67-89", ""},                     // unclosed bracket
		{"+7 912) 345-67-89", ""},                     // stray closing bracket
		{"+7 ((912)) 345-67-89", ""},                  // nested
		{"+7 (912) (345) 67-89", ""},                  // two pairs
		{"+7 912 345 67 8a", ""},                      // letter
		{"+7 912 345 67 89 доб", ""},                  // letters
		{"+7\t912 345 67 89", ""},                     // tab
		{"+7 912 345 67 89\n", ""},                    // newline
		{"+7\x00912 345 67 89", ""},                   // NUL
		{"+7_912_345_67_89", ""},                      // underscore
		{"+7 ９12 345 67 89", ""},                      // fullwidth digit
		{"+7/912/345/67/89", ""},                      // slash
		{"+7 912 345 67 89 ext", ""},                  // suffix
		{strings.Repeat(" ", 22) + "89123456789", ""}, // 33 bytes
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, err := NormalizePhone(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidPhone) || got != "" {
					t.Fatalf("NormalizePhone = %q, %v; want ErrInvalidPhone", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizePhone = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestNormalizePhoneLengthLimit(t *testing.T) {
	in := strings.Repeat(" ", 21) + "89123456789" // exactly 32 bytes
	if got, err := NormalizePhone(in); err != nil || got != "+79123456789" {
		t.Fatalf("32 bytes: %q, %v", got, err)
	}
}

func TestFormatPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+79123456789", "+7(912)345-67-89"},
		{"8 912 345 67 89", "+7(912)345-67-89"},
		{"+7(912)345-67-89", "+7(912)345-67-89"},
		{"not a phone", "not a phone"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := FormatPhone(tt.in); got != tt.want {
			t.Errorf("FormatPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	label63 := strings.Repeat("b", 63)
	// 64 + 1 + 63+1+63+1+61 = 254
	max254 := local64 + "@" + label63 + "." + label63 + "." + strings.Repeat("c", 58) + ".ru"
	tests := []struct {
		in, want string // want "" means ErrInvalidEmail
	}{
		{"ivan@example.ru", "ivan@example.ru"},
		{"  Ivan.Petrov@Example.RU  ", "ivan.petrov@example.ru"},
		{"IVAN@MAIL.RU", "ivan@mail.ru"},
		{"ivan+gosid@gmail.com", "ivan+gosid@gmail.com"},
		{"i_van-p@sub.domain.example.com", "i_van-p@sub.domain.example.com"},
		{"o'neil@example.org", "o'neil@example.org"},
		{"a@b.co", "a@b.co"},
		{"user@xn--p1ai.xn--p1ai", "user@xn--p1ai.xn--p1ai"},
		{"иван@почта.рф", "иван@почта.рф"},
		{"Иван@Почта.РФ", "иван@почта.рф"},
		{"ivan@пример.испытание", "ivan@пример.испытание"},
		{"ivan@123.example.ru", "ivan@123.example.ru"},
		{"ivan@my-host.ru", "ivan@my-host.ru"},
		{local64 + "@example.ru", local64 + "@example.ru"},
		{"x@" + label63 + ".ru", "x@" + label63 + ".ru"},
		{max254, max254},

		{"", ""},
		{"   ", ""},
		{"ivan", ""},
		{"ivan@", ""},
		{"@example.ru", ""},
		{"ivan@@example.ru", ""},
		{"ivan@ex@ample.ru", ""},
		{"ivan@localhost", ""},                              // no dot
		{"ivan@example", ""},                                // no dot
		{"ivan@example.r", ""},                              // one-letter TLD
		{"ivan@example.r1", ""},                             // TLD with digit
		{"ivan@example.123", ""},                            // numeric TLD
		{"ivan@example.ru.", ""},                            // trailing dot
		{"ivan@.example.ru", ""},                            // empty label
		{"ivan@example..ru", ""},                            // empty label
		{"ivan@-example.ru", ""},                            // leading hyphen
		{"ivan@example-.ru", ""},                            // trailing hyphen
		{"ivan@exa_mple.ru", ""},                            // underscore in domain
		{"ivan@[127.0.0.1]", ""},                            // IP literal
		{"ivan@127.0.0.1", ""},                              // numeric TLD
		{"iv an@example.ru", ""},                            // space in local
		{"ivan@exam ple.ru", ""},                            // space in domain
		{"ivan @example.ru", ""},                            // space before @
		{"\"ivan\"@example.ru", ""},                         // quoted
		{"\"iv an\"@example.ru", ""},                        // quoted with space
		{".ivan@example.ru", ""},                            // leading dot
		{"ivan.@example.ru", ""},                            // trailing dot
		{"iv..an@example.ru", ""},                           // consecutive dots
		{"iv(an)@example.ru", ""},                           // comment characters
		{"iv,an@example.ru", ""},                            // comma
		{"ivan\x00@example.ru", ""},                         // NUL
		{"ivan@exa\x7fmple.ru", ""},                         // DEL
		{"ivan\n@example.ru", ""},                           // newline inside
		{"ivan@example.ru\x00", ""},                         // trailing NUL is not space
		{"iv\u200ban@example.ru", ""},                       // zero-width space
		{"ivan@exa\u0301mple.ru", ""},                       // combining mark
		{"iv\xffan@example.ru", ""},                         // invalid UTF-8
		{"a" + local64 + "@example.ru", ""},                 // local 65
		{"x@" + label63 + "b.ru", ""},                       // label 64
		{"a" + max254, ""},                                  // 255 bytes
		{strings.Repeat(" ", 1100) + "ivan@example.ru", ""}, // input over the cap
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.40q", tt.in), func(t *testing.T) {
			got, err := NormalizeEmail(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidEmail) || got != "" {
					t.Fatalf("NormalizeEmail = %q, %v; want ErrInvalidEmail", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeEmail = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestClassifyLogin(t *testing.T) {
	tests := []struct {
		in, kind, norm string // kind "" means ErrInvalidLogin
	}{
		{"+7 (912) 345-67-89", LoginPhone, "+79123456789"},
		{"89123456789", LoginPhone, "+79123456789"},
		{"79123456789", LoginPhone, "+79123456789"},
		{" 8-912-345-67-89\t", LoginPhone, "+79123456789"},
		{"Ivan@Example.RU", LoginEmail, "ivan@example.ru"},
		{"  ivan@example.ru ", LoginEmail, "ivan@example.ru"},
		{"123-456-789 01", LoginSNILS, "12345678901"},
		{"123 456 789 01", LoginSNILS, "12345678901"},
		{"123-456-789-01", LoginSNILS, "12345678901"},
		{"12345678901", LoginSNILS, "12345678901"},
		{"791-234-567 89", LoginSNILS, "79123456789"}, // grouped as SNILS
		{"891 234 567 89", LoginSNILS, "89123456789"},
		{"000-000-600 06", LoginSNILS, "00000060006"},

		{"", "", ""},
		{"ivan", "", ""},
		{"ivan@example", "", ""},
		{"1234567890", "", ""},       // 10 digits
		{"123456789012", "", ""},     // 12 digits
		{"123-456-789", "", ""},      // 9 digits
		{"123-456-78901", "", ""},    // wrong grouping, not 7/8
		{"123.456.789 01", "", ""},   // dots are not SNILS separators
		{"123--456-789 01", "", ""},  // double separator
		{"+1 234 567 89 01", "", ""}, // foreign phone
		{"+12345678901", "", ""},     // + then 11 digits not 7
		{"1234567890a", "", ""},      // letter
		{"123-456-789 0١", "", ""},   // Arabic-Indic digit
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			kind, norm, err := ClassifyLogin(tt.in)
			if tt.kind == "" {
				if !errors.Is(err, ErrInvalidLogin) || kind != "" || norm != "" {
					t.Fatalf("ClassifyLogin = %q, %q, %v; want ErrInvalidLogin", kind, norm, err)
				}
				return
			}
			if err != nil || kind != tt.kind || norm != tt.norm {
				t.Fatalf("ClassifyLogin = %q, %q, %v; want %q, %q", kind, norm, err, tt.kind, tt.norm)
			}
		})
	}
}

func TestClassifyLoginBadEmailIsBoth(t *testing.T) {
	_, _, err := ClassifyLogin("ivan@@example.ru")
	if !errors.Is(err, ErrInvalidLogin) || !errors.Is(err, ErrInvalidEmail) {
		t.Fatalf("err = %v, want ErrInvalidLogin and ErrInvalidEmail", err)
	}
}

func TestContactErrorsDoNotEchoInput(t *testing.T) {
	for _, in := range []string{"secret-ivan@@example.ru", "+7 912 secret"} {
		_, _, err := ClassifyLogin(in)
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Fatalf("err = %v", err)
		}
	}
	if _, err := NormalizePhone("+7 912 secret"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v", err)
	}
}

func ExampleNormalizePhone() {
	p, _ := NormalizePhone("8 (912) 345-67-89")
	fmt.Println(p)
	fmt.Println(FormatPhone(p))
	// Output:
	// +79123456789
	// +7(912)345-67-89
}

func ExampleClassifyLogin() {
	for _, login := range []string{"+7 912 345-67-89", "Ivan@Mail.RU", "123-456-789 01"} {
		kind, norm, _ := ClassifyLogin(login)
		fmt.Println(kind, norm)
	}
	// Output:
	// phone +79123456789
	// email ivan@mail.ru
	// snils 12345678901
}
