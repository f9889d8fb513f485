package account

import (
	"context"
	"time"
)

// SessionRecord is the durable index entry of a sign-in session, listed on
// the citizen's "sessions and devices" page. The session itself lives in
// the short-lived store under KeyHash (the SHA-256 of its cookie secret);
// the index never holds the secret.
type SessionRecord struct {
	ID         string
	AccountID  string
	KeyHash    string
	AMR        []string
	IP         string
	UserAgent  string
	Location   string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// SessionIndex is the persistence port of the session index. Expired
// entries are removed by the storage janitor.
type SessionIndex interface {
	SaveSession(ctx context.Context, r *SessionRecord) error
	// TouchSession records activity; a missing entry is not an error.
	TouchSession(ctx context.Context, id string, at time.Time, ip string) error
	// ListSessions returns the account's unexpired sessions, most recently
	// seen first.
	ListSessions(ctx context.Context, accountID string, now time.Time) ([]*SessionRecord, error)
	// DeleteSession removes one entry of the account and returns it
	// (storage.ErrNotFound when there is none).
	DeleteSession(ctx context.Context, accountID, id string) (*SessionRecord, error)
}
