package sqlstore

import (
	"context"
	"time"

	"github.com/gosid/gosid/keys"
	"github.com/gosid/gosid/storage"
)

const keyCols = `kid, alg, generation, state, public_jwk, sealed, created_at, activated_at, retired_at, expires_at`

// ListKeys implements keys.Store.
func (s *Store) ListKeys(ctx context.Context) ([]keys.Record, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT `+keyCols+` FROM signing_keys ORDER BY alg, generation`)
	if err != nil {
		return nil, s.wrap("list keys", err)
	}
	defer rs.Close()
	var out []keys.Record
	for rs.Next() {
		var k keys.Record
		var state string
		if err := rs.Scan(&k.KID, &k.Alg, &k.Generation, &state, &k.PublicJWK, &k.Sealed, nullTime{&k.CreatedAt},
			nullTime{&k.ActivatedAt}, nullTime{&k.RetiredAt}, nullTime{&k.ExpiresAt}); err != nil {
			return nil, s.wrap("list keys", err)
		}
		k.State = keys.State(state)
		out = append(out, k)
	}
	return out, s.wrap("list keys", rs.Err())
}

func insertKey(ctx context.Context, q querier, r keys.Record) (int64, error) {
	return q.exec(ctx, `INSERT INTO signing_keys (`+keyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT DO NOTHING`, r.KID, r.Alg, r.Generation, string(r.State), r.PublicJWK, r.Sealed,
		r.CreatedAt.UTC(), tArg(r.ActivatedAt), tArg(r.RetiredAt), tArg(r.ExpiresAt))
}

// InsertKey implements keys.Store: of concurrent inserts of one (alg,
// generation) exactly one wins.
func (s *Store) InsertKey(ctx context.Context, r keys.Record) (bool, error) {
	n, err := insertKey(ctx, s.q(ctx), r)
	if err != nil {
		return false, s.wrap("insert key", err)
	}
	return n == 1, nil
}

// RotateKeys implements keys.Store. Each step is conditional on the state it
// expects; a step that matches no row means another node rotated first, and
// returning the error rolls the whole transaction back.
func (s *Store) RotateKeys(ctx context.Context, alg string, activeGen int64, next keys.Record, now, retiredUntil time.Time) error {
	err := s.tx(ctx, func(q querier) error {
		n, err := q.exec(ctx, `UPDATE signing_keys SET state='retired', retired_at=$3, expires_at=$4
			WHERE alg=$1 AND generation=$2 AND state='active'`, alg, activeGen, now.UTC(), retiredUntil.UTC())
		if err != nil {
			return err
		}
		if n != 1 {
			return storage.ErrConflict
		}
		if n, err = q.exec(ctx, `UPDATE signing_keys SET state='active', activated_at=$3
			WHERE alg=$1 AND generation=$2 AND state='next'`, alg, activeGen+1, now.UTC()); err != nil {
			return err
		}
		if n != 1 {
			return storage.ErrConflict
		}
		next.Alg, next.Generation, next.State = alg, activeGen+2, keys.StateNext
		if n, err = insertKey(ctx, q, next); err != nil {
			return err
		}
		if n != 1 {
			return storage.ErrConflict
		}
		return nil
	})
	return s.wrap("rotate keys", err)
}

// DeleteExpiredKeys implements keys.Store.
func (s *Store) DeleteExpiredKeys(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.q(ctx).exec(ctx, `DELETE FROM signing_keys WHERE state='retired' AND expires_at < $1`, now.UTC())
	return n, s.wrap("delete expired keys", err)
}

var _ keys.Store = (*Store)(nil)
