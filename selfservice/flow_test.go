package selfservice_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/selfservice/selfservicetest"
	"github.com/gosid/gosid/storage/sqlstore"
)

func openDB(t *testing.T) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ss.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestFlowStore(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	db := openDB(t)
	store := selfservice.NewFlowStore(db, time.Hour, []byte(strings.Repeat("k", 32)), selfservicetest.Cipher(t, db), clock)

	f := &selfservice.Flow{Kind: "registration", State: selfservice.StateForm, API: true}
	if err := f.Encode(map[string]string{"channel": "phone"}); err != nil {
		t.Fatal(err)
	}
	token, err := store.Create(ctx, f)
	if err != nil || token == "" || f.ID == "" || f.TokenMAC == "" || strings.Contains(f.TokenMAC, token) {
		t.Fatalf("Create = %q, %v; flow %+v", token, err, f)
	}
	if !f.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("ExpiresAt = %v, want an hour from now", f.ExpiresAt)
	}

	authz := &selfservice.Flow{Kind: selfservice.KindAuthorize, ClientID: "svc"}
	if err := store.Save(ctx, authz); err != nil || authz.ID == "" {
		t.Fatalf("Save of an authorization request: %v (id %q)", err, authz.ID)
	}

	for _, tt := range []struct {
		name      string
		id, kind  string
		api       bool
		token     string
		want      error
		wantState string
	}{
		{"its token", f.ID, "registration", true, token, nil, selfservice.StateForm},
		{"no token", f.ID, "registration", true, "", selfservice.ErrFlowToken, ""},
		{"another token", f.ID, "registration", true, token[:len(token)-1] + "x", selfservice.ErrFlowToken, ""},
		{"the other face", f.ID, "registration", false, token, selfservice.ErrFlowExpired, ""},
		{"another kind", f.ID, "recovery", true, token, selfservice.ErrFlowExpired, ""},
		{"unknown id", "nope", "registration", true, token, selfservice.ErrFlowExpired, ""},
		{"oversize id", strings.Repeat("a", 65), "registration", true, token, selfservice.ErrFlowExpired, ""},
		{"empty id", "", "registration", true, token, selfservice.ErrFlowExpired, ""},
		{"a request without a token", authz.ID, selfservice.KindAuthorize, false, "", selfservice.ErrFlowToken, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.Load(ctx, tt.id, tt.kind, tt.api, tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load = %v, want %v", err, tt.want)
			}
			if tt.want == nil && got.State != tt.wantState {
				t.Errorf("state %q, want %q", got.State, tt.wantState)
			}
		})
	}

	got, err := store.LoadAny(ctx, authz.ID, selfservice.KindAuthorize)
	if err != nil || got.ClientID != "svc" {
		t.Fatalf("LoadAny of the request = %+v, %v", got, err)
	}
	loaded, _ := store.Load(ctx, f.ID, "registration", true, token)
	var st map[string]string
	if err := loaded.Decode(&st); err != nil || st["channel"] != "phone" {
		t.Errorf("the flow's own state came back as %v, %v", st, err)
	}

	now = now.Add(2 * time.Hour)
	if err := store.Save(ctx, loaded); !errors.Is(err, selfservice.ErrFlowExpired) {
		t.Errorf("Save of an expired flow = %v, want ErrFlowExpired", err)
	}
	if err := store.Delete(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LoadAny(ctx, f.ID, "registration"); !errors.Is(err, selfservice.ErrFlowExpired) {
		t.Errorf("LoadAny after Delete = %v, want ErrFlowExpired", err)
	}
}

func TestCheckInputAndMask(t *testing.T) {
	for _, tt := range []struct {
		in   selfservice.Input
		want string // "field code" or ""
	}{
		{selfservice.Input{"login": "+79161234567", "password": "x"}, ""},
		{selfservice.Input{"password": strings.Repeat("я", 256)}, ""},
		{selfservice.Input{"password": strings.Repeat("я", 257)}, "password field.too_long"},
		{selfservice.Input{"code": "12345678901234567"}, "code field.too_long"},
		{selfservice.Input{"given_name": "a\x00b"}, "given_name field.control_chars"},
		{selfservice.Input{"family_name": "\xff"}, "family_name field.invalid_utf8"},
		{selfservice.Input{"unknown": strings.Repeat("x", 10000)}, ""},
	} {
		fe := selfservice.CheckInput(tt.in)
		got := ""
		if fe != nil {
			got = fe.Field + " " + fe.Code
		}
		if got != tt.want {
			t.Errorf("CheckInput(%.40v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct{ channel, contact, want string }{
		{"phone", "+79161234567", "+7(916)***-**-67"},
		{"email", "ivan@example.ru", "i***@example.ru"},
		{"email", "юля@пример.рф", "ю***@пример.рф"},
		{"email", "broken", "***"},
	} {
		if got := selfservice.MaskContact(tt.channel, tt.contact); got != tt.want {
			t.Errorf("MaskContact(%q) = %q, want %q", tt.contact, got, tt.want)
		}
	}
}

// TestFlowStoreSealed: a flow record is sealed, bound to its id and kind;
// one moved under another id, or written in clear before flows were
// sealed, is an expired flow.
func TestFlowStoreSealed(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	store := selfservice.NewFlowStore(db, time.Hour, []byte(strings.Repeat("k", 32)), selfservicetest.Cipher(t, db), nil)
	f := &selfservice.Flow{Kind: "registration", API: true, Form: map[string][]string{"login_hint": {"+79161234567"}}}
	if err := f.Encode(map[string]string{"family_name": "Петрова"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	sealed, err := db.Get(ctx, "selfservice:flow:"+f.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"Петрова", "+79161234567", "registration", f.TokenMAC} {
		if strings.Contains(string(sealed), v) {
			t.Errorf("%q is in clear in the stored flow", v)
		}
	}
	if err := db.Put(ctx, "selfservice:flow:moved", sealed, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LoadAny(ctx, "moved", "registration"); !errors.Is(err, selfservice.ErrFlowExpired) {
		t.Errorf("a record moved under another id loads: %v", err)
	}
	if err := db.Put(ctx, "selfservice:flow:legacy", []byte(`{"id":"legacy","kind":"registration"}`), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LoadAny(ctx, "legacy", "registration"); !errors.Is(err, selfservice.ErrFlowExpired) {
		t.Errorf("a flow stored in clear loads: %v", err)
	}
	if _, err := store.LoadAny(ctx, f.ID, "registration"); err != nil {
		t.Errorf("the flow itself: %v", err)
	}
}
