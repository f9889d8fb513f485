package account

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors for malformed login identifiers. Functions here wrap them with a
// short reason that never repeats the input; match them with errors.Is.
var (
	ErrInvalidPhone = errors.New("account: invalid phone number")
	ErrInvalidEmail = errors.New("account: invalid e-mail address")
	ErrInvalidLogin = errors.New("account: login is not a phone number, e-mail address or SNILS")
)

// Kinds of login identifier returned by ClassifyLogin.
const (
	LoginPhone = "phone"
	LoginEmail = "email"
	LoginSNILS = "snils"
)

const (
	maxPhoneInput = 32
	// maxEmailInput bounds the work done on input before trimming.
	maxEmailInput = 1024
	maxEmailLen   = 254 // RFC 5321 §4.5.3.1.3, in bytes
	maxLocalLen   = 64  // RFC 5321 §4.5.3.1.1, in bytes
	maxDomainLen  = 253
	maxLabelLen   = 63 // characters; exact for ASCII labels
)

// NormalizePhone accepts a Russian mobile number as +7, 7 or 8 followed by
// ten digits, optionally broken up by spaces, dashes, dots and one pair of
// brackets ("+7 (912) 345-67-89", "89123456789"), and returns it as
// +7XXXXXXXXXX, the form accounts store. Anything else, including letters,
// control characters and input over 32 bytes, is ErrInvalidPhone.
func NormalizePhone(s string) (string, error) {
	if len(s) > maxPhoneInput {
		return "", fmt.Errorf("%w: too long", ErrInvalidPhone)
	}
	var digits [11]byte
	n := 0
	plus, inBrackets, hadBrackets := false, false, false
	for i := 0; i < len(s); i++ {
		switch b := s[i]; b {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			if n == len(digits) {
				return "", fmt.Errorf("%w: too many digits", ErrInvalidPhone)
			}
			digits[n] = b
			n++
		case '+':
			if plus || strings.TrimLeft(s[:i], " ") != "" {
				return "", fmt.Errorf("%w: + must come first", ErrInvalidPhone)
			}
			plus = true
		case '(':
			if inBrackets || hadBrackets {
				return "", fmt.Errorf("%w: misplaced bracket", ErrInvalidPhone)
			}
			inBrackets, hadBrackets = true, true
		case ')':
			if !inBrackets {
				return "", fmt.Errorf("%w: misplaced bracket", ErrInvalidPhone)
			}
			inBrackets = false
		case ' ', '-', '.':
		default:
			return "", fmt.Errorf("%w: unexpected character", ErrInvalidPhone)
		}
	}
	switch {
	case inBrackets:
		return "", fmt.Errorf("%w: unclosed bracket", ErrInvalidPhone)
	case n != len(digits):
		return "", fmt.Errorf("%w: want 11 digits", ErrInvalidPhone)
	case digits[0] != '7' && (plus || digits[0] != '8'):
		return "", fmt.Errorf("%w: want +7, 7 or 8 first", ErrInvalidPhone)
	}
	return "+7" + string(digits[1:]), nil
}

// FormatPhone shows a phone number as +7(XXX)XXX-XX-XX. Input NormalizePhone
// does not accept is returned unchanged.
func FormatPhone(s string) string {
	p, err := NormalizePhone(s)
	if err != nil {
		return s
	}
	return p[:2] + "(" + p[2:5] + ")" + p[5:8] + "-" + p[8:10] + "-" + p[10:]
}

// NormalizeEmail checks an e-mail address and returns it trimmed and
// lower-cased, the form accounts store.
//
// gosid treats addresses as case-insensitive for sign-in: the local part is
// lower-cased as well as the domain, although RFC 5321 lets a mail server
// tell "Ivan@" from "ivan@". No Russian mail provider does, and two accounts
// differing only in case would be a trap for citizens.
//
// Accepted: an unquoted local part of letters (any script), digits and the
// RFC 5322 atext symbols, with single dots between them, at most 64 bytes;
// one @; a domain of at least two labels of letters (any script, for IDN),
// digits and inner hyphens, ending in a top-level domain of two or more
// letters or an xn-- label; at most 254 bytes in all. Quoted local parts, IP
// literals, spaces, control characters and consecutive dots are
// ErrInvalidEmail.
func NormalizeEmail(s string) (string, error) {
	if len(s) > maxEmailInput {
		return "", fmt.Errorf("%w: too long", ErrInvalidEmail)
	}
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: not UTF-8", ErrInvalidEmail)
	}
	s = strings.ToLower(s)
	if len(s) > maxEmailLen {
		return "", fmt.Errorf("%w: too long", ErrInvalidEmail)
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || strings.Contains(domain, "@") {
		return "", fmt.Errorf("%w: want exactly one @", ErrInvalidEmail)
	}
	if reason := checkEmailLocal(local); reason != "" {
		return "", fmt.Errorf("%w: %s", ErrInvalidEmail, reason)
	}
	if reason := checkEmailDomain(domain); reason != "" {
		return "", fmt.Errorf("%w: %s", ErrInvalidEmail, reason)
	}
	return s, nil
}

func checkEmailLocal(local string) string {
	switch {
	case local == "":
		return "empty local part"
	case len(local) > maxLocalLen:
		return "local part too long"
	case local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, ".."):
		return "misplaced dot in local part"
	}
	for _, r := range local {
		if r == '.' || isEmailAtext(r) {
			continue
		}
		return "unexpected character in local part"
	}
	return ""
}

// isEmailAtext reports whether r may appear in an unquoted local part: RFC
// 5322 atext, widened to letters and digits of any script (RFC 6531).
func isEmailAtext(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func checkEmailDomain(domain string) string {
	if len(domain) > maxDomainLen {
		return "domain too long"
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "domain needs a dot"
	}
	for _, l := range labels {
		if reason := checkDomainLabel(l); reason != "" {
			return reason
		}
	}
	tld := labels[len(labels)-1]
	if strings.HasPrefix(tld, "xn--") {
		return ""
	}
	if utf8.RuneCountInString(tld) < 2 || strings.ContainsFunc(tld, func(r rune) bool { return !unicode.IsLetter(r) }) {
		return "top-level domain must be two or more letters"
	}
	return ""
}

func checkDomainLabel(l string) string {
	switch {
	case l == "":
		return "empty domain label"
	case utf8.RuneCountInString(l) > maxLabelLen:
		return "domain label too long"
	case l[0] == '-' || l[len(l)-1] == '-':
		return "domain label starts or ends with a hyphen"
	}
	for _, r := range l {
		if r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			continue
		}
		return "unexpected character in domain"
	}
	return ""
}

// ClassifyLogin tells what a citizen typed into the login field and returns
// it normalised: LoginPhone (+7XXXXXXXXXX), LoginEmail (see NormalizeEmail)
// or LoginSNILS (11 digits, no separators). Surrounding spaces are ignored.
// Anything else is ErrInvalidLogin; a malformed e-mail address is also
// ErrInvalidEmail.
//
// Eleven bare digits starting with 7 or 8 could be either a phone number or
// a SNILS; they are taken as a phone number, the far more common login.
// A SNILS is recognised when written with its separators (XXX-XXX-XXX YY,
// spaces or dashes) or when it starts with another digit. Check digits are
// not verified here.
func ClassifyLogin(s string) (kind, normalized string, err error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "@") {
		e, err := NormalizeEmail(s)
		if err != nil {
			return "", "", fmt.Errorf("%w: %w", ErrInvalidLogin, err)
		}
		return LoginEmail, e, nil
	}
	if d, ok := groupedSNILS(s); ok {
		return LoginSNILS, d, nil
	}
	if p, err := NormalizePhone(s); err == nil {
		return LoginPhone, p, nil
	}
	if len(s) == 11 && strings.Trim(s, "0123456789") == "" {
		return LoginSNILS, s, nil
	}
	return "", "", ErrInvalidLogin
}

// groupedSNILS matches XXX?XXX?XXX?YY where each ? is a space or a dash and
// returns the 11 digits.
func groupedSNILS(s string) (string, bool) {
	const pattern = "ddd-ddd-ddd-dd"
	if len(s) != len(pattern) {
		return "", false
	}
	var digits [11]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if pattern[i] == '-' {
			if c != '-' && c != ' ' {
				return "", false
			}
			continue
		}
		if c < '0' || c > '9' {
			return "", false
		}
		digits[n] = c
		n++
	}
	return string(digits[:]), true
}
