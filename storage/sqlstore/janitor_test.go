package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gosid/gosid/grants"
	"github.com/gosid/gosid/keys"
)

func countRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.db.queryRow(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// seedExpiring stores one expired and one live row in each table the
// janitor sweeps.
func seedExpiring(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Put(ctx, "gone", []byte("v"), time.Millisecond))
	must(s.Put(ctx, "kept", []byte("v"), time.Hour))
	for sig, exp := range map[string]time.Time{"gone": now.Add(-time.Second), "kept": now.Add(time.Hour)} {
		must(s.CreateRefreshToken(ctx, &grants.RefreshToken{Signature: sig, RequestID: sig, ClientID: "c",
			Subject: "a", Request: []byte("{}"), CreatedAt: now, ExpiresAt: exp}))
	}
	for gen, exp := range map[int64]time.Time{1: now.Add(-time.Second), 2: now.Add(time.Hour)} {
		_, err := s.InsertKey(ctx, keys.Record{KID: string(rune('a' + gen)), Alg: "ES256", Generation: gen,
			State: keys.StateRetired, PublicJWK: []byte("{}"), Sealed: []byte{1}, CreatedAt: now, ExpiresAt: exp})
		must(err)
	}
	time.Sleep(5 * time.Millisecond) // let the 1 ms kv row expire
}

func TestDeleteExpired(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func(tb testing.TB) *Store) {
		s := open(t)
		seedExpiring(t, s)
		if err := s.DeleteExpired(t.Context()); err != nil {
			t.Fatalf("DeleteExpired: %v", err)
		}
		for _, table := range []string{"kv", "refresh_tokens", "signing_keys"} {
			if n := countRows(t, s, table); n != 1 {
				t.Fatalf("%s holds %d rows after DeleteExpired; want the 1 live row", table, n)
			}
		}
		if _, err := s.Get(t.Context(), "kept"); err != nil {
			t.Fatalf("live kv row: %v", err)
		}
	})
}

func TestRunJanitor(t *testing.T) {
	s := openSQLite(t)
	seedExpiring(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		s.RunJanitor(ctx, 10*time.Millisecond)
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for countRows(t, s, "kv") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the janitor did not sweep the expired row")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunJanitor did not return after its context ended")
	}
}

// TestSweepBatches: a backlog larger than one batch is swept completely.
func TestSweepBatches(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func(tb testing.TB) *Store) {
		s := open(t)
		const backlog = 2*sweepBatch + 17
		past := msAt(time.Now().Add(-time.Minute))
		err := s.db.inTx(t.Context(), func(q querier) error {
			for i := range backlog {
				if _, err := q.exec(t.Context(), "INSERT INTO kv (key, value, expires_at) VALUES ($1, $2, $3)",
					fmt.Sprint("old", i), []byte("v"), past); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteExpired(t.Context()); err != nil {
			t.Fatalf("DeleteExpired: %v", err)
		}
		if n := countRows(t, s, "kv"); n != 0 {
			t.Fatalf("%d of %d expired rows left", n, backlog)
		}
	})
}
