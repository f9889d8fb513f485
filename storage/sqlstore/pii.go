package sqlstore

import (
	"context"
	"time"

	"github.com/gosid/gosid/pii"
	"github.com/gosid/gosid/storage"
)

const piiKeyCols = `id, purpose, state, wrapped, kek_id, created_at, retired_at`

// ListDataKeys implements pii.KeyStore.
func (s *Store) ListDataKeys(ctx context.Context) ([]pii.DataKey, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT `+piiKeyCols+` FROM pii_data_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, s.wrap("list pii keys", err)
	}
	defer rs.Close()
	var out []pii.DataKey
	for rs.Next() {
		var k pii.DataKey
		var purpose, state string
		if err := rs.Scan(&k.ID, &purpose, &state, &k.Wrapped, &k.KEKID, nullTime{&k.CreatedAt}, nullTime{&k.RetiredAt}); err != nil {
			return nil, s.wrap("list pii keys", err)
		}
		k.Purpose, k.State = pii.Purpose(purpose), pii.State(state)
		out = append(out, k)
	}
	return out, s.wrap("list pii keys", rs.Err())
}

// insertDataKey stores k unless its id, or an active key of its purpose,
// exists (pii_data_keys_one_active); it returns the rows inserted.
func insertDataKey(ctx context.Context, q querier, k pii.DataKey) (int64, error) {
	return q.exec(ctx, `INSERT INTO pii_data_keys (`+piiKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT DO NOTHING`, k.ID, string(k.Purpose), string(k.State), nonNil(k.Wrapped), k.KEKID,
		k.CreatedAt.UTC(), tArg(k.RetiredAt))
}

// CreateDataKey implements pii.KeyStore: of concurrent creations of an
// active key of one purpose exactly one wins.
func (s *Store) CreateDataKey(ctx context.Context, k pii.DataKey) (bool, error) {
	n, err := insertDataKey(ctx, s.q(ctx), k)
	if err != nil {
		return false, s.wrap("create pii key", err)
	}
	return n == 1, nil
}

// UpdateWrapped implements pii.KeyStore.
func (s *Store) UpdateWrapped(ctx context.Context, id string, wrapped []byte, kekID string) error {
	n, err := s.q(ctx).exec(ctx, `UPDATE pii_data_keys SET wrapped = $2, kek_id = $3 WHERE id = $1`, id, nonNil(wrapped), kekID)
	if err == nil && n == 0 {
		err = errNoRows
	}
	return s.wrap("update wrapped pii key", err)
}

// RotateDataKey implements pii.KeyStore. Each step is conditional on the
// state it expects; a step that matches no row means another node rotated
// first, and returning the error rolls the whole transaction back.
func (s *Store) RotateDataKey(ctx context.Context, retireID string, next pii.DataKey) error {
	next.State, next.RetiredAt = pii.StateActive, time.Time{}
	err := s.tx(ctx, func(q querier) error {
		n, err := q.exec(ctx, `UPDATE pii_data_keys SET state = 'retired', retired_at = $3
			WHERE id = $1 AND purpose = $2 AND state = 'active'`, retireID, string(next.Purpose), next.CreatedAt.UTC())
		if err != nil {
			return err
		}
		if n != 1 {
			return storage.ErrConflict
		}
		if n, err = insertDataKey(ctx, q, next); err != nil {
			return err
		}
		if n != 1 {
			return storage.ErrConflict
		}
		return nil
	})
	return s.wrap("rotate pii key", err)
}

var _ pii.KeyStore = (*Store)(nil)
