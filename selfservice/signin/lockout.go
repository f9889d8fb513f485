package signin

import (
	"context"
	"fmt"
)

// kvFailures prefixes the failed-password counter of an account (and,
// with "id:", of a login that has no account).
const kvFailures = "login:fail:"

// LiftLockout ends the password lockout of an account at once (a recovery
// proved the citizen): the next sign-in is not refused as locked.
func (s *Service) LiftLockout(ctx context.Context, accountID string) error {
	if err := s.o.Ephemeral.Delete(ctx, kvFailures+accountID); err != nil {
		return fmt.Errorf("lift lockout: %w", err)
	}
	return nil
}
