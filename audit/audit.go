// Package audit records security-relevant events: the activity log a citizen
// reads and the trail operators rely on. Events never carry secrets, codes,
// tokens or document numbers.
package audit

import (
	"context"
	"time"
)

// Event is one recorded action.
type Event struct {
	ID int64
	// AccountID is the citizen the event concerns; empty for events about no
	// account (e.g. a client was created).
	AccountID string
	// Type is a stable dotted name, e.g. "login.success", "login.failure",
	// "login.locked", "password.changed", "client.created".
	Type      string
	ClientID  string
	IP        string
	UserAgent string
	// Data holds small event-specific details (no secrets).
	Data map[string]string
	At   time.Time
}

// CountKey is the Data key of a counted event: one event that stands for
// many repeats of the same thing in a window (e.g. "login.blocked_attempt":
// every sign-in attempt refused during one lockout), so that a flood of
// repeats does not push the citizen's history out of view. Its value is a
// decimal count, raised with RaiseEventCount.
const CountKey = "count"

// Store is the persistence port for the audit trail. It is append-only:
// the one change it allows is raising the count of a counted event.
type Store interface {
	AppendEvent(ctx context.Context, e *Event) error
	// RaiseEventCount sets the count (Data[CountKey]) of the account's
	// event id to n, unless it already is n or more: counts never go down,
	// whatever order concurrent raises arrive in. An unknown event, or one
	// of another account, is left alone without an error.
	RaiseEventCount(ctx context.Context, accountID string, id, n int64) error
	// ListEvents returns an account's events newest first: at most limit
	// events with ID below beforeID (0 means from the newest).
	ListEvents(ctx context.Context, accountID string, beforeID int64, limit int) ([]*Event, error)
}
