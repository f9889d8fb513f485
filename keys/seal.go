package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MasterKeySize is the length of the master key in bytes.
const MasterKeySize = 32

// DevMasterKey is the development master key. It is published in the source
// code, so anything sealed under it is readable by anyone: the caller must log
// a loud warning whenever it is used and must never use it in production.
var DevMasterKey = []byte("gosid-dev-master-key-NOT-SECRET!")

// ErrUnseal is returned by Open when sealed data cannot be opened: a wrong
// master key, a wrong context (aad), or data that was altered.
var ErrUnseal = errors.New("keys: cannot open sealed data (wrong master key or context, or tampered data)")

// ParseMasterKey decodes a master key given as standard or URL-safe base64
// (padded or not) or as 64 hexadecimal characters. It must decode to exactly
// 32 bytes. Errors never echo the input: it is a secret.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("keys: master key is empty; want 32 random bytes as base64 or 64 hex characters")
	}
	if len(s) == 2*MasterKeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != MasterKeySize {
			return nil, fmt.Errorf("keys: master key decodes to %d bytes, want %d "+
				"(generate one with: openssl rand -base64 32)", len(b), MasterKeySize)
		}
		return b, nil
	}
	return nil, fmt.Errorf("keys: master key (%d characters) is neither base64 nor 64 hex characters; "+
		"want 32 random bytes (generate one with: openssl rand -base64 32)", len(s))
}

// sealV1 is the only sealed format so far: AES-256-GCM with a random 96-bit
// nonce under a key derived from the master key. The leading version byte
// lets a later format (envelope encryption with rotating data keys) coexist
// with data sealed today.
const sealV1 byte = 1

const nonceSize = 12

// Sealer encrypts small secrets (private signing keys, personal data) under
// the master key and derives purpose-bound keys from it. It is safe for
// concurrent use.
type Sealer struct {
	master []byte
	aead   cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte master key.
func NewSealer(master []byte) (*Sealer, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("keys: master key is %d bytes, want %d", len(master), MasterKeySize)
	}
	s := &Sealer{master: append([]byte(nil), master...)}
	block, err := aes.NewCipher(s.DeriveKey("seal/v1"))
	if err != nil {
		return nil, fmt.Errorf("keys: new sealer: %w", err)
	}
	if s.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("keys: new sealer: %w", err)
	}
	return s, nil
}

// Seal encrypts plaintext bound to aad (a context such as a key id: data
// sealed for one context does not open in another). The output is
// version || nonce || ciphertext+tag.
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+s.aead.Overhead())
	out[0] = sealV1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("keys: seal: %w", err)
	}
	return s.aead.Seal(out, out[1:], plaintext, sealAAD(sealV1, aad)), nil
}

// Open decrypts what Seal produced with the same aad. Any mismatch returns
// an error wrapping ErrUnseal.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 1+nonceSize+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: too short", ErrUnseal)
	}
	if sealed[0] != sealV1 {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrUnseal, sealed[0])
	}
	pt, err := s.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], sealAAD(sealed[0], aad))
	if err != nil {
		return nil, ErrUnseal
	}
	return pt, nil
}

// sealAAD binds the format version to the ciphertext, so a downgrade to
// another format cannot reuse it.
func sealAAD(version byte, aad []byte) []byte {
	out := make([]byte, 0, 1+len(aad))
	return append(append(out, version), aad...)
}

// DeriveKey returns a 32-byte key for one purpose (e.g. "client-secret",
// "csrf"), derived from the master key with HKDF-SHA256, so no subsystem uses
// the master key itself and a key leaked from one purpose reveals nothing
// about another. The same purpose always yields the same key.
func (s *Sealer) DeriveKey(purpose string) []byte {
	k, err := hkdf.Key(sha256.New, s.master, nil, "gosid/"+purpose, 32)
	if err != nil {
		// Only an output length above 255*32 bytes can fail.
		panic("keys: derive key: " + err.Error())
	}
	return k
}
