package pii

import (
	"context"
	"errors"
	"fmt"

	"github.com/gosid/gosid/storage"
)

// RotateDataKey makes a new data key Active for new data and retires the
// active one, which keeps decrypting what it encrypted: no data row is
// rewritten. It acts on the keys this node has loaded: if another node
// rotated since, it changes nothing, reloads, and returns an error wrapping
// ErrRotationConflict, so two operators rotating at once rotate once.
//
// Other nodes decrypt under the new key at once (a miss makes them reload)
// and encrypt under it from their next reload (Start).
func (c *Cipher) RotateDataKey(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.ring.Load()
	if r == nil {
		return ErrNotInitialized
	}
	next, err := newKey(c.current, PurposeData, StateActive, c.o.Now().UTC())
	if err != nil {
		return err
	}
	err = c.store.RotateDataKey(ctx, r.active.name, next)
	if errors.Is(err, storage.ErrConflict) {
		if rerr := c.reload(ctx); rerr != nil {
			c.o.Logger.Error("reload pii keys", "err", rerr)
		}
		return fmt.Errorf("pii: rotate data key: %w; the keys were reloaded, check them before rotating again",
			ErrRotationConflict)
	}
	if err != nil {
		return fmt.Errorf("pii: rotate data key: %w", err)
	}
	c.o.Logger.Info("pii data key rotated", "active", next.ID, "retired", r.active.name)
	return c.reload(ctx)
}

// Rewrap re-wraps every stored key not yet under the current master key's
// KEK, and reports how many it re-wrapped. Key material and data rows do not
// change: a master key rotation costs one small write per key.
//
// A master key rotation: give every node the new MasterKey with the old one
// in PreviousMasterKeys; once all run so (a node that only knows the old
// master key cannot load keys wrapped under the new one), run Rewrap on one
// node, or the CLI. Once a second run re-wraps 0 keys, drop the old key
// from PreviousMasterKeys. Running it twice at once is harmless: both write
// equivalent wrappings.
func (c *Cipher) Rewrap(ctx context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	recs, err := c.store.ListDataKeys(ctx)
	if err != nil {
		return 0, fmt.Errorf("pii: rewrap: list keys: %w", err)
	}
	n := 0
	for _, d := range recs {
		if d.KEKID == c.current.id {
			continue
		}
		if err := c.rewrapOne(ctx, d); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		c.o.Logger.Info("pii keys re-wrapped", "count", n, "kek", c.current.id)
	}
	if err := c.reload(ctx); err != nil {
		return n, err
	}
	return n, nil
}

func (c *Cipher) rewrapOne(ctx context.Context, d DataKey) error {
	old := c.keks[d.KEKID]
	if old == nil {
		return fmt.Errorf("pii: rewrap: %s key %s is wrapped under master key %s, which is not configured; "+
			"add it to the previous master keys", d.Purpose, d.ID, d.KEKID)
	}
	raw, err := old.unwrap(d)
	if err != nil {
		return fmt.Errorf("pii: rewrap: %w", err)
	}
	defer clear(raw)
	wrapped, err := c.current.wrap(raw, d.ID, d.Purpose)
	if err != nil {
		return fmt.Errorf("pii: rewrap: %w", err)
	}
	if err := c.store.UpdateWrapped(ctx, d.ID, wrapped, c.current.id); err != nil {
		return fmt.Errorf("pii: rewrap %s key %s: %w", d.Purpose, d.ID, err)
	}
	return nil
}
