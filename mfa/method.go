package mfa

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gosid/gosid/account"
)

// A Method is one way of proving a second factor. The flows (sign-in,
// step-up, turning a factor on) call methods only through these interfaces,
// so a new way of signing in (a bank, an electronic signature) is a new
// Method in the table, not a new case in every flow.
//
// A method implements Method, and then only what applies to it: Sender when
// it sends a code to a confirmed contact, Ceremony when the browser runs a
// device ceremony first, Enroller when the citizen can turn it on as a
// factor of their own.
type Method interface {
	// Kind names the method in flows, stored factors and audit events.
	Kind() string
	// AMR is the RFC 8176 value a use adds to the session; f is the factor
	// used, nil when the method stores none (a code to a contact without a
	// factor, a recovery code). Relying services decide on it: a security
	// key must never be reported as "hwk" unless its transports say so.
	AMR(f *Factor) string
	// Usable reports whether the citizen can answer a challenge with the
	// method now. It never sends anything.
	Usable(ctx context.Context, s *Subject) (bool, error)
	// Check takes an answer. A refusal is an error the caller shows (see
	// the Err values); an error wrapping ErrFailedAttempt was a real guess,
	// which the audit log keeps. Any other error is internal. On success it
	// returns the factor used (nil when there is none) with its use
	// recorded, and counters of wrong answers are reset.
	Check(ctx context.Context, c *Challenge, in Answer) (*Factor, error)
}

// Sender is a method that sends a one-time code to a confirmed contact.
// Sending has limits of its own (package codes): their errors reach the
// caller unchanged.
type Sender interface {
	Method
	// Contact is where codes go, whether or not it is confirmed.
	Contact(a *account.Account) Contact
	// Send sends a code for purpose ("login", "stepup", "enroll", or a
	// flow's own, such as "delete"); Check and FinishEnroll accept it.
	Send(ctx context.Context, s *Subject, purpose string) error
}

// Ceremony is a method answered by a device ceremony in the browser
// (WebAuthn): the server's options are good for one attempt, so each
// showing of a page begins a new one.
type Ceremony interface {
	Method
	// BeginCheck keeps the ceremony in c.State and returns the options for
	// navigator.credentials.get.
	BeginCheck(ctx context.Context, c *Challenge) (json.RawMessage, error)
}

// Enroller is a method the citizen turns on as a factor of their own.
// Recovery codes are not one: they come with the first factor.
type Enroller interface {
	Method
	// BeginEnroll starts turning the method on; what FinishEnroll needs is
	// kept in e.State. It refuses with ErrExists or ErrNoContact, or a
	// limit of package codes.
	BeginEnroll(ctx context.Context, e *Enrolment) (*Setup, error)
	// Pending is what a pending enrolment shows again without changing
	// it (an authenticator's secret and QR code); nil when nothing.
	Pending(e *Enrolment) (*Setup, error)
	// FinishEnroll checks the first answer and returns the factor to store.
	FinishEnroll(ctx context.Context, e *Enrolment, in Answer) (*Factor, error)
}

// Refusals callers turn into messages. ErrInvalidCode, ErrReplayed and
// ErrTooMany (totp.go) and the errors of package codes are refusals too.
var (
	// ErrFailedAttempt marks a refusal that was a real guess (a wrong code,
	// a refused assertion) rather than a missing or premature answer.
	ErrFailedAttempt = errors.New("mfa: failed attempt")
	ErrNoAnswer      = errors.New("mfa: no answer")
	ErrNotSent       = errors.New("mfa: no code was sent for this method")
	ErrRecoveryCode  = errors.New("mfa: no such unused recovery code")
	ErrRefused       = errors.New("mfa: device ceremony refused")
	ErrNoFactor      = errors.New("mfa: the account has no such factor")
	ErrExists        = errors.New("mfa: the factor is already on")
	ErrNoContact     = errors.New("mfa: no confirmed contact for codes")
)

// attempt marks err as a failed attempt, keeping it for errors.Is.
func attempt(err error) error { return fmt.Errorf("%w: %w", ErrFailedAttempt, err) }

// Subject is the account a method works for.
type Subject struct {
	Account *account.Account
	// Factors are the account's factors that are on.
	Factors []*Factor
	// Lang is the language of messages; the account's when empty.
	Lang string
}

func (s *Subject) lang() string {
	if s.Lang != "" {
		return s.Lang
	}
	return s.Account.Locale
}

// factor returns the account's first factor of kind, or nil.
func (s *Subject) factor(kind string) *Factor {
	for _, f := range s.Factors {
		if f.Kind == kind {
			return f
		}
	}
	return nil
}

// Challenge is a second-factor challenge in progress. The caller keeps it
// between steps (in its flow) and passes it back.
type Challenge struct {
	Subject
	// Purpose scopes sent codes: a sign-in code does not confirm a step-up.
	Purpose string
	// Sent is the kind whose code went out last; a code method accepts
	// only its own code, and only after sending it.
	Sent string
	// State is a ceremony's state between BeginCheck and Check; Check
	// clears it on success (one answer per ceremony).
	State []byte
}

// Enrolment is a factor being turned on.
type Enrolment struct {
	Subject
	// State is what the method keeps between BeginEnroll and FinishEnroll
	// (sealed where it holds a secret).
	State []byte
}

// Answer is what the citizen submitted.
type Answer struct {
	Code string
	// Credential is a WebAuthn response as JSON.
	Credential []byte
	// Name is the citizen's label for a new security key.
	Name string
}

// Setup is what the citizen needs to finish turning a method on.
type Setup struct {
	// Authenticator is a new authenticator app's secret and QR code.
	Authenticator *Enrollment
	// Options are for navigator.credentials.create.
	Options json.RawMessage
}

// Contact is a phone or e-mail address codes go to.
type Contact struct {
	Channel   string // "phone" or "email"
	Address   string
	Confirmed bool
}

func (c Contact) usable() bool { return c.Confirmed && c.Address != "" }

// newFactor is a factor of kind for the enrolment, used now.
func newFactor(e *Enrolment, kind string, now time.Time) *Factor {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return &Factor{ID: base64.RawURLEncoding.EncodeToString(b), AccountID: e.Account.ID, Kind: kind,
		CreatedAt: now, LastUsedAt: now}
}

// Methods is the table of methods gosid offers, built once at start-up.
type Methods struct {
	list   []Method
	byKind map[string]Method
}

// NewMethods returns a table offering ms in this order.
func NewMethods(ms ...Method) *Methods {
	t := &Methods{byKind: make(map[string]Method, len(ms))}
	for _, m := range ms {
		t.list = append(t.list, m)
		t.byKind[m.Kind()] = m
	}
	return t
}

// Get returns the method of kind, nil when gosid does not offer it.
func (t *Methods) Get(kind string) Method { return t.byKind[kind] }

// Usable lists the methods the citizen can use now: those of the factors
// that are on, in the order they were turned on, then the others in the
// table's order.
func (t *Methods) Usable(ctx context.Context, s *Subject) ([]Method, error) {
	var out []Method
	seen := map[string]bool{}
	consider := func(m Method) error {
		if m == nil || seen[m.Kind()] {
			return nil
		}
		seen[m.Kind()] = true
		ok, err := m.Usable(ctx, s)
		if ok {
			out = append(out, m)
		}
		return err
	}
	for _, f := range s.Factors {
		if err := consider(t.byKind[f.Kind]); err != nil {
			return nil, err
		}
	}
	for _, m := range t.list {
		if err := consider(m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AMRMulti is the amr value (RFC 8176) of an authentication that used more
// than one factor.
const AMRMulti = "mfa"

// HasMFA reports whether an authentication's amr shows a second factor.
func HasMFA(amr []string) bool { return slices.Contains(amr, AMRMulti) }

// WithFactor adds a second factor's amr value (and "mfa") to amr.
func WithFactor(amr []string, method string) []string {
	out := slices.Clone(amr)
	for _, m := range []string{method, AMRMulti} {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}
