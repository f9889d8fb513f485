package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gosid/gosid/account"
)

const accountCols = `id, phone, phone_verified, email, email_verified, family_name, given_name, middle_name,
	password_hash, password_changed_at, level, status, locale, created_at, updated_at, mfa_declined_at, notify_prefs, version`

func accountArgs(a *account.Account) []any {
	return []any{a.ID, a.Phone, a.PhoneVerified, a.Email, a.EmailVerified, a.FamilyName, a.GivenName, a.MiddleName,
		a.PasswordHash, tArg(a.PasswordChangedAt), string(a.Level), a.Status, a.Locale, a.CreatedAt.UTC(), a.UpdatedAt.UTC(),
		tArg(a.MFADeclinedAt), a.NotifyPrefs, a.Version}
}

func scanAccount(r row) (*account.Account, error) {
	a := &account.Account{}
	var level string
	err := r.Scan(&a.ID, &a.Phone, &a.PhoneVerified, &a.Email, &a.EmailVerified, &a.FamilyName, &a.GivenName,
		&a.MiddleName, &a.PasswordHash, nullTime{&a.PasswordChangedAt}, &level, &a.Status, &a.Locale,
		nullTime{&a.CreatedAt}, nullTime{&a.UpdatedAt}, nullTime{&a.MFADeclinedAt}, &a.NotifyPrefs, &a.Version)
	a.Level = account.Level(level)
	return a, err
}

// CreateAccount implements account.Store.
func (s *Store) CreateAccount(ctx context.Context, a *account.Account) error {
	_, err := s.q(ctx).exec(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`, accountArgs(a)...)
	return s.wrap("create account", err)
}

func (s *Store) findAccount(ctx context.Context, op, where string, arg any) (*account.Account, error) {
	a, err := scanAccount(s.q(ctx).queryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE `+where, arg))
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return a, nil
}

// GetAccount implements account.Store.
func (s *Store) GetAccount(ctx context.Context, id string) (*account.Account, error) {
	return s.findAccount(ctx, "get account", "id = $1", id)
}

// FindAccountByPhone implements account.Store.
func (s *Store) FindAccountByPhone(ctx context.Context, phone string) (*account.Account, error) {
	if phone == "" {
		return nil, s.wrap("find account", errNoRows)
	}
	return s.findAccount(ctx, "find account", "phone = $1", phone)
}

// FindAccountByEmail implements account.Store.
func (s *Store) FindAccountByEmail(ctx context.Context, email string) (*account.Account, error) {
	if email == "" {
		return nil, s.wrap("find account", errNoRows)
	}
	return s.findAccount(ctx, "find account", "email = $1", email)
}

// UpdateAccount implements account.Store. The row is held from the read to
// the write: by SELECT ... FOR UPDATE on PostgreSQL, by the write
// transaction on SQLite (one writer at a time). The version check guards
// the write as well, should a dialect ever read without the lock.
func (s *Store) UpdateAccount(ctx context.Context, id string, fn func(a *account.Account) error) (*account.Account, error) {
	lock := ""
	if s.dialect == dialectPostgres {
		lock = " FOR UPDATE"
	}
	var out *account.Account
	err := s.InTx(ctx, func(ctx context.Context) error {
		a, err := s.findAccount(ctx, "update account", "id = $1"+lock, id)
		if err != nil {
			return err
		}
		version := a.Version
		if err := fn(a); err != nil {
			return err
		}
		a.ID, a.Version = id, version
		n, err := s.q(ctx).exec(ctx, `UPDATE accounts SET phone=$2, phone_verified=$3, email=$4, email_verified=$5,
			family_name=$6, given_name=$7, middle_name=$8, password_hash=$9, password_changed_at=$10, level=$11,
			status=$12, locale=$13, created_at=$14, updated_at=$15, mfa_declined_at=$16, notify_prefs=$17,
			version=version+1 WHERE id=$1 AND version=$18`, accountArgs(a)...)
		if err != nil {
			return s.wrap("update account", err)
		}
		if n == 0 {
			return fmt.Errorf("sqlstore: update account: %w", errVersion)
		}
		a.Version++
		out = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errVersion means the row changed between the read and the write of an
// update, which the row lock rules out.
var errVersion = errors.New("account changed during the update")

var _ account.Store = (*Store)(nil)
