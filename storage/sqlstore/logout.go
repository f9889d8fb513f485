package sqlstore

import (
	"context"
	"time"

	"github.com/gosid/gosid/logout"
)

// AddSessionClient implements logout.Store.
func (s *Store) AddSessionClient(ctx context.Context, e *logout.Entry) error {
	_, err := s.q(ctx).exec(ctx, `INSERT INTO session_clients (session_id, client_id, account_id, subject, expires_ms)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (session_id, client_id) DO UPDATE SET account_id = excluded.account_id,
			subject = excluded.subject, expires_ms = excluded.expires_ms`,
		e.SessionID, e.ClientID, e.AccountID, e.Subject, msAt(e.Expires))
	return s.wrap("add session client", err)
}

// TakeSessionClients implements logout.Store.
func (s *Store) TakeSessionClients(ctx context.Context, sessionID string) ([]*logout.Entry, error) {
	return s.sessionClients(ctx, "take session clients", `DELETE FROM session_clients WHERE session_id = $1
		RETURNING session_id, client_id, account_id, subject, expires_ms`, sessionID)
}

// ListSessionClients implements logout.Store.
func (s *Store) ListSessionClients(ctx context.Context, sessionID string) ([]*logout.Entry, error) {
	return s.sessionClients(ctx, "list session clients", `SELECT session_id, client_id, account_id, subject, expires_ms
		FROM session_clients WHERE session_id = $1 ORDER BY client_id`, sessionID)
}

func (s *Store) sessionClients(ctx context.Context, what, q, sessionID string) ([]*logout.Entry, error) {
	rs, err := s.q(ctx).query(ctx, q, sessionID)
	if err != nil {
		return nil, s.wrap(what, err)
	}
	defer rs.Close()
	var out []*logout.Entry
	for rs.Next() {
		e := &logout.Entry{}
		var ms int64
		if err := rs.Scan(&e.SessionID, &e.ClientID, &e.AccountID, &e.Subject, &ms); err != nil {
			return nil, s.wrap(what, err)
		}
		e.Expires = time.UnixMilli(ms)
		out = append(out, e)
	}
	return out, s.wrap(what, rs.Err())
}

// deleteExpiredSessionClients sweeps the entries of sessions that ended by
// themselves.
func (s *Store) deleteExpiredSessionClients(ctx context.Context, now time.Time) error {
	_, err := s.sweep(ctx, "session_clients", "session_id", "expires_ms <= $1", msAt(now))
	return s.wrap("session clients sweep", err)
}

var _ logout.Store = (*Store)(nil)
