package signin

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/provider"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/web"
)

// endSession implements OpenID Connect RP-Initiated Logout 1.0. A valid
// id_token_hint naming the current session (its sid) signs the citizen out
// at once; otherwise the citizen confirms on a page (§2), so that neither a
// third-party link nor a service holding an id_token of an earlier, ended
// session of the same citizen can end the session they have now.
// post_logout_redirect_uri must be registered for the client exactly, and
// state goes back with it.
func (s *Service) endSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	q := r.Form
	var hint *provider.IDTokenHint
	clientID := q.Get("client_id")
	if raw := q.Get("id_token_hint"); raw != "" {
		h, err := s.OAuth.VerifyIDTokenHint(ctx, raw)
		if err != nil {
			s.Web.Error(w, r, http.StatusBadRequest, "logout.error.title", "logout.error.hint", "")
			return
		}
		hint = h
		if clientID == "" && len(hint.Audience) == 1 {
			clientID = hint.Audience[0]
		} else if clientID != "" && !contains(hint.Audience, clientID) {
			s.Web.Error(w, r, http.StatusBadRequest, "logout.error.title", "logout.error.hint", "")
			return
		}
	}
	var client *clients.Client
	if clientID != "" {
		c, err := s.Clients.GetClient(ctx, clientID)
		if err != nil {
			s.Web.Error(w, r, http.StatusBadRequest, "logout.error.title", "logout.error.client", "")
			return
		}
		client = c
	}
	redirect := q.Get("post_logout_redirect_uri")
	if redirect != "" && (client == nil || !contains(client.PostLogoutRedirectURIs, redirect)) {
		s.Web.Error(w, r, http.StatusBadRequest, "logout.error.title", "logout.error.redirect", "")
		return
	}
	form := url.Values{}
	if redirect != "" {
		form.Set("post_logout_redirect_uri", redirect)
		if st := q.Get("state"); st != "" {
			form.Set("state", st)
		}
	}
	sess, err := s.Sessions.Current(r)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	if sess == nil || hint.Names(sess.ID, sess.AccountID) {
		s.finishLogout(w, r, form)
		return
	}
	flow := &selfservice.Flow{Kind: selfservice.KindLogout, Form: form, RequestedAt: s.Now().UTC()}
	if client != nil {
		flow.ClientID = client.ID
	}
	if err := s.Flows.Save(ctx, flow); err != nil {
		s.ServerError(w, r, err)
		return
	}
	name := ""
	if client != nil {
		name = client.Name
	}
	page := s.Page(w, r)
	if lang := uiLocale(q.Get("ui_locales")); lang != "" && r.URL.Query().Get("lang") == "" {
		// The service knows the citizen's language (§2 ui_locales); the
		// choice is remembered for the confirmation's answer too.
		s.Web.SetLang(w, r, lang)
		page.Lang = lang
	}
	s.Web.Render(w, r, http.StatusOK, "logout", &web.LogoutData{Page: page, FlowID: flow.ID, ClientName: name,
		OtherSession: hint != nil})
}

func (s *Service) logoutConfirm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
		return
	}
	flow, err := s.Flows.LoadAny(ctx, r.PostForm.Get("flow"), selfservice.KindLogout)
	if errors.Is(err, selfservice.ErrFlowExpired) {
		s.Expired(w, r)
		return
	} else if err != nil {
		s.ServerError(w, r, err)
		return
	}
	if !s.Web.CheckCSRF(r) {
		s.Web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", "")
		return
	}
	if err := s.Flows.Delete(ctx, flow.ID); err != nil {
		s.Log().Warn("signin: end the logout flow", "err", err)
	}
	if r.PostForm.Get("decision") != "yes" {
		s.Web.Render(w, r, http.StatusOK, "message", &web.MessageData{
			Page: s.Page(w, r), TitleKey: "logout.cancelled.title", MessageKey: "logout.cancelled.message",
		})
		return
	}
	s.finishLogout(w, r, flow.Form)
}

// finishLogout ends the session and sends the citizen back to the client or
// to the signed-out page.
func (s *Service) finishLogout(w http.ResponseWriter, r *http.Request, form url.Values) {
	if sess, err := s.Sessions.Current(r); err == nil && sess != nil {
		s.Record(r.Context(), s.Meta(r), sess.AccountID, "logout", "", nil)
	}
	done := &web.MessageData{TitleKey: "logout.done.title", MessageKey: "logout.done.message"}
	s.LogoutFrames(r, done)
	if err := s.Sessions.End(r); err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.ClearCookie(w, s.Sessions.Cookie())
	if target := form.Get("post_logout_redirect_uri"); target != "" {
		u, err := url.Parse(target)
		if err == nil {
			if st := form.Get("state"); st != "" {
				q := u.Query()
				q.Set("state", st)
				u.RawQuery = q.Encode()
			}
			if len(done.Frames) == 0 {
				http.Redirect(w, r, u.String(), http.StatusSeeOther)
				return
			}
			// The services' front-channel iframes load on this page
			// first; the citizen continues to the service from it.
			done.LinkURL = u.String()
		}
	}
	frameSrc := done.FrameSrc
	done.Page = s.Page(w, r)
	done.FrameSrc = frameSrc
	s.Web.Render(w, r, http.StatusOK, "message", done)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
