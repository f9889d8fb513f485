package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
)

// The JSON flows API: the same flows as the pages, for mobile apps. No
// cookies: a flow is addressed by its id and a bearer flow token; a finished
// sign-in or registration returns a session token, presented as a bearer
// token to the session endpoints. Described in api/openapi.yaml.
func (s *Service) registerAPI(r *mux.Router) {
	api := r.PathPrefix(PathAPI).Subrouter()
	api.HandleFunc("/flows/{kind:registration|recovery|login}", s.apiStart).Methods(http.MethodPost)
	api.HandleFunc("/flows/{kind:registration|recovery|login|contact|mfa|enroll|delete}/{id}", s.apiGet).Methods(http.MethodGet)
	api.HandleFunc("/flows/{kind:registration|recovery|login|contact|mfa|enroll|delete}/{id}", s.apiSubmit).Methods(http.MethodPost)
	api.HandleFunc("/session", s.apiWhoami).Methods(http.MethodGet)
	api.HandleFunc("/session", s.apiLogout).Methods(http.MethodDelete)
	api.HandleFunc("/session/password", s.apiPassword).Methods(http.MethodPost)
	api.HandleFunc("/session/contacts", s.apiContactStart).Methods(http.MethodPost)
	s.registerMFAAPI(api)
	if s.o.Verify != nil {
		s.registerProfile(r, api)
		if s.o.Scans != nil {
			s.registerScans(r, api)
		}
	}
	s.registerDelete(r, api)
	s.registerNotifications(r, api)
}

// apiError is the RFC 6749-style error body of the API.
type apiError struct {
	Error       string    `json:"error"`
	Description string    `json:"error_description"`
	Errors      []Message `json:"errors,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiFail(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gosid"`)
	}
	writeJSON(w, status, apiError{Error: code, Description: desc})
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// readInput decodes a JSON object of string fields (booleans are accepted
// for consent). Anything else is a clear 400.
func readInput(r *http.Request) (Input, string, error) {
	if r.ContentLength == 0 {
		return Input{}, "", nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, "", errors.New("the body must be application/json")
	}
	var raw map[string]any
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&raw); err != nil {
		return nil, "", fmt.Errorf("the body is not a JSON object: %v", jsonProblem(err))
	}
	if dec.More() {
		return nil, "", errors.New("the body must hold exactly one JSON object")
	}
	in := Input{}
	for k, v := range raw {
		switch t := v.(type) {
		case string:
			in[k] = t
		case bool:
			in[k] = fmt.Sprint(t)
		default:
			return nil, "", fmt.Errorf("field %q must be a string", k)
		}
	}
	action := in["action"]
	delete(in, "action")
	return in, action, nil
}

// jsonDecoder decodes a JSON body strictly.
func jsonDecoder(r *http.Request) *json.Decoder {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	return dec
}

func jsonProblem(err error) string {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return "too large"
	}
	return "malformed JSON"
}

func (s *Service) apiStart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m := s.meta(r)
	kind := mux.Vars(r)["kind"]
	var v *View
	var err error
	switch kind {
	case KindRegistration:
		v, err = s.StartRegistration(ctx, true, "", m)
	case KindRecovery:
		v, err = s.StartRecovery(ctx, true, "", m)
	default:
		f := &SelfFlow{Kind: KindLogin, State: StateForm, API: true}
		var token string
		if token, err = s.self.create(ctx, f, s.o.Now().UTC()); err == nil {
			v = s.view(f, m)
			v.FlowToken = token
		}
	}
	if err != nil {
		s.apiServerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (s *Service) apiFlow(w http.ResponseWriter, r *http.Request) (*SelfFlow, bool) {
	vars := mux.Vars(r)
	f, err := s.self.load(r.Context(), vars["id"], vars["kind"], true, bearer(r))
	switch {
	case errors.Is(err, ErrFlowToken):
		apiFail(w, http.StatusUnauthorized, "invalid_token", "The flow token is missing or wrong.")
	case errors.Is(err, ErrFlowExpired):
		apiFail(w, http.StatusGone, "flow_expired", "The flow is unknown or has expired; start a new one.")
	case err != nil:
		s.apiServerError(w, r, err)
	default:
		return f, true
	}
	return nil, false
}

func (s *Service) apiGet(w http.ResponseWriter, r *http.Request) {
	f, ok := s.apiFlow(w, r)
	if !ok {
		return
	}
	v := s.view(f, s.meta(r))
	if err := s.fillFlow(r.Context(), v, f); err != nil {
		s.apiServerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Service) apiSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, ok := s.apiFlow(w, r)
	if !ok {
		return
	}
	in, action, err := readInput(r)
	if err != nil {
		apiFail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	m := s.meta(r)
	var v *View
	switch f.Kind {
	case KindRegistration:
		v, err = s.SubmitRegistration(ctx, f, action, in, m)
	case KindRecovery:
		v, err = s.SubmitRecovery(ctx, f, action, in, m)
	case KindContact:
		v, err = s.SubmitContact(ctx, f, action, in, m)
	case KindEnroll:
		v, err = s.SubmitEnroll(ctx, f, action, in, m)
	case KindDelete:
		v, err = s.ConfirmDeletion(ctx, f, in, m)
	case KindMFA:
		v, err = s.SubmitSecondFactor(ctx, f, action, in, m)
	default:
		if f.MFA != nil {
			v, err = s.SubmitSecondFactor(ctx, f, action, in, m)
		} else {
			v, err = s.apiLogin(w, r, f, in, m)
		}
	}
	if err != nil {
		s.apiServerError(w, r, err)
		return
	}
	if v == nil {
		return
	}
	if v.accountID != "" && (f.Kind == KindRegistration || f.Kind == KindLogin || f.Kind == KindMFA) {
		if err := s.apiStartSession(ctx, f, v, in, m); err != nil {
			s.apiServerError(w, r, err)
			return
		}
	}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, v)
}

// apiStartSession starts the session a finished API flow earned and puts
// its token (and the device token) on the view.
func (s *Service) apiStartSession(ctx context.Context, f *SelfFlow, v *View, in Input, m Meta) error {
	acct, err := s.o.Accounts.GetAccount(ctx, v.accountID)
	if err != nil {
		return fmt.Errorf("start session: load account: %w", err)
	}
	st := sessionStart{Account: acct, AMR: v.amr, Reason: reasonSignIn, Device: in.Get("device_token")}
	if st.AMR == nil {
		st.AMR = []string{"pwd"}
	}
	switch {
	case f.Kind == KindRegistration:
		st.Reason = reasonRegistration
	case f.MFA != nil && f.MFA.Purpose == purposeStepUp:
		// The step-up replaces the session it upgraded.
		st.Reason, st.ReplaceID = reasonUpgrade, f.MFA.SessionID
	}
	started, err := s.startSession(ctx, st, m)
	if err != nil {
		return err
	}
	v.SessionToken = started.Secret
	if st.Reason != reasonUpgrade {
		v.DeviceToken = started.Device
	}
	if err := s.self.delete(ctx, f.ID); err != nil {
		return fmt.Errorf("start session: end the flow: %w", err)
	}
	return nil
}

// apiLogin checks a password for an API login flow: the same password
// step as the sign-in page.
func (s *Service) apiLogin(w http.ResponseWriter, r *http.Request, f *SelfFlow, in Input, m Meta) (*View, error) {
	ctx := r.Context()
	res, err := s.passwordStep(ctx, in, false, m)
	if err != nil {
		return nil, err
	}
	v := s.view(f, m)
	switch {
	case res.Code == "login.rate":
		w.Header().Set("Retry-After", "60")
		apiFail(w, http.StatusTooManyRequests, "rate_limited", s.o.Web.T(m.Lang, "login.error.rate"))
		return nil, nil
	case res.Account == nil:
		s.addErr(v, m, res.Field, res.Code)
		return v, nil
	case res.NeedMFA:
		f.State = StateChallenge
		f.MFA = &mfaState{AccountID: res.Account.ID, AMR: []string{"pwd"}, Purpose: purposeLogin}
		if err := s.self.save(ctx, f); err != nil {
			return nil, err
		}
		v = s.view(f, m)
		return v, s.fillChallenge(ctx, v, f)
	}
	f.State = StateDone
	v = s.view(f, m)
	v.accountID = res.Account.ID
	return v, nil
}

// apiSession resolves the bearer session token.
func (s *Service) apiSession(w http.ResponseWriter, r *http.Request) (*session.Session, bool) {
	sess, err := s.sessions.ByToken(r.Context(), bearer(r))
	if err != nil {
		s.apiServerError(w, r, err)
		return nil, false
	}
	if sess == nil {
		apiFail(w, http.StatusUnauthorized, "invalid_token", "The session token is missing, expired or revoked.")
		return nil, false
	}
	s.sessions.Touch(r.Context(), sess, bearer(r), httpx.ClientIP(r))
	return sess, true
}

func (s *Service) apiWhoami(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.apiSession(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"account_id": sess.AccountID, "session_id": sess.ID, "auth_time": sess.AuthTime.Format(time.RFC3339), "amr": sess.AMR,
	})
}

func (s *Service) apiLogout(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.apiSession(w, r); !ok {
		return
	}
	if err := s.sessions.EndToken(r.Context(), bearer(r)); err != nil {
		s.apiServerError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) apiPassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.apiSession(w, r)
	if !ok {
		return
	}
	in, _, err := readInput(r)
	if err != nil {
		apiFail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	v, err := s.ChangePassword(ctx, sess.AccountID, in, s.meta(r))
	if err != nil {
		s.apiServerError(w, r, err)
		return
	}
	if len(v.Errors) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, v)
		return
	}
	// Every session ended, this one too; the app gets a fresh token.
	st, err := s.passwordChangedSession(ctx, sess, bearer(r), s.meta(r))
	if err != nil {
		s.apiServerError(w, r, err)
		return
	}
	v.SessionToken = st.Secret
	writeJSON(w, http.StatusOK, v)
}

// apiContactStart begins adding a phone or e-mail to the signed-in account;
// the flow then continues at /flows/contact/{id} with its flow token.
func (s *Service) apiContactStart(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.apiSession(w, r)
	if !ok {
		return
	}
	v, err := s.StartContact(r.Context(), true, sess.AccountID, s.meta(r))
	if err != nil {
		s.apiServerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

// apiNoContent answers a change that returns nothing: 204 when err is nil,
// 404 with missing when it is storage.ErrNotFound, 500 otherwise.
func (s *Service) apiNoContent(w http.ResponseWriter, r *http.Request, err error, missing string) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		apiFail(w, http.StatusNotFound, "not_found", missing)
	case err != nil:
		s.apiServerError(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Service) apiServerError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("login api: internal error", "path", r.URL.Path, "err", err)
	apiFail(w, http.StatusInternalServerError, "server_error", "An internal error occurred; try again later.")
}
