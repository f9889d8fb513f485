package registry

import (
	"context"
	"time"
)

// Registry checks a citizen's documents against the state registries. Each
// method asks one registry one question and answers with what that registry
// said, or with an error when it said nothing usable.
//
// An error is never an answer: a registry that is down, slow or garbled
// yields an error wrapping ErrTemporary, which a durable job retries with
// backoff, and never a Mismatch or NotFound that would push a citizen to
// "correct" data that was right. A query the registry refuses as malformed
// yields ErrPermanent: sending it again cannot help.
type Registry interface {
	// CheckPassport asks the passport registry (MVD) whether the passport
	// exists, is valid, and was issued to this person on this date.
	CheckPassport(ctx context.Context, q PassportQuery) (Result, error)
	// CheckSNILS asks the pension and social insurance fund (SFR) whether
	// the SNILS exists, is active, and belongs to this person.
	CheckSNILS(ctx context.Context, q SNILSQuery) (Result, error)
	// CheckINN asks the tax service (FNS) whether the INN exists, is valid,
	// and belongs to this person (and, when given, this passport).
	CheckINN(ctx context.Context, q INNQuery) (Result, error)
}

// PassportQuery describes a passport of a citizen of the Russian Federation.
// Dates are compared by calendar day in their own location.
type PassportQuery struct {
	FamilyName string
	GivenName  string
	MiddleName string // empty when the citizen has none
	BirthDate  time.Time
	Series     string // 4 digits
	Number     string // 6 digits
	IssuedAt   time.Time
}

// SNILSQuery describes a SNILS and its holder.
type SNILSQuery struct {
	FamilyName string
	GivenName  string
	MiddleName string
	BirthDate  time.Time
	SNILS      string // 11 digits, no separators
}

// INNQuery describes a personal INN and its holder. The passport is
// optional; when given, series and number come together and the registry
// also checks that it is the passport it knows for this taxpayer.
type INNQuery struct {
	FamilyName     string
	GivenName      string
	MiddleName     string
	BirthDate      time.Time
	INN            string // 12 digits
	PassportSeries string // optional, 4 digits
	PassportNumber string // optional, 6 digits
}

// Outcome is what a registry said about a query.
type Outcome string

const (
	// Match: the document exists, is valid and belongs to the person.
	Match Outcome = "match"
	// Mismatch: the document exists but some of the person's data differ;
	// Result.Fields names them.
	Mismatch Outcome = "mismatch"
	// NotFound: the registry knows no such document.
	NotFound Outcome = "not_found"
	// Suspended: the document exists but cannot be relied on: a SNILS
	// suspended or annulled, a passport invalid (replaced, expired, lost),
	// an INN declared invalid.
	Suspended Outcome = "suspended"
)

// Valid reports whether o is one of the four outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case Match, Mismatch, NotFound, Suspended:
		return true
	}
	return false
}

// Names of the registries in Result.Registry and Error.Registry.
const (
	MVD = "mvd" // passports: the Interior Ministry
	SFR = "sfr" // SNILS: the Social Fund of Russia (formerly the Pension Fund)
	FNS = "fns" // INN: the Federal Tax Service
)

// Names of the fields in Result.Fields. They are also the JSON names of the
// wire format (see the package documentation). A registry may name others.
const (
	FieldFamilyName     = "family_name"
	FieldGivenName      = "given_name"
	FieldMiddleName     = "middle_name"
	FieldBirthDate      = "birth_date"
	FieldIssuedAt       = "issued_at"
	FieldPassportSeries = "passport_series"
	FieldPassportNumber = "passport_number"
)

// Result is a registry's answer.
type Result struct {
	Outcome Outcome
	// Fields names the fields that did not match, for Mismatch only.
	Fields []string
	// Registry is MVD, SFR or FNS.
	Registry string
	// CheckedAt is when the registry answered (its own time when it says).
	CheckedAt time.Time
	// Reference is the registry's identifier of this check, kept with the
	// verification so that a dispute can be traced on the registry's side.
	Reference string
}
