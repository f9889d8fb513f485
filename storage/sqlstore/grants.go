package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/gosid/gosid/grants"
	"github.com/gosid/gosid/storage"
)

// CreateRefreshToken implements grants.Store.
func (s *Store) CreateRefreshToken(ctx context.Context, t *grants.RefreshToken) error {
	// ON CONFLICT DO NOTHING rather than a unique violation: a concurrent
	// refresh of the same token stores the same (derived) successor, and on
	// PostgreSQL a violation would abort the transaction the refresh runs
	// in, where the caller still has to read the row that won.
	n, err := s.q(ctx).exec(ctx, `INSERT INTO refresh_tokens (signature, request_id, client_id, subject, request,
		created_at, expires_at, used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (signature) DO NOTHING`,
		t.Signature, t.RequestID, t.ClientID, t.Subject, t.Request, t.CreatedAt.UTC(), t.ExpiresAt.UTC(),
		tArg(t.UsedAt), tArg(t.RevokedAt))
	if err != nil {
		return s.wrap("create refresh token", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: create refresh token: %w", storage.ErrConflict)
	}
	return nil
}

// GetRefreshToken implements grants.Store.
func (s *Store) GetRefreshToken(ctx context.Context, sig string) (*grants.RefreshToken, error) {
	t := &grants.RefreshToken{}
	err := s.q(ctx).queryRow(ctx, `SELECT signature, request_id, client_id, subject, request, created_at, expires_at,
		used_at, revoked_at FROM refresh_tokens WHERE signature=$1`, sig).
		Scan(&t.Signature, &t.RequestID, &t.ClientID, &t.Subject, &t.Request, nullTime{&t.CreatedAt},
			nullTime{&t.ExpiresAt}, nullTime{&t.UsedAt}, nullTime{&t.RevokedAt})
	if err != nil {
		return nil, s.wrap("get refresh token", err)
	}
	return t, nil
}

// UseRefreshToken implements grants.Store with one conditional
// UPDATE, so that of concurrent rotations outside the grace window exactly
// one succeeds. Without a grace window (graceCutoff not before now) only an
// unused token passes: comparing used_at with this request's clock would
// let a request that read the clock first but ran second through (seen
// under load: two of eight parallel refreshes answered).
func (s *Store) UseRefreshToken(ctx context.Context, sig string, now, graceCutoff time.Time) error {
	n, err := s.q(ctx).exec(ctx, `UPDATE refresh_tokens SET used_at = COALESCE(used_at, $2)
		WHERE signature=$1 AND revoked_at IS NULL AND (used_at IS NULL OR ($4 AND used_at > $3))`,
		sig, now.UTC(), graceCutoff.UTC(), graceCutoff.Before(now))
	if err != nil {
		return s.wrap("use refresh token", err)
	}
	if n == 1 {
		return nil
	}
	if _, err := s.GetRefreshToken(ctx, sig); err != nil {
		return err
	}
	return grants.ErrTokenInactive
}

// RevokeGrant implements grants.Store.
func (s *Store) RevokeGrant(ctx context.Context, requestID string, now time.Time) error {
	_, err := s.q(ctx).exec(ctx, `UPDATE refresh_tokens SET revoked_at=$2 WHERE request_id=$1 AND revoked_at IS NULL`,
		requestID, now.UTC())
	return s.wrap("revoke grant", err)
}

// SubjectClients implements grants.Store.
func (s *Store) SubjectClients(ctx context.Context, subject string, now time.Time) ([]string, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT DISTINCT client_id FROM refresh_tokens
		WHERE subject=$1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY client_id`, subject, now.UTC())
	if err != nil {
		return nil, s.wrap("subject clients", err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, s.wrap("subject clients", err)
		}
		out = append(out, id)
	}
	return out, s.wrap("subject clients", rs.Err())
}

// RevokeSubjectGrants implements grants.Store.
func (s *Store) RevokeSubjectGrants(ctx context.Context, subject, clientID string, now time.Time) ([]string, error) {
	q := `UPDATE refresh_tokens SET revoked_at=$2 WHERE subject=$1 AND revoked_at IS NULL RETURNING request_id`
	args := []any{subject, now.UTC()}
	if clientID != "" {
		q = `UPDATE refresh_tokens SET revoked_at=$2 WHERE subject=$1 AND client_id=$3 AND revoked_at IS NULL RETURNING request_id`
		args = append(args, clientID)
	}
	rs, err := s.q(ctx).query(ctx, q, args...)
	if err != nil {
		return nil, s.wrap("revoke subject grants", err)
	}
	defer rs.Close()
	seen := map[string]bool{}
	var ids []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, s.wrap("revoke subject grants", err)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, s.wrap("revoke subject grants", rs.Err())
}

// DeleteExpiredRefreshTokens implements grants.Store, in batches.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.sweep(ctx, "refresh_tokens", "signature", "expires_at < $1", now.UTC())
	return n, s.wrap("delete expired refresh tokens", err)
}

var _ grants.Store = (*Store)(nil)
