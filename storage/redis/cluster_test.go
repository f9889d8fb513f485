package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/storage/conformance"
)

// The tests here run on the Redis Cluster scripts/test starts (six
// processes: three primaries, three replicas) and name in
// GOSID_TEST_REDIS_CLUSTER.

// openCluster opens a Store on the test cluster through Open's
// redis+cluster:// URL, as gosid does.
func openCluster(tb testing.TB) *Store {
	tb.Helper()
	url, prefix := testenv.RedisClusterURL(tb)
	s := openURL(tb, url, prefix)
	if _, ok := s.Client().(*goredis.ClusterClient); !ok {
		tb.Fatalf("a redis+cluster:// URL made a %T, want a cluster client", s.Client())
	}
	return s
}

func TestClusterConformance(t *testing.T) {
	s := openCluster(t)
	conformance.RunEphemeral(t, func(t *testing.T) storage.Ephemeral { return s })
}

// keysOnPrimaries returns, for each primary, one key (unprefixed) whose slot
// it serves.
func keysOnPrimaries(t *testing.T, s *Store) map[string]string {
	t.Helper()
	cc := s.Client().(*goredis.ClusterClient)
	byAddr := map[string]string{}
	for i := 0; i < 500 && len(byAddr) < 3; i++ {
		k := fmt.Sprintf("k%d", i)
		m, err := cc.MasterForKey(t.Context(), s.key(k))
		if err != nil {
			t.Fatalf("MasterForKey: %v", err)
		}
		if _, ok := byAddr[m.Options().Addr]; !ok {
			byAddr[m.Options().Addr] = k
		}
	}
	if len(byAddr) < 3 {
		t.Fatalf("keys landed on %d primaries, want 3 (is it a three-primary cluster?)", len(byAddr))
	}
	return byAddr
}

// TestClusterSpreadsKeys checks that the store's keys really spread over the
// three primaries and each is readable back through the cluster client.
func TestClusterSpreadsKeys(t *testing.T) {
	s := openCluster(t)
	ctx := t.Context()
	for addr, k := range keysOnPrimaries(t, s) {
		if err := s.Put(ctx, k, []byte(addr), time.Minute); err != nil {
			t.Fatalf("Put on %s: %v", addr, err)
		}
		// Read straight from the primary: the key lives there.
		direct := goredis.NewClient(&goredis.Options{Addr: addr})
		got, err := direct.Get(ctx, s.key(k)).Result()
		_ = direct.Close()
		if err != nil || got != addr {
			t.Fatalf("GET %s on %s = %q, %v", k, addr, got, err)
		}
	}
}

// TestClusterBreakerPerPrimary cuts the store off one primary (its dialer
// refuses that address) and checks that the circuit opens for that
// primary's keys only: the keys on the other primaries keep working. One
// breaker for the whole cluster would fail them all.
func TestClusterBreakerPerPrimary(t *testing.T) {
	url, prefix := testenv.RedisClusterURL(t)
	ep, err := parseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	o := ep.cluster
	var victim atomicString
	var d net.Dialer
	o.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == victim.get() {
			return nil, errors.New("test: primary cut off")
		}
		return d.DialContext(ctx, network, addr)
	}
	o.MaxRetries = -1
	s := New(goredis.NewClusterClient(o), prefix)
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()

	keys := keysOnPrimaries(t, s)
	for _, k := range keys {
		if err := s.Put(ctx, k, []byte("v"), time.Minute); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	var cut string
	for addr := range keys {
		cut = addr
		break
	}
	// Existing connections to the victim must go too: a fresh client pool.
	victim.set(cut)
	cc := s.Client().(*goredis.ClusterClient)
	m, err := cc.MasterForKey(ctx, s.key(keys[cut]))
	if err != nil {
		t.Fatal(err)
	}
	// Closing the node's client drops its pooled connections; go-redis
	// makes a new one for the same address, which must dial.
	_ = m.Close()

	deadline := time.Now().Add(30 * time.Second)
	for s.breakerFor(ctx, s.key(keys[cut])).State() != gobreaker.StateOpen {
		if time.Now().After(deadline) {
			t.Fatalf("the breaker of %s never opened", cut)
		}
		_, err := s.Get(ctx, keys[cut])
		if err == nil {
			continue // a connection survived; the next one must dial
		}
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("Get on the cut primary: %v, want ErrUnavailable", err)
		}
	}
	if _, err := s.Get(ctx, keys[cut]); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Get on the cut primary with its circuit open: %v, want ErrUnavailable", err)
	}
	for addr, k := range keys {
		if addr == cut {
			continue
		}
		if got, err := s.Get(ctx, k); err != nil || string(got) != "v" {
			t.Fatalf("Get on %s while %s is cut off = %q, %v; want \"v\"", addr, cut, got, err)
		}
		if err := s.Put(ctx, k, []byte("w"), time.Minute); err != nil {
			t.Fatalf("Put on %s while %s is cut off: %v", addr, cut, err)
		}
	}
	if st := s.breaker.State(); st != gobreaker.StateClosed {
		t.Fatalf("the store-wide breaker is %v, want closed", st)
	}
}

// TestClusterFailover promotes the replica of one primary (CLUSTER FAILOVER
// on the replica, as an operator or Redis itself would after a failure) and
// checks that the same Store, not restarted, reads the key from its new
// primary and writes there.
func TestClusterFailover(t *testing.T) {
	s := openCluster(t)
	ctx := t.Context()
	cc := s.Client().(*goredis.ClusterClient)
	const k = "failover"
	if err := s.Put(ctx, k, []byte("before"), time.Minute); err != nil {
		t.Fatalf("Put: %v", err)
	}
	old, err := cc.MasterForKey(ctx, s.key(k))
	if err != nil {
		t.Fatal(err)
	}
	oldAddr := old.Options().Addr
	replica := replicaOf(t, oldAddr)
	rc := goredis.NewClient(&goredis.Options{Addr: replica})
	defer rc.Close()
	// The replica must have the key before it takes over (WAIT on the
	// primary for one replica's acknowledgement).
	direct := goredis.NewClient(&goredis.Options{Addr: oldAddr})
	defer direct.Close()
	if err := direct.Do(ctx, "WAIT", 1, 5000).Err(); err != nil {
		t.Fatalf("WAIT: %v", err)
	}
	if err := rc.Do(ctx, "CLUSTER", "FAILOVER").Err(); err != nil {
		t.Fatalf("CLUSTER FAILOVER on %s: %v", replica, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		role, err := rc.Do(ctx, "ROLE").Slice()
		if err == nil && len(role) > 0 && role[0] == "master" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become a primary: %v %v", replica, role, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The store learns the new slot map by itself (MOVED); it may answer
	// "unavailable" for a moment while the handover completes.
	var got []byte
	for {
		got, err = s.Get(ctx, k)
		if err == nil {
			break
		}
		if !errors.Is(err, storage.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Get after the failover: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if string(got) != "before" {
		t.Fatalf("Get after the failover = %q, want \"before\"", got)
	}
	if err := s.Put(ctx, k, []byte("after"), time.Minute); err != nil {
		t.Fatalf("Put after the failover: %v", err)
	}
	// The client follows MOVED at once but reloads its slot map in the
	// background: its view of the key's primary catches up, eventually
	// (the read on the new primary below is what matters).
	for {
		now, err := cc.MasterForKey(ctx, s.key(k))
		if err == nil && now.Options().Addr == replica {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the client still sends the key to %v (%v) after the failover, want %s", now, err, replica)
		}
		time.Sleep(200 * time.Millisecond)
		cc.ReloadState(ctx)
	}
	if v, err := rc.Get(ctx, s.key(k)).Result(); err != nil || v != "after" {
		t.Fatalf("GET on the new primary = %q, %v; want \"after\"", v, err)
	}
}

// replicaOf finds a replica of the primary at addr from CLUSTER NODES.
func replicaOf(t *testing.T, addr string) string {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	out, err := c.ClusterNodes(t.Context()).Result()
	if err != nil {
		t.Fatalf("CLUSTER NODES: %v", err)
	}
	var id string
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) > 2 && strings.Contains(f[2], "myself") {
			id = f[0]
		}
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) > 7 && f[3] == id && strings.Contains(f[2], "slave") && f[7] == "connected" && !strings.Contains(f[2], "fail") {
			return strings.SplitN(f[1], "@", 2)[0]
		}
	}
	t.Fatalf("no connected replica of %s in\n%s", addr, out)
	return ""
}

type atomicString struct{ v atomic.Value }

func (a *atomicString) get() string {
	s, _ := a.v.Load().(string)
	return s
}
func (a *atomicString) set(s string) { a.v.Store(s) }
