// Package operator is the service-centre console: centres, the operators
// who work at them and their roles, the operators' sign-in (password and a
// mandatory authenticator code), finding a citizen by an exact document or
// phone, confirming a citizen's identity in person, the printable slip and
// the centre's journal.
//
// Every action is checked against one table of permissions (Can) on the
// server, and every action on a citizen is written to the centre's
// append-only journal in the same transaction as the change it records, so
// the journal never misses a change and never claims one that did not
// happen.
package operator

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Role is what an operator may do.
type Role string

// Roles.
const (
	// RoleOperator serves citizens at a centre.
	RoleOperator Role = "operator"
	// RoleSupervisor also reads the centre's journal.
	RoleSupervisor Role = "supervisor"
	// RoleAdmin manages the centre's operators; never citizens' data.
	RoleAdmin Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleOperator, RoleSupervisor, RoleAdmin}

// Action is something an operator does in the console.
type Action string

// Actions.
const (
	ActFind      Action = "find"      // look a citizen up by SNILS, passport or phone
	ActConfirm   Action = "confirm"   // confirm a citizen's identity in person
	ActSlip      Action = "slip"      // print the slip of a confirmation
	ActJournal   Action = "journal"   // read the centre's journal
	ActOperators Action = "operators" // list the centre's operators, disable one
)

// permissions is the one place that says which role may do what.
var permissions = map[Role][]Action{
	RoleOperator:   {ActFind, ActConfirm, ActSlip},
	RoleSupervisor: {ActFind, ActConfirm, ActSlip, ActJournal},
	RoleAdmin:      {ActOperators},
}

// Can reports whether role may do a.
func (r Role) Can(a Action) bool { return slices.Contains(permissions[r], a) }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := permissions[r]; return ok }

// Centre is a service centre.
type Centre struct {
	ID      string
	Code    string // short public code, e.g. "MSK-001"
	Name    string
	Address string
	Hours   string
	Created time.Time
}

// Operator is a service-centre employee. Operators are not citizens: their
// accounts, passwords and sessions are their own.
type Operator struct {
	ID           string
	Login        string
	Name         string
	Role         Role
	PasswordHash string
	// TOTPSecret is the authenticator secret, sealed (see Service).
	TOTPSecret []byte
	Disabled   bool
	// Centres are the ids of the centres the operator works at.
	Centres []string
	Created time.Time
}

// Entry is one row of a centre's journal.
type Entry struct {
	ID         int64 // the journal number
	CentreID   string
	OperatorID string
	Role       Role
	Action     string // "lookup", "confirm", "slip", "signin", "disable"
	AccountID  string // the citizen, when there is one
	Reason     string // why the operator looked (lookups)
	Detail     string // what was looked up by ("snils", "passport", "phone") or the outcome
	IP         string
	At         time.Time
}

// Store keeps centres, operators and journals.
type Store interface {
	CreateCentre(ctx context.Context, c *Centre) error
	GetCentre(ctx context.Context, id string) (*Centre, error)
	GetCentreByCode(ctx context.Context, code string) (*Centre, error)
	ListCentres(ctx context.Context) ([]*Centre, error)
	// CreateOperator stores o and its centres (storage.ErrConflict for a
	// login in use).
	CreateOperator(ctx context.Context, o *Operator) error
	GetOperator(ctx context.Context, id string) (*Operator, error)
	GetOperatorByLogin(ctx context.Context, login string) (*Operator, error)
	ListOperators(ctx context.Context) ([]*Operator, error)
	SetOperatorDisabled(ctx context.Context, id string, disabled bool) error
	// AppendJournal adds e and sets its ID. The journal has no update and
	// no delete (the database refuses them).
	AppendJournal(ctx context.Context, e *Entry) error
	// ListJournal returns a centre's entries newest first, at most limit.
	ListJournal(ctx context.Context, centreID string, limit int) ([]*Entry, error)
	GetJournalEntry(ctx context.Context, id int64) (*Entry, error)
}

// Errors callers branch on.
var (
	ErrDenied    = errors.New("operator: not allowed")
	ErrBadSignIn = errors.New("operator: wrong login, password or code")
	ErrLocked    = errors.New("operator: sign-in locked; try later")
	ErrNoCentre  = errors.New("operator: not an operator of this centre")
	ErrNotFound  = errors.New("operator: no such citizen")
	ErrMismatch  = errors.New("operator: the document shown is not the verified one")
	ErrNoReason  = errors.New("operator: a reason is required")
	ErrBadQuery  = errors.New("operator: not a SNILS, passport or phone")
)
