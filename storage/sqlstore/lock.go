package sqlstore

import (
	"context"
	"fmt"
)

// setupLock is the PostgreSQL advisory lock key that serialises one-time
// setup of nodes starting together, other than gosid's own migrations
// (e.g. the job queue's migrations).
const setupLock = 7260418

// Serialize runs fn while holding a database-wide lock on PostgreSQL, so
// that nodes starting together do it one at a time; on SQLite (one process
// owns the file) it just runs fn.
func (s *Store) Serialize(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.pool == nil {
		return fn(ctx)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: serialize: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", setupLock); err != nil {
		return fmt.Errorf("sqlstore: serialize: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", setupLock); err != nil {
			// A session still holding the lock must not go back to the pool.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return fn(ctx)
}
