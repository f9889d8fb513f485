package sqlstore

import (
	"context"
	"time"

	"github.com/gosid/gosid/consent"
)

// GetConsent implements consent.Store.
func (s *Store) GetConsent(ctx context.Context, subject, clientID string) (*consent.Grant, error) {
	g := &consent.Grant{}
	err := s.q(ctx).queryRow(ctx, `SELECT subject, client_id, scopes, granted_at, updated_at FROM consents
		WHERE subject=$1 AND client_id=$2`, subject, clientID).
		Scan(&g.Subject, &g.ClientID, listScan{&g.Scopes}, nullTime{&g.GrantedAt}, nullTime{&g.UpdatedAt})
	if err != nil {
		return nil, s.wrap("get consent", err)
	}
	return g, nil
}

// SaveConsent implements consent.Store: every field of g replaces the stored
// grant.
func (s *Store) SaveConsent(ctx context.Context, g *consent.Grant) error {
	_, err := s.q(ctx).exec(ctx, `INSERT INTO consents (subject, client_id, scopes, granted_at, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subject, client_id)
		DO UPDATE SET scopes=excluded.scopes, granted_at=excluded.granted_at, updated_at=excluded.updated_at`,
		g.Subject, g.ClientID, jsonList(g.Scopes), g.GrantedAt.UTC(), g.UpdatedAt.UTC())
	return s.wrap("save consent", err)
}

// UpdateConsent implements consent.Store: the grant is created empty if
// missing, then read, changed and written under a row lock (FOR UPDATE on
// PostgreSQL; SQLite's write transaction holds the database), so that two
// changes at once both count.
func (s *Store) UpdateConsent(ctx context.Context, subject, clientID string, now time.Time, fn func(g *consent.Grant) error) error {
	lock := ""
	if s.dialect == dialectPostgres {
		lock = " FOR UPDATE"
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.q(ctx).exec(ctx, `INSERT INTO consents (subject, client_id, scopes, granted_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) ON CONFLICT (subject, client_id) DO NOTHING`,
			subject, clientID, jsonList(nil), now.UTC()); err != nil {
			return s.wrap("update consent", err)
		}
		g := &consent.Grant{}
		err := s.q(ctx).queryRow(ctx, `SELECT subject, client_id, scopes, granted_at, updated_at FROM consents
			WHERE subject=$1 AND client_id=$2`+lock, subject, clientID).
			Scan(&g.Subject, &g.ClientID, listScan{&g.Scopes}, nullTime{&g.GrantedAt}, nullTime{&g.UpdatedAt})
		if err != nil {
			return s.wrap("update consent", err)
		}
		if err := fn(g); err != nil {
			return err
		}
		_, err = s.q(ctx).exec(ctx, `UPDATE consents SET scopes=$3, updated_at=$4 WHERE subject=$1 AND client_id=$2`,
			subject, clientID, jsonList(g.Scopes), g.UpdatedAt.UTC())
		return s.wrap("update consent", err)
	})
}

// DeleteConsent implements consent.Store.
func (s *Store) DeleteConsent(ctx context.Context, subject, clientID string) error {
	_, err := s.q(ctx).exec(ctx, `DELETE FROM consents WHERE subject=$1 AND client_id=$2`, subject, clientID)
	return s.wrap("delete consent", err)
}

// ListConsents implements consent.Store.
func (s *Store) ListConsents(ctx context.Context, subject string) ([]*consent.Grant, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT subject, client_id, scopes, granted_at, updated_at FROM consents
		WHERE subject=$1 ORDER BY granted_at, client_id`, subject)
	if err != nil {
		return nil, s.wrap("list consents", err)
	}
	defer rs.Close()
	var out []*consent.Grant
	for rs.Next() {
		g := &consent.Grant{}
		if err := rs.Scan(&g.Subject, &g.ClientID, listScan{&g.Scopes}, nullTime{&g.GrantedAt}, nullTime{&g.UpdatedAt}); err != nil {
			return nil, s.wrap("list consents", err)
		}
		out = append(out, g)
	}
	return out, s.wrap("list consents", rs.Err())
}

var _ consent.Store = (*Store)(nil)
