package keys

import (
	"crypto/sha256"
	"encoding/base64"
)

// JWKS returns the JSON Web Key Set of every published key: the next key
// (published before it ever signs), the active key, and retired keys until
// the tokens they signed have expired. It is rendered once per reload and
// served from memory; the caller must not modify the returned slice.
func (m *Manager) JWKS() []byte { return m.set.Load().jwks }

// JWKSETag returns a strong HTTP entity tag (quoted) for JWKS.
func (m *Manager) JWKSETag() string { return m.set.Load().etag }

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}
