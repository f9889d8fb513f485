package signin

import (
	"context"
	"fmt"
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
	if err := env.s.LiftLockout(ctx, acct.ID, ""); err != nil {
		t.Fatal(err)
	}
	if res := env.signIn(t, acct.Phone, testPassword, testMeta); res.Account == nil {
		t.Errorf("after the lockout was lifted: %+v", res)
	}
}

// TestStrangerCannotLockOwnerOut: a stranger who knows the phone number
// locks password sign-in for every unknown device with three guesses (and
// keeps it locked), but the owner on a browser or app that signed in to the
// account before has a budget of their own and signs in; a wrong password
// on that device counts against that device only.
func TestStrangerCannotLockOwnerOut(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	acct := env.NewAccount(t, "+79121234590", "")

	// The owner signed in from this device before.
	st, err := env.s.StartSession(ctx, selfservice.SessionStart{Account: acct, AMR: []string{"pwd"},
		Reason: selfservice.SignIn}, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	owner := testMeta
	owner.Device = st.Device
	stranger := testMeta
	stranger.IP = "203.0.113.9"

	wrong := selfservice.Input{"login": acct.Phone, "password": otherPassword}
	for i := range 10 {
		s := stranger // from many addresses, past the per-address limit
		s.IP = fmt.Sprintf("198.51.100.%d", i+1)
		if i%2 == 1 {
			s.Device = selfservice.RandomToken(32) // a device id gosid never saw for this account
		}
		if _, err := env.s.passwordStep(ctx, wrong, false, s); err != nil {
			t.Fatal(err)
		}
	}
	if res := env.signIn(t, acct.Phone, testPassword, stranger); res.Code != "login.locked" {
		t.Fatalf("a new device during the attack: %+v; want locked", res)
	}
	if res := env.signIn(t, acct.Phone, testPassword, owner); res.Account == nil || res.Account.ID != acct.ID {
		t.Fatalf("the owner on a known device during the attack: %+v; want signed in", res)
	}

	// The owner's own mistakes lock the owner's device, not more.
	for range maxPasswordFailures {
		if _, err := env.s.passwordStep(ctx, wrong, false, owner); err != nil {
			t.Fatal(err)
		}
	}
	if res := env.signIn(t, acct.Phone, testPassword, owner); res.Code != "login.locked" {
		t.Fatalf("the known device after its own three failures: %+v; want locked", res)
	}
	// Recovery from that device lifts its lock too.
	if err := env.s.LiftLockout(ctx, acct.ID, owner.Device); err != nil {
		t.Fatal(err)
	}
	if res := env.signIn(t, acct.Phone, testPassword, owner); res.Account == nil {
		t.Fatalf("the known device after recovery: %+v", res)
	}
}
