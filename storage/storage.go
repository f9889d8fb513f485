// Package storage holds what every adapter shares: the short-lived state port
// (Ephemeral), the errors adapters return, and, in its sub-packages, the
// adapters themselves (sqlstore for SQLite and PostgreSQL, redis) and the
// conformance suite every adapter must pass.
//
// Business rules never live here: a domain package (account, clients, keys,
// grants, consent) defines the port it consumes, and an adapter implements it;
// adapters never import the HTTP layer (deps_test.go enforces it).
package storage

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a key or row does not exist (or has expired).
var ErrNotFound = errors.New("storage: not found")

// ErrConflict is returned when a create would violate a uniqueness rule.
var ErrConflict = errors.New("storage: conflict")

// Ephemeral is the port for short-lived state: flow state, one-time codes,
// authorization codes, SSO sessions, rate-limit and lockout counters, replay
// caches and the access-token deny-list. Every value carries a TTL and
// disappears by itself; nothing here grows without bound.
//
// Redis implements it in production; the embedded mode keeps the same state in
// the embedded database so that a restart loses nothing. All operations are
// atomic with respect to concurrent callers on any number of nodes.
type Ephemeral interface {
	// Put stores val under key, replacing any previous value, for ttl.
	Put(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// PutNX stores val only if key is absent (or expired) and reports whether
	// it did.
	PutNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error)
	// Get returns the value or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Take returns the value and deletes it in one step, or ErrNotFound: of two
	// concurrent callers exactly one gets the value.
	Take(ctx context.Context, key string) ([]byte, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Incr adds one to the counter at key and returns the new value. A counter
	// that did not exist starts at zero and expires after ttl; incrementing does
	// not extend the expiry of an existing counter (fixed window).
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// TTL returns the remaining lifetime of key, or ErrNotFound.
	TTL(ctx context.Context, key string) (time.Duration, error)
	// Ping reports whether the backing service is reachable.
	Ping(ctx context.Context) error
}

// Hold is a durable security decision with an end: a revoked grant or
// access token, a locked login.
type Hold struct {
	Key   string
	Until time.Time
}

// Holds is the durable port for the few short-lived decisions that must
// survive the loss of the Ephemeral store (Redis restarted without its
// data): revocations and lockouts. They are written here before the
// Ephemeral copy, which stays the fast path; the durable copy is read only
// when the Ephemeral store may have lost data (see provider.DenyList) or
// where a read costs nothing next to the work (a password check).
type Holds interface {
	// PutHold records key until the given time, extending an existing hold
	// that ends sooner (never shortening one).
	PutHold(ctx context.Context, key string, until time.Time) error
	// HoldUntil returns the end of the hold on key, or ErrNotFound when
	// there is none or it ended before now.
	HoldUntil(ctx context.Context, key string, now time.Time) (time.Time, error)
	// ListHolds returns the holds whose key starts with prefix and that
	// end after now.
	ListHolds(ctx context.Context, prefix string, now time.Time) ([]Hold, error)
	// DeleteHold lifts the hold on key; a missing key is not an error.
	DeleteHold(ctx context.Context, key string) error
}
