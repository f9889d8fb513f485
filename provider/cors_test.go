package provider

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gosid/gosid/clients"
)

// listStore is a clients.Store of which originIndex uses ListClients only.
type listStore struct {
	clients.Store
	mu    sync.Mutex
	all   []*clients.Client
	lists int
	fail  bool
}

func (s *listStore) ListClients(context.Context) ([]*clients.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	if s.fail {
		return nil, errors.New("down")
	}
	return s.all, nil
}

// TestOriginIndex: a new client's origin is known after a miss once the
// index is a second old; unknown origins list the clients at most once a
// second; a removed client's origin is forgotten within corsIndexMaxAge; a
// failing store keeps the last index.
func TestOriginIndex(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_000_000, 0)
	st := &listStore{all: []*clients.Client{{ID: "a", RedirectURIs: []string{"https://a.example/cb"}}}}
	x := &originIndex{store: st, now: func() time.Time { return now }}
	if !x.known(ctx, "https://a.example") || x.known(ctx, "https://b.example") || st.lists != 1 {
		t.Fatalf("first lookups: lists %d", st.lists)
	}
	st.all = append(st.all, &clients.Client{ID: "b", RedirectURIs: []string{"b.example.app:/cb"}, AllowedCORSOrigins: []string{"https://b.example"}})
	for range 100 {
		if x.known(ctx, "https://b.example") || x.known(ctx, "https://evil.example") {
			t.Fatal("an origin became known before the index was rebuilt")
		}
	}
	if st.lists != 1 {
		t.Fatalf("misses within a second listed the clients %d times", st.lists)
	}
	now = now.Add(corsIndexTTL)
	if !x.known(ctx, "https://b.example") || st.lists != 2 {
		t.Fatalf("the new client's origin: lists %d", st.lists)
	}
	st.all = st.all[1:]
	now = now.Add(corsIndexMaxAge - time.Millisecond)
	if !x.known(ctx, "https://a.example") {
		t.Fatal("a known origin was dropped before the index aged")
	}
	now = now.Add(time.Millisecond)
	if x.known(ctx, "https://a.example") || !x.known(ctx, "https://b.example") {
		t.Fatal("the removed client's origin is still known after corsIndexMaxAge")
	}
	st.fail = true
	now = now.Add(corsIndexMaxAge)
	if !x.known(ctx, "https://b.example") {
		t.Fatal("a failing store emptied the index")
	}
}
