package pii

import (
	"context"
	"time"
)

// Purpose says what a stored key is for.
type Purpose string

// Key purposes.
const (
	// PurposeData keys encrypt personal data (data encryption keys, DEKs).
	PurposeData Purpose = "data"
	// PurposeIndex is the one secret blind indexes are computed from. It is
	// stored wrapped like a DEK, so a master key rotation re-wraps it and
	// leaves every index unchanged.
	PurposeIndex Purpose = "index"
)

// State of a stored key: the Active key of a purpose is used for new data;
// Retired keys still decrypt what they encrypted.
type State string

// Key states.
const (
	StateActive  State = "active"
	StateRetired State = "retired"
)

// DataKey is a key as stored: random key material that never leaves memory
// unwrapped; in the store it is sealed with AES-256-GCM under a key-encryption
// key (KEK) derived from a master key.
type DataKey struct {
	// ID is 16 lowercase hexadecimal characters (8 random bytes); a
	// ciphertext carries those bytes to name the key that decrypts it.
	ID      string
	Purpose Purpose
	State   State
	// Wrapped is the key material sealed under the KEK named by KEKID, bound
	// to ID and Purpose.
	Wrapped []byte
	// KEKID is a fingerprint of the master key whose KEK wrapped the key, so
	// a node finds the right one among its current and previous master keys,
	// and Rewrap finds the keys not yet under the current one. It reveals
	// nothing about the master key.
	KEKID     string
	CreatedAt time.Time
	// RetiredAt is when the key stopped encrypting (zero while Active).
	RetiredAt time.Time
}

// KeyStore is the persistence port for the keys of the personal-data
// encryption. Every method is atomic with respect to concurrent callers on any
// number of nodes.
type KeyStore interface {
	// ListDataKeys returns every stored key, of every purpose and state.
	ListDataKeys(ctx context.Context) ([]DataKey, error)
	// CreateDataKey stores k and reports true, or stores nothing and reports
	// false when a key with k.ID exists or k is Active and an Active key of
	// k.Purpose exists. At most one key per purpose is ever Active: of nodes
	// starting together on an empty database exactly one creates the first
	// key, and the others use it.
	CreateDataKey(ctx context.Context, k DataKey) (bool, error)
	// UpdateWrapped replaces the wrapping of key id (the key material is the
	// same, sealed under another KEK). It returns storage.ErrNotFound when no
	// key has that id.
	UpdateWrapped(ctx context.Context, id string, wrapped []byte, kekID string) error
	// RotateDataKey, in one transaction, retires the Active key retireID of
	// next.Purpose (RetiredAt = next.CreatedAt) and stores next as the Active
	// key. It returns storage.ErrConflict and changes nothing when retireID is
	// no longer the Active key of that purpose (another node rotated first) or
	// next.ID is taken.
	RotateDataKey(ctx context.Context, retireID string, next DataKey) error
}
