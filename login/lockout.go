package login

import (
	"context"
	"fmt"
)

// LiftLockout ends the password lockout of an account at once (a recovery
// proved the citizen): the next sign-in is not refused as locked.
func (s *Service) LiftLockout(ctx context.Context, accountID string) error {
	if err := s.o.Ephemeral.Delete(ctx, "login:fail:"+accountID); err != nil {
		return fmt.Errorf("lift lockout: %w", err)
	}
	return nil
}
