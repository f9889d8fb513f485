package settings

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/web"
)

// Changing the password of a signed-in citizen who proves the current one.
// Every session of the account ends with the change (the engine's
// SetPassword); the browser or app that made it gets a fresh session that
// keeps what the old one had proved.

// PasswordPage is the data of the password and contact pages.
type PasswordPage struct {
	web.Page
	View *selfservice.View
	// LoginURL is where «Войти» / «Назад» leads.
	LoginURL string
}

// ChangePassword checks the current password (under the per-account
// lockout sign-in uses: three wrong ones, in sign-in or here, lock both
// for 15 minutes) and the new one, and sets it.
func (s *Service) ChangePassword(ctx context.Context, accountID string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	v := &selfservice.View{Type: "password", State: selfservice.StateForm}
	if s.rejectInput(v, in, m) {
		return v, nil
	}
	a, err := s.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("change password: load account: %w", err)
	}
	if in["current_password"] == "" {
		// Nothing to compare (no password is empty): not an attempt.
		s.AddErr(v, m, "current_password", "password.current_wrong")
		return v, nil
	}
	// The sign-in's lockout: the same counter, lock, audit and notice, so
	// that a stolen session is no way to guess the password.
	outcome, err := s.CheckPassword(ctx, m, a, in["current_password"], selfservice.PasswordEvents{
		Failure: "password.change_failed", Blocked: "password.change_blocked"})
	if err != nil {
		return nil, fmt.Errorf("change password: check current: %w", err)
	}
	switch outcome {
	case selfservice.PasswordLocked:
		s.AddErr(v, m, "current_password", "login.locked")
		return v, nil
	case selfservice.PasswordWrong:
		s.AddErr(v, m, "current_password", "password.current_wrong")
		return v, nil
	}
	if fe := selfservice.CheckNewPassword(a, in); fe != nil {
		s.AddErr(v, m, fe.Field, fe.Code)
		return v, nil
	}
	if in["password"] == in["current_password"] {
		s.AddErr(v, m, "password", "password.same")
		return v, nil
	}
	if err := s.SetPassword(ctx, a, in["password"], m, "password.changed"); err != nil {
		return nil, err
	}
	v.State = selfservice.StateDone
	v.AccountID = a.ID
	s.AddMsg(v, m, "password.changed")
	return v, nil
}

// replaceSession gives the caller whose password change ended every
// session a fresh one that keeps what the old one had proved; secret is
// the old session's (cookie or bearer).
func (s *Service) replaceSession(ctx context.Context, old *session.Session, secret string, m selfservice.Meta) (*selfservice.StartedSession, error) {
	acct, err := s.Accounts.GetAccount(ctx, old.AccountID)
	if err != nil {
		return nil, fmt.Errorf("password changed: load account: %w", err)
	}
	return s.StartSession(ctx, selfservice.SessionStart{Account: acct, AMR: old.AMR, Reason: selfservice.Upgrade, ReplaceToken: secret}, m)
}

func (s *Service) passwordPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.SignedIn(w, r, PathAccount); !ok {
		return
	}
	s.Web.Render(w, r, http.StatusOK, "password", &PasswordPage{Page: s.Page(w, r), View: &selfservice.View{Type: "password", State: selfservice.StateForm}})
}

func (s *Service) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.BadRequest(w, r)
		return
	}
	sess, ok := s.SignedIn(w, r, PathAccount)
	if !ok {
		return
	}
	m := s.Meta(r)
	if !s.Web.CheckCSRF(r) {
		v := &selfservice.View{Type: "password", State: selfservice.StateForm}
		s.AddErr(v, m, "", "csrf.error")
		s.Web.Render(w, r, http.StatusForbidden, "password", &PasswordPage{Page: s.Page(w, r), View: v})
		return
	}
	v, err := s.ChangePassword(ctx, sess.AccountID, selfservice.FormInput(r.PostForm), m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		// Every other session ended; this browser gets a fresh one.
		st, err := s.replaceSession(ctx, sess, s.Sessions.Secret(r), m)
		if err != nil {
			s.ServerError(w, r, err)
			return
		}
		s.SetSessionCookie(w, st)
	}
	s.Web.Render(w, r, status, "password", &PasswordPage{Page: s.Page(w, r), View: v})
}

func (s *Service) apiPassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, in, ok := s.APIInput(w, r)
	if !ok {
		return
	}
	m := s.Meta(r)
	v, err := s.ChangePassword(ctx, sess.AccountID, in, m)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	if len(v.Errors) > 0 {
		selfservice.WriteJSON(w, http.StatusUnprocessableEntity, v)
		return
	}
	// Every session ended, this one too; the app gets a fresh token.
	st, err := s.replaceSession(ctx, sess, selfservice.Bearer(r), m)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	v.SessionToken = st.Secret
	selfservice.WriteJSON(w, http.StatusOK, v)
}
