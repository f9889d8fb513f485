package registration

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gosid/gosid/selfservice"
	sst "github.com/gosid/gosid/selfservice/selfservicetest"
)

// testEnv is the registration on a test engine.
type testEnv struct {
	*sst.Env
	s *Service
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	env := sst.New(t)
	return &testEnv{Env: env, s: New(Deps{Engine: env.Engine, Notifier: env.Sent})}
}

type fe = sst.FE

// client drives one registration.
type client struct{ *sst.Client }

func (e *testEnv) startRegistration(t *testing.T, api bool) (*client, *selfservice.View) {
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

func TestIsYes(t *testing.T) {
	for v, want := range map[string]bool{"on": true, "true": true, "yes": true, "1": true,
		"": false, "0": false, "no": false, "ON": false, "off": false} {
		if got := isYes(v); got != want {
			t.Errorf("isYes(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestFlowStore: a flow is driven only with its own token, by the face
// that started it, as the kind it is.
func TestFlowStore(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	browser, _ := env.startRegistration(t, false)
	app, _ := env.startRegistration(t, true)
	tests := []struct {
		name  string
		id    string
		kind  string
		api   bool
		token string
		want  error
	}{
		{"browser flow, its token", browser.ID, Kind, false, browser.Token, nil},
		{"app flow, its token", app.ID, Kind, true, app.Token, nil},
		{"wrong token", app.ID, Kind, true, browser.Token, selfservice.ErrFlowToken},
		{"no token", app.ID, Kind, true, "", selfservice.ErrFlowToken},
		{"browser flow through the API", browser.ID, Kind, true, browser.Token, selfservice.ErrFlowExpired},
		{"app flow through the pages", app.ID, Kind, false, app.Token, selfservice.ErrFlowExpired},
		{"as another kind", app.ID, "recovery", true, app.Token, selfservice.ErrFlowExpired},
		{"unknown id", "nope", Kind, true, app.Token, selfservice.ErrFlowExpired},
		{"empty id", "", Kind, true, app.Token, selfservice.ErrFlowExpired},
		{"oversize id", strings.Repeat("a", 65), Kind, true, app.Token, selfservice.ErrFlowExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := env.Engine.Flows.Load(ctx, tt.id, tt.kind, tt.api, tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("load = %v, want %v", err, tt.want)
			}
			if err == nil && (f.ID != tt.id || f.State != selfservice.StateForm) {
				t.Errorf("loaded %+v", f)
			}
		})
	}
	if err := env.Engine.Flows.Delete(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Engine.Flows.Load(ctx, app.ID, Kind, true, app.Token); !errors.Is(err, selfservice.ErrFlowExpired) {
		t.Errorf("a deleted flow loads: %v", err)
	}
}
