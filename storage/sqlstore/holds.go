package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/gosid/gosid/storage"
)

// The holds table keeps the security decisions that must survive the loss
// of the short-lived store (storage.Holds): ends in Unix milliseconds, as
// kv; ended rows count as absent and the janitor deletes them.

// PutHold implements storage.Holds.
func (s *Store) PutHold(ctx context.Context, key string, until time.Time) error {
	_, err := s.q(ctx).exec(ctx, `INSERT INTO holds (key, until_ms) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET until_ms = CASE WHEN holds.until_ms > excluded.until_ms
			THEN holds.until_ms ELSE excluded.until_ms END`, key, msAt(until))
	return s.wrap("put hold", err)
}

// HoldUntil implements storage.Holds.
func (s *Store) HoldUntil(ctx context.Context, key string, now time.Time) (time.Time, error) {
	var ms int64
	err := s.q(ctx).queryRow(ctx, `SELECT until_ms FROM holds WHERE key=$1 AND until_ms > $2`, key, msAt(now)).Scan(&ms)
	if err != nil {
		return time.Time{}, s.wrap("get hold", err)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// ListHolds implements storage.Holds.
func (s *Store) ListHolds(ctx context.Context, prefix string, now time.Time) ([]storage.Hold, error) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix)
	rs, err := s.q(ctx).query(ctx, `SELECT key, until_ms FROM holds WHERE key LIKE $1 ESCAPE '\' AND until_ms > $2`,
		esc+"%", msAt(now))
	if err != nil {
		return nil, s.wrap("list holds", err)
	}
	defer rs.Close()
	var out []storage.Hold
	for rs.Next() {
		var h storage.Hold
		var ms int64
		if err := rs.Scan(&h.Key, &ms); err != nil {
			return nil, s.wrap("list holds", err)
		}
		h.Until = time.UnixMilli(ms).UTC()
		out = append(out, h)
	}
	return out, s.wrap("list holds", rs.Err())
}

// DeleteHold implements storage.Holds.
func (s *Store) DeleteHold(ctx context.Context, key string) error {
	_, err := s.q(ctx).exec(ctx, `DELETE FROM holds WHERE key=$1`, key)
	return s.wrap("delete hold", err)
}

var _ storage.Holds = (*Store)(nil)
