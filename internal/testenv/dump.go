package testenv

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Database is a store DumpDatabase can read; *sqlstore.Store is one.
type Database interface {
	// PgxPool is the PostgreSQL pool, nil on SQLite.
	PgxPool() *pgxpool.Pool
	// SQLDB is the SQLite handle, nil on PostgreSQL.
	SQLDB() *sql.DB
}

// DumpDatabase returns every row of every table as text, one line per row:
// "table: column=value<TAB>column=value...", newlines in values written \n. On PostgreSQL each column is cast
// to text (every user schema, every column type: numbers, JSON, arrays and
// times as PostgreSQL prints them, bytea as \x and hex); on SQLite every table
// is read and blobs are printed the same way. Tests use it to prove that a
// plaintext is not stored; see AssertNotStored.
func DumpDatabase(tb testing.TB, db Database) string {
	tb.Helper()
	var b strings.Builder
	switch {
	case db.PgxPool() != nil:
		dumpPostgres(tb, db.PgxPool(), &b)
	case db.SQLDB() != nil:
		dumpSQLite(tb, db.SQLDB(), &b)
	default:
		tb.Fatal("testenv: DumpDatabase: the store has neither a PostgreSQL pool nor a SQLite handle")
	}
	return b.String()
}

func dumpPostgres(tb testing.TB, pool *pgxpool.Pool, b *strings.Builder) {
	tb.Helper()
	ctx := tb.Context()
	rs, err := pool.Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
		ORDER BY 1, 2`)
	if err != nil {
		tb.Fatalf("testenv: list tables: %v", err)
	}
	type table struct{ schema, name string }
	tables, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (table, error) {
		var t table
		return t, r.Scan(&t.schema, &t.name)
	})
	if err != nil {
		tb.Fatalf("testenv: list tables: %v", err)
	}
	for _, t := range tables {
		rs, err := pool.Query(ctx, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, t.schema, t.name)
		if err != nil {
			tb.Fatalf("testenv: columns of %s: %v", t.name, err)
		}
		cols, err := pgx.CollectRows(rs, pgx.RowTo[string])
		if err != nil {
			tb.Fatalf("testenv: columns of %s: %v", t.name, err)
		}
		exprs := make([]string, len(cols))
		for i, c := range cols {
			exprs[i] = "COALESCE(" + pgx.Identifier{c}.Sanitize() + "::text, 'NULL')"
		}
		q := "SELECT " + strings.Join(exprs, ", ") + " FROM " + pgx.Identifier{t.schema, t.name}.Sanitize()
		rs, err = pool.Query(ctx, q)
		if err != nil {
			tb.Fatalf("testenv: dump %s: %v", t.name, err)
		}
		rows, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) ([]string, error) {
			vals := make([]string, len(cols))
			dest := make([]any, len(cols))
			for i := range vals {
				dest[i] = &vals[i]
			}
			return vals, r.Scan(dest...)
		})
		if err != nil {
			tb.Fatalf("testenv: dump %s: %v", t.name, err)
		}
		for _, vals := range rows {
			writeRow(b, t.name, cols, vals)
		}
	}
}

func dumpSQLite(tb testing.TB, db *sql.DB, b *strings.Builder) {
	tb.Helper()
	ctx := tb.Context()
	var tables []string
	rs, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		tb.Fatalf("testenv: list tables: %v", err)
	}
	for rs.Next() {
		var name string
		if err := rs.Scan(&name); err != nil {
			tb.Fatalf("testenv: list tables: %v", err)
		}
		tables = append(tables, name)
	}
	if err := rs.Close(); err != nil {
		tb.Fatalf("testenv: list tables: %v", err)
	}
	for _, t := range tables {
		rs, err := db.QueryContext(ctx, `SELECT * FROM "`+strings.ReplaceAll(t, `"`, `""`)+`"`)
		if err != nil {
			tb.Fatalf("testenv: dump %s: %v", t, err)
		}
		cols, err := rs.Columns()
		if err != nil {
			tb.Fatalf("testenv: dump %s: %v", t, err)
		}
		raw := make([]any, len(cols))
		dest := make([]any, len(cols))
		for i := range raw {
			dest[i] = &raw[i]
		}
		for rs.Next() {
			if err := rs.Scan(dest...); err != nil {
				tb.Fatalf("testenv: dump %s: %v", t, err)
			}
			vals := make([]string, len(cols))
			for i, v := range raw {
				vals[i] = sqliteText(v)
			}
			writeRow(b, t, cols, vals)
		}
		if err := rs.Err(); err != nil {
			tb.Fatalf("testenv: dump %s: %v", t, err)
		}
		_ = rs.Close()
	}
}

// sqliteText prints a SQLite value as PostgreSQL's text cast would.
func sqliteText(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return `\x` + hex.EncodeToString(v)
	case string:
		return v
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

func writeRow(b *strings.Builder, table string, cols, vals []string) {
	b.WriteString(table)
	b.WriteString(":")
	for i, c := range cols {
		b.WriteString(" ")
		b.WriteString(c)
		b.WriteString("=")
		b.WriteString(strings.ReplaceAll(vals[i], "\n", `\n`))
		b.WriteString("\t")
	}
	b.WriteString("\n")
}

// storedForms are the ways a value shows up when stored: as itself, and as
// the hex of its bytes, which is how a bytea or blob column holding it dumps.
func storedForms(tb testing.TB, v string) []string {
	tb.Helper()
	if v == "" {
		tb.Fatal("testenv: looking for the empty string, which is found everywhere")
	}
	return []string{v, hex.EncodeToString([]byte(v))}
}

// AssertNotStored fails tb for each of values that occurs in any table, as
// text or as the bytes of a bytea or blob column. Pass every spelling a value
// could be stored in (a SNILS with and without separators); the message
// names the table it was found in.
func AssertNotStored(tb testing.TB, db Database, values ...string) {
	tb.Helper()
	dump := DumpDatabase(tb, db)
	for _, v := range values {
		forms := storedForms(tb, v)
		reported := map[string]bool{}
		// Not strings.Lines: the body of a range over a function is a
		// closure, and failures would point here instead of at the caller.
		for _, line := range strings.Split(dump, "\n") {
			table, _, _ := strings.Cut(line, ":")
			if !reported[table] && containsAny([]byte(line), forms) {
				reported[table] = true
				tb.Errorf("%q is stored in plain in table %s", v, table)
			}
		}
	}
}

func containsAny(data []byte, forms []string) bool {
	for _, f := range forms {
		if bytes.Contains(data, []byte(f)) {
			return true
		}
	}
	return false
}

// AssertNotInFiles fails tb for each of values whose bytes, or their hex,
// occur in a file under dir: with SQLite that is the database, its
// write-ahead log and anything else written there, including rows deleted
// but not yet overwritten, which no query shows.
func AssertNotInFiles(tb testing.TB, dir string, values ...string) {
	tb.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		tb.Fatalf("testenv: list %s: %v", dir, err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatalf("testenv: %v", err)
		}
		for _, v := range values {
			if containsAny(data, storedForms(tb, v)) {
				tb.Errorf("%q is stored in plain in file %s", v, path)
			}
		}
	}
}
