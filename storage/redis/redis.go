// Package redis implements the short-lived state port, storage.Ephemeral, on
// Redis through a go-redis UniversalClient: a single node, a Sentinel-managed
// primary or a Redis Cluster.
//
// Every operation touches exactly one key, so all of them work unchanged on a
// Cluster (a caller that needs several keys in one step must give them one
// hash tag, "{...}", so that they share a slot). On a Cluster each primary
// has its own circuit breaker, and after a failover the client re-reads the
// slot map by itself (on the MOVED answer or the failed connection). Every key is prefixed, so several deployments (or test runs) can
// share one server. Values always carry a TTL: nothing stored here outlives
// its purpose.
//
// Open accepts these URL forms:
//
//	redis://[user:password@]host:port[/db][?option=value...]
//	rediss://[user:password@]host:port[/db][?option=value...]
//	    one node, plain or TLS; options as goredis.ParseURL documents them
//	    (dial_timeout, read_timeout, pool_size, ...).
//
//	redis+cluster://[user:password@]host1:6379,host2:6379[?option=value...]
//	rediss+cluster://...
//	    a Redis Cluster; the hosts are seed nodes (a missing port means 6379);
//	    options as goredis.ParseClusterURL documents them.
//
//	redis+sentinel://master-name@host1:26379,host2:26379[/db][?option=value...]
//	rediss+sentinel://...
//	    a primary found through Sentinel (a missing port means 26379); the
//	    master name may also be given as ?master_name=; the primary's
//	    credentials as ?username= and ?password=, the sentinels' as
//	    ?sentinel_username= and ?sentinel_password=; other options as
//	    goredis.ParseFailoverURL documents them.
package redis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/gosid/gosid/storage"
)

// NoExpiry is what TTL reports for a key that exists without an expiry. The
// Store never writes such a key, but another client sharing the prefix might.
const NoExpiry = time.Duration(math.MaxInt64)

// errBadTTL is returned for a TTL that is zero or negative: the port promises
// that every value disappears by itself, so a value without one is a bug.
var errBadTTL = errors.New("ttl must be positive")

// incrScript increments a counter and sets its expiry only when the counter
// has none, that is when INCR has just created it: later increments do not
// move the end of the window. Running it as one script keeps the two steps
// atomic; it works on Redis before 7.0, which lacks PEXPIRE NX.
var incrScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

// Store is a storage.Ephemeral on Redis. It is safe for concurrent use.
type Store struct {
	c       goredis.UniversalClient
	prefix  string
	breaker *gobreaker.CircuitBreaker[struct{}]
	// primaries holds a breaker per Cluster primary address (see breakerFor).
	primaries sync.Map
}

var _ storage.Ephemeral = (*Store)(nil)

// New returns a Store that keeps its keys under prefix (for example
// "gosid:") in c. The caller keeps ownership of c unless it calls Close.
func New(c goredis.UniversalClient, prefix string) *Store {
	return &Store{c: c, prefix: prefix, breaker: newBreaker(prefix)}
}

// Open connects to the Redis described by url (see the package comment for
// the accepted forms), checks that it answers, and returns a Store that keeps
// its keys under prefix. Close releases the connections.
func Open(ctx context.Context, url string, prefix string) (*Store, error) {
	ep, err := parseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis open: %w", err)
	}
	c := ep.client()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis open: ping: %w", err)
	}
	return New(c, prefix), nil
}

// Close closes the underlying client.
func (s *Store) Close() error {
	return s.c.Close()
}

// Client returns the underlying client, for health checks and metrics.
func (s *Store) Client() goredis.UniversalClient {
	return s.c
}

func (s *Store) key(k string) string {
	return s.prefix + k
}

// Put implements storage.Ephemeral.
func (s *Store) Put(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("redis put: %w", errBadTTL)
	}
	if err := s.run(ctx, "put", s.key(key), func() error { return s.c.Set(ctx, s.key(key), val, millis(ttl)).Err() }); err != nil {
		return fmt.Errorf("redis put: %w", err)
	}
	return nil
}

// PutNX implements storage.Ephemeral with SET NX PX.
func (s *Store) PutNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("redis putnx: %w", errBadTTL)
	}
	var ok bool
	err := s.run(ctx, "putnx", s.key(key), func() (err error) {
		ok, err = s.c.SetNX(ctx, s.key(key), val, millis(ttl)).Result()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("redis putnx: %w", err)
	}
	return ok, nil
}

// Get implements storage.Ephemeral.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	var b []byte
	err := s.run(ctx, "get", s.key(key), func() (err error) {
		b, err = s.c.Get(ctx, s.key(key)).Bytes()
		return err
	})
	if err != nil {
		return nil, mapErr("get", err)
	}
	return b, nil
}

// Take implements storage.Ephemeral with GETDEL (Redis 6.2 or later), which
// hands the value to exactly one of any number of concurrent callers.
func (s *Store) Take(ctx context.Context, key string) ([]byte, error) {
	var b []byte
	err := s.run(ctx, "take", s.key(key), func() (err error) {
		b, err = s.c.GetDel(ctx, s.key(key)).Bytes()
		return err
	})
	if err != nil {
		return nil, mapErr("take", err)
	}
	return b, nil
}

// Delete implements storage.Ephemeral.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.run(ctx, "delete", s.key(key), func() error { return s.c.Del(ctx, s.key(key)).Err() }); err != nil {
		return fmt.Errorf("redis delete: %w", err)
	}
	return nil
}

// Incr implements storage.Ephemeral: a fixed-window counter whose expiry is
// set when it is created and never extended.
func (s *Store) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, fmt.Errorf("redis incr: %w", errBadTTL)
	}
	var n int64
	err := s.run(ctx, "incr", s.key(key), func() (err error) {
		n, err = incrScript.Run(ctx, s.c, []string{s.key(key)}, millis(ttl).Milliseconds()).Int64()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("redis incr: %w", err)
	}
	return n, nil
}

// TTL implements storage.Ephemeral. A key without an expiry reports NoExpiry.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	var d time.Duration
	err := s.run(ctx, "ttl", s.key(key), func() (err error) {
		d, err = s.c.PTTL(ctx, s.key(key)).Result()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("redis ttl: %w", err)
	}
	switch d {
	case -2:
		return 0, fmt.Errorf("redis ttl: %w", storage.ErrNotFound)
	case -1:
		return NoExpiry, nil
	}
	return d, nil
}

// Ping implements storage.Ephemeral.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.run(ctx, "ping", "", func() error { return s.c.Ping(ctx).Err() }); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// millis rounds ttl up to whole milliseconds, the resolution of PX, so that a
// sub-millisecond TTL still stores the value for a moment rather than failing.
func millis(ttl time.Duration) time.Duration {
	if r := ttl % time.Millisecond; r != 0 {
		ttl += time.Millisecond - r
	}
	return ttl
}

func mapErr(op string, err error) error {
	if errors.Is(err, goredis.Nil) {
		return fmt.Errorf("redis %s: %w", op, storage.ErrNotFound)
	}
	return fmt.Errorf("redis %s: %w", op, err)
}
