package sqlstore

import (
	"context"

	"github.com/gosid/gosid/operator"
)

// CreateCentre implements operator.Store.
func (s *Store) CreateCentre(ctx context.Context, c *operator.Centre) error {
	_, err := s.q(ctx).exec(ctx, `INSERT INTO centres (id, code, name, address, hours, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.Code, c.Name, c.Address, c.Hours, c.Created.UTC())
	return s.wrap("create centre", err)
}

const centreCols = `id, code, name, address, hours, created_at`

func scanCentre(r row) (*operator.Centre, error) {
	c := &operator.Centre{}
	return c, r.Scan(&c.ID, &c.Code, &c.Name, &c.Address, &c.Hours, nullTime{&c.Created})
}

// GetCentre implements operator.Store.
func (s *Store) GetCentre(ctx context.Context, id string) (*operator.Centre, error) {
	c, err := scanCentre(s.q(ctx).queryRow(ctx, `SELECT `+centreCols+` FROM centres WHERE id=$1`, id))
	return c, s.wrap("get centre", err)
}

// GetCentreByCode implements operator.Store.
func (s *Store) GetCentreByCode(ctx context.Context, code string) (*operator.Centre, error) {
	c, err := scanCentre(s.q(ctx).queryRow(ctx, `SELECT `+centreCols+` FROM centres WHERE code=$1`, code))
	return c, s.wrap("get centre", err)
}

// ListCentres implements operator.Store.
func (s *Store) ListCentres(ctx context.Context) ([]*operator.Centre, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT `+centreCols+` FROM centres ORDER BY code`)
	if err != nil {
		return nil, s.wrap("list centres", err)
	}
	defer rs.Close()
	var out []*operator.Centre
	for rs.Next() {
		c, err := scanCentre(rs)
		if err != nil {
			return nil, s.wrap("list centres", err)
		}
		out = append(out, c)
	}
	return out, s.wrap("list centres", rs.Err())
}

// CreateOperator implements operator.Store: the operator and its centres
// in one transaction.
func (s *Store) CreateOperator(ctx context.Context, o *operator.Operator) error {
	return s.wrap("create operator", s.tx(ctx, func(q querier) error {
		if _, err := q.exec(ctx, `INSERT INTO operators (id, login, name, role, password_hash, totp_secret, disabled, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, o.ID, o.Login, o.Name, string(o.Role), o.PasswordHash, o.TOTPSecret,
			o.Disabled, o.Created.UTC()); err != nil {
			return err
		}
		for _, c := range o.Centres {
			if _, err := q.exec(ctx, `INSERT INTO operator_centres (operator_id, centre_id) VALUES ($1, $2)`, o.ID, c); err != nil {
				return err
			}
		}
		return nil
	}))
}

const operatorCols = `id, login, name, role, password_hash, totp_secret, disabled, created_at`

func (s *Store) scanOperator(ctx context.Context, r row) (*operator.Operator, error) {
	o := &operator.Operator{}
	var role string
	if err := r.Scan(&o.ID, &o.Login, &o.Name, &role, &o.PasswordHash, &o.TOTPSecret, &o.Disabled, nullTime{&o.Created}); err != nil {
		return nil, err
	}
	o.Role = operator.Role(role)
	rs, err := s.q(ctx).query(ctx, `SELECT centre_id FROM operator_centres WHERE operator_id=$1 ORDER BY centre_id`, o.ID)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var c string
		if err := rs.Scan(&c); err != nil {
			return nil, err
		}
		o.Centres = append(o.Centres, c)
	}
	return o, rs.Err()
}

// GetOperator implements operator.Store.
func (s *Store) GetOperator(ctx context.Context, id string) (*operator.Operator, error) {
	o, err := s.scanOperator(ctx, s.q(ctx).queryRow(ctx, `SELECT `+operatorCols+` FROM operators WHERE id=$1`, id))
	return o, s.wrap("get operator", err)
}

// GetOperatorByLogin implements operator.Store.
func (s *Store) GetOperatorByLogin(ctx context.Context, login string) (*operator.Operator, error) {
	o, err := s.scanOperator(ctx, s.q(ctx).queryRow(ctx, `SELECT `+operatorCols+` FROM operators WHERE login=$1`, login))
	return o, s.wrap("get operator", err)
}

// ListOperators implements operator.Store.
func (s *Store) ListOperators(ctx context.Context) ([]*operator.Operator, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT id FROM operators ORDER BY login`)
	if err != nil {
		return nil, s.wrap("list operators", err)
	}
	var ids []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return nil, s.wrap("list operators", err)
		}
		ids = append(ids, id)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, s.wrap("list operators", err)
	}
	out := make([]*operator.Operator, 0, len(ids))
	for _, id := range ids {
		o, err := s.GetOperator(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// SetOperatorDisabled implements operator.Store.
func (s *Store) SetOperatorDisabled(ctx context.Context, id string, disabled bool) error {
	n, err := s.q(ctx).exec(ctx, `UPDATE operators SET disabled=$1 WHERE id=$2`, disabled, id)
	if err == nil && n == 0 {
		err = errNoRows
	}
	return s.wrap("disable operator", err)
}

// AppendJournal implements operator.Store.
func (s *Store) AppendJournal(ctx context.Context, e *operator.Entry) error {
	err := s.q(ctx).queryRow(ctx, `INSERT INTO operator_journal (centre_id, operator_id, role, action, account_id, reason, detail, ip, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, e.CentreID, e.OperatorID, string(e.Role), e.Action,
		e.AccountID, e.Reason, e.Detail, e.IP, e.At.UTC()).Scan(&e.ID)
	return s.wrap("append journal", err)
}

const journalCols = `id, centre_id, operator_id, role, action, account_id, reason, detail, ip, at`

func scanEntry(r row) (*operator.Entry, error) {
	e := &operator.Entry{}
	var role string
	err := r.Scan(&e.ID, &e.CentreID, &e.OperatorID, &role, &e.Action, &e.AccountID, &e.Reason, &e.Detail, &e.IP, nullTime{&e.At})
	e.Role = operator.Role(role)
	return e, err
}

// ListJournal implements operator.Store.
func (s *Store) ListJournal(ctx context.Context, centreID string, limit int) ([]*operator.Entry, error) {
	if limit <= 0 {
		limit = 100
	}
	rs, err := s.q(ctx).query(ctx, `SELECT `+journalCols+` FROM operator_journal WHERE centre_id=$1 ORDER BY id DESC LIMIT $2`,
		centreID, limit)
	if err != nil {
		return nil, s.wrap("list journal", err)
	}
	defer rs.Close()
	var out []*operator.Entry
	for rs.Next() {
		e, err := scanEntry(rs)
		if err != nil {
			return nil, s.wrap("list journal", err)
		}
		out = append(out, e)
	}
	return out, s.wrap("list journal", rs.Err())
}

// GetJournalEntry implements operator.Store.
func (s *Store) GetJournalEntry(ctx context.Context, id int64) (*operator.Entry, error) {
	e, err := scanEntry(s.q(ctx).queryRow(ctx, `SELECT `+journalCols+` FROM operator_journal WHERE id=$1`, id))
	return e, s.wrap("get journal entry", err)
}

var _ operator.Store = (*Store)(nil)
