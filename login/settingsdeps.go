package login

import (
	"context"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/selfservice"
)

// What the personal-account settings (package selfservice/settings) need
// of the second factor, until it has a package of its own
// (settings.SecondFactor; Factors is in mfa.go).

// SendSecondFactorCode sends a one-time code for purpose by method ("sms"
// or "email") to the account's confirmed contact.
func (s *Service) SendSecondFactorCode(ctx context.Context, a *account.Account, method, purpose string, m selfservice.Meta) error {
	return s.sendSecondFactorCode(ctx, a, method, purpose, m)
}

// MaskedContact is the masked contact method sends codes to ("" for a
// method that sends none).
func (s *Service) MaskedContact(a *account.Account, method string) string {
	return s.contactView(a, method)
}
