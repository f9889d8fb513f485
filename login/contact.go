package login

import (
	"context"
	"errors"
	"fmt"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
)

// KindContact adds or replaces a phone or e-mail of a signed-in citizen,
// confirmed with a code sent to it.
const KindContact = "contact"

// StartContact begins adding a contact to the account.
func (s *Service) StartContact(ctx context.Context, api bool, accountID string, m selfservice.Meta) (*selfservice.View, error) {
	return s.start(ctx, withRec(newSelfFlow(KindContact, selfservice.StateForm, api, ""), &recState{AccountID: accountID}), m)
}

// SubmitContact runs one step: "add" (the contact), "confirm" (the code),
// "resend". A contact that belongs to another account gets the same answer
// but no code, so the flow reveals nothing about other accounts.
func (s *Service) SubmitContact(ctx context.Context, f *SelfFlow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	if v := s.rejectInput(f, in, m); v != nil {
		return v, nil
	}
	switch {
	case action == "add" && (f.State == selfservice.StateForm || f.State == selfservice.StateConfirm):
		return s.contactAdd(ctx, f, in, m)
	case action == "confirm" && f.State == selfservice.StateConfirm:
		return s.contactConfirm(ctx, f, in.Get("code"), m)
	case action == "resend" && f.State == selfservice.StateConfirm:
		return s.resend(ctx, f, m, "code.sent", s.sendContactCode)
	}
	return s.unknownAction(f, m), nil
}

func (s *Service) contactAdd(ctx context.Context, f *SelfFlow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f, m)
	v.State = selfservice.StateForm
	v.Values = map[string]string{"contact": in.Get("contact")}
	kind, norm, err := account.ClassifyLogin(in.Get("contact"))
	switch {
	case in.Get("contact") == "":
		s.addErr(v, m, "contact", "contact.required")
		return v, nil
	case err != nil || kind == "snils":
		s.addErr(v, m, "contact", "contact.invalid")
		return v, nil
	}
	a, err := s.Accounts.GetAccount(ctx, f.Rec.AccountID)
	if err != nil {
		return nil, err
	}
	if (kind == "phone" && a.Phone == norm && a.PhoneVerified) || (kind == "email" && a.Email == norm && a.EmailVerified) {
		s.addErr(v, m, "contact", "contact.already")
		return v, nil
	}
	other, err := s.findAccount(ctx, norm)
	if err != nil {
		return nil, err
	}
	f.Rec = &recState{AccountID: a.ID, Channel: kind, Contact: norm, Taken: other != nil && other.ID != a.ID}
	f.State = selfservice.StateConfirm
	if ok, err := s.sendCode(ctx, f, v, m, s.sendContactCode); !ok {
		return v, err
	}
	if err := s.self.save(ctx, f); err != nil {
		return nil, err
	}
	v = s.view(f, m)
	s.addMsg(v, m, "code.sent")
	return v, nil
}

func (s *Service) sendContactCode(ctx context.Context, f *SelfFlow, m selfservice.Meta) error {
	rec := f.Rec
	ttl, minutes := smsCodeTTL, "5"
	if rec.Channel == "email" {
		ttl, minutes = emailCodeTTL, "10"
	}
	code, err := s.Codes.Issue(ctx, "contact", rec.Contact, ttl)
	if err != nil || rec.Taken {
		return err
	}
	return s.o.Notifier.Enqueue(ctx, notify.Message{
		Channel: notify.Channel(channelOf(rec.Channel)), To: rec.Contact, Template: "otp", Lang: m.Lang,
		Data: map[string]string{"code": code, "minutes": minutes, "purpose": "confirm_contact"},
	})
}

func (s *Service) contactConfirm(ctx context.Context, f *SelfFlow, code string, m selfservice.Meta) (*selfservice.View, error) {
	v := s.view(f, m)
	if ok, err := s.verifyCode(ctx, v, m, "contact", f.Rec.Contact, code); !ok {
		return v, err
	}
	if f.Rec.Taken {
		s.addErr(v, m, "code", "code.invalid")
		return v, nil
	}
	a, err := s.Accounts.UpdateAccount(ctx, f.Rec.AccountID, func(a *account.Account) error {
		if f.Rec.Channel == "phone" {
			a.Phone, a.PhoneVerified = f.Rec.Contact, true
		} else {
			a.Email, a.EmailVerified = f.Rec.Contact, true
		}
		a.UpdatedAt = s.Now().UTC()
		return nil
	})
	if errors.Is(err, storage.ErrConflict) {
		s.addErr(v, m, "", "registration.conflict")
		return v, nil
	} else if err != nil {
		return nil, fmt.Errorf("confirm contact: %w", err)
	}
	s.Record(ctx, m, a.ID, "contact.confirmed", "", map[string]string{"channel": f.Rec.Channel})
	f.State = selfservice.StateDone
	if err := s.self.save(ctx, f); err != nil {
		return nil, err
	}
	v = s.view(f, m)
	s.addMsg(v, m, "contact.added")
	return v, nil
}
