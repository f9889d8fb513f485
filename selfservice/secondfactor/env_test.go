package secondfactor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/keys"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/selfservice"
	sst "github.com/gosid/gosid/selfservice/selfservicetest"
	"github.com/gosid/gosid/session"
)

// The tests of this package drive the second factor's flows through their
// exported functions on the test engine of package selfservicetest: the
// embedded SQLite store, real one-time codes read from the recording
// notifier, real authenticator codes computed with pquerna/otp from the
// enrolment's secret. Every clock is the engine's fixed one (the TOTP
// verifier's too); a test moves it explicitly. The HTTP tests in app/
// remain the end-to-end reference.

// testEnv is the second factor on a test engine.
type testEnv struct {
	*sst.Env
	s *Service
}

type fe = sst.FE

// totpStep is an authenticator app's time step.
const totpStep = 30 * time.Second

func newTestEnv(t *testing.T, requireMFA bool) *testEnv {
	t.Helper()
	env := sst.New(t)
	sealer, err := keys.NewSealer(sst.Key("sealer"))
	if err != nil {
		t.Fatal(err)
	}
	s := New(Deps{Engine: env.Engine, Ephemeral: env.DB, Queue: env.Sent, Sealer: sealer,
		TOTP: mfa.NewVerifierAt(env.DB, env.Engine.Now), TOTPIssuer: "gosid",
		RecoveryKey: sst.Key("recovery"), RequireMFA: requireMFA})
	return &testEnv{Env: env, s: s}
}

// tick moves the clock to the next authenticator time step, so that the
// code of the step just used is not a replay.
func (e *testEnv) tick() { e.Now = e.Now.Add(totpStep) }

var accountSeq int

// newAccount stores an account with a confirmed phone and e-mail (either
// may be left out), unique in the test binary.
func (e *testEnv) newAccount(t *testing.T, phone, email bool) *account.Account {
	t.Helper()
	accountSeq++
	var p, m string
	if phone {
		p = fmt.Sprintf("+7912%07d", accountSeq)
	}
	if email {
		m = fmt.Sprintf("citizen%d@example.ru", accountSeq)
	}
	return e.NewAccount(t, p, m)
}

// passwordSession is a session that proved only the password.
func (e *testEnv) passwordSession(a *account.Account) *session.Session {
	return &session.Session{ID: "sess-" + a.ID, AccountID: a.ID, AMR: []string{"pwd"}, AuthTime: e.Now, CreatedAt: e.Now}
}

// mfaSession is a session whose last second factor was ago.
func (e *testEnv) mfaSession(a *account.Account, ago time.Duration) *session.Session {
	s := e.passwordSession(a)
	s.AMR, s.MFAAt = []string{"pwd", "otp", "mfa"}, e.Now.Add(-ago)
	return s
}

// code is the authenticator code of secret at the clock's time plus steps.
func (e *testEnv) code(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, e.Now.Add(time.Duration(steps)*totpStep),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is a six-digit code that none of the accepted steps (nor the
// ones next to them) produce.
func (e *testEnv) wrongCode(t *testing.T, secret string) string {
	t.Helper()
	taken := map[string]bool{}
	for steps := -2; steps <= 2; steps++ {
		taken[e.code(t, secret, steps)] = true
	}
	for c := e.code(t, secret, 0); ; c = sst.WrongCode(c) {
		if !taken[c] {
			return c
		}
	}
}

// client drives one flow of this package as both faces do: each step
// loads the flow with its token, then submits.
func (e *testEnv) client(kind string, api bool, v *selfservice.View) *sst.Client {
	submit := e.s.Submit
	if kind == KindEnroll {
		submit = func(ctx context.Context, raw *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
			f, err := wrap(raw)
			if err != nil {
				return nil, err
			}
			return e.s.SubmitEnroll(ctx, f, action, in, m)
		}
	}
	return &sst.Client{Env: e.Env, Kind: kind, API: api, ID: v.ID, Token: v.FlowToken, Submit: submit}
}

// gone asserts that a client's flow is no longer stored.
func (e *testEnv) gone(t *testing.T, c *sst.Client) {
	t.Helper()
	if _, err := e.Engine.Flows.Load(context.Background(), c.ID, c.Kind, c.API, c.Token); !errors.Is(err, selfservice.ErrFlowExpired) {
		t.Errorf("finished %s flow still loads: %v", c.Kind, err)
	}
}

// startEnroll begins turning kind on for sess and fails on an error.
func (e *testEnv) startEnroll(t *testing.T, api bool, sess *session.Session, kind string) (*sst.Client, *selfservice.View) {
	t.Helper()
	v, err := e.s.StartEnroll(context.Background(), api, sess, kind, sst.Meta)
	if err != nil {
		t.Fatalf("start enrolling %s: %v", kind, err)
	}
	return e.client(KindEnroll, api, v), v
}

// enrollTOTP turns the authenticator on through the enrolment flow and
// returns its secret and the recovery codes shown; the clock then moves to
// the next time step.
func (e *testEnv) enrollTOTP(t *testing.T, a *account.Account) (string, []string) {
	t.Helper()
	c, v := e.startEnroll(t, true, e.passwordSession(a), mfa.KindTOTP)
	secret := v.TOTPSecret
	done := c.Do(t, "", selfservice.Input{"code": e.code(t, secret, 0)})
	e.CheckView(t, done, selfservice.StateDone)
	e.tick()
	return secret, done.RecoveryCodes
}

// startChallenge starts a challenge for a after its password.
func (e *testEnv) startChallenge(t *testing.T, api bool, a *account.Account, purpose, sessionID string) (*sst.Client, *selfservice.View) {
	t.Helper()
	v, err := e.s.StartSecondFactor(context.Background(), api, a, []string{"pwd"}, purpose, sessionID, "", "", sst.Meta)
	if err != nil {
		t.Fatalf("start challenge: %v", err)
	}
	return e.client(KindMFA, api, v), v
}

// methodsOf lists the methods a view offers.
func methodsOf(v *selfservice.View) []string {
	var out []string
	for _, m := range v.Methods {
		out = append(out, m.Method)
	}
	return out
}

// factorKinds lists the kinds of an account's factors.
func (e *testEnv) factorKinds(t *testing.T, accountID string) []string {
	t.Helper()
	fs, err := e.s.AccountFactors(context.Background(), accountID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		out = append(out, f.Kind)
	}
	slices.Sort(out)
	return out
}

// step is one action on a flow and what it must lead to.
type step struct {
	name   string
	action string
	in     selfservice.Input
	state  string
	errs   []fe
}

// run applies the steps in order to the client's flow.
func (e *testEnv) run(t *testing.T, c *sst.Client, steps []step) *selfservice.View {
	t.Helper()
	var v *selfservice.View
	for _, st := range steps {
		v = c.Do(t, st.action, st.in)
		t.Run(st.name, func(t *testing.T) { e.CheckView(t, v, st.state, st.errs...) })
	}
	return v
}
