package sqlstore

import (
	"context"

	"github.com/gosid/gosid/verify"
)

// AddScan implements verify.ScanStore.
func (s *Store) AddScan(ctx context.Context, sc *verify.Scan) error {
	_, err := s.q(ctx).exec(ctx, `INSERT INTO scans (id, account_id, kind, content_type, size, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, sc.ID, sc.AccountID, sc.Kind, sc.ContentType, sc.Size, sc.Data, sc.CreatedAt.UTC())
	return s.wrap("add scan", err)
}

// ListScans implements verify.ScanStore.
func (s *Store) ListScans(ctx context.Context, accountID string) ([]*verify.Scan, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT id, account_id, kind, content_type, size, created_at FROM scans
		WHERE account_id=$1 ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, s.wrap("list scans", err)
	}
	defer rs.Close()
	var out []*verify.Scan
	for rs.Next() {
		sc := &verify.Scan{}
		if err := rs.Scan(&sc.ID, &sc.AccountID, &sc.Kind, &sc.ContentType, &sc.Size, nullTime{&sc.CreatedAt}); err != nil {
			return nil, s.wrap("list scans", err)
		}
		out = append(out, sc)
	}
	return out, s.wrap("list scans", rs.Err())
}

// GetScan implements verify.ScanStore.
func (s *Store) GetScan(ctx context.Context, accountID, id string) (*verify.Scan, error) {
	sc := &verify.Scan{}
	err := s.q(ctx).queryRow(ctx, `SELECT id, account_id, kind, content_type, size, data, created_at FROM scans
		WHERE account_id=$1 AND id=$2`, accountID, id).Scan(&sc.ID, &sc.AccountID, &sc.Kind, &sc.ContentType,
		&sc.Size, &sc.Data, nullTime{&sc.CreatedAt})
	if err != nil {
		return nil, s.wrap("get scan", err)
	}
	return sc, nil
}

// DeleteScan implements verify.ScanStore.
func (s *Store) DeleteScan(ctx context.Context, accountID, id string) error {
	n, err := s.q(ctx).exec(ctx, `DELETE FROM scans WHERE account_id=$1 AND id=$2`, accountID, id)
	if err == nil && n == 0 {
		err = errNoRows
	}
	return s.wrap("delete scan", err)
}

// DeleteScans implements verify.ScanStore.
func (s *Store) DeleteScans(ctx context.Context, accountID string) error {
	_, err := s.q(ctx).exec(ctx, `DELETE FROM scans WHERE account_id=$1`, accountID)
	return s.wrap("delete scans", err)
}

var _ verify.ScanStore = (*Store)(nil)
