// Package sqlstore is gosid's durable storage on SQL: SQLite (pure Go,
// modernc.org/sqlite) as the embedded default and PostgreSQL (pgx v5) in
// production, with one body of SQL. It implements the domain ports
// (clients, accounts, keys, consents, audit, grants) and, for deployments
// without Redis, the short-lived store (storage.Ephemeral) in a kv table.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gosid/gosid/storage"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// errNoRows is what both dialects' "no rows" errors become.
var errNoRows = errors.New("sqlstore: no rows")

// row and rows are the common subset of pgx's and database/sql's types.
type row interface{ Scan(dest ...any) error }

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// querier runs SQL on a pool or inside a transaction.
type querier interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	queryRow(ctx context.Context, q string, args ...any) row
	query(ctx context.Context, q string, args ...any) (rows, error)
}

// txer is a querier that can also run a function in one transaction.
type txer interface {
	querier
	inTx(ctx context.Context, fn func(q querier) error) error
}

// db is a connection pool of either dialect.
type db interface {
	txer
	ping(ctx context.Context) error
	close()
	isUnique(err error) bool
	// isUnavailable reports whether err says the database could not be
	// reached (connection refused, dropped, or the server shutting down),
	// not what it answered.
	isUnavailable(err error) bool
}

// Store implements every durable port on one database.
type Store struct {
	db      db
	dialect string
	pool    *pgxpool.Pool
	sqlDB   *sql.DB
}

// Dialect names.
const (
	dialectSQLite   = "sqlite"
	dialectPostgres = "postgres"
)

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.ping(ctx) }

// Close releases the pool.
func (s *Store) Close() { s.db.close() }

// PgxPool returns the PostgreSQL pool (nil on SQLite), for the job queue.
func (s *Store) PgxPool() *pgxpool.Pool { return s.pool }

// SQLDB returns the SQLite handle (nil on PostgreSQL), for the job queue.
func (s *Store) SQLDB() *sql.DB { return s.sqlDB }

// minPoolConns is the PostgreSQL pool size unless the URL sets
// pool_max_conns: pgxpool's default (one per CPU) is too small for a server
// whose requests mostly wait on the database.
const minPoolConns = 16

// OpenPostgres connects to PostgreSQL. The URL may carry pgxpool settings
// (pool_max_conns, pool_min_conns, ...); they win over gosid's defaults.
func OpenPostgres(ctx context.Context, databaseURL string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The URL may hold a password: do not repeat it.
		return nil, errors.New("sqlstore: parse database url: malformed")
	}
	if !strings.Contains(databaseURL, "pool_max_conns") {
		cfg.MaxConns = max(minPoolConns, int32(4*runtime.GOMAXPROCS(0)))
	}
	// A server that accepts connections but does not answer (frozen,
	// overloaded) must not hold a citizen's request for minutes: a new
	// connection gets a few seconds unless the URL says otherwise.
	if !strings.Contains(databaseURL, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: connect postgres: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqlstore: ping postgres: %w", err)
	}
	return &Store{db: &pgDB{pool: pool}, dialect: dialectPostgres, pool: pool}, nil
}

// OpenSQLite opens (creating if needed) the SQLite database at path.
// Writes go through one connection, so concurrent writers queue instead of
// failing with SQLITE_BUSY; reads use a separate pool (WAL lets them run
// alongside the writer).
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		// Two pools on an in-memory database would see two databases.
		return nil, fmt.Errorf("sqlstore: open sqlite: %q is not a file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlstore: create data dir: %w", err)
	}
	dsn := sqliteDSN(path)
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlstore: ping sqlite: %w", err)
	}
	return &Store{db: &liteDB{w: w, r: r}, dialect: dialectSQLite, sqlDB: w}, nil
}

// sqliteDSN names the file as a URI (so that '?', '#' or '%' in the path are
// taken literally) with the connection settings every connection needs:
// WAL so that readers never wait for the writer, a busy timeout for other
// processes on the same file, BEGIN IMMEDIATE so that a transaction takes the
// write lock up front, and times written in SQLite's own format, in UTC, which
// sorts as text in time order.
func sqliteDSN(path string) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// pgDB adapts a pgx pool; pgTx a transaction.
type pgDB struct{ pool *pgxpool.Pool }

type pgQ interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

type pgQuerier struct{ q pgQ }

func (p pgQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := p.q.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (p pgQuerier) queryRow(ctx context.Context, q string, args ...any) row {
	return pgRow{p.q.QueryRow(ctx, q, args...)}
}

func (p pgQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := p.q.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

type pgRow struct{ r pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoRows
	}
	return err
}

func (p *pgDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	return pgQuerier{p.pool}.exec(ctx, q, args...)
}
func (p *pgDB) queryRow(ctx context.Context, q string, args ...any) row {
	return pgQuerier{p.pool}.queryRow(ctx, q, args...)
}
func (p *pgDB) query(ctx context.Context, q string, args ...any) (rows, error) {
	return pgQuerier{p.pool}.query(ctx, q, args...)
}
func (p *pgDB) inTx(ctx context.Context, fn func(q querier) error) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error { return fn(pgQuerier{tx}) })
}
func (p *pgDB) ping(ctx context.Context) error { return p.pool.Ping(ctx) }

// pgConn runs on one connection taken from the pool: the migration runner
// uses it so that everything happens in the session holding the advisory
// lock.
type pgConn struct {
	pgQuerier
	c *pgxpool.Conn
}

func (p pgConn) inTx(ctx context.Context, fn func(q querier) error) error {
	return pgx.BeginFunc(ctx, p.c, func(tx pgx.Tx) error { return fn(pgQuerier{tx}) })
}
func (p *pgDB) close() { p.pool.Close() }
func (p *pgDB) isUnavailable(err error) bool {
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.As(err, &pe):
		// Class 08: connection exception; 57P01-57P03: the server is
		// shutting down, crashed or not yet accepting connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err)
}

func (p *pgDB) isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// liteDB adapts database/sql on SQLite: w is the single writer, r the readers.
type liteDB struct{ w, r *sql.DB }

type sqlQ interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

type liteQuerier struct{ w, r sqlQ }

func (l liteQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := l.w.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// queryRow sends statements that write (RETURNING) to the writer.
func (l liteQuerier) queryRow(ctx context.Context, q string, args ...any) row {
	target := l.r
	if writes(q) {
		target = l.w
	}
	return liteRow{target.QueryRowContext(ctx, q, args...)}
}

func (l liteQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	target := l.r
	if writes(q) {
		target = l.w
	}
	r, err := target.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return liteRows{r}, nil
}

func writes(q string) bool {
	q = strings.TrimSpace(q)
	return !strings.HasPrefix(strings.ToUpper(q[:min(6, len(q))]), "SELECT")
}

type liteRow struct{ r *sql.Row }

func (r liteRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoRows
	}
	return err
}

type liteRows struct{ *sql.Rows }

func (r liteRows) Close() { _ = r.Rows.Close() }

func (l *liteDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	return liteQuerier{l.w, l.r}.exec(ctx, q, args...)
}
func (l *liteDB) queryRow(ctx context.Context, q string, args ...any) row {
	return liteQuerier{l.w, l.r}.queryRow(ctx, q, args...)
}
func (l *liteDB) query(ctx context.Context, q string, args ...any) (rows, error) {
	return liteQuerier{l.w, l.r}.query(ctx, q, args...)
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE via _txlock); reads
// inside it go to the same connection so they see its writes.
func (l *liteDB) inTx(ctx context.Context, fn func(q querier) error) error {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(liteQuerier{tx, tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
func (l *liteDB) ping(ctx context.Context) error { return l.w.PingContext(ctx) }
func (l *liteDB) close()                         { l.w.Close(); l.r.Close() }

// isUnavailable: an embedded database is never out of reach.
func (l *liteDB) isUnavailable(error) bool { return false }

func (l *liteDB) isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// txKey is the context key of the transaction InTx runs in.
type txKey struct{}

// txState is a transaction of one database, carried in a context.
type txState struct {
	owner db
	q     querier
}

// inCtx returns the transaction of this store that ctx carries, or nil.
func (s *Store) inCtx(ctx context.Context) *txState {
	if t, ok := ctx.Value(txKey{}).(*txState); ok && t.owner == s.db {
		return t
	}
	return nil
}

// q is where a method runs its SQL: the transaction ctx carries (see
// InTx), else the pool. Every method takes its querier from here, so that
// a method called inside InTx is part of the transaction; on SQLite it
// would otherwise wait for the one writer connection the transaction holds.
func (s *Store) q(ctx context.Context) querier {
	if t := s.inCtx(ctx); t != nil {
		return t.q
	}
	return s.db
}

// tx runs fn in the transaction ctx carries, or in a new one.
func (s *Store) tx(ctx context.Context, fn func(q querier) error) error {
	if t := s.inCtx(ctx); t != nil {
		return fn(t.q)
	}
	return s.unavailable(ctx, s.db.inTx(ctx, fn))
}

// unavailable marks err as storage.ErrUnavailable when it says the
// database could not be reached (beginning or committing a transaction).
func (s *Store) unavailable(ctx context.Context, err error) error {
	if err != nil && !errors.Is(err, storage.ErrUnavailable) && s.db.isUnavailable(err) {
		return storage.Unavailable(ctx, "sqlstore: transaction", err)
	}
	return err
}

// InTx runs fn in one transaction: every method of the store called with
// the context fn gets is part of it, and everything fn wrote is committed
// together when fn returns nil, or nothing when it returns an error. An
// InTx inside another joins the outer transaction (one commit, at the end
// of the outer). fn must not start work that outlives it with its context,
// and must not wait on other connections to the same database: on SQLite
// the transaction holds the one writer.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.inCtx(ctx) != nil {
		return fn(ctx)
	}
	return s.unavailable(ctx, s.db.inTx(ctx, func(q querier) error {
		return fn(context.WithValue(ctx, txKey{}, &txState{owner: s.db, q: q}))
	}))
}

// DriverTx is the database driver's transaction that ctx carries (InTx):
// a pgx.Tx on PostgreSQL, a *sql.Tx on SQLite; nil outside a transaction.
// Other libraries on the same database (the job queue) use it to join the
// transaction, so that a job is committed with the change that made it.
func (s *Store) DriverTx(ctx context.Context) any {
	t := s.inCtx(ctx)
	if t == nil {
		return nil
	}
	switch q := t.q.(type) {
	case pgQuerier:
		if tx, ok := q.q.(pgx.Tx); ok {
			return tx
		}
	case liteQuerier:
		if tx, ok := q.w.(*sql.Tx); ok {
			return tx
		}
	}
	return nil
}

// wrap maps dialect errors to the storage sentinels.
func (s *Store) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errNoRows):
		return fmt.Errorf("sqlstore: %s: %w", op, storage.ErrNotFound)
	case s.db.isUnique(err):
		return fmt.Errorf("sqlstore: %s: %w", op, storage.ErrConflict)
	case errors.Is(err, storage.ErrUnavailable):
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	case s.db.isUnavailable(err):
		// No request context here; the HTTP layer asks the database
		// itself when a request failed, so the answer is a 503 all the
		// same.
		return storage.Unavailable(context.Background(), "sqlstore: "+op, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}
