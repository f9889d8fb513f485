package selfservice

import (
	"context"
	"errors"
	"strconv"

	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/selfservice/lockout"
	"github.com/gosid/gosid/storage"
)

// Attempts refused during a lockout are an attack more often than a
// mistake, and there can be thousands. Each lockout records them as one
// audit event with a count kept up to date, so that the citizen's own
// history is not pushed out of the activity log and the export, and the
// size of the attack stays visible. The event's id is kept beside the
// counter, for as long as the lockout lasts.

// kvBlockedEvent prefixes the id of the audit event that counts the
// attempts a lockout refused (per budget and event type).
const kvBlockedEvent = "login:blocked-event:"

// eventPending marks a blocked-attempt event being written.
const eventPending = "pending"

func blockedKey(b lockout.Budget, typ string) string { return kvBlockedEvent + string(b) + ":" + typ }

// RecordBlocked counts the n-th attempt a lockout refused. Failures are
// logged, not returned: the attempt is refused anyway.
func (e *Engine) RecordBlocked(ctx context.Context, m Meta, accountID, typ string, b lockout.Budget, n int64) {
	if e.Audit == nil || e.Ephemeral == nil {
		e.Record(ctx, m, accountID, typ, "", nil)
		return
	}
	key := blockedKey(b, typ)
	ttl := lockout.Window
	raw, err := e.Ephemeral.Get(ctx, key)
	switch {
	case err == nil && string(raw) == eventPending:
		return // being written; a later attempt raises it
	case err == nil:
		if id, perr := strconv.ParseInt(string(raw), 10, 64); perr == nil {
			if err := e.Audit.RaiseEventCount(ctx, accountID, id, n); err != nil {
				e.log.Error("selfservice: count blocked attempts", "err", err)
			}
			return
		}
	case !errors.Is(err, storage.ErrNotFound):
		e.log.Error("selfservice: count blocked attempts", "err", err)
		return
	}
	// No event yet (the first refusal, or one whose write failed): the
	// first attempt to claim it writes it, concurrent ones leave it.
	if ok, err := e.Ephemeral.PutNX(ctx, key, []byte(eventPending), ttl); err != nil || !ok {
		return
	}
	ev := &audit.Event{AccountID: accountID, Type: typ, IP: m.IP,
		UserAgent: Truncate(m.UserAgent, 200), At: e.Now().UTC(),
		Data: map[string]string{audit.CountKey: strconv.FormatInt(n, 10)}}
	if err := e.Audit.AppendEvent(ctx, ev); err != nil {
		e.log.Error("selfservice: audit", "type", typ, "err", err)
		_ = e.Ephemeral.Delete(ctx, key)
		return
	}
	if err := e.Ephemeral.Put(ctx, key, []byte(strconv.FormatInt(ev.ID, 10)), ttl); err != nil {
		e.log.Error("selfservice: count blocked attempts", "err", err)
	}
}

// forgetBlocked lets the next lockout of the budget start its own event.
func (e *Engine) forgetBlocked(ctx context.Context, b lockout.Budget) {
	if e.Ephemeral == nil {
		return
	}
	for _, typ := range []string{"login.blocked_attempt", "password.change_blocked"} {
		if err := e.Ephemeral.Delete(ctx, blockedKey(b, typ)); err != nil {
			e.log.Warn("selfservice: forget blocked-attempt event", "err", err)
		}
	}
}
