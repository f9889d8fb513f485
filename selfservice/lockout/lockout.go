// Package lockout is the password failure counter that every step checking
// a citizen's password shares (the sign-in and the change of password):
// DESIGN.md "Decisions", lockout. An attempt is counted before the password
// is compared, so parallel attempts cannot compare more than MaxFailures
// passwords in a window; the attempt after the MaxFailures-th failure is
// refused as locked until the window ends or the lockout is lifted (a
// recovery, a right password).
//
// A budget is counted per account, per device that signed in to the
// account before (so a stranger cannot lock the owner out on the owner's
// own browser or app), and per login that names no account (so that the
// answers do not tell who has one).
//
// The counters live in the short-lived store; a lock is also kept durably
// (storage.Holds), so that a store that loses its data (Redis restarted
// empty) does not hand a locked login three more guesses.
package lockout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gosid/gosid/storage"
)

// Policy (DESIGN.md "Decisions").
const (
	// MaxFailures wrong passwords in a window lock the password.
	MaxFailures = 3
	// Window is how long the counter lives from its first failure: the
	// lockout ends with it.
	Window = 15 * time.Minute
	// Minutes is Window as notices and audit events tell it.
	Minutes = "15"
)

// kvFailures prefixes the failure counters (the keys are unchanged from
// earlier versions, so counters in flight keep working).
const kvFailures = "login:fail:"

// holdLock prefixes the durable copy of a lock; the rest is the budget.
const holdLock = "lock:"

// Budget names one failure budget.
type Budget string

// Account is the budget every attempt on the account shares, but those of
// its known devices.
func Account(accountID string) Budget { return Budget(kvFailures + accountID) }

// Device is the budget of a device that signed in to the account before;
// device is the hash the device is known by.
func Device(accountID, device string) Budget {
	return Budget(kvFailures + accountID + ":dev:" + device)
}

// Login is the budget of a login that names no account; key names the
// login without storing it (an HMAC of its normalised form).
func Login(key string) Budget { return Budget(kvFailures + "id:" + key) }

// Counter counts password attempts.
type Counter struct {
	kv    storage.Ephemeral
	holds storage.Holds
	now   func() time.Time
}

// New returns a counter kept in kv; locks are also kept in holds (nil
// keeps them in kv only).
func New(kv storage.Ephemeral, holds storage.Holds) *Counter {
	return &Counter{kv: kv, holds: holds, now: time.Now}
}

// Attempt is one counted attempt: its number in the window.
type Attempt int64

// Locked reports whether the attempt is refused without comparing the
// password: MaxFailures attempts were counted before it.
func (a Attempt) Locked() bool { return a > MaxFailures }

// Locks reports whether the attempt, if its password is wrong, is the one
// that locks (the MaxFailures-th): the caller then calls Lock.
func (a Attempt) Locks() bool { return a == MaxFailures }

// Take counts an attempt on a budget; call it before the password is
// compared. A budget the short-lived store forgot but that is locked
// durably answers as locked.
func (c *Counter) Take(ctx context.Context, b Budget) (Attempt, error) {
	n, err := c.kv.Incr(ctx, string(b), Window)
	if err != nil {
		return 0, fmt.Errorf("failure counter: %w", err)
	}
	a := Attempt(n)
	if a.Locked() || c.holds == nil {
		return a, nil
	}
	// Read only under the limit, next to a password hash that costs far
	// more than this lookup.
	if _, err := c.holds.HoldUntil(ctx, holdLock+string(b), c.now()); err == nil {
		return MaxFailures + 1, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return 0, fmt.Errorf("failure counter: durable lock: %w", err)
	}
	return a, nil
}

// Lock keeps the budget's lock durably until the window ends.
func (c *Counter) Lock(ctx context.Context, b Budget) error {
	if c.holds == nil {
		return nil
	}
	if err := c.holds.PutHold(ctx, holdLock+string(b), c.now().Add(Window)); err != nil {
		return fmt.Errorf("failure counter: durable lock: %w", err)
	}
	return nil
}

// Reset clears a budget and its lock: a right password, or a recovery that
// proved the citizen, ends a lockout at once.
func (c *Counter) Reset(ctx context.Context, b Budget) error {
	if err := c.kv.Delete(ctx, string(b)); err != nil {
		return fmt.Errorf("reset failure counter: %w", err)
	}
	if c.holds != nil {
		if err := c.holds.DeleteHold(ctx, holdLock+string(b)); err != nil {
			return fmt.Errorf("reset failure counter: durable lock: %w", err)
		}
	}
	return nil
}
