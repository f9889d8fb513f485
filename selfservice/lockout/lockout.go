// Package lockout is the per-account password failure counter that every
// step checking a citizen's password shares (the sign-in and the change of
// password): DESIGN.md "Decisions", lockout. An attempt is counted before
// the password is compared, so parallel attempts cannot compare more than
// MaxFailures passwords in a window; the attempt after the MaxFailures-th
// failure is refused as locked until the window ends or the lockout is
// lifted (a recovery, a right password).
package lockout

import (
	"context"
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

// kvFailures prefixes the failed-password counter of an account (and,
// with "id:", of a login that has no account).
const kvFailures = "login:fail:"

// Counter counts password attempts in the short-lived store.
type Counter struct {
	kv storage.Ephemeral
}

// New returns a counter kept in kv.
func New(kv storage.Ephemeral) *Counter { return &Counter{kv: kv} }

// Attempt is one counted attempt: its number in the window.
type Attempt int64

// Locked reports whether the attempt is refused without comparing the
// password: MaxFailures attempts were counted before it.
func (a Attempt) Locked() bool { return a > MaxFailures }

// Locks reports whether the attempt, if its password is wrong, is the one
// that locks (the MaxFailures-th).
func (a Attempt) Locks() bool { return a == MaxFailures }

// Take counts an attempt on the account's password; call it before the
// password is compared.
func (c *Counter) Take(ctx context.Context, accountID string) (Attempt, error) {
	return c.take(ctx, kvFailures+accountID)
}

// TakeDevice counts an attempt on the account's password from a device
// that has signed in to it before: such a device keeps a budget of its
// own, so that a stranger who locks the account's password for everyone
// else (three guesses at a known phone number) does not lock its owner out
// on the owner's own browser or app. device is a hash of the device id.
func (c *Counter) TakeDevice(ctx context.Context, accountID, device string) (Attempt, error) {
	return c.take(ctx, kvFailures+accountID+":dev:"+device)
}

// ResetDevice clears a known device's own counter.
func (c *Counter) ResetDevice(ctx context.Context, accountID, device string) error {
	if err := c.kv.Delete(ctx, kvFailures+accountID+":dev:"+device); err != nil {
		return fmt.Errorf("reset failure counter: %w", err)
	}
	return nil
}

// TakeLogin counts an attempt on a login that names no account; key
// names the login without storing it (an HMAC of its normalised form).
func (c *Counter) TakeLogin(ctx context.Context, key string) (Attempt, error) {
	return c.take(ctx, kvFailures+"id:"+key)
}

func (c *Counter) take(ctx context.Context, key string) (Attempt, error) {
	n, err := c.kv.Incr(ctx, key, Window)
	if err != nil {
		return 0, fmt.Errorf("failure counter: %w", err)
	}
	return Attempt(n), nil
}

// Reset clears the account's counter: a right password, or a recovery
// that proved the citizen, ends a lockout at once.
func (c *Counter) Reset(ctx context.Context, accountID string) error {
	if err := c.kv.Delete(ctx, kvFailures+accountID); err != nil {
		return fmt.Errorf("reset failure counter: %w", err)
	}
	return nil
}
