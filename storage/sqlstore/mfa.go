package sqlstore

import (
	"context"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/mfa"
)

const factorCols = `id, account_id, kind, name, secret, credential_id, created_at, last_used_at`

// AddFactor implements mfa.Store.
func (s *Store) AddFactor(ctx context.Context, f *mfa.Factor) error {
	_, err := s.q(ctx).exec(ctx, `INSERT INTO mfa_factors (`+factorCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		f.ID, f.AccountID, f.Kind, f.Name, nilIfEmpty(f.Secret), f.CredentialID, f.CreatedAt.UTC(), tArg(f.LastUsedAt))
	return s.wrap("add factor", err)
}

// ListFactors implements mfa.Store.
func (s *Store) ListFactors(ctx context.Context, accountID string) ([]*mfa.Factor, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT `+factorCols+` FROM mfa_factors WHERE account_id=$1 ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, s.wrap("list factors", err)
	}
	defer rs.Close()
	var out []*mfa.Factor
	for rs.Next() {
		f := &mfa.Factor{}
		if err := rs.Scan(&f.ID, &f.AccountID, &f.Kind, &f.Name, &f.Secret, &f.CredentialID,
			nullTime{&f.CreatedAt}, nullTime{&f.LastUsedAt}); err != nil {
			return nil, s.wrap("list factors", err)
		}
		out = append(out, f)
	}
	return out, s.wrap("list factors", rs.Err())
}

// UpdateFactorUse implements mfa.Store.
func (s *Store) UpdateFactorUse(ctx context.Context, accountID, id string, at time.Time, secret []byte) error {
	var n int64
	var err error
	if secret != nil {
		n, err = s.q(ctx).exec(ctx, `UPDATE mfa_factors SET last_used_at=$3, secret=$4 WHERE account_id=$1 AND id=$2`,
			accountID, id, at.UTC(), secret)
	} else {
		n, err = s.q(ctx).exec(ctx, `UPDATE mfa_factors SET last_used_at=$3 WHERE account_id=$1 AND id=$2`,
			accountID, id, at.UTC())
	}
	if err == nil && n == 0 {
		err = errNoRows
	}
	return s.wrap("update factor", err)
}

// DeleteFactor implements mfa.Store.
func (s *Store) DeleteFactor(ctx context.Context, accountID, id string) error {
	n, err := s.q(ctx).exec(ctx, `DELETE FROM mfa_factors WHERE account_id=$1 AND id=$2`, accountID, id)
	if err == nil && n == 0 {
		err = errNoRows
	}
	return s.wrap("delete factor", err)
}

// DeleteFactors implements mfa.Store.
func (s *Store) DeleteFactors(ctx context.Context, accountID string) error {
	return s.wrap("delete factors", s.tx(ctx, func(q querier) error {
		if _, err := q.exec(ctx, `DELETE FROM mfa_factors WHERE account_id=$1`, accountID); err != nil {
			return err
		}
		_, err := q.exec(ctx, `DELETE FROM mfa_recovery_codes WHERE account_id=$1`, accountID)
		return err
	}))
}

// ReplaceRecoveryCodes implements mfa.Store.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes []string, at time.Time) error {
	return s.wrap("replace recovery codes", s.tx(ctx, func(q querier) error {
		if _, err := q.exec(ctx, `DELETE FROM mfa_recovery_codes WHERE account_id=$1`, accountID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := q.exec(ctx, `INSERT INTO mfa_recovery_codes (account_id, hash, created_at) VALUES ($1, $2, $3)`,
				accountID, h, at.UTC()); err != nil {
				return err
			}
		}
		return nil
	}))
}

// UseRecoveryCode implements mfa.Store: the conditional UPDATE lets exactly
// one of concurrent uses of a code succeed.
func (s *Store) UseRecoveryCode(ctx context.Context, accountID, hash string, at time.Time) (bool, error) {
	n, err := s.q(ctx).exec(ctx, `UPDATE mfa_recovery_codes SET used_at=$3
		WHERE account_id=$1 AND hash=$2 AND used_at IS NULL`, accountID, hash, at.UTC())
	if err != nil {
		return false, s.wrap("use recovery code", err)
	}
	return n == 1, nil
}

// RecoveryCodesLeft implements mfa.Store.
func (s *Store) RecoveryCodesLeft(ctx context.Context, accountID string) (int, error) {
	var n int
	err := s.q(ctx).queryRow(ctx, `SELECT COUNT(*) FROM mfa_recovery_codes WHERE account_id=$1 AND used_at IS NULL`,
		accountID).Scan(&n)
	return n, s.wrap("count recovery codes", err)
}

var _ mfa.Store = (*Store)(nil)

const sessionCols = `id, account_id, key_hash, amr, ip, user_agent, location, created_at, last_seen_at, expires_at`

// SaveSession implements account.SessionIndex.
func (s *Store) SaveSession(ctx context.Context, r *account.SessionRecord) error {
	_, err := s.q(ctx).exec(ctx, `INSERT INTO login_sessions (`+sessionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.ID, r.AccountID, r.KeyHash, jsonList(r.AMR), r.IP, r.UserAgent, r.Location,
		r.CreatedAt.UTC(), r.LastSeenAt.UTC(), r.ExpiresAt.UTC())
	return s.wrap("save session", err)
}

// TouchSession implements account.SessionIndex.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time, ip string) error {
	_, err := s.q(ctx).exec(ctx, `UPDATE login_sessions SET last_seen_at=$2, ip=$3 WHERE id=$1`, id, at.UTC(), ip)
	return s.wrap("touch session", err)
}

func scanSession(r row) (*account.SessionRecord, error) {
	x := &account.SessionRecord{}
	err := r.Scan(&x.ID, &x.AccountID, &x.KeyHash, listScan{&x.AMR}, &x.IP, &x.UserAgent, &x.Location,
		nullTime{&x.CreatedAt}, nullTime{&x.LastSeenAt}, nullTime{&x.ExpiresAt})
	return x, err
}

// ListSessions implements account.SessionIndex.
func (s *Store) ListSessions(ctx context.Context, accountID string, now time.Time) ([]*account.SessionRecord, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT `+sessionCols+` FROM login_sessions WHERE account_id=$1 AND expires_at > $2
		ORDER BY last_seen_at DESC, id LIMIT 200`, accountID, now.UTC())
	if err != nil {
		return nil, s.wrap("list sessions", err)
	}
	defer rs.Close()
	var out []*account.SessionRecord
	for rs.Next() {
		x, err := scanSession(rs)
		if err != nil {
			return nil, s.wrap("list sessions", err)
		}
		out = append(out, x)
	}
	return out, s.wrap("list sessions", rs.Err())
}

// DeleteSession implements account.SessionIndex.
func (s *Store) DeleteSession(ctx context.Context, accountID, id string) (*account.SessionRecord, error) {
	var x *account.SessionRecord
	err := s.tx(ctx, func(q querier) error {
		var err error
		x, err = scanSession(q.queryRow(ctx, `SELECT `+sessionCols+` FROM login_sessions WHERE account_id=$1 AND id=$2`,
			accountID, id))
		if err != nil {
			return err
		}
		_, err = q.exec(ctx, `DELETE FROM login_sessions WHERE id=$1`, id)
		return err
	})
	if err != nil {
		return nil, s.wrap("delete session", err)
	}
	return x, nil
}

// DeleteExpiredSessions removes index entries of expired sessions.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.sweep(ctx, "login_sessions", "id", "expires_at < $1", now.UTC())
	return n, s.wrap("delete expired sessions", err)
}

var _ account.SessionIndex = (*Store)(nil)
