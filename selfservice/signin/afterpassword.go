package signin

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/selfservice/secondfactor"
	"github.com/gosid/gosid/web"
)

// The HTML face of the second factor, sessions and connected services.

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
	r.HandleFunc(selfservice.PathLevel, s.levelPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(selfservice.PathLevel, s.levelSubmit).Methods(http.MethodPost)
	r.HandleFunc(selfservice.PathOffer, s.offerPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(selfservice.PathOffer, s.offerSubmit).Methods(http.MethodPost)
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
		http.Redirect(w, r, selfservice.PathSecondFactor+"?flow="+url.QueryEscape(v.ID), http.StatusSeeOther)
		return
	}
	s.SignInAccount(w, r, flow.ID, res.Account, []string{"pwd"})
}

// levelPage explains which trust level a service needs and how to reach
// it; the citizen can go back to the service (which is told the
// requirement was not met) or to the account.
func (s *Service) levelPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	flow, sess, ok := s.AuthorizeFlowOf(w, r, r.URL.Query().Get("flow"))
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
	need, _, _ := s.requirements(flowContext(c, flow))
	s.Web.Render(w, r, http.StatusForbidden, "level", &LevelPage{Page: s.Page(w, r), FlowID: flow.ID,
		ClientName: c.Name, Need: string(need), Have: string(acct.Level)})
}

func (s *Service) levelSubmit(w http.ResponseWriter, r *http.Request) {
	flow, sess, ok := s.AuthorizeForm(w, r)
	if !ok {
		return
	}
	if err := s.Flows.Delete(r.Context(), flow.ID); err != nil {
		s.Log().Warn("signin: end the request the level page answered", "err", err)
	}
	s.Record(r.Context(), s.Meta(r), sess.AccountID, "login.level_insufficient", flow.ClientID, nil)
	s.OAuth.WriteAuthorizeError(w, r, flow.Form,
		errUnmet.WithHint("The account's trust level is below what the service requires."))
}

func (s *Service) offerPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
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
	sess, ok := s.SignedInForm(w, r, selfservice.PathLogin, "")
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
		target := selfservice.PathSecurity
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
	s.ContinueTo(w, r, id, selfservice.PathAccount)
}
