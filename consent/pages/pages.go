// Package pages is the consent page of an authorization request, on the
// self-service engine. It sits apart from package consent, the domain
// (decisions, remembered grants, connected services), so that storage
// adapters, which import the domain, never reach the HTTP layer.
package pages

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/gosid/gosid/claimsreq"
	"github.com/gosid/gosid/consent"
	"github.com/gosid/gosid/provider"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/web"
)

// Pages is the consent page of an authorization request: the citizen sees
// which service asks for what, in words, and allows or declines. Allowing
// remembers the consent and resumes the request; declining answers the
// service with access_denied.
type Pages struct {
	*selfservice.Engine
	svc *consent.Service
}

// New returns the consent pages on the self-service engine.
func New(e *selfservice.Engine, svc *consent.Service) *Pages { return &Pages{Engine: e, svc: svc} }

// Register mounts the consent page.
func (s *Pages) Register(r *mux.Router) {
	r.HandleFunc(selfservice.PathConsent, s.consentPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(selfservice.PathConsent, s.consentSubmit).Methods(http.MethodPost)
}

func (s *Pages) consentPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	flow, _, ok := s.AuthorizeFlowOf(w, r, r.URL.Query().Get("flow"))
	if !ok {
		return
	}
	var items []web.ScopeItem
	scopes := strings.Fields(flow.Form.Get("scope"))
	for _, sc := range scopes {
		if knownScope(sc) {
			items = append(items, web.ScopeItem{Name: sc, TitleKey: "scope." + sc + ".title", DescKey: "scope." + sc + ".desc"})
		}
	}
	// Claims the service asks for one by one, beyond its scopes: each is
	// shown, and only what is shown can be released.
	req, err := s.requestedClaims(ctx, flow)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	var claims []web.ClaimItem
	for _, it := range req.Items(scopes) {
		claims = append(claims, web.ClaimItem{Name: it.Name, LabelKey: claimsreq.LabelKey(it.Name), Essential: it.Essential, Purpose: it.Purpose})
	}
	s.Web.Render(w, r, http.StatusOK, "consent", &web.ConsentData{
		Page: s.Page(w, r), FlowID: flow.ID, ClientName: s.ClientName(ctx, flow.ClientID), Scopes: items, Claims: claims,
	})
}

// requestedClaims is the flow's claims parameter as the provider honours
// it (checked when the request arrived).
func (s *Pages) requestedClaims(ctx context.Context, flow *selfservice.Flow) (*claimsreq.Request, error) {
	c, err := s.Clients.GetClient(ctx, flow.ClientID)
	if err != nil {
		return nil, fmt.Errorf("consent: the flow's client: %w", err)
	}
	req, _ := provider.RequestedClaims(flow.Form, c)
	return req, nil
}

func knownScope(s string) bool {
	switch s {
	case "openid", "profile", "email", "phone", "offline_access", "verified_claims":
		return true
	}
	return false
}

func (s *Pages) consentSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	flow, sess, ok := s.AuthorizeForm(w, r)
	if !ok {
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		s.Record(ctx, s.Meta(r), sess.AccountID, "consent.denied", flow.ClientID, nil)
		if err := s.Flows.Delete(ctx, flow.ID); err != nil {
			s.Log().Warn("consent: end the declined request", "err", err)
		}
		s.OAuth.WriteAuthorizeError(w, r, flow.Form, fosite.ErrAccessDenied.WithHint("The citizen declined to share the requested data."))
		return
	}
	if err := s.saveConsent(ctx, sess.AccountID, flow); err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Record(ctx, s.Meta(r), sess.AccountID, "consent.granted", flow.ClientID, map[string]string{"scope": flow.Form.Get("scope")})
	s.OAuth.Resume(w, r, flow.ID, flow.Form)
}

// saveConsent remembers the requested scopes and claims together with any
// granted before.
func (s *Pages) saveConsent(ctx context.Context, subject string, flow *selfservice.Flow) error {
	scopes := strings.Fields(flow.Form.Get("scope"))
	req, err := s.requestedClaims(ctx, flow)
	if err != nil {
		return err
	}
	return s.svc.Remember(ctx, subject, flow.ClientID, slices.Concat(scopes, req.ItemNames(scopes)))
}
