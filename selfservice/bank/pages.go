package bank

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/federation"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/web"
)

// Paths of the bank pages. PathCallback is the redirect URI registered at
// every bank.
const (
	PathSettings = "/settings/banks"
	PathStart    = "/settings/banks/start"
	PathUnlink   = "/settings/banks/unlink"
	PathSignIn   = "/login/bank"
	PathCallback = "/bank/callback"
	PathAPI      = selfservice.PathAPI + "/banks"
)

// cookieTrip holds the binding of the browser's trip to a bank.
const cookieTrip = "gosid_bank_trip"

// BankView is a bank in the choice of banks.
type BankView struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Logo   string `json:"logo,omitempty"`
	Linked bool   `json:"linked"`
}

// BanksPage is the settings page of banks: confirm through one, the
// linked ones, unlink.
type BanksPage struct {
	web.Page
	Level     string
	Banks     []BankView
	Links     []LinkView
	Confirmed string
	Unlinked  string
	FlowID    string
}

// MismatchPage is «Несоответствие данных»: the fields that differ.
type MismatchPage struct {
	web.Page
	Bank   string
	Fields []string
}

// Register mounts the pages and the API.
func (s *Service) Register(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	r.HandleFunc(PathSettings, s.settingsPage).Methods(get...)
	r.HandleFunc(PathStart, s.startSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathUnlink, s.unlinkSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathSignIn, s.signInPage).Methods(get...)
	r.HandleFunc(PathSignIn, s.signInSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathCallback, s.callback).Methods(http.MethodGet)
	s.registerAPI(r)
}

func (s *Service) banks(lang string, linked []LinkView) []BankView {
	var out []BankView
	for _, b := range s.d.Banks.Enabled() {
		v := BankView{ID: b.ID, Name: b.Name(lang), Logo: b.Logo}
		for _, l := range linked {
			v.Linked = v.Linked || l.Bank == b.ID
		}
		out = append(out, v)
	}
	return out
}

func (s *Service) settingsPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	s.renderSettings(w, r, sess.AccountID, r.URL.Query().Get("confirmed"), "")
}

func (s *Service) renderSettings(w http.ResponseWriter, r *http.Request, accountID, confirmed, unlinked string) {
	ctx := r.Context()
	a, err := s.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	lang := s.Web.Lang(r)
	links, err := s.Links(ctx, accountID, lang)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	p := &BanksPage{Page: s.Page(w, r), Level: string(a.Level), Banks: s.banks(lang, links), Links: links, Unlinked: unlinked}
	if b, _, ok := s.d.Banks.Bank(confirmed); ok {
		p.Confirmed = b.Name(lang)
	}
	s.Web.Render(w, r, http.StatusOK, "banks", p)
}

func (s *Service) startSubmit(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedInForm(w, r, selfservice.PathLogin, PathSettings)
	if !ok {
		return
	}
	s.go2bank(w, r, r.PostForm.Get("bank"), PurposeConfirm, sess.AccountID, "", PathSettings)
}

// go2bank starts a browser's trip and sends it to the bank.
func (s *Service) go2bank(w http.ResponseWriter, r *http.Request, bankID, purpose, accountID, flow, back string) {
	u, binding, err := s.Start(r.Context(), bankID, purpose, accountID, flow, s.Meta(r).IP, false)
	if err != nil {
		s.fail(w, r, err, back)
		return
	}
	s.Web.SetCookie(w, s.Web.CookieName(cookieTrip), binding, s.d.TTL)
	http.Redirect(w, r, u, http.StatusSeeOther)
}

func (s *Service) unlinkSubmit(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedInForm(w, r, selfservice.PathLogin, PathSettings)
	if !ok {
		return
	}
	bankID := r.PostForm.Get("bank")
	err := s.Unlink(r.Context(), sess.AccountID, bankID, s.Meta(r))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.ServerError(w, r, err)
		return
	}
	name := ""
	if b, _, ok := s.d.Banks.Bank(bankID); ok && err == nil {
		name = b.Name(s.Web.Lang(r))
	}
	s.renderSettings(w, r, sess.AccountID, "", name)
}

func (s *Service) signInPage(w http.ResponseWriter, r *http.Request) {
	p := &BanksPage{Page: s.Page(w, r), Banks: s.banks(s.Web.Lang(r), nil), FlowID: r.URL.Query().Get("flow")}
	s.Web.Render(w, r, http.StatusOK, "bank_login", p)
}

func (s *Service) signInSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.BadRequest(w, r)
		return
	}
	back := PathSignIn + "?flow=" + url.QueryEscape(r.PostForm.Get("flow"))
	if !s.Web.CheckCSRF(r) {
		s.Web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", back)
		return
	}
	s.go2bank(w, r, r.PostForm.Get("bank"), PurposeSignIn, "", r.PostForm.Get("flow"), back)
}

// callback is where the bank sends the browser back.
func (s *Service) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	binding := s.Cookie(r, cookieTrip)
	t, b, id, err := s.finish(ctx, r.URL.Query(), binding)
	s.Web.ClearCookie(w, s.Web.CookieName(cookieTrip))
	back := PathSettings
	if t != nil && t.Purpose == PurposeSignIn {
		back = PathSignIn + "?flow=" + url.QueryEscape(t.Flow)
	}
	if err != nil {
		s.fail(w, r, err, back)
		return
	}
	m := s.Meta(r)
	switch t.Purpose {
	case PurposeConfirm:
		// The citizen who started the trip must still be the one signed
		// in here.
		sess, err := s.Sessions.Current(r)
		if err != nil {
			s.ServerError(w, r, err)
			return
		}
		if sess == nil || sess.AccountID != t.AccountID {
			s.fail(w, r, ErrWrongAccount, back)
			return
		}
		if _, err := s.Confirm(ctx, t.AccountID, b, id, m); err != nil {
			s.fail(w, r, err, back)
			return
		}
		http.Redirect(w, r, PathSettings+"?confirmed="+url.QueryEscape(b.ID), http.StatusSeeOther)
	case PurposeSignIn:
		a, err := s.SignIn(ctx, b, id, m)
		if err != nil {
			s.fail(w, r, err, back)
			return
		}
		s.SignInAccount(w, r, t.Flow, a, AMR(id))
	default:
		s.fail(w, r, ErrExpired, back)
	}
}

// fail answers a page with what went wrong, in the seed's words.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error, back string) {
	var mm *MismatchError
	switch {
	case errors.As(err, &mm):
		p := &MismatchPage{Page: s.Page(w, r)}
		for _, f := range mm.Fields {
			p.Fields = append(p.Fields, "bank.field."+string(f))
		}
		s.Web.Render(w, r, http.StatusConflict, "bank_mismatch", p)
	case errors.Is(err, federation.ErrUnavailable):
		s.Log().Warn("bank: unavailable", "err", err)
		s.Web.Error(w, r, http.StatusBadGateway, "bank.error.connection.title", "bank.error.connection", back)
	case errors.Is(err, federation.ErrInvalid):
		s.Log().Warn("bank: answer refused", "err", err)
		s.Web.Error(w, r, http.StatusForbidden, "bank.error.refused.title", "bank.error.refused", back)
	case errors.Is(err, federation.ErrRefused):
		s.Log().Info("bank: refused", "err", err)
		s.Web.Error(w, r, http.StatusForbidden, "bank.error.refused.title", "bank.error.refused", back)
	case errors.Is(err, ErrNotLinked):
		s.Web.Error(w, r, http.StatusForbidden, "bank.error.not_linked.title", "bank.error.not_linked", selfservice.PathLogin)
	case errors.Is(err, ErrLinkedElsewhere):
		s.Web.Error(w, r, http.StatusConflict, "bank.error.taken.title", "bank.error.taken", back)
	case errors.Is(err, ErrNotVerified):
		s.Web.Error(w, r, http.StatusConflict, "bank.error.not_verified.title", "bank.error.not_verified", "/profile")
	case errors.Is(err, ErrTooMany):
		w.Header().Set("Retry-After", "60")
		s.Web.Error(w, r, http.StatusTooManyRequests, "bank.error.rate.title", "bank.error.rate", back)
	case errors.Is(err, ErrUnknownBank), errors.Is(err, ErrExpired), errors.Is(err, ErrWrongAccount):
		s.Web.Error(w, r, http.StatusBadRequest, "flow.error.title", "bank.error.expired", back)
	default:
		s.ServerError(w, r, err)
	}
}
