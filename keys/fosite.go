package keys

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ory/fosite/token/jwt"
)

// FositeSigner adapts the Manager to fosite's jwt.Signer for alg, for the
// JWT access-token and id_token strategies: it signs with the active key of
// alg and verifies against every published key of alg, so tokens signed
// before a rotation keep verifying until their key leaves the JWKS.
func (m *Manager) FositeSigner(alg string) jwt.Signer { return &fositeSigner{m: m, alg: alg} }

type fositeSigner struct {
	m   *Manager
	alg string
}

// Generate signs claims. As in fosite's own signer, typ defaults to "JWT"
// and the header fosite passes (e.g. typ "at+jwt") overrides it; alg and kid
// are always the active key's.
func (f *fositeSigner) Generate(_ context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	if claims == nil || header == nil {
		return "", "", errors.New("keys: generate: claims or header is nil")
	}
	typ := jwt.JWTHeaderTypeValue
	var extra map[string]any
	for name, v := range header.ToMap() {
		switch name {
		case "alg", "kid":
		case "typ":
			if t, ok := v.(string); ok && t != "" {
				typ = t
			}
		default:
			if extra == nil {
				extra = map[string]any{}
			}
			extra[name] = v
		}
	}
	payload, err := json.Marshal(map[string]any(claims))
	if err != nil {
		return "", "", fmt.Errorf("keys: generate: %w", err)
	}
	token, err := f.m.sign(f.alg, payload, typ, extra)
	if err != nil {
		return "", "", err
	}
	return token, token[strings.LastIndexByte(token, '.')+1:], nil
}

// Validate verifies token (signature and time claims) and returns its
// signature part.
func (f *fositeSigner) Validate(ctx context.Context, token string) (string, error) {
	if _, err := f.Decode(ctx, token); err != nil {
		return "", err
	}
	return f.GetSignature(ctx, token)
}

// Decode verifies token and returns it. It behaves as fosite's own signer
// (it is fosite's parser with gosid's key lookup): a token that verifies but
// has expired comes back together with a *jwt.ValidationError carrying
// ValidationErrorExpired, which the id_token_hint handling relies on.
func (f *fositeSigner) Decode(_ context.Context, token string) (*jwt.Token, error) {
	// fosite's parser also accepts the JWS JSON serialization, whose
	// unprotected header could carry a forged typ; only the compact form
	// (three base64url parts) is ever issued here.
	if !isCompact(token) {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed,
			Inner: fmt.Errorf("%w: not a compact JWS", ErrInvalidToken)}
	}
	s := f.m.set.Load()
	return jwt.ParseWithClaims(token, jwt.MapClaims{}, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k := s.byKID[kid]
		switch {
		case k == nil:
			return nil, fmt.Errorf("%w: unknown kid %q", ErrInvalidToken, kid)
		case string(t.Method) != f.alg || k.Alg != f.alg:
			return nil, fmt.Errorf("%w: alg %s, kid %q: want a %s token", ErrInvalidToken, t.Method, kid, f.alg)
		}
		return k.pub, nil
	})
}

func (f *fositeSigner) GetSignature(_ context.Context, token string) (string, error) {
	if !isCompact(token) {
		return "", fmt.Errorf("%w: not a compact JWS", ErrInvalidToken)
	}
	return token[strings.LastIndexByte(token, '.')+1:], nil
}

// Hash is SHA-256, the hash of both ES256 and RS256 (for at_hash and c_hash).
func (f *fositeSigner) Hash(_ context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

func (f *fositeSigner) GetSigningMethodLength(context.Context) int { return sha256.Size }

// isCompact reports whether token has the shape of a compact JWS: three
// non-empty base64url parts.
func isCompact(token string) bool {
	parts := 0
	start := 0
	for i := 0; i <= len(token); i++ {
		if i == len(token) || token[i] == '.' {
			if i == start {
				return false
			}
			parts++
			start = i + 1
			continue
		}
		c := token[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return parts == 3
}
