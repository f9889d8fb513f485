package keys

import (
	"context"
	"time"
)

// State of a signing key in its lifecycle: a key is published as Next before
// it ever signs, signs while Active, and stays published as Retired until
// every token it signed has expired.
type State string

// Key states.
const (
	StateNext    State = "next"
	StateActive  State = "active"
	StateRetired State = "retired"
)

// Record is a signing key as stored: the private half sealed with
// AES-256-GCM under the master key, the public half as a JWK.
type Record struct {
	KID string
	// Alg is ES256 or RS256.
	Alg string
	// Generation numbers the keys of one algorithm 1, 2, 3...; (Alg,
	// Generation) is unique, which is what makes concurrent first use on many
	// nodes safe: only one insert of a generation can win.
	Generation int64
	State      State
	PublicJWK  []byte
	Sealed     []byte
	CreatedAt  time.Time
	// ActivatedAt is when the key started signing (zero while Next).
	ActivatedAt time.Time
	// RetiredAt is when the key stopped signing (zero unless Retired).
	RetiredAt time.Time
	// ExpiresAt is when a retired key may leave the JWKS (zero unless Retired).
	ExpiresAt time.Time
}

// Store is the persistence port for signing keys.
type Store interface {
	ListKeys(ctx context.Context) ([]Record, error)
	// InsertKey stores r unless a key with the same (Alg, Generation) exists;
	// it reports whether r was inserted.
	InsertKey(ctx context.Context, r Record) (bool, error)
	// RotateKeys, in one transaction for r.Alg: marks the Active key of
	// generation activeGen Retired (RetiredAt now, ExpiresAt retiredUntil),
	// makes generation activeGen+1 Active (ActivatedAt now), and inserts next
	// (generation activeGen+2) as Next. It returns storage.ErrConflict and
	// changes nothing when generation activeGen is no longer the Active key
	// (another node rotated first).
	RotateKeys(ctx context.Context, alg string, activeGen int64, next Record, now, retiredUntil time.Time) error
	// DeleteExpiredKeys removes retired keys whose ExpiresAt is before now.
	DeleteExpiredKeys(ctx context.Context, now time.Time) (int64, error)
}
