package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/gosid/gosid/verify"
)

const profileCols = `account_id, pending, verified, status, rejections, submission, snils_index, passport_index, updated_at, verified_at`

// GetProfile implements verify.Store.
func (s *Store) GetProfile(ctx context.Context, accountID string) (*verify.Record, error) {
	r := &verify.Record{}
	var status, rej string
	var snils, passport *string
	err := s.q(ctx).queryRow(ctx, `SELECT `+profileCols+` FROM profiles WHERE account_id=$1`, accountID).Scan(
		&r.AccountID, &r.Pending, &r.Verified, &status, &rej, &r.Submission, &snils, &passport,
		nullTime{&r.UpdatedAt}, nullTime{&r.VerifiedAt})
	if err != nil {
		return nil, s.wrap("get profile", err)
	}
	r.Status = verify.Status(status)
	if snils != nil {
		r.SNILSIndex = *snils
	}
	if passport != nil {
		r.PassportIndex = *passport
	}
	if err := json.Unmarshal([]byte(rej), &r.Rejections); err != nil {
		return nil, s.wrap("get profile", err)
	}
	return r, nil
}

func strOrNil(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// PutProfile implements verify.Store.
func (s *Store) PutProfile(ctx context.Context, r *verify.Record, expect *string) (bool, error) {
	rej, err := json.Marshal(r.Rejections)
	if err != nil {
		return false, err
	}
	if r.Rejections == nil {
		rej = []byte("[]")
	}
	args := []any{r.AccountID, nilIfEmpty(r.Pending), nilIfEmpty(r.Verified), string(r.Status), string(rej), r.Submission,
		strOrNil(r.SNILSIndex), strOrNil(r.PassportIndex), r.UpdatedAt.UTC(), tArg(r.VerifiedAt)}
	q := `INSERT INTO profiles (` + profileCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (account_id) DO UPDATE SET pending=excluded.pending, verified=excluded.verified,
		status=excluded.status, rejections=excluded.rejections, submission=excluded.submission,
		snils_index=excluded.snils_index, passport_index=excluded.passport_index, updated_at=excluded.updated_at,
		verified_at=excluded.verified_at`
	if expect != nil {
		q += ` WHERE profiles.submission = $11`
		args = append(args, *expect)
	}
	n, err := s.q(ctx).exec(ctx, q, args...)
	if err != nil {
		return false, s.wrap("put profile", err)
	}
	return n == 1, nil
}

// FindBySNILSIndex implements verify.Store.
func (s *Store) FindBySNILSIndex(ctx context.Context, index string) (string, error) {
	var id string
	err := s.q(ctx).queryRow(ctx, `SELECT account_id FROM profiles WHERE snils_index=$1`, index).Scan(&id)
	return id, s.wrap("find by snils", err)
}

// FindByPassportIndex implements verify.Store.
func (s *Store) FindByPassportIndex(ctx context.Context, index string) (string, error) {
	var id string
	err := s.q(ctx).queryRow(ctx, `SELECT account_id FROM profiles WHERE passport_index=$1`, index).Scan(&id)
	return id, s.wrap("find by passport", err)
}

// DeleteProfile implements verify.Store.
func (s *Store) DeleteProfile(ctx context.Context, accountID string) error {
	_, err := s.q(ctx).exec(ctx, `DELETE FROM profiles WHERE account_id=$1`, accountID)
	return s.wrap("delete profile", err)
}

var _ verify.Store = (*Store)(nil)
