package consent

import (
	"context"
	"fmt"
)

// Forget removes every consent the citizen gave (the account is being
// deleted); the grants themselves are revoked by the caller.
func (s *Service) Forget(ctx context.Context, subject string) error {
	grants, err := s.store.ListConsents(ctx, subject)
	if err != nil {
		return fmt.Errorf("consent: list: %w", err)
	}
	for _, g := range grants {
		if err := s.store.DeleteConsent(ctx, subject, g.ClientID); err != nil {
			return fmt.Errorf("consent: remove: %w", err)
		}
	}
	return nil
}
