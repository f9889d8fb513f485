package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/pii"
)

// Causes of the confirmed level, for the audit trail and the activity log.
const (
	CauseCentre = "centre" // identity checked in person at a service centre
	CausePost   = "post"   // a confirmation code sent by Russian Post was entered
)

// Errors callers branch on.
var (
	// ErrNotVerified means the registries have not verified the account's
	// data yet: only verified data can be confirmed.
	ErrNotVerified = errors.New("verify: the account's data are not verified")
	// ErrAlreadyConfirmed means the account already is confirmed.
	ErrAlreadyConfirmed = errors.New("verify: the account is already confirmed")
	// ErrInactive means the account is blocked or deleted.
	ErrInactive = errors.New("verify: the account is not active")
)

// Confirm raises a standard account to the confirmed level with cause
// (CauseCentre, CausePost) and the details of who confirmed it (an
// operator and centre; a letter), recording a level.changed event. It runs
// in the caller's transaction when ctx carries one (InTx), so that the
// operator's journal row, the letter's use and the level change are one
// change; otherwise in its own.
func (s *Service) Confirm(ctx context.Context, accountID, cause string, detail map[string]string) error {
	return s.o.Tx.InTx(ctx, func(ctx context.Context) error {
		_, err := s.o.Accounts.UpdateAccount(ctx, accountID, func(a *account.Account) error {
			switch {
			case a.Status != account.StatusActive:
				return ErrInactive
			case a.Level == account.LevelConfirmed:
				return ErrAlreadyConfirmed
			case a.Level != account.LevelStandard:
				return ErrNotVerified
			}
			a.Level, a.UpdatedAt = account.LevelConfirmed, s.o.Now().UTC()
			return nil
		})
		if err != nil {
			return fmt.Errorf("verify: confirm: %w", err)
		}
		data := map[string]string{"from": string(account.LevelStandard), "to": string(account.LevelConfirmed), "cause": cause}
		for k, v := range detail {
			data[k] = v
		}
		return s.recordTx(ctx, accountID, "level.changed", data)
	})
}

// FindByPassport returns the account whose verified passport is series +
// number (digits only); storage.ErrNotFound otherwise.
func (s *Service) FindByPassport(ctx context.Context, seriesNumber string) (string, error) {
	return s.o.Store.FindByPassportIndex(ctx, s.o.Cipher.BlindIndex(pii.KindPassport, seriesNumber))
}
