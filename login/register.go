package login

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
)

// Code validity (DESIGN.md "Decisions").
const (
	smsCodeTTL   = 5 * time.Minute
	emailCodeTTL = 10 * time.Minute
	emailLinkTTL = 24 * time.Hour
)

// StartRegistration begins a registration; for API flows it returns the
// flow token the app must present on every later step.
func (s *Service) StartRegistration(ctx context.Context, api bool, returnTo string, m selfservice.Meta) (*selfservice.View, error) {
	return s.start(ctx, newSelfFlow(KindRegistration, selfservice.StateForm, api, returnTo), m)
}

// SubmitRegistration runs one step: action "register" (the form), "confirm"
// (the code) or "resend".
func (s *Service) SubmitRegistration(ctx context.Context, f *SelfFlow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	if v := s.rejectInput(f, in, m); v != nil {
		return v, nil
	}
	switch {
	case action == "register" && (f.State == selfservice.StateForm || f.State == selfservice.StateConfirm):
		return s.register(ctx, f, in, m)
	case action == "confirm" && f.State == selfservice.StateConfirm:
		return s.confirmRegistration(ctx, f, in.Get("code"), m)
	case action == "resend" && f.State == selfservice.StateConfirm:
		return s.resend(ctx, f, m, "code.sent", s.sendRegistrationCode)
	}
	return s.unknownAction(f, m), nil
}

func (s *Service) register(ctx context.Context, f *SelfFlow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f, m)
	v.State = selfservice.StateForm
	v.Values = map[string]string{
		"family_name": in.Get("family_name"), "given_name": in.Get("given_name"),
		"middle_name": in.Get("middle_name"), "contact": in.Get("contact"),
	}
	reg := &regState{}
	var fe *account.FieldError
	if reg.FamilyName, fe = account.NormalizeName("family_name", in.Get("family_name")); fe != nil {
		s.addErr(v, m, fe.Field, fe.Code)
	}
	if reg.GivenName, fe = account.NormalizeName("given_name", in.Get("given_name")); fe != nil {
		s.addErr(v, m, fe.Field, fe.Code)
	}
	if mid := in.Get("middle_name"); mid != "" {
		if reg.MiddleName, fe = account.NormalizeName("middle_name", mid); fe != nil {
			s.addErr(v, m, fe.Field, fe.Code)
		}
	}
	switch kind, norm, err := account.ClassifyLogin(in.Get("contact")); {
	case in.Get("contact") == "":
		s.addErr(v, m, "contact", "contact.required")
	case err != nil || kind == "snils":
		s.addErr(v, m, "contact", "contact.invalid")
	case kind == "phone":
		reg.Phone, reg.Channel = norm, "phone"
	default:
		reg.Email, reg.Channel = norm, "email"
	}
	pw := in["password"]
	if pw == "" {
		s.addErr(v, m, "password", "password.required")
	} else if fe := account.CheckPassword(pw, account.PersonalData{
		Phone: reg.Phone, Email: reg.Email, FamilyName: reg.FamilyName, GivenName: reg.GivenName, MiddleName: reg.MiddleName,
	}); fe != nil {
		s.addErr(v, m, fe.Field, fe.Code)
	} else if pw != in["password_confirm"] {
		s.addErr(v, m, "password_confirm", "password.mismatch")
	}
	if !isYes(in.Get("consent")) {
		s.addErr(v, m, "consent", "consent.required")
	}
	if len(v.Errors) > 0 {
		return v, nil
	}
	hash, err := s.Passwords.Hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	reg.PasswordHash, reg.ConsentAt = hash, s.Now().UTC()
	existing, err := s.contactTaken(ctx, reg)
	if err != nil {
		return nil, err
	}
	reg.Existing = existing
	f.Reg, f.State = reg, selfservice.StateConfirm
	if ok, err := s.sendCode(ctx, f, v, m, s.sendRegistrationCode); !ok {
		return v, err
	}
	if err := s.self.save(ctx, f); err != nil {
		return nil, err
	}
	v = s.view(f, m)
	s.addMsg(v, m, "code.sent")
	return v, nil
}

func isYes(s string) bool { return s == "on" || s == "true" || s == "yes" || s == "1" }

func (s *Service) contactTaken(ctx context.Context, reg *regState) (bool, error) {
	var err error
	if reg.Phone != "" {
		_, err = s.Accounts.FindAccountByPhone(ctx, reg.Phone)
	} else {
		_, err = s.Accounts.FindAccountByEmail(ctx, reg.Email)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (r *regState) contact() string {
	if r.Channel == "phone" {
		return r.Phone
	}
	return r.Email
}

// sendRegistrationCode issues a code and sends it; for a contact that
// already has an account the code is issued (so that every limit and answer
// is the same) but never sent: the owner gets a warning instead.
func (s *Service) sendRegistrationCode(ctx context.Context, f *SelfFlow, m selfservice.Meta) error {
	reg := f.Reg
	ttl := smsCodeTTL
	if reg.Channel == "email" {
		ttl = emailCodeTTL
	}
	code, err := s.Codes.Issue(ctx, "register", reg.contact(), ttl)
	if err != nil {
		return err
	}
	msg := notify.Message{Channel: notify.Channel(channelOf(reg.Channel)), To: reg.contact(), Lang: m.Lang}
	switch {
	case reg.Existing:
		msg.Template = "register_existing"
		msg.Data = map[string]string{"login_url": s.Issuer + PathLogin, "recover_url": s.Issuer + PathRecovery}
	case reg.Channel == "email":
		payload, _ := json.Marshal(linkPayload{Flow: f.ID, Purpose: "register"})
		token, err := s.Codes.NewLink(ctx, payload, emailLinkTTL)
		if err != nil {
			return err
		}
		msg.Template = "email_confirm"
		msg.Data = map[string]string{"code": code, "link": s.Issuer + PathRegistrationLink + "?token=" + token,
			"minutes": "10", "hours": "24"}
	default:
		msg.Template = "otp"
		msg.Data = map[string]string{"code": code, "minutes": "5", "purpose": "register"}
	}
	return s.o.Notifier.Enqueue(ctx, msg)
}

type linkPayload struct {
	Flow    string `json:"flow"`
	Purpose string `json:"purpose"`
}

func channelOf(c string) string {
	if c == "phone" {
		return "sms"
	}
	return "email"
}

func (s *Service) confirmRegistration(ctx context.Context, f *SelfFlow, code string, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f, m)
	if ok, err := s.verifyCode(ctx, v, m, "register", f.Reg.contact(), code); !ok {
		return v, err
	}
	if f.Reg.Existing {
		// Unreachable in practice (the code was never sent); refuse anyway.
		s.addErr(v, m, "code", "code.invalid")
		return v, nil
	}
	return s.completeRegistration(ctx, f, m)
}

// completeRegistration creates the account from a confirmed flow.
func (s *Service) completeRegistration(ctx context.Context, f *SelfFlow, m selfservice.Meta) (*selfservice.View, error) {
	reg := f.Reg
	now := s.Now().UTC()
	a := &account.Account{
		ID: uuid.NewString(), Phone: reg.Phone, PhoneVerified: reg.Phone != "", Email: reg.Email,
		EmailVerified: reg.Email != "", FamilyName: reg.FamilyName, GivenName: reg.GivenName,
		MiddleName: reg.MiddleName, PasswordHash: reg.PasswordHash, PasswordChangedAt: now,
		Level: account.LevelSimplified, Status: account.StatusActive, Locale: m.Lang, CreatedAt: now, UpdatedAt: now,
	}
	if a.Locale == "" {
		a.Locale = "ru"
	}
	if err := s.Accounts.CreateAccount(ctx, a); errors.Is(err, storage.ErrConflict) {
		v := s.view(f, m)
		s.addErr(v, m, "", "registration.conflict")
		return v, nil
	} else if err != nil {
		return nil, err
	}
	s.Record(ctx, m, a.ID, "account.created", "", map[string]string{"channel": reg.Channel})
	f.State = selfservice.StateDone
	f.Reg = &regState{Channel: reg.Channel}
	v := s.view(f, m)
	if err := s.self.save(ctx, f); err != nil {
		return nil, err
	}
	v.AccountID = a.ID
	s.addMsg(v, m, "registration.done")
	return v, nil
}
