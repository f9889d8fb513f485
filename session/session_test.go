package session_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage/sqlstore"
)

func newStore(t *testing.T) *session.Store {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return session.NewStore(session.Options{Ephemeral: db, Index: db, TTL: time.Hour, Cookie: "gosid_session",
		Locate: func(ip string) string { return "place of " + ip }})
}

func create(t *testing.T, s *session.Store, accountID string) (string, *session.Session) {
	t.Helper()
	now := time.Now().UTC()
	sess := &session.Session{AccountID: accountID, AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, IP: "192.0.2.1"}
	secret, err := s.Create(context.Background(), sess)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return secret, sess
}

func TestSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	secret, sess := create(t, s, "acct-a")
	if sess.ID == "" || secret == "" || strings.Contains(secret, sess.ID) {
		t.Fatalf("Create gave id %q and secret %q: want both, unrelated", sess.ID, secret)
	}
	got, err := s.ByToken(ctx, secret)
	if err != nil || got == nil || got.ID != sess.ID || got.AccountID != "acct-a" {
		t.Fatalf("ByToken(secret) = %+v, %v; want the session", got, err)
	}
	for _, bad := range []string{"", "nope", strings.Repeat("x", 101), sess.ID} {
		if got, err := s.ByToken(ctx, bad); err != nil || got != nil {
			t.Errorf("ByToken(%q) = %+v, %v; want nothing", bad, got, err)
		}
	}

	r := httptest.NewRequest("GET", "/account", nil)
	r.Header.Set("Cookie", "gosid_session="+secret)
	if s.Secret(r) != secret {
		t.Errorf("Secret(request) = %q, want the cookie's value", s.Secret(r))
	}
	if cur, err := s.Current(r); err != nil || cur == nil || cur.ID != sess.ID {
		t.Errorf("Current(request) = %+v, %v; want the session", cur, err)
	}

	recs, err := s.List(ctx, "acct-a")
	if err != nil || len(recs) != 1 || recs[0].ID != sess.ID || recs[0].Location != "place of 192.0.2.1" {
		t.Fatalf("List = %+v, %v; want the one session with its place", recs, err)
	}
	if err := s.EndToken(ctx, secret); err != nil {
		t.Fatalf("EndToken: %v", err)
	}
	if got, _ := s.ByToken(ctx, secret); got != nil {
		t.Error("an ended session still works")
	}
	if recs, _ := s.List(ctx, "acct-a"); len(recs) != 0 {
		t.Errorf("List after EndToken = %d entries, want 0", len(recs))
	}
}

func TestEndAllAndOthers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	s1, _ := create(t, s, "acct-a")
	s2, sess2 := create(t, s, "acct-a")
	s3, sess3 := create(t, s, "acct-a")
	other, _ := create(t, s, "acct-b")

	n, err := s.EndOthers(ctx, "acct-a", sess3.ID)
	if err != nil || n != 2 {
		t.Fatalf("EndOthers = %d, %v; want 2 ended", n, err)
	}
	for name, tok := range map[string]string{"first": s1, "second": s2} {
		if got, _ := s.ByToken(ctx, tok); got != nil {
			t.Errorf("the %s session survived EndOthers", name)
		}
	}
	if got, _ := s.ByToken(ctx, s3); got == nil {
		t.Error("EndOthers ended the session it was told to keep")
	}
	if err := s.EndByID(ctx, "acct-b", sess2.ID); err == nil {
		t.Error("EndByID ended a session of another account (or found an ended one)")
	}

	epoch, err := s.EndAll(ctx, "acct-a")
	if err != nil || epoch < 1 {
		t.Fatalf("EndAll = %d, %v", epoch, err)
	}
	if got, _ := s.ByToken(ctx, s3); got != nil {
		t.Error("a session survived EndAll")
	}
	if got, _ := s.ByToken(ctx, other); got == nil {
		t.Error("EndAll of one account ended another account's session")
	}
	fresh, sess := create(t, s, "acct-a")
	if sess.Epoch != epoch {
		t.Errorf("a session made after EndAll has epoch %d, want %d", sess.Epoch, epoch)
	}
	if got, _ := s.ByToken(ctx, fresh); got == nil {
		t.Error("a session made after EndAll does not work")
	}
}

func TestRememberDevice(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id, fresh, err := s.RememberDevice(ctx, "acct-a", "")
	if err != nil || !fresh || len(id) != 43 {
		t.Fatalf("first device = %q, %v, %v; want a new 43-character id", id, fresh, err)
	}
	if again, fresh, err := s.RememberDevice(ctx, "acct-a", id); err != nil || fresh || again != id {
		t.Errorf("the same device again = %q, %v, %v; want known, same id", again, fresh, err)
	}
	if _, fresh, _ := s.RememberDevice(ctx, "acct-b", id); !fresh {
		t.Error("a device known to one account is known to another")
	}
	forged, fresh, _ := s.RememberDevice(ctx, "acct-a", "short")
	if !fresh || forged == "short" {
		t.Errorf("a made-up device id was kept (%q, fresh %v)", forged, fresh)
	}
}

func TestDeviceName(t *testing.T) {
	for _, tt := range []struct{ ua, want string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "Chrome, Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1", "Safari, iOS"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "Firefox, Linux"},
		{"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 YaBrowser/24.1 Mobile Safari/537.36", "Yandex Browser, Android"},
		{"gosid-app/1.0", "gosid-app/1.0"},
		{strings.Repeat("ж", 40), strings.Repeat("ж", 30)},
	} {
		if got := session.DeviceName(tt.ua); got != tt.want {
			t.Errorf("DeviceName(%.30q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}
