package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/storage"
)

var durTxCases = []durCase{
	{"Commit", durTxCommit},
	{"ErrorLeavesNeither", durTxErrorLeavesNeither},
	{"NestedJoinsOuter", durTxNested},
}

var errDurAbort = errors.New("abort the transaction")

// durTxCommit: writes to several tables made in one transaction are all
// there afterwards, and reads inside it see them.
func durTxCommit(t *testing.T, s Durable) {
	ctx := t.Context()
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.CreateAccount(ctx, durAccount("a1", "+79000000001", "")); err != nil {
			return err
		}
		if _, err := s.GetAccount(ctx, "a1"); err != nil {
			return err
		}
		if err := s.SaveConsent(ctx, durGrant("a1", "c1", "openid")); err != nil {
			return err
		}
		return s.AppendEvent(ctx, &audit.Event{AccountID: "a1", Type: "account.created", At: durNow})
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if _, err := s.GetAccount(ctx, "a1"); err != nil {
		t.Fatalf("account written in the transaction: %v", err)
	}
	if _, err := s.GetConsent(ctx, "a1", "c1"); err != nil {
		t.Fatalf("consent written in the transaction: %v", err)
	}
	if evs, err := s.ListEvents(ctx, "a1", 0, 10); err != nil || len(evs) != 1 {
		t.Fatalf("events written in the transaction: %d, %v", len(evs), err)
	}
}

// durTxErrorLeavesNeither: an error after the first of two writes (in two
// tables) leaves neither, and comes back as it was.
func durTxErrorLeavesNeither(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", "a@example.ru"))
	err := s.InTx(ctx, func(ctx context.Context) error {
		_, err := s.UpdateAccount(ctx, "a1", func(a *account.Account) error {
			a.Level, a.GivenName = account.LevelStandard, "Пётр"
			return nil
		})
		if err != nil {
			return err
		}
		if err := s.SaveConsent(ctx, durGrant("a1", "c1", "openid")); err != nil {
			return err
		}
		return errDurAbort
	})
	durWant(t, "InTx with a failing function", err, errDurAbort)
	got, err := s.GetAccount(ctx, "a1")
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	durSame(t, "account after a rolled back transaction", got, durAccount("a1", "+79000000001", "a@example.ru"))
	_, err = s.GetConsent(ctx, "a1", "c1")
	durWant(t, "consent of a rolled back transaction", err, storage.ErrNotFound)
}

// durTxNested: an InTx inside another is part of the outer one: it commits
// or rolls back with it.
func durTxNested(t *testing.T, s Durable) {
	ctx := t.Context()
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.InTx(ctx, func(ctx context.Context) error {
			return s.CreateAccount(ctx, durAccount("a1", "+79000000001", ""))
		}); err != nil {
			return err
		}
		return errDurAbort
	})
	durWant(t, "outer InTx", err, errDurAbort)
	_, err = s.GetAccount(ctx, "a1")
	durWant(t, "account written by an inner InTx of a rolled back outer", err, storage.ErrNotFound)
	// An account update inside a transaction (its own transaction joins).
	err = s.InTx(ctx, func(ctx context.Context) error {
		if err := s.CreateAccount(ctx, durAccount("a2", "+79000000002", "")); err != nil {
			return err
		}
		_, err := s.UpdateAccount(ctx, "a2", func(a *account.Account) error {
			a.Locale = "en"
			return nil
		})
		return err
	})
	if err != nil {
		t.Fatalf("InTx with an update: %v", err)
	}
	if got, err := s.GetAccount(ctx, "a2"); err != nil || got.Locale != "en" || got.Version != 1 {
		t.Fatalf("account created and updated in one transaction: %+v, %v", got, err)
	}
}
