package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// blindIndexInfo is the HKDF info that turns the stored blind-index secret
// into the HMAC key.
const blindIndexInfo = "gosid pii blind index v1"

// Blind index kinds, one per kind of identifier; an index of one kind never
// equals an index of another, even for the same digits.
const (
	KindSNILS    = "snils"
	KindPassport = "passport"
	KindINN      = "inn"
)

// BlindIndex returns the blind index of an identifier: HMAC-SHA256, keyed
// with the blind-index key, over the kind and the value, as 64 lowercase hex
// characters. Store it in an indexed column next to the ciphertext and look
// citizens up by it; the plaintext is never stored or queried.
//
// The value must be normalised by the caller exactly as when it was stored
// (e.g. a SNILS as its 11 digits): the index matches equal bytes only.
//
// The key is a random secret stored wrapped in the KeyStore, so it survives
// master key rotation (Rewrap re-wraps it like any data key) and indexes
// never need recomputing. Indexes of low-entropy values (a SNILS has about
// 10^9 possible values) can be brute-forced by whoever holds the key, which
// is why the key is never stored unwrapped.
//
// It panics before Init: an index computed without the key would match
// nothing, or everything.
func (c *Cipher) BlindIndex(kind, normalizedValue string) string {
	r := c.ring.Load()
	if r == nil {
		panic("pii: BlindIndex before Init")
	}
	m := hmac.New(sha256.New, r.index)
	// The kind is length-prefixed, so ("snils", "1...") and ("snils1", "...")
	// are different messages.
	m.Write(binary.AppendUvarint(nil, uint64(len(kind))))
	m.Write([]byte(kind))
	m.Write([]byte(normalizedValue))
	return hex.EncodeToString(m.Sum(nil))
}
