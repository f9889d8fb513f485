package settings

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/web"
)

// Connected services: the services holding the citizen's consent or
// tokens, and withdrawing one's access (package consent decides).

// ServicesPage lists the services holding the citizen's consent.
type ServicesPage struct {
	web.Page
	Services []ServiceView
	// Revoked names the service whose access was just withdrawn.
	Revoked string
}

// ServiceView is a connected service.
type ServiceView struct {
	ClientID  string    `json:"client_id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	GrantedAt time.Time `json:"granted_at"`
}

// Services lists the connected services with their names.
func (s *Service) Services(ctx context.Context, accountID string) ([]ServiceView, error) {
	list, err := s.d.Consent.Connected(ctx, accountID)
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
	if !httpx.ValidID(clientID) {
		return storage.ErrNotFound
	}
	if err := s.d.Consent.Revoke(ctx, accountID, clientID); err != nil {
		return err
	}
	s.Record(ctx, m, accountID, "consent.revoked", clientID, nil)
	return nil
}

func (s *Service) servicesPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
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
	sess, ok := s.SignedInForm(w, r, selfservice.PathLogin, PathServices)
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

func (s *Service) apiServices(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	list, err := s.Services(r.Context(), sess.AccountID)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{"services": list})
}

func (s *Service) apiRevokeService(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	err := s.RevokeService(r.Context(), sess.AccountID, mux.Vars(r)["client_id"], s.Meta(r))
	s.APINoContent(w, r, err, "No consent is given to that service.")
}
