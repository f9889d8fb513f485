package signin

import (
	"slices"
	"sync"
	"testing"

	"github.com/gosid/gosid/consent"
	"github.com/gosid/gosid/selfservice/secondfactor"
	"github.com/gosid/gosid/selfservice/selfservicetest"
)

// The tests of this package drive the password step and the API's sign-in
// flow directly, with real parts in-process (selfservicetest: the embedded
// SQLite store, the real renderer, real one-time codes, a recording
// notifier in place of the delivery queue). The HTTP tests in app/ remain
// the end-to-end reference.

// testRatePerIP is the per-IP sign-in limit of the test service.
const testRatePerIP = 10

// Test identities.
const (
	testPassword  = selfservicetest.Password
	otherPassword = selfservicetest.OtherPassword
)

var testMeta = selfservicetest.Meta

// testEnv is a Service on the test engine, with what the tests look into.
type testEnv struct {
	*selfservicetest.Env
	s      *Service
	logins *outcomes
}

// newTestEnv builds a Service on a fresh SQLite database.
func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	base := selfservicetest.New(t)
	env := &testEnv{Env: base, logins: &outcomes{}}
	sf := secondfactor.New(secondfactor.Deps{Engine: base.Engine, Ephemeral: base.DB, Queue: base.Sent,
		RecoveryKey: selfservicetest.Key("recovery")})
	env.s = New(Options{
		Engine: base.Engine, SecondFactor: sf, Consent: consent.New(base.DB, nil, nil), Ephemeral: base.DB,
		LockoutKey:     selfservicetest.Key("lockout"),
		Notifier:       base.Sent,
		LoginRatePerIP: testRatePerIP,
		OnLogin:        env.logins.add,
	})
	return env
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

// fe is an expected error: the field ("" for the form) and the code.
type fe = selfservicetest.FE
