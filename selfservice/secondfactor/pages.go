package secondfactor

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/web"
)

// SecurityPage is the data of the security settings.
type SecurityPage struct {
	web.Page
	View          *selfservice.View
	Factors       []selfservice.FactorView
	RecoveryLeft  int
	HasPhone      bool
	HasEmail      bool
	HasTOTP       bool
	HasSMS        bool
	HasEmailCodes bool
	LoginNotice   string
	// WebAuthn tells whether security keys can be added.
	WebAuthn bool
	// ReturnTo is an authorization flow to continue afterwards.
	ReturnTo string
}

func (s *Service) registerPages(r *mux.Router) {
	r.HandleFunc(selfservice.PathSecondFactor, s.challengePage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(selfservice.PathSecondFactor, s.challengeSubmit).Methods(http.MethodPost)
	r.HandleFunc(selfservice.PathSecurity, s.securityPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(selfservice.PathSecurity, s.securitySubmit).Methods(http.MethodPost)
	r.HandleFunc(selfservice.PathEnroll, s.enrollPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(selfservice.PathEnroll, s.enrollSubmit).Methods(http.MethodPost)
}

func (s *Service) challengeFlow(r *http.Request, id string) (*flow, error) {
	f, err := s.flows.load(r.Context(), id, KindMFA, false, s.Cookie(r, selfservice.FlowCookie(KindMFA)))
	if err != nil {
		return nil, err
	}
	if f.MFA == nil {
		return nil, selfservice.ErrFlowExpired
	}
	return f, nil
}

func (s *Service) renderChallenge(w http.ResponseWriter, r *http.Request, status int, f *flow, v *selfservice.View) {
	s.Web.Render(w, r, status, "mfa", &selfservice.SelfPage{Page: s.Page(w, r), View: v, LoginURL: selfservice.PathLogin})
}

func (s *Service) challengePage(w http.ResponseWriter, r *http.Request) {
	f, err := s.challengeFlow(r, r.URL.Query().Get("flow"))
	if errors.Is(err, selfservice.ErrFlowExpired) || errors.Is(err, selfservice.ErrFlowToken) {
		s.Expired(w, r)
		return
	} else if err != nil {
		s.ServerError(w, r, err)
		return
	}
	v := s.view(f)
	if err := s.fillChallenge(r.Context(), v, f); err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.renderChallenge(w, r, http.StatusOK, f, v)
}

func (s *Service) challengeSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	f, err := s.challengeFlow(r, r.PostForm.Get("flow"))
	if errors.Is(err, selfservice.ErrFlowExpired) || errors.Is(err, selfservice.ErrFlowToken) {
		s.Expired(w, r)
		return
	} else if err != nil {
		s.ServerError(w, r, err)
		return
	}
	m := s.Meta(r)
	if !s.Web.CheckCSRF(r) {
		v := s.view(f)
		s.AddErr(v, m, "", "csrf.error")
		if err := s.fillChallenge(ctx, v, f); err != nil {
			s.ServerError(w, r, err)
			return
		}
		s.renderChallenge(w, r, http.StatusForbidden, f, v)
		return
	}
	st := *f.MFA
	in := selfservice.FormInput(r.PostForm)
	// Each method's form names its code field apart (one page, unique ids).
	for _, k := range []string{"code-sms", "code-email", "recovery_code"} {
		if v := in[k]; v != "" && in["code"] == "" {
			in["code"] = v
		}
		delete(in, k)
	}
	v, err := s.SubmitSecondFactor(ctx, f, r.PostForm.Get("action"), in, m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	if v.AccountID == "" {
		status := http.StatusOK
		if len(v.Errors) > 0 {
			status = http.StatusUnprocessableEntity
		}
		s.renderChallenge(w, r, status, f, v)
		return
	}
	acct, err := s.Accounts.GetAccount(ctx, v.AccountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	if st.Purpose != PurposeStepUp {
		s.SignInAccount(w, r, f.ReturnTo, acct, v.AMR)
		return
	}
	sess, err := s.Sessions.Current(r)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	if sess == nil || sess.ID != st.SessionID {
		s.Expired(w, r)
		return
	}
	next := st.Next
	if next == "" {
		next = selfservice.PathAccount
	}
	started, err := s.StartSession(ctx, selfservice.SessionStart{Account: acct, AMR: v.AMR, Reason: selfservice.Upgrade,
		ReplaceToken: s.Sessions.Secret(r), AuthorizeFlow: f.ReturnTo}, m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.ContinueSession(w, r, started, next)
}

func (s *Service) renderSecurity(w http.ResponseWriter, r *http.Request, status int, sess *session.Session, v *selfservice.View, returnTo string) {
	ctx := r.Context()
	acct, err := s.Accounts.GetAccount(ctx, sess.AccountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	factors, left, err := s.Factors(ctx, sess.AccountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	p := &SecurityPage{Page: s.Page(w, r), View: v, Factors: factors, RecoveryLeft: left,
		HasPhone: acct.PhoneVerified && acct.Phone != "", HasEmail: acct.EmailVerified && acct.Email != "",
		LoginNotice: account.ParseNotifyPrefs(acct.NotifyPrefs).LoginNotice(), ReturnTo: returnTo, WebAuthn: s.d.WebAuthn != nil}
	on := map[string]bool{}
	for _, f := range factors {
		on[f.Kind] = true
	}
	p.HasTOTP, p.HasSMS, p.HasEmailCodes = on[mfa.KindTOTP], on[mfa.KindSMS], on[mfa.KindEmail]
	s.Web.Render(w, r, status, "security", p)
}

// validReturn keeps an authorization flow id only if it belongs to the
// session's account.
func (s *Service) validReturn(ctx context.Context, sess *session.Session, id string) string {
	if id == "" {
		return ""
	}
	if flow, err := s.Flows.LoadAny(ctx, id, selfservice.KindAuthorize); err == nil && flow.AccountID == sess.AccountID {
		return id
	}
	return ""
}

func (s *Service) securityPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	v := &selfservice.View{Type: "security", State: selfservice.StateForm}
	s.renderSecurity(w, r, http.StatusOK, sess, v, s.validReturn(r.Context(), sess, r.URL.Query().Get("return_to")))
}

// securitySubmit handles the security settings: turn a factor on (goes to
// the enrolment page) or off, new recovery codes, where sign-in notices
// go, and continuing to a service.
func (s *Service) securitySubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	m := s.Meta(r)
	v := &selfservice.View{Type: "security", State: selfservice.StateForm}
	returnTo := s.validReturn(ctx, sess, r.PostForm.Get("return_to"))
	if !s.Web.CheckCSRF(r) {
		s.AddErr(v, m, "", "csrf.error")
		s.renderSecurity(w, r, http.StatusForbidden, sess, v, returnTo)
		return
	}
	action := r.PostForm.Get("action")
	var err error
	switch {
	case strings.HasPrefix(action, "enroll_"):
		ev, err := s.StartEnroll(ctx, false, sess, strings.TrimPrefix(action, "enroll_"), m)
		if errors.Is(err, ErrStepUp) {
			s.reauthenticate(w, r, sess)
			return
		} else if err != nil {
			s.ServerError(w, r, err)
			return
		}
		if len(ev.Errors) > 0 {
			ev.Type, ev.State = "security", selfservice.StateForm
			s.renderSecurity(w, r, http.StatusUnprocessableEntity, sess, ev, returnTo)
			return
		}
		s.Web.SetCookie(w, s.Web.CookieName(selfservice.FlowCookie(KindEnroll)), ev.FlowToken, s.Flows.TTL())
		target := selfservice.PathEnroll + "?flow=" + url.QueryEscape(ev.ID)
		if returnTo != "" {
			target += "&return_to=" + url.QueryEscape(returnTo)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	case action == "remove":
		err = s.RemoveFactor(ctx, sess, r.PostForm.Get("factor"), m)
		if err == nil {
			s.AddMsg(v, m, "mfa.disabled")
		}
	case action == "recovery_codes":
		v.RecoveryCodes, err = s.RegenerateRecoveryCodes(ctx, sess, m)
	case action == "login_notice":
		err = s.SetLoginNotice(ctx, sess.AccountID, r.PostForm.Get("login_notice"))
		if err == nil {
			s.AddMsg(v, m, "settings.saved")
		}
	case action == "continue" && returnTo != "":
		s.ContinueTo(w, r, returnTo, selfservice.PathAccount)
		return
	default:
		s.AddErr(v, m, "", "flow.error.action")
	}
	switch {
	case errors.Is(err, ErrStepUp):
		s.reauthenticate(w, r, sess)
		return
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, selfservice.ErrBadSetting):
		s.AddErr(v, m, "", "flow.error.action")
	case err != nil:
		s.ServerError(w, r, err)
		return
	}
	status := selfservice.Status(v)
	s.renderSecurity(w, r, status, sess, v, returnTo)
}

// reauthenticate sends the citizen through a second factor and back to the
// security settings.
func (s *Service) reauthenticate(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	ctx := r.Context()
	acct, err := s.Accounts.GetAccount(ctx, sess.AccountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	v, err := s.StartSecondFactor(ctx, false, acct, sess.AMR, PurposeStepUp, sess.ID, "", selfservice.PathSecurity, s.Meta(r))
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.SetCookie(w, s.Web.CookieName(selfservice.FlowCookie(KindMFA)), v.FlowToken, s.Flows.TTL())
	http.Redirect(w, r, selfservice.PathSecondFactor+"?flow="+url.QueryEscape(v.ID), http.StatusSeeOther)
}

// setLoginNotice sets where sign-in notices go (the "login" event of the
// notification settings, their one record).

func (s *Service) enrollFlow(r *http.Request, sess *session.Session, id string) (*flow, error) {
	f, err := s.flows.load(r.Context(), id, KindEnroll, false, s.Cookie(r, selfservice.FlowCookie(KindEnroll)))
	if err != nil {
		return nil, err
	}
	if f.Enroll == nil || f.Enroll.AccountID != sess.AccountID {
		return nil, selfservice.ErrFlowExpired
	}
	return f, nil
}

func (s *Service) renderEnroll(w http.ResponseWriter, r *http.Request, status int, v *selfservice.View, returnTo string) {
	back := selfservice.PathSecurity
	if returnTo != "" {
		back += "?return_to=" + url.QueryEscape(returnTo)
	}
	s.Web.Render(w, r, status, "enroll", &selfservice.SelfPage{Page: s.Page(w, r), View: v, LoginURL: back})
}

func (s *Service) enrollPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	f, err := s.enrollFlow(r, sess, r.URL.Query().Get("flow"))
	if err != nil {
		http.Redirect(w, r, selfservice.PathSecurity, http.StatusSeeOther)
		return
	}
	acct, err := s.Accounts.GetAccount(r.Context(), sess.AccountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	v := s.view(f)
	if err := s.fillEnroll(v, f, acct); err != nil {
		s.ServerError(w, r, err)
		return
	}
	if f.State == selfservice.StateConfirm {
		// Every showing of the page gets a fresh ceremony.
		if v.WebAuthn, err = s.RefreshRegistration(r.Context(), f, acct); err != nil {
			s.ServerError(w, r, err)
			return
		}
	}
	s.renderEnroll(w, r, http.StatusOK, v, s.validReturn(r.Context(), sess, r.URL.Query().Get("return_to")))
}

func (s *Service) enrollSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	returnTo := s.validReturn(ctx, sess, r.PostForm.Get("return_to"))
	m := s.Meta(r)
	if r.PostForm.Get("action") == "webauthn_begin" {
		// The security-key page asks for fresh options.
		if !s.Web.CheckCSRF(r) {
			s.Web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", "")
			return
		}
		v, err := s.StartEnroll(ctx, false, sess, mfa.KindWebAuthn, m)
		if errors.Is(err, ErrStepUp) {
			s.reauthenticate(w, r, sess)
			return
		} else if err != nil {
			s.ServerError(w, r, err)
			return
		}
		if v.FlowToken != "" {
			s.Web.SetCookie(w, s.Web.CookieName(selfservice.FlowCookie(KindEnroll)), v.FlowToken, s.Flows.TTL())
		}
		s.renderEnroll(w, r, http.StatusOK, v, returnTo)
		return
	}
	f, err := s.enrollFlow(r, sess, r.PostForm.Get("flow"))
	if err != nil {
		s.Web.Error(w, r, http.StatusGone, "flow.error.title", "flow.error.expired", selfservice.PathSecurity)
		return
	}
	if !s.Web.CheckCSRF(r) {
		v := s.view(f)
		s.AddErr(v, m, "", "csrf.error")
		s.renderEnroll(w, r, http.StatusForbidden, v, returnTo)
		return
	}
	v, err := s.SubmitEnroll(ctx, f, r.PostForm.Get("action"), selfservice.FormInput(r.PostForm), m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	status := selfservice.Status(v)
	if v.AccountID != "" && !mfa.HasMFA(sess.AMR) {
		// Proving the new factor makes this session a two-factor one.
		acct, err := s.Accounts.GetAccount(ctx, sess.AccountID)
		if err != nil {
			s.ServerError(w, r, err)
			return
		}
		st, err := s.StartSession(ctx, selfservice.SessionStart{Account: acct, AMR: mfa.WithFactor(sess.AMR, v.AMR[0]),
			Reason: selfservice.Upgrade, ReplaceToken: s.Sessions.Secret(r)}, m)
		if err != nil {
			s.ServerError(w, r, err)
			return
		}
		s.SetSessionCookie(w, st)
	}
	s.renderEnroll(w, r, status, v, returnTo)
}
