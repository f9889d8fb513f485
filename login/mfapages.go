package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/provider"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/web"
)

// The HTML face of the second factor.

// SecurityPage is the data of the security settings.
type SecurityPage struct {
	web.Page
	View          *selfservice.View
	Factors       []FactorView
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

// LevelPage explains a trust level a service needs.
type LevelPage struct {
	web.Page
	FlowID     string
	ClientName string
	Need       string
	Have       string
}

// OfferPage offers to turn a second factor on after sign-in.
type OfferPage struct {
	web.Page
	FlowID     string
	ClientName string
}

func (s *Service) registerMFAPages(r *mux.Router) {
	r.HandleFunc(PathSecondFactor, s.challengePage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathSecondFactor, s.challengeSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathLevel, s.levelPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathLevel, s.levelSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathOffer, s.offerPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathOffer, s.offerSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathSecurity, s.securityPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathSecurity, s.securitySubmit).Methods(http.MethodPost)
	r.HandleFunc(PathEnroll, s.enrollPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathEnroll, s.enrollSubmit).Methods(http.MethodPost)
}

// afterPassword decides what follows a right password on the sign-in
// page: a second factor, the offer to turn one on, or the service.
func (s *Service) afterPassword(w http.ResponseWriter, r *http.Request, flow *selfservice.Flow, res *passwordResult) {
	ctx := r.Context()
	if res.NeedMFA {
		v, err := s.StartSecondFactor(ctx, false, res.Account, []string{"pwd"}, purposeLogin, "", flow.ID, "", s.Meta(r))
		if err != nil {
			s.ServerError(w, r, err)
			return
		}
		if len(v.Methods) == 0 {
			// Nothing to send a code to: a second factor cannot be had.
			s.Web.Error(w, r, http.StatusForbidden, "mfa.title", "mfa.none", "")
			return
		}
		s.Web.SetCookie(w, s.Web.CookieName(selfservice.FlowCookie(KindMFA)), v.FlowToken, s.Flows.TTL())
		http.Redirect(w, r, PathSecondFactor+"?flow="+url.QueryEscape(v.ID), http.StatusSeeOther)
		return
	}
	s.SignInAccount(w, r, flow.ID, res.Account, []string{"pwd"})
}

func (s *Service) challengeFlow(r *http.Request, id string) (*SelfFlow, error) {
	f, err := s.self.load(r.Context(), id, KindMFA, false, s.Cookie(r, selfservice.FlowCookie(KindMFA)))
	if err != nil {
		return nil, err
	}
	if f.MFA == nil {
		return nil, selfservice.ErrFlowExpired
	}
	return f, nil
}

func (s *Service) renderChallenge(w http.ResponseWriter, r *http.Request, status int, f *SelfFlow, v *selfservice.View) {
	s.Web.Render(w, r, status, "mfa", &SelfPage{Page: s.Page(w, r), View: v, LoginURL: PathLogin})
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
	v := s.view(f, s.Meta(r))
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
		v := s.view(f, m)
		s.addErr(v, m, "", "csrf.error")
		_ = s.fillChallenge(ctx, v, f)
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
	if st.Purpose != purposeStepUp {
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
		next = PathAccount
	}
	started, err := s.StartSession(ctx, selfservice.SessionStart{Account: acct, AMR: v.AMR, Reason: selfservice.Upgrade,
		ReplaceToken: s.Sessions.Secret(r), AuthorizeFlow: f.ReturnTo}, m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.ContinueSession(w, r, started, next)
}

// levelPage explains which trust level a service needs and how to reach
// it; the citizen can go back to the service (which is told the
// requirement was not met) or to the account.
func (s *Service) levelPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	flow, sess, ok := s.consentFlow(w, r, r.URL.Query().Get("flow"))
	if !ok {
		return
	}
	c, err := s.Clients.GetClient(ctx, flow.ClientID)
	if err != nil {
		s.Expired(w, r)
		return
	}
	acct, err := s.Accounts.GetAccount(ctx, sess.AccountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	need, _ := s.requirements(&provider.AuthorizeContext{Client: c, Form: flow.Form})
	s.Web.Render(w, r, http.StatusForbidden, "level", &LevelPage{Page: s.Page(w, r), FlowID: flow.ID,
		ClientName: c.Name, Need: string(need), Have: string(acct.Level)})
}

func (s *Service) levelSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	flow, sess, ok := s.consentFlow(w, r, r.PostForm.Get("flow"))
	if !ok {
		return
	}
	if !s.Web.CheckCSRF(r) {
		s.Web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", "")
		return
	}
	_ = s.Flows.Delete(r.Context(), flow.ID)
	s.Record(r.Context(), s.Meta(r), sess.AccountID, "login.level_insufficient", flow.ClientID, nil)
	s.OAuth.WriteAuthorizeError(w, r, flow.Form,
		errUnmet.WithHint("The account's trust level is below what the service requires."))
}

func (s *Service) offerPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, PathLogin)
	if !ok {
		return
	}
	id := r.URL.Query().Get("flow")
	name := ""
	if id != "" {
		if flow, err := s.Flows.LoadAny(r.Context(), id, selfservice.KindAuthorize); err == nil && flow.AccountID == sess.AccountID {
			name = s.ClientName(r.Context(), flow.ClientID)
		} else {
			id = ""
		}
	}
	s.Web.Render(w, r, http.StatusOK, "offer", &OfferPage{Page: s.Page(w, r), FlowID: id, ClientName: name})
}

// offerSubmit takes the answer to the offer: "setup" goes to the security
// settings (which can continue to the service afterwards), "later"
// remembers the refusal for a while, "continue" just goes on.
func (s *Service) offerSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.SignedInForm(w, r, PathLogin, "")
	if !ok {
		return
	}
	id := r.PostForm.Get("flow")
	if id != "" {
		if flow, err := s.Flows.LoadAny(ctx, id, selfservice.KindAuthorize); err != nil || flow.AccountID != sess.AccountID {
			id = ""
		}
	}
	switch r.PostForm.Get("decision") {
	case "setup":
		target := PathSecurity
		if id != "" {
			target += "?return_to=" + url.QueryEscape(id)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	case "later":
		acct, err := s.Accounts.UpdateAccount(ctx, sess.AccountID, func(a *account.Account) error {
			a.MFADeclinedAt, a.UpdatedAt = s.Now().UTC(), s.Now().UTC()
			return nil
		})
		if err != nil {
			s.ServerError(w, r, fmt.Errorf("decline second factor offer: %w", err))
			return
		}
		s.Record(ctx, s.Meta(r), acct.ID, "mfa.offer_declined", "", nil)
	}
	s.ContinueTo(w, r, id, PathAccount)
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
		LoginNotice: account.ParseNotifyPrefs(acct.NotifyPrefs).LoginNotice(), ReturnTo: returnTo, WebAuthn: s.o.WebAuthn != nil}
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
	sess, ok := s.SignedIn(w, r, PathLogin)
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
	sess, ok := s.SignedIn(w, r, PathLogin)
	if !ok {
		return
	}
	m := s.Meta(r)
	v := &selfservice.View{Type: "security", State: selfservice.StateForm}
	returnTo := s.validReturn(ctx, sess, r.PostForm.Get("return_to"))
	if !s.Web.CheckCSRF(r) {
		s.addErr(v, m, "", "csrf.error")
		s.renderSecurity(w, r, http.StatusForbidden, sess, v, returnTo)
		return
	}
	action := r.PostForm.Get("action")
	var err error
	switch {
	case strings.HasPrefix(action, "enroll_"):
		ev, err := s.StartEnroll(ctx, false, sess, strings.TrimPrefix(action, "enroll_"), m)
		if errors.Is(err, errStepUp) {
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
		target := PathEnroll + "?flow=" + url.QueryEscape(ev.ID)
		if returnTo != "" {
			target += "&return_to=" + url.QueryEscape(returnTo)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	case action == "remove":
		err = s.RemoveFactor(ctx, sess, r.PostForm.Get("factor"), m)
		if err == nil {
			s.addMsg(v, m, "mfa.disabled")
		}
	case action == "recovery_codes":
		v.RecoveryCodes, err = s.RegenerateRecoveryCodes(ctx, sess, m)
	case action == "login_notice":
		err = s.setLoginNotice(ctx, sess.AccountID, r.PostForm.Get("login_notice"))
		if err == nil {
			s.addMsg(v, m, "settings.saved")
		}
	case action == "continue" && returnTo != "":
		s.ContinueTo(w, r, returnTo, PathAccount)
		return
	default:
		s.addErr(v, m, "", "flow.error.action")
	}
	switch {
	case errors.Is(err, errStepUp):
		s.reauthenticate(w, r, sess)
		return
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, errBadSetting):
		s.addErr(v, m, "", "flow.error.action")
	case err != nil:
		s.ServerError(w, r, err)
		return
	}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
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
	v, err := s.StartSecondFactor(ctx, false, acct, sess.AMR, purposeStepUp, sess.ID, "", PathSecurity, s.Meta(r))
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.SetCookie(w, s.Web.CookieName(selfservice.FlowCookie(KindMFA)), v.FlowToken, s.Flows.TTL())
	http.Redirect(w, r, PathSecondFactor+"?flow="+url.QueryEscape(v.ID), http.StatusSeeOther)
}

var errBadSetting = errors.New("login: unknown setting value")

// setLoginNotice sets where sign-in notices go (the "login" event of the
// notification settings, their one record).
func (s *Service) setLoginNotice(ctx context.Context, accountID, value string) error {
	if !account.ParseNotifyPrefs("").SetLoginNotice(value) {
		return errBadSetting
	}
	_, err := s.Accounts.UpdateAccount(ctx, accountID, func(a *account.Account) error {
		prefs := account.ParseNotifyPrefs(a.NotifyPrefs)
		prefs.SetLoginNotice(value)
		a.NotifyPrefs, a.UpdatedAt = prefs.String(), s.Now().UTC()
		return nil
	})
	if err != nil {
		return fmt.Errorf("set login notice: %w", err)
	}
	return nil
}

func (s *Service) enrollFlow(r *http.Request, sess *session.Session, id string) (*SelfFlow, error) {
	f, err := s.self.load(r.Context(), id, KindEnroll, false, s.Cookie(r, selfservice.FlowCookie(KindEnroll)))
	if err != nil {
		return nil, err
	}
	if f.Enroll == nil || f.Enroll.AccountID != sess.AccountID {
		return nil, selfservice.ErrFlowExpired
	}
	return f, nil
}

func (s *Service) renderEnroll(w http.ResponseWriter, r *http.Request, status int, v *selfservice.View, returnTo string) {
	back := PathSecurity
	if returnTo != "" {
		back += "?return_to=" + url.QueryEscape(returnTo)
	}
	s.Web.Render(w, r, status, "enroll", &SelfPage{Page: s.Page(w, r), View: v, LoginURL: back})
}

func (s *Service) enrollPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, PathLogin)
	if !ok {
		return
	}
	f, err := s.enrollFlow(r, sess, r.URL.Query().Get("flow"))
	if err != nil {
		http.Redirect(w, r, PathSecurity, http.StatusSeeOther)
		return
	}
	acct, err := s.Accounts.GetAccount(r.Context(), sess.AccountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	v := s.view(f, s.Meta(r))
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
	sess, ok := s.SignedIn(w, r, PathLogin)
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
		if errors.Is(err, errStepUp) {
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
		s.Web.Error(w, r, http.StatusGone, "flow.error.title", "flow.error.expired", PathSecurity)
		return
	}
	if !s.Web.CheckCSRF(r) {
		v := s.view(f, m)
		s.addErr(v, m, "", "csrf.error")
		s.renderEnroll(w, r, http.StatusForbidden, v, returnTo)
		return
	}
	v, err := s.SubmitEnroll(ctx, f, r.PostForm.Get("action"), selfservice.FormInput(r.PostForm), m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
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
