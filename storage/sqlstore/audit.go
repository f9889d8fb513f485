package sqlstore

import (
	"context"
	"encoding/json"
	"math"

	"github.com/gosid/gosid/audit"
)

// AppendEvent implements audit.Store.
func (s *Store) AppendEvent(ctx context.Context, e *audit.Event) error {
	var data any
	if len(e.Data) > 0 {
		raw, err := json.Marshal(e.Data)
		if err != nil {
			return s.wrap("append event", err)
		}
		data = string(raw)
	}
	err := s.q(ctx).queryRow(ctx, `INSERT INTO audit_events (account_id, type, client_id, ip, user_agent, data, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		e.AccountID, e.Type, e.ClientID, e.IP, e.UserAgent, data, e.At.UTC()).Scan(&e.ID)
	return s.wrap("append event", err)
}

// RaiseEventCount implements audit.Store. The count lives in the event's
// JSON data; the comparison is in the UPDATE, so concurrent raises never
// lower it.
func (s *Store) RaiseEventCount(ctx context.Context, accountID string, id, n int64) error {
	q := `UPDATE audit_events SET data = json_set(COALESCE(data, '{}'), '$.count', CAST($1 AS TEXT))
		WHERE id = $2 AND account_id = $3
		AND COALESCE(CAST(json_extract(data, '$.count') AS INTEGER), 0) < $1`
	if s.dialect == dialectPostgres {
		q = `UPDATE audit_events SET data = jsonb_set(COALESCE(data, '{}'::jsonb), '{count}', to_jsonb($1::bigint::text))
			WHERE id = $2 AND account_id = $3
			AND COALESCE((data->>'count')::bigint, 0) < $1::bigint`
	}
	_, err := s.q(ctx).exec(ctx, q, n, id, accountID)
	return s.wrap("raise event count", err)
}

// defaultEventPage is how many events ListEvents returns for a limit of 0.
const defaultEventPage = 100

// ListEvents implements audit.Store with keyset paging on the
// (account_id, id) index, so a deep page costs what the first one does.
func (s *Store) ListEvents(ctx context.Context, accountID string, beforeID int64, limit int) ([]*audit.Event, error) {
	if beforeID <= 0 {
		beforeID = math.MaxInt64
	}
	if limit <= 0 {
		limit = defaultEventPage
	}
	rs, err := s.q(ctx).query(ctx, `SELECT id, account_id, type, client_id, ip, user_agent, data, at FROM audit_events
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

var _ audit.Store = (*Store)(nil)
