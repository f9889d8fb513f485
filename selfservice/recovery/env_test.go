package recovery

import (
	"context"
	"sync"
	"testing"

	"github.com/gosid/gosid/selfservice"
	sst "github.com/gosid/gosid/selfservice/selfservicetest"
)

// testEnv is the recovery on a test engine; lifted records the accounts
// whose lockout it lifted.
type testEnv struct {
	*sst.Env
	s      *Service
	mu     sync.Mutex
	lifted []string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	env := &testEnv{Env: sst.New(t)}
	env.s = New(Deps{Engine: env.Engine, Notifier: env.Sent, LiftLockout: func(_ context.Context, id, _ string) error {
		env.mu.Lock()
		defer env.mu.Unlock()
		env.lifted = append(env.lifted, id)
		return nil
	}})
	return env
}

func (e *testEnv) liftedFor() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.lifted...)
}

type fe = sst.FE

// client drives one recovery.
type client struct{ *sst.Client }

func (e *testEnv) startRecovery(t *testing.T, api bool) (*client, *selfservice.View) {
	t.Helper()
	c, v := e.Start(t, Kind, api, e.s.Start, e.s.Submit)
	return &client{c}, v
}

// flow loads the flow as stored now, with its state.
func (c *client) flow(t *testing.T) *flow {
	t.Helper()
	f, err := load(c.Flow(t))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
