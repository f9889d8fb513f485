package conformance

import (
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
}

func durAccount(id, phone, email string) *account.Account {
	return &account.Account{ID: id, Phone: phone, PhoneVerified: phone != "", Email: email, EmailVerified: email != "",
		FamilyName: "Иванов", GivenName: "Иван", MiddleName: "Иванович", PasswordHash: "$argon2id$v=19$x",
		PasswordChangedAt: durNow.Add(-time.Hour), Level: account.LevelSimplified, Status: account.StatusActive,
		Locale: "ru", CreatedAt: durNow, UpdatedAt: durNow.Add(time.Second),
		LoginNotice: "email", MFADeclinedAt: durNow.Add(-time.Minute)}
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
	durWant(t, "UpdateAccount to a taken phone", s.UpdateAccount(ctx, b), storage.ErrConflict)
	b = durAccount("a2", "+79000000002", "a@example.ru")
	durWant(t, "UpdateAccount to a taken e-mail", s.UpdateAccount(ctx, b), storage.ErrConflict)
	got, err := s.GetAccount(ctx, "a2")
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	durSame(t, "account after refused updates", got, durAccount("a2", "+79000000002", "b@example.ru"))
	durWant(t, "UpdateAccount of an unknown id", s.UpdateAccount(ctx, durAccount("nope", "", "")), storage.ErrNotFound)
}

func durAccountUpdate(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", "a@example.ru"), durAccount("a2", "+79000000002", ""))
	// a1 gives up its phone and changes everything else ...
	a := &account.Account{ID: "a1", Email: "new@example.ru", EmailVerified: true, FamilyName: "Петров",
		GivenName: "Пётр", PasswordHash: "$argon2id$v=19$y", PasswordChangedAt: durNow.Add(time.Minute),
		Level: account.LevelConfirmed, Status: account.StatusBlocked, Locale: "en", CreatedAt: durNow,
		UpdatedAt: durNow.Add(time.Hour)}
	if err := s.UpdateAccount(ctx, a); err != nil {
		t.Fatalf("UpdateAccount: %v", err)
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
	if err := s.UpdateAccount(ctx, durAccount("a2", "+79000000001", "a@example.ru")); err != nil {
		t.Fatalf("UpdateAccount to released contacts: %v", err)
	}
	if got, err := s.FindAccountByPhone(ctx, "+79000000001"); err != nil || got.ID != "a2" {
		t.Fatalf("FindAccountByPhone after the move: %+v, %v", got, err)
	}
}
