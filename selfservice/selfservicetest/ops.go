package selfservicetest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/storage"
)

// Ops records, in order, the operations the engine makes on its stores and
// its queue ("accounts.FindAccountByPhone", "audit.AppendEvent",
// "kv.Incr", "queue.Enqueue"...), for tests that compare the work of two
// paths that must not be told apart (an existing contact and an unknown
// one). Names only: never keys or values.
type Ops struct {
	mu   sync.Mutex
	list []string
}

func (o *Ops) add(op string) {
	o.mu.Lock()
	o.list = append(o.list, op)
	o.mu.Unlock()
}

// Take returns the operations recorded since the last Take and forgets
// them.
func (o *Ops) Take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := slices.Clone(o.list)
	o.list = nil
	return out
}

// recAccounts records the account store's operations.
type recAccounts struct {
	account.Store
	ops *Ops
}

func (r recAccounts) CreateAccount(ctx context.Context, a *account.Account) error {
	r.ops.add("accounts.CreateAccount")
	return r.Store.CreateAccount(ctx, a)
}

func (r recAccounts) GetAccount(ctx context.Context, id string) (*account.Account, error) {
	r.ops.add("accounts.GetAccount")
	return r.Store.GetAccount(ctx, id)
}

func (r recAccounts) FindAccountByPhone(ctx context.Context, phone string) (*account.Account, error) {
	r.ops.add("accounts.FindAccountByPhone")
	return r.Store.FindAccountByPhone(ctx, phone)
}

func (r recAccounts) FindAccountByEmail(ctx context.Context, email string) (*account.Account, error) {
	r.ops.add("accounts.FindAccountByEmail")
	return r.Store.FindAccountByEmail(ctx, email)
}

func (r recAccounts) UpdateAccount(ctx context.Context, id string, fn func(a *account.Account) error) (*account.Account, error) {
	r.ops.add("accounts.UpdateAccount")
	return r.Store.UpdateAccount(ctx, id, fn)
}

// recAudit records the audit store's operations.
type recAudit struct {
	audit.Store
	ops *Ops
}

func (r recAudit) AppendEvent(ctx context.Context, e *audit.Event) error {
	r.ops.add("audit.AppendEvent")
	return r.Store.AppendEvent(ctx, e)
}

func (r recAudit) ListEvents(ctx context.Context, accountID string, beforeID int64, limit int) ([]*audit.Event, error) {
	r.ops.add("audit.ListEvents")
	return r.Store.ListEvents(ctx, accountID, beforeID, limit)
}

// recKV records the short-lived store's operations.
type recKV struct {
	kv  storage.Ephemeral
	ops *Ops
}

func (r recKV) Put(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	r.ops.add("kv.Put")
	return r.kv.Put(ctx, key, val, ttl)
}

func (r recKV) PutNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	r.ops.add("kv.PutNX")
	return r.kv.PutNX(ctx, key, val, ttl)
}

func (r recKV) Get(ctx context.Context, key string) ([]byte, error) {
	r.ops.add("kv.Get")
	return r.kv.Get(ctx, key)
}

func (r recKV) Take(ctx context.Context, key string) ([]byte, error) {
	r.ops.add("kv.Take")
	return r.kv.Take(ctx, key)
}

func (r recKV) Delete(ctx context.Context, key string) error {
	r.ops.add("kv.Delete")
	return r.kv.Delete(ctx, key)
}

func (r recKV) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	r.ops.add("kv.Incr")
	return r.kv.Incr(ctx, key, ttl)
}

func (r recKV) TTL(ctx context.Context, key string) (time.Duration, error) {
	r.ops.add("kv.TTL")
	return r.kv.TTL(ctx, key)
}

func (r recKV) Ping(ctx context.Context) error { return r.kv.Ping(ctx) }

// record notes an enqueue (a decoy is one too) in the env's Ops.
func (n *Notifier) record() {
	if n.ops != nil {
		n.ops.add("queue.Enqueue")
	}
}
