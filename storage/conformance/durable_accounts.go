package conformance

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/storage"
)

var durAccountCases = []durCase{
	{"RoundTrip", durAccountRoundTrip},
	{"Lookups", durAccountLookups},
	{"CreateConflicts", durAccountCreateConflicts},
	{"UpdateConflicts", durAccountUpdateConflicts},
	{"Update", durAccountUpdate},
	{"ConcurrentUpdates", durAccountConcurrentUpdates},
	{"UpdaterError", durAccountUpdaterError},
}

func durAccount(id, phone, email string) *account.Account {
	return &account.Account{ID: id, Phone: phone, PhoneVerified: phone != "", Email: email, EmailVerified: email != "",
		FamilyName: "Иванов", GivenName: "Иван", MiddleName: "Иванович", PasswordHash: "$argon2id$v=19$x",
		PasswordChangedAt: durNow.Add(-time.Hour), Level: account.LevelSimplified, Status: account.StatusActive,
		Locale: "ru", CreatedAt: durNow, UpdatedAt: durNow.Add(time.Second),
		MFADeclinedAt: durNow.Add(-time.Minute), NotifyPrefs: `{"login":["email"]}`}
}

// durReplace overwrites every field of the stored account with want's
// through the updater, and sets want.Version to what the write should give.
func durReplace(t *testing.T, s Durable, want *account.Account) error {
	t.Helper()
	got, err := s.UpdateAccount(t.Context(), want.ID, func(a *account.Account) error {
		v := a.Version
		*a = *want
		a.Version = v
		return nil
	})
	if err == nil {
		want.Version = got.Version
	}
	return err
}

func durCreateAccounts(t *testing.T, s Durable, accts ...*account.Account) {
	t.Helper()
	for _, a := range accts {
		if err := s.CreateAccount(t.Context(), a); err != nil {
			t.Fatalf("CreateAccount %s: %v", a.ID, err)
		}
	}
}

func durAccountRoundTrip(t *testing.T, s Durable) {
	ctx := t.Context()
	full := durAccount("a1", "+79000000001", "a@example.ru")
	// A zero time (never changed a password) stays zero.
	bare := &account.Account{ID: "a2", Level: account.LevelStandard, Status: account.StatusBlocked, Locale: "en",
		CreatedAt: durNow, UpdatedAt: durNow}
	durCreateAccounts(t, s, full, bare)
	for _, want := range []*account.Account{full, bare} {
		got, err := s.GetAccount(ctx, want.ID)
		if err != nil {
			t.Fatalf("GetAccount: %v", err)
		}
		durSame(t, "account round trip", got, want)
	}
}

func durAccountLookups(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", "a@example.ru"), durAccount("a2", "", "b@example.ru"),
		durAccount("a3", "+79000000003", ""))
	for _, tc := range []struct {
		what, id string
		find     func() (*account.Account, error)
	}{
		{"by phone", "a1", func() (*account.Account, error) { return s.FindAccountByPhone(ctx, "+79000000001") }},
		{"by phone, no e-mail", "a3", func() (*account.Account, error) { return s.FindAccountByPhone(ctx, "+79000000003") }},
		{"by e-mail", "a1", func() (*account.Account, error) { return s.FindAccountByEmail(ctx, "a@example.ru") }},
		{"by e-mail, no phone", "a2", func() (*account.Account, error) { return s.FindAccountByEmail(ctx, "b@example.ru") }},
		{"by id", "a2", func() (*account.Account, error) { return s.GetAccount(ctx, "a2") }},
	} {
		got, err := tc.find()
		if err != nil || got.ID != tc.id {
			t.Fatalf("%s: %+v, %v; want %s", tc.what, got, err, tc.id)
		}
		durSame(t, tc.what, got, durAccount(tc.id, got.Phone, got.Email))
	}
	for _, tc := range []struct {
		what string
		find func() (*account.Account, error)
	}{
		{"unknown id", func() (*account.Account, error) { return s.GetAccount(ctx, "nope") }},
		{"unknown phone", func() (*account.Account, error) { return s.FindAccountByPhone(ctx, "+79999999999") }},
		{"unknown e-mail", func() (*account.Account, error) { return s.FindAccountByEmail(ctx, "x@example.ru") }},
		// Accounts without a phone or e-mail must not be found by "".
		{"empty phone", func() (*account.Account, error) { return s.FindAccountByPhone(ctx, "") }},
		{"empty e-mail", func() (*account.Account, error) { return s.FindAccountByEmail(ctx, "") }},
	} {
		_, err := tc.find()
		durWant(t, tc.what, err, storage.ErrNotFound)
	}
}

func durAccountCreateConflicts(t *testing.T, s Durable) {
	ctx := t.Context()
	// Many accounts without a phone, or without an e-mail, do not collide.
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", "a@example.ru"), durAccount("a2", "", "b@example.ru"),
		durAccount("a3", "", "c@example.ru"), durAccount("a4", "+79000000004", ""), durAccount("a5", "+79000000005", ""))
	for _, tc := range []struct {
		what string
		a    *account.Account
	}{
		{"taken id", durAccount("a1", "+79000000099", "z@example.ru")},
		{"taken phone", durAccount("x1", "+79000000001", "")},
		{"taken e-mail", durAccount("x2", "", "a@example.ru")},
		{"taken phone of an account without e-mail", durAccount("x3", "+79000000004", "new@example.ru")},
	} {
		durWant(t, "CreateAccount with a "+tc.what, s.CreateAccount(ctx, tc.a), storage.ErrConflict)
		if _, err := s.GetAccount(ctx, tc.a.ID); tc.a.ID != "a1" && err == nil {
			t.Fatalf("CreateAccount with a %s stored the account", tc.what)
		}
	}
}

func durAccountUpdateConflicts(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", "a@example.ru"), durAccount("a2", "+79000000002", "b@example.ru"))
	b := durAccount("a2", "+79000000001", "b@example.ru")
	durWant(t, "UpdateAccount to a taken phone", durReplace(t, s, b), storage.ErrConflict)
	b = durAccount("a2", "+79000000002", "a@example.ru")
	durWant(t, "UpdateAccount to a taken e-mail", durReplace(t, s, b), storage.ErrConflict)
	got, err := s.GetAccount(ctx, "a2")
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	durSame(t, "account after refused updates", got, durAccount("a2", "+79000000002", "b@example.ru"))
	called := false
	_, err = s.UpdateAccount(ctx, "nope", func(*account.Account) error { called = true; return nil })
	durWant(t, "UpdateAccount of an unknown id", err, storage.ErrNotFound)
	if called {
		t.Fatal("UpdateAccount of an unknown id called the updater")
	}
}

func durAccountUpdate(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", "a@example.ru"), durAccount("a2", "+79000000002", ""))
	// a1 gives up its phone and changes everything else ...
	a := &account.Account{ID: "a1", Email: "new@example.ru", EmailVerified: true, FamilyName: "Петров",
		GivenName: "Пётр", PasswordHash: "$argon2id$v=19$y", PasswordChangedAt: durNow.Add(time.Minute),
		Level: account.LevelConfirmed, Status: account.StatusBlocked, Locale: "en", CreatedAt: durNow,
		UpdatedAt: durNow.Add(time.Hour)}
	if err := durReplace(t, s, a); err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	if a.Version != 1 {
		t.Fatalf("version after one update: %d, want 1", a.Version)
	}
	got, err := s.GetAccount(ctx, "a1")
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	durSame(t, "updated account", got, a)
	// ... so the phone and the old e-mail are free for others, and the old
	// values no longer find a1.
	_, err = s.FindAccountByPhone(ctx, "+79000000001")
	durWant(t, "FindAccountByPhone of a released phone", err, storage.ErrNotFound)
	_, err = s.FindAccountByEmail(ctx, "a@example.ru")
	durWant(t, "FindAccountByEmail of a released e-mail", err, storage.ErrNotFound)
	if err := durReplace(t, s, durAccount("a2", "+79000000001", "a@example.ru")); err != nil {
		t.Fatalf("UpdateAccount to released contacts: %v", err)
	}
	if got, err := s.FindAccountByPhone(ctx, "+79000000001"); err != nil || got.ID != "a2" {
		t.Fatalf("FindAccountByPhone after the move: %+v, %v", got, err)
	}
}

// durAccountConcurrentUpdates: updaters of one account running together
// each change something else; none may overwrite another's change with
// what it read before.
func durAccountConcurrentUpdates(t *testing.T, s Durable) {
	ctx := t.Context()
	orig := durAccount("a1", "+79000000001", "a@example.ru")
	orig.NotifyPrefs = ""
	durCreateAccounts(t, s, orig)
	// The first few change a column each; every one adds its own entry to
	// the stored preferences (an opaque string to the store), so that each
	// of the 50 changes a different part of the row.
	columns := []func(a *account.Account){
		func(a *account.Account) { a.GivenName = "Пётр" },
		func(a *account.Account) { a.FamilyName = "Петров" },
		func(a *account.Account) { a.MiddleName = "Петрович" },
		func(a *account.Account) { a.Locale = "en" },
		func(a *account.Account) { a.Level = account.LevelStandard },
		func(a *account.Account) { a.PasswordHash = "$argon2id$v=19$z" },
		func(a *account.Account) { a.Phone = "+79000000009" },
		func(a *account.Account) { a.Email = "z@example.ru" },
		func(a *account.Account) { a.MFADeclinedAt = durNow.Add(time.Hour) },
	}
	wins := durRace(t, durContenders, nil, func(i int) error {
		_, err := s.UpdateAccount(ctx, "a1", func(a *account.Account) error {
			if i < len(columns) {
				columns[i](a)
			}
			prefs := map[string]int{}
			if err := json.Unmarshal([]byte(cmp.Or(a.NotifyPrefs, "{}")), &prefs); err != nil {
				return err
			}
			prefs[fmt.Sprintf("e%02d", i)] = i
			raw, err := json.Marshal(prefs)
			a.NotifyPrefs = string(raw)
			return err
		})
		return err
	})
	if wins != durContenders {
		t.Fatalf("%d of %d updates succeeded", wins, durContenders)
	}
	got, err := s.GetAccount(ctx, "a1")
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	want := durAccount("a1", "+79000000001", "a@example.ru")
	for _, set := range columns {
		set(want)
	}
	prefs := map[string]int{}
	for i := range durContenders {
		prefs[fmt.Sprintf("e%02d", i)] = i
	}
	var gotPrefs map[string]int
	if err := json.Unmarshal([]byte(got.NotifyPrefs), &gotPrefs); err != nil || !reflect.DeepEqual(gotPrefs, prefs) {
		t.Fatalf("preferences after %d updates: %s (%v); some were lost", durContenders, got.NotifyPrefs, err)
	}
	want.NotifyPrefs, want.Version = got.NotifyPrefs, durContenders
	durSame(t, "account after concurrent updates", got, want)
}

// durAccountUpdaterError: an updater that fails after changing the account
// leaves the stored one as it was, version included.
func durAccountUpdaterError(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", "a@example.ru"))
	boom := errors.New("updater refused")
	got, err := s.UpdateAccount(ctx, "a1", func(a *account.Account) error {
		a.GivenName, a.Level, a.Phone = "Пётр", account.LevelConfirmed, ""
		return boom
	})
	if !errors.Is(err, boom) || got != nil {
		t.Fatalf("UpdateAccount with a failing updater: %+v, %v; want nil, %v", got, err, boom)
	}
	after, err := s.GetAccount(ctx, "a1")
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	durSame(t, "account after a failed updater", after, durAccount("a1", "+79000000001", "a@example.ru"))
}
