package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/pii"
)

// Causes of a confirmation.
const (
	// CauseBank: a partner bank vouched for the citizen.
	CauseBank = "bank"
	// CauseESignature: a qualified electronic signature whose
	// certificate matched the verified data.
	CauseESignature = "esignature"
)

// Confirmation is an identity confirmed outside the registries: by a
// partner bank whose verified identifiers matched the account's verified
// data (the caller compared them).
type Confirmation struct {
	Cause string
	// By names who confirmed (the bank's id); Subject is its own name for
	// the citizen (the bank's sub); ACR its assurance of the sign-in.
	By, Subject, ACR string
	// Name is the confirmer's display name for the notice (a bank's).
	Name string
	// Details go into the audit events (a certificate's issuer, serial
	// and validity).
	Details map[string]string
	// Also runs in the confirmation's transaction (linking the bank
	// identity): its failure undoes the confirmation.
	Also func(ctx context.Context) error
}

// ErrNotVerified means the account has no registry-verified data to
// confirm (it is not standard yet, or its data is being checked again).
var ErrNotVerified = errors.New("verify: the account's data is not verified")

// Confirm raises a standard account to confirmed: the level, c.Also (the
// link) and the audit event are one change, and the citizen is told. An
// account confirmed already stays so (c.Also still runs, so a second bank
// links).
func (s *Service) Confirm(ctx context.Context, accountID string, c Confirmation) (*account.Account, error) {
	p, _, err := s.Get(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if p.Verified == nil || p.Status != StatusVerified {
		return nil, ErrNotVerified
	}
	raised := false
	var a *account.Account
	err = s.o.Tx.InTx(ctx, func(ctx context.Context) error {
		var from account.Level
		// The account row first: the lock order of every change spanning
		// tables.
		a, err = s.o.Accounts.UpdateAccount(ctx, accountID, func(a *account.Account) error {
			if a.Status != account.StatusActive {
				return errInactive
			}
			if a.Level.Rank() < account.LevelStandard.Rank() {
				return ErrNotVerified
			}
			if a.Level == account.LevelConfirmed {
				return errUnchanged
			}
			from, a.Level, a.UpdatedAt, raised = a.Level, account.LevelConfirmed, s.o.Now().UTC(), true
			return nil
		})
		if errors.Is(err, errUnchanged) {
			a, err = s.o.Accounts.GetAccount(ctx, accountID)
		}
		if err != nil {
			return err
		}
		if c.Also != nil {
			if err := c.Also(ctx); err != nil {
				return err
			}
		}
		data := map[string]string{"cause": c.Cause, "by": c.By, "subject": c.Subject, "acr": c.ACR}
		for k, v := range c.Details {
			if _, taken := data[k]; !taken {
				data[k] = v
			}
		}
		if raised {
			data["from"], data["to"] = string(from), string(account.LevelConfirmed)
			if err := s.recordTx(ctx, accountID, "level.changed", data); err != nil {
				return err
			}
		}
		return s.recordTx(ctx, accountID, "identity.confirmed", data)
	})
	if errors.Is(err, errInactive) {
		return nil, ErrNotVerified
	} else if err != nil {
		return nil, fmt.Errorf("verify: confirm: %w", err)
	}
	if raised {
		s.o.Notify(ctx, a, "identity_confirmed", map[string]string{"cause": c.Cause, "by": c.Name})
	}
	return a, nil
}

// Causes of a level confirmed in person and by letter.
const (
	CauseCentre = "centre" // identity checked in person at a service centre
	CausePost   = "post"   // a confirmation code sent by Russian Post was entered
)

// ErrAlreadyConfirmed means the account already is confirmed.
var ErrAlreadyConfirmed = errors.New("verify: the account is already confirmed")

// FindByPassport returns the account whose verified passport is series +
// number (digits only); storage.ErrNotFound otherwise.
func (s *Service) FindByPassport(ctx context.Context, seriesNumber string) (string, error) {
	return s.o.Store.FindByPassportIndex(ctx, s.o.Cipher.BlindIndex(pii.KindPassport, seriesNumber))
}
