package sqlstore

import (
	"context"
	"errors"
	"testing"

	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/storage"
)

// TestPostgresAwayIsUnavailable (issue 10, defect 6): while PostgreSQL is
// down, a read says the store is unavailable — never "not found", which the
// token endpoint turned into 401 invalid_client for a client that exists —
// and the store answers again when PostgreSQL is back, on the same pool.
func TestPostgresAwayIsUnavailable(t *testing.T) {
	pg := testenv.StartPostgres(t)
	url := pg.CreateDatabase("gosid")
	s := openMigrated(t, func(ctx context.Context) (*Store, error) { return OpenPostgres(ctx, url) })
	ctx := context.Background()
	if _, err := s.GetClient(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("before: %v", err)
	}
	pg.Stop()
	for _, op := range []func() error{
		func() error { _, err := s.GetClient(ctx, "nobody"); return err },
		func() error { _, err := s.ListClients(ctx); return err },
		func() error {
			return s.InTx(ctx, func(ctx context.Context) error { _, err := s.GetClient(ctx, "nobody"); return err })
		},
	} {
		if err := op(); !errors.Is(err, storage.ErrUnavailable) || errors.Is(err, storage.ErrNotFound) {
			t.Errorf("with PostgreSQL down: %v, want storage.ErrUnavailable", err)
		}
	}
	pg.Start()
	if _, err := s.GetClient(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("after: %v", err)
	}
}
