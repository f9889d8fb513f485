package sim

import (
	"errors"
	"strings"

	"github.com/gosid/gosid/registry"
)

// The queries as the simulator reads them off the wire. They are declared
// here, not borrowed from package registry, so that the simulator checks
// the documented format rather than the adapter's own idea of it.

type personQuery struct {
	FamilyName string `json:"family_name"`
	GivenName  string `json:"given_name"`
	MiddleName string `json:"middle_name"`
	BirthDate  string `json:"birth_date"`
}

type passportQuery struct {
	personQuery
	Series   string `json:"series"`
	Number   string `json:"number"`
	IssuedAt string `json:"issued_at"`
}

type snilsQuery struct {
	personQuery
	SNILS string `json:"snils"`
}

type innQuery struct {
	personQuery
	INN            string `json:"inn"`
	PassportSeries string `json:"passport_series"`
	PassportNumber string `json:"passport_number"`
}

func (q *personQuery) validate() error {
	if strings.TrimSpace(q.FamilyName) == "" || strings.TrimSpace(q.GivenName) == "" {
		return errors.New("family_name and given_name are required")
	}
	if !validDate(q.BirthDate) {
		return errors.New("birth_date must be YYYY-MM-DD")
	}
	return nil
}

func (q *passportQuery) validate() error {
	if err := q.personQuery.validate(); err != nil {
		return err
	}
	if !allDigits(q.Series, 4) || !allDigits(q.Number, 6) {
		return errors.New("series must be 4 digits and number 6 digits")
	}
	if !validDate(q.IssuedAt) {
		return errors.New("issued_at must be YYYY-MM-DD")
	}
	return nil
}

func (q *snilsQuery) validate() error {
	if err := q.personQuery.validate(); err != nil {
		return err
	}
	if !validSNILS(q.SNILS) {
		return errors.New("snils must be 11 digits with valid check digits")
	}
	return nil
}

func (q *innQuery) validate() error {
	if err := q.personQuery.validate(); err != nil {
		return err
	}
	if !validINN(q.INN) {
		return errors.New("inn must be 12 digits with valid check digits")
	}
	if q.PassportSeries != "" || q.PassportNumber != "" {
		if !allDigits(q.PassportSeries, 4) || !allDigits(q.PassportNumber, 6) {
			return errors.New("passport_series must be 4 digits and passport_number 6 digits, or both absent")
		}
	}
	return nil
}

// compare names the person's fields the query gets wrong, in a fixed order.
func (q *personQuery) compare(p *Person) []string {
	var fields []string
	if !sameName(q.FamilyName, p.FamilyName) {
		fields = append(fields, registry.FieldFamilyName)
	}
	if !sameName(q.GivenName, p.GivenName) {
		fields = append(fields, registry.FieldGivenName)
	}
	if !sameName(q.MiddleName, p.MiddleName) {
		fields = append(fields, registry.FieldMiddleName)
	}
	if q.BirthDate != p.BirthDate {
		fields = append(fields, registry.FieldBirthDate)
	}
	return fields
}

// sameName compares names as the registries do: case, ё against е and
// runs of spaces do not matter.
func sameName(a, b string) bool {
	return foldName(a) == foldName(b)
}

func foldName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(strings.ToLower(s), "ё", "е")
}
