package registry

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The JSON bodies of the wire format; the package documentation describes
// them for the implementers of an adapter on the registry side.

const wireDate = "2006-01-02"

type passportRequest struct {
	person
	Series   string `json:"series"`
	Number   string `json:"number"`
	IssuedAt string `json:"issued_at"`
}

type snilsRequest struct {
	person
	SNILS string `json:"snils"`
}

type innRequest struct {
	person
	INN            string `json:"inn"`
	PassportSeries string `json:"passport_series,omitempty"`
	PassportNumber string `json:"passport_number,omitempty"`
}

type person struct {
	FamilyName string `json:"family_name"`
	GivenName  string `json:"given_name"`
	MiddleName string `json:"middle_name"`
	BirthDate  string `json:"birth_date"`
}

type wireResult struct {
	Outcome   Outcome  `json:"outcome"`
	Fields    []string `json:"fields"`
	Reference string   `json:"reference"`
	CheckedAt string   `json:"checked_at"`
}

type wireError struct {
	Error string `json:"error"`
}

// maxNameRunes bounds each part of a name sent to a registry.
const maxNameRunes = 200

func newPerson(family, given, middle string, birth time.Time) (person, error) {
	for _, n := range []struct{ field, v string }{
		{FieldFamilyName, family}, {FieldGivenName, given}, {FieldMiddleName, middle},
	} {
		if n.field != FieldMiddleName && strings.TrimSpace(n.v) == "" {
			return person{}, fmt.Errorf("%w: %s is empty", ErrInvalidQuery, n.field)
		}
		if !utf8.ValidString(n.v) || utf8.RuneCountInString(n.v) > maxNameRunes ||
			strings.IndexFunc(n.v, unicode.IsControl) >= 0 {
			return person{}, fmt.Errorf("%w: %s is not a name", ErrInvalidQuery, n.field)
		}
	}
	if birth.IsZero() {
		return person{}, fmt.Errorf("%w: %s is empty", ErrInvalidQuery, FieldBirthDate)
	}
	return person{FamilyName: family, GivenName: given, MiddleName: middle, BirthDate: birth.Format(wireDate)}, nil
}

func digits(field, v string, n int) error {
	if len(v) != n || strings.Trim(v, "0123456789") != "" {
		return fmt.Errorf("%w: %s must be %d digits", ErrInvalidQuery, field, n)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func encodePassport(q PassportQuery) ([]byte, error) {
	p, err := newPerson(q.FamilyName, q.GivenName, q.MiddleName, q.BirthDate)
	if err != nil {
		return nil, err
	}
	if err := firstErr(digits("series", q.Series, 4), digits("number", q.Number, 6)); err != nil {
		return nil, err
	}
	if q.IssuedAt.IsZero() {
		return nil, fmt.Errorf("%w: %s is empty", ErrInvalidQuery, FieldIssuedAt)
	}
	return json.Marshal(passportRequest{p, q.Series, q.Number, q.IssuedAt.Format(wireDate)})
}

func encodeSNILS(q SNILSQuery) ([]byte, error) {
	p, err := newPerson(q.FamilyName, q.GivenName, q.MiddleName, q.BirthDate)
	if err != nil {
		return nil, err
	}
	if err := digits("snils", q.SNILS, 11); err != nil {
		return nil, err
	}
	return json.Marshal(snilsRequest{p, q.SNILS})
}

func encodeINN(q INNQuery) ([]byte, error) {
	p, err := newPerson(q.FamilyName, q.GivenName, q.MiddleName, q.BirthDate)
	if err != nil {
		return nil, err
	}
	if err := digits("inn", q.INN, 12); err != nil {
		return nil, err
	}
	if q.PassportSeries != "" || q.PassportNumber != "" {
		err := firstErr(digits(FieldPassportSeries, q.PassportSeries, 4), digits(FieldPassportNumber, q.PassportNumber, 6))
		if err != nil {
			return nil, err
		}
	}
	return json.Marshal(innRequest{p, q.INN, q.PassportSeries, q.PassportNumber})
}

// Bounds on what a registry may put in an answer: its strings end up in
// logs and in the verification record.
const (
	maxFields       = 32
	maxTokenLen     = 64
	maxReferenceLen = 128
)

// decodeResult parses a 200 answer. Any deviation from the wire format is
// ErrBadResponse: an answer gosid cannot read must not become an outcome.
func decodeResult(body []byte, registry string, now time.Time) (Result, error) {
	var w wireResult
	if err := json.Unmarshal(body, &w); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if !w.Outcome.Valid() {
		return Result{}, fmt.Errorf("%w: unknown outcome %q", ErrBadResponse, printable(string(w.Outcome), maxTokenLen))
	}
	if len(w.Fields) > maxFields {
		return Result{}, fmt.Errorf("%w: %d fields", ErrBadResponse, len(w.Fields))
	}
	for _, f := range w.Fields {
		if !isToken(f) {
			return Result{}, fmt.Errorf("%w: field name %q", ErrBadResponse, printable(f, maxTokenLen))
		}
	}
	if len(w.Reference) > maxReferenceLen || strings.IndexFunc(w.Reference, notVisibleASCII) >= 0 {
		return Result{}, fmt.Errorf("%w: reference is not a short visible ASCII string", ErrBadResponse)
	}
	r := Result{Outcome: w.Outcome, Registry: registry, CheckedAt: now, Reference: w.Reference}
	if w.CheckedAt != "" {
		t, err := time.Parse(time.RFC3339, w.CheckedAt)
		if err != nil {
			return Result{}, fmt.Errorf("%w: checked_at: %v", ErrBadResponse, err)
		}
		r.CheckedAt = t
	}
	if r.Outcome == Mismatch && len(w.Fields) > 0 {
		r.Fields = w.Fields
	}
	return r, nil
}

// errorCode extracts the registry's error code from a refusal, for the
// error message; the description is left out, as it may echo the query.
func errorCode(body []byte) string {
	var w wireError
	if json.Unmarshal(body, &w) != nil || !isToken(w.Error) {
		return ""
	}
	return w.Error
}

// isToken accepts lower-case snake_case identifiers.
func isToken(s string) bool {
	if s == "" || len(s) > maxTokenLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

func notVisibleASCII(r rune) bool { return r <= ' ' || r > '~' }

// printable cuts s to n bytes of visible ASCII for an error message.
func printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if notVisibleASCII(r) {
			return '?'
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
