package sqlstore

import (
	"context"
	"time"

	"github.com/gosid/gosid/federation"
	"github.com/gosid/gosid/storage"
)

// The bank_links table: one row per bank identity (bank, subject), unique,
// so that a bank identity never backs two accounts even when two
// callbacks race.

const linkCols = `bank, subject, issuer, account_id, linked_at, last_used_at`

func scanLink(sc interface{ Scan(...any) error }) (*federation.Link, error) {
	l := &federation.Link{}
	err := sc.Scan(&l.Bank, &l.Subject, &l.Issuer, &l.AccountID, nullTime{&l.LinkedAt}, nullTime{&l.LastUsedAt})
	return l, err
}

// CreateLink implements federation.LinkStore.
func (s *Store) CreateLink(ctx context.Context, l *federation.Link) error {
	_, err := s.q(ctx).exec(ctx, `INSERT INTO bank_links (`+linkCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		l.Bank, l.Subject, l.Issuer, l.AccountID, l.LinkedAt.UTC(), tArg(l.LastUsedAt))
	return s.wrap("create bank link", err)
}

// LinkBySubject implements federation.LinkStore.
func (s *Store) LinkBySubject(ctx context.Context, bank, subject string) (*federation.Link, error) {
	l, err := scanLink(s.q(ctx).queryRow(ctx, `SELECT `+linkCols+` FROM bank_links WHERE bank=$1 AND subject=$2`, bank, subject))
	if err != nil {
		return nil, s.wrap("get bank link", err)
	}
	return l, nil
}

// ListLinks implements federation.LinkStore.
func (s *Store) ListLinks(ctx context.Context, accountID string) ([]federation.Link, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT `+linkCols+` FROM bank_links WHERE account_id=$1 ORDER BY linked_at, bank`, accountID)
	if err != nil {
		return nil, s.wrap("list bank links", err)
	}
	defer rs.Close()
	var out []federation.Link
	for rs.Next() {
		l, err := scanLink(rs)
		if err != nil {
			return nil, s.wrap("list bank links", err)
		}
		out = append(out, *l)
	}
	return out, s.wrap("list bank links", rs.Err())
}

// TouchLink implements federation.LinkStore.
func (s *Store) TouchLink(ctx context.Context, bank, subject string, at time.Time) error {
	_, err := s.q(ctx).exec(ctx, `UPDATE bank_links SET last_used_at=$3 WHERE bank=$1 AND subject=$2`, bank, subject, at.UTC())
	return s.wrap("touch bank link", err)
}

// DeleteLink implements federation.LinkStore.
func (s *Store) DeleteLink(ctx context.Context, accountID, bank string) error {
	n, err := s.q(ctx).exec(ctx, `DELETE FROM bank_links WHERE account_id=$1 AND bank=$2`, accountID, bank)
	if err != nil {
		return s.wrap("delete bank link", err)
	}
	if n == 0 {
		return s.wrap("delete bank link", storage.ErrNotFound)
	}
	return nil
}

var _ federation.LinkStore = (*Store)(nil)
