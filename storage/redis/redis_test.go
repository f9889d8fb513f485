package redis

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/storage/conformance"
)

// openTest opens a Store on the test Redis under a prefix unique to tb; the
// keys are deleted when tb ends.
func openTest(tb testing.TB) *Store {
	tb.Helper()
	url, prefix := testenv.RedisURL(tb)
	return openURL(tb, url, prefix)
}

// openURL opens a Store on url under prefix, closed when tb ends.
func openURL(tb testing.TB, url, prefix string) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, url, prefix)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	conformance.RunEphemeral(t, func(t *testing.T) storage.Ephemeral {
		return openTest(t)
	})
}

func TestPrefix(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	if err := s.Put(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Put: %v", err)
	}
	raw, err := s.Client().Get(ctx, s.prefix+"k").Result()
	if err != nil || raw != "v" {
		t.Fatalf("raw GET of the prefixed key = %q, %v; want \"v\"", raw, err)
	}
	other := New(s.Client(), s.prefix+"other:")
	if _, err := other.Get(ctx, "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get under another prefix: %v, want ErrNotFound", err)
	}
}

func TestTTLWithoutExpiry(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	if err := s.Client().Set(ctx, s.prefix+"forever", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	d, err := s.TTL(ctx, "forever")
	if err != nil || d != NoExpiry {
		t.Fatalf("TTL = %v, %v; want NoExpiry", d, err)
	}
}

func TestRejectsNonPositiveTTL(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := s.Put(ctx, "k", []byte("v"), ttl); err == nil {
			t.Errorf("Put with ttl %v: no error", ttl)
		}
		if _, err := s.PutNX(ctx, "k", []byte("v"), ttl); err == nil {
			t.Errorf("PutNX with ttl %v: no error", ttl)
		}
		if _, err := s.Incr(ctx, "k", ttl); err == nil {
			t.Errorf("Incr with ttl %v: no error", ttl)
		}
	}
	if n, _ := s.Client().Exists(ctx, s.prefix+"k").Result(); n != 0 {
		t.Fatalf("a rejected write left the key behind")
	}
}

func TestSubMillisecondTTL(t *testing.T) {
	s := openTest(t)
	if err := s.Put(t.Context(), "k", []byte("v"), time.Microsecond); err != nil {
		t.Fatalf("Put with a 1µs TTL: %v", err)
	}
}

func TestIncrOnNonCounter(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	if err := s.Put(ctx, "k", []byte("not a number"), time.Minute); err != nil {
		t.Fatalf("Put: %v", err)
	}
	_, err := s.Incr(ctx, "k", time.Minute)
	if err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Incr of a non-counter: %v, want a Redis error", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	// Port 1 on loopback refuses connections.
	s, err := Open(ctx, "redis://127.0.0.1:1/0?dial_timeout=1s&max_retries=-1", "x:")
	if err == nil {
		_ = s.Close()
		t.Fatal("Open of an unreachable server succeeded")
	}
}

func BenchmarkGet(b *testing.B) {
	s := openTest(b)
	ctx := b.Context()
	if err := s.Put(ctx, "k", make([]byte, 256), time.Hour); err != nil {
		b.Fatalf("Put: %v", err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Get(ctx, "k"); err != nil {
				b.Errorf("Get: %v", err)
				return
			}
		}
	})
}

func BenchmarkIncr(b *testing.B) {
	s := openTest(b)
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			// A handful of counters, as rate limits per account and per IP.
			if _, err := s.Incr(ctx, "c"+strconv.Itoa(i%8), time.Hour); err != nil {
				b.Errorf("Incr: %v", err)
				return
			}
			i++
		}
	})
}
