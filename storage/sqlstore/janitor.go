package sqlstore

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// sweepBatch bounds one DELETE of the sweep, so that on SQLite the single
// writer is never held for long and requests keep flowing during a sweep.
const sweepBatch = 1000

// DeleteExpired removes expired short-lived rows, refresh tokens and
// retired keys. Expired rows are already invisible to every read; this only
// reclaims their space.
func (s *Store) DeleteExpired(ctx context.Context) error {
	now := time.Now()
	if _, err := s.sweep(ctx, "kv", "key", "expires_at <= $1", msAt(now)); err != nil {
		return s.wrap("kv sweep", err)
	}
	if _, err := s.sweep(ctx, "holds", "key", "until_ms <= $1", msAt(now)); err != nil {
		return s.wrap("holds sweep", err)
	}
	if _, err := s.DeleteExpiredRefreshTokens(ctx, now); err != nil {
		return err
	}
	if _, err := s.DeleteExpiredSessions(ctx, now); err != nil {
		return err
	}
	if err := s.deleteExpiredSessionClients(ctx, now); err != nil {
		return err
	}
	_, err := s.DeleteExpiredKeys(ctx, now)
	return err
}

// sweep deletes the rows of table matching cond in batches of sweepBatch,
// each its own statement, and returns how many it deleted.
func (s *Store) sweep(ctx context.Context, table, key, cond string, arg any) (int64, error) {
	q := `DELETE FROM ` + table + ` WHERE ` + key + ` IN (SELECT ` + key + ` FROM ` + table + ` WHERE ` + cond +
		` LIMIT ` + strconv.Itoa(sweepBatch) + `)`
	var total int64
	for {
		n, err := s.q(ctx).exec(ctx, q, arg)
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}

// janitorDefault is the sweep interval when RunJanitor is given none.
const janitorDefault = time.Minute

// RunJanitor calls DeleteExpired at once and then every interval until ctx
// ends. Every node may run it: the sweeps are idempotent.
func (s *Store) RunJanitor(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = janitorDefault
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
			slog.Error("sqlstore: janitor", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
