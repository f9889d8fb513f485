package login

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/web"
)

// SelfPage is the data of the registration, recovery and password pages:
// the flow's view plus the page basics.
type SelfPage struct {
	web.Page
	View *View
	// LoginURL is where «Войти» leads (the sign-in page of the authorization
	// that sent the citizen here, if any).
	LoginURL string
}

// registerSelfPages mounts the HTML face of the self-service flows.
func (s *Service) registerSelfPages(r *mux.Router) {
	r.HandleFunc(PathRegistration, s.selfGet(KindRegistration)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathRegistration, s.selfPost(KindRegistration)).Methods(http.MethodPost)
	r.HandleFunc(PathRegistrationLink, s.registrationLink).Methods(http.MethodGet)
	r.HandleFunc(PathRecovery, s.selfGet(KindRecovery)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathRecovery, s.selfPost(KindRecovery)).Methods(http.MethodPost)
	r.HandleFunc(PathPassword, s.passwordPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathPassword, s.passwordSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathContacts, s.contactsPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathContacts, s.contactsSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathAccount, s.accountPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathLogout, s.logoutHere).Methods(http.MethodPost)
	if s.o.Dev && s.o.Outbox != nil {
		r.HandleFunc(PathOutbox, s.outboxPage).Methods(http.MethodGet)
	}
}

// PathLogout signs out of gosid itself (the account page's button).
const PathLogout = "/logout"

// PathContacts adds a phone or e-mail to the signed-in account.
const PathContacts = "/settings/contacts"

func (s *Service) meta(r *http.Request) Meta {
	return Meta{IP: httpx.ClientIP(r), UserAgent: r.UserAgent(), Lang: s.o.Web.Lang(r),
		API: strings.HasPrefix(r.URL.Path, PathAPI+"/")}
}

func flowCookie(kind string) string { return "gosid_" + kind }

func pathOf(kind string) string {
	if kind == KindRecovery {
		return PathRecovery
	}
	return PathRegistration
}

// selfGet shows a flow, or starts one (remembering an authorization flow
// to return to) and redirects to it.
func (s *Service) selfGet(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		q := r.URL.Query()
		if lang := q.Get("lang"); lang != "" {
			s.o.Web.SetLang(w, r, lang)
		}
		m := s.meta(r)
		if id := q.Get("flow"); id != "" {
			f, err := s.self.load(ctx, id, kind, false, s.cookie(r, flowCookie(kind)))
			if err == nil {
				s.renderSelf(w, r, http.StatusOK, kind, s.view(f, m), f.ReturnTo)
				return
			}
			if !errors.Is(err, ErrFlowExpired) && !errors.Is(err, ErrFlowToken) {
				s.serverError(w, r, err)
				return
			}
			// An expired or foreign flow: start afresh (nothing typed is lost,
			// since nothing was stored for this browser).
		}
		returnTo := q.Get("return_to")
		if returnTo != "" {
			if _, err := s.flows.load(ctx, returnTo, FlowAuthorize); err != nil {
				returnTo = ""
			}
		}
		var v *View
		var err error
		if kind == KindRecovery {
			v, err = s.StartRecovery(ctx, false, returnTo, m)
		} else {
			v, err = s.StartRegistration(ctx, false, returnTo, m)
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.o.Web.SetCookie(w, s.o.Web.CookieName(flowCookie(kind)), v.FlowToken, s.o.FlowTTL)
		http.Redirect(w, r, pathOf(kind)+"?flow="+url.QueryEscape(v.ID), http.StatusSeeOther)
	}
}

func (s *Service) cookie(r *http.Request, base string) string {
	c, err := r.Cookie(s.o.Web.CookieName(base))
	if err != nil {
		return ""
	}
	return c.Value
}

func (s *Service) selfPost(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := r.ParseForm(); err != nil {
			s.o.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
			return
		}
		f, err := s.self.load(ctx, r.PostForm.Get("flow"), kind, false, s.cookie(r, flowCookie(kind)))
		if errors.Is(err, ErrFlowExpired) || errors.Is(err, ErrFlowToken) {
			s.restartFlow(w, r, kind)
			return
		} else if err != nil {
			s.serverError(w, r, err)
			return
		}
		m := s.meta(r)
		if !s.o.Web.CheckCSRF(r) {
			v := s.view(f, m)
			s.addErr(v, m, "", "csrf.error")
			s.renderSelf(w, r, http.StatusForbidden, kind, v, f.ReturnTo)
			return
		}
		in := formInput(r.PostForm)
		var v *View
		if kind == KindRecovery {
			v, err = s.SubmitRecovery(ctx, f, r.PostForm.Get("action"), in, m)
		} else {
			v, err = s.SubmitRegistration(ctx, f, r.PostForm.Get("action"), in, m)
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if v.accountID != "" && kind == KindRegistration {
			if !s.startBrowserSession(w, r, v.accountID, f.ReturnTo) {
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
	m := s.meta(r)
	var v *View
	var err error
	if kind == KindRecovery {
		v, err = s.StartRecovery(r.Context(), false, "", m)
	} else {
		v, err = s.StartRegistration(r.Context(), false, "", m)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.o.Web.SetCookie(w, s.o.Web.CookieName(flowCookie(kind)), v.FlowToken, s.o.FlowTTL)
	v.FlowToken = ""
	v.Values = map[string]string{}
	for _, k := range []string{"family_name", "given_name", "middle_name", "contact", "login"} {
		if val := r.PostForm.Get(k); val != "" && len(val) <= fieldLimits[k] {
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
	acct, err := s.o.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		s.serverError(w, r, fmt.Errorf("registration: load account: %w", err))
		return false
	}
	st, err := s.startSession(ctx, sessionStart{Account: acct, AMR: []string{"pwd"}, Reason: reasonRegistration,
		ReplaceToken: s.sessions.Secret(r), AuthorizeFlow: returnTo, Device: s.cookie(r, session.DeviceCookie)}, s.meta(r))
	if err != nil {
		s.serverError(w, r, err)
		return false
	}
	if st.Flow == nil {
		s.setSessionCookie(w, st)
		return true
	}
	s.continueSession(w, r, st, PathAccount)
	return false
}

func formInput(form url.Values) Input {
	in := Input{}
	for k, v := range form {
		if len(v) > 0 && k != "csrf_token" && k != "flow" {
			in[k] = v[0]
		}
	}
	return in
}

func (s *Service) renderSelf(w http.ResponseWriter, r *http.Request, status int, kind string, v *View, returnTo string) {
	loginURL := PathAccount
	if returnTo != "" {
		loginURL = PathLogin + "?flow=" + url.QueryEscape(returnTo)
	}
	s.o.Web.Render(w, r, status, kind, &SelfPage{Page: s.page(w, r), View: v, LoginURL: loginURL})
}

// registrationLink confirms an e-mail address from the single-use link in
// the confirmation letter, in whatever browser it is opened.
func (s *Service) registrationLink(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m := s.meta(r)
	raw, err := s.o.Codes.UseLink(ctx, r.URL.Query().Get("token"))
	if err != nil {
		s.o.Web.Error(w, r, http.StatusGone, "link.error.title", "link.error.expired", PathRegistration)
		return
	}
	var p linkPayload
	if json.Unmarshal(raw, &p) != nil || p.Purpose != "register" {
		s.o.Web.Error(w, r, http.StatusGone, "link.error.title", "link.error.expired", PathRegistration)
		return
	}
	f, err := s.self.loadAny(ctx, p.Flow, KindRegistration)
	if err != nil || f.State != StateConfirm || f.Reg == nil || f.Reg.Existing {
		s.o.Web.Error(w, r, http.StatusGone, "link.error.title", "link.error.expired", PathRegistration)
		return
	}
	v, err := s.completeRegistration(ctx, f, m)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v.Messages = nil
	s.addMsg(v, m, "registration.done_link")
	s.renderSelf(w, r, http.StatusOK, KindRegistration, v, f.ReturnTo)
}

func (s *Service) passwordPage(w http.ResponseWriter, r *http.Request) {
	_, ok := s.signedIn(w, r, PathAccount)
	if !ok {
		return
	}
	s.o.Web.Render(w, r, http.StatusOK, "password", &SelfPage{Page: s.page(w, r), View: &View{Type: "password", State: StateForm}})
}

func (s *Service) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.o.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	sess, ok := s.signedIn(w, r, PathAccount)
	if !ok {
		return
	}
	m := s.meta(r)
	if !s.o.Web.CheckCSRF(r) {
		v := &View{Type: "password", State: StateForm}
		s.addErr(v, m, "", "csrf.error")
		s.o.Web.Render(w, r, http.StatusForbidden, "password", &SelfPage{Page: s.page(w, r), View: v})
		return
	}
	v, err := s.ChangePassword(ctx, sess.AccountID, formInput(r.PostForm), m)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		// Every other session ended; this browser gets a fresh one.
		st, err := s.passwordChangedSession(ctx, sess, s.sessions.Secret(r), m)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.setSessionCookie(w, st)
	}
	s.o.Web.Render(w, r, status, "password", &SelfPage{Page: s.page(w, r), View: v})
}

// contactsPage shows (or starts) adding a contact; it needs a session, and
// the flow must belong to the signed-in account.
func (s *Service) contactsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.signedIn(w, r, PathLogin)
	if !ok {
		return
	}
	m := s.meta(r)
	if id := r.URL.Query().Get("flow"); id != "" {
		f, err := s.self.load(ctx, id, KindContact, false, s.cookie(r, flowCookie(KindContact)))
		if err == nil && f.Rec != nil && f.Rec.AccountID == sess.AccountID {
			s.o.Web.Render(w, r, http.StatusOK, "contact", &SelfPage{Page: s.page(w, r), View: s.view(f, m), LoginURL: PathAccount})
			return
		}
	}
	v, err := s.StartContact(ctx, false, sess.AccountID, m)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.o.Web.SetCookie(w, s.o.Web.CookieName(flowCookie(KindContact)), v.FlowToken, s.o.FlowTTL)
	http.Redirect(w, r, PathContacts+"?flow="+url.QueryEscape(v.ID), http.StatusSeeOther)
}

func (s *Service) contactsSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.o.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	sess, err := s.sessions.Current(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	f, ferr := s.self.load(ctx, r.PostForm.Get("flow"), KindContact, false, s.cookie(r, flowCookie(KindContact)))
	if sess == nil || ferr != nil || f.Rec == nil || f.Rec.AccountID != sess.AccountID {
		s.o.Web.Error(w, r, http.StatusGone, "flow.error.title", "flow.error.expired", PathContacts)
		return
	}
	m := s.meta(r)
	if !s.o.Web.CheckCSRF(r) {
		v := s.view(f, m)
		s.addErr(v, m, "", "csrf.error")
		s.o.Web.Render(w, r, http.StatusForbidden, "contact", &SelfPage{Page: s.page(w, r), View: v, LoginURL: PathAccount})
		return
	}
	v, err := s.SubmitContact(ctx, f, r.PostForm.Get("action"), formInput(r.PostForm), m)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.o.Web.Render(w, r, status, "contact", &SelfPage{Page: s.page(w, r), View: v, LoginURL: PathAccount})
}

// signedInForm parses the form a signed-in citizen posted and checks its
// CSRF token. On failure it answers (bad request, the sign-in page, or
// forbidden with retry as the way back) and returns ok=false.
func (s *Service) signedInForm(w http.ResponseWriter, r *http.Request, retry string) (*session.Session, bool) {
	if err := r.ParseForm(); err != nil {
		s.o.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return nil, false
	}
	sess, ok := s.signedIn(w, r, PathLogin)
	if !ok {
		return nil, false
	}
	if !s.o.Web.CheckCSRF(r) {
		s.o.Web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", retry)
		return nil, false
	}
	return sess, true
}

// signedIn returns the request's session; without one it redirects to
// elsewhere (or answers an internal error) and returns ok=false.
func (s *Service) signedIn(w http.ResponseWriter, r *http.Request, elsewhere string) (*session.Session, bool) {
	sess, err := s.sessions.Current(r)
	if err != nil {
		s.serverError(w, r, err)
		return nil, false
	}
	if sess == nil {
		http.Redirect(w, r, elsewhere, http.StatusSeeOther)
		return nil, false
	}
	return sess, true
}
