package selfservice

import (
	"context"
	"fmt"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/selfservice/lockout"
)

// Outcomes of CheckPassword.
const (
	PasswordRight  = "success"
	PasswordWrong  = "invalid"
	PasswordLocked = "locked"
)

// PasswordEvents name the audit events of one step that checks a
// password (the lock itself is always "login.locked": it is one lock).
type PasswordEvents struct {
	// Failure is a wrong password ("login.failure").
	Failure string
	// Blocked is an attempt refused while locked ("login.blocked_attempt").
	Blocked string
}

// CheckPassword compares a citizen's password under the per-account
// lockout that every step checking one shares (package lockout): the
// attempt is counted before the password is compared, so parallel attempts
// compare at most lockout.MaxFailures passwords; the MaxFailures-th wrong
// one locks for lockout.Window (recorded, and the owner is told), later
// ones are refused without comparing; a right one clears the counter. It
// returns PasswordRight, PasswordWrong or PasswordLocked.
func (e *Engine) CheckPassword(ctx context.Context, m Meta, a *account.Account, password string, ev PasswordEvents) (string, error) {
	if e.Lockout == nil {
		return "", fmt.Errorf("check password: no lockout counter")
	}
	// A device the account was used from before has a budget of its own;
	// every other attempt (strangers, new devices) shares the account's.
	known, device, err := e.Sessions.KnownDevice(ctx, a.ID, m.Device)
	if err != nil {
		return "", err
	}
	budget := lockout.Account(a.ID)
	if known {
		budget = lockout.Device(a.ID, device)
	}
	n, err := e.Lockout.Take(ctx, budget)
	if err != nil {
		return "", err
	}
	if n.Locked() {
		e.RecordBlocked(ctx, m, a.ID, ev.Blocked, budget, int64(n)-lockout.MaxFailures)
		return PasswordLocked, nil
	}
	ok, _, err := e.Passwords.Verify(ctx, a.PasswordHash, password)
	if err != nil {
		return "", fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		e.Record(ctx, m, a.ID, ev.Failure, "", map[string]string{"failures": fmt.Sprint(int64(n))})
		if n.Locks() {
			if err := e.Lockout.Lock(ctx, budget); err != nil {
				return "", err
			}
			e.Record(ctx, m, a.ID, "login.locked", "", map[string]string{"minutes": lockout.Minutes})
			e.Notify(ctx, a, "login_locked", m, map[string]string{"minutes": lockout.Minutes,
				"recover_url": e.Issuer + PathRecovery})
			return PasswordLocked, nil
		}
		return PasswordWrong, nil
	}
	if err := e.Lockout.Reset(ctx, budget); err != nil {
		return "", err
	}
	return PasswordRight, nil
}

// LiftLockout ends the password lockout of an account at once (a recovery
// proved the citizen): the next password is compared again.
func (e *Engine) LiftLockout(ctx context.Context, accountID, device string) error {
	if e.Lockout == nil {
		return fmt.Errorf("lift lockout: no lockout counter")
	}
	if err := e.Lockout.Reset(ctx, lockout.Account(accountID)); err != nil {
		return fmt.Errorf("lift lockout: %w", err)
	}
	e.forgetBlocked(ctx, lockout.Account(accountID))
	// The device that proved the citizen keeps its own budget: lift it too.
	if known, h, err := e.Sessions.KnownDevice(ctx, accountID, device); err != nil {
		return fmt.Errorf("lift lockout: %w", err)
	} else if known {
		if err := e.Lockout.Reset(ctx, lockout.Device(accountID, h)); err != nil {
			return fmt.Errorf("lift lockout: %w", err)
		}
		e.forgetBlocked(ctx, lockout.Device(accountID, h))
	}
	return nil
}

// CheckNewPassword applies the policy and the confirmation field.
func CheckNewPassword(a *account.Account, in Input) *account.FieldError {
	pw := in["password"]
	if pw == "" {
		return &account.FieldError{Field: "password", Code: "password.required"}
	}
	if fe := account.CheckPassword(pw, account.PersonalData{
		Phone: a.Phone, Email: a.Email, FamilyName: a.FamilyName, GivenName: a.GivenName, MiddleName: a.MiddleName,
	}); fe != nil {
		return fe
	}
	if pw != in["password_confirm"] {
		return &account.FieldError{Field: "password_confirm", Code: "password.mismatch"}
	}
	return nil
}

// SetPassword stores a new password, ends every session of the account,
// revokes every grant (refresh tokens stop at once, access tokens are
// deny-listed), records and notifies. The password, the session index, the
// grants and the audit event change in one transaction; the session epoch
// (short-lived) is bumped once it committed. a becomes the account as
// written.
func (e *Engine) SetPassword(ctx context.Context, a *account.Account, pw string, m Meta, event string) error {
	hash, err := e.Passwords.Hash(ctx, pw)
	if err != nil {
		return fmt.Errorf("set password: hash: %w", err)
	}
	now := e.Now().UTC()
	var (
		updated *account.Account
		ended   []*account.SessionRecord
	)
	err = e.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		updated, err = e.Accounts.UpdateAccount(ctx, a.ID, func(a *account.Account) error {
			a.PasswordHash, a.PasswordChangedAt, a.UpdatedAt = hash, now, now
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if ended, err = e.Sessions.Unindex(ctx, a.ID); err != nil {
			return err
		}
		if e.OAuth != nil {
			if err := e.OAuth.RevokeSubject(ctx, a.ID, ""); err != nil {
				return fmt.Errorf("revoke grants: %w", err)
			}
		}
		e.Record(ctx, m, a.ID, event, "", nil)
		return nil
	})
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	*a = *updated
	if _, err := e.Sessions.EndUnindexed(ctx, a.ID, ended); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	e.Notify(ctx, a, "password_changed", m, nil)
	return nil
}
