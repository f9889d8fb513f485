package conformance

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/storage"
)

var durFactorCases = []durCase{
	{"RoundTrip", durFactorRoundTrip},
	{"OncePerKind", durFactorOncePerKind},
	{"RecoveryCodes", durRecoveryCodes},
	{"RecoveryCodeRace", durRecoveryCodeRace},
}

var durSessionCases = []durCase{
	{"Index", durSessionIndex},
}

func durFactorRoundTrip(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""), durAccount("a2", "+79000000002", ""))
	totp := &mfa.Factor{ID: "f1", AccountID: "a1", Kind: mfa.KindTOTP, Secret: []byte("sealed"), CreatedAt: durNow}
	key := &mfa.Factor{ID: "f2", AccountID: "a1", Kind: mfa.KindWebAuthn, Name: "YubiKey", Secret: []byte(`{"k":1}`),
		CredentialID: "cred-1", CreatedAt: durNow.Add(time.Second)}
	other := &mfa.Factor{ID: "f3", AccountID: "a2", Kind: mfa.KindSMS, CreatedAt: durNow}
	for _, f := range []*mfa.Factor{totp, key, other} {
		if err := s.AddFactor(ctx, f); err != nil {
			t.Fatalf("AddFactor %s: %v", f.ID, err)
		}
	}
	got, err := s.ListFactors(ctx, "a1")
	if err != nil || len(got) != 2 {
		t.Fatalf("ListFactors = %d, %v; want 2", len(got), err)
	}
	durSame(t, "totp factor", got[0], totp)
	durSame(t, "webauthn factor", got[1], key)

	used := durNow.Add(time.Hour)
	if err := s.UpdateFactorUse(ctx, "a1", "f2", used, []byte(`{"k":2}`)); err != nil {
		t.Fatalf("UpdateFactorUse: %v", err)
	}
	if err := s.UpdateFactorUse(ctx, "a2", "f2", used, nil); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateFactorUse of another account's factor = %v, want ErrNotFound", err)
	}
	got, _ = s.ListFactors(ctx, "a1")
	if string(got[1].Secret) != `{"k":2}` || !durSameTime(got[1].LastUsedAt, used) {
		t.Fatalf("after use: secret %q last used %v", got[1].Secret, got[1].LastUsedAt)
	}
	if err := s.DeleteFactor(ctx, "a2", "f1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteFactor of another account's factor = %v, want ErrNotFound", err)
	}
	if err := s.DeleteFactor(ctx, "a1", "f1"); err != nil {
		t.Fatalf("DeleteFactor: %v", err)
	}
	if err := s.DeleteFactors(ctx, "a1"); err != nil {
		t.Fatalf("DeleteFactors: %v", err)
	}
	if got, _ := s.ListFactors(ctx, "a1"); len(got) != 0 {
		t.Fatalf("after DeleteFactors: %d factors", len(got))
	}
	if got, _ := s.ListFactors(ctx, "a2"); len(got) != 1 {
		t.Fatalf("another account's factors were touched: %d", len(got))
	}
}

func durFactorOncePerKind(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""), durAccount("a2", "+79000000002", ""))
	if err := s.AddFactor(ctx, &mfa.Factor{ID: "f1", AccountID: "a1", Kind: mfa.KindTOTP, CreatedAt: durNow}); err != nil {
		t.Fatal(err)
	}
	err := s.AddFactor(ctx, &mfa.Factor{ID: "f2", AccountID: "a1", Kind: mfa.KindTOTP, CreatedAt: durNow})
	durWant(t, "second authenticator", err, storage.ErrConflict)
	for i, acct := range []string{"a1", "a1", "a2"} {
		err := s.AddFactor(ctx, &mfa.Factor{ID: fmt.Sprint("k", i), AccountID: acct, Kind: mfa.KindWebAuthn,
			CredentialID: fmt.Sprint("cred-", i), CreatedAt: durNow})
		if err != nil {
			t.Fatalf("security key %d: %v", i, err)
		}
	}
	err = s.AddFactor(ctx, &mfa.Factor{ID: "k9", AccountID: "a2", Kind: mfa.KindWebAuthn, CredentialID: "cred-0", CreatedAt: durNow})
	durWant(t, "a credential registered twice", err, storage.ErrConflict)
}

func durRecoveryCodes(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""), durAccount("a2", "+79000000002", ""))
	if err := s.ReplaceRecoveryCodes(ctx, "a1", []string{"h1", "h2", "h3"}, durNow); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, "a1"); err != nil || n != 3 {
		t.Fatalf("left = %d, %v; want 3", n, err)
	}
	if ok, err := s.UseRecoveryCode(ctx, "a2", "h1", durNow); err != nil || ok {
		t.Fatalf("another account's code accepted: %v %v", ok, err)
	}
	if ok, err := s.UseRecoveryCode(ctx, "a1", "h1", durNow); err != nil || !ok {
		t.Fatalf("first use = %v, %v", ok, err)
	}
	if ok, _ := s.UseRecoveryCode(ctx, "a1", "h1", durNow); ok {
		t.Fatal("a recovery code was accepted twice")
	}
	if n, _ := s.RecoveryCodesLeft(ctx, "a1"); n != 2 {
		t.Fatalf("left = %d, want 2", n)
	}
	if err := s.ReplaceRecoveryCodes(ctx, "a1", []string{"h4"}, durNow); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.UseRecoveryCode(ctx, "a1", "h2", durNow); ok {
		t.Fatal("a replaced recovery code still works")
	}
	if n, _ := s.RecoveryCodesLeft(ctx, "a1"); n != 1 {
		t.Fatalf("left after replace = %d, want 1", n)
	}
}

func durRecoveryCodeRace(t *testing.T, s Durable) {
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""))
	if err := s.ReplaceRecoveryCodes(t.Context(), "a1", []string{"h1"}, durNow); err != nil {
		t.Fatal(err)
	}
	wins := durRace(t, durContenders, errLost, func(int) error {
		ok, err := s.UseRecoveryCode(t.Context(), "a1", "h1", durNow)
		if err == nil && !ok {
			return errLost
		}
		return err
	})
	if wins != 1 {
		t.Fatalf("%d concurrent uses of one recovery code succeeded, want 1", wins)
	}
}

func durSessionIndex(t *testing.T, s Durable) {
	ctx := t.Context()
	mk := func(id, acct string, seen time.Duration, exp time.Duration) *account.SessionRecord {
		return &account.SessionRecord{ID: id, AccountID: acct, KeyHash: "hash-" + id, AMR: []string{"pwd", "otp", "mfa"},
			IP: "192.0.2.1", UserAgent: "Firefox", Location: "Moscow", CreatedAt: durNow,
			LastSeenAt: durNow.Add(seen), ExpiresAt: durNow.Add(exp)}
	}
	old, recent, expired, other := mk("s1", "a1", time.Minute, time.Hour), mk("s2", "a1", 2*time.Minute, time.Hour),
		mk("s3", "a1", 3*time.Minute, -time.Second), mk("s4", "a2", time.Minute, time.Hour)
	for _, r := range []*account.SessionRecord{old, recent, expired, other} {
		if err := s.SaveSession(ctx, r); err != nil {
			t.Fatalf("SaveSession: %v", err)
		}
	}
	got, err := s.ListSessions(ctx, "a1", durNow)
	if err != nil || len(got) != 2 {
		t.Fatalf("ListSessions = %d, %v; want the 2 unexpired", len(got), err)
	}
	durSame(t, "most recent first", got[0], recent)
	durSame(t, "then older", got[1], old)

	if err := s.TouchSession(ctx, "s1", durNow.Add(5*time.Minute), "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, "missing", durNow, ""); err != nil {
		t.Fatalf("TouchSession of a missing entry: %v", err)
	}
	got, _ = s.ListSessions(ctx, "a1", durNow)
	if got[0].ID != "s1" || got[0].IP != "198.51.100.7" {
		t.Fatalf("after touch: first %s ip %s", got[0].ID, got[0].IP)
	}
	if _, err := s.DeleteSession(ctx, "a2", "s1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteSession of another account's session = %v, want ErrNotFound", err)
	}
	del, err := s.DeleteSession(ctx, "a1", "s1")
	if err != nil || del.KeyHash != "hash-s1" {
		t.Fatalf("DeleteSession = %+v, %v", del, err)
	}
	if got, _ := s.ListSessions(ctx, "a1", durNow); len(got) != 1 {
		t.Fatalf("after delete: %d sessions", len(got))
	}
}
