package secondfactor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/selfservice"
	sst "github.com/gosid/gosid/selfservice/selfservicetest"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
)

// TestEnrollTOTP: (confirm, code) of an authenticator enrolment. Refused
// codes keep the flow in confirm with the error on "code"; the right one
// turns the factor on and shows the ten recovery codes, once.
func TestEnrollTOTP(t *testing.T) {
	env := newTestEnv(t, false)
	ctx := context.Background()
	a := env.newAccount(t, true, true)
	c, v := env.startEnroll(t, true, env.passwordSession(a), mfa.KindTOTP)
	env.CheckView(t, v, selfservice.StateConfirm)
	if v.Type != KindEnroll || v.Method != mfa.KindTOTP || v.TOTPSecret == "" || v.FlowToken == "" ||
		!strings.HasPrefix(v.TOTPURL, "otpauth://totp/gosid:") || !strings.HasPrefix(string(v.QR), "data:image/png;base64,") {
		t.Fatalf("start view %+v", v)
	}
	secret := v.TOTPSecret

	// Show gives the same secret again (the page shown anew).
	shown, err := env.s.Show(ctx, c.Flow(t))
	if err != nil || shown.TOTPSecret != secret || shown.State != selfservice.StateConfirm {
		t.Fatalf("show = %+v, %v", shown, err)
	}

	done := env.run(t, c, []step{
		{"no code", "", selfservice.Input{}, selfservice.StateConfirm, []fe{{"code", "code.required"}}},
		{"blank code", "", selfservice.Input{"code": "   "}, selfservice.StateConfirm, []fe{{"code", "code.required"}}},
		{"wrong code", "", selfservice.Input{"code": env.wrongCode(t, secret)}, selfservice.StateConfirm, []fe{{"code", "mfa.invalid"}}},
		{"oversize code", "", selfservice.Input{"code": strings.Repeat("1", 17)}, selfservice.StateConfirm, []fe{{"code", "field.too_long"}}},
		{"control character", "", selfservice.Input{"code": "123\x00456"}, selfservice.StateConfirm, []fe{{"code", "field.control_chars"}}},
		{"invalid UTF-8", "", selfservice.Input{"code": "12\xff456"}, selfservice.StateConfirm, []fe{{"code", "field.invalid_utf8"}}},
		{"a code from the future", "", selfservice.Input{"code": env.code(t, secret, 5)}, selfservice.StateConfirm, []fe{{"code", "mfa.invalid"}}},
		{"right code", "verify", selfservice.Input{"code": env.code(t, secret, 0)}, selfservice.StateDone, nil},
	})
	if len(done.RecoveryCodes) != mfa.RecoveryCodeCount || done.Method != mfa.KindTOTP ||
		done.AccountID != a.ID || !slices.Equal(done.AMR, []string{"otp"}) ||
		!slices.Equal(sst.MessageCodes(done), []string{"mfa.enabled"}) {
		t.Errorf("done view %+v", done)
	}
	env.gone(t, c)
	if got := env.factorKinds(t, a.ID); !slices.Equal(got, []string{mfa.KindTOTP}) {
		t.Errorf("factors = %v", got)
	}
	if !slices.Contains(env.AuditTypes(t, a.ID), "mfa.enabled") {
		t.Errorf("audit = %v", env.AuditTypes(t, a.ID))
	}
	if got := env.Sent.Templates(a.Email); !slices.Contains(got, "security_changed") {
		t.Errorf("sent to %s: %v", a.Email, got)
	}

	// Another factor: the password-only session needs a step-up; a fresh
	// one adds it, and the recovery codes are not shown again.
	if _, err := env.s.StartEnroll(ctx, true, env.passwordSession(a), mfa.KindEmail, sst.Meta); !errors.Is(err, ErrStepUp) {
		t.Fatalf("second factor on a password-only session: %v", err)
	}
	c2, v2 := env.startEnroll(t, true, env.mfaSession(a, time.Minute), mfa.KindEmail)
	env.CheckView(t, v2, selfservice.StateConfirm)
	done2 := c2.Do(t, "", selfservice.Input{"code": env.Sent.Code(t, a.Email)})
	env.CheckView(t, done2, selfservice.StateDone)
	if len(done2.RecoveryCodes) != 0 {
		t.Errorf("recovery codes shown again: %v", done2.RecoveryCodes)
	}
	if got := env.factorKinds(t, a.ID); !slices.Equal(got, []string{mfa.KindEmail, mfa.KindTOTP}) {
		t.Errorf("factors = %v", got)
	}
	list, left, err := env.s.Factors(ctx, a.ID)
	if err != nil || len(list) != 2 || left != mfa.RecoveryCodeCount {
		t.Errorf("Factors = %+v, %d, %v", list, left, err)
	}
	for _, f := range list {
		if f.Kind == mfa.KindEmail && f.Contact != selfservice.MaskContact("email", a.Email) {
			t.Errorf("e-mail factor contact %q", f.Contact)
		}
	}
}

// TestStartEnroll: what turning each kind on begins with, and the refusals
// (an unknown or unavailable method, a factor already on, no contact).
func TestStartEnroll(t *testing.T) {
	env := newTestEnv(t, false)
	withTOTP := env.newAccount(t, true, true)
	env.enrollTOTP(t, withTOTP)
	tests := []struct {
		name   string
		phone  bool
		email  bool
		fresh  bool // a recent second factor; else password only
		acct   bool // use withTOTP
		kind   string
		state  string
		errs   []fe
		sentTo string // "phone" or "email": a code went there
	}{
		{"authenticator", true, true, false, false, mfa.KindTOTP, selfservice.StateConfirm, nil, ""},
		{"SMS", true, false, false, false, mfa.KindSMS, selfservice.StateConfirm, nil, "phone"},
		{"e-mail", false, true, false, false, mfa.KindEmail, selfservice.StateConfirm, nil, "email"},
		{"SMS without a phone", false, true, false, false, mfa.KindSMS, selfservice.StateForm, []fe{{"", "mfa.no_contact"}}, ""},
		{"e-mail without an address", true, false, false, false, mfa.KindEmail, selfservice.StateForm, []fe{{"", "mfa.no_contact"}}, ""},
		{"security key, not configured", true, true, false, false, mfa.KindWebAuthn, selfservice.StateForm, []fe{{"method", "mfa.method"}}, ""},
		{"recovery codes are no factor", true, true, false, false, mfa.KindRecovery, selfservice.StateForm, []fe{{"method", "mfa.method"}}, ""},
		{"unknown kind", true, true, false, false, "pigeon", selfservice.StateForm, []fe{{"method", "mfa.method"}}, ""},
		{"no kind", true, true, false, false, "", selfservice.StateForm, []fe{{"method", "mfa.method"}}, ""},
		{"a second authenticator", true, true, true, true, mfa.KindTOTP, selfservice.StateForm, []fe{{"", "mfa.exists"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := withTOTP
			if !tt.acct {
				a = env.newAccount(t, tt.phone, tt.email)
			}
			sess := env.passwordSession(a)
			if tt.fresh {
				sess = env.mfaSession(a, 0)
			}
			before := env.Sent.Len()
			v, err := env.s.StartEnroll(context.Background(), true, sess, tt.kind, sst.Meta)
			if err != nil {
				t.Fatal(err)
			}
			env.CheckView(t, v, tt.state, tt.errs...)
			if (v.FlowToken != "") != (tt.errs == nil) {
				t.Errorf("flow token %q with errors %v", v.FlowToken, v.Errors)
			}
			switch tt.sentTo {
			case "phone":
				if env.Sent.Code(t, a.Phone) == "" || v.Contact != selfservice.MaskContact("phone", a.Phone) {
					t.Errorf("contact %q", v.Contact)
				}
			case "email":
				if env.Sent.Code(t, a.Email) == "" || v.Contact != selfservice.MaskContact("email", a.Email) {
					t.Errorf("contact %q", v.Contact)
				}
			default:
				if env.Sent.Len() != before {
					t.Errorf("a message was sent")
				}
			}
		})
	}
}

// TestEnrollSMS: (confirm, code | resend) of an SMS enrolment.
func TestEnrollSMS(t *testing.T) {
	env := newTestEnv(t, false)
	a := env.newAccount(t, true, false)
	c, _ := env.startEnroll(t, false, env.passwordSession(a), mfa.KindSMS)
	code := env.Sent.Code(t, a.Phone)
	done := env.run(t, c, []step{
		{"resend at once", "resend", selfservice.Input{}, selfservice.StateConfirm, []fe{{"", "code.too_soon"}}},
		{"wrong code", "", selfservice.Input{"code": sst.WrongCode(code)}, selfservice.StateConfirm, []fe{{"code", "code.invalid"}}},
		{"no code", "", selfservice.Input{}, selfservice.StateConfirm, []fe{{"code", "code.required"}}},
		{"right code", "", selfservice.Input{"code": code}, selfservice.StateDone, nil},
	})
	if len(done.RecoveryCodes) != mfa.RecoveryCodeCount || !slices.Equal(done.AMR, []string{"sms"}) {
		t.Errorf("done view %+v", done)
	}
	env.gone(t, c)
	if got := env.factorKinds(t, a.ID); !slices.Equal(got, []string{mfa.KindSMS}) {
		t.Errorf("factors = %v", got)
	}
}

// TestChallengeTOTP: (second_factor, answer) of a challenge with the
// authenticator: refusals keep the state with their error; the right code
// finishes with a new session (View.Start, Reason SignIn); the same code
// again is a replay.
func TestChallengeTOTP(t *testing.T) {
	env := newTestEnv(t, false)
	ctx := context.Background()
	a := env.newAccount(t, true, true)
	secret, _ := env.enrollTOTP(t, a)
	c, v := env.startChallenge(t, true, a, PurposeLogin, "")
	env.CheckView(t, v, StateChallenge)
	if v.Type != KindMFA || !slices.Equal(methodsOf(v), []string{mfa.KindTOTP, mfa.KindRecovery}) {
		t.Fatalf("start view %+v", v)
	}
	if shown, err := env.s.Show(ctx, c.Flow(t)); err != nil || !slices.Equal(methodsOf(shown), methodsOf(v)) {
		t.Fatalf("show = %+v, %v", shown, err)
	}
	right := env.code(t, secret, 0)
	totpIn := func(code string) selfservice.Input { return selfservice.Input{"method": mfa.KindTOTP, "code": code} }
	done := env.run(t, c, []step{
		{"no method", "", selfservice.Input{"code": right}, StateChallenge, []fe{{"method", "mfa.method"}}},
		{"unknown method", "", selfservice.Input{"method": "pigeon", "code": right}, StateChallenge, []fe{{"method", "mfa.method"}}},
		{"SMS, not on", "send", selfservice.Input{"method": mfa.KindSMS}, StateChallenge, []fe{{"method", "mfa.method"}}},
		{"send to the authenticator", "send", totpIn(""), StateChallenge, []fe{{"method", "mfa.method"}}},
		{"security key ceremony for the authenticator", "webauthn_begin", totpIn(""), StateChallenge, []fe{{"method", "mfa.method"}}},
		{"no code", "", totpIn(""), StateChallenge, []fe{{"code", "code.required"}}},
		{"wrong code", "verify", totpIn(env.wrongCode(t, secret)), StateChallenge, []fe{{"code", "mfa.invalid"}}},
		{"oversize code", "", totpIn(strings.Repeat("1", 17)), StateChallenge, []fe{{"code", "field.too_long"}}},
		{"oversize method", "", selfservice.Input{"method": strings.Repeat("t", 17), "code": right}, StateChallenge, []fe{{"method", "field.too_long"}}},
		{"oversize action", strings.Repeat("a", 33), selfservice.Input{"action": strings.Repeat("a", 33), "code": right}, StateChallenge, []fe{{"action", "field.too_long"}}},
		{"right code", "verify", totpIn(right), selfservice.StateDone, nil},
	})
	if done.AccountID != a.ID || done.Start == nil || done.Start.Reason != selfservice.SignIn ||
		done.Start.ReplaceID != "" || done.Start.Account == nil || done.Start.Account.ID != a.ID ||
		!slices.Equal(done.Start.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("done view %+v, start %+v", done, done.Start)
	}
	env.gone(t, c)
	types := env.AuditTypes(t, a.ID)
	if n := strings.Count(strings.Join(types, " "), "mfa.failure"); n != 1 || !slices.Contains(types, "mfa.success") {
		t.Errorf("audit = %v", types)
	}

	// The same code in a new challenge is a replay.
	c2, _ := env.startChallenge(t, true, a, PurposeLogin, "")
	env.run(t, c2, []step{
		{"replayed code", "", totpIn(right), StateChallenge, []fe{{"code", "mfa.replayed"}}},
	})
	if c2.Flow(t).State != StateChallenge {
		t.Errorf("a refused replay moved the flow")
	}
}

// TestChallengeTOTPLockout: five wrong codes, then the authenticator is
// locked, the right code too; the recovery codes keep a counter of their
// own.
func TestChallengeTOTPLockout(t *testing.T) {
	env := newTestEnv(t, false)
	a := env.newAccount(t, true, true)
	secret, codes := env.enrollTOTP(t, a)
	c, _ := env.startChallenge(t, false, a, PurposeLogin, "")
	in := func(code string) selfservice.Input { return selfservice.Input{"method": mfa.KindTOTP, "code": code} }
	var steps []step
	for i := range 5 {
		steps = append(steps, step{"wrong code " + string(rune('1'+i)), "", in(env.wrongCode(t, secret)), StateChallenge, []fe{{"code", "mfa.invalid"}}})
	}
	steps = append(steps,
		step{"right code, locked", "", in(env.code(t, secret, 0)), StateChallenge, []fe{{"code", "mfa.locked"}}},
		step{"recovery code", "", selfservice.Input{"method": mfa.KindRecovery, "code": codes[0]}, selfservice.StateDone, nil},
	)
	env.run(t, c, steps)
}

// TestChallengePurposes: the session a finished challenge earns, by how it
// began: a sign-in (StartSecondFactor or Begin on the API's sign-in flow)
// starts one; a step-up upgrades the session it began from.
func TestChallengePurposes(t *testing.T) {
	env := newTestEnv(t, false)
	ctx := context.Background()
	tests := []struct {
		name      string
		begin     bool // Begin on a sign-in flow; else StartSecondFactor
		purpose   string
		sessionID string
		reason    selfservice.SessionReason
	}{
		{"sign-in", false, PurposeLogin, "", selfservice.SignIn},
		{"sign-in flow of the API", true, PurposeLogin, "", selfservice.SignIn},
		{"step-up", false, PurposeStepUp, "sess-42", selfservice.Upgrade},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := env.newAccount(t, true, true)
			secret, _ := env.enrollTOTP(t, a)
			var c *sst.Client
			if tt.begin {
				raw := &selfservice.Flow{Kind: "login", State: selfservice.StateForm, API: true}
				token, err := env.Engine.Flows.Create(ctx, raw)
				if err != nil {
					t.Fatal(err)
				}
				c = &sst.Client{Env: env.Env, Kind: "login", API: true, ID: raw.ID, Token: token, Submit: env.s.Submit}
				v, err := env.s.Begin(ctx, c.Flow(t), a, []string{"pwd"})
				if err != nil {
					t.Fatal(err)
				}
				env.CheckView(t, v, StateChallenge)
				if v.ID != raw.ID || !slices.Equal(methodsOf(v), []string{mfa.KindTOTP, mfa.KindRecovery}) {
					t.Fatalf("begin view %+v", v)
				}
				if f := c.Flow(t); f.State != StateChallenge {
					t.Fatalf("stored state %q", f.State)
				}
			} else {
				c, _ = env.startChallenge(t, true, a, tt.purpose, tt.sessionID)
			}
			v := c.Do(t, "", selfservice.Input{"method": mfa.KindTOTP, "code": env.code(t, secret, 0)})
			env.CheckView(t, v, selfservice.StateDone)
			if v.Start == nil || v.Start.Reason != tt.reason || v.Start.ReplaceID != tt.sessionID ||
				!slices.Equal(v.Start.AMR, []string{"pwd", "otp", "mfa"}) {
				t.Fatalf("start %+v", v.Start)
			}
			env.gone(t, c)
		})
	}
}

// TestChallengeCodes: (second_factor, send | answer) with codes sent by
// SMS and e-mail, for an account with no factor on (a service or the
// global setting demands one).
func TestChallengeCodes(t *testing.T) {
	env := newTestEnv(t, false)
	tests := []struct {
		method string
		amr    string
		to     func(phone, email string) string
	}{
		{mfa.KindSMS, "sms", func(p, _ string) string { return p }},
		{mfa.KindEmail, "otp", func(_, e string) string { return e }},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			a := env.newAccount(t, true, true)
			to := tt.to(a.Phone, a.Email)
			c, v := env.startChallenge(t, true, a, PurposeLogin, "")
			if !slices.Equal(methodsOf(v), []string{mfa.KindSMS, mfa.KindEmail}) {
				t.Fatalf("methods %v", methodsOf(v))
			}
			in := func(code string) selfservice.Input { return selfservice.Input{"method": tt.method, "code": code} }
			env.run(t, c, []step{
				{"code before sending", "", in("123456"), StateChallenge, []fe{{"code", "mfa.send_first"}}},
				{"authenticator, not on", "", selfservice.Input{"method": mfa.KindTOTP, "code": "123456"}, StateChallenge, []fe{{"method", "mfa.method"}}},
				{"recovery, not on", "", selfservice.Input{"method": mfa.KindRecovery, "code": "123456"}, StateChallenge, []fe{{"method", "mfa.method"}}},
				{"send", "send", in(""), StateChallenge, nil},
			})
			sent := c.Flow(t)
			if f, err := wrap(sent); err != nil || f.MFA.Sent != tt.method {
				t.Fatalf("stored %+v, %v", f, err)
			}
			code := env.Sent.Code(t, to)
			done := env.run(t, c, []step{
				{"send again at once", "send", in(""), StateChallenge, []fe{{"", "code.too_soon"}}},
				{"no code", "", in(""), StateChallenge, []fe{{"code", "code.required"}}},
				{"wrong code", "", in(sst.WrongCode(code)), StateChallenge, []fe{{"code", "code.invalid"}}},
				{"right code", "", in(code), selfservice.StateDone, nil},
			})
			if done.Start == nil || !slices.Equal(done.Start.AMR, []string{"pwd", tt.amr, "mfa"}) {
				t.Errorf("start %+v", done.Start)
			}
			if n := len(env.Sent.To(to)); n != 1 {
				t.Errorf("%d messages to %s", n, to)
			}
		})
	}
}

// TestChallengeSendView: the view after "send" names the masked contact
// and says the code went out.
func TestChallengeSendView(t *testing.T) {
	env := newTestEnv(t, false)
	a := env.newAccount(t, true, false)
	c, _ := env.startChallenge(t, false, a, PurposeStepUp, "sess-1")
	v := c.Do(t, "send", selfservice.Input{"method": mfa.KindSMS})
	env.CheckView(t, v, StateChallenge)
	if v.Method != mfa.KindSMS || v.Contact != selfservice.MaskContact("phone", a.Phone) ||
		!slices.Equal(sst.MessageCodes(v), []string{"code.sent"}) {
		t.Errorf("view %+v", v)
	}
}

// TestChallengeRecoveryCode: a recovery code is taken once; the second
// use is refused, and the count left goes down.
func TestChallengeRecoveryCode(t *testing.T) {
	env := newTestEnv(t, false)
	ctx := context.Background()
	a := env.newAccount(t, true, true)
	_, codes := env.enrollTOTP(t, a)
	rec := func(code string) selfservice.Input {
		return selfservice.Input{"method": mfa.KindRecovery, "code": code}
	}
	// Typed in lower case, as the citizen may.
	first := strings.ToLower(codes[0])
	c, _ := env.startChallenge(t, true, a, PurposeLogin, "")
	done := env.run(t, c, []step{
		{"not a code", "", rec("nonsense"), StateChallenge, []fe{{"code", "mfa.recovery_invalid"}}},
		{"no code", "", rec(""), StateChallenge, []fe{{"code", "code.required"}}},
		{"right code", "", rec(first), selfservice.StateDone, nil},
	})
	if done.Start == nil || !slices.Equal(done.Start.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("start %+v", done.Start)
	}
	if types := env.AuditTypes(t, a.ID); !slices.Contains(types, "mfa.recovery_code_used") {
		t.Errorf("audit = %v", types)
	}
	if _, left, err := env.s.Factors(ctx, a.ID); err != nil || left != mfa.RecoveryCodeCount-1 {
		t.Errorf("left = %d, %v", left, err)
	}
	c2, _ := env.startChallenge(t, true, a, PurposeLogin, "")
	env.run(t, c2, []step{
		{"used code", "", rec(codes[0]), StateChallenge, []fe{{"code", "mfa.recovery_invalid"}}},
		{"another code", "", rec(codes[1]), selfservice.StateDone, nil},
	})
}

// TestSubmitRefusals: a challenge of a blocked account, and a flow that
// holds no challenge.
func TestSubmitRefusals(t *testing.T) {
	env := newTestEnv(t, false)
	ctx := context.Background()
	a := env.newAccount(t, true, true)
	secret, _ := env.enrollTOTP(t, a)
	c, _ := env.startChallenge(t, true, a, PurposeLogin, "")
	if _, err := env.Engine.Accounts.UpdateAccount(ctx, a.ID, func(acc *account.Account) error {
		acc.Status = account.StatusBlocked
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	env.run(t, c, []step{
		{"blocked account", "", selfservice.Input{"method": mfa.KindTOTP, "code": env.code(t, secret, 0)}, StateChallenge, []fe{{"", "flow.error.action"}}},
	})
	raw := &selfservice.Flow{Kind: KindMFA, State: StateChallenge, API: true}
	if _, err := env.Engine.Flows.Create(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := env.s.Submit(ctx, raw, "", selfservice.Input{}, sst.Meta); err == nil {
		t.Error("a flow with no challenge was submitted")
	}
}

// TestRemoveFactor: turning a factor off needs a fresh second factor; the
// last factor takes the recovery codes with it.
func TestRemoveFactor(t *testing.T) {
	env := newTestEnv(t, false)
	ctx := context.Background()
	a := env.newAccount(t, true, true)
	env.enrollTOTP(t, a)
	fs, err := env.s.AccountFactors(ctx, a.ID)
	if err != nil || len(fs) != 1 {
		t.Fatalf("factors %v, %v", fs, err)
	}
	id := fs[0].ID
	tests := []struct {
		name string
		sess func() *session.Session
		id   string
		want error
	}{
		{"password only", func() *session.Session { return env.passwordSession(a) }, id, ErrStepUp},
		{"second factor 11 minutes ago", func() *session.Session { return env.mfaSession(a, 11*time.Minute) }, id, ErrStepUp},
		{"second factor just over 10 minutes ago", func() *session.Session { return env.mfaSession(a, mfaFresh+time.Second) }, id, ErrStepUp},
		{"another account's session", func() *session.Session { return env.mfaSession(env.newAccount(t, true, true), 0) }, id, storage.ErrNotFound},
		{"unknown factor", func() *session.Session { return env.mfaSession(a, time.Minute) }, "nope", storage.ErrNotFound},
		{"fresh, exactly 10 minutes", func() *session.Session { return env.mfaSession(a, mfaFresh) }, id, nil},
		{"already off", func() *session.Session { return env.mfaSession(a, 0) }, id, storage.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := env.s.RemoveFactor(ctx, tt.sess(), tt.id, sst.Meta); !errors.Is(err, tt.want) {
				t.Fatalf("RemoveFactor = %v, want %v", err, tt.want)
			}
		})
	}
	if got := env.factorKinds(t, a.ID); len(got) != 0 {
		t.Errorf("factors left: %v", got)
	}
	if _, left, err := env.s.Factors(ctx, a.ID); err != nil || left != 0 {
		t.Errorf("recovery codes left %d, %v", left, err)
	}
	if n, err := env.Engine.Factors.RecoveryCodesLeft(ctx, a.ID); err != nil || n != 0 {
		t.Errorf("stored recovery codes %d, %v", n, err)
	}
	if !slices.Contains(env.AuditTypes(t, a.ID), "mfa.disabled") {
		t.Errorf("audit = %v", env.AuditTypes(t, a.ID))
	}
}

// TestRegenerateRecoveryCodes: new codes need a fresh second factor and a
// factor turned on; the old codes stop working.
func TestRegenerateRecoveryCodes(t *testing.T) {
	env := newTestEnv(t, false)
	ctx := context.Background()
	a := env.newAccount(t, true, true)
	bare := env.newAccount(t, true, true)
	_, old := env.enrollTOTP(t, a)
	tests := []struct {
		name string
		sess *session.Session
		want error
	}{
		{"password only", env.passwordSession(a), ErrStepUp},
		{"stale second factor", env.mfaSession(a, time.Hour), ErrStepUp},
		{"no factor on", env.mfaSession(bare, 0), storage.ErrNotFound},
		{"fresh", env.mfaSession(a, time.Minute), nil},
	}
	var fresh []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := env.s.RegenerateRecoveryCodes(ctx, tt.sess, sst.Meta)
			if !errors.Is(err, tt.want) {
				t.Fatalf("RegenerateRecoveryCodes = %v, want %v", err, tt.want)
			}
			if err == nil {
				if len(list) != mfa.RecoveryCodeCount {
					t.Fatalf("%d codes", len(list))
				}
				fresh = list
			}
		})
	}
	if fresh == nil {
		t.Fatal("no new codes")
	}
	c, _ := env.startChallenge(t, true, a, PurposeLogin, "")
	rec := func(code string) selfservice.Input {
		return selfservice.Input{"method": mfa.KindRecovery, "code": code}
	}
	env.run(t, c, []step{
		{"an old code", "", rec(old[0]), StateChallenge, []fe{{"code", "mfa.recovery_invalid"}}},
		{"a new code", "", rec(fresh[0]), selfservice.StateDone, nil},
	})
}

// TestNeedSecondFactor: a sign-in takes a second factor when the account
// has one on, every sign-in needs one, or the service wants one.
func TestNeedSecondFactor(t *testing.T) {
	plain := newTestEnv(t, false)
	strict := newTestEnv(t, true)
	withFactor := plain.newAccount(t, true, true)
	plain.enrollTOTP(t, withFactor)
	without := plain.newAccount(t, true, true)
	strictAccount := strict.newAccount(t, true, true)
	tests := []struct {
		name        string
		env         *testEnv
		acct        *account.Account
		clientWants bool
		want        bool
	}{
		{"factor on", plain, withFactor, false, true},
		{"factor on, service wants", plain, withFactor, true, true},
		{"RequireMFA", strict, strictAccount, false, true},
		{"service wants", plain, without, true, true},
		{"none", plain, without, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.env.s.NeedSecondFactor(context.Background(), tt.acct, tt.clientWants)
			if err != nil || got != tt.want {
				t.Errorf("NeedSecondFactor = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if !strict.s.RequireMFA() || plain.s.RequireMFA() {
		t.Error("RequireMFA does not report the setting")
	}
}

// TestFresh: how recent the session's second factor must be.
func TestFresh(t *testing.T) {
	env := newTestEnv(t, false)
	a := env.newAccount(t, true, true)
	noMFA := env.mfaSession(a, 0)
	noMFA.AMR = []string{"pwd"}
	tests := []struct {
		name string
		sess *session.Session
		want bool
	}{
		{"password only", env.passwordSession(a), false},
		{"mfa time but no mfa in amr", noMFA, false},
		{"just now", env.mfaSession(a, 0), true},
		{"10 minutes ago", env.mfaSession(a, mfaFresh), true},
		{"10 minutes and a second ago", env.mfaSession(a, mfaFresh+time.Second), false},
		{"a day ago", env.mfaSession(a, 24*time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := env.s.Fresh(tt.sess); got != tt.want {
				t.Errorf("Fresh = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEnrollStartedBeforeFirstFactor: an enrolment a password-only session
// began while the account had no factor cannot finish once another factor
// was turned on meanwhile: adding a factor beside one needs a fresh second
// factor (StartEnroll's rule), and the flow was authorised only as the
// first. Before the fix the late enrolment went through, so a session
// holding just the password could add an authenticator of its own.
func TestEnrollStartedBeforeFirstFactor(t *testing.T) {
	env := newTestEnv(t, false)
	tests := []struct {
		name  string
		first bool // finish the early flow before the other factor is on
		state string
		errs  []fe
		kinds []string
	}{
		{"finished first", true, selfservice.StateDone, nil, []string{mfa.KindTOTP}},
		{"finished after another factor", false, selfservice.StateConfirm, []fe{{"", "flow.error.action"}}, []string{mfa.KindSMS}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := env.newAccount(t, true, true)
			early, v := env.startEnroll(t, true, env.passwordSession(a), mfa.KindTOTP)
			code := env.code(t, v.TOTPSecret, 0)
			if !tt.first {
				sms, _ := env.startEnroll(t, true, env.passwordSession(a), mfa.KindSMS)
				env.CheckView(t, sms.Do(t, "", selfservice.Input{"code": env.Sent.Code(t, a.Phone)}), selfservice.StateDone)
			}
			env.run(t, early, []step{{"late code", "", selfservice.Input{"code": code}, tt.state, tt.errs}})
			if got := env.factorKinds(t, a.ID); !slices.Equal(got, tt.kinds) {
				t.Errorf("factors = %v, want %v", got, tt.kinds)
			}
		})
	}
}
