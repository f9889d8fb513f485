package account

import (
	"bufio"
	_ "embed"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// FieldError names the field that failed validation and a stable code the
// pages translate (e.g. "password.too_short" → «Пароль должен содержать не
// менее 12 символов»). It never carries the rejected value.
type FieldError struct {
	Field string
	Code  string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Code }

func fieldErr(field, code string) *FieldError { return &FieldError{Field: field, Code: code} }

// Password length bounds (DESIGN.md "Decisions").
const (
	PasswordMinLen = 12
	PasswordMaxLen = 128
)

// PersonalData is what a password must not contain.
type PersonalData struct {
	Phone      string // +7XXXXXXXXXX
	BirthDate  time.Time
	FamilyName string
	GivenName  string
	MiddleName string
	Email      string
}

//go:embed common_passwords.txt
var commonPasswordsRaw string

var commonPasswords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsRaw))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" && !strings.HasPrefix(w, "#") {
			m[strings.ToLower(w)] = true
		}
	}
	return m
})

// CheckPassword applies gosid's password policy and returns the first rule
// broken, as a FieldError on field "password", or nil.
func CheckPassword(pw string, p PersonalData) *FieldError {
	const f = "password"
	if !utf8.ValidString(pw) {
		return fieldErr(f, "password.invalid")
	}
	n := utf8.RuneCountInString(pw)
	switch {
	case n < PasswordMinLen:
		return fieldErr(f, "password.too_short")
	case n > PasswordMaxLen:
		return fieldErr(f, "password.too_long")
	}
	var upper, lower, digit, special bool
	for _, r := range pw {
		switch {
		case unicode.IsControl(r):
			return fieldErr(f, "password.invalid")
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case !unicode.IsLetter(r):
			special = true
		}
	}
	switch {
	case !upper || !lower:
		return fieldErr(f, "password.need_cases")
	case !digit:
		return fieldErr(f, "password.need_digit")
	case !special:
		return fieldErr(f, "password.need_special")
	case isCommon(pw):
		return fieldErr(f, "password.common")
	case hasRun(pw, 4):
		return fieldErr(f, "password.sequence")
	case containsPersonal(pw, p):
		return fieldErr(f, "password.personal")
	}
	return nil
}

// isCommon checks the password and its letters-and-digits core (so that
// "Qwerty123456!" is caught by "qwerty123456") against the embedded list.
func isCommon(pw string) bool {
	lower := strings.ToLower(pw)
	list := commonPasswords()
	if list[lower] {
		return true
	}
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	return list[core]
}

// hasRun reports a run of n or more repeated characters ("aaaa") or of
// characters ascending or descending by one ("1234", "dcba", "абвг").
func hasRun(pw string, n int) bool {
	rs := []rune(strings.ToLower(pw))
	same, up, down := 1, 1, 1
	for i := 1; i < len(rs); i++ {
		d := rs[i] - rs[i-1]
		same = step(d == 0, same)
		up = step(d == 1, up)
		down = step(d == -1, down)
		if same >= n || up >= n || down >= n {
			return true
		}
	}
	return keyboardRun(string(rs))
}

func step(cont bool, cur int) int {
	if cont {
		return cur + 1
	}
	return 1
}

// keyboardRows are adjacent-key runs people use ("qwer", "йцук").
var keyboardRows = []string{"qwertyuiop", "asdfghjkl", "zxcvbnm", "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю", "1qaz2wsx3edc"}

func keyboardRun(lower string) bool {
	for _, row := range keyboardRows {
		rr := []rune(row)
		for i := 0; i+4 <= len(rr); i++ {
			if strings.Contains(lower, string(rr[i:i+4])) {
				return true
			}
		}
	}
	return false
}

func containsPersonal(pw string, p PersonalData) bool {
	lower := strings.ToLower(pw)
	digits := onlyDigits(pw)
	if p.Phone != "" {
		tail := onlyDigits(p.Phone)
		if len(tail) >= 10 && strings.Contains(digits, tail[len(tail)-10:]) {
			return true
		}
	}
	if !p.BirthDate.IsZero() {
		for _, layout := range []string{"02.01.2006", "2006-01-02", "02012006", "20060102", "020106"} {
			formatted := p.BirthDate.Format(layout)
			if d := onlyDigits(formatted); strings.Contains(lower, formatted) || (len(d) >= 6 && strings.Contains(digits, d)) {
				return true
			}
		}
	}
	for _, name := range []string{p.FamilyName, p.GivenName, p.MiddleName, localPart(p.Email)} {
		if utf8.RuneCountInString(name) >= 3 && strings.Contains(lower, strings.ToLower(name)) {
			return true
		}
	}
	return false
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func localPart(email string) string {
	at := strings.IndexByte(email, '@')
	if at <= 0 {
		return ""
	}
	return email[:at]
}
