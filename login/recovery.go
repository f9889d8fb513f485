package login

import (
	"context"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/selfservice"
)

// StartRecovery begins «Забыли пароль?».
func (s *Service) StartRecovery(ctx context.Context, api bool, returnTo string, m selfservice.Meta) (*selfservice.View, error) {
	return s.start(ctx, newSelfFlow(KindRecovery, selfservice.StateForm, api, returnTo), m)
}

// SubmitRecovery runs one step: "start" (phone or e-mail), "confirm" (the
// code), "resend", "password" (the new password). No answer tells whether
// the contact belongs to an account.
func (s *Service) SubmitRecovery(ctx context.Context, f *SelfFlow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	if v := s.rejectInput(f, in, m); v != nil {
		return v, nil
	}
	switch {
	case action == "start" && (f.State == selfservice.StateForm || f.State == selfservice.StateConfirm):
		return s.recoveryStart(ctx, f, in, m)
	case action == "confirm" && f.State == selfservice.StateConfirm:
		return s.recoveryConfirm(ctx, f, in.Get("code"), m)
	case action == "resend" && f.State == selfservice.StateConfirm:
		return s.resend(ctx, f, m, "recovery.sent", s.sendRecoveryCode)
	case action == "password" && f.State == StatePassword:
		return s.recoveryPassword(ctx, f, in, m)
	}
	return s.unknownAction(f, m), nil
}

func (s *Service) recoveryStart(ctx context.Context, f *SelfFlow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f, m)
	v.State = selfservice.StateForm
	v.Values = map[string]string{"login": in.Get("login")}
	kind, norm, err := account.ClassifyLogin(in.Get("login"))
	if in.Get("login") == "" {
		s.addErr(v, m, "login", "contact.required")
		return v, nil
	}
	if err != nil || kind == "snils" {
		s.addErr(v, m, "login", "contact.invalid")
		return v, nil
	}
	rec := &recState{Channel: kind, Contact: norm}
	acct, err := s.findAccount(ctx, norm)
	if err != nil {
		return nil, err
	}
	// Only a confirmed contact of an active account receives the code; for
	// any other the code is issued (same limits, same answer) but not sent.
	if acct != nil && acct.Status == account.StatusActive && contactConfirmed(acct, kind) {
		rec.AccountID = acct.ID
	}
	f.Rec, f.State = rec, selfservice.StateConfirm
	if ok, err := s.sendCode(ctx, f, v, m, s.sendRecoveryCode); !ok {
		return v, err
	}
	if err := s.self.save(ctx, f); err != nil {
		return nil, err
	}
	v = s.view(f, m)
	s.addMsg(v, m, "recovery.sent")
	return v, nil
}

func contactConfirmed(a *account.Account, kind string) bool {
	if kind == "phone" {
		return a.PhoneVerified
	}
	return a.EmailVerified
}

func (s *Service) sendRecoveryCode(ctx context.Context, f *SelfFlow, m selfservice.Meta) error {
	rec := f.Rec
	ttl := smsCodeTTL
	minutes := "5"
	if rec.Channel == "email" {
		ttl, minutes = emailCodeTTL, "10"
	}
	code, err := s.Codes.Issue(ctx, "recover", rec.Contact, ttl)
	if err != nil || rec.AccountID == "" {
		return err
	}
	s.Record(ctx, m, rec.AccountID, "recovery.code_sent", "", map[string]string{"channel": rec.Channel})
	return s.o.Notifier.Enqueue(ctx, notify.Message{
		Channel: notify.Channel(channelOf(rec.Channel)), To: rec.Contact, Template: "otp", Lang: m.Lang,
		Data: map[string]string{"code": code, "minutes": minutes, "purpose": "recover"},
	})
}

func (s *Service) recoveryConfirm(ctx context.Context, f *SelfFlow, code string, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f, m)
	if ok, err := s.verifyCode(ctx, v, m, "recover", f.Rec.Contact, code); !ok {
		return v, err
	}
	if f.Rec.AccountID == "" {
		s.addErr(v, m, "code", "code.invalid")
		return v, nil
	}
	f.Rec.Verified, f.State = true, StatePassword
	if err := s.self.save(ctx, f); err != nil {
		return nil, err
	}
	return s.view(f, m), nil
}

func (s *Service) recoveryPassword(ctx context.Context, f *SelfFlow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f, m)
	if !f.Rec.Verified || f.Rec.AccountID == "" {
		s.addErr(v, m, "", "flow.error.action")
		return v, nil
	}
	acct, err := s.Accounts.GetAccount(ctx, f.Rec.AccountID)
	if err != nil {
		return nil, err
	}
	if fe := selfservice.CheckNewPassword(acct, in); fe != nil {
		s.addErr(v, m, fe.Field, fe.Code)
		return v, nil
	}
	if err := s.SetPassword(ctx, acct, in["password"], m, "password.recovered"); err != nil {
		return nil, err
	}
	// Recovery lifts a password lockout at once.
	if err := s.o.Ephemeral.Delete(ctx, "login:fail:"+acct.ID); err != nil {
		return nil, err
	}
	f.State = selfservice.StateDone
	f.Rec = &recState{Channel: f.Rec.Channel}
	if err := s.self.save(ctx, f); err != nil {
		return nil, err
	}
	v = s.view(f, m)
	s.addMsg(v, m, "recovery.done")
	return v, nil
}
