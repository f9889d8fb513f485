// Package console is the service centres' operator console: server-rendered
// pages in Russian and English under /operator, with their own sign-in
// (password and authenticator code), short sessions, a CSRF token on every
// form and the role of the signed-in operator checked by package operator
// on every action.
package console

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/operator"
	"github.com/gosid/gosid/verify"
	"github.com/gosid/gosid/web"
)

// Paths of the console.
const (
	PathHome      = "/operator"
	PathLogin     = "/operator/login"
	PathLogout    = "/operator/logout"
	PathFind      = "/operator/find"
	PathCases     = "/operator/cases/"
	PathSlips     = "/operator/slips/"
	PathJournal   = "/operator/journal"
	PathOperators = "/operator/operators"
)

// sessionCookie holds the console session's token.
const sessionCookie = "gosid_operator"

// Console serves the pages.
type Console struct {
	svc *operator.Service
	web *web.Renderer
	dev bool
	ttl time.Duration
	log *slog.Logger
}

// New returns the console.
func New(svc *operator.Service, w *web.Renderer, sessionTTL time.Duration, dev bool, log *slog.Logger) *Console {
	return &Console{svc: svc, web: w, dev: dev, ttl: sessionTTL, log: log}
}

// Register mounts the console on r.
func (c *Console) Register(r *mux.Router) {
	get, post := []string{http.MethodGet, http.MethodHead}, http.MethodPost
	r.HandleFunc(PathHome, c.home).Methods(get...)
	r.HandleFunc(PathLogin, c.loginPage).Methods(get...)
	r.HandleFunc(PathLogin, c.loginSubmit).Methods(post)
	r.HandleFunc(PathLogout, c.logout).Methods(post)
	r.HandleFunc(PathFind, c.find).Methods(post)
	r.HandleFunc(PathCases+"{id}", c.casePage).Methods(get...)
	r.HandleFunc(PathCases+"{id}/confirm", c.confirm).Methods(post)
	r.HandleFunc(PathSlips+"{no:[0-9]{1,18}}", c.slip).Methods(get...)
	r.HandleFunc(PathJournal, c.journal).Methods(get...)
	r.HandleFunc(PathOperators, c.operators).Methods(get...)
	r.HandleFunc(PathOperators+"/{id}/disable", c.disable).Methods(post)
}

// page is the basics of every console page.
func (c *Console) page(w http.ResponseWriter, r *http.Request) web.Page {
	return web.Page{Lang: c.web.Lang(r), CSRF: c.web.CSRFToken(w, r), Dev: c.dev}
}

// Base is embedded in every console page's data.
type Base struct {
	web.Page
	Session *operator.Session
	// Can tells the page which links to show; the server checks again.
	Journal, Operators, Find bool
}

func (c *Console) base(w http.ResponseWriter, r *http.Request, s *operator.Session) Base {
	b := Base{Page: c.page(w, r), Session: s}
	if s != nil {
		b.Journal, b.Operators, b.Find = s.Role.Can(operator.ActJournal), s.Role.Can(operator.ActOperators), s.Role.Can(operator.ActFind)
	}
	return b
}

// session returns the signed-in operator, or redirects to the sign-in
// page; for a form it also checks the CSRF token.
func (c *Console) session(w http.ResponseWriter, r *http.Request) (*operator.Session, bool) {
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			c.web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
			return nil, false
		}
		if !c.web.CheckCSRF(r) {
			c.web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", PathHome)
			return nil, false
		}
	}
	var token string
	if ck, err := r.Cookie(c.web.CookieName(sessionCookie)); err == nil {
		token = ck.Value
	}
	s, err := c.svc.Current(r.Context(), token)
	if err != nil {
		c.fail(w, r, err)
		return nil, false
	}
	if s == nil {
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return nil, false
	}
	return s, true
}

// fail answers an error of an action: refusals in words, anything else a
// 500 (or the 503 page through the outage middleware).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, operator.ErrDenied):
		c.web.Error(w, r, http.StatusForbidden, "op.error.title", "op.error.denied", PathHome)
	case errors.Is(err, operator.ErrNotFound):
		c.web.Error(w, r, http.StatusNotFound, "op.error.title", "op.error.not_found", PathHome)
	default:
		c.log.Error("console: internal error", "path", r.URL.Path, "err", err)
		c.web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", "")
	}
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(w, r)
	if !ok {
		return
	}
	c.web.Render(w, r, http.StatusOK, "op_home", &HomePage{Base: c.base(w, r, s)})
}

// HomePage is the console's start: the lookup form.
type HomePage struct {
	Base
	ErrorKey string
	Kind     string
	Reason   string
}

// LoginPage is the operators' sign-in.
type LoginPage struct {
	web.Page
	Login, Centre string
	ErrorKey      string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.web.Render(w, r, http.StatusOK, "op_login", &LoginPage{Page: c.page(w, r)})
}

func (c *Console) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	if !c.web.CheckCSRF(r) {
		c.web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", PathLogin)
		return
	}
	f := r.PostForm
	token, _, err := c.svc.SignIn(r.Context(), f.Get("login"), f.Get("password"), f.Get("code"), f.Get("centre"), httpx.ClientIP(r))
	if err != nil {
		key := ""
		switch {
		case errors.Is(err, operator.ErrBadSignIn):
			key = "op.login.error.invalid"
		case errors.Is(err, operator.ErrLocked):
			key = "op.login.error.locked"
		case errors.Is(err, operator.ErrNoCentre):
			key = "op.login.error.centre"
		default:
			c.fail(w, r, err)
			return
		}
		c.web.Render(w, r, http.StatusUnauthorized, "op_login", &LoginPage{Page: c.page(w, r),
			Login: f.Get("login"), Centre: f.Get("centre"), ErrorKey: key})
		return
	}
	c.web.SetCookie(w, sessionCookie, token, c.ttl)
	http.Redirect(w, r, PathHome, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.session(w, r); !ok {
		return
	}
	if ck, err := r.Cookie(c.web.CookieName(sessionCookie)); err == nil {
		if err := c.svc.SignOut(r.Context(), ck.Value); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	c.web.ClearCookie(w, sessionCookie)
	http.Redirect(w, r, PathLogin, http.StatusSeeOther)
}

func (c *Console) find(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	cs, err := c.svc.Lookup(r.Context(), s, f.Get("kind"), f.Get("value"), f.Get("reason"), httpx.ClientIP(r))
	key := ""
	switch {
	case err == nil:
		http.Redirect(w, r, PathCases+cs.ID, http.StatusSeeOther)
		return
	case errors.Is(err, operator.ErrNotFound):
		key = "op.find.error.not_found"
	case errors.Is(err, operator.ErrNoReason):
		key = "op.find.error.reason"
	case errors.Is(err, operator.ErrBadQuery):
		key = "op.find.error.query"
	default:
		c.fail(w, r, err)
		return
	}
	c.web.Render(w, r, http.StatusUnprocessableEntity, "op_home", &HomePage{Base: c.base(w, r, s), ErrorKey: key,
		Kind: f.Get("kind"), Reason: f.Get("reason")})
}

// CasePage shows a citizen found by the operator.
type CasePage struct {
	Base
	CaseID   string
	Citizen  *operator.Citizen
	ErrorKey string
}

func (c *Console) casePage(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(w, r)
	if !ok {
		return
	}
	if cs, ok := c.loadCase(w, r, s); ok {
		c.renderCase(w, r, s, cs, http.StatusOK, "")
	}
}

// loadCase is the case named in the path, if the operator may open it;
// false after answering.
func (c *Console) loadCase(w http.ResponseWriter, r *http.Request, s *operator.Session) (*operator.Case, bool) {
	id := mux.Vars(r)["id"]
	if !httpx.ValidID(id) {
		c.fail(w, r, operator.ErrNotFound)
		return nil, false
	}
	cs, err := c.svc.Case(r.Context(), s, id)
	if err != nil {
		c.fail(w, r, err)
		return nil, false
	}
	return cs, true
}

func (c *Console) renderCase(w http.ResponseWriter, r *http.Request, s *operator.Session, cs *operator.Case, status int, errKey string) {
	cz, err := c.svc.View(r.Context(), cs)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.web.Render(w, r, status, "op_case", &CasePage{Base: c.base(w, r, s), CaseID: cs.ID, Citizen: cz, ErrorKey: errKey})
}

func (c *Console) confirm(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(w, r)
	if !ok {
		return
	}
	cs, ok := c.loadCase(w, r, s)
	if !ok {
		return
	}
	e, err := c.svc.Confirm(r.Context(), s, cs, r.PostForm.Get("passport"), r.PostForm.Get("checked") == "yes", httpx.ClientIP(r))
	key := ""
	switch {
	case err == nil:
		http.Redirect(w, r, PathSlips+strconv.FormatInt(e.ID, 10), http.StatusSeeOther)
		return
	case errors.Is(err, operator.ErrMismatch):
		key = "op.confirm.error.mismatch"
	case errors.Is(err, verify.ErrNotVerified):
		key = "op.confirm.error.not_verified"
	case errors.Is(err, verify.ErrAlreadyConfirmed):
		key = "op.confirm.error.already"
	default:
		c.fail(w, r, err)
		return
	}
	c.renderCase(w, r, s, cs, http.StatusUnprocessableEntity, key)
}

// SlipPage is the printable confirmation slip.
type SlipPage struct {
	Base
	Slip *operator.Slip
	// At is the confirmation's time, in Moscow time.
	At string
}

// moscow is the time zone of the slip (UTC+3, no daylight saving).
var moscow = time.FixedZone("MSK", 3*60*60)

func (c *Console) slip(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(w, r)
	if !ok {
		return
	}
	no, _ := strconv.ParseInt(mux.Vars(r)["no"], 10, 64)
	sl, err := c.svc.Slip(r.Context(), s, no, httpx.ClientIP(r))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.web.Render(w, r, http.StatusOK, "op_slip", &SlipPage{Base: c.base(w, r, s), Slip: sl,
		At: sl.Entry.At.In(moscow).Format("02.01.2006 15:04 MST")})
}

// JournalPage is the centre's journal.
type JournalPage struct {
	Base
	Entries []*operator.Entry
}

func (c *Console) journal(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(w, r)
	if !ok {
		return
	}
	es, err := c.svc.Journal(r.Context(), s, 200)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.web.Render(w, r, http.StatusOK, "op_journal", &JournalPage{Base: c.base(w, r, s), Entries: es})
}

// OperatorsPage lists the centre's operators.
type OperatorsPage struct {
	Base
	Operators []*operator.Operator
}

func (c *Console) operators(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(w, r)
	if !ok {
		return
	}
	ops, err := c.svc.Operators(r.Context(), s)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.web.Render(w, r, http.StatusOK, "op_operators", &OperatorsPage{Base: c.base(w, r, s), Operators: ops})
}

func (c *Console) disable(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(w, r)
	if !ok {
		return
	}
	if err := c.svc.Disable(r.Context(), s, mux.Vars(r)["id"], httpx.ClientIP(r)); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, PathOperators, http.StatusSeeOther)
}
