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
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/provider"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/selfservice/lockout"
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
	bank := ""
	if s.o.Banks {
		bank = "/login/bank"
		if flow.ID != "" {
			bank += "?flow=" + url.QueryEscape(flow.ID)
		}
	}
	esign := ""
	if s.o.ESign {
		esign = "/login/esign"
		if flow.ID != "" {
			esign += "?flow=" + url.QueryEscape(flow.ID)
		}
	}
	s.Web.Render(w, r, status, "login", &web.LoginData{
		BankURL:     bank,
		ESignURL:    esign,
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
	_, want, _ := s.requirements(flowContext(c, flow))
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
		outcome, err := s.noAccount(ctx, m, login, password)
		return nil, outcome, err
	}
	// The engine's lockout step, shared with the change of password: the
	// counter is taken before the password is checked, so parallel
	// attempts cannot check more than maxPasswordFailures passwords.
	outcome, err := s.CheckPassword(ctx, m, acct, password, selfservice.PasswordEvents{
		Failure: "login.failure", Blocked: "login.blocked_attempt"})
	if err != nil {
		return nil, "", err
	}
	if outcome != selfservice.PasswordRight {
		return nil, outcome, nil
	}
	return acct, outcomeSuccess, nil
}

// noAccount answers a login that names no active account as a wrong
// password for an account is answered, lockout included: its failures are
// counted per login identifier (DESIGN.md "lockout"), so that the third
// attempt says "locked" here too and the answers do not tell which logins
// exist. A locked login is refused without hashing, as an account is.
func (s *Service) noAccount(ctx context.Context, m selfservice.Meta, login, password string) (string, error) {
	key := s.loginKey(login)
	// An account's attempt first asks whether the device is known; so does
	// this one, under a name no account has.
	if _, _, err := s.Sessions.KnownDevice(ctx, "login:"+key, m.Device); err != nil {
		return "", err
	}
	budget := lockout.Login(key)
	fails, err := s.Lockout.Take(ctx, budget)
	if err != nil {
		return "", err
	}
	// The same work as for an account, so that the time of the answer does
	// not tell either: the audit events (naming no account), the durable
	// lock, and a message queued when the lock begins (a decoy the queue
	// drops, where an account's owner is told).
	if fails.Locked() {
		s.RecordBlocked(ctx, m, "", "login.blocked_attempt", budget, int64(fails)-lockout.MaxFailures)
		return outcomeLocked, nil
	}
	_ = s.Passwords.DummyVerify(ctx, password)
	s.Record(ctx, m, "", "login.failure", "", map[string]string{"failures": fmt.Sprint(int64(fails))})
	if fails.Locks() {
		if err := s.Lockout.Lock(ctx, budget); err != nil {
			return "", err
		}
		s.Record(ctx, m, "", "login.locked", "", map[string]string{"minutes": lockout.Minutes})
		s.decoyNotice(ctx, m, login)
		return outcomeLocked, nil
	}
	return outcomeInvalid, nil
}

// decoyNotice queues what an account's owner would be sent when a lock
// begins, for a login that names no account: decoys the queue drops, one
// for each channel of an account with both contacts confirmed (the
// usual case: the standard level needs both).
func (s *Service) decoyNotice(ctx context.Context, m selfservice.Meta, login string) {
	if s.o.Notifier == nil {
		return
	}
	_, norm, err := account.ClassifyLogin(login)
	if err != nil {
		return
	}
	data := map[string]string{"minutes": lockout.Minutes, "recover_url": s.Issuer + selfservice.PathRecovery}
	for _, channel := range []notify.Channel{notify.ChannelSMS, notify.ChannelEmail} {
		msg := notify.Message{Channel: channel, To: norm, Template: "login_locked", Lang: m.Lang, Decoy: true, Data: data}
		if err := s.o.Notifier.Enqueue(ctx, msg); err != nil {
			s.Log().Warn("signin: queue decoy notice", "err", err)
		}
	}
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
