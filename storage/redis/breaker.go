package redis

import (
	"context"
	"errors"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/gosid/gosid/storage"
)

// When Redis stops answering, every request that needs it would wait for
// its timeouts. A circuit breaker stops trying after a few failures in a
// row and fails at once for a short pause, then lets one request through to
// see whether Redis is back: requests get a quick "try again" (503) instead
// of hanging, and recovery needs no restart.
const (
	breakerFailures = 3
	breakerPause    = 2 * time.Second
)

func newBreaker(name string) *gobreaker.CircuitBreaker[struct{}] {
	return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis " + name,
		MaxRequests: 1,
		Timeout:     breakerPause,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= breakerFailures },
		// Only an unreachable Redis trips the breaker: a missing key or a
		// caller that gave up is Redis answering.
		IsSuccessful: func(err error) bool { return err == nil || !unreachable(err) },
	})
}

// breakerFor returns the breaker for the server that holds key: on a Redis
// Cluster one per primary, so that one primary down (or failing over) opens
// the circuit for its slots only and the others go on answering; on a single
// server or Sentinel, and for operations without a key, the store's one
// breaker. After a failover the client re-reads the slots and the key's new
// primary has a breaker of its own, closed.
func (s *Store) breakerFor(ctx context.Context, key string) *gobreaker.CircuitBreaker[struct{}] {
	cc, ok := s.c.(*goredis.ClusterClient)
	if !ok || key == "" {
		return s.breaker
	}
	m, err := cc.MasterForKey(ctx, key)
	if err != nil {
		// No slot map (no seed answers): the cluster as a whole is away.
		return s.breaker
	}
	addr := m.Options().Addr
	if b, ok := s.primaries.Load(addr); ok {
		return b.(*gobreaker.CircuitBreaker[struct{}])
	}
	b, _ := s.primaries.LoadOrStore(addr, newBreaker(s.prefix+" "+addr))
	return b.(*gobreaker.CircuitBreaker[struct{}])
}

// run calls fn through the breaker of the server holding key (the full,
// prefixed key; "" for none) and turns an unreachable Redis into
// storage.ErrUnavailable (noted in ctx for the request's answer).
func (s *Store) run(ctx context.Context, op, key string, fn func() error) error {
	_, err := s.breakerFor(ctx, key).Execute(func() (struct{}, error) { return struct{}{}, fn() })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests), unreachable(err):
		return storage.Unavailable(ctx, "redis "+op, err)
	}
	return err
}

// unreachable reports whether err means Redis could not be asked or could
// not answer (network, timeouts, a server loading or without a primary), as
// opposed to Redis answering (a missing key, a script error) or the caller
// giving up.
func unreachable(err error) bool {
	switch {
	case err == nil, errors.Is(err, goredis.Nil), errors.Is(err, context.Canceled):
		return false
	}
	var reply goredis.Error
	if errors.As(err, &reply) {
		msg := reply.Error()
		for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY"} {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	return true
}
