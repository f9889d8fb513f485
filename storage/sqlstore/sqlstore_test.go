package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/storage/conformance"
	"github.com/gosid/gosid/storage/sqlstore"
)

func openSQLite(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gosid.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func openPostgres(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenPostgres(context.Background(), testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

var dialects = map[string]func(t *testing.T) *sqlstore.Store{"sqlite": openSQLite, "postgres": openPostgres}

func TestDurableConformance(t *testing.T) {
	for name, open := range dialects {
		t.Run(name, func(t *testing.T) {
			conformance.RunDurable(t, func(t *testing.T) conformance.Durable { return open(t) })
		})
	}
}

func TestEphemeralConformance(t *testing.T) {
	for name, open := range dialects {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			conformance.RunEphemeral(t, func(t *testing.T) storage.Ephemeral { return s })
		})
	}
}

// TestMigrateTwice: applying migrations to a migrated database is a no-op.
func TestMigrateTwice(t *testing.T) {
	for name, open := range dialects {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatalf("second migrate: %v", err)
			}
		})
	}
}
