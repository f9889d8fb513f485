// Package account is the citizen domain: accounts, trust levels, contacts and
// passwords. Validation of personal identifiers lives here too.
package account

import (
	"context"
	"strings"
	"time"
)

// Level is an account's trust level.
type Level string

// Trust levels, lowest first.
const (
	LevelSimplified Level = "simplified"
	LevelStandard   Level = "standard"
	LevelConfirmed  Level = "confirmed"
)

// Rank orders levels: simplified < standard < confirmed; unknown is 0.
func (l Level) Rank() int {
	switch l {
	case LevelSimplified:
		return 1
	case LevelStandard:
		return 2
	case LevelConfirmed:
		return 3
	}
	return 0
}

// ACR is the OpenID Connect acr value that names the level.
func (l Level) ACR() string { return "urn:gosid:loa:" + string(l) }

// MFASuffix marks an acr value whose session used a second factor:
// urn:gosid:loa:standard:mfa.
const MFASuffix = ":mfa"

// PolicyMFA is the OpenID PAPE multi-factor policy, accepted in acr_values
// as "any level, with a second factor".
const PolicyMFA = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"

// SessionACR is the acr of a token: the account's level, and ":mfa" when
// the session used a second factor.
func SessionACR(l Level, mfa bool) string {
	if mfa {
		return l.ACR() + MFASuffix
	}
	return l.ACR()
}

// ParseACR parses an acr value gosid issues or accepts: the level it asks
// for (simplified for PolicyMFA) and whether it asks for a second factor.
// ok is false for values gosid does not know.
func ParseACR(acr string) (l Level, mfa bool, ok bool) {
	if acr == PolicyMFA {
		return LevelSimplified, true, true
	}
	if strings.HasSuffix(acr, MFASuffix) {
		acr, mfa = strings.TrimSuffix(acr, MFASuffix), true
	}
	l, ok = LevelFromACR(acr)
	return l, mfa, ok
}

// LevelFromACR parses a level's acr value; ok is false for values gosid
// does not know.
func LevelFromACR(acr string) (Level, bool) {
	const prefix = "urn:gosid:loa:"
	if len(acr) <= len(prefix) || acr[:len(prefix)] != prefix {
		return "", false
	}
	l := Level(acr[len(prefix):])
	return l, l.Rank() > 0
}

// SupportedACRs lists every acr value gosid issues or accepts.
func SupportedACRs() []string {
	var out []string
	for _, l := range []Level{LevelSimplified, LevelStandard, LevelConfirmed} {
		out = append(out, l.ACR(), l.ACR()+MFASuffix)
	}
	return append(out, PolicyMFA)
}

// Status of an account.
const (
	StatusActive  = "active"
	StatusBlocked = "blocked"
	StatusDeleted = "deleted"
)

// Account is a citizen's account.
type Account struct {
	ID string
	// Phone is stored as +7XXXXXXXXXX; empty when the citizen has none.
	Phone         string
	PhoneVerified bool
	// Email is stored lower-cased; empty when the citizen has none.
	Email         string
	EmailVerified bool
	FamilyName    string
	GivenName     string
	MiddleName    string
	// PasswordHash is a PHC-format argon2id string.
	PasswordHash      string
	PasswordChangedAt time.Time
	Level             Level
	Status            string
	Locale            string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// MFADeclinedAt is when the citizen last declined the offer to turn on
	// a second factor; the offer is not repeated for a while.
	MFADeclinedAt time.Time
	// NotifyPrefs routes notifications per event and channel (stored form
	// of NotifyPrefs; empty for the default: everything everywhere).
	NotifyPrefs string
	// Version counts the writes of the account; every UpdateAccount raises
	// it.
	Version int64
}

// Store is the persistence port for accounts. Lookups return
// storage.ErrNotFound; Create and Update return storage.ErrConflict when the
// phone or e-mail already belongs to another account.
type Store interface {
	CreateAccount(ctx context.Context, a *Account) error
	GetAccount(ctx context.Context, id string) (*Account, error)
	FindAccountByPhone(ctx context.Context, phone string) (*Account, error)
	FindAccountByEmail(ctx context.Context, email string) (*Account, error)
	Updater
}

// Updater changes an account as a read-modify-write that cannot lose a
// concurrent change.
type Updater interface {
	// UpdateAccount reads the account, applies fn and writes the result in
	// one transaction that holds the row, so that concurrent updates of one
	// account run one after the other; the write raises Version. When fn
	// returns an error nothing is written and the error is returned as is.
	// fn only changes the account it is given: it must not use the store.
	// It returns the account as written.
	UpdateAccount(ctx context.Context, id string, fn func(a *Account) error) (*Account, error)
}
