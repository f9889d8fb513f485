package pii

import (
	"encoding/hex"
	"fmt"

	"github.com/gosid/gosid/keys"
)

// HKDF purposes (keys.Sealer.DeriveKey prefixes them with "gosid/"). The
// KEK and its fingerprint come from the same master key under different
// purposes, so the fingerprint, stored next to every wrapped key, says
// nothing about the KEK.
const (
	kekPurpose   = "pii/kek/v1"
	kekIDPurpose = "pii/kek-id/v1"
)

// kek is a key-encryption key: derived from one master key, it wraps the
// stored keys. It never touches personal data itself.
type kek struct {
	id     string
	sealer *keys.Sealer
}

// newKEK derives the KEK of master. The KEK is the master key of a Sealer of
// its own, so wrapped keys use the sealed format of package keys (version
// byte, random nonce, AES-256-GCM) under a key no other subsystem has.
func newKEK(master []byte) (*kek, error) {
	m, err := keys.NewSealer(master)
	if err != nil {
		return nil, err
	}
	s, err := keys.NewSealer(m.DeriveKey(kekPurpose))
	if err != nil {
		return nil, err
	}
	return &kek{id: hex.EncodeToString(m.DeriveKey(kekIDPurpose)[:8]), sealer: s}, nil
}

// wrapAAD binds a wrapped key to its id and purpose: a wrapped key copied to
// another row, or relabelled as another purpose, does not unwrap. Ids are hex
// and purposes are fixed words, so the joined form is unambiguous.
func wrapAAD(id string, p Purpose) []byte {
	return []byte("gosid pii key v1\x00" + string(p) + "\x00" + id)
}

func (k *kek) wrap(raw []byte, id string, p Purpose) ([]byte, error) {
	w, err := k.sealer.Seal(raw, wrapAAD(id, p))
	if err != nil {
		return nil, fmt.Errorf("pii: wrap key %s: %w", id, err)
	}
	return w, nil
}

func (k *kek) unwrap(d DataKey) ([]byte, error) {
	raw, err := k.sealer.Open(d.Wrapped, wrapAAD(d.ID, d.Purpose))
	if err != nil {
		return nil, fmt.Errorf("pii: unwrap %s key %s: %w", d.Purpose, d.ID, err)
	}
	if len(raw) != keySize {
		clear(raw)
		return nil, fmt.Errorf("pii: %s key %s is %d bytes, want %d", d.Purpose, d.ID, len(raw), keySize)
	}
	return raw, nil
}
