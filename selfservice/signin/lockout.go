package signin

import (
	"context"
)

// LiftLockout ends the password lockout of an account at once (a recovery
// proved the citizen): the next sign-in is not refused as locked. The
// counter is the engine's, shared with the change of password.
func (s *Service) LiftLockout(ctx context.Context, accountID, device string) error {
	return s.Engine.LiftLockout(ctx, accountID, device)
}
