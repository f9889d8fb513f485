// Package recovery is «Забыли пароль?»: the citizen names a phone or an
// e-mail, proves it with a one-time code and chooses a new password; every
// session of the account ends and a password lockout is lifted. No answer
// tells whether the contact belongs to an account. Its page is at
// /recovery, its JSON face at /api/v1/flows/recovery; both run the same
// steps on the self-service engine. Recovery signs no one in.
package recovery

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/selfservice"
)

// Kind is the flow's kind (its browser keeps the flow token in the
// gosid_recovery cookie).
const Kind = "recovery"

// StatePassword is the step of choosing a new password.
const StatePassword = "password"

// Deps are what the flow needs.
type Deps struct {
	Engine *selfservice.Engine
	// Notifier delivers the code to the contact.
	Notifier selfservice.Notifier
	// LiftLockout ends the password lockout of an account (sign-in keeps
	// the counter), so that the new password signs in at once.
	LiftLockout func(ctx context.Context, accountID, device string) error
}

// Service runs recoveries.
type Service struct {
	e           *selfservice.Engine
	notifier    selfservice.Notifier
	liftLockout func(ctx context.Context, accountID, device string) error
}

// New returns the service and serves the flow through the JSON flows API.
func New(d Deps) *Service {
	s := &Service{e: d.Engine, notifier: d.Notifier, liftLockout: d.LiftLockout}
	s.e.HandleFlow(Kind, selfservice.APIFlow{
		Start: func(ctx context.Context, m selfservice.Meta) (*selfservice.View, error) {
			return s.Start(ctx, true, "", m)
		},
		Show: s.Show,
		Submit: func(w http.ResponseWriter, r *http.Request, f *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
			return s.Submit(r.Context(), f, action, in, m)
		},
	})
	return s
}

// Register mounts the page.
func (s *Service) Register(r *mux.Router) {
	s.e.MountFlowPages(r, selfservice.FlowPages{
		Kind: Kind, Path: selfservice.PathRecovery,
		Start: func(ctx context.Context, returnTo string, m selfservice.Meta) (*selfservice.View, error) {
			return s.Start(ctx, false, returnTo, m)
		},
		Show: s.Show, Submit: s.Submit,
		Retype: []string{"login"},
	})
}

// recState is what a recovery carries between steps.
type recState struct {
	Channel string `json:"channel"`
	Contact string `json:"contact"`
	// AccountID is set only for a confirmed contact of an active account:
	// the only one that receives the code.
	AccountID string `json:"account_id,omitempty"`
	// Verified marks a flow that proved the code.
	Verified bool `json:"verified,omitempty"`
}

// flow is the engine's flow record with the recovery's state, which is nil
// until a contact was accepted.
type flow struct {
	*selfservice.Flow
	rec *recState
}

// data is how the state is kept in the record (under "rec", as before the
// flow had a package of its own, so that flows in progress survive).
type data struct {
	Rec *recState `json:"rec,omitempty"`
}

func load(raw *selfservice.Flow) (*flow, error) {
	var d data
	if err := raw.Decode(&d); err != nil {
		return nil, err
	}
	return &flow{Flow: raw, rec: d.Rec}, nil
}

func (s *Service) save(ctx context.Context, f *flow) error {
	if err := f.Encode(data{Rec: f.rec}); err != nil {
		return err
	}
	return s.e.Flows.Save(ctx, f.Flow)
}

// view is the engine's view plus the masked contact a code went to.
func (s *Service) view(f *flow) *selfservice.View {
	v := s.e.View(f.Flow)
	if f.rec != nil && f.State == selfservice.StateConfirm {
		v.Channel = f.rec.Channel
		v.Contact = selfservice.MaskContact(f.rec.Channel, f.rec.Contact)
	}
	return v
}

// Start begins a recovery (for an app or a browser) and returns its view
// with the flow token the caller must present on every later step.
func (s *Service) Start(ctx context.Context, api bool, returnTo string, m selfservice.Meta) (*selfservice.View, error) {
	f := &flow{Flow: &selfservice.Flow{Kind: Kind, State: selfservice.StateForm, API: api, ReturnTo: returnTo}}
	token, err := s.e.Start(ctx, f.Flow)
	if err != nil {
		return nil, fmt.Errorf("recovery: start: %w", err)
	}
	v := s.view(f)
	v.FlowToken = token
	return v, nil
}

// Show is the view of a recovery.
func (s *Service) Show(_ context.Context, raw *selfservice.Flow, _ selfservice.Meta) (*selfservice.View, error) {
	f, err := load(raw)
	if err != nil {
		return nil, err
	}
	return s.view(f), nil
}

// Submit runs one step: "start" (phone or e-mail), "confirm" (the code),
// "resend", "password" (the new password).
func (s *Service) Submit(ctx context.Context, raw *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	f, err := load(raw)
	if err != nil {
		return nil, err
	}
	if fe := selfservice.CheckInput(in); fe != nil {
		v := s.view(f)
		s.e.AddErr(v, m, fe.Field, fe.Code)
		return v, nil
	}
	switch {
	case action == "start" && (f.State == selfservice.StateForm || f.State == selfservice.StateConfirm):
		return s.start(ctx, f, in, m)
	case action == "confirm" && f.State == selfservice.StateConfirm:
		return s.confirm(ctx, f, in.Get("code"), m)
	case action == "resend" && f.State == selfservice.StateConfirm:
		return s.e.Resend(s.view(f), m, "recovery.sent", func() error { return s.sendCode(ctx, f, m) })
	case action == "password" && f.State == StatePassword:
		return s.password(ctx, f, in, m)
	}
	v := s.view(f)
	s.e.AddErr(v, m, "", "flow.error.action")
	return v, nil
}

// start takes the contact and sends the code.
func (s *Service) start(ctx context.Context, f *flow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f)
	v.State = selfservice.StateForm
	v.Values = map[string]string{"login": in.Get("login")}
	kind, norm, err := account.ClassifyLogin(in.Get("login"))
	if in.Get("login") == "" {
		s.e.AddErr(v, m, "login", "contact.required")
		return v, nil
	}
	if err != nil || kind == "snils" {
		s.e.AddErr(v, m, "login", "contact.invalid")
		return v, nil
	}
	rec := &recState{Channel: kind, Contact: norm}
	acct, err := s.e.AccountByContact(ctx, kind, norm)
	if err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	// Only a confirmed contact of an active account receives the code; for
	// any other the code is issued (same limits, same answer) but not sent.
	if acct != nil && acct.Status == account.StatusActive && contactConfirmed(acct, kind) {
		rec.AccountID = acct.ID
	}
	f.rec, f.State = rec, selfservice.StateConfirm
	if ok, err := s.e.SendCode(v, m, func() error { return s.sendCode(ctx, f, m) }); !ok {
		return v, err
	}
	if err := s.save(ctx, f); err != nil {
		return nil, err
	}
	v = s.view(f)
	s.e.AddMsg(v, m, "recovery.sent")
	return v, nil
}

func contactConfirmed(a *account.Account, kind string) bool {
	if kind == "phone" {
		return a.PhoneVerified
	}
	return a.EmailVerified
}

// sendCode issues a code and sends it to an account's contact only. For
// any other contact it does the same work before answering (issue 10,
// defect 3: the time of the answer must not tell): an audit event (with no
// account) and a message queued as a decoy, which the queue drops.
// codePurpose scopes a recovery's codes to its flow: codes a stranger burns
// in a recovery they started for someone's phone block their flow, never
// the owner's (the hourly limit per contact still bounds the guesses).
func codePurpose(f *flow) string { return "recover:" + f.ID }

func (s *Service) sendCode(ctx context.Context, f *flow, m selfservice.Meta) error {
	rec := f.rec
	ttl, minutes := selfservice.CodeTTL(rec.Channel)
	code, err := s.e.Codes.Issue(ctx, codePurpose(f), rec.Contact, ttl)
	if err != nil {
		return err
	}
	known := rec.AccountID != ""
	event := "recovery.code_sent"
	if !known {
		event = "recovery.code_not_sent"
		code = strings.Repeat("0", len(code)) // a decoy carries no code
	}
	s.e.Record(ctx, m, rec.AccountID, event, "", map[string]string{"channel": rec.Channel})
	err = s.notifier.Enqueue(ctx, notify.Message{
		Channel: selfservice.ContactChannel(rec.Channel), To: rec.Contact, Template: "otp", Lang: m.Lang,
		Data:    map[string]string{"code": code, "minutes": minutes, "purpose": "recover"},
		Decoy:   !known,
		Expires: time.Now().Add(ttl), CodeRef: s.e.Codes.Ref(codePurpose(f), rec.Contact),
	})
	if err != nil {
		return fmt.Errorf("recovery: send code: %w", err)
	}
	return nil
}

func (s *Service) confirm(ctx context.Context, f *flow, code string, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f)
	if ok, err := s.e.VerifyCode(ctx, v, m, codePurpose(f), f.rec.Contact, code); !ok {
		return v, err
	}
	if f.rec.AccountID == "" {
		s.e.AddErr(v, m, "code", "code.invalid")
		return v, nil
	}
	f.rec.Verified, f.State = true, StatePassword
	if err := s.save(ctx, f); err != nil {
		return nil, err
	}
	return s.view(f), nil
}

// password sets the new password of a flow that proved the code.
func (s *Service) password(ctx context.Context, f *flow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f)
	if !f.rec.Verified || f.rec.AccountID == "" {
		s.e.AddErr(v, m, "", "flow.error.action")
		return v, nil
	}
	acct, err := s.e.Accounts.GetAccount(ctx, f.rec.AccountID)
	if err != nil {
		return nil, fmt.Errorf("recovery: load account: %w", err)
	}
	if fe := selfservice.CheckNewPassword(acct, in); fe != nil {
		s.e.AddErr(v, m, fe.Field, fe.Code)
		return v, nil
	}
	if err := s.e.SetPassword(ctx, acct, in["password"], m, "password.recovered"); err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	// Recovery lifts a password lockout at once.
	if err := s.liftLockout(ctx, acct.ID, m.Device); err != nil {
		return nil, fmt.Errorf("recovery: lift lockout: %w", err)
	}
	f.State = selfservice.StateDone
	f.rec = &recState{Channel: f.rec.Channel}
	if err := s.save(ctx, f); err != nil {
		return nil, err
	}
	v = s.view(f)
	s.e.AddMsg(v, m, "recovery.done")
	return v, nil
}
