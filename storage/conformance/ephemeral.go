// Package conformance holds the test suites every storage adapter must pass,
// so that SQLite, PostgreSQL, Redis and the embedded short-lived store behave
// the same way. Adapters call the suites from their own tests.
package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/storage"
)

// RunEphemeral runs the storage.Ephemeral suite. open returns a store for one
// subtest; it may return the same store every time, because every subtest
// uses keys of its own, so adapters can share a server with other tests. The
// suite waits about two seconds in all to see values expire.
func RunEphemeral(t *testing.T, open func(t *testing.T) storage.Ephemeral) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s storage.Ephemeral)
	}{
		{"PutGetOverwriteDelete", ephPutGetOverwriteDelete},
		{"Missing", ephMissing},
		{"Keys", ephKeys},
		{"PutNXOnce", ephPutNXOnce},
		{"TakeOnce", ephTakeOnce},
		{"IncrCount", ephIncrCount},
		{"IncrFixedWindow", ephIncrFixedWindow},
		{"TTL", ephTTL},
		{"Expiry", ephExpiry},
		{"BytesExact", ephBytesExact},
		{"Ping", ephPing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, open(t))
		})
	}
}

// ephContenders is how many goroutines race in the exactly-once subtests.
const ephContenders = 50

func ephKey(name string) string {
	return testenv.RandomName("conformance:" + name + ":")
}

func ephWantValue(t *testing.T, s storage.Ephemeral, key string, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %s, want %s", key, ephShow(got), ephShow(want))
	}
}

func ephWantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("%s: got error %v, want storage.ErrNotFound", what, err)
	}
}

// ephShow prints short values in full and long ones by length only.
func ephShow(b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("<%d bytes>", len(b))
	}
	return fmt.Sprintf("%q", b)
}

func ephPutGetOverwriteDelete(t *testing.T, s storage.Ephemeral) {
	ctx := t.Context()
	k := ephKey("crud")
	if err := s.Put(ctx, k, []byte("one"), time.Minute); err != nil {
		t.Fatalf("Put: %v", err)
	}
	ephWantValue(t, s, k, []byte("one"))
	if err := s.Put(ctx, k, []byte("two"), time.Minute); err != nil {
		t.Fatalf("Put (overwrite): %v", err)
	}
	ephWantValue(t, s, k, []byte("two"))
	if err := s.Delete(ctx, k); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Get(ctx, k)
	ephWantNotFound(t, "Get after Delete", err)
	if err := s.Delete(ctx, k); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	// A deleted key can be created again.
	if ok, err := s.PutNX(ctx, k, []byte("three"), time.Minute); err != nil || !ok {
		t.Fatalf("PutNX after Delete = %v, %v; want true, nil", ok, err)
	}
	ephWantValue(t, s, k, []byte("three"))
}

func ephMissing(t *testing.T, s storage.Ephemeral) {
	ctx := t.Context()
	k := ephKey("missing")
	_, err := s.Get(ctx, k)
	ephWantNotFound(t, "Get", err)
	_, err = s.Take(ctx, k)
	ephWantNotFound(t, "Take", err)
	_, err = s.TTL(ctx, k)
	ephWantNotFound(t, "TTL", err)
	if err := s.Delete(ctx, k); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	// Take removes what it returns.
	if err := s.Put(ctx, k, []byte("v"), time.Minute); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got, err := s.Take(ctx, k); err != nil || string(got) != "v" {
		t.Fatalf("Take = %q, %v; want \"v\", nil", got, err)
	}
	_, err = s.Get(ctx, k)
	ephWantNotFound(t, "Get after Take", err)
	_, err = s.Take(ctx, k)
	ephWantNotFound(t, "second Take", err)
}

// ephKeys checks that keys are opaque strings: separators, wildcards of SQL
// LIKE and of Redis patterns, non-ASCII and long keys all address exactly one
// value.
func ephKeys(t *testing.T, s storage.Ephemeral) {
	ctx := t.Context()
	base := ephKey("keys")
	suffixes := []string{
		"", ":", "a", "A", "a b", "a:b/c", "%", "_", "*", "?", "[a]", "\\",
		"'", "\"", "ключ", strings.Repeat("k", 512),
	}
	for i, sfx := range suffixes {
		if err := s.Put(ctx, base+sfx, []byte{byte(i)}, time.Minute); err != nil {
			t.Fatalf("Put(%q): %v", base+sfx, err)
		}
	}
	for i, sfx := range suffixes {
		ephWantValue(t, s, base+sfx, []byte{byte(i)})
	}
	if err := s.Delete(ctx, base+"%"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Get(ctx, base+"%")
	ephWantNotFound(t, "Get after Delete", err)
	ephWantValue(t, s, base+"a", []byte{2})
}

func ephPutNXOnce(t *testing.T, s storage.Ephemeral) {
	ctx := t.Context()
	k := ephKey("putnx")
	start := make(chan struct{})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []byte
	)
	for i := range ephContenders {
		wg.Go(func() {
			<-start
			ok, err := s.PutNX(ctx, k, []byte{byte(i)}, time.Minute)
			if err != nil {
				t.Errorf("PutNX #%d: %v", i, err)
				return
			}
			if ok {
				mu.Lock()
				winners = append(winners, byte(i))
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d of %d concurrent PutNX succeeded, want exactly 1", len(winners), ephContenders)
	}
	ephWantValue(t, s, k, winners)
	if ok, err := s.PutNX(ctx, k, []byte("late"), time.Minute); err != nil || ok {
		t.Fatalf("PutNX on an existing key = %v, %v; want false, nil", ok, err)
	}
	ephWantValue(t, s, k, winners)
}

func ephTakeOnce(t *testing.T, s storage.Ephemeral) {
	ctx := t.Context()
	k := ephKey("take")
	want := []byte("authorization code")
	if err := s.Put(ctx, k, want, time.Minute); err != nil {
		t.Fatalf("Put: %v", err)
	}
	start := make(chan struct{})
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		got  [][]byte
		miss int
	)
	for i := range ephContenders {
		wg.Go(func() {
			<-start
			v, err := s.Take(ctx, k)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				got = append(got, v)
			case errors.Is(err, storage.ErrNotFound):
				miss++
			default:
				t.Errorf("Take #%d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(got) != 1 || miss != ephContenders-1 {
		t.Fatalf("concurrent Take: %d got the value, %d got ErrNotFound; want 1 and %d",
			len(got), miss, ephContenders-1)
	}
	if !bytes.Equal(got[0], want) {
		t.Fatalf("Take = %s, want %s", ephShow(got[0]), ephShow(want))
	}
}

func ephIncrCount(t *testing.T, s storage.Ephemeral) {
	ctx := t.Context()
	k := ephKey("incr")
	const n = 100
	start := make(chan struct{})
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = make(map[int64]int)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			v, err := s.Incr(ctx, k, time.Minute)
			if err != nil {
				t.Errorf("Incr #%d: %v", i, err)
				return
			}
			mu.Lock()
			seen[v]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	// Every increment is counted once: the results are exactly 1..n.
	for v := int64(1); v <= n; v++ {
		if seen[v] != 1 {
			t.Errorf("Incr returned %d %d times, want once", v, seen[v])
		}
	}
	if len(seen) != n {
		t.Errorf("Incr returned %d distinct values, want %d", len(seen), n)
	}
	if v, err := s.Incr(ctx, k, time.Minute); err != nil || v != n+1 {
		t.Fatalf("Incr after %d increments = %d, %v; want %d", n, v, err, n+1)
	}
	// A counter is independent of other keys.
	if v, err := s.Incr(ctx, ephKey("incr-other"), time.Minute); err != nil || v != 1 {
		t.Fatalf("Incr of a new counter = %d, %v; want 1", v, err)
	}
}

// ephIncrFixedWindow checks the window without waiting: a later increment
// that asks for a longer TTL must not move the expiry set at creation.
func ephIncrFixedWindow(t *testing.T, s storage.Ephemeral) {
	ctx := t.Context()
	k := ephKey("window")
	window := 10 * time.Minute
	if v, err := s.Incr(ctx, k, window); err != nil || v != 1 {
		t.Fatalf("first Incr = %d, %v; want 1", v, err)
	}
	for want := int64(2); want <= 4; want++ {
		if v, err := s.Incr(ctx, k, 24*time.Hour); err != nil || v != want {
			t.Fatalf("Incr = %d, %v; want %d", v, err, want)
		}
	}
	d, err := s.TTL(ctx, k)
	if err != nil {
		t.Fatalf("TTL: %v", err)
	}
	if d <= 0 || d > window {
		t.Fatalf("TTL of the counter = %v, want within (0, %v]: later increments must not extend the window", d, window)
	}
}

func ephTTL(t *testing.T, s storage.Ephemeral) {
	ctx := t.Context()
	check := func(what, key string, ttl time.Duration) {
		t.Helper()
		d, err := s.TTL(ctx, key)
		if err != nil {
			t.Fatalf("TTL after %s: %v", what, err)
		}
		if d <= 0 || d > ttl {
			t.Fatalf("TTL after %s = %v, want within (0, %v]", what, d, ttl)
		}
	}

	k := ephKey("ttl-put")
	if err := s.Put(ctx, k, []byte("v"), time.Minute); err != nil {
		t.Fatalf("Put: %v", err)
	}
	check("Put", k, time.Minute)

	// Overwriting replaces the TTL too, also with a shorter one.
	if err := s.Put(ctx, k, []byte("v"), 20*time.Second); err != nil {
		t.Fatalf("Put (overwrite): %v", err)
	}
	check("overwriting Put", k, 20*time.Second)

	k = ephKey("ttl-putnx")
	if ok, err := s.PutNX(ctx, k, []byte("v"), 2*time.Minute); err != nil || !ok {
		t.Fatalf("PutNX = %v, %v; want true, nil", ok, err)
	}
	check("PutNX", k, 2*time.Minute)
	// A failed PutNX leaves the TTL alone.
	if ok, err := s.PutNX(ctx, k, []byte("v"), time.Hour); err != nil || ok {
		t.Fatalf("second PutNX = %v, %v; want false, nil", ok, err)
	}
	check("failed PutNX", k, 2*time.Minute)

	k = ephKey("ttl-incr")
	if _, err := s.Incr(ctx, k, 3*time.Minute); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	check("Incr", k, 3*time.Minute)
}

// ephExpiry checks that values disappear after their TTL. It is a check of
// behaviour, not of timing: it waits 1.5 s for a 1 s TTL, then allows a few
// more seconds for adapters that expire lazily or at a coarser resolution.
func ephExpiry(t *testing.T, s storage.Ephemeral) {
	ctx := t.Context()
	const ttl = time.Second
	// Keys are written in this order; the last one is polled, so by the time
	// it is gone the others, written earlier with the same TTL, are too.
	counter, nx, taken, plain := ephKey("exp-incr"), ephKey("exp-putnx"), ephKey("exp-take"), ephKey("exp-put")

	if v, err := s.Incr(ctx, counter, ttl); err != nil || v != 1 {
		t.Fatalf("Incr = %d, %v; want 1", v, err)
	}
	// An increment asking for a much longer window must not keep the counter
	// alive past the first window.
	if v, err := s.Incr(ctx, counter, time.Hour); err != nil || v != 2 {
		t.Fatalf("Incr = %d, %v; want 2", v, err)
	}
	if ok, err := s.PutNX(ctx, nx, []byte("first"), ttl); err != nil || !ok {
		t.Fatalf("PutNX = %v, %v; want true, nil", ok, err)
	}
	if err := s.Put(ctx, taken, []byte("v"), ttl); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.Put(ctx, plain, []byte("v"), ttl); err != nil {
		t.Fatalf("Put: %v", err)
	}

	time.Sleep(ttl + ttl/2)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := s.Get(ctx, plain)
		if errors.Is(err, storage.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("a value with a TTL of %v is still there after %v", ttl, ttl+ttl/2+5*time.Second)
		}
		time.Sleep(100 * time.Millisecond)
	}

	_, err := s.TTL(ctx, plain)
	ephWantNotFound(t, "TTL of an expired key", err)
	_, err = s.Take(ctx, taken)
	ephWantNotFound(t, "Take of an expired key", err)
	_, err = s.Get(ctx, nx)
	ephWantNotFound(t, "Get of an expired PutNX key", err)
	if ok, err := s.PutNX(ctx, nx, []byte("second"), time.Minute); err != nil || !ok {
		t.Fatalf("PutNX over an expired key = %v, %v; want true, nil", ok, err)
	}
	ephWantValue(t, s, nx, []byte("second"))
	if v, err := s.Incr(ctx, counter, time.Minute); err != nil || v != 1 {
		t.Fatalf("Incr of an expired counter = %d, %v; want 1 (a new window)", v, err)
	}
}

func ephBytesExact(t *testing.T, s storage.Ephemeral) {
	ctx := t.Context()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, 1<<20)
	_, _ = rand.Read(big)
	for _, tc := range []struct {
		name string
		val  []byte
	}{
		{"empty", []byte{}},
		{"zero", []byte{0}},
		{"zeros", make([]byte, 64)},
		{"every byte", all},
		{"invalid UTF-8", []byte("\xff\xfe\x00\xc3(")},
		{"trailing spaces", []byte("v  \n\t ")},
		{"1 MiB", big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := ephKey("bytes")
			in := bytes.Clone(tc.val)
			if err := s.Put(ctx, k, in, time.Minute); err != nil {
				t.Fatalf("Put: %v", err)
			}
			// The store keeps its own copy: the caller may reuse its buffer.
			if len(in) > 0 {
				in[0]++
			}
			got, err := s.Get(ctx, k)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(got, tc.val) {
				t.Fatalf("Get = %s, want %s", ephShow(got), ephShow(tc.val))
			}
			// ... and hands out copies.
			if len(got) > 0 {
				got[0]++
			}
			ephWantValue(t, s, k, tc.val)

			k2 := ephKey("bytes-nx")
			if ok, err := s.PutNX(ctx, k2, tc.val, time.Minute); err != nil || !ok {
				t.Fatalf("PutNX = %v, %v; want true, nil", ok, err)
			}
			got, err = s.Take(ctx, k2)
			if err != nil {
				t.Fatalf("Take: %v", err)
			}
			if !bytes.Equal(got, tc.val) {
				t.Fatalf("Take = %s, want %s", ephShow(got), ephShow(tc.val))
			}
		})
	}
}

func ephPing(t *testing.T, s storage.Ephemeral) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
