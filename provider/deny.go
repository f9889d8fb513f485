package provider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gosid/gosid/storage"
)

// DenyList makes revocation reach JWT access tokens, which are never stored:
// an entry names a revoked grant (or a single token's jti) and lives exactly
// as long as the longest access token could, so the list never grows beyond
// what is still dangerous.
//
// The short-lived store (Redis) may lose its data (a restart without
// persistence, a flush, a failover to an empty replica), and a missing entry
// must then never read as "not revoked". So every entry is first written to
// the durable Holds (the database), and the store carries an epoch marker,
// a random value written only after the deny-list has been rebuilt from the
// holds. A lookup that misses re-reads the marker: if it is the marker this
// node saw before, the store was not emptied since, and the miss is
// trusted; if the marker is gone or new, the answer comes from the
// database, and a missing marker makes the node rebuild the list and write
// a new one. The common case costs two GETs (a miss and the marker), a
// revoked token one.
type DenyList struct {
	eph   storage.Ephemeral
	holds storage.Holds
	ttl   time.Duration
	now   func() time.Time

	mu         sync.Mutex
	epoch      string     // the last marker seen
	rebuilding sync.Mutex // one rebuild at a time on this node
}

// NewDenyList returns a deny-list whose entries live for ttl (the access
// token lifetime). holds keeps them durably; with nil holds a loss of the
// short-lived store loses the revocations (tests of the provider alone).
func NewDenyList(eph storage.Ephemeral, holds storage.Holds, ttl time.Duration) *DenyList {
	return &DenyList{eph: eph, holds: holds, ttl: ttl, now: time.Now}
}

const (
	kvDenyGrant = "oauth:deny:grant:"
	kvDenyJTI   = "oauth:deny:jti:"
	// kvDenyEpoch is the marker of an intact deny-list. It outlives any
	// entry many times over; should it expire anyway, the next miss only
	// rebuilds the list.
	kvDenyEpoch  = "oauth:deny:epoch"
	denyEpochTTL = 30 * 24 * time.Hour
	// holdDeny prefixes the deny-list's holds; the rest of the key is the
	// short-lived store's key.
	holdDeny = "deny:"
)

// DenyGrant rejects every access token of the grant from now on.
func (d *DenyList) DenyGrant(ctx context.Context, grantID string) error {
	if grantID == "" {
		return nil
	}
	return d.put(ctx, kvDenyGrant+grantID, d.now().Add(d.ttl))
}

// DenyToken rejects one access token until it expires.
func (d *DenyList) DenyToken(ctx context.Context, jti string, exp time.Time) error {
	if jti == "" || !exp.After(d.now()) {
		return nil
	}
	return d.put(ctx, kvDenyJTI+jti, exp)
}

// put writes the durable hold first: once it is there, no loss of the
// short-lived store can bring the token back.
func (d *DenyList) put(ctx context.Context, key string, until time.Time) error {
	if d.holds != nil {
		if err := d.holds.PutHold(ctx, holdDeny+key, until); err != nil {
			return fmt.Errorf("deny-list: %w", err)
		}
	}
	ttl := until.Sub(d.now())
	if ttl <= 0 {
		return nil
	}
	return d.eph.Put(ctx, key, []byte{1}, ttl)
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
	// The marker this node saw before the lookup: taken first, so that a
	// marker another request sees later cannot vouch for this miss.
	d.mu.Lock()
	seen := d.epoch
	d.mu.Unlock()
	_, err := d.eph.Get(ctx, key)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	if d.holds == nil {
		return false, nil
	}
	// A miss: trusted only if the marker read now is the one seen before
	// the lookup (any emptying in between removed or replaced it).
	cur, err := d.eph.Get(ctx, kvDenyEpoch)
	switch {
	case err == nil && seen != "" && string(cur) == seen:
		return false, nil
	case err == nil:
		// Another node rebuilt the list (or this node just started): the
		// marker vouches for lookups from now on, not for this one.
		d.mu.Lock()
		d.epoch = string(cur)
		d.mu.Unlock()
	case errors.Is(err, storage.ErrNotFound):
		if err := d.Rebuild(ctx); err != nil {
			return false, err
		}
	default:
		return false, err
	}
	return d.durable(ctx, key)
}

// durable answers a lookup from the database.
func (d *DenyList) durable(ctx context.Context, key string) (bool, error) {
	_, err := d.holds.HoldUntil(ctx, holdDeny+key, d.now())
	if err == nil {
		return true, nil
	}
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return false, fmt.Errorf("deny-list: %w", err)
}

// Rebuild restores the deny-list from the durable holds if the short-lived
// store has no marker (it was emptied, or this is its first use), then
// writes a new marker. Concurrent rebuilds, on this node or others, are
// harmless: each writes the same entries, and the first marker written wins.
func (d *DenyList) Rebuild(ctx context.Context) error {
	if d.holds == nil {
		return nil
	}
	d.rebuilding.Lock()
	defer d.rebuilding.Unlock()
	if cur, err := d.eph.Get(ctx, kvDenyEpoch); err == nil {
		d.mu.Lock()
		d.epoch = string(cur)
		d.mu.Unlock()
		return nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	now := d.now()
	hs, err := d.holds.ListHolds(ctx, holdDeny, now)
	if err != nil {
		return fmt.Errorf("deny-list: rebuild: %w", err)
	}
	for _, h := range hs {
		if ttl := h.Until.Sub(now); ttl > 0 {
			if err := d.eph.Put(ctx, strings.TrimPrefix(h.Key, holdDeny), []byte{1}, ttl); err != nil {
				return fmt.Errorf("deny-list: rebuild: %w", err)
			}
		}
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	mark := base64.RawURLEncoding.EncodeToString(b)
	ok, err := d.eph.PutNX(ctx, kvDenyEpoch, []byte(mark), denyEpochTTL)
	if err != nil {
		return fmt.Errorf("deny-list: rebuild: %w", err)
	}
	if !ok {
		cur, err := d.eph.Get(ctx, kvDenyEpoch)
		if err != nil {
			return fmt.Errorf("deny-list: rebuild: %w", err)
		}
		mark = string(cur)
	}
	d.mu.Lock()
	d.epoch = mark
	d.mu.Unlock()
	return nil
}
