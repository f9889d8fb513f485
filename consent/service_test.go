package consent_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gosid/gosid/consent"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/storage/sqlstore"
)

// tokens is the OAuth side: which clients hold grants, and what was revoked.
type tokens struct {
	holding map[string][]string
	revoked []string
	fail    error
}

func (t *tokens) ClientsWithGrants(_ context.Context, subject string) ([]string, error) {
	return t.holding[subject], nil
}

func (t *tokens) RevokeSubject(_ context.Context, subject, clientID string) error {
	if t.fail != nil {
		return t.fail
	}
	t.revoked = append(t.revoked, subject+"/"+clientID)
	return nil
}

func newService(t *testing.T, tk *tokens) (*consent.Service, consent.Store) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	return consent.New(db, tk, func() time.Time { return now }), db
}

func TestCoversAndRemember(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, &tokens{})
	steps := []struct {
		remember []string // scopes agreed to first (nil: nothing)
		ask      []string
		want     bool
	}{
		{nil, []string{"openid"}, false},
		{[]string{"openid", "profile"}, []string{"openid"}, true},
		{nil, []string{"openid", "profile"}, true},
		{nil, []string{"openid", "email"}, false},
		{[]string{"email"}, []string{"openid", "profile", "email"}, true}, // earlier scopes are kept
		{nil, []string{}, true},
	}
	for i, st := range steps {
		if st.remember != nil {
			if err := s.Remember(ctx, "acct-a", "svc", st.remember); err != nil {
				t.Fatalf("step %d: Remember: %v", i, err)
			}
		}
		got, err := s.Covers(ctx, "acct-a", "svc", st.ask)
		if err != nil || got != st.want {
			t.Errorf("step %d: Covers(%v) = %v, %v; want %v", i, st.ask, got, err, st.want)
		}
	}
	if ok, _ := s.Covers(ctx, "acct-b", "svc", []string{"openid"}); ok {
		t.Error("one citizen's consent covers another's")
	}
	if ok, _ := s.Covers(ctx, "acct-a", "other", []string{"openid"}); ok {
		t.Error("a consent to one service covers another")
	}
}

func TestConnectedAndRevoke(t *testing.T) {
	ctx := context.Background()
	tk := &tokens{holding: map[string][]string{"acct-a": {"svc", "first-party"}}}
	s, store := newService(t, tk)
	if err := s.Remember(ctx, "acct-a", "svc", []string{"openid", "profile"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Connected(ctx, "acct-a")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ClientID)
	}
	if !slices.Equal(ids, []string{"svc", "first-party"}) || !slices.Equal(list[0].Scopes, []string{"openid", "profile"}) {
		t.Fatalf("Connected = %+v; want the consented service with its scopes, then the first-party one once", list)
	}

	if err := s.Revoke(ctx, "acct-a", "unknown"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Revoke of a service that holds nothing = %v, want ErrNotFound", err)
	}
	tk.fail = errors.New("deny-list down")
	if err := s.Revoke(ctx, "acct-a", "svc"); err == nil {
		t.Fatal("Revoke succeeded while the tokens could not be revoked")
	}
	if _, err := store.GetConsent(ctx, "acct-a", "svc"); err != nil {
		t.Errorf("a failed revocation removed the consent (%v): the service would keep its tokens unseen", err)
	}
	tk.fail = nil
	if err := s.Revoke(ctx, "acct-a", "svc"); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := store.GetConsent(ctx, "acct-a", "svc"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("consent after Revoke: %v, want ErrNotFound", err)
	}
	if err := s.Revoke(ctx, "acct-a", "first-party"); err != nil {
		t.Errorf("Revoke of a service holding only a grant: %v", err)
	}
	if !slices.Equal(tk.revoked, []string{"acct-a/svc", "acct-a/first-party"}) {
		t.Errorf("revoked = %v", tk.revoked)
	}
}
