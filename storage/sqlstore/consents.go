package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/consent"
)

// GetConsent implements consent.Store.
func (s *Store) GetConsent(ctx context.Context, subject, clientID string) (*consent.Grant, error) {
	g := &consent.Grant{}
	err := s.db.queryRow(ctx, `SELECT subject, client_id, scopes, granted_at, updated_at FROM consents
		WHERE subject=$1 AND client_id=$2`, subject, clientID).
		Scan(&g.Subject, &g.ClientID, listScan{&g.Scopes}, nullTime{&g.GrantedAt}, nullTime{&g.UpdatedAt})
	if err != nil {
		return nil, s.wrap("get consent", err)
	}
	return g, nil
}

// SaveConsent implements consent.Store.
func (s *Store) SaveConsent(ctx context.Context, g *consent.Grant) error {
	_, err := s.db.exec(ctx, `INSERT INTO consents (subject, client_id, scopes, granted_at, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subject, client_id)
		DO UPDATE SET scopes=excluded.scopes, updated_at=excluded.updated_at`,
		g.Subject, g.ClientID, jsonList(g.Scopes), g.GrantedAt.UTC(), g.UpdatedAt.UTC())
	return s.wrap("save consent", err)
}

// DeleteConsent implements consent.Store.
func (s *Store) DeleteConsent(ctx context.Context, subject, clientID string) error {
	_, err := s.db.exec(ctx, `DELETE FROM consents WHERE subject=$1 AND client_id=$2`, subject, clientID)
	return s.wrap("delete consent", err)
}

// ListConsents implements consent.Store.
func (s *Store) ListConsents(ctx context.Context, subject string) ([]*consent.Grant, error) {
	rs, err := s.db.query(ctx, `SELECT subject, client_id, scopes, granted_at, updated_at FROM consents
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

// AppendEvent implements audit.Store.
func (s *Store) AppendEvent(ctx context.Context, e *audit.Event) error {
	var data any
	if len(e.Data) > 0 {
		raw, err := json.Marshal(e.Data)
		if err != nil {
			return err
		}
		data = string(raw)
	}
	err := s.db.queryRow(ctx, `INSERT INTO audit_events (account_id, type, client_id, ip, user_agent, data, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		e.AccountID, e.Type, e.ClientID, e.IP, e.UserAgent, data, e.At.UTC()).Scan(&e.ID)
	return s.wrap("append event", err)
}

// ListEvents implements audit.Store.
func (s *Store) ListEvents(ctx context.Context, accountID string, beforeID int64, limit int) ([]*audit.Event, error) {
	if beforeID <= 0 {
		beforeID = 1<<62 - 1
	}
	rs, err := s.db.query(ctx, `SELECT id, account_id, type, client_id, ip, user_agent, data, at FROM audit_events
		WHERE account_id=$1 AND id < $2 ORDER BY id DESC LIMIT $3`, accountID, beforeID, limit)
	if err != nil {
		return nil, s.wrap("list events", err)
	}
	defer rs.Close()
	var out []*audit.Event
	for rs.Next() {
		e := &audit.Event{}
		var data dataScan
		if err := rs.Scan(&e.ID, &e.AccountID, &e.Type, &e.ClientID, &e.IP, &e.UserAgent, &data, nullTime{&e.At}); err != nil {
			return nil, s.wrap("list events", err)
		}
		e.Data = data.m
		out = append(out, e)
	}
	return out, s.wrap("list events", rs.Err())
}

// dataScan scans a JSON object column of either dialect.
type dataScan struct{ m map[string]string }

func (d *dataScan) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		raw = b
	}
	return json.Unmarshal(raw, &d.m)
}

var (
	_ consent.Store = (*Store)(nil)
	_ audit.Store   = (*Store)(nil)
)
