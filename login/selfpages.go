package login

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/selfservice"
)

// SelfPage is the data of the registration, recovery and password pages:
// the flow's view plus the page basics.
type SelfPage = selfservice.PageData

// registerSelfPages mounts the HTML face of the self-service flows.
func (s *Service) registerSelfPages(r *mux.Router) {
	r.HandleFunc(PathPassword, s.passwordPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathPassword, s.passwordSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathContacts, s.contactsPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathContacts, s.contactsSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathAccount, s.accountPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathLogout, s.logoutHere).Methods(http.MethodPost)
	if s.Dev && s.o.Outbox != nil {
		r.HandleFunc(PathOutbox, s.outboxPage).Methods(http.MethodGet)
	}
}

func (s *Service) passwordPage(w http.ResponseWriter, r *http.Request) {
	_, ok := s.SignedIn(w, r, PathAccount)
	if !ok {
		return
	}
	s.Web.Render(w, r, http.StatusOK, "password", &SelfPage{Page: s.Page(w, r), View: &selfservice.View{Type: "password", State: selfservice.StateForm}})
}

func (s *Service) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	sess, ok := s.SignedIn(w, r, PathAccount)
	if !ok {
		return
	}
	m := s.Meta(r)
	if !s.Web.CheckCSRF(r) {
		v := &selfservice.View{Type: "password", State: selfservice.StateForm}
		s.addErr(v, m, "", "csrf.error")
		s.Web.Render(w, r, http.StatusForbidden, "password", &SelfPage{Page: s.Page(w, r), View: v})
		return
	}
	v, err := s.ChangePassword(ctx, sess.AccountID, selfservice.FormInput(r.PostForm), m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		// Every other session ended; this browser gets a fresh one.
		st, err := s.passwordChangedSession(ctx, sess, s.Sessions.Secret(r), m)
		if err != nil {
			s.ServerError(w, r, err)
			return
		}
		s.SetSessionCookie(w, st)
	}
	s.Web.Render(w, r, status, "password", &SelfPage{Page: s.Page(w, r), View: v})
}

// contactsPage shows (or starts) adding a contact; it needs a session, and
// the flow must belong to the signed-in account.
func (s *Service) contactsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.SignedIn(w, r, PathLogin)
	if !ok {
		return
	}
	m := s.Meta(r)
	if id := r.URL.Query().Get("flow"); id != "" {
		f, err := s.self.load(ctx, id, KindContact, false, s.Cookie(r, selfservice.FlowCookie(KindContact)))
		if err == nil && f.Rec != nil && f.Rec.AccountID == sess.AccountID {
			s.Web.Render(w, r, http.StatusOK, "contact", &SelfPage{Page: s.Page(w, r), View: s.view(f, m), LoginURL: PathAccount})
			return
		}
	}
	v, err := s.StartContact(ctx, false, sess.AccountID, m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.SetCookie(w, s.Web.CookieName(selfservice.FlowCookie(KindContact)), v.FlowToken, s.Flows.TTL())
	http.Redirect(w, r, PathContacts+"?flow="+url.QueryEscape(v.ID), http.StatusSeeOther)
}

func (s *Service) contactsSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	sess, err := s.Sessions.Current(r)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	f, ferr := s.self.load(ctx, r.PostForm.Get("flow"), KindContact, false, s.Cookie(r, selfservice.FlowCookie(KindContact)))
	if sess == nil || ferr != nil || f.Rec == nil || f.Rec.AccountID != sess.AccountID {
		s.Web.Error(w, r, http.StatusGone, "flow.error.title", "flow.error.expired", PathContacts)
		return
	}
	m := s.Meta(r)
	if !s.Web.CheckCSRF(r) {
		v := s.view(f, m)
		s.addErr(v, m, "", "csrf.error")
		s.Web.Render(w, r, http.StatusForbidden, "contact", &SelfPage{Page: s.Page(w, r), View: v, LoginURL: PathAccount})
		return
	}
	v, err := s.SubmitContact(ctx, f, r.PostForm.Get("action"), selfservice.FormInput(r.PostForm), m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.Web.Render(w, r, status, "contact", &SelfPage{Page: s.Page(w, r), View: v, LoginURL: PathAccount})
}
