package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
)

// Adding or replacing a phone or e-mail of a signed-in citizen, confirmed
// with a code sent to it. A contact that belongs to another account gets
// the same answers but no code, so the flow reveals nothing about other
// accounts.
//
//	form    --add-->     confirm   (a code went to the contact)
//	confirm --add-->     confirm   (another contact)
//	confirm --resend-->  confirm
//	confirm --confirm--> done      (the contact is the account's, confirmed)

// KindContact is the flow that adds a contact.
const KindContact = "contact"

// Lifetimes of the code confirming a contact.
const (
	phoneCodeTTL = 5 * time.Minute
	emailCodeTTL = 10 * time.Minute
)

// contactState is what the flow keeps between steps (Flow.Data).
type contactState struct {
	AccountID string `json:"account_id"`
	// Channel is "phone" or "email"; Contact the normalised contact.
	Channel string `json:"channel,omitempty"`
	Contact string `json:"contact,omitempty"`
	// Taken marks a contact of another account: no code is sent and none
	// is accepted.
	Taken bool `json:"taken,omitempty"`
}

// contactFlow is the flow record with its state decoded.
type contactFlow struct {
	*selfservice.Flow
	st contactState
}

func decodeContact(f *selfservice.Flow) (*contactFlow, error) {
	cf := &contactFlow{Flow: f}
	if err := f.Decode(&cf.st); err != nil {
		return nil, err
	}
	return cf, nil
}

func (s *Service) saveContact(ctx context.Context, f *contactFlow) error {
	if err := f.Encode(f.st); err != nil {
		return err
	}
	return s.Flows.Save(ctx, f.Flow)
}

// contactView is the flow as both faces show it: the masked contact while
// a code is awaited.
func (s *Service) contactView(f *contactFlow) *selfservice.View {
	v := s.View(f.Flow)
	if f.State == selfservice.StateConfirm {
		v.Channel = f.st.Channel
		v.Contact = selfservice.MaskContact(f.st.Channel, f.st.Contact)
	}
	return v
}

// StartContact begins adding a contact to the account.
func (s *Service) StartContact(ctx context.Context, api bool, accountID string, m selfservice.Meta) (*selfservice.View, error) {
	f := &contactFlow{Flow: &selfservice.Flow{Kind: KindContact, State: selfservice.StateForm, API: api},
		st: contactState{AccountID: accountID}}
	if err := f.Encode(f.st); err != nil {
		return nil, err
	}
	token, err := s.Start(ctx, f.Flow)
	if err != nil {
		return nil, fmt.Errorf("start contact: %w", err)
	}
	v := s.contactView(f)
	v.FlowToken = token
	return v, nil
}

// SubmitContact runs one step: "add" (the contact), "confirm" (the code),
// "resend".
func (s *Service) SubmitContact(ctx context.Context, f *contactFlow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	if v := s.contactView(f); s.rejectInput(v, in, m) {
		return v, nil
	}
	switch {
	case action == "add" && (f.State == selfservice.StateForm || f.State == selfservice.StateConfirm):
		return s.contactAdd(ctx, f, in, m)
	case action == "confirm" && f.State == selfservice.StateConfirm:
		return s.contactConfirm(ctx, f, in.Get("code"), m)
	case action == "resend" && f.State == selfservice.StateConfirm:
		return s.Resend(s.contactView(f), m, "code.sent", func() error { return s.sendContactCode(ctx, f, m) })
	}
	v := s.contactView(f)
	s.AddErr(v, m, "", "flow.error.action")
	return v, nil
}

func (s *Service) contactAdd(ctx context.Context, f *contactFlow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := s.contactView(f)
	v.State = selfservice.StateForm
	v.Values = map[string]string{"contact": in.Get("contact")}
	kind, norm, err := account.ClassifyLogin(in.Get("contact"))
	switch {
	case in.Get("contact") == "":
		s.AddErr(v, m, "contact", "contact.required")
		return v, nil
	case err != nil || (kind != "phone" && kind != "email"):
		s.AddErr(v, m, "contact", "contact.invalid")
		return v, nil
	}
	a, err := s.Accounts.GetAccount(ctx, f.st.AccountID)
	if err != nil {
		return nil, fmt.Errorf("add contact: load account: %w", err)
	}
	if (kind == "phone" && a.Phone == norm && a.PhoneVerified) || (kind == "email" && a.Email == norm && a.EmailVerified) {
		s.AddErr(v, m, "contact", "contact.already")
		return v, nil
	}
	other, err := s.accountWith(ctx, kind, norm)
	if err != nil {
		return nil, fmt.Errorf("add contact: %w", err)
	}
	f.st = contactState{AccountID: a.ID, Channel: kind, Contact: norm, Taken: other != nil && other.ID != a.ID}
	f.State = selfservice.StateConfirm
	if ok, err := s.SendCode(v, m, func() error { return s.sendContactCode(ctx, f, m) }); !ok {
		return v, err
	}
	if err := s.saveContact(ctx, f); err != nil {
		return nil, err
	}
	v = s.contactView(f)
	s.AddMsg(v, m, "code.sent")
	return v, nil
}

// accountWith is the account holding the phone or e-mail, or nil.
func (s *Service) accountWith(ctx context.Context, kind, norm string) (*account.Account, error) {
	find := s.Accounts.FindAccountByEmail
	if kind == "phone" {
		find = s.Accounts.FindAccountByPhone
	}
	a, err := find(ctx, norm)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return a, err
}

// sendContactCode issues a code for the contact and sends it, unless the
// contact is another account's (the code is issued all the same: same
// limits, same answer).
func (s *Service) sendContactCode(ctx context.Context, f *contactFlow, m selfservice.Meta) error {
	st := f.st
	ttl, minutes, channel := phoneCodeTTL, "5", notify.Channel("sms")
	if st.Channel == "email" {
		ttl, minutes, channel = emailCodeTTL, "10", notify.Channel("email")
	}
	code, err := s.Codes.Issue(ctx, "contact", st.Contact, ttl)
	if err != nil || st.Taken {
		return err
	}
	return s.d.Notifier.Enqueue(ctx, notify.Message{
		Channel: channel, To: st.Contact, Template: "otp", Lang: m.Lang,
		Data: map[string]string{"code": code, "minutes": minutes, "purpose": "confirm_contact"},
		// A delivery that comes late sends no code that expired or was used.
		Expires: time.Now().Add(ttl), CodeRef: s.Codes.Ref("contact", st.Contact),
	})
}

func (s *Service) contactConfirm(ctx context.Context, f *contactFlow, code string, m selfservice.Meta) (*selfservice.View, error) {
	v := s.contactView(f)
	if ok, err := s.VerifyCode(ctx, v, m, "contact", f.st.Contact, code); !ok {
		return v, err
	}
	if f.st.Taken {
		s.AddErr(v, m, "code", "code.invalid")
		return v, nil
	}
	a, err := s.Accounts.UpdateAccount(ctx, f.st.AccountID, func(a *account.Account) error {
		if f.st.Channel == "phone" {
			a.Phone, a.PhoneVerified = f.st.Contact, true
		} else {
			a.Email, a.EmailVerified = f.st.Contact, true
		}
		a.UpdatedAt = s.Now().UTC()
		return nil
	})
	if errors.Is(err, storage.ErrConflict) {
		s.AddErr(v, m, "", "registration.conflict")
		return v, nil
	} else if err != nil {
		return nil, fmt.Errorf("confirm contact: %w", err)
	}
	s.Record(ctx, m, a.ID, "contact.confirmed", "", map[string]string{"channel": f.st.Channel})
	f.State = selfservice.StateDone
	if err := s.saveContact(ctx, f); err != nil {
		return nil, err
	}
	v = s.contactView(f)
	s.AddMsg(v, m, "contact.added")
	return v, nil
}

// The pages: the flow must belong to the signed-in account.

func (s *Service) loadContact(r *http.Request, id string) (*contactFlow, error) {
	raw, err := s.Flows.Load(r.Context(), id, KindContact, false, s.Cookie(r, selfservice.FlowCookie(KindContact)))
	if err != nil {
		return nil, err
	}
	return decodeContact(raw)
}

func (s *Service) renderContact(w http.ResponseWriter, r *http.Request, status int, v *selfservice.View) {
	s.Web.Render(w, r, status, "contact", &PasswordPage{Page: s.Page(w, r), View: v, LoginURL: PathAccount})
}

// contactsPage shows (or starts) adding a contact.
func (s *Service) contactsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	m := s.Meta(r)
	if id := r.URL.Query().Get("flow"); id != "" {
		f, err := s.loadContact(r, id)
		if err == nil && f.st.AccountID == sess.AccountID {
			s.renderContact(w, r, http.StatusOK, s.contactView(f))
			return
		}
	}
	v, err := s.StartContact(ctx, false, sess.AccountID, m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.SetFlowCookie(w, KindContact, v.FlowToken)
	http.Redirect(w, r, PathContacts+"?flow="+url.QueryEscape(v.ID), http.StatusSeeOther)
}

func (s *Service) contactsSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.BadRequest(w, r)
		return
	}
	sess, err := s.Sessions.Current(r)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	f, ferr := s.loadContact(r, r.PostForm.Get("flow"))
	if sess == nil || ferr != nil || f.st.AccountID != sess.AccountID {
		s.Web.Error(w, r, http.StatusGone, "flow.error.title", "flow.error.expired", PathContacts)
		return
	}
	m := s.Meta(r)
	if !s.Web.CheckCSRF(r) {
		v := s.contactView(f)
		s.AddErr(v, m, "", "csrf.error")
		s.renderContact(w, r, http.StatusForbidden, v)
		return
	}
	v, err := s.SubmitContact(ctx, f, r.PostForm.Get("action"), selfservice.FormInput(r.PostForm), m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	status := selfservice.Status(v)
	s.renderContact(w, r, status, v)
}

// The API: started at POST /api/v1/session/contacts with the session
// token, continued at /api/v1/flows/contact/{id} with the flow token.

func (s *Service) apiContactStart(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	v, err := s.StartContact(r.Context(), true, sess.AccountID, s.Meta(r))
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusCreated, v)
}

func (s *Service) showContact(ctx context.Context, raw *selfservice.Flow, m selfservice.Meta) (*selfservice.View, error) {
	f, err := decodeContact(raw)
	if err != nil {
		return nil, err
	}
	return s.contactView(f), nil
}

func (s *Service) apiContactSubmit(w http.ResponseWriter, r *http.Request, raw *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	f, err := decodeContact(raw)
	if err != nil {
		return nil, err
	}
	return s.SubmitContact(r.Context(), f, action, in, m)
}
