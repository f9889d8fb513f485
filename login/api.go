package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/gosid/gosid/selfservice"
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

func (s *Service) apiStart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m := s.Meta(r)
	kind := mux.Vars(r)["kind"]
	var v *selfservice.View
	var err error
	switch kind {
	case KindRegistration:
		v, err = s.StartRegistration(ctx, true, "", m)
	case KindRecovery:
		v, err = s.StartRecovery(ctx, true, "", m)
	default:
		f := newSelfFlow(KindLogin, selfservice.StateForm, true, "")
		var token string
		if token, err = s.self.create(ctx, f); err == nil {
			v = s.view(f, m)
			v.FlowToken = token
		}
	}
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusCreated, v)
}

func (s *Service) apiFlow(w http.ResponseWriter, r *http.Request) (*SelfFlow, bool) {
	vars := mux.Vars(r)
	f, err := s.self.load(r.Context(), vars["id"], vars["kind"], true, selfservice.Bearer(r))
	switch {
	case errors.Is(err, selfservice.ErrFlowToken):
		selfservice.APIFail(w, http.StatusUnauthorized, "invalid_token", "The flow token is missing or wrong.")
	case errors.Is(err, selfservice.ErrFlowExpired):
		selfservice.APIFail(w, http.StatusGone, "flow_expired", "The flow is unknown or has expired; start a new one.")
	case err != nil:
		s.APIServerError(w, r, err)
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
	v := s.view(f, s.Meta(r))
	if err := s.fillFlow(r.Context(), v, f); err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, v)
}

func (s *Service) apiSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, ok := s.apiFlow(w, r)
	if !ok {
		return
	}
	in, action, err := selfservice.ReadInput(r)
	if err != nil {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	m := s.Meta(r)
	var v *selfservice.View
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
		s.APIServerError(w, r, err)
		return
	}
	if v == nil {
		return
	}
	if v.AccountID != "" && (f.Kind == KindRegistration || f.Kind == KindLogin || f.Kind == KindMFA) {
		if err := s.apiStartSession(ctx, f, v, in, m); err != nil {
			s.APIServerError(w, r, err)
			return
		}
	}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	selfservice.WriteJSON(w, status, v)
}

// apiStartSession starts the session a finished API flow earned and puts
// its token (and the device token) on the view.
func (s *Service) apiStartSession(ctx context.Context, f *SelfFlow, v *selfservice.View, in selfservice.Input, m selfservice.Meta) error {
	acct, err := s.o.Accounts.GetAccount(ctx, v.AccountID)
	if err != nil {
		return fmt.Errorf("start session: load account: %w", err)
	}
	st := selfservice.SessionStart{Account: acct, AMR: v.AMR, Reason: selfservice.SignIn, Device: in.Get("device_token")}
	if st.AMR == nil {
		st.AMR = []string{"pwd"}
	}
	switch {
	case f.Kind == KindRegistration:
		st.Reason = selfservice.Registration
	case f.MFA != nil && f.MFA.Purpose == purposeStepUp:
		// The step-up replaces the session it upgraded.
		st.Reason, st.ReplaceID = selfservice.Upgrade, f.MFA.SessionID
	}
	started, err := s.StartSession(ctx, st, m)
	if err != nil {
		return err
	}
	v.SessionToken = started.Secret
	if st.Reason != selfservice.Upgrade {
		v.DeviceToken = started.Device
	}
	if err := s.self.delete(ctx, f.ID); err != nil {
		return fmt.Errorf("start session: end the flow: %w", err)
	}
	return nil
}

// apiLogin checks a password for an API login flow: the same password
// step as the sign-in page.
func (s *Service) apiLogin(w http.ResponseWriter, r *http.Request, f *SelfFlow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	ctx := r.Context()
	res, err := s.passwordStep(ctx, in, false, m)
	if err != nil {
		return nil, err
	}
	v := s.view(f, m)
	switch {
	case res.Code == "login.rate":
		w.Header().Set("Retry-After", "60")
		selfservice.APIFail(w, http.StatusTooManyRequests, "rate_limited", s.o.Web.T(m.Lang, "login.error.rate"))
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
	f.State = selfservice.StateDone
	v = s.view(f, m)
	v.AccountID = res.Account.ID
	return v, nil
}

func (s *Service) apiWhoami(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{
		"account_id": sess.AccountID, "session_id": sess.ID, "auth_time": sess.AuthTime.Format(time.RFC3339), "amr": sess.AMR,
	})
}

func (s *Service) apiLogout(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.APISession(w, r); !ok {
		return
	}
	if err := s.Sessions.EndToken(r.Context(), selfservice.Bearer(r)); err != nil {
		s.APIServerError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) apiPassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	in, _, err := selfservice.ReadInput(r)
	if err != nil {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	v, err := s.ChangePassword(ctx, sess.AccountID, in, s.Meta(r))
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	if len(v.Errors) > 0 {
		selfservice.WriteJSON(w, http.StatusUnprocessableEntity, v)
		return
	}
	// Every session ended, this one too; the app gets a fresh token.
	st, err := s.passwordChangedSession(ctx, sess, selfservice.Bearer(r), s.Meta(r))
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	v.SessionToken = st.Secret
	selfservice.WriteJSON(w, http.StatusOK, v)
}

// apiContactStart begins adding a phone or e-mail to the signed-in account;
// the flow then continues at /flows/contact/{id} with its flow token.
func (s *Service) apiContactStart(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	v, err := s.StartContact(r.Context(), true, sess.AccountID, s.Meta(r))
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusCreated, v)
}
