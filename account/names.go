package account

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen bounds each part of a name.
const MaxNameLen = 100

// NormalizeName validates one part of a citizen's name (surname, first name
// or patronymic) and returns it with surrounding spaces trimmed and inner
// runs of spaces collapsed. Allowed: Cyrillic or Latin letters (not both in
// one part: mixed scripts are a typo or a homoglyph trick), single spaces,
// hyphens and apostrophes between letters. field names the form field in
// the error.
func NormalizeName(field, s string) (string, *FieldError) {
	if !utf8.ValidString(s) {
		return "", fieldErr(field, "name.invalid_chars")
	}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "", fieldErr(field, "name.required")
	}
	if utf8.RuneCountInString(s) > MaxNameLen {
		return "", fieldErr(field, "name.too_long")
	}
	var cyr, lat bool
	prev := ' '
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cyrillic, r) && unicode.IsLetter(r):
			cyr = true
		case r < 128 && unicode.IsLetter(r):
			lat = true
		case r == ' ' || r == '-' || r == '\'' || r == '’':
			if !unicode.IsLetter(prev) {
				return "", fieldErr(field, "name.invalid_chars")
			}
		default:
			return "", fieldErr(field, "name.invalid_chars")
		}
		prev = r
	}
	if !unicode.IsLetter(prev) {
		return "", fieldErr(field, "name.invalid_chars")
	}
	if cyr && lat {
		return "", fieldErr(field, "name.mixed_scripts")
	}
	return s, nil
}

// ParseBirthDate parses ДД.ММ.ГГГГ (the pages) or YYYY-MM-DD (the APIs) and
// checks the date is real, not in the future, and within 130 years of now.
func ParseBirthDate(field, s string, now time.Time) (time.Time, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fieldErr(field, "date.required")
	}
	var d time.Time
	var err error
	switch {
	case len(s) == 10 && s[2] == '.' && s[5] == '.':
		d, err = time.Parse("02.01.2006", s)
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		d, err = time.Parse("2006-01-02", s)
	default:
		return time.Time{}, fieldErr(field, "date.format")
	}
	if err != nil {
		return time.Time{}, fieldErr(field, "date.format")
	}
	if d.After(now) || d.Before(now.AddDate(-130, 0, 0)) {
		return time.Time{}, fieldErr(field, "date.range")
	}
	return d, nil
}
