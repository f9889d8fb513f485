package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gosid/gosid/migrations"
)

// migrationLock is the PostgreSQL advisory lock key that serialises
// migrations of nodes starting together.
const migrationLock = 7260417

// migration is one embedded file: its version is the number its name starts
// with (0001_init.sql is version 1).
type migration struct {
	version int64
	name    string
	body    string
}

// loadMigrations returns the dialect's embedded migrations in version order.
func loadMigrations(dialect string) ([]migration, error) {
	files, err := fs.Glob(migrations.FS, dialect+"/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		name := path.Base(f)
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", name)
		}
		body, err := fs.ReadFile(migrations.FS, f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: version, name: name, body: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// LatestVersion is the version of the newest embedded migration for the
// store's dialect: what SchemaVersion reports once Migrate has run.
func (s *Store) LatestVersion() int64 {
	ms, err := loadMigrations(s.dialect)
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// Migrate applies the embedded migrations not yet applied, in order, each in
// its own transaction together with its schema_migrations row. Migrations are
// forward-only. Nodes starting together are serialised: on PostgreSQL by an
// advisory lock, on SQLite by the write lock every transaction takes first.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	if s.dialect != dialectPostgres {
		return s.migrate(ctx, s.db, ms)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("sqlstore: migration lock: %w", err)
	}
	defer func() {
		// A session that cannot unlock is closed instead: its lock goes with
		// it, rather than back to the pool where it would block other nodes.
		bg := context.WithoutCancel(ctx)
		if _, err := conn.Exec(bg, "SELECT pg_advisory_unlock($1)", migrationLock); err != nil {
			_ = conn.Conn().Close(bg)
		}
	}()
	return s.migrate(ctx, pgConn{pgQuerier{conn}, conn}, ms)
}

func (s *Store) migrate(ctx context.Context, t txer, ms []migration) error {
	ts := "TIMESTAMP"
	if s.dialect == dialectPostgres {
		ts = "TIMESTAMPTZ"
	}
	if _, err := t.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, applied_at `+ts+` NOT NULL)`); err != nil {
		return fmt.Errorf("sqlstore: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := t.inTx(ctx, func(q querier) error { return applyMigration(ctx, q, m) }); err != nil {
			return fmt.Errorf("sqlstore: migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// applyMigration runs m unless its version is recorded; the check is inside
// the transaction, so a concurrent runner that got there first is seen.
func applyMigration(ctx context.Context, q querier, m migration) error {
	var n int
	if err := q.queryRow(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = $1", m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// Both drivers run a whole script when it has no arguments (pgx over the
	// simple protocol), so the file is sent as written.
	if _, err := q.exec(ctx, m.body); err != nil {
		return err
	}
	_, err := q.exec(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", m.version, time.Now().UTC())
	return err
}

// SchemaVersion is the highest applied migration version (0 for an empty
// database), for readiness checks and the migrate command.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var exists int
	err := s.q(ctx).queryRow(ctx, s.tableExistsSQL(), "schema_migrations").Scan(&exists)
	if err != nil {
		return 0, s.wrap("schema version", err)
	}
	if exists == 0 {
		return 0, nil
	}
	var v int64
	err = s.q(ctx).queryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, s.wrap("schema version", err)
}

func (s *Store) tableExistsSQL() string {
	if s.dialect == dialectPostgres {
		return "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
	}
	return "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
}
