package provider

import (
	"context"
	"errors"
	"sync"

	"github.com/ory/fosite/storage"
)

// TxRunner runs fn in one database transaction: every store method called
// with the context fn gets is part of it (sqlstore.Store.InTx).
type TxRunner interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

var _ storage.Transactional = (*fositeStore)(nil)

// fositeTx is a transaction fosite opened with BeginTX and ends with Commit
// or Rollback. TxRunner's transactions are callback-shaped, so the callback
// runs on a goroutine of its own and waits for fosite's decision; the
// request's goroutine meanwhile uses the transaction through the context
// BeginTX returned (one at a time: the callback only waits).
type fositeTx struct {
	decide chan error // nil commits; anything else rolls back
	result chan error // what InTx returned
	once   sync.Once
	err    error
}

type fositeTxKey struct{}

// errRollback is the callback's answer when fosite rolls back.
var errRollback = errors.New("provider: roll back")

// BeginTX implements storage.Transactional: the refresh of a token (mark the
// presented one used, store its successor) and the revocation of a reused
// one happen in one transaction, so that a failure in between leaves
// neither half.
func (s *fositeStore) BeginTX(ctx context.Context) (context.Context, error) {
	if s.tx == nil {
		return ctx, nil
	}
	t := &fositeTx{decide: make(chan error, 1), result: make(chan error, 1)}
	started := make(chan context.Context, 1)
	go func() {
		t.result <- s.tx.InTx(ctx, func(txCtx context.Context) error {
			started <- txCtx
			select {
			case err := <-t.decide:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	select {
	case txCtx := <-started:
		return context.WithValue(txCtx, fositeTxKey{}, t), nil
	case err := <-t.result:
		if err == nil {
			err = errors.New("provider: the transaction ended before it began")
		}
		return ctx, err
	}
}

// end hands the decision to the transaction once and returns its result;
// a Rollback after a failed Commit returns the Commit's error again.
func (t *fositeTx) end(decision error) error {
	t.once.Do(func() {
		t.decide <- decision
		t.err = <-t.result
		if errors.Is(t.err, errRollback) {
			t.err = nil
		}
	})
	return t.err
}

// Commit implements storage.Transactional.
func (s *fositeStore) Commit(ctx context.Context) error {
	if t, ok := ctx.Value(fositeTxKey{}).(*fositeTx); ok {
		return t.end(nil)
	}
	return nil
}

// Rollback implements storage.Transactional.
func (s *fositeStore) Rollback(ctx context.Context) error {
	if t, ok := ctx.Value(fositeTxKey{}).(*fositeTx); ok {
		return t.end(errRollback)
	}
	return nil
}
