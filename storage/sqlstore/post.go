package sqlstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gosid/gosid/post"
)

// LockLetters implements post.Store: on PostgreSQL it locks the account's
// row (the lock order of every change spanning tables); a SQLite write
// transaction already holds the database's one writer.
func (s *Store) LockLetters(ctx context.Context, accountID string) error {
	if s.dialect != dialectPostgres {
		return nil
	}
	var id string
	err := s.q(ctx).queryRow(ctx, `SELECT id FROM accounts WHERE id=$1 FOR UPDATE`, accountID).Scan(&id)
	return s.wrap("lock letters", err)
}

// InsertLetter implements post.Store.
func (s *Store) InsertLetter(ctx context.Context, l *post.Letter) error {
	_, err := s.q(ctx).exec(ctx, `INSERT INTO post_letters (id, account_id, status, code_hash, letter, attempts, ordered_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, l.ID, l.AccountID, string(l.Status), l.CodeHash, l.Sealed, l.Attempts,
		l.OrderedAt.UTC(), l.ExpiresAt.UTC())
	return s.wrap("insert letter", err)
}

// CancelLetters implements post.Store.
func (s *Store) CancelLetters(ctx context.Context, accountID string) error {
	_, err := s.q(ctx).exec(ctx, `UPDATE post_letters SET status=$1, letter=NULL WHERE account_id=$2 AND status IN ($3, $4)`,
		string(post.StatusCancelled), accountID, string(post.StatusOrdered), string(post.StatusPrinted))
	return s.wrap("cancel letters", err)
}

// CountLetters implements post.Store.
func (s *Store) CountLetters(ctx context.Context, accountID string, since time.Time) (int, error) {
	var n int
	err := s.q(ctx).queryRow(ctx, `SELECT COUNT(*) FROM post_letters WHERE account_id=$1 AND ordered_at > $2`,
		accountID, since.UTC()).Scan(&n)
	return n, s.wrap("count letters", err)
}

const letterCols = `id, account_id, status, code_hash, letter, attempts, ordered_at, expires_at, printed_at, used_at`

func scanLetter(r row) (*post.Letter, error) {
	l := &post.Letter{}
	var status string
	err := r.Scan(&l.ID, &l.AccountID, &status, &l.CodeHash, &l.Sealed, &l.Attempts, nullTime{&l.OrderedAt},
		nullTime{&l.ExpiresAt}, nullTime{&l.PrintedAt}, nullTime{&l.UsedAt})
	l.Status = post.Status(status)
	return l, err
}

// LatestLetter implements post.Store.
func (s *Store) LatestLetter(ctx context.Context, accountID string) (*post.Letter, error) {
	l, err := scanLetter(s.q(ctx).queryRow(ctx, `SELECT `+letterCols+` FROM post_letters WHERE account_id=$1
		ORDER BY ordered_at DESC, id DESC LIMIT 1`, accountID))
	return l, s.wrap("latest letter", err)
}

// AddAttempt implements post.Store: the comparison is in the UPDATE, so
// parallel attempts never pass the limit.
func (s *Store) AddAttempt(ctx context.Context, id string, max int) (int, bool, error) {
	var n int
	err := s.q(ctx).queryRow(ctx, `UPDATE post_letters SET attempts = attempts + 1
		WHERE id=$1 AND attempts < $2 AND status IN ($3, $4) RETURNING attempts`,
		id, max, string(post.StatusOrdered), string(post.StatusPrinted)).Scan(&n)
	if errors.Is(err, errNoRows) {
		return 0, false, nil
	}
	return n, err == nil, s.wrap("add attempt", err)
}

// SetLetterStatus implements post.Store.
func (s *Store) SetLetterStatus(ctx context.Context, id string, to post.Status, at time.Time, from ...post.Status) (bool, error) {
	args := []any{string(to), id, at.UTC()}
	marks := make([]string, len(from))
	for i, f := range from {
		args = append(args, string(f))
		marks[i] = "$" + strconv.Itoa(len(args))
	}
	set := ""
	switch to {
	case post.StatusPrinted:
		set = ", printed_at=$3"
	case post.StatusUsed:
		set = ", used_at=$3"
	default:
		set = ", used_at=COALESCE(used_at, $3)"
	}
	n, err := s.q(ctx).exec(ctx, `UPDATE post_letters SET status=$1, letter=NULL`+set+` WHERE id=$2 AND status IN (`+
		strings.Join(marks, ", ")+`)`, args...)
	return n == 1, s.wrap("set letter status", err)
}

// LettersToPrint implements post.Store.
func (s *Store) LettersToPrint(ctx context.Context, limit int) ([]*post.Letter, error) {
	if limit <= 0 {
		limit = 10000
	}
	rs, err := s.q(ctx).query(ctx, `SELECT `+letterCols+` FROM post_letters WHERE status=$1 AND letter IS NOT NULL
		ORDER BY ordered_at, id LIMIT $2`, string(post.StatusOrdered), limit)
	if err != nil {
		return nil, s.wrap("letters to print", err)
	}
	defer rs.Close()
	var out []*post.Letter
	for rs.Next() {
		l, err := scanLetter(rs)
		if err != nil {
			return nil, s.wrap("letters to print", err)
		}
		out = append(out, l)
	}
	return out, s.wrap("letters to print", rs.Err())
}

var _ post.Store = (*Store)(nil)
