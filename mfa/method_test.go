package mfa_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/pquerna/otp/totp"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/codes"
	"github.com/gosid/gosid/keys"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/storage/sqlstore"
)

// fixture is one embedded store and every method wired to it, on a
// clock that only moves when a test moves it.
type fixture struct {
	st   *sqlstore.Store
	now  time.Time
	sent *outbox
	totp *mfa.Authenticator
	sms  *mfa.CodeMethod
	mail *mfa.CodeMethod
	key  *mfa.SecurityKey
	rec  *mfa.RecoveryCodes
	all  *mfa.Methods
}

// outbox keeps the messages the code methods queue.
type outbox struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (o *outbox) Enqueue(_ context.Context, m notify.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, m)
	return nil
}

func (o *outbox) last(t *testing.T) notify.Message {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.msgs) == 0 {
		t.Fatal("no message was sent")
	}
	return o.msgs[len(o.msgs)-1]
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	sealer, err := keys.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: "id.example", RPDisplayName: "gosid", RPOrigins: []string{"https://id.example"}})
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{st: st, now: time.Date(2026, 11, 22, 12, 0, 15, 0, time.UTC), sent: &outbox{}}
	clock := func() time.Time { return fx.now }
	v := mfa.NewVerifier(st)
	mfa.SetClock(v, clock)
	cd := mfa.CodeDeps{Codes: codes.New(st, []byte("code-key-code-key-code-key-code!"), codes.DefaultPolicy),
		Queue: fx.sent, Factors: st, Now: clock}
	fx.totp = &mfa.Authenticator{Issuer: "gosid", Sealer: sealer, Verifier: v, Factors: st, Now: clock}
	fx.sms, fx.mail = mfa.NewSMS(cd, 5*time.Minute), mfa.NewEmail(cd, 10*time.Minute)
	fx.key = &mfa.SecurityKey{WebAuthn: wa, Factors: st, Now: clock}
	fx.rec = &mfa.RecoveryCodes{Key: []byte("recovery-key-recovery-key-recov!"), Factors: st, Ephemeral: st, Now: clock}
	fx.all = mfa.NewMethods(fx.totp, fx.key, fx.sms, fx.mail, fx.rec)
	return fx
}

// account stores a citizen with a confirmed phone and e-mail.
func (fx *fixture) account(t *testing.T, id string) *account.Account {
	t.Helper()
	a := &account.Account{ID: id, Phone: "+79123456789", PhoneVerified: true, Email: id + "@example.ru",
		EmailVerified: true, GivenName: "Иван", FamilyName: "Петров", Status: account.StatusActive,
		Level: account.LevelSimplified, Locale: "ru", CreatedAt: fx.now, UpdatedAt: fx.now}
	// Phones are unique across accounts.
	a.Phone = "+7912345" + id[len(id)-4:]
	if err := fx.st.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func (fx *fixture) factors(t *testing.T, a *account.Account) []*mfa.Factor {
	t.Helper()
	fs, err := fx.st.ListFactors(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// enroll turns the authenticator on and returns its base32 secret.
func (fx *fixture) enrollTOTP(t *testing.T, a *account.Account) string {
	t.Helper()
	ctx := context.Background()
	e := &mfa.Enrolment{Subject: mfa.Subject{Account: a}}
	setup, err := fx.totp.BeginEnroll(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fx.totp.FinishEnroll(ctx, e, mfa.Answer{Code: fx.code(t, setup.Authenticator.Secret, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.st.AddFactor(ctx, f); err != nil {
		t.Fatal(err)
	}
	return setup.Authenticator.Secret
}

func (fx *fixture) code(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, fx.now.Add(time.Duration(steps)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// want checks a Check outcome: the error (nil for success) and whether it
// counts as a failed attempt.
func want(t *testing.T, step string, err, wantErr error, counted bool) {
	t.Helper()
	if wantErr == nil {
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return
	}
	if !errors.Is(err, wantErr) {
		t.Fatalf("%s: got %v, want %v", step, err, wantErr)
	}
	if got := errors.Is(err, mfa.ErrFailedAttempt); got != counted {
		t.Fatalf("%s: counted as an attempt = %v, want %v", step, got, counted)
	}
}

func TestAuthenticatorCheck(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	a := fx.account(t, "acct-0001")
	if _, err := fx.totp.Check(ctx, &mfa.Challenge{Subject: mfa.Subject{Account: a}}, mfa.Answer{Code: "123456"}); !errors.Is(err, mfa.ErrNoFactor) {
		t.Fatalf("no authenticator: %v", err)
	}
	secret := fx.enrollTOTP(t, a)
	fx.now = fx.now.Add(5 * time.Minute) // past the enrolment code's window
	wrong := fx.code(t, secret, 10)
	steps := []struct {
		name    string
		code    string
		err     error
		counted bool
	}{
		{"empty", "", mfa.ErrNoAnswer, false},
		{"right", fx.code(t, secret, 0), nil, false},
		{"replay", fx.code(t, secret, 0), mfa.ErrReplayed, true},
		{"one step behind", fx.code(t, secret, -1), nil, false},
		{"wrong 1", wrong, mfa.ErrInvalidCode, true},
		{"wrong 2", wrong, mfa.ErrInvalidCode, true},
		{"wrong 3", wrong, mfa.ErrInvalidCode, true},
		{"wrong 4", wrong, mfa.ErrInvalidCode, true},
		{"wrong 5", wrong, mfa.ErrInvalidCode, true},
		{"right after the limit", fx.code(t, secret, 1), mfa.ErrTooMany, true},
	}
	for _, s := range steps {
		ch := &mfa.Challenge{Subject: mfa.Subject{Account: a, Factors: fx.factors(t, a)}, Purpose: "login"}
		f, err := fx.totp.Check(ctx, ch, mfa.Answer{Code: s.code})
		want(t, s.name, err, s.err, s.counted)
		if s.err == nil && (f == nil || f.Kind != mfa.KindTOTP || fx.totp.AMR(f) != "otp") {
			t.Fatalf("%s: factor %+v", s.name, f)
		}
	}
}

func TestAuthenticatorEnroll(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	a := fx.account(t, "acct-0002")
	e := &mfa.Enrolment{Subject: mfa.Subject{Account: a}}
	setup, err := fx.totp.BeginEnroll(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	again, err := fx.totp.Pending(e)
	if err != nil || again.Authenticator.Secret != setup.Authenticator.Secret {
		t.Fatalf("pending: %v, %+v", err, again)
	}
	other := &mfa.Enrolment{Subject: mfa.Subject{Account: &account.Account{ID: "acct-9999"}}, State: e.State}
	if _, err := fx.totp.Pending(other); err == nil {
		t.Fatal("another account's enrolment opened")
	}
	secret := setup.Authenticator.Secret
	for _, s := range []struct {
		name string
		code string
		err  error
	}{
		{"empty", "", mfa.ErrNoAnswer},
		{"wrong", fx.code(t, secret, 5), mfa.ErrInvalidCode},
		{"right", fx.code(t, secret, 0), nil},
	} {
		f, err := fx.totp.FinishEnroll(ctx, e, mfa.Answer{Code: s.code})
		want(t, s.name, err, s.err, false)
		if s.err == nil {
			if f.Kind != mfa.KindTOTP || f.AccountID != a.ID || f.ID == "" || len(f.Secret) == 0 || string(f.Secret) == secret {
				t.Fatalf("factor %+v", f)
			}
			if err := fx.st.AddFactor(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := fx.totp.BeginEnroll(ctx, &mfa.Enrolment{Subject: mfa.Subject{Account: a, Factors: fx.factors(t, a)}}); !errors.Is(err, mfa.ErrExists) {
		t.Fatalf("a second authenticator: %v", err)
	}
}

func TestCodeCheck(t *testing.T) {
	ctx := context.Background()
	for _, m := range []struct {
		kind    string
		channel notify.Channel
		minutes string
		amr     string
	}{
		{mfa.KindSMS, notify.ChannelSMS, "5", "sms"},
		{mfa.KindEmail, notify.ChannelEmail, "10", "otp"},
	} {
		t.Run(m.kind, func(t *testing.T) {
			fx := newFixture(t)
			meth := fx.all.Get(m.kind).(*mfa.CodeMethod)
			a := fx.account(t, "acct-0003")
			sub := mfa.Subject{Account: a, Lang: "en"}
			ch := &mfa.Challenge{Subject: sub, Purpose: "stepup"}
			want(t, "before sending", errOf(meth.Check(ctx, ch, mfa.Answer{Code: "123456"})), mfa.ErrNotSent, false)
			if err := meth.Send(ctx, &sub, "stepup"); err != nil {
				t.Fatal(err)
			}
			msg := fx.sent.last(t)
			if msg.Channel != m.channel || msg.Lang != "en" || msg.Data["minutes"] != m.minutes || msg.Data["purpose"] != "login" {
				t.Fatalf("message %v %+v", msg, msg.Data)
			}
			right := msg.Data["code"]
			wrong := "000000"
			if right == wrong {
				wrong = "111111"
			}
			ch.Sent = m.kind
			steps := []struct {
				name    string
				code    string
				err     error
				counted bool
			}{
				{"empty", "", mfa.ErrNoAnswer, true},
				{"wrong", wrong, codes.ErrInvalid, true},
				{"right", right, nil, false},
				{"replay", right, codes.ErrExpired, true},
			}
			for _, s := range steps {
				f, err := meth.Check(ctx, ch, mfa.Answer{Code: s.code})
				want(t, s.name, err, s.err, s.counted)
				if s.err == nil && (f != nil || meth.AMR(f) != m.amr) {
					t.Fatalf("%s: factor %+v, amr %s", s.name, f, meth.AMR(f))
				}
			}
			// A code for a sign-in does not confirm a step-up.
			fx.now = fx.now.Add(2 * time.Minute)
			if err := meth.Send(ctx, &sub, "login"); err != nil {
				t.Fatal(err)
			}
			want(t, "other purpose", errOf(meth.Check(ctx, ch, mfa.Answer{Code: fx.sent.last(t).Data["code"]})), codes.ErrExpired, true)
		})
	}
}

// TestCodeLockout: the last allowed wrong code burns the code, then even
// the right one is refused.
func TestCodeLockout(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	a := fx.account(t, "acct-0004")
	ch := &mfa.Challenge{Subject: mfa.Subject{Account: a}, Purpose: "login", Sent: mfa.KindSMS}
	if err := fx.sms.Send(ctx, &ch.Subject, "login"); err != nil {
		t.Fatal(err)
	}
	right := fx.sent.last(t).Data["code"]
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	for i := 1; i < codes.DefaultPolicy.MaxAttempts; i++ {
		want(t, "wrong", errOf(fx.sms.Check(ctx, ch, mfa.Answer{Code: wrong})), codes.ErrInvalid, true)
	}
	want(t, "the last wrong", errOf(fx.sms.Check(ctx, ch, mfa.Answer{Code: wrong})), codes.ErrBurned, true)
	want(t, "right after the limit", errOf(fx.sms.Check(ctx, ch, mfa.Answer{Code: right})), codes.ErrExpired, true)
}

func TestCodeEnroll(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	a := fx.account(t, "acct-0005")
	unconfirmed := *a
	unconfirmed.EmailVerified = false
	if _, err := fx.mail.BeginEnroll(ctx, &mfa.Enrolment{Subject: mfa.Subject{Account: &unconfirmed}}); !errors.Is(err, mfa.ErrNoContact) {
		t.Fatalf("unconfirmed e-mail: %v", err)
	}
	e := &mfa.Enrolment{Subject: mfa.Subject{Account: a}}
	if _, err := fx.sms.BeginEnroll(ctx, e); err != nil {
		t.Fatal(err)
	}
	msg := fx.sent.last(t)
	if msg.To != a.Phone || msg.Data["purpose"] != "mfa_enroll" {
		t.Fatalf("message %v %+v", msg, msg.Data)
	}
	if _, err := fx.sms.BeginEnroll(ctx, e); !errors.Is(err, codes.ErrTooSoon) {
		t.Fatalf("a second code at once: %v", err)
	}
	want(t, "wrong", errOf(fx.sms.FinishEnroll(ctx, e, mfa.Answer{Code: "999999x"})), codes.ErrInvalid, false)
	f, err := fx.sms.FinishEnroll(ctx, e, mfa.Answer{Code: msg.Data["code"]})
	if err != nil || f.Kind != mfa.KindSMS || f.AccountID != a.ID {
		t.Fatalf("finish: %v %+v", err, f)
	}
	if err := fx.st.AddFactor(ctx, f); err != nil {
		t.Fatal(err)
	}
	fs := fx.factors(t, a)
	if _, err := fx.sms.BeginEnroll(ctx, &mfa.Enrolment{Subject: mfa.Subject{Account: a, Factors: fs}}); !errors.Is(err, mfa.ErrExists) {
		t.Fatalf("a second SMS factor: %v", err)
	}
	// With a factor on, its use is recorded and it is returned.
	fx.now = fx.now.Add(2 * time.Minute)
	ch := &mfa.Challenge{Subject: mfa.Subject{Account: a, Factors: fs}, Purpose: "login", Sent: mfa.KindSMS}
	if err := fx.sms.Send(ctx, &ch.Subject, "login"); err != nil {
		t.Fatal(err)
	}
	used, err := fx.sms.Check(ctx, ch, mfa.Answer{Code: fx.sent.last(t).Data["code"]})
	if err != nil || used == nil || used.ID != f.ID {
		t.Fatalf("check with the factor: %v %+v", err, used)
	}
	if got := fx.factors(t, a)[0].LastUsedAt; !got.Equal(fx.now) {
		t.Fatalf("last used %v, want %v", got, fx.now)
	}
}

func TestRecoveryCodesCheck(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	a := fx.account(t, "acct-0006")
	list, err := fx.rec.Renew(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	ch := &mfa.Challenge{Subject: mfa.Subject{Account: a}, Purpose: "login"}
	steps := []struct {
		name    string
		code    string
		err     error
		counted bool
	}{
		{"empty", "", mfa.ErrNoAnswer, false},
		{"right, typed loosely", " " + list[0][:5] + " " + list[0][6:], nil, false},
		{"used again", list[0], mfa.ErrRecoveryCode, true},
		{"not a code", "hello", mfa.ErrRecoveryCode, true},
		{"wrong 3", "22222-22222", mfa.ErrRecoveryCode, true},
		{"wrong 4", "22222-22222", mfa.ErrRecoveryCode, true},
		{"wrong 5", "22222-22222", mfa.ErrRecoveryCode, true},
		{"right after the limit", list[1], mfa.ErrTooMany, false},
	}
	for _, s := range steps {
		f, err := fx.rec.Check(ctx, ch, mfa.Answer{Code: s.code})
		want(t, s.name, err, s.err, s.counted)
		if f != nil {
			t.Fatalf("%s: a recovery code has no factor: %+v", s.name, f)
		}
	}
	if left, err := fx.rec.Left(ctx, a.ID); err != nil || left != mfa.RecoveryCodeCount-1 {
		t.Fatalf("left %d, %v", left, err)
	}
}

func TestSecurityKey(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	a := fx.account(t, "acct-0007")
	usb, _ := json.Marshal(webauthn.Credential{ID: []byte("k1"), Transport: []protocol.AuthenticatorTransport{protocol.USB}})
	internal, _ := json.Marshal(webauthn.Credential{ID: []byte("k2"), Transport: []protocol.AuthenticatorTransport{protocol.Internal}})
	for _, c := range []struct {
		secret []byte
		amr    string
	}{{usb, "hwk"}, {internal, "swk"}, {nil, "swk"}} {
		if got := fx.key.AMR(&mfa.Factor{Kind: mfa.KindWebAuthn, Secret: c.secret}); got != c.amr {
			t.Errorf("AMR(%s) = %s, want %s", c.secret, got, c.amr)
		}
	}
	f := &mfa.Factor{ID: "f1", AccountID: a.ID, Kind: mfa.KindWebAuthn, Secret: usb, CredentialID: "azE", CreatedAt: fx.now}
	ch := &mfa.Challenge{Subject: mfa.Subject{Account: a, Factors: []*mfa.Factor{f}}, Purpose: "login"}
	want(t, "no ceremony", errOf(fx.key.Check(ctx, ch, mfa.Answer{Credential: []byte("{}")})), mfa.ErrRefused, false)
	opts, err := fx.key.BeginCheck(ctx, ch)
	if err != nil || len(opts) == 0 || len(ch.State) == 0 {
		t.Fatalf("begin: %v, options %s", err, opts)
	}
	want(t, "unreadable answer", errOf(fx.key.Check(ctx, ch, mfa.Answer{Credential: []byte("{")})), mfa.ErrRefused, false)
	e := &mfa.Enrolment{Subject: ch.Subject}
	setup, err := fx.key.BeginEnroll(ctx, e)
	if err != nil || len(setup.Options) == 0 || len(e.State) == 0 {
		t.Fatalf("begin enrolment: %v", err)
	}
	want(t, "unreadable attestation", errOf(fx.key.FinishEnroll(ctx, e, mfa.Answer{Credential: []byte("{")})), mfa.ErrRefused, false)
}

// TestMethodsUsable: the methods offered, in order, for each situation.
func TestMethodsUsable(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	a := fx.account(t, "acct-0008")
	noPhone := *a
	noPhone.PhoneVerified = false
	key := &mfa.Factor{Kind: mfa.KindWebAuthn}
	sms := &mfa.Factor{Kind: mfa.KindSMS}
	tests := []struct {
		name    string
		a       *account.Account
		factors []*mfa.Factor
		codes   bool
		want    []string
	}{
		{"no factor: codes to confirmed contacts", a, nil, false, []string{"sms", "email"}},
		{"no factor, phone unconfirmed", &noPhone, nil, false, []string{"email"}},
		{"factors in their order, then recovery", a, []*mfa.Factor{sms, key}, true, []string{"sms", "webauthn", "recovery"}},
		{"no recovery codes left", a, []*mfa.Factor{key}, false, []string{"webauthn"}},
		{"SMS factor, phone unconfirmed", &noPhone, []*mfa.Factor{sms}, false, nil},
		{"a factor gosid does not offer", a, []*mfa.Factor{{Kind: "bank"}}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.codes {
				if _, err := fx.rec.Renew(ctx, a.ID); err != nil {
					t.Fatal(err)
				}
			} else if err := fx.st.ReplaceRecoveryCodes(ctx, a.ID, nil, fx.now); err != nil {
				t.Fatal(err)
			}
			ms, err := fx.all.Usable(ctx, &mfa.Subject{Account: tt.a, Factors: tt.factors})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.Kind())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
	if fx.all.Get("bank") != nil {
		t.Fatal("an unknown kind has a method")
	}
}

func errOf(_ *mfa.Factor, err error) error { return err }
