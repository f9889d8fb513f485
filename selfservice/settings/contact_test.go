package settings

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	sst "github.com/gosid/gosid/selfservice/selfservicetest"

	"github.com/google/uuid"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/selfservice"
)

// The contact flow's (state, action) → (state, errors, messages sent),
// driven through StartContact/SubmitContact on the embedded SQLite store,
// the real renderer and real one-time codes; the HTTP tests in app/ are
// the end-to-end reference.

func newTestService(t *testing.T) (*Service, *sst.Notifier) {
	t.Helper()
	env := sst.New(t)
	return New(Deps{Engine: env.Engine, Notifier: env.Sent}), env.Sent
}

func newAccount(t *testing.T, s *Service, phone, email string) *account.Account {
	t.Helper()
	now := time.Now().UTC()
	a := &account.Account{ID: uuid.NewString(), Phone: phone, PhoneVerified: phone != "", Email: email, EmailVerified: email != "",
		FamilyName: "Иванова", GivenName: "Мария", Level: account.LevelSimplified, Status: account.StatusActive,
		CreatedAt: now, UpdatedAt: now}
	if err := s.Accounts.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func errorCodes(v *selfservice.View) []string {
	var out []string
	for _, e := range v.Errors {
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

func TestContactFlow(t *testing.T) {
	const (
		ownPhone   = "+79120000001"
		otherEmail = "taken@example.ru"
		newEmail   = "new@example.ru"
	)
	type step struct {
		action string
		in     selfservice.Input
		// code "*" stands for the code the notifier last sent to newEmail.
	}
	cases := []struct {
		name  string
		steps []step
		// what the last step answers
		state  string
		errs   []string
		sentTo string // the contact that must have had a code ("" none)
		// confirmed is the e-mail the account has confirmed in the end.
		confirmed string
	}{
		{name: "empty contact", steps: []step{{"add", selfservice.Input{"contact": " "}}},
			state: selfservice.StateForm, errs: []string{"contact:contact.required"}},
		{name: "not a phone or e-mail", steps: []step{{"add", selfservice.Input{"contact": "12345"}}},
			state: selfservice.StateForm, errs: []string{"contact:contact.invalid"}},
		{name: "the account's own confirmed phone", steps: []step{{"add", selfservice.Input{"contact": "8 912 000-00-01"}}},
			state: selfservice.StateForm, errs: []string{"contact:contact.already"}},
		{name: "oversize field", steps: []step{{"add", selfservice.Input{"contact": strings.Repeat("a", 300)}}},
			state: selfservice.StateForm, errs: []string{"contact:field.too_long"}},
		{name: "confirm before a code was sent", steps: []step{{"confirm", selfservice.Input{"code": "123456"}}},
			state: selfservice.StateForm, errs: []string{":flow.error.action"}},
		{name: "a new e-mail: code sent", steps: []step{{"add", selfservice.Input{"contact": newEmail}}},
			state: selfservice.StateConfirm, sentTo: newEmail},
		{name: "wrong code", steps: []step{{"add", selfservice.Input{"contact": newEmail}}, {"confirm", selfservice.Input{"code": "000000"}}},
			state: selfservice.StateConfirm, errs: []string{"code:code.invalid"}, sentTo: newEmail},
		{name: "right code: confirmed", steps: []step{{"add", selfservice.Input{"contact": newEmail}}, {"confirm", selfservice.Input{"code": "*"}}},
			state: selfservice.StateDone, sentTo: newEmail, confirmed: newEmail},
		{name: "another account's e-mail: same answer, no code", steps: []step{{"add", selfservice.Input{"contact": otherEmail}}},
			state: selfservice.StateConfirm},
		{name: "another account's e-mail: no code is accepted", steps: []step{{"add", selfservice.Input{"contact": otherEmail}}, {"confirm", selfservice.Input{"code": "123456"}}},
			state: selfservice.StateConfirm, errs: []string{"code:code.invalid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, sent := newTestService(t)
			a := newAccount(t, s, ownPhone, "")
			newAccount(t, s, "", otherEmail)
			m := selfservice.Meta{Lang: "en"}
			v, err := s.StartContact(ctx, true, a.ID, m)
			if err != nil {
				t.Fatal(err)
			}
			if v.State != selfservice.StateForm || v.FlowToken == "" {
				t.Fatalf("start: state %q, token %q", v.State, v.FlowToken)
			}
			for _, st := range tc.steps {
				raw, err := s.Flows.Load(ctx, v.ID, KindContact, true, v.FlowToken)
				if err != nil {
					t.Fatal(err)
				}
				f, err := decodeContact(raw)
				if err != nil {
					t.Fatal(err)
				}
				in := selfservice.Input{}
				for k, x := range st.in {
					in[k] = x
				}
				if in["code"] == "*" {
					msgs := sent.To(newEmail)
					if len(msgs) == 0 {
						t.Fatal("no code was sent")
					}
					in["code"] = msgs[len(msgs)-1].Data["code"]
				}
				token := v.FlowToken
				if v, err = s.SubmitContact(ctx, f, st.action, in, m); err != nil {
					t.Fatalf("%s: %v", st.action, err)
				}
				v.FlowToken = token
			}
			if v.State != tc.state || !slices.Equal(errorCodes(v), tc.errs) {
				t.Fatalf("got state %q errors %v, want %q %v", v.State, errorCodes(v), tc.state, tc.errs)
			}
			if got := len(sent.To(newEmail)) + len(sent.To(otherEmail)); (tc.sentTo != "") != (got > 0) {
				t.Fatalf("codes sent: %d, want some: %v", got, tc.sentTo != "")
			}
			if len(sent.To(otherEmail)) > 0 {
				t.Fatal("a code went to another account's contact")
			}
			got, err := s.Accounts.GetAccount(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if confirmed := map[bool]string{true: got.Email}[got.EmailVerified]; confirmed != tc.confirmed {
				t.Fatalf("confirmed e-mail %q, want %q", confirmed, tc.confirmed)
			}
		})
	}
}
