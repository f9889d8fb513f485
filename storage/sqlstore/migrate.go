package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gosid/gosid/migrations"
	"github.com/gosid/gosid/storage"
)

// migrationLock is the PostgreSQL advisory lock key that serialises
// migrations of nodes starting together.
const migrationLock = 7260417

// Migrate applies the embedded migrations not yet applied, in order, each in
// its own transaction. Migrations are forward-only.
func (s *Store) Migrate(ctx context.Context) error {
	files, err := fs.Glob(migrations.FS, s.dialect+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	if s.dialect == "postgres" {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck
	}
	if _, err := s.db.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("sqlstore: create schema_migrations: %w", err)
	}
	for _, f := range files {
		name := f[strings.LastIndex(f, "/")+1:]
		version, err := strconv.ParseInt(strings.SplitN(name, "_", 2)[0], 10, 64)
		if err != nil {
			return fmt.Errorf("sqlstore: migration %s: bad name", name)
		}
		var n int
		if err := s.db.queryRow(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = $1", version).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: read schema_migrations: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := fs.ReadFile(migrations.FS, f)
		if err != nil {
			return err
		}
		err = s.db.inTx(ctx, func(q querier) error {
			for _, stmt := range splitStatements(string(body)) {
				if _, err := q.exec(ctx, stmt); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
			_, err := q.exec(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", version, time.Now().UTC())
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
	}
	return nil
}

// splitStatements splits a migration on semicolons at line ends (the files
// hold no procedural code), dropping comments.
func splitStatements(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	return out
}

// nullTime scans a nullable timestamp of either dialect into a time.Time
// (zero for NULL).
type nullTime struct{ t *time.Time }

func (n nullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.t = time.Time{}
	case time.Time:
		*n.t = v.UTC()
	case string:
		return n.parse(v)
	case []byte:
		return n.parse(string(v))
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	return nil
}

func (n nullTime) parse(s string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			*n.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("sqlstore: unparsable time %q", s)
}

var _ sql.Scanner = nullTime{}

// tArg turns a zero time into NULL.
func tArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// jsonList encodes a string list for a JSON column; nil stays [].
func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	raw, _ := json.Marshal(l)
	return string(raw)
}

// listScan scans a JSON column into a string list.
type listScan struct{ l *[]string }

func (ls listScan) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case nil:
		*ls.l = nil
		return nil
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		// pgx decodes jsonb itself when the destination is not a scanner of
		// text; re-encode to keep one path.
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		raw = b
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("sqlstore: decode list: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	*ls.l = out
	return nil
}

// wrap maps dialect errors to the storage sentinels.
func (s *Store) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case err == errNoRows:
		return fmt.Errorf("sqlstore: %s: %w", op, storage.ErrNotFound)
	case s.db.isUnique(err):
		return fmt.Errorf("sqlstore: %s: %w", op, storage.ErrConflict)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}
