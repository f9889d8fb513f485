package sim

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gosid/gosid/registry"
)

// Dataset is what the simulated registries know: one list of persons for
// all three, as if MVD, SFR and FNS agreed about everybody.
type Dataset struct {
	Persons []Person `json:"persons"`
}

// Person is one citizen with documents. Dates are YYYY-MM-DD.
type Person struct {
	// ID names the person in tests and in README.md; it is never sent.
	ID         string     `json:"id"`
	FamilyName string     `json:"family_name"`
	GivenName  string     `json:"given_name"`
	MiddleName string     `json:"middle_name"`
	BirthDate  string     `json:"birth_date"`
	Passports  []Passport `json:"passports"`
	SNILS      string     `json:"snils,omitempty"`
	// SNILSStatus is "" or "active", "suspended" or "annulled".
	SNILSStatus string `json:"snils_status,omitempty"`
	INN         string `json:"inn,omitempty"`
	// INNStatus is "" or "active", or "invalid".
	INNStatus string    `json:"inn_status,omitempty"`
	Behaviour Behaviour `json:"behaviour,omitempty"`
	// Times is how many checks of each document misbehave before the
	// simulator answers normally (unavailable and rate_limited); 0 means
	// every check.
	Times int    `json:"times,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Passport is one passport of a person; the first valid one is current.
type Passport struct {
	Series   string `json:"series"`
	Number   string `json:"number"`
	IssuedAt string `json:"issued_at"`
	// Status is "" or "valid", or "invalid" (replaced, expired, lost).
	Status string `json:"status,omitempty"`
}

// Behaviour makes the simulator misbehave whenever a document of the person
// is checked, so that tests reach every failure path over a real connection.
type Behaviour string

const (
	// Normal: answer at once.
	Normal Behaviour = ""
	// Slow: wait the simulator's slow delay (Sim.SetSlowDelay), or until
	// the client gives up, then answer.
	Slow Behaviour = "slow"
	// Unavailable: answer 503, Person.Times times per document, then
	// answer normally.
	Unavailable Behaviour = "unavailable"
	// RateLimited: answer 429 with Retry-After: 1, Person.Times times per
	// document, then answer normally.
	RateLimited Behaviour = "rate_limited"
	// InternalError: answer 500 every time.
	InternalError Behaviour = "internal_error"
	// Malformed: answer 200 with a truncated JSON body.
	Malformed Behaviour = "malformed"
	// Oversize: answer 200 with a valid answer padded to 1 MiB.
	Oversize Behaviour = "oversize"
)

func (b Behaviour) valid() bool {
	switch b {
	case Normal, Slow, Unavailable, RateLimited, InternalError, Malformed, Oversize:
		return true
	}
	return false
}

const dateLayout = "2006-01-02"

//go:embed dataset.json
var defaultDataset []byte

// Default returns the embedded dataset, the one README.md describes.
func Default() Dataset {
	ds, err := Load(bytes.NewReader(defaultDataset))
	if err != nil {
		panic("sim: embedded dataset: " + err.Error())
	}
	return ds
}

// maxDatasetBytes bounds a dataset file.
const maxDatasetBytes = 16 << 20

// Load reads a dataset in the format of dataset.json and validates it.
func Load(r io.Reader) (Dataset, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxDatasetBytes+1))
	if err != nil {
		return Dataset{}, fmt.Errorf("sim: read dataset: %w", err)
	}
	if len(b) > maxDatasetBytes {
		return Dataset{}, errors.New("sim: dataset larger than 16 MiB")
	}
	var ds Dataset
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ds); err != nil {
		return Dataset{}, fmt.Errorf("sim: parse dataset: %w", err)
	}
	if err := ds.Validate(); err != nil {
		return Dataset{}, err
	}
	return ds, nil
}

// LoadFile reads a dataset file.
func LoadFile(path string) (Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return Dataset{}, fmt.Errorf("sim: %w", err)
	}
	defer f.Close()
	return Load(f)
}

// Person returns the person with this id.
func (d Dataset) Person(id string) (Person, bool) {
	for _, p := range d.Persons {
		if p.ID == id {
			return p, true
		}
	}
	return Person{}, false
}

// Validate checks formats, check digits, statuses and behaviours, and that
// no document belongs to two persons.
func (d Dataset) Validate() error {
	ids := map[string]bool{}
	docs := map[string]string{}
	claim := func(doc, id string) error {
		if other, ok := docs[doc]; ok {
			return fmt.Errorf("%s also belongs to %q", doc, other)
		}
		docs[doc] = id
		return nil
	}
	for i, p := range d.Persons {
		if p.ID == "" || ids[p.ID] {
			return fmt.Errorf("sim: dataset: person %d: id empty or repeated", i)
		}
		ids[p.ID] = true
		if err := p.validate(claim); err != nil {
			return fmt.Errorf("sim: dataset: person %q: %w", p.ID, err)
		}
	}
	return nil
}

func (p Person) validate(claim func(doc, id string) error) error {
	if strings.TrimSpace(p.FamilyName) == "" || strings.TrimSpace(p.GivenName) == "" {
		return errors.New("family and given names are required")
	}
	if !validDate(p.BirthDate) {
		return errors.New("birth_date must be YYYY-MM-DD")
	}
	for _, pp := range p.Passports {
		if !allDigits(pp.Series, 4) || !allDigits(pp.Number, 6) || !validDate(pp.IssuedAt) {
			return errors.New("a passport needs a 4-digit series, a 6-digit number and issued_at")
		}
		if pp.Status != "" && pp.Status != "valid" && pp.Status != "invalid" {
			return fmt.Errorf("passport status %q", pp.Status)
		}
		if err := claim("passport "+pp.Series+pp.Number, p.ID); err != nil {
			return err
		}
	}
	if p.SNILS != "" {
		if !validSNILS(p.SNILS) {
			return errors.New("snils is not 11 digits with valid check digits")
		}
		if err := claim("snils "+p.SNILS, p.ID); err != nil {
			return err
		}
	}
	switch p.SNILSStatus {
	case "", "active", "suspended", "annulled":
	default:
		return fmt.Errorf("snils_status %q", p.SNILSStatus)
	}
	if p.INN != "" {
		if !validINN(p.INN) {
			return errors.New("inn is not 12 digits with valid check digits")
		}
		if err := claim("inn "+p.INN, p.ID); err != nil {
			return err
		}
	}
	if p.INNStatus != "" && p.INNStatus != "active" && p.INNStatus != "invalid" {
		return fmt.Errorf("inn_status %q", p.INNStatus)
	}
	if !p.Behaviour.valid() {
		return fmt.Errorf("behaviour %q", p.Behaviour)
	}
	if p.Times < 0 {
		return errors.New("times must not be negative")
	}
	return nil
}

func validDate(s string) bool {
	_, err := time.Parse(dateLayout, s)
	return err == nil
}

// currentPassport is the first valid passport, if any.
func (p Person) currentPassport() (Passport, bool) {
	for _, pp := range p.Passports {
		if pp.Status != "invalid" {
			return pp, true
		}
	}
	return Passport{}, false
}

// PassportQuery is a query for the person's current passport that the
// simulator answers with a match (for a person without behaviour).
func (p Person) PassportQuery() registry.PassportQuery {
	pp, _ := p.currentPassport()
	return registry.PassportQuery{
		FamilyName: p.FamilyName, GivenName: p.GivenName, MiddleName: p.MiddleName,
		BirthDate: date(p.BirthDate), Series: pp.Series, Number: pp.Number, IssuedAt: date(pp.IssuedAt),
	}
}

// SNILSQuery is a query for the person's SNILS.
func (p Person) SNILSQuery() registry.SNILSQuery {
	return registry.SNILSQuery{
		FamilyName: p.FamilyName, GivenName: p.GivenName, MiddleName: p.MiddleName,
		BirthDate: date(p.BirthDate), SNILS: p.SNILS,
	}
}

// INNQuery is a query for the person's INN, with the current passport.
func (p Person) INNQuery() registry.INNQuery {
	pp, _ := p.currentPassport()
	return registry.INNQuery{
		FamilyName: p.FamilyName, GivenName: p.GivenName, MiddleName: p.MiddleName,
		BirthDate: date(p.BirthDate), INN: p.INN, PassportSeries: pp.Series, PassportNumber: pp.Number,
	}
}

func date(s string) time.Time {
	t, _ := time.Parse(dateLayout, s)
	return t
}
