package provider

import (
	"context"
	"errors"
	"time"

	"github.com/gosid/gosid/storage"
)

// DenyList makes revocation reach JWT access tokens, which are never stored:
// an entry names a revoked grant (or a single token's jti) and lives exactly
// as long as the longest access token could, so the list never grows beyond
// what is still dangerous.
type DenyList struct {
	eph storage.Ephemeral
	ttl time.Duration
}

// NewDenyList returns a deny-list whose entries live for ttl (the access
// token lifetime).
func NewDenyList(eph storage.Ephemeral, ttl time.Duration) *DenyList {
	return &DenyList{eph: eph, ttl: ttl}
}

const (
	kvDenyGrant = "oauth:deny:grant:"
	kvDenyJTI   = "oauth:deny:jti:"
)

// DenyGrant rejects every access token of the grant from now on.
func (d *DenyList) DenyGrant(ctx context.Context, grantID string) error {
	if grantID == "" {
		return nil
	}
	return d.eph.Put(ctx, kvDenyGrant+grantID, []byte{1}, d.ttl)
}

// DenyToken rejects one access token until it expires.
func (d *DenyList) DenyToken(ctx context.Context, jti string, exp time.Time) error {
	ttl := time.Until(exp)
	if jti == "" || ttl <= 0 {
		return nil
	}
	return d.eph.Put(ctx, kvDenyJTI+jti, []byte{1}, ttl)
}

// GrantDenied reports whether the grant was revoked.
func (d *DenyList) GrantDenied(ctx context.Context, grantID string) (bool, error) {
	if grantID == "" {
		return false, nil
	}
	return d.has(ctx, kvDenyGrant+grantID)
}

// Denied reports whether an access token with this grant and jti is revoked.
// A token of a grant is revoked only with its grant (RFC 7009 revocation of
// such a token revokes the grant), so one lookup answers for it; only
// grant-less tokens (client_credentials) are denied by jti.
func (d *DenyList) Denied(ctx context.Context, grantID, jti string) (bool, error) {
	if grantID != "" {
		return d.GrantDenied(ctx, grantID)
	}
	if jti == "" {
		return false, nil
	}
	return d.has(ctx, kvDenyJTI+jti)
}

func (d *DenyList) has(ctx context.Context, key string) (bool, error) {
	_, err := d.eph.Get(ctx, key)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return false, err
}
