package signin

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
)

// kvFailures prefixes the failed-password counter of an account (and,
// with "id:", of a login that has no account).
const kvFailures = "login:fail:"

// kvBlockedEvent prefixes the id of the audit event that counts an
// account's sign-in attempts refused during its current lockout.
const kvBlockedEvent = "login:blocked-event:"

// eventPending marks a blocked-attempt event being written.
const eventPending = "pending"

// LiftLockout ends the password lockout of an account at once (a recovery
// proved the citizen): the next sign-in is not refused as locked.
func (s *Service) LiftLockout(ctx context.Context, accountID string) error {
	if err := s.o.Ephemeral.Delete(ctx, kvFailures+accountID); err != nil {
		return fmt.Errorf("lift lockout: %w", err)
	}
	if err := s.o.Ephemeral.Delete(ctx, kvBlockedEvent+accountID); err != nil {
		return fmt.Errorf("lift lockout: %w", err)
	}
	return nil
}

// recordBlocked records the n-th sign-in attempt refused during the
// account's current lockout (n counts them: the failure counter past its
// limit, an atomic counter in the short-lived store). The whole lockout
// window has one audit event, "login.blocked_attempt", written at its first
// refused attempt with the address and device of that attempt and count 1;
// every later refusal raises its count to n. So a flood of attempts leaves
// one row per window in the citizen's history instead of one per attempt,
// and its size stays visible. The event's id is kept beside the counter,
// for as long as the lockout lasts.
//
// Failures here are logged, not returned: the attempt is refused anyway.
func (s *Service) recordBlocked(ctx context.Context, m selfservice.Meta, accountID string, n int64) {
	if s.Audit == nil {
		return
	}
	key := kvBlockedEvent + accountID
	ttl, err := s.o.Ephemeral.TTL(ctx, kvFailures+accountID)
	if err != nil || ttl <= 0 {
		ttl = passwordLockout
	}
	if n > 1 {
		raw, err := s.o.Ephemeral.Get(ctx, key)
		switch {
		case err == nil && string(raw) == eventPending:
			// The event is being written; a later attempt raises it.
			return
		case err == nil:
			id, perr := strconv.ParseInt(string(raw), 10, 64)
			if perr == nil {
				if err := s.Audit.RaiseEventCount(ctx, accountID, id, n); err != nil {
					s.Log().Error("signin: count blocked attempts", "err", err)
				}
				return
			}
		case !errors.Is(err, storage.ErrNotFound):
			s.Log().Error("signin: count blocked attempts", "err", err)
			return
		}
		// The first refusal's event was not written (its request failed
		// or its node died): the first to claim it writes it now.
		if ok, err := s.o.Ephemeral.PutNX(ctx, key, []byte(eventPending), ttl); err != nil || !ok {
			return
		}
	}
	e := &audit.Event{AccountID: accountID, Type: "login.blocked_attempt", IP: m.IP,
		UserAgent: selfservice.Truncate(m.UserAgent, 200), At: s.Now().UTC(),
		Data: map[string]string{audit.CountKey: strconv.FormatInt(n, 10)}}
	if err := s.Audit.AppendEvent(ctx, e); err != nil {
		s.Log().Error("signin: audit", "type", e.Type, "err", err)
		_ = s.o.Ephemeral.Delete(ctx, key)
		return
	}
	if err := s.o.Ephemeral.Put(ctx, key, []byte(strconv.FormatInt(e.ID, 10)), ttl); err != nil {
		s.Log().Error("signin: count blocked attempts", "err", err)
	}
}
