package keys

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gosid/gosid/storage"
)

// memStore is an in-memory Store that honours the port's contract: (alg,
// generation) and kid are unique, RotateKeys is all or nothing and reports
// storage.ErrConflict when the active generation moved. The storage
// conformance suite checks the same on real databases.
type memStore struct {
	mu      sync.Mutex
	keys    []Record
	listErr error
}

func cloneRecord(r Record) Record {
	r.PublicJWK = bytes.Clone(r.PublicJWK)
	r.Sealed = bytes.Clone(r.Sealed)
	return r
}

func (s *memStore) ListKeys(context.Context) ([]Record, error) {
	runtime.Gosched() // let concurrent nodes interleave
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listErr != nil {
		return nil, s.listErr
	}
	out := make([]Record, len(s.keys))
	for i, r := range s.keys {
		out[i] = cloneRecord(r)
	}
	return out, nil
}

func (s *memStore) InsertKey(_ context.Context, r Record) (bool, error) {
	runtime.Gosched()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.KID == r.KID {
			return false, fmt.Errorf("insert key: duplicate kid %s: %w", r.KID, storage.ErrConflict)
		}
		if k.Alg == r.Alg && k.Generation == r.Generation {
			return false, nil
		}
	}
	s.keys = append(s.keys, cloneRecord(r))
	return true, nil
}

func (s *memStore) RotateKeys(_ context.Context, alg string, activeGen int64, next Record, now, retiredUntil time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	find := func(gen int64, st State) int {
		return slices.IndexFunc(s.keys, func(k Record) bool {
			return k.Alg == alg && k.Generation == gen && k.State == st
		})
	}
	a, n := find(activeGen, StateActive), find(activeGen+1, StateNext)
	if a < 0 || n < 0 {
		return storage.ErrConflict
	}
	if slices.ContainsFunc(s.keys, func(k Record) bool {
		return k.KID == next.KID || k.Alg == alg && k.Generation == activeGen+2
	}) {
		return storage.ErrConflict
	}
	s.keys[a].State, s.keys[a].RetiredAt, s.keys[a].ExpiresAt = StateRetired, now, retiredUntil
	s.keys[n].State, s.keys[n].ActivatedAt = StateActive, now
	next.Alg, next.Generation, next.State = alg, activeGen+2, StateNext
	s.keys = append(s.keys, cloneRecord(next))
	return nil
}

func (s *memStore) DeleteExpiredKeys(_ context.Context, now time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := len(s.keys)
	s.keys = slices.DeleteFunc(s.keys, func(k Record) bool {
		return k.State == StateRetired && k.ExpiresAt.Before(now)
	})
	return int64(before - len(s.keys)), nil
}

func (s *memStore) set(f func(keys []Record) []Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = f(s.keys)
}

var _ Store = (*memStore)(nil)

// testClock is an injectable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var discardLogger = slog.New(slog.DiscardHandler)

// testOptions are the options of test managers: one-hour retirement on the
// injected clock.
func testOptions(clk *testClock, algs ...string) Options {
	return Options{
		Algs: algs, RetireAfter: time.Hour, ReloadInterval: time.Second,
		Logger: discardLogger, Now: clk.Now,
	}
}

func newTestManager(t testing.TB, st Store, o Options) *Manager {
	t.Helper()
	return NewManager(st, newTestSealer(t, 1), o)
}

func initManager(t testing.TB, st Store, o Options) *Manager {
	t.Helper()
	m := newTestManager(t, st, o)
	if err := m.Init(context.Background()); err != nil {
		t.Fatalf("init: %v", err)
	}
	return m
}
