package clients

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// NewSecret returns a fresh client secret: 256 bits from crypto/rand, encoded
// as base64url without padding (43 characters). The entropy is what lets
// Hasher use a fast keyed hash instead of a slow password hash.
func NewSecret() (string, error) {
	return randomToken(32, "client secret")
}

// NewID returns a fresh client id: 128 random bits, base64url without padding
// (22 characters), safe in URLs, form values and HTTP Basic credentials.
func NewID() (string, error) {
	return randomToken(16, "client id")
}

func randomToken(n int, what string) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate %s: %w", what, err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
