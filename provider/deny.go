package provider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
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
//
// The list is split into denyBuckets buckets, each with its own marker, and
// every key of a bucket carries the bucket's hash tag ("{deny7}"), so on a
// Redis Cluster a bucket's entries and its marker share one slot, hence one
// primary: a primary that loses its data (a failover to an empty replica)
// loses the entries and the marker that vouches for them together, never
// the entries alone. And the marker, read on every miss, is sixteen keys
// spread over the primaries rather than one hot slot.
type DenyList struct {
	eph   storage.Ephemeral
	holds storage.Holds
	ttl   time.Duration
	now   func() time.Time

	mu         sync.Mutex
	epochs     [denyBuckets]string // the last marker seen, per bucket
	rebuilding sync.Mutex          // one rebuild at a time on this node
}

// NewDenyList returns a deny-list whose entries live for ttl (the access
// token lifetime). holds keeps them durably; with nil holds a loss of the
// short-lived store loses the revocations (tests of the provider alone).
func NewDenyList(eph storage.Ephemeral, holds storage.Holds, ttl time.Duration) *DenyList {
	return &DenyList{eph: eph, holds: holds, ttl: ttl, now: time.Now}
}

const (
	// An entry's name: one of these prefixes and the grant id or jti. The
	// durable hold is holdDeny + name; the short-lived key is denyKey(name).
	kvDenyGrant = "oauth:deny:grant:"
	kvDenyJTI   = "oauth:deny:jti:"
	// A bucket's marker (denyEpochKey) outlives any entry many times over;
	// should it expire anyway, the next miss only rebuilds the bucket.
	denyEpochTTL = 30 * 24 * time.Hour
	// holdDeny prefixes the deny-list's holds; the rest of the key is the
	// entry's name.
	holdDeny = "deny:"
	// denyBuckets is how many buckets (and markers) the list has.
	denyBuckets = 16
)

// denyBucket is the bucket of an entry's name.
func denyBucket(name string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return int(h.Sum32() % denyBuckets)
}

// denyKey is the short-lived store's key of an entry: its name with the
// bucket's hash tag, "oauth:deny:grant:G" becoming "oauth:{deny7}:grant:G".
func denyKey(name string) string {
	return "oauth:{deny" + strconv.Itoa(denyBucket(name)) + "}:" + strings.TrimPrefix(name, "oauth:deny:")
}

// denyEpochKey is the key of bucket b's marker, in b's slot.
func denyEpochKey(b int) string {
	return "oauth:{deny" + strconv.Itoa(b) + "}:epoch"
}

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
	return d.eph.Put(ctx, denyKey(key), []byte{1}, ttl)
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

func (d *DenyList) has(ctx context.Context, name string) (bool, error) {
	b := denyBucket(name)
	// The marker this node saw before the lookup: taken first, so that a
	// marker another request sees later cannot vouch for this miss.
	d.mu.Lock()
	seen := d.epochs[b]
	d.mu.Unlock()
	_, err := d.eph.Get(ctx, denyKey(name))
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	if d.holds == nil {
		return false, nil
	}
	// A miss: trusted only if the bucket's marker read now is the one seen
	// before the lookup (any emptying in between removed or replaced it).
	cur, err := d.eph.Get(ctx, denyEpochKey(b))
	switch {
	case err == nil && seen != "" && string(cur) == seen:
		return false, nil
	case err == nil:
		// Another node rebuilt the bucket (or this node just started): the
		// marker vouches for lookups from now on, not for this one.
		d.mu.Lock()
		d.epochs[b] = string(cur)
		d.mu.Unlock()
	case errors.Is(err, storage.ErrNotFound):
		if err := d.rebuild(ctx, b); err != nil {
			return false, err
		}
	default:
		return false, err
	}
	return d.durable(ctx, name)
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

// Rebuild restores every bucket of the deny-list that has no marker in the
// short-lived store (it was emptied, or this is its first use) from the
// durable holds, then writes the bucket a new marker. Concurrent rebuilds,
// on this node or others, are harmless: each writes the same entries, and
// the first marker written wins.
func (d *DenyList) Rebuild(ctx context.Context) error {
	for b := 0; b < denyBuckets; b++ {
		if err := d.rebuild(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// rebuild restores bucket b if its marker is missing.
func (d *DenyList) rebuild(ctx context.Context, b int) error {
	if d.holds == nil {
		return nil
	}
	d.rebuilding.Lock()
	defer d.rebuilding.Unlock()
	if cur, err := d.eph.Get(ctx, denyEpochKey(b)); err == nil {
		d.mu.Lock()
		d.epochs[b] = string(cur)
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
		name := strings.TrimPrefix(h.Key, holdDeny)
		if denyBucket(name) != b {
			continue
		}
		if ttl := h.Until.Sub(now); ttl > 0 {
			if err := d.eph.Put(ctx, denyKey(name), []byte{1}, ttl); err != nil {
				return fmt.Errorf("deny-list: rebuild: %w", err)
			}
		}
	}
	raw := make([]byte, 18)
	_, _ = rand.Read(raw)
	mark := base64.RawURLEncoding.EncodeToString(raw)
	ok, err := d.eph.PutNX(ctx, denyEpochKey(b), []byte(mark), denyEpochTTL)
	if err != nil {
		return fmt.Errorf("deny-list: rebuild: %w", err)
	}
	if !ok {
		cur, err := d.eph.Get(ctx, denyEpochKey(b))
		if err != nil {
			return fmt.Errorf("deny-list: rebuild: %w", err)
		}
		mark = string(cur)
	}
	d.mu.Lock()
	d.epochs[b] = mark
	d.mu.Unlock()
	return nil
}
