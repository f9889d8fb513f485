package clients

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosid/gosid/storage"
)

// countingStore is an in-memory Store that counts GetClient calls and can
// hold them until released, to make concurrent misses overlap.
type countingStore struct {
	mu      sync.Mutex
	clients map[string]*Client
	gets    atomic.Int64
	gate    chan struct{} // when non-nil, GetClient waits for it to close
}

func newCountingStore(cs ...*Client) *countingStore {
	s := &countingStore{clients: make(map[string]*Client)}
	for _, c := range cs {
		s.clients[c.ID] = c.Clone()
	}
	return s
}

func (s *countingStore) CreateClient(_ context.Context, c *Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c.ID]; ok {
		return storage.ErrConflict
	}
	s.clients[c.ID] = c.Clone()
	return nil
}

func (s *countingStore) GetClient(ctx context.Context, id string) (*Client, error) {
	s.gets.Add(1)
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	// The row is read before waiting, as a query that has read it but not
	// yet returned.
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if !ok {
		return nil, storage.ErrNotFound
	}
	return c.Clone(), nil
}

func (s *countingStore) ListClients(context.Context) ([]*Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Client
	for _, c := range s.clients {
		out = append(out, c.Clone())
	}
	return out, nil
}

func (s *countingStore) UpdateClient(_ context.Context, c *Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c.ID]; !ok {
		return storage.ErrNotFound
	}
	s.clients[c.ID] = c.Clone()
	return nil
}

func (s *countingStore) DeleteClient(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, id)
	return nil
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func newTestCache(t *testing.T, ttl time.Duration, cs ...*Client) (*Cache, *countingStore, *fakeClock) {
	t.Helper()
	st := newCountingStore(cs...)
	cache := NewCache(st, ttl)
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	cache.now = clock.Now
	return cache, st, clock
}

func TestCacheCollapsesConcurrentMisses(t *testing.T) {
	cache, st, _ := newTestCache(t, 0, &Client{ID: "svc", Name: "Service"})
	st.gate = make(chan struct{})
	ctx := context.Background()

	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			c, err := cache.GetClient(ctx, "svc")
			if err == nil && c.Name != "Service" {
				err = fmt.Errorf("got name %q", c.Name)
			}
			errs <- err
		})
	}
	// Let every goroutine reach the cache before the one store read returns.
	for st.gets.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(st.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := st.gets.Load(); got != 1 {
		t.Fatalf("store reads = %d, want 1", got)
	}
}

func TestCacheTTL(t *testing.T) {
	cache, st, clock := newTestCache(t, 5*time.Second, &Client{ID: "svc", Name: "Service"})
	ctx := context.Background()
	get := func() {
		t.Helper()
		if _, err := cache.GetClient(ctx, "svc"); err != nil {
			t.Fatal(err)
		}
	}
	get()
	clock.Advance(4 * time.Second)
	get()
	if got := st.gets.Load(); got != 1 {
		t.Fatalf("store reads within TTL = %d, want 1", got)
	}
	clock.Advance(time.Second)
	get()
	if got := st.gets.Load(); got != 2 {
		t.Fatalf("store reads after TTL = %d, want 2", got)
	}
}

func TestCacheDefaultTTL(t *testing.T) {
	if c := NewCache(newCountingStore(), 0); c.ttl != DefaultCacheTTL || c.negTTL != time.Second {
		t.Fatalf("ttl = %v, negative ttl = %v", c.ttl, c.negTTL)
	}
	if c := NewCache(newCountingStore(), 100*time.Millisecond); c.negTTL != 100*time.Millisecond {
		t.Fatalf("negative ttl = %v, want capped at the ttl", c.negTTL)
	}
}

func TestCacheNegative(t *testing.T) {
	cache, st, clock := newTestCache(t, 5*time.Second)
	ctx := context.Background()
	for range 10 {
		if _, err := cache.GetClient(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	}
	if got := st.gets.Load(); got != 1 {
		t.Fatalf("store reads = %d, want 1", got)
	}
	clock.Advance(time.Second)
	if _, err := cache.GetClient(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	if got := st.gets.Load(); got != 2 {
		t.Fatalf("store reads after negative TTL = %d, want 2", got)
	}
}

func TestCacheRejectsImpossibleIDs(t *testing.T) {
	cache, st, _ := newTestCache(t, 0)
	for _, id := range []string{"", "a b", "x/y", "é", string(make([]byte, 200))} {
		if _, err := cache.GetClient(context.Background(), id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("GetClient(%q) err = %v", id, err)
		}
	}
	if got := st.gets.Load(); got != 0 {
		t.Fatalf("store reads = %d, want 0", got)
	}
}

func TestCacheNegativeIsBounded(t *testing.T) {
	cache, _, _ := newTestCache(t, 0)
	ctx := context.Background()
	for i := range 3 * maxNegative {
		if _, err := cache.GetClient(ctx, fmt.Sprintf("bogus-%d", i)); !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
	}
	cache.mu.Lock()
	defer cache.mu.Unlock()
	n := 0
	cache.entries.Range(func(any, any) bool { n++; return true })
	if n > maxNegative || cache.negative != n {
		t.Fatalf("entries = %d, negative = %d, limit %d", n, cache.negative, maxNegative)
	}
}

func TestCacheStoreErrorNotCached(t *testing.T) {
	st := &failingStore{Store: newCountingStore(&Client{ID: "svc"})}
	cache := NewCache(st, 0)
	ctx := context.Background()
	st.fail.Store(true)
	if _, err := cache.GetClient(ctx, "svc"); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("err = %v, want the store's error", err)
	}
	st.fail.Store(false)
	if _, err := cache.GetClient(ctx, "svc"); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

type failingStore struct {
	Store
	fail atomic.Bool
}

func (f *failingStore) GetClient(ctx context.Context, id string) (*Client, error) {
	if f.fail.Load() {
		return nil, errors.New("database is down")
	}
	return f.Store.GetClient(ctx, id)
}

func TestCacheInvalidatesOnWrite(t *testing.T) {
	cache, st, _ := newTestCache(t, time.Hour, &Client{ID: "svc", Name: "Old"})
	ctx := context.Background()
	c, err := cache.GetClient(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}

	upd := c.Clone()
	upd.Name = "New"
	if err := cache.UpdateClient(ctx, upd); err != nil {
		t.Fatal(err)
	}
	if c.Name != "Old" {
		t.Fatal("UpdateClient changed a client returned earlier")
	}
	if c, err = cache.GetClient(ctx, "svc"); err != nil || c.Name != "New" {
		t.Fatalf("after update: %v, %v", c, err)
	}

	if err := cache.DeleteClient(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.GetClient(ctx, "svc"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("after delete: err = %v", err)
	}

	// The "unknown" just cached must not hide a client created next.
	if err := cache.CreateClient(ctx, &Client{ID: "svc", Name: "Again"}); err != nil {
		t.Fatal(err)
	}
	if c, err = cache.GetClient(ctx, "svc"); err != nil || c.Name != "Again" {
		t.Fatalf("after create: %v, %v", c, err)
	}

	st.clients["svc"].Name = "Behind the cache's back"
	cache.Invalidate("svc")
	if c, _ = cache.GetClient(ctx, "svc"); c.Name != "Behind the cache's back" {
		t.Fatalf("after Invalidate: name %q", c.Name)
	}
	if list, err := cache.ListClients(ctx); err != nil || len(list) != 1 {
		t.Fatalf("ListClients = %v, %v", list, err)
	}
}

// A read that started before an update must not put the old value back
// into the cache after the update invalidated it.
func TestCacheReadRacingUpdate(t *testing.T) {
	cache, st, _ := newTestCache(t, time.Hour, &Client{ID: "svc", Name: "Old"})
	ctx := context.Background()
	st.gate = make(chan struct{})
	done := make(chan *Client)
	go func() {
		c, _ := cache.GetClient(ctx, "svc")
		done <- c
	}()
	for st.gets.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := cache.UpdateClient(ctx, &Client{ID: "svc", Name: "New"}); err != nil {
		t.Fatal(err)
	}
	close(st.gate)
	if c := <-done; c.Name != "Old" {
		t.Fatalf("in-flight read returned %q; the test expects it to have read the old row", c.Name)
	}
	if c, err := cache.GetClient(ctx, "svc"); err != nil || c.Name != "New" {
		t.Fatalf("stale value cached: %v, %v", c, err)
	}
}

func TestCacheCallerContext(t *testing.T) {
	cache, st, _ := newTestCache(t, 0, &Client{ID: "svc"})
	st.gate = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := cache.GetClient(ctx, "svc")
		errc <- err
	}()
	for st.gets.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	other := make(chan error)
	go func() {
		_, err := cache.GetClient(context.Background(), "svc")
		other <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v", err)
	}
	close(st.gate)
	if err := <-other; err != nil {
		t.Fatalf("other caller failed with the first caller's cancellation: %v", err)
	}
}

func BenchmarkCacheGet(b *testing.B) {
	st := newCountingStore(&Client{ID: "svc", Name: "Service"})
	cache := NewCache(st, time.Hour)
	ctx := context.Background()
	if _, err := cache.GetClient(ctx, "svc"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := cache.GetClient(ctx, "svc"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
