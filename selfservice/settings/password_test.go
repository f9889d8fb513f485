package settings

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/gosid/gosid/selfservice"
	sst "github.com/gosid/gosid/selfservice/selfservicetest"
)

// The change of password under the sign-in's lockout (issue 10, defect
// 4): a stolen session is not a password oracle. Driven through
// ChangePassword on the embedded store; app/ tests the API face.

const (
	pwPhone    = "+79120000077"
	newPassw   = "Qw5$pelmeni-Irkutsk"
	wrongPassw = sst.OtherPassword
)

func changeInput(current string) selfservice.Input {
	return selfservice.Input{"current_password": current, "password": newPassw, "password_confirm": newPassw}
}

func TestChangePasswordLockout(t *testing.T) {
	// signin locks the account by wrong sign-ins first (the engine's
	// step with sign-in's events): the same counter.
	signIn := func(t *testing.T, env *sst.Env, s *pwService, pw string) {
		t.Helper()
		a := env.Account(t, s.accountID)
		if _, err := env.Engine.CheckPassword(context.Background(), sst.Meta, a, pw,
			selfservice.PasswordEvents{Failure: "login.failure", Blocked: "login.blocked_attempt"}); err != nil {
			t.Fatal(err)
		}
	}
	type step struct {
		signIn  string // a sign-in attempt with this password instead of a change
		current string
		want    string // "" for a change made
	}
	cases := []struct {
		name    string
		steps   []step
		changed bool
		audit   []string
		notices []string
	}{
		{
			name: "three wrong lock, then the right one is refused",
			steps: []step{
				{current: wrongPassw, want: "current_password:password.current_wrong"},
				{current: wrongPassw, want: "current_password:password.current_wrong"},
				{current: wrongPassw, want: "current_password:login.locked"},
				{current: sst.Password, want: "current_password:login.locked"},
				{current: wrongPassw, want: "current_password:login.locked"},
			},
			audit: []string{"password.change_failed", "password.change_failed", "password.change_failed", "login.locked",
				"password.change_blocked"}, // both refusals: one event with a count
			notices: []string{"login_locked"},
		},
		{
			name: "two wrong, then the right one changes it",
			steps: []step{
				{current: wrongPassw, want: "current_password:password.current_wrong"},
				{current: wrongPassw, want: "current_password:password.current_wrong"},
				{current: sst.Password},
			},
			changed: true,
			audit:   []string{"password.change_failed", "password.change_failed", "password.changed"},
			notices: []string{"password_changed"},
		},
		{
			name: "wrong sign-ins lock the change too",
			steps: []step{
				{signIn: wrongPassw}, {signIn: wrongPassw}, {signIn: wrongPassw},
				{current: sst.Password, want: "current_password:login.locked"},
			},
			audit: []string{"login.failure", "login.failure", "login.failure", "login.locked",
				"password.change_blocked"},
			notices: []string{"login_locked"},
		},
		{
			name: "wrong changes lock the sign-in too",
			steps: []step{
				{current: wrongPassw, want: "current_password:password.current_wrong"},
				{current: wrongPassw, want: "current_password:password.current_wrong"},
				{current: wrongPassw, want: "current_password:login.locked"},
				{signIn: sst.Password},
			},
			audit: []string{"password.change_failed", "password.change_failed", "password.change_failed", "login.locked",
				"login.blocked_attempt"},
			notices: []string{"login_locked"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, s := newPasswordEnv(t)
			for i, st := range tc.steps {
				if st.signIn != "" {
					signIn(t, env, s, st.signIn)
					continue
				}
				v, err := s.ChangePassword(context.Background(), s.accountID, changeInput(st.current), sst.Meta)
				if err != nil {
					t.Fatal(err)
				}
				got := ""
				if errs := errorCodes(v); len(errs) > 0 {
					got = errs[0]
				}
				if got != st.want || len(v.Errors) > 1 {
					t.Errorf("step %d: errors %v, want %q", i+1, errorCodes(v), st.want)
				}
				for _, e := range v.Errors {
					if e.Text == "" || e.Text == "err."+e.Code {
						t.Errorf("step %d: %s has no text", i+1, e.Code)
					}
				}
			}
			if got := env.PasswordMatches(t, s.accountID, newPassw); got != tc.changed {
				t.Errorf("changed = %v, want %v", got, tc.changed)
			}
			if got := env.AuditTypes(t, s.accountID); !slices.Equal(got, tc.audit) {
				t.Errorf("audit = %v, want %v", got, tc.audit)
			}
			if got := env.Sent.Templates(pwPhone); !slices.Equal(got, tc.notices) {
				t.Errorf("notices = %v, want %v", got, tc.notices)
			}
		})
	}
}

// TestChangePasswordParallelGuesses: 20 wrong guesses at once compare at
// most three passwords (each compared wrong one is a change_failed event);
// the counter is taken before the comparison.
func TestChangePasswordParallelGuesses(t *testing.T) {
	env, s := newPasswordEnv(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.ChangePassword(context.Background(), s.accountID, changeInput(wrongPassw), sst.Meta); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, typ := range env.AuditTypes(t, s.accountID) {
		count[typ]++
	}
	// The refused guesses are one event with a count (#10: a flood must not
	// push the citizen's history out of the activity log).
	if count["password.change_failed"] > 3 || count["password.change_blocked"] != 1 || count["login.locked"] != 1 {
		t.Errorf("audit counts %v: want at most 3 compared, one event for the refused ones, one lock", count)
	}
	v, err := s.ChangePassword(context.Background(), s.accountID, changeInput(sst.Password), sst.Meta)
	if err != nil {
		t.Fatal(err)
	}
	if got := errorCodes(v); !slices.Equal(got, []string{"current_password:login.locked"}) {
		t.Errorf("the right password after the flood: %v", got)
	}
	if env.PasswordMatches(t, s.accountID, newPassw) {
		t.Error("the password was changed while locked")
	}
}

func newPasswordEnv(t *testing.T) (*sst.Env, *pwService) {
	t.Helper()
	env := sst.New(t)
	a := env.NewAccount(t, pwPhone, "")
	return env, &pwService{Service: New(Deps{Engine: env.Engine, Notifier: env.Sent}), accountID: a.ID}
}

type pwService struct {
	*Service
	accountID string
}
