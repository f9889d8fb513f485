package signin

import (
	"context"
	"testing"

	"github.com/gosid/gosid/selfservice"
)

// TestLiftLockout: a citizen locked out by wrong passwords signs in at once
// once the lockout is lifted (what a recovery does).
func TestLiftLockout(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	acct := env.NewAccount(t, "+79121234589", "")
	wrong := selfservice.Input{"login": acct.Phone, "password": otherPassword}
	for range maxPasswordFailures {
		if _, err := env.s.passwordStep(ctx, wrong, false, testMeta); err != nil {
			t.Fatal(err)
		}
	}
	if res := env.signIn(t, acct.Phone, testPassword, testMeta); res.Code != "login.locked" {
		t.Fatalf("before: %+v", res)
	}
	if err := env.s.LiftLockout(ctx, acct.ID); err != nil {
		t.Fatal(err)
	}
	if res := env.signIn(t, acct.Phone, testPassword, testMeta); res.Account == nil {
		t.Errorf("after the lockout was lifted: %+v", res)
	}
}
