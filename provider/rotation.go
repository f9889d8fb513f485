package provider

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
)

// Refresh rotation without forks (DESIGN.md "refresh grace").
//
// A refresh token is rotated on every use, and a rotated-out token keeps
// working for a short grace window so that a client whose response was
// lost, or which refreshed twice at once, is not locked out. What it gets in
// the window must be the successor it was already given, never a second
// one: two live successors would be two chains of one grant, and a stolen
// token replayed in the window would start a chain of its own.
//
// So the successor is not random: its secret is derived from the presented
// token's secret under a server key. Every refresh with the same token
// computes the same successor, with the same signature, and the refresh
// token table's primary key on the signature lets exactly one insert win;
// the others find the row and hand out the identical token (see
// fositeStore.CreateRefreshTokenSession). Nothing needs a lock or a stored
// copy of the token, and the derivation's input is the presented secret,
// which gosid never stores: a copy of the database (even with the server
// key) yields no live token, as before.

// successorInfo separates this derivation from every other use of the key.
const successorInfo = "gosid refresh-token successor v1"

// refreshPrefix is fosite's prefix of refresh tokens (HMACSHAStrategy).
const refreshPrefix = "ory_rt_"

var b64 = base64.RawURLEncoding

// successorStrategy is fosite's token strategy with derived successors for
// refresh tokens issued by the refresh_token grant; codes, access tokens
// and the first refresh token of a grant are fosite's own.
type successorStrategy struct {
	oauth2.CoreStrategy
	// derive keys the derivation of successors from presented tokens.
	derive []byte
	// mac is fosite's HMAC key of token signatures (the first 32 bytes of
	// its global secret).
	mac []byte
}

func newSuccessorStrategy(core oauth2.CoreStrategy, globalSecret []byte) (*successorStrategy, error) {
	if len(globalSecret) < 32 {
		return nil, errors.New("provider: the global secret must be 32 bytes or more")
	}
	derive, err := hkdf.Key(sha256.New, globalSecret, nil, successorInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("provider: derive the successor key: %w", err)
	}
	return &successorStrategy{CoreStrategy: core, derive: derive, mac: globalSecret[:32]}, nil
}

// GenerateRefreshToken implements oauth2.RefreshTokenStrategy.
func (s *successorStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if ar, ok := r.(fosite.AccessRequester); ok && ar.GetGrantTypes().ExactOne("refresh_token") {
		// fosite has validated the presented token before it asks for a new one.
		if presented := r.GetRequestForm().Get("refresh_token"); presented != "" {
			return s.successor(presented)
		}
	}
	return s.CoreStrategy.GenerateRefreshToken(ctx, r)
}

// successor returns the token that follows presented, in fosite's format
// (prefix, base64url secret, ".", base64url HMAC-SHA512/256 of the secret
// under the global secret), so that fosite validates and signs it as any
// other. It is computed from the decoded secret, so that every spelling of
// a token fosite accepts (with or without the prefix) has one successor.
func (s *successorStrategy) successor(presented string) (string, string, error) {
	raw, _, ok := strings.Cut(strings.TrimPrefix(presented, refreshPrefix), ".")
	if !ok {
		return "", "", fosite.ErrInvalidTokenFormat
	}
	secret, err := b64.DecodeString(raw)
	if err != nil {
		return "", "", fmt.Errorf("provider: decode refresh token: %w", err)
	}
	d := hmac.New(sha256.New, s.derive)
	d.Write(secret)
	next := d.Sum(nil)
	m := hmac.New(sha512.New512_256, s.mac)
	m.Write(next)
	sig := b64.EncodeToString(m.Sum(nil))
	return refreshPrefix + b64.EncodeToString(next) + "." + sig, sig, nil
}
