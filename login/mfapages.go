package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/provider"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/selfservice/secondfactor"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/web"
)

// The HTML face of the second factor, sessions and connected services.

// SessionsPage lists the citizen's sessions.
type SessionsPage struct {
	web.Page
	Sessions []SessionView
	Ended    int
}

// SessionView is a session in the list.
type SessionView struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	Device     string    `json:"device"`
	IP         string    `json:"ip"`
	Location   string    `json:"location,omitempty"`
	AMR        []string  `json:"amr"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
}

// ServicesPage lists the services holding the citizen's consent.
type ServicesPage struct {
	web.Page
	Services []ServiceView
	Revoked  string
}

// ServiceView is a connected service.
type ServiceView struct {
	ClientID  string    `json:"client_id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	GrantedAt time.Time `json:"granted_at"`
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
	r.HandleFunc(PathLevel, s.levelPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathLevel, s.levelSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathOffer, s.offerPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathOffer, s.offerSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathSessions, s.sessionsPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathSessions, s.sessionsSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathServices, s.servicesPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathServices, s.servicesSubmit).Methods(http.MethodPost)
}

// afterPassword decides what follows a right password on the sign-in
// page: a second factor, the offer to turn one on, or the service.
func (s *Service) afterPassword(w http.ResponseWriter, r *http.Request, flow *selfservice.Flow, res *passwordResult) {
	ctx := r.Context()
	if res.NeedMFA {
		v, err := s.sf.StartSecondFactor(ctx, false, res.Account, []string{"pwd"}, secondfactor.PurposeLogin, "", flow.ID, "", s.Meta(r))
		if err != nil {
			s.ServerError(w, r, err)
			return
		}
		if len(v.Methods) == 0 {
			// Nothing to send a code to: a second factor cannot be had.
			s.Web.Error(w, r, http.StatusForbidden, "mfa.title", "mfa.none", "")
			return
		}
		s.Web.SetCookie(w, s.Web.CookieName(selfservice.FlowCookie(secondfactor.KindMFA)), v.FlowToken, s.Flows.TTL())
		http.Redirect(w, r, PathSecondFactor+"?flow="+url.QueryEscape(v.ID), http.StatusSeeOther)
		return
	}
	s.SignInAccount(w, r, flow.ID, res.Account, []string{"pwd"})
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

var errBadSetting = errors.New("login: unknown setting value")

// SessionViews lists the account's sessions, marking current.
func (s *Service) SessionViews(ctx context.Context, accountID, current string) ([]SessionView, error) {
	recs, err := s.Sessions.List(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]SessionView, 0, len(recs))
	for _, x := range recs {
		out = append(out, SessionView{ID: x.ID, Current: x.ID == current, Device: session.DeviceName(x.UserAgent),
			IP: x.IP, Location: x.Location, AMR: x.AMR, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt})
	}
	return out, nil
}

func (s *Service) sessionsPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, PathLogin)
	if !ok {
		return
	}
	s.renderSessions(w, r, sess, -1)
}

func (s *Service) renderSessions(w http.ResponseWriter, r *http.Request, sess *session.Session, ended int) {
	list, err := s.SessionViews(r.Context(), sess.AccountID, sess.ID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.Render(w, r, http.StatusOK, "sessions", &SessionsPage{Page: s.Page(w, r), Sessions: list, Ended: ended})
}

func (s *Service) sessionsSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.SignedInForm(w, r, PathLogin, PathSessions)
	if !ok {
		return
	}
	n, err := s.EndSessions(ctx, sess, r.PostForm.Get("action"), r.PostForm.Get("session"), s.Meta(r))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.ServerError(w, r, err)
		return
	}
	if r.PostForm.Get("session") == sess.ID {
		s.Web.ClearCookie(w, s.Sessions.Cookie())
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return
	}
	s.renderSessions(w, r, sess, n)
}

// EndSessions ends one session ("end", by id) or every other one
// ("end_others") of the signed-in citizen and returns how many.
func (s *Service) EndSessions(ctx context.Context, sess *session.Session, action, id string, m selfservice.Meta) (int, error) {
	switch action {
	case "end":
		if err := s.Sessions.EndByID(ctx, sess.AccountID, id); err != nil {
			return 0, err
		}
		s.Record(ctx, m, sess.AccountID, "session.ended", "", map[string]string{"session": id})
		return 1, nil
	case "end_others":
		n, err := s.Sessions.EndOthers(ctx, sess.AccountID, sess.ID)
		if err == nil {
			s.Record(ctx, m, sess.AccountID, "session.ended_others", "", map[string]string{"count": strconv.Itoa(n)})
		}
		return n, err
	}
	return 0, storage.ErrNotFound
}

// Services lists the connected services with their names.
func (s *Service) Services(ctx context.Context, accountID string) ([]ServiceView, error) {
	list, err := s.consent.Connected(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]ServiceView, 0, len(list))
	for _, c := range list {
		v := ServiceView{ClientID: c.ClientID, Scopes: c.Scopes, GrantedAt: c.GrantedAt, Name: s.ClientName(ctx, c.ClientID)}
		if v.Name == "" {
			v.Name = c.ClientID
		}
		out = append(out, v)
	}
	return out, nil
}

// RevokeService withdraws the consent given to a service and revokes every
// token it holds for the citizen. storage.ErrNotFound means it held
// neither.
func (s *Service) RevokeService(ctx context.Context, accountID, clientID string, m selfservice.Meta) error {
	if err := s.consent.Revoke(ctx, accountID, clientID); err != nil {
		return err
	}
	s.Record(ctx, m, accountID, "consent.revoked", clientID, nil)
	return nil
}

func (s *Service) servicesPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, PathLogin)
	if !ok {
		return
	}
	s.renderServices(w, r, sess, "")
}

func (s *Service) renderServices(w http.ResponseWriter, r *http.Request, sess *session.Session, revoked string) {
	list, err := s.Services(r.Context(), sess.AccountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.Render(w, r, http.StatusOK, "services", &ServicesPage{Page: s.Page(w, r), Services: list, Revoked: revoked})
}

func (s *Service) servicesSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.SignedInForm(w, r, PathLogin, PathServices)
	if !ok {
		return
	}
	clientID := r.PostForm.Get("client_id")
	name := s.ClientName(ctx, clientID)
	err := s.RevokeService(ctx, sess.AccountID, clientID, s.Meta(r))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.ServerError(w, r, err)
		return
	}
	if err != nil {
		name = ""
	}
	s.renderServices(w, r, sess, name)
}
