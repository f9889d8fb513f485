package registration

import (
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/selfservice"
	sst "github.com/gosid/gosid/selfservice/selfservicetest"
)

const (
	regPhone       = "+79121234589"
	regPhoneMasked = "+7(912)***-**-89"
	regEmail       = "petrova@example.ru"
)

// regForm is a valid registration form with the given contact.
func regForm(contact string) selfservice.Input {
	return selfservice.Input{
		"family_name": "Петрова", "given_name": "Анна", "middle_name": "Сергеевна", "contact": contact,
		"password": sst.Password, "password_confirm": sst.Password, "consent": "on",
	}
}

// TestRegistrationForm: (form, register) with each kind of bad input stays
// on the form with an error on the field at fault, and sends nothing.
func TestRegistrationForm(t *testing.T) {
	env := newTestEnv(t)
	valid := regForm("+7 912 123-45-89")
	tests := []struct {
		name string
		in   selfservice.Input
		want []fe
	}{
		{"nothing", selfservice.Input{}, []fe{{"family_name", "name.required"}, {"given_name", "name.required"},
			{"contact", "contact.required"}, {"password", "password.required"}, {"consent", "consent.required"}}},
		{"family name blank", sst.With(valid, "family_name", "   "), []fe{{"family_name", "name.required"}}},
		{"family name with a digit", sst.With(valid, "family_name", "Петрова2"), []fe{{"family_name", "name.invalid_chars"}}},
		{"given name in mixed scripts", sst.With(valid, "given_name", "Аnна"), []fe{{"given_name", "name.mixed_scripts"}}},
		{"middle name too long", sst.With(valid, "middle_name", strings.Repeat("я", 101)), []fe{{"middle_name", "name.too_long"}}},
		{"contact missing", sst.With(valid, "contact", ""), []fe{{"contact", "contact.required"}}},
		{"contact neither phone nor e-mail", sst.With(valid, "contact", "12345"), []fe{{"contact", "contact.invalid"}}},
		{"contact a malformed e-mail", sst.With(valid, "contact", "petrova@"), []fe{{"contact", "contact.invalid"}}},
		{"contact a SNILS", sst.With(valid, "contact", "123-456-789 01"), []fe{{"contact", "contact.invalid"}}},
		{"password missing", sst.With(valid, "password", ""), []fe{{"password", "password.required"}}},
		{"password too short", sst.With(valid, "password", "Kv8#short", "password_confirm", "Kv8#short"), []fe{{"password", "password.too_short"}}},
		{"password one case", sst.With(valid, "password", "kv8#trolleybus-omsk", "password_confirm", "kv8#trolleybus-omsk"), []fe{{"password", "password.need_cases"}}},
		{"password without a digit", sst.With(valid, "password", "Kv#trolleybus-Omsk", "password_confirm", "Kv#trolleybus-Omsk"), []fe{{"password", "password.need_digit"}}},
		{"password with the name", sst.With(valid, "password", "Петрова#2024x", "password_confirm", "Петрова#2024x"), []fe{{"password", "password.personal"}}},
		{"password with the phone", sst.With(valid, "contact", "+7 915 706-48-23", "password", "Tel#9157064823x", "password_confirm", "Tel#9157064823x"), []fe{{"password", "password.personal"}}},
		{"password not confirmed", sst.With(valid, "password_confirm", "Kv8#trolleybus-Omsx"), []fe{{"password_confirm", "password.mismatch"}}},
		{"no consent", sst.With(valid, "consent", ""), []fe{{"consent", "consent.required"}}},
		{"consent refused", sst.With(valid, "consent", "off"), []fe{{"consent", "consent.required"}}},
		{"several at once", sst.With(valid, "given_name", "", "contact", "x", "consent", ""),
			[]fe{{"given_name", "name.required"}, {"contact", "contact.invalid"}, {"consent", "consent.required"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := env.startRegistration(t, true)
			v := c.Do(t, "register", tt.in)
			env.CheckView(t, v, selfservice.StateForm, tt.want...)
			if v.Values["contact"] != tt.in.Get("contact") || v.Values["family_name"] != tt.in.Get("family_name") {
				t.Errorf("values not echoed: %v", v.Values)
			}
			for k := range v.Values {
				if strings.Contains(k, "password") {
					t.Errorf("the view echoes %s", k)
				}
			}
			if f := c.flow(t); f.State != selfservice.StateForm || f.reg != nil {
				t.Errorf("stored flow moved on: %+v", f)
			}
		})
	}
	if env.Sent.Len() != 0 {
		t.Errorf("a refused form sent %d messages", env.Sent.Len())
	}
}

// TestRegistrationInputChecks: oversize, invalid UTF-8 and control
// characters are refused before anything else, in every state.
func TestRegistrationInputChecks(t *testing.T) {
	env := newTestEnv(t)
	valid := regForm(regPhone)
	tests := []struct {
		name   string
		action string
		in     selfservice.Input
		want   fe
	}{
		{"family name too long", "register", sst.With(valid, "family_name", strings.Repeat("Ж", 201)), fe{"family_name", "field.too_long"}},
		{"contact too long", "register", sst.With(valid, "contact", strings.Repeat("a", 250)+"@example.ru"), fe{"contact", "field.too_long"}},
		{"password too long", "register", sst.With(valid, "password", strings.Repeat("x", 513)), fe{"password", "field.too_long"}},
		{"given name invalid UTF-8", "register", sst.With(valid, "given_name", "Ан\xffна"), fe{"given_name", "field.invalid_utf8"}},
		{"contact with a control character", "register", sst.With(valid, "contact", "+7912\x001234589"), fe{"contact", "field.control_chars"}},
		{"consent with a newline", "register", sst.With(valid, "consent", "on\n"), fe{"consent", "field.control_chars"}},
		{"action checked the same", "confirm", selfservice.Input{"action": strings.Repeat("a", 33)}, fe{"action", "field.too_long"}},
		{"code too long, even where no code is due", "confirm", selfservice.Input{"code": strings.Repeat("1", 17)}, fe{"code", "field.too_long"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := env.startRegistration(t, false)
			v := c.Do(t, tt.action, tt.in)
			env.CheckView(t, v, selfservice.StateForm, tt.want)
			if v.Values != nil {
				t.Errorf("a refused field is echoed: %v", v.Values)
			}
		})
	}

	// In the confirm state too, and the flow stays there.
	c, _ := env.startRegistration(t, false)
	env.CheckView(t, c.Do(t, "register", valid), selfservice.StateConfirm)
	env.CheckView(t, c.Do(t, "confirm", selfservice.Input{"code": "12\x0034"}), selfservice.StateConfirm, fe{"code", "field.control_chars"})
	env.CheckView(t, c.Do(t, "confirm", selfservice.Input{"code": "\xff\xfe"}), selfservice.StateConfirm, fe{"code", "field.invalid_utf8"})
	if c.flow(t).State != selfservice.StateConfirm {
		t.Error("a refused code moved the flow")
	}
}

// TestRegistrationUnknownAction: an action the state does not accept is
// refused with flow.error.action and changes nothing.
func TestRegistrationUnknownAction(t *testing.T) {
	env := newTestEnv(t)
	form, _ := env.startRegistration(t, true)
	confirm, _ := env.startRegistration(t, true)
	env.CheckView(t, confirm.Do(t, "register", regForm(regPhone)), selfservice.StateConfirm)
	tests := []struct {
		name   string
		c      *client
		action string
		state  string
	}{
		{"confirm on the form", form, "confirm", selfservice.StateForm},
		{"resend on the form", form, "resend", selfservice.StateForm},
		{"no action", form, "", selfservice.StateForm},
		{"unknown action", form, "delete", selfservice.StateForm},
		{"action in another case", form, "REGISTER", selfservice.StateForm},
		{"recovery's action", confirm, "password", selfservice.StateConfirm},
		{"contact flow's action", confirm, "add", selfservice.StateConfirm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.c.Do(t, tt.action, selfservice.Input{"code": "123456"})
			env.CheckView(t, v, tt.state, fe{"", "flow.error.action"})
			if f := tt.c.flow(t); f.State != tt.state {
				t.Errorf("stored state = %q, want %q", f.State, tt.state)
			}
		})
	}
}

// TestRegistrationConfirm walks the flow through its states on both faces:
// form → confirm (a code sent to the masked contact) → done, with an
// account of the simplified level.
func TestRegistrationConfirm(t *testing.T) {
	for _, tt := range []struct {
		name            string
		api             bool
		contact         string
		channel, masked string
		template        string
	}{
		{"page, phone", false, "8 (912) 123-45-89", "phone", regPhoneMasked, "otp"},
		{"API, phone", true, "+79121234589", "phone", regPhoneMasked, "otp"},
		{"page, e-mail", false, " Petrova@Example.RU ", "email", "p***@example.ru", "email_confirm"},
		{"API, e-mail", true, regEmail, "email", "p***@example.ru", "email_confirm"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			ctx := context.Background()
			c, v := env.startRegistration(t, tt.api)
			env.CheckView(t, v, selfservice.StateForm)
			if v.Type != Kind || v.FlowToken == "" || v.ID == "" {
				t.Fatalf("start: %+v", v)
			}

			v = c.Do(t, "register", regForm(tt.contact))
			env.CheckView(t, v, selfservice.StateConfirm)
			if v.Channel != tt.channel || v.Contact != tt.masked || !slices.Equal(sst.MessageCodes(v), []string{"code.sent"}) {
				t.Errorf("confirm view: channel %q contact %q messages %v", v.Channel, v.Contact, sst.MessageCodes(v))
			}
			if v.FlowToken != "" {
				t.Error("the flow token is repeated after the start")
			}
			to := regPhone
			if tt.channel == "email" {
				to = regEmail
			}
			if got := env.Sent.Templates(to); !slices.Equal(got, []string{tt.template}) {
				t.Fatalf("sent %v to %s, want [%s]", got, to, tt.template)
			}
			if f := c.flow(t); f.reg == nil || f.reg.PasswordHash == "" || strings.Contains(f.reg.PasswordHash, sst.Password) {
				t.Fatalf("stored registration: %+v", f.reg)
			}
			code := env.Sent.Code(t, to)
			// A text message carries its code's expiry and reference, so a
			// delivery that comes late sends nothing stale (#10 defect 7).
			msgs := env.Sent.To(to)
			if last := msgs[len(msgs)-1]; tt.channel == "phone" {
				pending, err := env.Engine.Codes.Pending(ctx, last.CodeRef, code)
				if last.Expires.IsZero() || last.CodeRef == "" || err != nil || !pending {
					t.Fatalf("the code message: expires %v, ref %q, pending %v (%v)", last.Expires, last.CodeRef, pending, err)
				}
				defer func() {
					if pending, _ := env.Engine.Codes.Pending(ctx, last.CodeRef, code); pending {
						t.Error("a used code is still pending: a late delivery would send it")
					}
				}()
			}

			steps := []struct {
				name, action, code string
				state              string
				errs               []fe
			}{
				{"no code", "confirm", "", selfservice.StateConfirm, []fe{{"code", "code.required"}}},
				{"wrong code", "confirm", sst.WrongCode(code), selfservice.StateConfirm, []fe{{"code", "code.invalid"}}},
				{"short code", "confirm", "12", selfservice.StateConfirm, []fe{{"code", "code.invalid"}}},
				{"resend too soon", "resend", "", selfservice.StateConfirm, []fe{{"", "code.too_soon"}}},
				{"right code", "confirm", code, selfservice.StateDone, nil},
			}
			for _, st := range steps {
				v = c.Do(t, st.action, selfservice.Input{"code": st.code})
				t.Logf("step %s", st.name)
				env.CheckView(t, v, st.state, st.errs...)
			}
			if !slices.Equal(sst.MessageCodes(v), []string{"registration.done"}) || v.AccountID == "" {
				t.Fatalf("done view: messages %v account %q", sst.MessageCodes(v), v.AccountID)
			}
			if v.Contact != "" || v.Channel != "" {
				t.Errorf("the done view shows the contact: %q %q", v.Contact, v.Channel)
			}
			// The face starts the session the registration earned.
			if st := v.Start; st == nil || st.Account == nil || st.Account.ID != v.AccountID ||
				st.Reason != selfservice.Registration || !slices.Equal(st.AMR, []string{"pwd"}) {
				t.Errorf("done view starts %+v", v.Start)
			}

			a := env.Account(t, v.AccountID)
			if a.Level != account.LevelSimplified || a.Status != account.StatusActive ||
				a.FamilyName != "Петрова" || a.GivenName != "Анна" || a.MiddleName != "Сергеевна" ||
				!a.CreatedAt.Equal(env.Now) || a.Locale != "ru" {
				t.Errorf("account: %+v", a)
			}
			if tt.channel == "phone" && (a.Phone != regPhone || !a.PhoneVerified || a.Email != "") ||
				tt.channel == "email" && (a.Email != regEmail || !a.EmailVerified || a.Phone != "") {
				t.Errorf("account contacts: phone %q/%v email %q/%v", a.Phone, a.PhoneVerified, a.Email, a.EmailVerified)
			}
			if !env.PasswordMatches(t, a.ID, sst.Password) {
				t.Error("the password does not sign in")
			}
			if got := env.AuditTypes(t, a.ID); !slices.Equal(got, []string{"account.created"}) {
				t.Errorf("audit: %v", got)
			}
			if f := c.flow(t); f.State != selfservice.StateDone || f.reg.PasswordHash != "" || f.reg.contact() != "" {
				t.Errorf("the finished flow keeps data: %+v", f.reg)
			}

			// A finished flow accepts nothing more.
			for _, action := range []string{"confirm", "resend", "register"} {
				env.CheckView(t, c.Do(t, action, sst.With(regForm(tt.contact), "code", code)), selfservice.StateDone, fe{"", "flow.error.action"})
			}
			if _, err := env.Engine.Accounts.FindAccountByPhone(ctx, "+79121234500"); err == nil {
				t.Error("unexpected account")
			}
		})
	}
}

// TestRegistrationCodeBurns: three wrong codes burn the code; the right one
// is then refused as expired and no account is made.
func TestRegistrationCodeBurns(t *testing.T) {
	env := newTestEnv(t)
	c, _ := env.startRegistration(t, false)
	env.CheckView(t, c.Do(t, "register", regForm(regPhone)), selfservice.StateConfirm)
	code := env.Sent.Code(t, regPhone)
	steps := []struct {
		code string
		want string
	}{
		{sst.WrongCode(code), "code.invalid"},
		{sst.WrongCode(code), "code.invalid"},
		{sst.WrongCode(code), "code.burned"},
		{code, "code.expired"},
	}
	for i, st := range steps {
		v := c.Do(t, "confirm", selfservice.Input{"code": st.code})
		t.Logf("attempt %d", i+1)
		env.CheckView(t, v, selfservice.StateConfirm, fe{"code", st.want})
	}
	if _, err := env.Engine.Accounts.FindAccountByPhone(context.Background(), regPhone); err == nil {
		t.Error("an account was made with a burned code")
	}
}

// TestRegistrationChangeContact: from the confirm state the form can be
// sent again with another contact; the code goes there.
func TestRegistrationChangeContact(t *testing.T) {
	env := newTestEnv(t)
	c, _ := env.startRegistration(t, false)
	env.CheckView(t, c.Do(t, "register", regForm(regPhone)), selfservice.StateConfirm)
	v := c.Do(t, "register", regForm(regEmail))
	env.CheckView(t, v, selfservice.StateConfirm)
	if v.Channel != "email" || v.Contact != "p***@example.ru" {
		t.Errorf("after the change: %q %q", v.Channel, v.Contact)
	}
	// An invalid change shows the form with its error.
	env.CheckView(t, c.Do(t, "register", sst.With(regForm(regEmail), "contact", "nope")), selfservice.StateForm, fe{"contact", "contact.invalid"})
	v = c.Do(t, "confirm", selfservice.Input{"code": env.Sent.Code(t, regEmail)})
	env.CheckView(t, v, selfservice.StateDone)
	if a := env.Account(t, v.AccountID); a.Email != regEmail || a.Phone != "" {
		t.Errorf("account: phone %q email %q", a.Phone, a.Email)
	}
}

// TestRegistrationExistingContact: a contact that already has an account
// gets exactly the answer a fresh one gets; its owner is warned instead of
// receiving a code, and no code completes the flow.
func TestRegistrationExistingContact(t *testing.T) {
	for _, contact := range []string{regPhone, regEmail} {
		t.Run(contact, func(t *testing.T) {
			taken, fresh := newTestEnv(t), newTestEnv(t)
			owner := taken.NewAccount(t, regPhone, regEmail)

			ct, vt := taken.startRegistration(t, true)
			cf, vf := fresh.startRegistration(t, true)
			same := func(step string, a, b *selfservice.View) {
				t.Helper()
				a2, b2 := *a, *b
				a2.ID, a2.FlowToken, a2.ExpiresAt = "", "", b2.ExpiresAt
				b2.ID, b2.FlowToken = "", ""
				if got, want := sst.ViewJSON(t, &a2), sst.ViewJSON(t, &b2); got != want {
					t.Errorf("%s: taken contact answers\n%s\nfresh contact answers\n%s", step, got, want)
				}
			}
			same("start", vt, vf)
			same("register", ct.Do(t, "register", regForm(contact)), cf.Do(t, "register", regForm(contact)))
			same("resend", ct.Do(t, "resend", nil), cf.Do(t, "resend", nil))
			code := fresh.Sent.Code(t, contact)
			same("wrong code", ct.Do(t, "confirm", selfservice.Input{"code": sst.WrongCode(code)}), cf.Do(t, "confirm", selfservice.Input{"code": sst.WrongCode(code)}))

			msgs := taken.Sent.To(contact)
			if len(msgs) != 1 || msgs[0].Template != "register_existing" || msgs[0].Data["code"] != "" {
				t.Fatalf("sent to the owner: %v", msgs)
			}
			if accts := taken.AuditTypes(t, owner.ID); len(accts) != 0 {
				t.Errorf("audit of the owner: %v", accts)
			}
		})
	}
}

// TestRegistrationExistingRefusesCode: even the right code does not finish
// a registration for a contact that has an account (the guard behind "the
// code was never sent").
func TestRegistrationExistingRefusesCode(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	c, _ := env.startRegistration(t, false)
	env.CheckView(t, c.Do(t, "register", regForm(regPhone)), selfservice.StateConfirm)
	f := c.flow(t)
	f.reg.Existing = true
	if err := env.s.save(ctx, f); err != nil {
		t.Fatal(err)
	}
	env.CheckView(t, c.Do(t, "confirm", selfservice.Input{"code": env.Sent.Code(t, regPhone)}), selfservice.StateConfirm, fe{"code", "code.invalid"})
	if _, err := env.Engine.Accounts.FindAccountByPhone(ctx, regPhone); err == nil {
		t.Error("an account was made for a taken contact")
	}
}

// TestRegistrationConflict: the contact was taken between the code and
// its confirmation (another flow finished first).
func TestRegistrationConflict(t *testing.T) {
	env := newTestEnv(t)
	c, _ := env.startRegistration(t, true)
	env.CheckView(t, c.Do(t, "register", regForm(regPhone)), selfservice.StateConfirm)
	env.NewAccount(t, regPhone, "")
	v := c.Do(t, "confirm", selfservice.Input{"code": env.Sent.Code(t, regPhone)})
	env.CheckView(t, v, selfservice.StateConfirm, fe{"", "registration.conflict"})
	if v.AccountID != "" {
		t.Error("a conflicting registration signs in")
	}
}

// TestRegistrationFlowSealed: a registration waiting for its code keeps the
// citizen's names, contact and password hash in the short-lived store, for
// as long as the flow lives; a dump of that store (the embedded store's
// tables, or Redis) shows none of them.
func TestRegistrationFlowSealed(t *testing.T) {
	for _, backend := range []struct {
		name string
		new  func(*testing.T) *sst.Env
	}{{"sqlite", sst.New}, {"redis", sst.NewRedis}} {
		t.Run(backend.name, func(t *testing.T) {
			e := backend.new(t)
			env := &testEnv{Env: e, s: New(Deps{Engine: e.Engine, Notifier: e.Sent})}
			for _, contact := range []string{regPhone, regEmail} {
				c, _ := env.startRegistration(t, true)
				in := regForm(contact)
				in["middle_name"] = "Святославовна"
				env.CheckView(t, c.Do(t, "register", in), selfservice.StateConfirm)
				f := c.flow(t)
				if f.reg == nil || f.reg.PasswordHash == "" {
					t.Fatalf("stored registration: %+v", f.reg)
				}
				dump := env.DumpEphemeral(t)
				if !strings.Contains(dump, "selfservice:flow:"+c.ID) {
					t.Fatalf("the flow is not in the dump:\n%s", dump)
				}
				for _, v := range []string{"Петрова", "Анна", "Святославовна", contact,
					strings.TrimPrefix(regPhone, "+7"), "petrova@", f.reg.PasswordHash, "$argon2id$"} {
					// A blob column dumps as hex.
					if strings.Contains(dump, v) || strings.Contains(dump, hex.EncodeToString([]byte(v))) {
						t.Errorf("%q is in clear in the short-lived store", v)
					}
				}
			}
		})
	}
}
