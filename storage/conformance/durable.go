package conformance

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/consent"
	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/keys"
	"github.com/gosid/gosid/provider"
	"github.com/gosid/gosid/storage"
)

// Durable is every durable port; one adapter implements them all.
type Durable interface {
	clients.Store
	account.Store
	keys.Store
	consent.Store
	audit.Store
	provider.GrantStore
}

// RunDurable runs the contract of every durable port against the adapter
// open returns (a fresh, migrated database).
func RunDurable(t *testing.T, open func(t *testing.T) Durable) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Durable)
	}{
		{"Clients", durClients},
		{"Accounts", durAccounts},
		{"KeysInsertAndRotate", durKeys},
		{"KeysConcurrentInsert", durKeysConcurrent},
		{"Consents", durConsents},
		{"Audit", durAudit},
		{"RefreshTokens", durRefresh},
		{"RefreshTokensConcurrentUse", durRefreshConcurrent},
		{"RevokeSubjectGrants", durRevokeSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

var durNow = time.Now().UTC().Truncate(time.Millisecond)

func durWant(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

func durSameTime(a, b time.Time) bool { return a.Sub(b).Abs() < time.Millisecond }

func durClients(t *testing.T, s Durable) {
	ctx := context.Background()
	c := &clients.Client{
		ID: "c1", Name: "Портал", SecretHash: []byte("h1$x"), RedirectURIs: []string{"https://a/cb", "https://b/cb"},
		PostLogoutRedirectURIs: []string{"https://a/bye"}, GrantTypes: []string{"authorization_code"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid"}, Audience: []string{"https://api"},
		TokenEndpointAuthMethod: "client_secret_basic", JWKS: []byte(`{"keys":[]}`), JWKSURI: "https://a/jwks",
		IDTokenAlg: "ES256", FirstParty: true, MinLevel: "standard", RequireMFA: true, CreatedAt: durNow, UpdatedAt: durNow,
	}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	durWant(t, "duplicate", s.CreateClient(ctx, c), storage.ErrConflict)
	got, err := s.GetClient(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if !durSameTime(got.CreatedAt, c.CreatedAt) {
		t.Fatalf("created_at %v != %v", got.CreatedAt, c.CreatedAt)
	}
	got.CreatedAt, got.UpdatedAt = c.CreatedAt, c.UpdatedAt
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
	}
	got.Name, got.SecretHash, got.RedirectURIs = "Новое", nil, nil
	if err := s.UpdateClient(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, _ := s.GetClient(ctx, "c1")
	if again.Name != "Новое" || again.SecretHash != nil || again.RedirectURIs != nil {
		t.Fatalf("update: %+v", again)
	}
	durWant(t, "update missing", s.UpdateClient(ctx, &clients.Client{ID: "nope", CreatedAt: durNow, UpdatedAt: durNow}), storage.ErrNotFound)
	if err := s.CreateClient(ctx, &clients.Client{ID: "c2", Name: "b", TokenEndpointAuthMethod: "none", CreatedAt: durNow, UpdatedAt: durNow}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListClients(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	if err := s.DeleteClient(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetClient(ctx, "c1")
	durWant(t, "get deleted", err, storage.ErrNotFound)
	durWant(t, "delete missing", s.DeleteClient(ctx, "c1"), storage.ErrNotFound)
}

func durAccount(id, phone, email string) *account.Account {
	return &account.Account{ID: id, Phone: phone, PhoneVerified: phone != "", Email: email, FamilyName: "Иванов",
		GivenName: "Иван", PasswordHash: "$argon2id$x", PasswordChangedAt: durNow, Level: account.LevelSimplified,
		Status: account.StatusActive, Locale: "ru", CreatedAt: durNow, UpdatedAt: durNow}
}

func durAccounts(t *testing.T, s Durable) {
	ctx := context.Background()
	a := durAccount("a1", "+79000000001", "a@example.ru")
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	// Accounts without a phone or without an e-mail do not collide on "".
	for i, acct := range []*account.Account{durAccount("a2", "", "b@example.ru"), durAccount("a3", "", "c@example.ru"),
		durAccount("a4", "+79000000004", ""), durAccount("a5", "+79000000005", "")} {
		if err := s.CreateAccount(ctx, acct); err != nil {
			t.Fatalf("account %d: %v", i, err)
		}
	}
	durWant(t, "duplicate phone", s.CreateAccount(ctx, durAccount("x1", "+79000000001", "")), storage.ErrConflict)
	durWant(t, "duplicate email", s.CreateAccount(ctx, durAccount("x2", "", "a@example.ru")), storage.ErrConflict)
	got, err := s.FindAccountByPhone(ctx, "+79000000001")
	if err != nil || got.ID != "a1" || got.Level != account.LevelSimplified || !got.PhoneVerified {
		t.Fatalf("by phone: %+v %v", got, err)
	}
	if got, err = s.FindAccountByEmail(ctx, "b@example.ru"); err != nil || got.ID != "a2" {
		t.Fatalf("by email: %+v %v", got, err)
	}
	_, err = s.FindAccountByEmail(ctx, "")
	durWant(t, "empty email", err, storage.ErrNotFound)
	_, err = s.GetAccount(ctx, "nope")
	durWant(t, "missing", err, storage.ErrNotFound)
	b, _ := s.GetAccount(ctx, "a2")
	b.Phone = "+79000000001"
	durWant(t, "update to a taken phone", s.UpdateAccount(ctx, b), storage.ErrConflict)
	b.Phone, b.Level = "+79000000002", account.LevelStandard
	if err := s.UpdateAccount(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetAccount(ctx, "a2"); got.Phone != "+79000000002" || got.Level != account.LevelStandard {
		t.Fatalf("update: %+v", got)
	}
}

func durKey(alg string, gen int64, state keys.State) keys.Record {
	return keys.Record{KID: fmt.Sprintf("%s-%d-%s", alg, gen, testenv.RandomName("")), Alg: alg, Generation: gen,
		State: state, PublicJWK: []byte(`{}`), Sealed: []byte{1, 2, 3}, CreatedAt: durNow}
}

func durKeys(t *testing.T, s Durable) {
	ctx := context.Background()
	for _, r := range []keys.Record{durKey("ES256", 1, keys.StateActive), durKey("ES256", 2, keys.StateNext)} {
		if ok, err := s.InsertKey(ctx, r); err != nil || !ok {
			t.Fatalf("insert: %v %v", ok, err)
		}
	}
	if ok, err := s.InsertKey(ctx, durKey("ES256", 2, keys.StateNext)); err != nil || ok {
		t.Fatalf("duplicate generation inserted: %v %v", ok, err)
	}
	until := durNow.Add(time.Hour)
	if err := s.RotateKeys(ctx, "ES256", 1, durKey("ES256", 0, ""), durNow, until); err != nil {
		t.Fatal(err)
	}
	durWant(t, "stale rotation", s.RotateKeys(ctx, "ES256", 1, durKey("ES256", 0, ""), durNow, until), storage.ErrConflict)
	list, err := s.ListKeys(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	states := map[int64]keys.State{}
	for _, k := range list {
		states[k.Generation] = k.State
		if k.Generation == 1 && !durSameTime(k.ExpiresAt, until) {
			t.Fatalf("retired key expires %v, want %v", k.ExpiresAt, until)
		}
	}
	if states[1] != keys.StateRetired || states[2] != keys.StateActive || states[3] != keys.StateNext {
		t.Fatalf("states after rotation: %v", states)
	}
	if n, err := s.DeleteExpiredKeys(ctx, until.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("delete expired: %d %v", n, err)
	}
}

func durKeysConcurrent(t *testing.T, s Durable) {
	ctx := context.Background()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.InsertKey(ctx, durKey("RS256", 1, keys.StateActive))
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent inserts of one generation won; want exactly 1", wins.Load())
	}
}

func durConsents(t *testing.T, s Durable) {
	ctx := context.Background()
	g := &consent.Grant{Subject: "a1", ClientID: "c1", Scopes: []string{"openid", "profile"}, GrantedAt: durNow, UpdatedAt: durNow}
	if err := s.SaveConsent(ctx, g); err != nil {
		t.Fatal(err)
	}
	g.Scopes = []string{"openid", "profile", "phone"}
	if err := s.SaveConsent(ctx, g); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetConsent(ctx, "a1", "c1")
	if err != nil || !reflect.DeepEqual(got.Scopes, g.Scopes) {
		t.Fatalf("get: %+v %v", got, err)
	}
	_ = s.SaveConsent(ctx, &consent.Grant{Subject: "a1", ClientID: "c2", Scopes: []string{"openid"}, GrantedAt: durNow, UpdatedAt: durNow})
	if list, err := s.ListConsents(ctx, "a1"); err != nil || len(list) != 2 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	if err := s.DeleteConsent(ctx, "a1", "c1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetConsent(ctx, "a1", "c1")
	durWant(t, "deleted", err, storage.ErrNotFound)
}

func durAudit(t *testing.T, s Durable) {
	ctx := context.Background()
	for i := 0; i < 25; i++ {
		e := &audit.Event{AccountID: "a1", Type: "login.failure", IP: "127.0.0.1", Data: map[string]string{"n": fmt.Sprint(i)}, At: durNow}
		if err := s.AppendEvent(ctx, e); err != nil || e.ID == 0 {
			t.Fatalf("append: %v (id %d)", err, e.ID)
		}
	}
	_ = s.AppendEvent(ctx, &audit.Event{AccountID: "other", Type: "x", At: durNow})
	var all []*audit.Event
	before := int64(0)
	for {
		page, err := s.ListEvents(ctx, "a1", before, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		before = page[len(page)-1].ID
	}
	if len(all) != 25 || all[0].Data["n"] != "24" || all[24].Data["n"] != "0" {
		t.Fatalf("paging gave %d events, first %v", len(all), all[0].Data)
	}
}

func durToken(sig, req, client, subject string) *provider.RefreshToken {
	return &provider.RefreshToken{Signature: sig, RequestID: req, ClientID: client, Subject: subject,
		Request: []byte(`{"id":"` + req + `"}`), CreatedAt: durNow, ExpiresAt: durNow.Add(time.Hour)}
}

func durRefresh(t *testing.T, s Durable) {
	ctx := context.Background()
	if err := s.CreateRefreshToken(ctx, durToken("s1", "r1", "c1", "a1")); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRefreshToken(ctx, "s1")
	if err != nil || got.RequestID != "r1" || string(got.Request) != `{"id":"r1"}` || !got.UsedAt.IsZero() {
		t.Fatalf("get: %+v %v", got, err)
	}
	now := time.Now()
	if err := s.UseRefreshToken(ctx, "s1", now, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Inside the grace window a second use succeeds; outside it does not.
	if err := s.UseRefreshToken(ctx, "s1", now.Add(time.Second), now.Add(-time.Minute)); err != nil {
		t.Fatalf("inside grace: %v", err)
	}
	durWant(t, "outside grace", s.UseRefreshToken(ctx, "s1", now.Add(2*time.Minute), now.Add(time.Minute)), provider.ErrTokenInactive)
	durWant(t, "missing", s.UseRefreshToken(ctx, "nope", now, now), storage.ErrNotFound)
	_ = s.CreateRefreshToken(ctx, durToken("s2", "r1", "c1", "a1"))
	if err := s.RevokeGrant(ctx, "r1", now); err != nil {
		t.Fatal(err)
	}
	durWant(t, "revoked", s.UseRefreshToken(ctx, "s2", now, now.Add(-time.Hour)), provider.ErrTokenInactive)
	if got, _ := s.GetRefreshToken(ctx, "s2"); got.RevokedAt.IsZero() {
		t.Fatal("revoked_at not set")
	}
	expired := durToken("s3", "r3", "c1", "a1")
	expired.ExpiresAt = durNow.Add(-time.Hour)
	_ = s.CreateRefreshToken(ctx, expired)
	if n, err := s.DeleteExpiredRefreshTokens(ctx, durNow); err != nil || n != 1 {
		t.Fatalf("delete expired: %d %v", n, err)
	}
}

func durRefreshConcurrent(t *testing.T, s Durable) {
	ctx := context.Background()
	_ = s.CreateRefreshToken(ctx, durToken("c-s1", "c-r1", "c1", "a1"))
	var wins atomic.Int32
	var wg sync.WaitGroup
	now := time.Now()
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.UseRefreshToken(ctx, "c-s1", now, now.Add(time.Hour)) // no grace: cutoff in the future
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, provider.ErrTokenInactive) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent rotations succeeded; want exactly 1", wins.Load())
	}
}

func durRevokeSubject(t *testing.T, s Durable) {
	ctx := context.Background()
	for _, tok := range []*provider.RefreshToken{durToken("x1", "g1", "c1", "a9"), durToken("x2", "g1", "c1", "a9"),
		durToken("x3", "g2", "c2", "a9"), durToken("x4", "g3", "c1", "other")} {
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := s.RevokeSubjectGrants(ctx, "a9", "c2", time.Now())
	if err != nil || !reflect.DeepEqual(ids, []string{"g2"}) {
		t.Fatalf("by client: %v %v", ids, err)
	}
	ids, err = s.RevokeSubjectGrants(ctx, "a9", "", time.Now())
	if err != nil || !reflect.DeepEqual(ids, []string{"g1"}) {
		t.Fatalf("all clients: %v %v", ids, err)
	}
	if got, _ := s.GetRefreshToken(ctx, "x4"); !got.RevokedAt.IsZero() {
		t.Fatal("another subject's token was revoked")
	}
}
