package sqlstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/federation"
	"github.com/gosid/gosid/storage"
)

// TestBankLinks: a bank identity backs one account, even when two
// accounts race for it; an account links several banks; links go with
// the account.
func TestBankLinks(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func(tb testing.TB) *Store) {
		s := open(t)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		for _, id := range []string{"acc1", "acc2"} {
			a := &account.Account{ID: id, Phone: "+7916000000" + id[3:], PhoneVerified: true, Level: account.LevelStandard,
				Status: account.StatusActive, Locale: "ru", CreatedAt: now, UpdatedAt: now}
			if err := s.CreateAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		link := func(acc, bank, sub string) error {
			return s.CreateLink(ctx, &federation.Link{Bank: bank, Subject: sub, Issuer: "https://" + bank, AccountID: acc, LinkedAt: now})
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, acc := range []string{"acc1", "acc2"} {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = link(acc, "sber", "S-1") }()
		}
		wg.Wait()
		ok, conflict := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, storage.ErrConflict):
				conflict++
			default:
				t.Fatal(err)
			}
		}
		if ok != 1 || conflict != 1 {
			t.Fatalf("two accounts raced for one bank identity: %v", errs)
		}
		l, err := s.LinkBySubject(ctx, "sber", "S-1")
		if err != nil {
			t.Fatal(err)
		}
		owner := l.AccountID
		other := map[string]string{"acc1": "acc2", "acc2": "acc1"}[owner]
		if err := link(other, "tinkoff", "S-1"); err != nil {
			t.Fatalf("the same subject at another bank: %v", err)
		}
		if err := link(owner, "tinkoff", "T-9"); err != nil {
			t.Fatalf("a second bank for one account: %v", err)
		}
		if err := s.TouchLink(ctx, "tinkoff", "T-9", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ls, err := s.ListLinks(ctx, owner)
		if err != nil || len(ls) != 2 || ls[1].LastUsedAt.IsZero() && ls[0].LastUsedAt.IsZero() {
			t.Fatalf("links of %s: %+v %v", owner, ls, err)
		}
		if err := s.DeleteLink(ctx, owner, "sber"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteLink(ctx, owner, "sber"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("unlink twice: %v", err)
		}
		if _, err := s.LinkBySubject(ctx, "sber", "S-1"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("after unlinking: %v", err)
		}
		if err := link(other, "sber", "S-1"); err != nil {
			t.Fatalf("an unlinked identity links again: %v", err)
		}
	})
}
