package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrInvalidToken is wrapped by every Verify failure: malformed, an
// algorithm not allowed, an unknown kid, an alg that is not the key's own, or
// a signature that does not verify.
var ErrInvalidToken = errors.New("keys: invalid token")

// allAlgs is what Verify accepts when the caller names no algorithms.
var allAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// Header is the protected header of a verified token.
type Header struct {
	KID string
	Alg string
	Typ string
}

// Sign returns a compact JWS of claims (marshalled with encoding/json; a
// json.RawMessage is used as is) signed with the active key of alg, with the
// kid and, unless empty, the typ header ("at+jwt", "JWT", ...).
func (m *Manager) Sign(_ context.Context, alg string, claims any, typ string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("keys: sign: marshal claims: %w", err)
	}
	return m.sign(alg, payload, typ, nil)
}

// SignWithHeaders is Sign with extra protected headers (ESIA's sbt and
// ver, #16).
func (m *Manager) SignWithHeaders(alg string, claims any, typ string, extra map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("keys: sign: marshal claims: %w", err)
	}
	return m.sign(alg, payload, typ, extra)
}

// sign signs payload with the active key of alg. Extra headers are rare
// (fosite may pass some): only the typ-only signers are cached.
func (m *Manager) sign(alg string, payload []byte, typ string, extra map[string]any) (string, error) {
	k := m.set.Load().active[alg]
	if k == nil {
		return "", fmt.Errorf("%w: %s", ErrNoActiveKey, alg)
	}
	var s jose.Signer
	var err error
	if len(extra) == 0 {
		s, err = k.signer(typ)
	} else {
		s, err = k.newSigner(typ, extra)
	}
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return obj.CompactSerialize()
}

func (k *key) signer(typ string) (jose.Signer, error) {
	if s, ok := k.signers.Load(typ); ok {
		return s.(jose.Signer), nil
	}
	s, err := k.newSigner(typ, nil)
	if err != nil {
		return nil, err
	}
	s2, _ := k.signers.LoadOrStore(typ, s)
	return s2.(jose.Signer), nil
}

func (k *key) newSigner(typ string, extra map[string]any) (jose.Signer, error) {
	opts := &jose.SignerOptions{}
	for name, v := range extra {
		opts = opts.WithHeader(jose.HeaderKey(name), v)
	}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(k.Alg),
		Key:       jose.JSONWebKey{Key: k.priv, KeyID: k.KID, Algorithm: k.Alg},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("keys: signer for %s: %w", k.KID, err)
	}
	return s, nil
}

// Verify checks a compact JWS against the published keys and returns its
// protected header and payload. The kid must name a published key, the alg
// must be that key's own and among allowedAlgs (default: ES256 and RS256);
// "none" and HMAC never pass. Claims (exp, iss, aud...) are the caller's to
// check.
func (m *Manager) Verify(token string, allowedAlgs ...string) (Header, []byte, error) {
	algs := allAlgs
	if len(allowedAlgs) > 0 {
		algs = make([]jose.SignatureAlgorithm, 0, len(allowedAlgs))
		for _, a := range allowedAlgs {
			if supported(a) {
				algs = append(algs, jose.SignatureAlgorithm(a))
			}
		}
		if len(algs) == 0 {
			return Header{}, nil, fmt.Errorf("%w: no supported algorithm allowed", ErrInvalidToken)
		}
	}
	obj, err := jose.ParseSignedCompact(token, algs)
	if err != nil {
		return Header{}, nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	p := obj.Signatures[0].Protected
	h := Header{KID: p.KeyID, Alg: p.Algorithm}
	h.Typ, _ = p.ExtraHeaders[jose.HeaderType].(string)
	k := m.set.Load().byKID[h.KID]
	if k == nil {
		return h, nil, fmt.Errorf("%w: unknown kid %q", ErrInvalidToken, h.KID)
	}
	if k.Alg != h.Alg {
		return h, nil, fmt.Errorf("%w: alg %s does not match the %s key %q", ErrInvalidToken, h.Alg, k.Alg, h.KID)
	}
	payload, err := obj.Verify(k.pub)
	if err != nil {
		return h, nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return h, payload, nil
}
