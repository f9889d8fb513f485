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

// Store is the persistence port for the audit trail. It is append-only.
type Store interface {
	AppendEvent(ctx context.Context, e *Event) error
	// ListEvents returns an account's events newest first: at most limit
	// events with ID below beforeID (0 means from the newest).
	ListEvents(ctx context.Context, accountID string, beforeID int64, limit int) ([]*Event, error)
}
