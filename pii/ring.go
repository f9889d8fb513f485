package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// keySize is the size of every stored key: AES-256 for data keys, an
// HMAC-SHA256 secret for the blind-index key.
const keySize = 32

// idSize is the size of a key id in a ciphertext; DataKey.ID is its hex form.
const idSize = 8

type keyID [idSize]byte

// parseKeyID decodes a stored id; anything but 16 lowercase hex characters
// is refused, so each key has exactly one spelling.
func parseKeyID(s string) (keyID, error) {
	var id keyID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != idSize || hex.EncodeToString(b) != s {
		return id, fmt.Errorf("pii: key id %q is not %d lowercase hex characters", s, 2*idSize)
	}
	return keyID(b), nil
}

// dataKey is an unwrapped data key ready to use.
type dataKey struct {
	id   keyID
	name string
	aead cipher.AEAD
}

// keyring is an immutable snapshot of the unwrapped keys; a reload swaps in a
// new one, so readers never lock.
type keyring struct {
	active *dataKey
	data   map[keyID]*dataKey
	// index is the HMAC key of blind indexes.
	index []byte
}

// newKey makes a key of purpose p wrapped under k.
func newKey(k *kek, p Purpose, state State, now time.Time) (DataKey, error) {
	var id keyID
	raw := make([]byte, keySize)
	defer clear(raw)
	if _, err := rand.Read(id[:]); err != nil {
		return DataKey{}, fmt.Errorf("pii: new key: %w", err)
	}
	if _, err := rand.Read(raw); err != nil {
		return DataKey{}, fmt.Errorf("pii: new key: %w", err)
	}
	d := DataKey{ID: hex.EncodeToString(id[:]), Purpose: p, State: state, KEKID: k.id, CreatedAt: now}
	var err error
	d.Wrapped, err = k.wrap(raw, d.ID, p)
	return d, err
}

// buildKeyring unwraps recs with the KEKs at hand. It refuses a store it
// cannot fully use: a key wrapped under an unknown master key, a purpose
// without an Active key or with two. Failing at load, rather than on the
// first read of old data, makes a missing previous master key obvious.
func buildKeyring(recs []DataKey, keks map[string]*kek) (*keyring, error) {
	r := &keyring{data: map[keyID]*dataKey{}}
	for _, d := range recs {
		switch {
		case d.Purpose != PurposeData && d.Purpose != PurposeIndex:
			return nil, fmt.Errorf("pii: key %s has unknown purpose %q", d.ID, d.Purpose)
		case d.State != StateActive && d.State != StateRetired:
			return nil, fmt.Errorf("pii: key %s has unknown state %q", d.ID, d.State)
		case d.Purpose == PurposeIndex && d.State == StateRetired:
			// Not produced by this version; a retired index key indexes
			// nothing current.
			continue
		}
		if err := r.add(d, keks); err != nil {
			return nil, err
		}
	}
	switch {
	case r.active == nil:
		return nil, errors.New("pii: no active data key is stored")
	case r.index == nil:
		return nil, errors.New("pii: no active blind-index key is stored")
	}
	return r, nil
}

func (r *keyring) add(d DataKey, keks map[string]*kek) error {
	id, err := parseKeyID(d.ID)
	if err != nil {
		return err
	}
	k := keks[d.KEKID]
	if k == nil {
		return fmt.Errorf("pii: %s key %s is wrapped under master key %s, which is not configured; "+
			"add the master key it was wrapped with to the previous master keys", d.Purpose, d.ID, d.KEKID)
	}
	raw, err := k.unwrap(d)
	if err != nil {
		return err
	}
	defer clear(raw)
	active := d.State == StateActive
	if d.Purpose == PurposeIndex {
		if r.index != nil {
			return errors.New("pii: more than one active blind-index key is stored; the key table needs repair")
		}
		r.index, err = hkdf.Key(sha256.New, raw, nil, blindIndexInfo, keySize)
		return err
	}
	if r.data[id] != nil {
		return fmt.Errorf("pii: two stored keys share the id %s", d.ID)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return fmt.Errorf("pii: data key %s: %w", d.ID, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("pii: data key %s: %w", d.ID, err)
	}
	dk := &dataKey{id: id, name: d.ID, aead: aead}
	r.data[id] = dk
	if active {
		if r.active != nil {
			return errors.New("pii: more than one active data key is stored; the key table needs repair")
		}
		r.active = dk
	}
	return nil
}
