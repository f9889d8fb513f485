package clients

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gosid/gosid/storage"
)

// Cache defaults.
const (
	DefaultCacheTTL = 5 * time.Second
	// negativeTTL bounds how long an unknown id is remembered as unknown.
	negativeTTL = time.Second
	// maxNegative bounds the memory a flood of distinct bogus ids can take.
	maxNegative = 10000
	// fetchTimeout bounds a store read shared by several callers, none of
	// whose contexts it can use (see GetClient).
	fetchTimeout = 10 * time.Second
)

// Cache is a Store that serves GetClient from memory, so that the token and
// authorize endpoints do not query the database for every request.
//
// Entries live for the TTL; a change made on another node is seen within
// it. Concurrent misses for one id share a single store read. Unknown ids
// are remembered for a second (never longer than the TTL), so that a client
// retrying with a wrong id does not reach the database on every request; ids
// that no valid client can have (see Validate) never reach it at all.
//
// Clients returned by GetClient are shared: callers must not modify them.
// Clone one to change it, then call UpdateClient.
type Cache struct {
	store  Store
	ttl    time.Duration
	negTTL time.Duration
	now    func() time.Time

	// entries maps ids to *cacheEntry. Reads are lock-free; writes hold mu,
	// which also guards negative and gen.
	entries sync.Map
	mu      sync.Mutex
	// negative counts the entries that record an unknown id.
	negative int
	// gen changes on every invalidation; a read that started before one does
	// not store its (possibly stale) result.
	gen uint64

	group singleflight.Group
}

var _ Store = (*Cache)(nil)

type cacheEntry struct {
	c       *Client
	err     error // storage.ErrNotFound, or nil when c is set
	expires time.Time
}

// NewCache wraps store; ttl <= 0 means DefaultCacheTTL.
func NewCache(store Store, ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	return &Cache{
		store:  store,
		ttl:    ttl,
		negTTL: min(negativeTTL, ttl),
		now:    time.Now,
	}
}

// GetClient returns the client from memory, reading it from the store on a
// miss. It returns storage.ErrNotFound for an unknown id.
func (c *Cache) GetClient(ctx context.Context, id string) (*Client, error) {
	if id == "" || len(id) > maxIDLen || !validIDChars(id) {
		return nil, storage.ErrNotFound
	}
	if v, ok := c.entries.Load(id); ok {
		if e := v.(*cacheEntry); c.now().Before(e.expires) {
			return e.c, e.err
		}
	}
	// The shared read runs detached from any one caller's context, so that
	// one caller giving up does not fail the others; each caller still stops
	// waiting when its own context ends.
	ch := c.group.DoChan(id, func() (any, error) {
		return c.fetch(context.WithoutCancel(ctx), id)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Client), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Cache) fetch(ctx context.Context, id string) (*Client, error) {
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	cl, err := c.store.GetClient(ctx, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.put(id, cl, err)
	}
	return cl, err
}

// put records a store result; c.mu must be held.
func (c *Cache) put(id string, cl *Client, err error) {
	now := c.now()
	e := &cacheEntry{c: cl, err: err, expires: now.Add(c.ttl)}
	if err != nil {
		e.expires = now.Add(c.negTTL)
		if c.negative >= maxNegative {
			c.sweep(now)
		}
	}
	if old, ok := c.entries.Swap(id, e); ok && old.(*cacheEntry).err != nil {
		c.negative--
	}
	if err != nil {
		c.negative++
	}
}

// sweep runs when unknown ids fill their share of the cache: it drops the
// expired entries and every unknown id, which under a flood of bogus ids are
// worthless anyway. c.mu must be held.
func (c *Cache) sweep(now time.Time) {
	c.entries.Range(func(k, v any) bool {
		if e := v.(*cacheEntry); !now.Before(e.expires) || e.err != nil {
			c.remove(k.(string))
		}
		return true
	})
}

// remove deletes id's entry; c.mu must be held.
func (c *Cache) remove(id string) {
	if old, ok := c.entries.LoadAndDelete(id); ok && old.(*cacheEntry).err != nil {
		c.negative--
	}
}

// Invalidate forgets id, so that the next GetClient on this node reads the
// store.
func (c *Cache) Invalidate(id string) {
	c.mu.Lock()
	c.remove(id)
	c.gen++
	c.mu.Unlock()
	c.group.Forget(id)
}

// CreateClient stores cl and forgets any cached "unknown" for its id.
func (c *Cache) CreateClient(ctx context.Context, cl *Client) error {
	defer c.Invalidate(cl.ID)
	return c.store.CreateClient(ctx, cl)
}

// UpdateClient stores cl and forgets the cached copy. cl must be the
// caller's own value (see Client.Clone), never one returned by GetClient.
func (c *Cache) UpdateClient(ctx context.Context, cl *Client) error {
	defer c.Invalidate(cl.ID)
	return c.store.UpdateClient(ctx, cl)
}

// DeleteClient deletes the client and forgets the cached copy.
func (c *Cache) DeleteClient(ctx context.Context, id string) error {
	defer c.Invalidate(id)
	return c.store.DeleteClient(ctx, id)
}

// ListClients reads the store; listing is for administration, not the hot
// path.
func (c *Cache) ListClients(ctx context.Context) ([]*Client, error) {
	return c.store.ListClients(ctx)
}
