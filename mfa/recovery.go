package mfa

import (
	"context"
	"fmt"
	"time"

	"github.com/gosid/gosid/storage"
)

// Recovery-code limits (DESIGN.md "Decisions"): a counter of their own, so
// guessing recovery codes does not spend the authenticator's attempts.
const (
	maxRecoveryFails = 5
	recoveryLockout  = 15 * time.Minute
)

// RecoveryCodes is the method of last resort: one of the ten codes shown
// when the first factor was turned on. Each is accepted once.
type RecoveryCodes struct {
	// Key keys the HMAC of stored codes.
	Key       []byte
	Factors   Store
	Ephemeral storage.Ephemeral
	Now       func() time.Time
}

var _ Method = (*RecoveryCodes)(nil)

func (*RecoveryCodes) Kind() string { return KindRecovery }

// AMR: a recovery code is a one-time password.
func (*RecoveryCodes) AMR(*Factor) string { return "otp" }

// Usable: codes are offered only beside a factor, while some are left.
func (m *RecoveryCodes) Usable(ctx context.Context, s *Subject) (bool, error) {
	if len(s.Factors) == 0 {
		return false, nil
	}
	left, err := m.Left(ctx, s.Account.ID)
	return left > 0, err
}

// Left counts the unused codes.
func (m *RecoveryCodes) Left(ctx context.Context, accountID string) (int, error) {
	n, err := m.Factors.RecoveryCodesLeft(ctx, accountID)
	if err != nil {
		return 0, fmt.Errorf("mfa: count recovery codes: %w", err)
	}
	return n, nil
}

// Check spends a code. The counter is taken before the check, so parallel
// guesses cannot pass the limit; a lockout is refused without counting as
// an attempt (nothing was compared).
func (m *RecoveryCodes) Check(ctx context.Context, c *Challenge, in Answer) (*Factor, error) {
	if in.Code == "" {
		return nil, ErrNoAnswer
	}
	accountID := c.Account.ID
	key := "mfa:recovery:fail:" + accountID
	fails, err := m.Ephemeral.Incr(ctx, key, recoveryLockout)
	if err != nil {
		return nil, fmt.Errorf("mfa: count recovery attempts: %w", err)
	}
	if fails > maxRecoveryFails {
		return nil, ErrTooMany
	}
	ok := false
	if code := NormalizeRecoveryCode(in.Code); code != "" {
		ok, err = m.Factors.UseRecoveryCode(ctx, accountID, HashRecoveryCode(m.Key, accountID, code), m.Now().UTC())
		if err != nil {
			return nil, fmt.Errorf("mfa: use recovery code: %w", err)
		}
	}
	if !ok {
		return nil, attempt(ErrRecoveryCode)
	}
	if err := m.Ephemeral.Delete(ctx, key); err != nil {
		return nil, fmt.Errorf("mfa: reset recovery attempts: %w", err)
	}
	return nil, nil
}

// Renew replaces the account's codes and returns the new ones, to be shown
// once.
func (m *RecoveryCodes) Renew(ctx context.Context, accountID string) ([]string, error) {
	list, err := NewRecoveryCodes()
	if err != nil {
		return nil, err
	}
	hashes := make([]string, len(list))
	for i, c := range list {
		hashes[i] = HashRecoveryCode(m.Key, accountID, NormalizeRecoveryCode(c))
	}
	if err := m.Factors.ReplaceRecoveryCodes(ctx, accountID, hashes, m.Now().UTC()); err != nil {
		return nil, fmt.Errorf("mfa: replace recovery codes: %w", err)
	}
	return list, nil
}
