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

// run calls fn through the breaker and turns an unreachable Redis into
// storage.ErrUnavailable (noted in ctx for the request's answer).
func (s *Store) run(ctx context.Context, op string, fn func() error) error {
	_, err := s.breaker.Execute(func() (struct{}, error) { return struct{}{}, fn() })
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
