// Package pages is the citizen's side of the Post letter: ordering a
// letter with a confirmation code and entering the code, on the account
// pages.
package pages

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/post"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/web"
)

// Path of the page.
const Path = "/settings/post"

// Pages serves the page on the self-service engine (sessions, CSRF).
type Pages struct {
	*selfservice.Engine
	svc *post.Service
}

// New returns the pages.
func New(e *selfservice.Engine, svc *post.Service) *Pages { return &Pages{Engine: e, svc: svc} }

// Register mounts the page on r.
func (p *Pages) Register(r *mux.Router) {
	r.HandleFunc(Path, p.page).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(Path, p.submit).Methods(http.MethodPost)
}

// Page is the data of the page.
type Page struct {
	web.Page
	Level  account.Level
	Letter *post.Letter
	// Status is the letter's status as shown ("expired" for a live status
	// past its date).
	Status string
	// CanEnter shows the code form.
	CanEnter bool
	// ErrorKey and ErrorArg are a form-level error; InfoKey a notice.
	ErrorKey, ErrorArg, InfoKey string
}

func (p *Pages) render(w http.ResponseWriter, r *http.Request, accountID string, status int, errKey, errArg, info string) {
	ctx := r.Context()
	a, err := p.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		p.ServerError(w, r, err)
		return
	}
	l, err := p.svc.Latest(ctx, accountID)
	if err != nil {
		p.ServerError(w, r, err)
		return
	}
	d := &Page{Page: p.Page(w, r), Level: a.Level, Letter: l, ErrorKey: errKey, ErrorArg: errArg, InfoKey: info}
	if l != nil {
		d.Status = string(l.Status)
		if l.Live(p.Now()) {
			d.CanEnter = a.Level == account.LevelStandard
		} else if l.Status == post.StatusOrdered || l.Status == post.StatusPrinted {
			d.Status = "expired"
		}
	}
	p.Web.Render(w, r, status, "post", d)
}

func (p *Pages) page(w http.ResponseWriter, r *http.Request) {
	sess, ok := p.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	p.render(w, r, sess.AccountID, http.StatusOK, "", "", "")
}

func (p *Pages) submit(w http.ResponseWriter, r *http.Request) {
	sess, ok := p.SignedInForm(w, r, selfservice.PathLogin, Path)
	if !ok {
		return
	}
	ctx, ip := r.Context(), httpx.ClientIP(r)
	var err error
	info := ""
	switch r.PostForm.Get("action") {
	case "order":
		_, err = p.svc.Order(ctx, sess.AccountID, ip)
		info = "post.ordered"
	case "confirm":
		err = p.svc.Enter(ctx, sess.AccountID, r.PostForm.Get("code"), ip)
		info = "post.done"
	default:
		p.BadRequest(w, r)
		return
	}
	var wrong *post.WrongCodeError
	key, arg := "", ""
	switch {
	case err == nil:
		p.render(w, r, sess.AccountID, http.StatusOK, "", "", info)
		return
	case errors.As(err, &wrong):
		key, arg = "post.error.code", strconv.Itoa(wrong.Left)
	case errors.Is(err, post.ErrCodeFormat):
		key = "post.error.format"
	case errors.Is(err, post.ErrBurned):
		key = "post.error.burned"
	case errors.Is(err, post.ErrExpired):
		key = "post.error.expired"
	case errors.Is(err, post.ErrNoLetter):
		key = "post.error.none"
	case errors.Is(err, post.ErrLevel):
		key = "post.error.level"
	case errors.Is(err, post.ErrAddress):
		key = "post.error.address"
	case errors.Is(err, post.ErrLimit):
		key = "post.error.limit"
	case errors.Is(err, post.ErrConfirmed):
		key = "post.error.confirmed"
	default:
		p.ServerError(w, r, err)
		return
	}
	p.render(w, r, sess.AccountID, http.StatusUnprocessableEntity, key, arg, "")
}
