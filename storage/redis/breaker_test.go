package redis

import (
	"context"
	"errors"
	"net"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/gosid/gosid/storage"
)

// TestUnreachableRedis: a Redis that refuses connections is
// storage.ErrUnavailable (noted for the request), and after a few failures
// the breaker answers without dialling at all.
func TestUnreachableRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	s := New(c, "t:")
	for i := range breakerFailures + 2 {
		ctx, outage := storage.WithOutage(context.Background())
		_, err := s.Get(ctx, "k")
		if !errors.Is(err, storage.ErrUnavailable) || errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("call %d: %v; want ErrUnavailable", i, err)
		}
		if !outage.Seen() {
			t.Fatalf("call %d: the outage was not noted for the request", i)
		}
		if i >= breakerFailures && !errors.Is(err, gobreaker.ErrOpenState) {
			t.Fatalf("call %d after %d failures: %v; want the open breaker's answer", i, breakerFailures, err)
		}
	}
	if s.breaker.State() != gobreaker.StateOpen {
		t.Fatalf("breaker %v, want open", s.breaker.State())
	}
}

func TestUnreachableClassification(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{goredis.Nil, false},
		{context.Canceled, false},
		{errors.New("dial tcp: connection refused"), true},
		{context.DeadlineExceeded, true},
	} {
		if got := unreachable(tt.err); got != tt.want {
			t.Errorf("unreachable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
