package login

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/selfservice/secondfactor"
)

// The JSON face of the second factor, sessions and connected services
// (api/openapi.yaml). Every endpoint takes the bearer session token.
func (s *Service) registerSettingsAPI(api *mux.Router) {
	api.HandleFunc("/session/sessions", s.apiSessions).Methods(http.MethodGet)
	api.HandleFunc("/session/sessions", s.apiEndOthers).Methods(http.MethodDelete)
	api.HandleFunc("/session/sessions/{id}", s.apiEndSession).Methods(http.MethodDelete)
	api.HandleFunc("/session/services", s.apiServices).Methods(http.MethodGet)
	api.HandleFunc("/session/services/{client_id}", s.apiRevokeService).Methods(http.MethodDelete)
	api.HandleFunc("/session/settings", s.apiSettings).Methods(http.MethodPatch)
}

func (s *Service) apiSessions(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	list, err := s.SessionViews(r.Context(), sess.AccountID, sess.ID)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{"sessions": list})
}

func (s *Service) apiEndOthers(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	n, err := s.EndSessions(r.Context(), sess, "end_others", "", s.Meta(r))
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{"ended": n})
}

func (s *Service) apiEndSession(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	_, err := s.EndSessions(r.Context(), sess, "end", mux.Vars(r)["id"], s.Meta(r))
	s.APINoContent(w, r, err, "The account has no such session.")
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

func (s *Service) apiSettings(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	in, _, err := selfservice.ReadInput(r)
	if err != nil {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	v, set := in["login_notice"]
	if !set {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "Nothing to change; known settings: login_notice.")
		return
	}
	err = s.sf.SetLoginNotice(r.Context(), sess.AccountID, v)
	switch {
	case errors.Is(err, errBadSetting), errors.Is(err, secondfactor.ErrBadSetting):
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "login_notice must be one of all, phone, email, none.")
	case err != nil:
		s.APIServerError(w, r, err)
	default:
		selfservice.WriteJSON(w, http.StatusOK, map[string]any{"login_notice": v})
	}
}
