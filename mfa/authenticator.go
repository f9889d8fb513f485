package mfa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/keys"
)

// Authenticator is the authenticator-app method (TOTP). Its secret is
// sealed at rest and in the enrolment flow, bound to the account, so a
// sealed secret copied to another account does not open.
type Authenticator struct {
	Issuer   string // names gosid in the app
	Sealer   *keys.Sealer
	Verifier *Verifier
	Factors  Store
	Now      func() time.Time
}

var _ Enroller = (*Authenticator)(nil)

func (*Authenticator) Kind() string { return KindTOTP }

// AMR: an authenticator code is a one-time password.
func (*Authenticator) AMR(*Factor) string { return "otp" }

func (m *Authenticator) Usable(_ context.Context, s *Subject) (bool, error) {
	return s.factor(KindTOTP) != nil, nil
}

// Check verifies the code with the Verifier's replay rule and attempt
// counter; every refused code counts as an attempt.
func (m *Authenticator) Check(ctx context.Context, c *Challenge, in Answer) (*Factor, error) {
	f := c.factor(KindTOTP)
	if f == nil {
		return nil, ErrNoFactor
	}
	if in.Code == "" {
		return nil, ErrNoAnswer
	}
	raw, err := m.Sealer.Open(f.Secret, []byte("mfa:totp:"+f.AccountID))
	if err != nil {
		return nil, fmt.Errorf("mfa: open totp secret: %w", err)
	}
	if err := m.verify(ctx, c.Account.ID, string(raw), in.Code); err != nil {
		if isRefusal(err) {
			return nil, attempt(err)
		}
		return nil, err
	}
	if err := m.Factors.UpdateFactorUse(ctx, c.Account.ID, f.ID, m.Now().UTC(), nil); err != nil {
		return nil, fmt.Errorf("mfa: record totp use: %w", err)
	}
	return f, nil
}

func (m *Authenticator) verify(ctx context.Context, accountID, secret, code string) error {
	err := m.Verifier.Verify(ctx, accountID, secret, code)
	if err != nil && !isRefusal(err) {
		return fmt.Errorf("mfa: verify totp: %w", err)
	}
	return err
}

func isRefusal(err error) bool {
	return errors.Is(err, ErrInvalidCode) || errors.Is(err, ErrReplayed) || errors.Is(err, ErrTooMany)
}

// BeginEnroll makes a new secret; an account has one authenticator at most.
func (m *Authenticator) BeginEnroll(_ context.Context, e *Enrolment) (*Setup, error) {
	if e.factor(KindTOTP) != nil {
		return nil, ErrExists
	}
	en, err := NewEnrollment(m.Issuer, Label(e.Account))
	if err != nil {
		return nil, err
	}
	if e.State, err = m.Sealer.Seal([]byte(en.URL), enrollAAD(e)); err != nil {
		return nil, fmt.Errorf("mfa: seal totp enrolment: %w", err)
	}
	return &Setup{Authenticator: en}, nil
}

func enrollAAD(e *Enrolment) []byte { return []byte("mfa:enroll:" + e.Account.ID) }

// Pending shows the new secret and its QR code again.
func (m *Authenticator) Pending(e *Enrolment) (*Setup, error) {
	raw, err := m.Sealer.Open(e.State, enrollAAD(e))
	if err != nil {
		return nil, fmt.Errorf("mfa: open totp enrolment: %w", err)
	}
	en, err := EnrollmentFromURL(string(raw))
	if err != nil {
		return nil, err
	}
	return &Setup{Authenticator: en}, nil
}

// FinishEnroll takes the app's first code, with the same counter and
// replay rule as a sign-in (a refused code is not an audited attempt).
func (m *Authenticator) FinishEnroll(ctx context.Context, e *Enrolment, in Answer) (*Factor, error) {
	if in.Code == "" {
		return nil, ErrNoAnswer
	}
	setup, err := m.Pending(e)
	if err != nil {
		return nil, err
	}
	secret := setup.Authenticator.Secret
	if err := m.verify(ctx, e.Account.ID, secret, in.Code); err != nil {
		return nil, err
	}
	f := newFactor(e, KindTOTP, m.Now().UTC())
	if f.Secret, err = m.Sealer.Seal([]byte(secret), []byte("mfa:totp:"+e.Account.ID)); err != nil {
		return nil, fmt.Errorf("mfa: seal totp secret: %w", err)
	}
	return f, nil
}

// Label is how an authenticator app or a security key names the account.
func Label(a *account.Account) string {
	if a.Email != "" {
		return a.Email
	}
	return a.Phone
}
