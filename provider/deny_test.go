package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/storage/redis"
)

// memHolds is a storage.Holds in memory, for the deny-list alone.
type memHolds struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (h *memHolds) PutHold(_ context.Context, key string, until time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]time.Time{}
	}
	if until.After(h.m[key]) {
		h.m[key] = until
	}
	return nil
}

func (h *memHolds) HoldUntil(_ context.Context, key string, now time.Time) (time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if u, ok := h.m[key]; ok && u.After(now) {
		return u, nil
	}
	return time.Time{}, storage.ErrNotFound
}

func (h *memHolds) ListHolds(_ context.Context, prefix string, now time.Time) ([]storage.Hold, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []storage.Hold
	for k, u := range h.m {
		if strings.HasPrefix(k, prefix) && u.After(now) {
			out = append(out, storage.Hold{Key: k, Until: u})
		}
	}
	return out, nil
}

func (h *memHolds) DeleteHold(_ context.Context, key string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, key)
	return nil
}

// TestDenyListSurvivesOnePrimaryLosingData revokes grants spread over the
// three primaries of the test Redis Cluster, then empties one primary's
// keys (as a failover to a replica without the data would) and checks that
// every grant is still denied, for each primary in turn. A single marker on
// another primary would vouch for the lost entries and bring them back.
func TestDenyListSurvivesOnePrimaryLosingData(t *testing.T) {
	url, prefix := testenv.RedisClusterURL(t)
	ctx := t.Context()
	s, err := redis.Open(ctx, url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cc := s.Client().(*goredis.ClusterClient)
	d := NewDenyList(s, &memHolds{}, time.Hour)

	var grants []string
	for i := 0; i < 48; i++ {
		g := fmt.Sprintf("grant-%d", i)
		grants = append(grants, g)
		if err := d.DenyGrant(ctx, g); err != nil {
			t.Fatalf("DenyGrant: %v", err)
		}
	}
	// Every grant denied, and every other grant not, so that each bucket's
	// marker is seen.
	for _, g := range grants {
		if ok, err := d.GrantDenied(ctx, g); err != nil || !ok {
			t.Fatalf("GrantDenied(%s) = %v, %v before any loss", g, ok, err)
		}
		if ok, err := d.GrantDenied(ctx, "not-"+g); err != nil || ok {
			t.Fatalf("GrantDenied(not-%s) = %v, %v", g, ok, err)
		}
	}
	var primaries []*goredis.Client
	var mu sync.Mutex
	_ = cc.ForEachMaster(ctx, func(_ context.Context, m *goredis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		primaries = append(primaries, m)
		return nil
	})
	if len(primaries) != 3 {
		t.Fatalf("%d primaries, want 3", len(primaries))
	}
	for _, m := range primaries {
		var lost int
		it := m.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for it.Next(ctx) {
			if err := m.Del(ctx, it.Val()).Err(); err != nil {
				t.Fatal(err)
			}
			lost++
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		if lost == 0 {
			t.Fatalf("primary %s held none of the deny-list", m.Options().Addr)
		}
		for _, g := range grants {
			if ok, err := d.GrantDenied(ctx, g); err != nil || !ok {
				t.Fatalf("after %s lost its %d keys GrantDenied(%s) = %v, %v; want true", m.Options().Addr, lost, g, ok, err)
			}
		}
	}
}
