// Package registration is the flow that makes a citizen's account: the
// form (name, phone or e-mail, password, consent), a one-time code that
// confirms the contact (for an e-mail also a single-use link), then the
// account of the simplified level, signed in at once. Its pages are at
// /registration, its JSON face at /api/v1/flows/registration; both run the
// same steps on the self-service engine.
package registration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
)

// Kind is the flow's kind (its browser keeps the flow token in the
// gosid_registration cookie).
const Kind = "registration"

// emailLinkTTL is how long the link in the confirmation letter works
// (DESIGN.md "Decisions").
const emailLinkTTL = 24 * time.Hour

// Deps are what the flow needs.
type Deps struct {
	Engine *selfservice.Engine
	// Notifier delivers the code to the contact being confirmed (or the
	// warning to the owner of a contact that has an account).
	Notifier selfservice.Notifier
}

// Service runs registrations.
type Service struct {
	e        *selfservice.Engine
	notifier selfservice.Notifier
}

// New returns the service and serves the flow through the JSON flows API.
func New(d Deps) *Service {
	s := &Service{e: d.Engine, notifier: d.Notifier}
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

// Register mounts the pages: the flow and the e-mail link.
func (s *Service) Register(r *mux.Router) {
	s.e.MountFlowPages(r, selfservice.FlowPages{
		Kind: Kind, Path: selfservice.PathRegistration,
		Start: func(ctx context.Context, returnTo string, m selfservice.Meta) (*selfservice.View, error) {
			return s.Start(ctx, false, returnTo, m)
		},
		Show: s.Show, Submit: s.Submit,
		Retype: []string{"family_name", "given_name", "middle_name", "contact"},
	})
	r.HandleFunc(selfservice.PathRegistrationLink, s.link).Methods(http.MethodGet)
}

// regState is what a registration carries between steps. The password is
// hashed as soon as it is submitted; the plaintext is never stored.
type regState struct {
	FamilyName   string    `json:"family_name"`
	GivenName    string    `json:"given_name"`
	MiddleName   string    `json:"middle_name,omitempty"`
	Phone        string    `json:"phone,omitempty"`
	Email        string    `json:"email,omitempty"`
	PasswordHash string    `json:"password_hash"`
	ConsentAt    time.Time `json:"consent_at"`
	// Channel is the contact being confirmed: "phone" or "email".
	Channel string `json:"channel"`
	// Existing marks a contact that already has an account: no code was
	// sent (its owner was warned instead), and no code will be accepted.
	Existing bool `json:"existing,omitempty"`
}

func (r *regState) contact() string {
	if r.Channel == "phone" {
		return r.Phone
	}
	return r.Email
}

// flow is the engine's flow record with the registration's state, which
// is nil until the form was accepted.
type flow struct {
	*selfservice.Flow
	reg *regState
}

// data is how the state is kept in the record (under "reg", as before the
// flow had a package of its own, so that flows in progress survive).
type data struct {
	Reg *regState `json:"reg,omitempty"`
}

func load(raw *selfservice.Flow) (*flow, error) {
	var d data
	if err := raw.Decode(&d); err != nil {
		return nil, err
	}
	return &flow{Flow: raw, reg: d.Reg}, nil
}

func (s *Service) save(ctx context.Context, f *flow) error {
	if err := f.Encode(data{Reg: f.reg}); err != nil {
		return err
	}
	return s.e.Flows.Save(ctx, f.Flow)
}

// view is the engine's view plus the masked contact a code went to.
func (s *Service) view(f *flow) *selfservice.View {
	v := s.e.View(f.Flow)
	if f.reg != nil && f.State == selfservice.StateConfirm {
		v.Channel = f.reg.Channel
		v.Contact = selfservice.MaskContact(f.reg.Channel, f.reg.contact())
	}
	return v
}

// Start begins a registration (for an app or a browser) and returns its
// view with the flow token the caller must present on every later step;
// returnTo is the authorization flow to resume when it is done.
func (s *Service) Start(ctx context.Context, api bool, returnTo string, m selfservice.Meta) (*selfservice.View, error) {
	f := &flow{Flow: &selfservice.Flow{Kind: Kind, State: selfservice.StateForm, API: api, ReturnTo: returnTo}}
	token, err := s.e.Start(ctx, f.Flow)
	if err != nil {
		return nil, fmt.Errorf("registration: start: %w", err)
	}
	v := s.view(f)
	v.FlowToken = token
	return v, nil
}

// Show is the view of a registration.
func (s *Service) Show(_ context.Context, raw *selfservice.Flow, _ selfservice.Meta) (*selfservice.View, error) {
	f, err := load(raw)
	if err != nil {
		return nil, err
	}
	return s.view(f), nil
}

// Submit runs one step: action "register" (the form), "confirm" (the
// code) or "resend".
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
	case action == "register" && (f.State == selfservice.StateForm || f.State == selfservice.StateConfirm):
		return s.register(ctx, f, in, m)
	case action == "confirm" && f.State == selfservice.StateConfirm:
		return s.confirm(ctx, f, in.Get("code"), m)
	case action == "resend" && f.State == selfservice.StateConfirm:
		return s.e.Resend(s.view(f), m, "code.sent", func() error { return s.sendCode(ctx, f, m) })
	}
	v := s.view(f)
	s.e.AddErr(v, m, "", "flow.error.action")
	return v, nil
}

// register checks the form, keeps it (the password hashed) and sends the
// code.
func (s *Service) register(ctx context.Context, f *flow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f)
	v.State = selfservice.StateForm
	v.Values = map[string]string{
		"family_name": in.Get("family_name"), "given_name": in.Get("given_name"),
		"middle_name": in.Get("middle_name"), "contact": in.Get("contact"),
	}
	reg := &regState{}
	var fe *account.FieldError
	if reg.FamilyName, fe = account.NormalizeName("family_name", in.Get("family_name")); fe != nil {
		s.e.AddErr(v, m, fe.Field, fe.Code)
	}
	if reg.GivenName, fe = account.NormalizeName("given_name", in.Get("given_name")); fe != nil {
		s.e.AddErr(v, m, fe.Field, fe.Code)
	}
	if mid := in.Get("middle_name"); mid != "" {
		if reg.MiddleName, fe = account.NormalizeName("middle_name", mid); fe != nil {
			s.e.AddErr(v, m, fe.Field, fe.Code)
		}
	}
	switch kind, norm, err := account.ClassifyLogin(in.Get("contact")); {
	case in.Get("contact") == "":
		s.e.AddErr(v, m, "contact", "contact.required")
	case err != nil || kind == "snils":
		s.e.AddErr(v, m, "contact", "contact.invalid")
	case kind == "phone":
		reg.Phone, reg.Channel = norm, "phone"
	default:
		reg.Email, reg.Channel = norm, "email"
	}
	pw := in["password"]
	if pw == "" {
		s.e.AddErr(v, m, "password", "password.required")
	} else if fe := account.CheckPassword(pw, account.PersonalData{
		Phone: reg.Phone, Email: reg.Email, FamilyName: reg.FamilyName, GivenName: reg.GivenName, MiddleName: reg.MiddleName,
	}); fe != nil {
		s.e.AddErr(v, m, fe.Field, fe.Code)
	} else if pw != in["password_confirm"] {
		s.e.AddErr(v, m, "password_confirm", "password.mismatch")
	}
	if !isYes(in.Get("consent")) {
		s.e.AddErr(v, m, "consent", "consent.required")
	}
	if len(v.Errors) > 0 {
		return v, nil
	}
	hash, err := s.e.Passwords.Hash(ctx, pw)
	if err != nil {
		return nil, fmt.Errorf("registration: hash password: %w", err)
	}
	reg.PasswordHash, reg.ConsentAt = hash, s.e.Now().UTC()
	existing, err := s.e.AccountByContact(ctx, reg.Channel, reg.contact())
	if err != nil {
		return nil, fmt.Errorf("registration: %w", err)
	}
	reg.Existing = existing != nil
	f.reg, f.State = reg, selfservice.StateConfirm
	if ok, err := s.e.SendCode(v, m, func() error { return s.sendCode(ctx, f, m) }); !ok {
		return v, err
	}
	if err := s.save(ctx, f); err != nil {
		return nil, err
	}
	v = s.view(f)
	s.e.AddMsg(v, m, "code.sent")
	return v, nil
}

func isYes(s string) bool { return s == "on" || s == "true" || s == "yes" || s == "1" }

// linkPayload is what the e-mail link stands for.
type linkPayload struct {
	Flow    string `json:"flow"`
	Purpose string `json:"purpose"`
}

// sendCode issues a code and sends it; for a contact that already has an
// account the code is issued (so that every limit and answer is the same)
// but never sent: the owner gets a warning instead.
func (s *Service) sendCode(ctx context.Context, f *flow, m selfservice.Meta) error {
	reg := f.reg
	ttl, minutes := selfservice.CodeTTL(reg.Channel)
	code, err := s.e.Codes.Issue(ctx, "register:"+f.ID, reg.contact(), ttl)
	if err != nil {
		return err
	}
	msg := notify.Message{Channel: selfservice.ContactChannel(reg.Channel), To: reg.contact(), Lang: m.Lang}
	switch {
	case reg.Existing:
		msg.Template = "register_existing"
		msg.Data = map[string]string{"login_url": s.e.Issuer + selfservice.PathLogin, "recover_url": s.e.Issuer + selfservice.PathRecovery}
	case reg.Channel == "email":
		payload, _ := json.Marshal(linkPayload{Flow: f.ID, Purpose: "register"})
		token, err := s.e.Codes.NewLink(ctx, payload, emailLinkTTL)
		if err != nil {
			return fmt.Errorf("registration: e-mail link: %w", err)
		}
		msg.Template = "email_confirm"
		msg.Data = map[string]string{"code": code, "link": s.e.Issuer + selfservice.PathRegistrationLink + "?token=" + token,
			"minutes": minutes, "hours": "24"}
	default:
		msg.Template = "otp"
		msg.Data = map[string]string{"code": code, "minutes": minutes, "purpose": "register"}
		// A delivery that comes late sends no code that expired or was
		// used meanwhile (the e-mail also carries a day-long link, so it
		// always goes).
		msg.Expires, msg.CodeRef = time.Now().Add(ttl), s.e.Codes.Ref("register:"+f.ID, reg.contact())
	}
	if err := s.notifier.Enqueue(ctx, msg); err != nil {
		return fmt.Errorf("registration: send code: %w", err)
	}
	return nil
}

func (s *Service) confirm(ctx context.Context, f *flow, code string, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f)
	if ok, err := s.e.VerifyCode(ctx, v, m, "register:"+f.ID, f.reg.contact(), code); !ok {
		return v, err
	}
	if f.reg.Existing {
		// Unreachable in practice (the code was never sent); refuse anyway.
		s.e.AddErr(v, m, "code", "code.invalid")
		return v, nil
	}
	return s.complete(ctx, f, m)
}

// complete creates the account from a confirmed flow; the view says which
// session to start (the face starts it).
func (s *Service) complete(ctx context.Context, f *flow, m selfservice.Meta) (*selfservice.View, error) {
	reg := f.reg
	now := s.e.Now().UTC()
	a := &account.Account{
		ID: uuid.NewString(), Phone: reg.Phone, PhoneVerified: reg.Phone != "", Email: reg.Email,
		EmailVerified: reg.Email != "", FamilyName: reg.FamilyName, GivenName: reg.GivenName,
		MiddleName: reg.MiddleName, PasswordHash: reg.PasswordHash, PasswordChangedAt: now,
		Level: account.LevelSimplified, Status: account.StatusActive, Locale: m.Lang, CreatedAt: now, UpdatedAt: now,
	}
	if a.Locale == "" {
		a.Locale = "ru"
	}
	if err := s.e.Accounts.CreateAccount(ctx, a); errors.Is(err, storage.ErrConflict) {
		v := s.view(f)
		s.e.AddErr(v, m, "", "registration.conflict")
		return v, nil
	} else if err != nil {
		return nil, fmt.Errorf("registration: create account: %w", err)
	}
	s.e.Record(ctx, m, a.ID, "account.created", "", map[string]string{"channel": reg.Channel})
	f.State = selfservice.StateDone
	f.reg = &regState{Channel: reg.Channel}
	v := s.view(f)
	if err := s.save(ctx, f); err != nil {
		return nil, err
	}
	v.AccountID = a.ID
	v.Start = &selfservice.SessionStart{Account: a, AMR: []string{"pwd"}, Reason: selfservice.Registration}
	s.e.AddMsg(v, m, "registration.done")
	return v, nil
}

// link confirms an e-mail address from the single-use link in the
// confirmation letter, in whatever browser it is opened; it makes the
// account but signs no one in.
func (s *Service) link(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m := s.e.Meta(r)
	gone := func() {
		s.e.Web.Error(w, r, http.StatusGone, "link.error.title", "link.error.expired", selfservice.PathRegistration)
	}
	raw, err := s.e.Codes.UseLink(ctx, r.URL.Query().Get("token"))
	if err != nil {
		gone()
		return
	}
	var p linkPayload
	if json.Unmarshal(raw, &p) != nil || p.Purpose != "register" {
		gone()
		return
	}
	var f *flow
	rf, err := s.e.Flows.LoadAny(ctx, p.Flow, Kind)
	if err == nil {
		f, err = load(rf)
	}
	if err != nil || f.State != selfservice.StateConfirm || f.reg == nil || f.reg.Existing {
		gone()
		return
	}
	v, err := s.complete(ctx, f, m)
	if err != nil {
		s.e.ServerError(w, r, err)
		return
	}
	v.Messages, v.Start = nil, nil
	s.e.AddMsg(v, m, "registration.done_link")
	s.e.RenderFlow(w, r, http.StatusOK, Kind, v, f.ReturnTo)
}
