package selfservice

import (
	"context"
	"fmt"

	"github.com/gosid/gosid/account"
)

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
