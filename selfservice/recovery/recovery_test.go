package recovery

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/selfservice"
	sst "github.com/gosid/gosid/selfservice/selfservicetest"
	"github.com/gosid/gosid/session"
)

const (
	recPhone = "+79121234589" // masked +7(912)***-**-89
	recEmail = "anna@example.ru"
)

// TestRecoveryStartForm: (form, start) with a login that is no contact
// stays on the form with the error on "login".
func TestRecoveryStartForm(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name  string
		login string
		want  fe
	}{
		{"empty", "", fe{"login", "contact.required"}},
		{"blank", "   ", fe{"login", "contact.required"}},
		{"neither phone nor e-mail", "ivanova", fe{"login", "contact.invalid"}},
		{"malformed e-mail", "anna@", fe{"login", "contact.invalid"}},
		{"a SNILS", "123-456-789 01", fe{"login", "contact.invalid"}},
		{"too long", strings.Repeat("a", 244) + "@example.ru", fe{"login", "field.too_long"}},
		{"invalid UTF-8", "anna\xff@example.ru", fe{"login", "field.invalid_utf8"}},
		{"control character", "+7912\x1b1234589", fe{"login", "field.control_chars"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, v := env.startRecovery(t, false)
			env.CheckView(t, v, selfservice.StateForm)
			env.CheckView(t, c.Do(t, "start", selfservice.Input{"login": tt.login}), selfservice.StateForm, tt.want)
			if f := c.flow(t); f.State != selfservice.StateForm || f.rec != nil {
				t.Errorf("stored flow moved on: %+v", f)
			}
		})
	}
	if env.Sent.Len() != 0 {
		t.Errorf("sent %d messages", env.Sent.Len())
	}
}

// TestRecoveryNoEnumeration: a contact of an active account, an unknown
// one, an unconfirmed one and one of a blocked account get the same
// answers at every step; only the first receives a code.
func TestRecoveryNoEnumeration(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	env.NewAccount(t, recPhone, recEmail)
	unconfirmed := env.NewAccount(t, "+79125555589", "anya@example.ru")
	if _, err := env.Engine.Accounts.UpdateAccount(ctx, unconfirmed.ID, func(a *account.Account) error {
		a.PhoneVerified, a.EmailVerified = false, false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	blocked := env.NewAccount(t, "+79127777789", "alla@example.ru")
	if _, err := env.Engine.Accounts.UpdateAccount(ctx, blocked.ID, func(a *account.Account) error {
		a.Status = account.StatusBlocked
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	for _, group := range []struct {
		name   string
		known  string
		others []string
	}{
		{"phone", recPhone, []string{"+79120000089", "+79125555589", "+79127777789"}},
		{"e-mail", recEmail, []string{"alex@example.ru", "anya@example.ru", "alla@example.ru"}},
	} {
		t.Run(group.name, func(t *testing.T) {
			// answers runs the steps a guesser can run and returns the
			// views as the API shows them, without the flow's own id.
			answers := func(login string) []string {
				t.Helper()
				c, _ := env.startRecovery(t, true)
				var out []string
				for _, step := range []struct {
					action string
					in     selfservice.Input
				}{
					{"start", selfservice.Input{"login": login}},
					{"resend", nil},
					{"confirm", selfservice.Input{"code": "000000"}},
					{"password", selfservice.Input{"password": sst.OtherPassword, "password_confirm": sst.OtherPassword}},
				} {
					v := c.Do(t, step.action, step.in)
					v.ID, v.ExpiresAt = "", env.Now
					out = append(out, sst.ViewJSON(t, v))
				}
				return out
			}
			want := answers(group.known)
			if !strings.Contains(want[0], `"state":"confirm"`) {
				t.Fatalf("known contact: %s", want[0])
			}
			for _, other := range group.others {
				if got := answers(other); !slices.Equal(got, want) {
					t.Errorf("%s answers\n%v\nwhere an account's contact answers\n%v", other, got, want)
				}
				if msgs := env.Sent.To(other); len(msgs) != 0 {
					t.Errorf("sent to %s: %v", other, msgs)
				}
			}
			if got := env.Sent.Templates(group.known); !slices.Equal(got, []string{"otp"}) {
				t.Errorf("sent to the account's contact: %v", got)
			}
		})
	}
}

// TestRecoveryFlow walks form → confirm → password → done and checks each
// state's refusals on the way.
func TestRecoveryFlow(t *testing.T) {
	for _, api := range []bool{false, true} {
		t.Run(map[bool]string{false: "page", true: "API"}[api], func(t *testing.T) {
			env := newTestEnv(t)
			ctx := context.Background()
			acct := env.NewAccount(t, recPhone, recEmail)
			secret, err := env.Engine.Sessions.Create(ctx, &session.Session{AccountID: acct.ID, AuthTime: env.Now,
				AMR: []string{"pwd"}, CreatedAt: env.Now})
			if err != nil {
				t.Fatal(err)
			}

			c, _ := env.startRecovery(t, api)
			v := c.Do(t, "start", selfservice.Input{"login": "8 912 123 45 89"})
			env.CheckView(t, v, selfservice.StateConfirm)
			if v.Channel != "phone" || v.Contact != "+7(912)***-**-89" || !slices.Equal(sst.MessageCodes(v), []string{"recovery.sent"}) {
				t.Errorf("confirm view: %q %q %v", v.Channel, v.Contact, sst.MessageCodes(v))
			}
			msgs := env.Sent.To(recPhone)
			if len(msgs) != 1 || msgs[0].Template != "otp" || msgs[0].Data["purpose"] != "recover" || msgs[0].Channel != "sms" {
				t.Fatalf("sent: %v", msgs)
			}
			code := env.Sent.Code(t, recPhone)

			steps := []struct {
				name   string
				action string
				in     selfservice.Input
				state  string
				errs   []fe
			}{
				{"password before the code", "password", selfservice.Input{"password": sst.OtherPassword, "password_confirm": sst.OtherPassword},
					selfservice.StateConfirm, []fe{{"", "flow.error.action"}}},
				{"no code", "confirm", selfservice.Input{}, selfservice.StateConfirm, []fe{{"code", "code.required"}}},
				{"wrong code", "confirm", selfservice.Input{"code": sst.WrongCode(code)}, selfservice.StateConfirm, []fe{{"code", "code.invalid"}}},
				{"resend too soon", "resend", nil, selfservice.StateConfirm, []fe{{"", "code.too_soon"}}},
				{"right code", "confirm", selfservice.Input{"code": code}, StatePassword, nil},
				{"the code again", "confirm", selfservice.Input{"code": code}, StatePassword, []fe{{"", "flow.error.action"}}},
				{"start again", "start", selfservice.Input{"login": recPhone}, StatePassword, []fe{{"", "flow.error.action"}}},
				{"no password", "password", selfservice.Input{}, StatePassword, []fe{{"password", "password.required"}}},
				{"too short", "password", selfservice.Input{"password": "Ab1!", "password_confirm": "Ab1!"},
					StatePassword, []fe{{"password", "password.too_short"}}},
				{"too long", "password", selfservice.Input{"password": "Ab1!" + strings.Repeat("x", 125), "password_confirm": "Ab1!" + strings.Repeat("x", 125)},
					StatePassword, []fe{{"password", "password.too_long"}}},
				{"no special character", "password", selfservice.Input{"password": "Trolleybus8Omsk", "password_confirm": "Trolleybus8Omsk"},
					StatePassword, []fe{{"password", "password.need_special"}}},
				{"common", "password", selfservice.Input{"password": "Qwerty123456!", "password_confirm": "Qwerty123456!"},
					StatePassword, []fe{{"password", "password.common"}}},
				{"with the surname", "password", selfservice.Input{"password": "Ivanova#Иванова7", "password_confirm": "Ivanova#Иванова7"},
					StatePassword, []fe{{"password", "password.personal"}}},
				{"with the e-mail", "password", selfservice.Input{"password": "Anna#Tver-2024x", "password_confirm": "Anna#Tver-2024x"},
					StatePassword, []fe{{"password", "password.personal"}}},
				{"not confirmed", "password", selfservice.Input{"password": sst.OtherPassword, "password_confirm": sst.OtherPassword + "x"},
					StatePassword, []fe{{"password_confirm", "password.mismatch"}}},
				{"new password", "password", selfservice.Input{"password": sst.OtherPassword, "password_confirm": sst.OtherPassword}, selfservice.StateDone, nil},
				{"done: password again", "password", selfservice.Input{"password": sst.OtherPassword, "password_confirm": sst.OtherPassword},
					selfservice.StateDone, []fe{{"", "flow.error.action"}}},
				{"done: start again", "start", selfservice.Input{"login": recPhone}, selfservice.StateDone, []fe{{"", "flow.error.action"}}},
			}
			for _, st := range steps {
				v = c.Do(t, st.action, st.in)
				t.Logf("step %q", st.name)
				env.CheckView(t, v, st.state, st.errs...)
				if st.name == "new password" && !slices.Equal(sst.MessageCodes(v), []string{"recovery.done"}) {
					t.Errorf("done messages: %v", sst.MessageCodes(v))
				}
			}

			if env.PasswordMatches(t, acct.ID, sst.Password) || !env.PasswordMatches(t, acct.ID, sst.OtherPassword) {
				t.Error("the password was not changed")
			}
			if a := env.Account(t, acct.ID); !a.PasswordChangedAt.Equal(env.Now) {
				t.Errorf("password changed at %v", a.PasswordChangedAt)
			}
			if sess, err := env.Engine.Sessions.ByToken(ctx, secret); err != nil || sess != nil {
				t.Errorf("the session from before the recovery lives on: %+v, %v", sess, err)
			}
			if f := c.flow(t); f.rec.AccountID != "" || f.rec.Contact != "" {
				t.Errorf("the finished flow keeps the account: %+v", f.rec)
			}
			// The lockout is lifted once, when the password was set.
			if got := env.liftedFor(); !slices.Equal(got, []string{acct.ID}) {
				t.Errorf("lockout lifted for %v, want [%s]", got, acct.ID)
			}
			if v.Start != nil || v.AccountID != "" {
				t.Errorf("recovery signs in: %+v", v.Start)
			}
			if got := env.AuditTypes(t, acct.ID); !slices.Equal(got, []string{"recovery.code_sent", "password.recovered"}) {
				t.Errorf("audit: %v", got)
			}
			if got := env.Sent.Templates(recEmail); !slices.Equal(got, []string{"password_changed"}) {
				t.Errorf("sent to the e-mail: %v", got)
			}
		})
	}
}

// TestRecoveryGuards: a flow whose code was never sent (no account) or
// that did not prove the code cannot set a password, whatever is submitted.
func TestRecoveryGuards(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	acct := env.NewAccount(t, recPhone, "")

	c, _ := env.startRecovery(t, false)
	env.CheckView(t, c.Do(t, "start", selfservice.Input{"login": recPhone}), selfservice.StateConfirm)
	f := c.flow(t)
	f.rec.AccountID = "" // as for an unknown contact
	if err := env.s.save(ctx, f); err != nil {
		t.Fatal(err)
	}
	env.CheckView(t, c.Do(t, "confirm", selfservice.Input{"code": env.Sent.Code(t, recPhone)}), selfservice.StateConfirm, fe{"code", "code.invalid"})

	f = c.flow(t)
	f.State, f.rec = StatePassword, &recState{Channel: "phone", Contact: recPhone, AccountID: acct.ID}
	if err := env.s.save(ctx, f); err != nil {
		t.Fatal(err)
	}
	pw := selfservice.Input{"password": sst.OtherPassword, "password_confirm": sst.OtherPassword}
	env.CheckView(t, c.Do(t, "password", pw), StatePassword, fe{"", "flow.error.action"})
	if !env.PasswordMatches(t, acct.ID, sst.Password) {
		t.Error("an unproven flow changed the password")
	}
	if got := env.liftedFor(); len(got) != 0 {
		t.Errorf("an unproven flow lifted the lockout of %v", got)
	}
}

// TestRecoveryNoEnumerationWork (issue 10, defect 3): the start of a
// recovery (and a resend) does the same work for a contact of an active
// account as for an unknown, unconfirmed or blocked one — the same store
// reads and writes, an audit event, a message queued (a decoy the queue
// drops, with no code) — so the time of the answer does not tell them
// apart. It compares the operations, not durations.
func TestRecoveryNoEnumerationWork(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	env.NewAccount(t, recPhone, recEmail)
	unconfirmed := env.NewAccount(t, "+79125555589", "anya@example.ru")
	if _, err := env.Engine.Accounts.UpdateAccount(ctx, unconfirmed.ID, func(a *account.Account) error {
		a.PhoneVerified, a.EmailVerified = false, false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	blocked := env.NewAccount(t, "+79127777789", "alla@example.ru")
	if _, err := env.Engine.Accounts.UpdateAccount(ctx, blocked.ID, func(a *account.Account) error {
		a.Status = account.StatusBlocked
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// work runs start and resend for login and returns the operations
	// each made.
	work := func(t *testing.T, login string) [][]string {
		t.Helper()
		c, _ := env.startRecovery(t, true)
		env.Ops.Take()
		var out [][]string
		for _, step := range []struct {
			action string
			in     selfservice.Input
		}{
			{"start", selfservice.Input{"login": login}},
			{"resend", nil},
		} {
			c.Do(t, step.action, step.in)
			out = append(out, env.Ops.Take())
		}
		return out
	}
	for _, group := range []struct {
		name   string
		known  string
		others []string
	}{
		{"phone", recPhone, []string{"+79120000089", "+79125555589", "+79127777789"}},
		{"e-mail", recEmail, []string{"alex@example.ru", "anya@example.ru", "alla@example.ru"}},
	} {
		t.Run(group.name, func(t *testing.T) {
			want := work(t, group.known)
			if !slices.Contains(want[0], "audit.AppendEvent") || !slices.Contains(want[0], "queue.Enqueue") {
				t.Fatalf("the account's contact: %v", want[0])
			}
			for _, other := range group.others {
				if got := work(t, other); !slices.EqualFunc(got, want, slices.Equal) {
					t.Errorf("%s does\n%v\nwhere an account's contact does\n%v", other, got, want)
				}
			}
		})
	}
	// The decoys went nowhere and carry no code.
	decoys := env.Sent.Decoys()
	if len(decoys) == 0 {
		t.Fatal("no decoy was queued")
	}
	for _, m := range decoys {
		if strings.Trim(m.Data["code"], "0") != "" || m.Template != "otp" {
			t.Errorf("decoy to %s: %s %v", m.To, m.Template, m.Data)
		}
	}
	// The audit events of the unknown contacts name no account.
	evs, err := env.DB.ListEvents(ctx, "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(decoys) {
		t.Errorf("%d events with no account, %d decoys", len(evs), len(decoys))
	}
}

// TestStrangerCannotBlockOwnersRecovery: a stranger who starts recoveries
// for someone's phone and burns every code in them blocks those flows
// only; the owner's own recovery gets its code and goes on.
func TestStrangerCannotBlockOwnersRecovery(t *testing.T) {
	env := newTestEnv(t)
	env.NewAccount(t, recPhone, "")
	for range 3 {
		c, _ := env.startRecovery(t, true)
		env.CheckView(t, c.Do(t, "start", selfservice.Input{"login": recPhone}), selfservice.StateConfirm)
		wrong := sst.WrongCode(env.Sent.Code(t, recPhone))
		for range 3 {
			c.Do(t, "confirm", selfservice.Input{"code": wrong})
		}
	}
	owner, _ := env.startRecovery(t, false)
	env.CheckView(t, owner.Do(t, "start", selfservice.Input{"login": recPhone}), selfservice.StateConfirm)
	code := env.Sent.Code(t, recPhone)
	env.CheckView(t, owner.Do(t, "confirm", selfservice.Input{"code": code}), StatePassword)
}
