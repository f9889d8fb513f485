package clients

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// ErrSecretMismatch is returned by Hasher.Compare when the secret does not
// match the stored hash.
var ErrSecretMismatch = errors.New("clients: secret does not match")

// ErrUnknownHashScheme is returned by Hasher.Compare for a stored hash whose
// scheme prefix this version of gosid does not know.
var ErrUnknownHashScheme = errors.New("clients: unknown secret hash scheme")

// hashPrefixV1 marks HMAC-SHA256 hashes; a new scheme gets a new prefix so
// that stored hashes of the old one keep verifying during a migration.
const hashPrefixV1 = "h1$"

// MinHasherKeyLen is the shortest key NewHasher accepts.
const MinHasherKeyLen = 32

// Hasher stores client secrets as HMAC-SHA256 under a server-side key. It
// implements fosite.Hasher.
//
// A keyed fast hash is enough because gosid generates every secret with 256
// bits of entropy (NewSecret): there is nothing to brute-force, and the key
// keeps a leaked table of hashes useless on its own. A slow password hash
// here would put hundreds of milliseconds of CPU on every token request.
type Hasher struct {
	key []byte
}

// NewHasher returns a Hasher keyed by key, which must be at least 32 bytes
// (normally derived from the instance's master key). It panics on a shorter
// key: that is a wiring mistake, not a runtime condition.
func NewHasher(key []byte) *Hasher {
	if len(key) < MinHasherKeyLen {
		panic("clients: secret hasher key must be at least 32 bytes")
	}
	return &Hasher{key: append([]byte(nil), key...)}
}

// Hash returns "h1$" followed by the base64url (unpadded) HMAC-SHA256 of data.
func (h *Hasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	sum := h.mac(data)
	out := make([]byte, len(hashPrefixV1)+base64.RawURLEncoding.EncodedLen(len(sum)))
	copy(out, hashPrefixV1)
	base64.RawURLEncoding.Encode(out[len(hashPrefixV1):], sum)
	return out, nil
}

// Compare returns nil when hash was made from data, and
// ErrSecretMismatch otherwise. The comparison takes the same time wherever
// the first differing byte is.
func (h *Hasher) Compare(_ context.Context, hash, data []byte) error {
	enc, ok := strings.CutPrefix(string(hash), hashPrefixV1)
	if !ok {
		return ErrUnknownHashScheme
	}
	want, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(want) != sha256.Size {
		return ErrSecretMismatch
	}
	if !hmac.Equal(want, h.mac(data)) {
		return ErrSecretMismatch
	}
	return nil
}

func (h *Hasher) mac(data []byte) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write(data)
	return m.Sum(nil)
}
