package signin

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/codes"
	"github.com/gosid/gosid/consent"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/selfservice/secondfactor"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage/sqlstore"
	"github.com/gosid/gosid/web"
)

// The tests of this package drive the flows' Start*/Submit* methods and
// the password step directly, with real parts in-process: the embedded
// SQLite store (accounts, the short-lived store, audit, sessions), the
// real renderer for message texts, real one-time codes and a recording
// notifier in place of the delivery queue. The HTTP tests in app/ remain
// the end-to-end reference.

// testRatePerIP is the per-IP sign-in limit of the test service.
const testRatePerIP = 10

// testEnv is a Service with what the tests look into.
type testEnv struct {
	s      *Service
	db     *sqlstore.Store
	sent   *recordingNotifier
	logins *outcomes
	now    time.Time
}

// newTestEnv builds a Service on a fresh SQLite database. The clock is
// fixed; it is the wall-clock time of the test's start because the
// short-lived store counts its TTLs on the wall clock.
func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "login.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	renderer, err := web.New(web.Options{CSRFKey: testKey("csrf")})
	if err != nil {
		t.Fatal(err)
	}
	env := &testEnv{db: db, sent: &recordingNotifier{}, logins: &outcomes{}, now: time.Now().UTC().Truncate(time.Second)}
	now := func() time.Time { return env.now }
	engine := selfservice.New(selfservice.Deps{
		Accounts: db, Audit: db, Web: renderer, Tx: db, Factors: db,
		Flows: selfservice.NewFlowStore(db, time.Hour, testKey("flow"), now),
		Sessions: session.NewStore(session.Options{Ephemeral: db, Index: db, TTL: time.Hour,
			Cookie: renderer.CookieName("gosid_session")}),
		// Cheap argon2id parameters: the tests check outcomes, not cost.
		Passwords:  account.NewPasswordHasher(account.Argon2Params{Memory: 1024, Time: 1, Threads: 1}, 0),
		Codes:      codes.New(db, testKey("codes"), codes.DefaultPolicy),
		Notices:    &notify.Notices{Queue: env.sent, Inbox: db},
		Issuer:     "https://id.example.test",
		SessionTTL: time.Hour,
		Now:        now,
	})
	sf := secondfactor.New(secondfactor.Deps{Engine: engine, Ephemeral: db, Queue: env.sent,
		RecoveryKey: testKey("recovery")})
	env.s = New(Options{
		Engine: engine, SecondFactor: sf, Consent: consent.New(db, nil, nil), Ephemeral: db,
		Notifier:       env.sent,
		LockoutKey:     testKey("lockout"),
		LoginRatePerIP: testRatePerIP,
		OnLogin:        env.logins.add,
	})
	return env
}

func testKey(purpose string) []byte {
	return []byte((purpose + strings.Repeat("k", 32))[:32])
}

// recordingNotifier is the delivery queue as a gateway adapter sees it: it
// keeps every message, so that a test reads the one-time codes from it.
type recordingNotifier struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (n *recordingNotifier) Enqueue(_ context.Context, m notify.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, m)
	return nil
}

// to returns the messages sent to a contact, oldest first.
func (n *recordingNotifier) to(contact string) []notify.Message {
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

// templates lists the templates of the messages sent to a contact.
func (n *recordingNotifier) templates(contact string) []string {
	var out []string
	for _, m := range n.to(contact) {
		out = append(out, m.Template)
	}
	return out
}

// code returns the one-time code of the latest message to a contact that
// carries one.
func (n *recordingNotifier) code(t *testing.T, contact string) string {
	t.Helper()
	msgs := n.to(contact)
	for i := len(msgs) - 1; i >= 0; i-- {
		if c := msgs[i].Data["code"]; c != "" {
			return c
		}
	}
	t.Fatalf("no code was sent to %s (sent: %v)", contact, n.templates(contact))
	return ""
}

// outcomes records what the password step reported for metrics.
type outcomes struct {
	mu   sync.Mutex
	list []string
}

func (o *outcomes) add(outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.list = append(o.list, outcome)
}

func (o *outcomes) all() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.list)
}

// Test identities.
const (
	testPassword  = "Kv8#trolleybus-Omsk"
	otherPassword = "Zh7!samovar-Tula-2"
)

// newAccount stores an active, simplified account with confirmed contacts
// (either may be empty) and testPassword.
func (e *testEnv) newAccount(t *testing.T, phone, email string) *account.Account {
	t.Helper()
	ctx := context.Background()
	hash, err := e.s.Passwords.Hash(ctx, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	a := &account.Account{
		ID: uuid.NewString(), Phone: phone, PhoneVerified: phone != "", Email: email, EmailVerified: email != "",
		FamilyName: "Иванова", GivenName: "Мария", PasswordHash: hash, PasswordChangedAt: e.now,
		Level: account.LevelSimplified, Status: account.StatusActive, Locale: "ru", CreatedAt: e.now, UpdatedAt: e.now,
	}
	if err := e.s.Accounts.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	return a
}

// account reloads an account.
func (e *testEnv) account(t *testing.T, id string) *account.Account {
	t.Helper()
	a, err := e.s.Accounts.GetAccount(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// passwordMatches reports whether pw is the account's password now.
func (e *testEnv) passwordMatches(t *testing.T, id, pw string) bool {
	t.Helper()
	ok, _, err := e.s.Passwords.Verify(context.Background(), e.account(t, id).PasswordHash, pw)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// auditTypes lists the audit events of an account, oldest first.
func (e *testEnv) auditTypes(t *testing.T, id string) []string {
	t.Helper()
	evs, err := e.db.ListEvents(context.Background(), id, 0, 100)
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

var testMeta = selfservice.Meta{IP: "192.0.2.10", UserAgent: "login-test", Lang: "ru"}

// fe is an expected error: the field ("" for the form) and the code.
type fe struct{ Field, Code string }

// checkView asserts a view's state and errors; each error must carry the
// translated text of its code.
func (e *testEnv) checkView(t *testing.T, v *selfservice.View, state string, want ...fe) {
	t.Helper()
	if v.State != state {
		t.Errorf("state = %q, want %q (errors %v)", v.State, state, v.Errors)
	}
	var got []fe
	for _, m := range v.Errors {
		got = append(got, fe{m.Field, m.Code})
		text := e.s.Web.T(testMeta.Lang, "err."+m.Code)
		if m.Text == "" || m.Text != text || text == "err."+m.Code {
			t.Errorf("error %s/%s has text %q; want the translation of err.%s", m.Field, m.Code, m.Text, m.Code)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %v, want %v", got, want)
	}
}
