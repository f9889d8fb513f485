// Package verify holds a citizen's personal data and documents and checks
// them against the state registries: passport (MVD), SNILS (SFR) and, when
// given, INN (FNS). A check runs as a durable job; when every registry
// answers "match" the values become the verified ones and the account rises
// from simplified to standard. Until then, and after a change, the values
// in force for relying services stay the last verified ones.
//
// Everything personal is stored encrypted (package pii): the data as
// entered and the verified data are two AES-256-GCM blobs bound to the
// account; SNILS and passport are findable only through keyed blind
// indexes, which also make one document back one verified account.
package verify

import (
	"context"
	"time"

	"github.com/gosid/gosid/account"
)

// Status of a profile's verification.
type Status string

// Statuses, as the account page shows them.
const (
	StatusNone      Status = "none"      // nothing submitted yet
	StatusVerifying Status = "verifying" // «Ожидание проверки данных»
	StatusVerified  Status = "verified"  // «Регистрация завершена»
	StatusRejected  Status = "rejected"  // a registry did not confirm something
)

// Data is the personal data and documents of a citizen.
type Data struct {
	FamilyName  string   `json:"family_name"`
	GivenName   string   `json:"given_name"`
	MiddleName  string   `json:"middle_name,omitempty"`
	BirthDate   string   `json:"birth_date"` // YYYY-MM-DD
	Sex         string   `json:"sex,omitempty"`
	Birthplace  string   `json:"birthplace,omitempty"`
	Citizenship string   `json:"citizenship,omitempty"`
	Passport    Passport `json:"passport"`
	SNILS       string   `json:"snils"`         // 11 digits
	INN         string   `json:"inn,omitempty"` // 12 digits
	// Optional documents and addresses: stored (encrypted) and exported,
	// not checked against a registry.
	DriverLicence   *Document `json:"driver_licence,omitempty"`
	ForeignPassport *Document `json:"foreign_passport,omitempty"`
	Registration    *Address  `json:"registration_address,omitempty"`
	Residence       *Address  `json:"residence_address,omitempty"`
}

// Document is an optional identity document.
type Document struct {
	Number     string `json:"number"`
	IssueDate  string `json:"issue_date"`  // YYYY-MM-DD
	ExpiryDate string `json:"expiry_date"` // YYYY-MM-DD
}

// Address is a postal address.
type Address struct {
	PostalIndex string `json:"postal_index"`
	Region      string `json:"region"`
	City        string `json:"city"`
	Street      string `json:"street,omitempty"`
	House       string `json:"house"`
	Flat        string `json:"flat,omitempty"`
}

// Passport is an RF passport.
type Passport struct {
	Series    string `json:"series"`
	Number    string `json:"number"`
	IssueDate string `json:"issue_date"` // YYYY-MM-DD
	IssuedBy  string `json:"issued_by"`
	DeptCode  string `json:"dept_code"`
}

// Rejection is what a registry did not confirm.
type Rejection struct {
	Registry string   `json:"registry"` // mvd, sfr, fns, or gosid (a document already in use)
	Outcome  string   `json:"outcome"`  // mismatch, not_found, suspended, taken, refused
	Fields   []string `json:"fields,omitempty"`
}

// Profile is the stored state of a citizen's personal data.
type Profile struct {
	AccountID string
	// Pending is the data as last entered (encrypted at rest).
	Pending *Data
	// Verified is the data the registries confirmed (encrypted at rest);
	// nil before the first success.
	Verified   *Data
	Status     Status
	Rejections []Rejection
	// Submission identifies the check in flight; a job for an older
	// submission does nothing.
	Submission string
	UpdatedAt  time.Time
	VerifiedAt time.Time
}

// Record is a profile as the store keeps it: the data sealed.
type Record struct {
	AccountID     string
	Pending       []byte
	Verified      []byte
	Status        Status
	Rejections    []Rejection
	Submission    string
	SNILSIndex    string // blind index of the verified SNILS, "" before
	PassportIndex string // blind index of the verified passport, "" before
	UpdatedAt     time.Time
	VerifiedAt    time.Time
}

// Store is the persistence port of profiles. SaveVerified returns
// storage.ErrConflict when the SNILS or passport index belongs to another
// account.
type Store interface {
	GetProfile(ctx context.Context, accountID string) (*Record, error)
	// PutProfile stores r; when expectSubmission is not nil the write only
	// happens if the stored submission still equals it (false otherwise).
	PutProfile(ctx context.Context, r *Record, expectSubmission *string) (bool, error)
	// FindBySNILSIndex returns the account whose verified SNILS has the
	// index (storage.ErrNotFound otherwise).
	FindBySNILSIndex(ctx context.Context, index string) (string, error)
	// FindByPassportIndex returns the account whose verified passport has
	// the index (storage.ErrNotFound otherwise).
	FindByPassportIndex(ctx context.Context, index string) (string, error)
	// DeleteProfile removes the profile (no error when there is none).
	DeleteProfile(ctx context.Context, accountID string) error
}

// LevelCause names what changed an account's level, for the audit trail.
const CauseRegistry = "registry"

// Accounts is what verification needs of the account store.
type Accounts interface {
	GetAccount(ctx context.Context, id string) (*account.Account, error)
	account.Updater
}

// Transactor runs fn in one transaction of the durable stores: every store
// method called with fn's context is part of it, and fn's writes are
// committed together or not at all.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}
