package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gosid/gosid/account"
)

// AddInboxMessage implements account.Inbox.
func (s *Store) AddInboxMessage(ctx context.Context, m *account.InboxMessage) error {
	data, err := json.Marshal(m.Data)
	if err != nil {
		return err
	}
	_, err = s.q(ctx).exec(ctx, `INSERT INTO inbox_messages (id, account_id, template, data, created_at, read_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, m.ID, m.AccountID, m.Template, string(data), m.CreatedAt.UTC(), tArg(m.ReadAt))
	return s.wrap("add inbox message", err)
}

// ListInbox implements account.Inbox.
func (s *Store) ListInbox(ctx context.Context, accountID string, limit int) ([]*account.InboxMessage, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT id, account_id, template, data, created_at, read_at FROM inbox_messages
		WHERE account_id=$1 ORDER BY created_at DESC, id LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, s.wrap("list inbox", err)
	}
	defer rs.Close()
	var out []*account.InboxMessage
	for rs.Next() {
		m := &account.InboxMessage{}
		var data string
		if err := rs.Scan(&m.ID, &m.AccountID, &m.Template, &data, nullTime{&m.CreatedAt}, nullTime{&m.ReadAt}); err != nil {
			return nil, s.wrap("list inbox", err)
		}
		_ = json.Unmarshal([]byte(data), &m.Data)
		out = append(out, m)
	}
	return out, s.wrap("list inbox", rs.Err())
}

// MarkInboxRead implements account.Inbox.
func (s *Store) MarkInboxRead(ctx context.Context, accountID string, at time.Time) error {
	_, err := s.q(ctx).exec(ctx, `UPDATE inbox_messages SET read_at=$2 WHERE account_id=$1 AND read_at IS NULL`, accountID, at.UTC())
	return s.wrap("mark inbox read", err)
}

var _ account.Inbox = (*Store)(nil)
