// Package selfservicetest runs the self-service engine for the tests of
// the flow packages, with real parts in-process: the embedded SQLite store
// (accounts, the short-lived store, audit, sessions), the real renderer for
// message texts, real one-time codes and a recording notifier in place of
// the delivery queue. The HTTP tests in app/ remain the end-to-end
// reference.
package selfservicetest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/codes"
	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/pii"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/selfservice/lockout"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/storage/redis"
	"github.com/gosid/gosid/storage/sqlstore"
	"github.com/gosid/gosid/web"
)

// Test passwords: both pass the policy.
const (
	Password      = "Kv8#trolleybus-Omsk"
	OtherPassword = "Zh7!samovar-Tula-2"
)

// Meta is the caller of every step.
var Meta = selfservice.Meta{IP: "192.0.2.10", UserAgent: "selfservice-test", Lang: "ru"}

// Env is an engine with what the tests look into.
type Env struct {
	Engine *selfservice.Engine
	DB     *sqlstore.Store
	// Ephemeral is the short-lived store: DB, or Redis (NewRedis).
	Ephemeral   storage.Ephemeral
	redis       *redis.Store
	redisPrefix string
	Sent        *Notifier
	// Ops records the operations the engine made on its stores (the
	// accounts, the audit log, the short-lived store) and on Sent.
	Ops *Ops
	// Now is the engine's clock: the wall-clock time of the test's start
	// (the short-lived store counts its TTLs on the wall clock).
	Now time.Time
}

// New builds an engine on a fresh SQLite database, which is also the
// short-lived store.
func New(t *testing.T) *Env {
	t.Helper()
	return build(t, nil)
}

// NewRedis builds an engine on a fresh SQLite database with Redis as the
// short-lived store, under a prefix of the test's own; it skips the test
// (fails it in CI) when Redis is not reachable.
func NewRedis(t *testing.T) *Env {
	t.Helper()
	url, prefix := testenv.RedisURL(t)
	r, err := redis.Open(context.Background(), url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	env := build(t, r)
	env.redisPrefix = prefix
	return env
}

func build(t *testing.T, redisEph *redis.Store) *Env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "selfservice.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	renderer, err := web.New(web.Options{CSRFKey: Key("csrf")})
	if err != nil {
		t.Fatal(err)
	}
	var eph storage.Ephemeral = db
	if redisEph != nil {
		eph = redisEph
	}
	ops := &Ops{}
	env := &Env{DB: db, Ephemeral: eph, redis: redisEph, Sent: &Notifier{ops: ops}, Ops: ops, Now: time.Now().UTC().Truncate(time.Second)}
	now := func() time.Time { return env.Now }
	kv := recKV{kv: eph, ops: ops}
	env.Engine = selfservice.New(selfservice.Deps{
		Accounts: recAccounts{Store: db, ops: ops}, Audit: recAudit{Store: db, ops: ops}, Web: renderer, Tx: db, Factors: db,
		Flows: selfservice.NewFlowStore(kv, time.Hour, Key("flow"), Cipher(t, db), now),
		Sessions: session.NewStore(session.Options{Ephemeral: kv, Index: db, TTL: time.Hour,
			Cookie: renderer.CookieName("gosid_session")}),
		// Cheap argon2id parameters: the tests check outcomes, not cost.
		Passwords:  account.NewPasswordHasher(account.Argon2Params{Memory: 1024, Time: 1, Threads: 1}, 0),
		Lockout:    lockout.New(kv, db),
		Ephemeral:  kv,
		Codes:      codes.New(kv, Key("codes"), codes.DefaultPolicy),
		Notices:    &notify.Notices{Queue: env.Sent, Inbox: db},
		Issuer:     "https://id.example.test",
		SessionTTL: time.Hour,
		Now:        now,
	})
	return env
}

// DumpEphemeral returns everything the short-lived store holds, as a dump
// of it would show it: on SQLite every row of every table (the short-lived
// store is a table there), on Redis every key under the test's prefix with
// its value.
func (e *Env) DumpEphemeral(t testing.TB) string {
	t.Helper()
	if e.redis == nil {
		return testenv.DumpDatabase(t, e.DB)
	}
	ctx := context.Background()
	c := e.redis.Client()
	var b strings.Builder
	iter := c.Scan(ctx, 0, e.redisPrefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		// GET and HGETALL, not DUMP: DUMP may compress a value.
		var v any
		var err error
		switch typ := c.Type(ctx, k).Val(); typ {
		case "string":
			v, err = c.Get(ctx, k).Result()
		case "hash":
			v, err = c.HGetAll(ctx, k).Result()
		case "none": // expired since the scan
		default:
			t.Fatalf("DumpEphemeral: key %s of type %s", k, typ)
		}
		if err != nil {
			t.Fatalf("read %s: %v", k, err)
		}
		fmt.Fprintf(&b, "%s: %v\n", k, v)
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return b.String()
}

// Cipher returns a personal-data cipher whose data keys are kept in store,
// under a test master key.
func Cipher(t testing.TB, store pii.KeyStore) *pii.Cipher {
	t.Helper()
	c, err := pii.New(store, pii.Options{MasterKey: Key("master"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

// Key is a 32-byte test key for purpose.
func Key(purpose string) []byte {
	return []byte((purpose + strings.Repeat("k", 32))[:32])
}

// Notifier is the delivery queue as a gateway adapter sees it: it keeps
// every message, so that a test reads the one-time codes from it. Decoys
// (notify.Message.Decoy) are kept apart: the queue takes them and delivers
// nothing.
type Notifier struct {
	mu     sync.Mutex
	msgs   []notify.Message
	decoys []notify.Message
	ops    *Ops
}

// Enqueue keeps m.
func (n *Notifier) Enqueue(_ context.Context, m notify.Message) error {
	n.record()
	n.mu.Lock()
	defer n.mu.Unlock()
	if m.Decoy {
		n.decoys = append(n.decoys, m)
		return nil
	}
	n.msgs = append(n.msgs, m)
	return nil
}

// Len is the number of messages sent (decoys are not).
func (n *Notifier) Len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.msgs)
}

// Decoys are the messages queued to be dropped, oldest first.
func (n *Notifier) Decoys() []notify.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.decoys)
}

// To returns the messages sent to a contact, oldest first.
func (n *Notifier) To(contact string) []notify.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []notify.Message
	for _, m := range n.msgs {
		if m.To == contact {
			out = append(out, m)
		}
	}
	return out
}

// Templates lists the templates of the messages sent to a contact.
func (n *Notifier) Templates(contact string) []string {
	var out []string
	for _, m := range n.To(contact) {
		out = append(out, m.Template)
	}
	return out
}

// Code returns the one-time code of the latest message to a contact that
// carries one.
func (n *Notifier) Code(t *testing.T, contact string) string {
	t.Helper()
	msgs := n.To(contact)
	for i := len(msgs) - 1; i >= 0; i-- {
		if c := msgs[i].Data["code"]; c != "" {
			return c
		}
	}
	t.Fatalf("no code was sent to %s (sent: %v)", contact, n.Templates(contact))
	return ""
}

// NewAccount stores an active, simplified account with confirmed contacts
// (either may be empty) and Password.
func (e *Env) NewAccount(t *testing.T, phone, email string) *account.Account {
	t.Helper()
	ctx := context.Background()
	hash, err := e.Engine.Passwords.Hash(ctx, Password)
	if err != nil {
		t.Fatal(err)
	}
	a := &account.Account{
		ID: uuid.NewString(), Phone: phone, PhoneVerified: phone != "", Email: email, EmailVerified: email != "",
		FamilyName: "Иванова", GivenName: "Мария", PasswordHash: hash, PasswordChangedAt: e.Now,
		Level: account.LevelSimplified, Status: account.StatusActive, Locale: "ru", CreatedAt: e.Now, UpdatedAt: e.Now,
	}
	if err := e.Engine.Accounts.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	return a
}

// Account reloads an account.
func (e *Env) Account(t *testing.T, id string) *account.Account {
	t.Helper()
	a, err := e.Engine.Accounts.GetAccount(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// PasswordMatches reports whether pw is the account's password now.
func (e *Env) PasswordMatches(t *testing.T, id, pw string) bool {
	t.Helper()
	ok, _, err := e.Engine.Passwords.Verify(context.Background(), e.Account(t, id).PasswordHash, pw)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// AuditTypes lists the audit events of an account, oldest first.
func (e *Env) AuditTypes(t *testing.T, id string) []string {
	t.Helper()
	evs, err := e.DB.ListEvents(context.Background(), id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	slices.Reverse(out)
	return out
}

// Step runs one step of a flow: a flow package's Submit.
type Step func(ctx context.Context, f *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error)

// Client drives one flow the way both faces do: each step loads the flow
// from the store with its flow token, then submits.
type Client struct {
	Env    *Env
	Kind   string
	API    bool
	ID     string
	Token  string
	Submit Step
}

// Start starts a flow with start and returns the client that drives it.
func (e *Env) Start(t *testing.T, kind string, api bool, start func(context.Context, bool, string, selfservice.Meta) (*selfservice.View, error), submit Step) (*Client, *selfservice.View) {
	t.Helper()
	v, err := start(context.Background(), api, "", Meta)
	if err != nil {
		t.Fatal(err)
	}
	return &Client{Env: e, Kind: kind, API: api, ID: v.ID, Token: v.FlowToken, Submit: submit}, v
}

// Flow loads the flow as stored now.
func (c *Client) Flow(t *testing.T) *selfservice.Flow {
	t.Helper()
	f, err := c.Env.Engine.Flows.Load(context.Background(), c.ID, c.Kind, c.API, c.Token)
	if err != nil {
		t.Fatalf("load %s flow: %v", c.Kind, err)
	}
	return f
}

// Do runs one step and fails the test on an internal error.
func (c *Client) Do(t *testing.T, action string, in selfservice.Input) *selfservice.View {
	t.Helper()
	v, err := c.Submit(context.Background(), c.Flow(t), action, in, Meta)
	if err != nil {
		t.Fatalf("%s %q: %v", c.Kind, action, err)
	}
	if v == nil {
		t.Fatalf("%s %q: no view", c.Kind, action)
	}
	return v
}

// FE is an expected error: the field ("" for the form) and the code.
type FE [2]string

// CheckView asserts a view's state and errors; each error must carry the
// translated text of its code.
func (e *Env) CheckView(t *testing.T, v *selfservice.View, state string, want ...FE) {
	t.Helper()
	if v.State != state {
		t.Errorf("state = %q, want %q (errors %v)", v.State, state, v.Errors)
	}
	var got []FE
	for _, m := range v.Errors {
		got = append(got, FE{m.Field, m.Code})
		text := e.Engine.Web.T(Meta.Lang, "err."+m.Code)
		if m.Text == "" || m.Text != text || text == "err."+m.Code {
			t.Errorf("error %s/%s has text %q; want the translation of err.%s", m.Field, m.Code, m.Text, m.Code)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %v, want %v", got, want)
	}
}

// MessageCodes lists the codes of a view's notices.
func MessageCodes(v *selfservice.View) []string {
	var out []string
	for _, m := range v.Messages {
		out = append(out, m.Code)
	}
	return out
}

// ViewJSON is a view as the API returns it.
func ViewJSON(t *testing.T, v *selfservice.View) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// With returns a copy of in with the fields changed.
func With(in selfservice.Input, kv ...string) selfservice.Input {
	out := maps.Clone(in)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// WrongCode returns a code of the same shape that is not code.
func WrongCode(code string) string {
	if code[0] == '9' {
		return "0" + code[1:]
	}
	return string(code[0]+1) + code[1:]
}
