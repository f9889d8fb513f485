// Package post confirms a citizen's identity by a letter sent through
// Russian Post, as ESIA does: a citizen whose data the registries verified
// orders a letter to the verified registration address; the letter carries
// a one-time code; entering the code on the account page raises the account
// to confirmed.
//
// The code is kept two ways: as a keyed hash, which is all that checking it
// needs, and sealed inside the letter's contents (with the recipient's name
// and address) only until the letter is handed to the print house: the
// export that prints it wipes the sealed copy in the same transaction.
package post

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/pii"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/verify"
)

// Status of a letter.
type Status string

// Statuses: ordered → printed (handed to the print house) → used; a new
// order or too many wrong codes cancels.
const (
	StatusOrdered   Status = "ordered"
	StatusPrinted   Status = "printed"
	StatusUsed      Status = "used"
	StatusCancelled Status = "cancelled"
)

// Letter is one ordered letter.
type Letter struct {
	ID        string
	AccountID string
	Status    Status
	CodeHash  string
	// Sealed is the letter's contents (Contents), sealed; nil once printed.
	Sealed    []byte
	Attempts  int
	OrderedAt time.Time
	ExpiresAt time.Time
	PrintedAt time.Time
	UsedAt    time.Time
}

// Live reports whether the letter's code can still be entered at now.
func (l *Letter) Live(now time.Time) bool {
	return (l.Status == StatusOrdered || l.Status == StatusPrinted) && now.Before(l.ExpiresAt)
}

// Contents is what is printed on a letter.
type Contents struct {
	Name    string          `json:"name"`
	Address *verify.Address `json:"address"`
	Code    string          `json:"code"`
	Expires string          `json:"expires"` // YYYY-MM-DD
}

// Store keeps letters.
type Store interface {
	// LockLetters serialises changes to an account's letters until the
	// transaction ctx carries ends.
	LockLetters(ctx context.Context, accountID string) error
	InsertLetter(ctx context.Context, l *Letter) error
	// CancelLetters cancels the account's live letters (wiping their
	// contents).
	CancelLetters(ctx context.Context, accountID string) error
	CountLetters(ctx context.Context, accountID string, since time.Time) (int, error)
	// LatestLetter returns the account's newest letter (storage.ErrNotFound
	// when there is none).
	LatestLetter(ctx context.Context, accountID string) (*Letter, error)
	// AddAttempt counts an attempt at a live letter's code, unless max were
	// made: it returns the attempts made including this one, and false
	// when none was left.
	AddAttempt(ctx context.Context, id string, max int) (int, bool, error)
	// SetLetterStatus moves a letter from one of from to to (false when it
	// was in none of them), wiping its contents.
	SetLetterStatus(ctx context.Context, id string, to Status, at time.Time, from ...Status) (bool, error)
	// LettersToPrint returns ordered letters, oldest first.
	LettersToPrint(ctx context.Context, limit int) ([]*Letter, error)
}

// Accounts is what the service needs of the account store.
type Accounts interface {
	GetAccount(ctx context.Context, id string) (*account.Account, error)
}

// Verifier is what the service needs of package verify.
type Verifier interface {
	Get(ctx context.Context, accountID string) (*verify.Profile, *verify.Record, error)
	Confirm(ctx context.Context, accountID string, c verify.Confirmation) (*account.Account, error)
}

// Cipher seals letters' contents.
type Cipher interface {
	Encrypt(plaintext, aad []byte) ([]byte, error)
	Decrypt(ctx context.Context, ct, aad []byte) ([]byte, error)
}

// Transactor runs fn in one transaction of the durable stores.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Options are the service's dependencies and limits.
type Options struct {
	Store    Store
	Accounts Accounts
	Verify   Verifier
	Audit    audit.Store
	Tx       Transactor
	Cipher   Cipher
	// HashKey keys the hash of codes (at least 32 bytes).
	HashKey []byte
	// Validity is how long a code is valid from the order (60 days).
	Validity time.Duration
	// MaxAttempts is how many codes may be tried on one letter (5).
	MaxAttempts int
	// MaxOrders is how many letters an account may order in a year (3).
	MaxOrders int
	Logger    *slog.Logger
	Now       func() time.Time
}

// Service orders letters and checks their codes.
type Service struct{ o Options }

// New returns the service.
func New(o Options) *Service {
	if o.Validity <= 0 {
		o.Validity = 60 * 24 * time.Hour
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.MaxOrders <= 0 {
		o.MaxOrders = 3
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{o: o}
}

// Errors callers branch on.
var (
	ErrLevel     = errors.New("post: the account's data are not verified")
	ErrConfirmed = errors.New("post: the account is already confirmed")
	ErrAddress   = errors.New("post: no verified registration address")
	ErrLimit     = errors.New("post: too many letters this year")
	ErrNoLetter  = errors.New("post: no letter with a live code")
	ErrExpired   = errors.New("post: the code has expired")
	ErrBurned    = errors.New("post: too many wrong codes; the letter is cancelled")
)

// WrongCodeError is a wrong code with attempts left.
type WrongCodeError struct{ Left int }

func (e *WrongCodeError) Error() string {
	return "post: wrong code; " + strconv.Itoa(e.Left) + " attempts left"
}

func letterAAD(id string) []byte { return pii.AAD("post", id, "letter") }

func newID() string { return "L" + newCode() + newCode() }

// Order creates a letter for the account: its code, valid for Validity,
// replaces any earlier one. It returns the letter.
func (s *Service) Order(ctx context.Context, accountID, ip string) (*Letter, error) {
	a, err := s.o.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	switch a.Level {
	case account.LevelConfirmed:
		return nil, ErrConfirmed
	case account.LevelStandard:
	default:
		return nil, ErrLevel
	}
	p, _, err := s.o.Verify.Get(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if p.Verified == nil {
		return nil, ErrLevel
	}
	if p.Verified.Registration == nil {
		return nil, ErrAddress
	}
	now := s.o.Now().UTC()
	d := p.Verified
	code := newCode()
	l := &Letter{ID: newID(), AccountID: accountID, Status: StatusOrdered, OrderedAt: now, ExpiresAt: now.Add(s.o.Validity)}
	l.CodeHash = hashCode(s.o.HashKey, l.ID, code)
	raw, _ := json.Marshal(Contents{Name: d.FamilyName + " " + d.GivenName + " " + d.MiddleName, Address: d.Registration,
		Code: code, Expires: l.ExpiresAt.Format(time.DateOnly)})
	if l.Sealed, err = s.o.Cipher.Encrypt(raw, letterAAD(l.ID)); err != nil {
		return nil, err
	}
	err = s.o.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.o.Store.LockLetters(ctx, accountID); err != nil {
			return err
		}
		n, err := s.o.Store.CountLetters(ctx, accountID, now.AddDate(-1, 0, 0))
		if err != nil {
			return err
		}
		if n >= s.o.MaxOrders {
			return ErrLimit
		}
		if err := s.o.Store.CancelLetters(ctx, accountID); err != nil {
			return err
		}
		if err := s.o.Store.InsertLetter(ctx, l); err != nil {
			return err
		}
		return s.o.Audit.AppendEvent(ctx, &audit.Event{AccountID: accountID, Type: "post.ordered", IP: ip,
			Data: map[string]string{"letter": l.ID}, At: now})
	})
	if err != nil {
		return nil, fmt.Errorf("post: order: %w", err)
	}
	return l, nil
}

// Latest returns the account's newest letter, or nil.
func (s *Service) Latest(ctx context.Context, accountID string) (*Letter, error) {
	l, err := s.o.Store.LatestLetter(ctx, accountID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return l, err
}

// Enter checks a code typed by the citizen against their live letter; the
// right code confirms the account (cause post) in one transaction with the
// letter's use. The attempt is counted before the comparison, so parallel
// guesses cannot exceed the limit; the last wrong attempt cancels the
// letter.
func (s *Service) Enter(ctx context.Context, accountID, typed, ip string) error {
	code, err := ParseCode(typed)
	if err != nil {
		return err
	}
	l, err := s.Latest(ctx, accountID)
	if err != nil {
		return err
	}
	now := s.o.Now().UTC()
	switch {
	case l == nil || l.Status == StatusUsed || l.Status == StatusCancelled:
		return ErrNoLetter
	case !now.Before(l.ExpiresAt):
		return ErrExpired
	}
	n, ok, err := s.o.Store.AddAttempt(ctx, l.ID, s.o.MaxAttempts)
	if err != nil {
		return err
	}
	if !ok {
		return ErrBurned
	}
	if !sameHash(hashCode(s.o.HashKey, l.ID, code), l.CodeHash) {
		if n >= s.o.MaxAttempts {
			if _, err := s.o.Store.SetLetterStatus(ctx, l.ID, StatusCancelled, now, StatusOrdered, StatusPrinted); err != nil {
				return err
			}
			return ErrBurned
		}
		return &WrongCodeError{Left: s.o.MaxAttempts - n}
	}
	err = s.o.Tx.InTx(ctx, func(ctx context.Context) error {
		used, err := s.o.Store.SetLetterStatus(ctx, l.ID, StatusUsed, now, StatusOrdered, StatusPrinted)
		if err != nil {
			return err
		}
		if !used {
			return ErrNoLetter
		}
		if _, err := s.o.Verify.Confirm(ctx, accountID, verify.Confirmation{Cause: verify.CausePost, By: l.ID,
			Name: "Почта России"}); err != nil {
			return err
		}
		return s.o.Audit.AppendEvent(ctx, &audit.Event{AccountID: accountID, Type: "identity.confirmed_post", IP: ip,
			Data: map[string]string{"letter": l.ID}, At: now})
	})
	return err
}
