package signin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"net/url"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/provider"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/web"
)

// Register mounts the hosted pages on r.
func (s *Service) Register(r *mux.Router) {
	r.HandleFunc(selfservice.PathLogin, s.loginPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(selfservice.PathLogin, s.loginSubmit).Methods(http.MethodPost)
	r.HandleFunc(provider.PathEndSession, s.endSession).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc(selfservice.PathLogoutConfirm, s.logoutConfirm).Methods(http.MethodPost)
	s.registerMFAPages(r)
	s.registerAPI(r)
}

func (s *Service) loginPage(w http.ResponseWriter, r *http.Request) {
	if lang := r.URL.Query().Get("lang"); lang != "" {
		s.Web.SetLang(w, r, lang)
	}
	flow, err := s.loginFlow(r, r.URL.Query().Get("flow"))
	if errors.Is(err, selfservice.ErrFlowExpired) {
		s.Expired(w, r)
		return
	} else if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.renderLogin(w, r, http.StatusOK, flow, "", "")
}

// loginFlow returns the authorization flow being signed in for, or a bare
// flow (empty ID) for signing in to gosid itself.
func (s *Service) loginFlow(r *http.Request, id string) (*selfservice.Flow, error) {
	if id == "" {
		return &selfservice.Flow{Kind: selfservice.KindAuthorize}, nil
	}
	return s.Flows.LoadAny(r.Context(), id, selfservice.KindAuthorize)
}

func (s *Service) renderLogin(w http.ResponseWriter, r *http.Request, status int, flow *selfservice.Flow, login, errKey string) {
	back := ""
	if flow.ID != "" {
		back = "?return_to=" + url.QueryEscape(flow.ID)
	}
	s.Web.Render(w, r, status, "login", &web.LoginData{
		Page:        s.Page(w, r),
		FlowID:      flow.ID,
		Login:       login,
		ErrorKey:    errKey,
		ClientName:  s.ClientName(r.Context(), flow.ClientID),
		ForgotURL:   selfservice.PathRecovery + back,
		RegisterURL: selfservice.PathRegistration + back,
	})
}

func (s *Service) loginSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	flow, err := s.loginFlow(r, r.PostForm.Get("flow"))
	if errors.Is(err, selfservice.ErrFlowExpired) {
		s.Expired(w, r)
		return
	} else if err != nil {
		s.ServerError(w, r, err)
		return
	}
	if !s.Web.CheckCSRF(r) {
		s.renderLogin(w, r, http.StatusForbidden, flow, "", "csrf.error")
		return
	}
	in := selfservice.Input{"login": r.PostForm.Get("login"), "password": r.PostForm.Get("password")}
	res, err := s.passwordStep(ctx, in, s.clientWantsMFA(ctx, flow), s.Meta(r))
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	if res.Account == nil {
		status, key := loginPageError(res.Code)
		login := in.Get("login")
		if res.Field != "" {
			login = "" // never echo a field that failed its checks
		}
		s.renderLogin(w, r, status, flow, login, key)
		return
	}
	s.afterPassword(w, r, flow, res)
}

// loginPageError turns a password-step failure into the sign-in page's
// status and message.
func loginPageError(code string) (int, string) {
	switch code {
	case "login.required":
		return http.StatusBadRequest, "login.error.required"
	case "login.rate":
		return http.StatusTooManyRequests, "login.error.rate"
	case "login.locked":
		return http.StatusForbidden, "login.error.locked"
	case "login.invalid":
		return http.StatusUnauthorized, "login.error.invalid"
	}
	return http.StatusBadRequest, "login.error.invalid"
}

// clientWantsMFA reports whether the service behind an authorization flow
// demands a second factor (its policy, the global setting, acr_values).
func (s *Service) clientWantsMFA(ctx context.Context, flow *selfservice.Flow) bool {
	if flow == nil || flow.ID == "" {
		return false
	}
	c, err := s.Clients.GetClient(ctx, flow.ClientID)
	if err != nil {
		return false
	}
	_, want := s.requirements(&provider.AuthorizeContext{Client: c, Form: flow.Form})
	return want
}

// checkPassword applies the per-IP rate limit and the per-account lockout,
// then verifies the password. An unknown login costs the same hashing time
// as a known one and yields the same outcome as a wrong password.
func (s *Service) checkPassword(ctx context.Context, m selfservice.Meta, login, password string) (*account.Account, string, error) {
	n, err := s.o.Ephemeral.Incr(ctx, "login:rate:ip:"+m.IP, time.Minute)
	if err != nil {
		return nil, "", fmt.Errorf("rate limit: %w", err)
	}
	if s.o.LoginRatePerIP > 0 && n > int64(s.o.LoginRatePerIP) {
		return nil, outcomeRateLimited, nil
	}
	acct, err := s.findAccount(ctx, login)
	if err != nil {
		return nil, "", fmt.Errorf("find account: %w", err)
	}
	if acct == nil || acct.Status != account.StatusActive {
		outcome, err := s.noAccount(ctx, login, password)
		return nil, outcome, err
	}
	// The counter is taken before the password is checked, so parallel
	// attempts cannot check more than maxPasswordFailures passwords.
	key := kvFailures + acct.ID
	fails, err := s.o.Ephemeral.Incr(ctx, key, passwordLockout)
	if err != nil {
		return nil, "", fmt.Errorf("failure counter: %w", err)
	}
	if fails > maxPasswordFailures {
		s.recordBlocked(ctx, m, acct.ID, fails-maxPasswordFailures)
		return nil, outcomeLocked, nil
	}
	ok, _, err := s.Passwords.Verify(ctx, acct.PasswordHash, password)
	if err != nil {
		return nil, "", fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		s.Record(ctx, m, acct.ID, "login.failure", "", map[string]string{"failures": fmt.Sprint(fails)})
		if fails == maxPasswordFailures {
			s.Record(ctx, m, acct.ID, "login.locked", "", map[string]string{"minutes": "15"})
			s.Notify(ctx, acct, "login_locked", m, map[string]string{"minutes": "15",
				"recover_url": s.Issuer + selfservice.PathRecovery})
			return nil, outcomeLocked, nil
		}
		return nil, outcomeInvalid, nil
	}
	if err := s.o.Ephemeral.Delete(ctx, key); err != nil {
		return nil, "", fmt.Errorf("reset failure counter: %w", err)
	}
	return acct, outcomeSuccess, nil
}

// noAccount answers a login that names no active account as a wrong
// password for an account is answered, lockout included: its failures are
// counted per login identifier (DESIGN.md "lockout"), so that the third
// attempt says "locked" here too and the answers do not tell which logins
// exist. A locked login is refused without hashing, as an account is.
func (s *Service) noAccount(ctx context.Context, login, password string) (string, error) {
	fails, err := s.o.Ephemeral.Incr(ctx, kvFailures+"id:"+s.loginKey(login), passwordLockout)
	if err != nil {
		return "", fmt.Errorf("failure counter: %w", err)
	}
	if fails > maxPasswordFailures {
		return outcomeLocked, nil
	}
	_ = s.Passwords.DummyVerify(ctx, password)
	if fails == maxPasswordFailures {
		return outcomeLocked, nil
	}
	return outcomeInvalid, nil
}

// loginKey names a login identifier in counter keys without storing it:
// the HMAC of its normalised form.
func (s *Service) loginKey(login string) string {
	if _, norm, err := account.ClassifyLogin(login); err == nil {
		login = norm
	}
	h := hmac.New(sha256.New, s.o.LockoutKey)
	h.Write([]byte("login-failures\x00" + login))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// findAccount resolves a login (phone or e-mail) to an account, or nil.
func (s *Service) findAccount(ctx context.Context, login string) (*account.Account, error) {
	kind, norm, err := account.ClassifyLogin(login)
	if err != nil {
		return nil, nil
	}
	var acct *account.Account
	switch kind {
	case "phone":
		acct, err = s.Accounts.FindAccountByPhone(ctx, norm)
	case "email":
		acct, err = s.Accounts.FindAccountByEmail(ctx, norm)
	case account.LoginSNILS:
		// Only a verified SNILS signs in, found by its blind index.
		if s.o.Verify == nil {
			return nil, nil
		}
		var id string
		if id, err = s.o.Verify.AccountBySNILS(ctx, norm); err == nil {
			acct, err = s.Accounts.GetAccount(ctx, id)
		}
	default:
		return nil, nil
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return acct, err
}
