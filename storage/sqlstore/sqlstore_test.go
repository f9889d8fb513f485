package sqlstore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/storage/conformance"
)

// openSQLite opens a fresh, migrated database in a temporary directory.
func openSQLite(tb testing.TB) *Store {
	tb.Helper()
	return openMigrated(tb, func(ctx context.Context) (*Store, error) {
		return OpenSQLite(ctx, filepath.Join(tb.TempDir(), "gosid.db"))
	})
}

// openPostgres opens a fresh, migrated database of its own on the test
// server (skipped outside CI when there is none).
func openPostgres(tb testing.TB) *Store {
	tb.Helper()
	url := testenv.PostgresURL(tb)
	return openMigrated(tb, func(ctx context.Context) (*Store, error) { return OpenPostgres(ctx, url) })
}

func openMigrated(tb testing.TB, open func(ctx context.Context) (*Store, error)) *Store {
	tb.Helper()
	s, err := open(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// dialects lists the openers in a fixed order, so that test output is
// stable.
var dialects = []struct {
	name string
	open func(tb testing.TB) *Store
}{
	{dialectSQLite, openSQLite},
	{dialectPostgres, openPostgres},
}

func forEachDialect(t *testing.T, fn func(t *testing.T, open func(tb testing.TB) *Store)) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) { fn(t, d.open) })
	}
}

func TestDurableConformance(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func(tb testing.TB) *Store) {
		conformance.RunDurable(t, func(t *testing.T) conformance.Durable { return open(t) })
	})
}

func TestEphemeralConformance(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func(tb testing.TB) *Store) {
		s := open(t)
		conformance.RunEphemeral(t, func(t *testing.T) storage.Ephemeral { return s })
	})
}

func TestDialect(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func(tb testing.TB) *Store) {
		s := open(t)
		if s.Dialect() != t.Name()[len("TestDialect/"):] {
			t.Fatalf("Dialect() = %q", s.Dialect())
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}
