// Package grants is the domain of OAuth grants as gosid keeps them: the
// refresh tokens of each authorization, their rotation and revocation. It
// holds the record, the persistence port and its errors; package provider
// adapts them to fosite, and the storage adapters implement the port
// without depending on the OAuth layer.
package grants

import (
	"context"
	"errors"
	"time"
)

// ErrTokenInactive is returned by Store.UseRefreshToken for a token that
// was already used outside the grace window or whose grant was revoked.
var ErrTokenInactive = errors.New("grants: token inactive")

// RefreshToken is a stored refresh token. Tokens of one grant (one
// authorization) share a RequestID; rotation creates a new token in the same
// grant and marks the old one used.
type RefreshToken struct {
	// Signature is the HMAC signature of the token; the token itself is never
	// stored.
	Signature string
	RequestID string
	ClientID  string
	Subject   string
	// Request is the serialized OAuth request (scopes, session claims...),
	// opaque to storage.
	Request   []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is set when the token was rotated; zero while unused.
	UsedAt time.Time
	// RevokedAt is set when the whole grant was revoked; zero otherwise.
	RevokedAt time.Time
}

// Store is the persistence port for refresh tokens and the grants they
// belong to. Get returns storage.ErrNotFound for unknown signatures.
type Store interface {
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	GetRefreshToken(ctx context.Context, signature string) (*RefreshToken, error)
	// UseRefreshToken atomically marks the token used at now. It succeeds
	// when the token is unrevoked and either unused or first used after
	// graceCutoff (a concurrent refresh inside the grace window), and returns
	// storage.ErrNotFound when it does not exist and ErrTokenInactive
	// otherwise. Of two concurrent callers outside the grace window exactly
	// one succeeds.
	UseRefreshToken(ctx context.Context, signature string, now, graceCutoff time.Time) error
	// RevokeGrant marks every refresh token of the grant revoked.
	RevokeGrant(ctx context.Context, requestID string, now time.Time) error
	// SubjectClients lists the clients holding an unrevoked, unexpired
	// refresh token of the subject.
	SubjectClients(ctx context.Context, subject string, now time.Time) ([]string, error)
	// RevokeSubjectGrants revokes every grant of a subject (all clients when
	// clientID is empty) and returns the request IDs it revoked, so that their
	// access tokens can be deny-listed.
	RevokeSubjectGrants(ctx context.Context, subject, clientID string, now time.Time) ([]string, error)
	// DeleteExpiredRefreshTokens removes tokens expired before now.
	DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int64, error)
}
