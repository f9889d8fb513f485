package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gosid/gosid/storage"
)

// The kv table is the short-lived store when no Redis is configured: every
// row carries an expiry in Unix milliseconds, expired rows count as absent,
// and the janitor deletes them. Counters are stored as decimal text, as
// Redis keeps them.

func msAt(t time.Time) int64 { return t.UnixMilli() }

func (s *Store) expiry(ttl time.Duration) (now, exp int64, err error) {
	if ttl <= 0 {
		return 0, 0, fmt.Errorf("sqlstore: kv: ttl must be positive, got %v", ttl)
	}
	n := time.Now()
	ms := ttl.Milliseconds()
	if ms == 0 {
		ms = 1
	}
	return msAt(n), msAt(n) + ms, nil
}

// Put implements storage.Ephemeral.
func (s *Store) Put(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	_, exp, err := s.expiry(ttl)
	if err != nil {
		return err
	}
	_, err = s.q(ctx).exec(ctx, `INSERT INTO kv (key, value, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value=excluded.value, expires_at=excluded.expires_at`, key, nonNil(val), exp)
	return s.wrap("kv put", err)
}

// PutNX implements storage.Ephemeral; an expired row is replaced.
func (s *Store) PutNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	now, exp, err := s.expiry(ttl)
	if err != nil {
		return false, err
	}
	n, err := s.q(ctx).exec(ctx, `INSERT INTO kv (key, value, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value=excluded.value, expires_at=excluded.expires_at
		WHERE kv.expires_at <= $4`, key, nonNil(val), exp, now)
	if err != nil {
		return false, s.wrap("kv putnx", err)
	}
	return n == 1, nil
}

// Get implements storage.Ephemeral.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.q(ctx).queryRow(ctx, `SELECT value FROM kv WHERE key=$1 AND expires_at > $2`, key, msAt(time.Now())).Scan(&v)
	if err != nil {
		return nil, s.wrap("kv get", err)
	}
	return nonNil(v), nil
}

// Take implements storage.Ephemeral: the DELETE ... RETURNING makes it
// exactly-once.
func (s *Store) Take(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.q(ctx).queryRow(ctx, `DELETE FROM kv WHERE key=$1 AND expires_at > $2 RETURNING value`, key, msAt(time.Now())).Scan(&v)
	if err != nil {
		return nil, s.wrap("kv take", err)
	}
	return nonNil(v), nil
}

// Delete implements storage.Ephemeral.
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.q(ctx).exec(ctx, `DELETE FROM kv WHERE key=$1`, key)
	return s.wrap("kv delete", err)
}

// Incr implements storage.Ephemeral: a fixed-window counter; an expired
// counter restarts at 1 with a fresh expiry. One upsert statement, so
// concurrent increments serialise on the row.
func (s *Store) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	now, exp, err := s.expiry(ttl)
	if err != nil {
		return 0, err
	}
	next := `CAST(CAST(CAST(kv.value AS TEXT) AS INTEGER) + 1 AS TEXT)`
	if s.dialect == dialectPostgres {
		next = `convert_to((convert_from(kv.value, 'UTF8')::bigint + 1)::text, 'UTF8')`
	}
	var raw []byte
	err = s.q(ctx).queryRow(ctx, `INSERT INTO kv (key, value, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET
			value = CASE WHEN kv.expires_at <= $4 THEN excluded.value ELSE `+next+` END,
			expires_at = CASE WHEN kv.expires_at <= $4 THEN excluded.expires_at ELSE kv.expires_at END
		RETURNING value`, key, []byte("1"), exp, now).Scan(&raw)
	if err != nil {
		return 0, s.wrap("kv incr", err)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: kv incr: value of %q is not a counter", key)
	}
	return n, nil
}

// TTL implements storage.Ephemeral.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	var exp int64
	now := msAt(time.Now())
	err := s.q(ctx).queryRow(ctx, `SELECT expires_at FROM kv WHERE key=$1 AND expires_at > $2`, key, now).Scan(&exp)
	if err != nil {
		return 0, s.wrap("kv ttl", err)
	}
	return time.Duration(exp-now) * time.Millisecond, nil
}

var _ storage.Ephemeral = (*Store)(nil)
