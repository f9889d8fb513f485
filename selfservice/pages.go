package selfservice

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/session"
)

// FlowPages is the page face of a flow a citizen goes through without a
// session (registration, recovery): GET shows the flow named by ?flow= or
// starts one and redirects to it, POST runs a step. The browser keeps the
// flow token in the flow cookie; a step that finished an authentication
// (View.Start) signs the browser in.
type FlowPages struct {
	Kind string
	Path string
	// Start begins a browser flow that resumes the authorization flow
	// returnTo when it is done ("" for none); the view carries the flow
	// token.
	Start func(ctx context.Context, returnTo string, m Meta) (*View, error)
	// Show is the view of a flow; Submit runs one step.
	Show   func(ctx context.Context, f *Flow, m Meta) (*View, error)
	Submit func(ctx context.Context, f *Flow, action string, in Input, m Meta) (*View, error)
	// Retype lists the fields a fresh flow refills when the form was posted
	// to an expired one (never passwords or codes).
	Retype []string
}

// MountFlowPages mounts the pages of p at p.Path.
func (e *Engine) MountFlowPages(r *mux.Router, p FlowPages) {
	r.HandleFunc(p.Path, e.flowGet(p)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(p.Path, e.flowPost(p)).Methods(http.MethodPost)
}

// flowGet shows a flow, or starts one (remembering an authorization flow
// to return to) and redirects to it.
func (e *Engine) flowGet(p FlowPages) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		q := r.URL.Query()
		if lang := q.Get("lang"); lang != "" {
			e.Web.SetLang(w, r, lang)
		}
		m := e.Meta(r)
		if id := q.Get("flow"); id != "" {
			f, err := e.Flows.Load(ctx, id, p.Kind, false, e.Cookie(r, FlowCookie(p.Kind)))
			if err == nil {
				v, err := p.Show(ctx, f, m)
				if err != nil {
					e.ServerError(w, r, err)
					return
				}
				e.RenderFlow(w, r, http.StatusOK, p.Kind, v, f.ReturnTo)
				return
			}
			if !errors.Is(err, ErrFlowExpired) && !errors.Is(err, ErrFlowToken) {
				e.ServerError(w, r, err)
				return
			}
			// An expired or foreign flow: start afresh (nothing typed is lost,
			// since nothing was stored for this browser).
		}
		returnTo := q.Get("return_to")
		if returnTo != "" {
			if _, err := e.Flows.LoadAny(ctx, returnTo, KindAuthorize); err != nil {
				returnTo = ""
			}
		}
		v, err := p.Start(ctx, returnTo, m)
		if err != nil {
			e.ServerError(w, r, err)
			return
		}
		e.SetFlowCookie(w, p.Kind, v.FlowToken)
		http.Redirect(w, r, p.Path+"?flow="+url.QueryEscape(v.ID), http.StatusSeeOther)
	}
}

// flowPost runs one step of a flow from its form.
func (e *Engine) flowPost(p FlowPages) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := r.ParseForm(); err != nil {
			e.BadRequest(w, r)
			return
		}
		f, err := e.Flows.Load(ctx, r.PostForm.Get("flow"), p.Kind, false, e.Cookie(r, FlowCookie(p.Kind)))
		if errors.Is(err, ErrFlowExpired) || errors.Is(err, ErrFlowToken) {
			e.restartFlow(w, r, p)
			return
		} else if err != nil {
			e.ServerError(w, r, err)
			return
		}
		m := e.Meta(r)
		if !e.Web.CheckCSRF(r) {
			v, err := p.Show(ctx, f, m)
			if err != nil {
				e.ServerError(w, r, err)
				return
			}
			e.AddErr(v, m, "", "csrf.error")
			e.RenderFlow(w, r, http.StatusForbidden, p.Kind, v, f.ReturnTo)
			return
		}
		v, err := p.Submit(ctx, f, r.PostForm.Get("action"), FormInput(r.PostForm), m)
		if err != nil {
			e.ServerError(w, r, err)
			return
		}
		if v.Start != nil && !e.startPageSession(w, r, *v.Start, f.ReturnTo, m) {
			return
		}
		status := http.StatusOK
		if len(v.Errors) > 0 {
			status = http.StatusUnprocessableEntity
		}
		e.RenderFlow(w, r, status, p.Kind, v, f.ReturnTo)
	}
}

// restartFlow answers a form posted to an expired or foreign flow with a
// fresh flow showing the same form, refilled with what the citizen typed
// (never passwords or codes), and a note that it has to be sent again.
func (e *Engine) restartFlow(w http.ResponseWriter, r *http.Request, p FlowPages) {
	m := e.Meta(r)
	v, err := p.Start(r.Context(), "", m)
	if err != nil {
		e.ServerError(w, r, err)
		return
	}
	e.SetFlowCookie(w, p.Kind, v.FlowToken)
	v.FlowToken = ""
	v.Values = map[string]string{}
	for _, k := range p.Retype {
		if val := r.PostForm.Get(k); val != "" && len(val) <= FieldLimit(k) {
			v.Values[k] = val
		}
	}
	e.AddErr(v, m, "", "flow.expired_retyped")
	e.RenderFlow(w, r, http.StatusConflict, p.Kind, v, "")
}

// startPageSession signs the browser in with the session a finished flow
// earned. When the flow began from a relying service's sign-in page, the
// authorization resumes and the response is written (it returns false).
func (e *Engine) startPageSession(w http.ResponseWriter, r *http.Request, st SessionStart, returnTo string, m Meta) bool {
	st.ReplaceToken, st.AuthorizeFlow, st.Device = e.Sessions.Secret(r), returnTo, e.Cookie(r, session.DeviceCookie)
	started, err := e.StartSession(r.Context(), st, m)
	if err != nil {
		e.ServerError(w, r, err)
		return false
	}
	if started.Flow == nil {
		e.SetSessionCookie(w, started)
		return true
	}
	e.ContinueSession(w, r, started, PathAccount)
	return false
}

// RenderFlow renders the page of a flow of kind (the template of that
// name); «Войти» leads back to the authorization flow returnTo, if any.
func (e *Engine) RenderFlow(w http.ResponseWriter, r *http.Request, status int, kind string, v *View, returnTo string) {
	loginURL := PathAccount
	if returnTo != "" {
		loginURL = PathLogin + "?flow=" + url.QueryEscape(returnTo)
	}
	e.Web.Render(w, r, status, kind, &SelfPage{Page: e.Page(w, r), View: v, LoginURL: loginURL})
}
