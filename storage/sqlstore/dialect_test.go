package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/storage"
)

// TestOpenSQLitePath: the file lands exactly at the path given, whatever
// characters it holds, with its directories created.
func TestOpenSQLitePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data #1?x=y%20", "gosid.db")
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at %q: %v", path, err)
	}
	for _, bad := range []string{"", ":memory:", "file::memory:?cache=shared"} {
		if s, err := OpenSQLite(t.Context(), bad); err == nil {
			s.Close()
			t.Fatalf("OpenSQLite(%q) succeeded; want an error", bad)
		}
	}
}

// TestSQLiteTimeFormat: times are written in UTC in SQLite's own format, so
// that they sort as text and SQLite's date functions read them.
func TestSQLiteTimeFormat(t *testing.T) {
	s := openSQLite(t)
	ctx := t.Context()
	at := time.Date(2026, 5, 1, 12, 0, 0, 500_000_000, time.FixedZone("MSK", 3*3600))
	if err := s.CreateClient(ctx, &clients.Client{ID: "c", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	var text, viaSQLite string
	err := s.q(ctx).queryRow(ctx, "SELECT CAST(created_at AS TEXT), datetime(created_at) FROM clients").Scan(&text, &viaSQLite)
	if err != nil {
		t.Fatal(err)
	}
	if text != "2026-05-01 09:00:00.5+00:00" || viaSQLite != "2026-05-01 09:00:00" {
		t.Fatalf("stored %q (SQLite reads %q); want 2026-05-01 09:00:00.5+00:00 in UTC", text, viaSQLite)
	}
}

// TestSQLiteTwoStores: two stores on one file (two processes sharing a data
// directory) writing at once queue on the file lock; nobody sees SQLITE_BUSY.
func TestSQLiteTwoStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gosid.db")
	var stores []*Store
	for range 2 {
		s := mustOpen(t, func(ctx context.Context) (*Store, error) { return OpenSQLite(ctx, path) })
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	const each = 50
	seen := make(map[int64]bool)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 2 * each {
		wg.Go(func() {
			s := stores[i%2]
			v, err := s.Incr(t.Context(), "shared", time.Minute)
			if err == nil {
				err = s.AppendEvent(t.Context(), &audit.Event{AccountID: "a", Type: "x", At: time.Now()})
			}
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
				return
			}
			mu.Lock()
			seen[v] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 2*each {
		t.Fatalf("%d distinct counter values from %d increments", len(seen), 2*each)
	}
}

// TestSQLiteMixedLoad: transactions, single writes and reads from many
// goroutines on one store all succeed.
func TestSQLiteMixedLoad(t *testing.T) {
	s := openSQLite(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			var err error
			switch i % 4 {
			case 0:
				a := &account.Account{ID: fmt.Sprint("a", i), Email: fmt.Sprintf("u%d@example.ru", i),
					Level: account.LevelSimplified, Status: account.StatusActive, CreatedAt: time.Now(), UpdatedAt: time.Now()}
				err = s.CreateAccount(ctx, a)
			case 1:
				err = s.Put(ctx, fmt.Sprint("k", i), []byte("v"), time.Minute)
			case 2:
				_, err = s.Take(ctx, fmt.Sprint("k", i-1))
				if errors.Is(err, storage.ErrNotFound) {
					err = nil
				}
			case 3:
				_, err = s.ListKeys(ctx)
			}
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
		})
	}
	wg.Wait()
}

// TestPostgresPoolSize: gosid's pool default, unless the URL sets one.
func TestPostgresPoolSize(t *testing.T) {
	url := testenv.PostgresURL(t)
	s := mustOpen(t, func(ctx context.Context) (*Store, error) { return OpenPostgres(ctx, url) })
	if n := s.PgxPool().Config().MaxConns; n < minPoolConns {
		t.Fatalf("default pool size %d, want at least %d", n, minPoolConns)
	}
	s = mustOpen(t, func(ctx context.Context) (*Store, error) { return OpenPostgres(ctx, url+"&pool_max_conns=3") })
	if n := s.PgxPool().Config().MaxConns; n != 3 {
		t.Fatalf("pool size %d, want the 3 the URL asks for", n)
	}
	// Migrations run on one connection, so even a pool of one can migrate.
	s = mustOpen(t, func(ctx context.Context) (*Store, error) { return OpenPostgres(ctx, url+"&pool_max_conns=1") })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate with a pool of one: %v", err)
	}
}

// TestErrorsWrapped: errors name the operation and keep the sentinel.
func TestErrorsWrapped(t *testing.T) {
	s := openSQLite(t)
	_, err := s.GetClient(t.Context(), "nope")
	if !errors.Is(err, storage.ErrNotFound) || !regexp.MustCompile(`^sqlstore: get client: `).MatchString(err.Error()) {
		t.Fatalf("GetClient error = %q", err)
	}
}
