package login

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/session"
)

// SelfPage is the data of a flow's page.
type SelfPage = selfservice.SelfPage

// registerSelfPages mounts the HTML face of the self-service flows.
func (s *Service) registerSelfPages(r *mux.Router) {
	r.HandleFunc(PathRegistration, s.selfGet(KindRegistration)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathRegistration, s.selfPost(KindRegistration)).Methods(http.MethodPost)
	r.HandleFunc(PathRegistrationLink, s.registrationLink).Methods(http.MethodGet)
	r.HandleFunc(PathRecovery, s.selfGet(KindRecovery)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathRecovery, s.selfPost(KindRecovery)).Methods(http.MethodPost)
}

// selfGet shows a flow, or starts one (remembering an authorization flow
// to return to) and redirects to it.
func (s *Service) selfGet(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		q := r.URL.Query()
		if lang := q.Get("lang"); lang != "" {
			s.Web.SetLang(w, r, lang)
		}
		m := s.Meta(r)
		if id := q.Get("flow"); id != "" {
			f, err := s.self.load(ctx, id, kind, false, s.Cookie(r, selfservice.FlowCookie(kind)))
			if err == nil {
				s.renderSelf(w, r, http.StatusOK, kind, s.view(f, m), f.ReturnTo)
				return
			}
			if !errors.Is(err, selfservice.ErrFlowExpired) && !errors.Is(err, selfservice.ErrFlowToken) {
				s.ServerError(w, r, err)
				return
			}
			// An expired or foreign flow: start afresh (nothing typed is lost,
			// since nothing was stored for this browser).
		}
		returnTo := q.Get("return_to")
		if returnTo != "" {
			if _, err := s.Flows.LoadAny(ctx, returnTo, selfservice.KindAuthorize); err != nil {
				returnTo = ""
			}
		}
		var v *selfservice.View
		var err error
		if kind == KindRecovery {
			v, err = s.StartRecovery(ctx, false, returnTo, m)
		} else {
			v, err = s.StartRegistration(ctx, false, returnTo, m)
		}
		if err != nil {
			s.ServerError(w, r, err)
			return
		}
		s.Web.SetCookie(w, s.Web.CookieName(selfservice.FlowCookie(kind)), v.FlowToken, s.Flows.TTL())
		http.Redirect(w, r, pathOf(kind)+"?flow="+url.QueryEscape(v.ID), http.StatusSeeOther)
	}
}

func (s *Service) selfPost(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := r.ParseForm(); err != nil {
			s.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
			return
		}
		f, err := s.self.load(ctx, r.PostForm.Get("flow"), kind, false, s.Cookie(r, selfservice.FlowCookie(kind)))
		if errors.Is(err, selfservice.ErrFlowExpired) || errors.Is(err, selfservice.ErrFlowToken) {
			s.restartFlow(w, r, kind)
			return
		} else if err != nil {
			s.ServerError(w, r, err)
			return
		}
		m := s.Meta(r)
		if !s.Web.CheckCSRF(r) {
			v := s.view(f, m)
			s.addErr(v, m, "", "csrf.error")
			s.renderSelf(w, r, http.StatusForbidden, kind, v, f.ReturnTo)
			return
		}
		in := selfservice.FormInput(r.PostForm)
		var v *selfservice.View
		if kind == KindRecovery {
			v, err = s.SubmitRecovery(ctx, f, r.PostForm.Get("action"), in, m)
		} else {
			v, err = s.SubmitRegistration(ctx, f, r.PostForm.Get("action"), in, m)
		}
		if err != nil {
			s.ServerError(w, r, err)
			return
		}
		if v.AccountID != "" && kind == KindRegistration {
			if !s.startBrowserSession(w, r, v.AccountID, f.ReturnTo) {
				return
			}
		}
		status := http.StatusOK
		if len(v.Errors) > 0 {
			status = http.StatusUnprocessableEntity
		}
		s.renderSelf(w, r, status, kind, v, f.ReturnTo)
	}
}

// restartFlow answers a form posted to an expired or foreign flow with a
// fresh flow showing the same form, refilled with what the citizen typed
// (never passwords or codes), and a note that it has to be sent again.
func (s *Service) restartFlow(w http.ResponseWriter, r *http.Request, kind string) {
	m := s.Meta(r)
	var v *selfservice.View
	var err error
	if kind == KindRecovery {
		v, err = s.StartRecovery(r.Context(), false, "", m)
	} else {
		v, err = s.StartRegistration(r.Context(), false, "", m)
	}
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.SetCookie(w, s.Web.CookieName(selfservice.FlowCookie(kind)), v.FlowToken, s.Flows.TTL())
	v.FlowToken = ""
	v.Values = map[string]string{}
	for _, k := range []string{"family_name", "given_name", "middle_name", "contact", "login"} {
		if val := r.PostForm.Get(k); val != "" && len(val) <= selfservice.FieldLimit(k) {
			v.Values[k] = val
		}
	}
	s.addErr(v, m, "", "flow.expired_retyped")
	s.renderSelf(w, r, http.StatusConflict, kind, v, "")
}

// startBrowserSession signs a newly registered citizen in. When the
// registration began from a relying service's sign-in page, the
// authorization resumes and the response is written (it returns false).
func (s *Service) startBrowserSession(w http.ResponseWriter, r *http.Request, accountID, returnTo string) bool {
	ctx := r.Context()
	acct, err := s.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		s.ServerError(w, r, fmt.Errorf("registration: load account: %w", err))
		return false
	}
	st, err := s.StartSession(ctx, selfservice.SessionStart{Account: acct, AMR: []string{"pwd"}, Reason: selfservice.Registration,
		ReplaceToken: s.Sessions.Secret(r), AuthorizeFlow: returnTo, Device: s.Cookie(r, session.DeviceCookie)}, s.Meta(r))
	if err != nil {
		s.ServerError(w, r, err)
		return false
	}
	if st.Flow == nil {
		s.SetSessionCookie(w, st)
		return true
	}
	s.ContinueSession(w, r, st, PathAccount)
	return false
}

func (s *Service) renderSelf(w http.ResponseWriter, r *http.Request, status int, kind string, v *selfservice.View, returnTo string) {
	loginURL := PathAccount
	if returnTo != "" {
		loginURL = PathLogin + "?flow=" + url.QueryEscape(returnTo)
	}
	s.Web.Render(w, r, status, kind, &SelfPage{Page: s.Page(w, r), View: v, LoginURL: loginURL})
}

// registrationLink confirms an e-mail address from the single-use link in
// the confirmation letter, in whatever browser it is opened.
func (s *Service) registrationLink(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m := s.Meta(r)
	raw, err := s.Codes.UseLink(ctx, r.URL.Query().Get("token"))
	if err != nil {
		s.Web.Error(w, r, http.StatusGone, "link.error.title", "link.error.expired", PathRegistration)
		return
	}
	var p linkPayload
	if json.Unmarshal(raw, &p) != nil || p.Purpose != "register" {
		s.Web.Error(w, r, http.StatusGone, "link.error.title", "link.error.expired", PathRegistration)
		return
	}
	f, err := s.self.loadAny(ctx, p.Flow, KindRegistration)
	if err != nil || f.State != selfservice.StateConfirm || f.Reg == nil || f.Reg.Existing {
		s.Web.Error(w, r, http.StatusGone, "link.error.title", "link.error.expired", PathRegistration)
		return
	}
	v, err := s.completeRegistration(ctx, f, m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	v.Messages = nil
	s.addMsg(v, m, "registration.done_link")
	s.renderSelf(w, r, http.StatusOK, KindRegistration, v, f.ReturnTo)
}

func pathOf(kind string) string {
	if kind == KindRecovery {
		return PathRecovery
	}
	return PathRegistration
}
