package signin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gosid/gosid/storage"
)

// kvFailures prefixes the failed-password counter of an account (and,
// with "id:", of a login that has no account).
const kvFailures = "login:fail:"

// holdLock prefixes the durable copy of a lock (storage.Holds); the rest is
// the counter's key. The counter lives in the short-lived store, which may
// lose its data (Redis restarted empty): the lock itself must not go with
// it, or a locked login would get three more guesses (#10 defect 5). The
// hold is read only while the counter says "not locked", next to a password
// hash that costs far more than the lookup.
const holdLock = "lock:"

// LiftLockout ends the password lockout of an account at once (a recovery
// proved the citizen): the next sign-in is not refused as locked.
func (s *Service) LiftLockout(ctx context.Context, accountID string) error {
	if err := s.o.Ephemeral.Delete(ctx, kvFailures+accountID); err != nil {
		return fmt.Errorf("lift lockout: %w", err)
	}
	if err := s.releaseLock(ctx, kvFailures+accountID); err != nil {
		return fmt.Errorf("lift lockout: %w", err)
	}
	return nil
}

// heldLocked reports whether the counter key is locked by its durable hold.
func (s *Service) heldLocked(ctx context.Context, key string) (bool, error) {
	if s.o.Holds == nil {
		return false, nil
	}
	_, err := s.o.Holds.HoldUntil(ctx, holdLock+key, time.Now())
	if err == nil {
		return true, nil
	}
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return false, fmt.Errorf("lockout hold: %w", err)
}

// holdLocked records durably that the counter key locks its login for the
// lockout period.
func (s *Service) holdLocked(ctx context.Context, key string) error {
	if s.o.Holds == nil {
		return nil
	}
	if err := s.o.Holds.PutHold(ctx, holdLock+key, time.Now().Add(passwordLockout)); err != nil {
		return fmt.Errorf("lockout hold: %w", err)
	}
	return nil
}

// releaseLock removes the durable lock of the counter key.
func (s *Service) releaseLock(ctx context.Context, key string) error {
	if s.o.Holds == nil {
		return nil
	}
	return s.o.Holds.DeleteHold(ctx, holdLock+key)
}
