package secondfactor

import (
	"context"
	"errors"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
)

// The JSON face of the second factor (api/openapi.yaml): the factors of the
// signed-in citizen, turning one on or off, recovery codes and step-up;
// the challenge and enrolment flows themselves run at
// /api/v1/flows/{mfa,enroll}/{id} through the engine.
func (s *Service) registerAPI(api *mux.Router) {
	api.HandleFunc("/session/factors", s.apiFactors).Methods(http.MethodGet)
	api.HandleFunc("/session/factors", s.apiEnrollStart).Methods(http.MethodPost)
	api.HandleFunc("/session/factors/{id}", s.apiFactorDelete).Methods(http.MethodDelete)
	api.HandleFunc("/session/recovery-codes", s.apiRecoveryCodes).Methods(http.MethodPost)
	api.HandleFunc("/session/step-up", s.apiStepUp).Methods(http.MethodPost)
}

// handleFlows serves the challenge and enrolment flows through the
// engine's flows API.
func (s *Service) handleFlows() {
	show := func(ctx context.Context, raw *selfservice.Flow, m selfservice.Meta) (*selfservice.View, error) {
		f, err := wrap(raw)
		if err != nil {
			return nil, err
		}
		v := s.view(f)
		return v, s.fillFlow(ctx, v, f)
	}
	s.HandleFlow(KindMFA, selfservice.APIFlow{Show: show,
		Submit: func(w http.ResponseWriter, r *http.Request, raw *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
			return s.Submit(r.Context(), raw, action, in, m)
		},
	})
	s.HandleFlow(KindEnroll, selfservice.APIFlow{Show: show,
		Submit: func(w http.ResponseWriter, r *http.Request, raw *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
			f, err := wrap(raw)
			if err != nil {
				return nil, err
			}
			return s.SubmitEnroll(r.Context(), f, action, in, m)
		},
	})
}

// fillFlow adds what a second-factor or enrolment flow shows.
func (s *Service) fillFlow(ctx context.Context, v *selfservice.View, f *flow) error {
	switch {
	case f.MFA != nil && f.State == StateChallenge:
		return s.fillChallenge(ctx, v, f)
	case f.Enroll != nil:
		a, err := s.Accounts.GetAccount(ctx, f.Enroll.AccountID)
		if err != nil {
			return err
		}
		return s.fillEnroll(v, f, a)
	}
	return nil
}

func stepUpRequired(w http.ResponseWriter) {
	selfservice.APIFail(w, http.StatusForbidden, "step_up_required",
		"This change needs a second factor used in the last 10 minutes: POST /api/v1/session/step-up, then retry with the new session token.")
}

func (s *Service) apiFactors(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	list, left, err := s.Factors(r.Context(), sess.AccountID)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{"factors": list, "recovery_codes_left": left})
}

func (s *Service) apiEnrollStart(w http.ResponseWriter, r *http.Request) {
	sess, in, ok := s.APIInput(w, r)
	if !ok {
		return
	}
	if fe := selfservice.CheckInput(in); fe != nil {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "field "+fe.Field+": "+fe.Code)
		return
	}
	v, err := s.StartEnroll(r.Context(), true, sess, in.Get("method"), s.Meta(r))
	if errors.Is(err, ErrStepUp) {
		stepUpRequired(w)
		return
	} else if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	if len(v.Errors) > 0 {
		selfservice.WriteJSON(w, http.StatusUnprocessableEntity, v)
		return
	}
	selfservice.WriteJSON(w, http.StatusCreated, v)
}

func (s *Service) apiFactorDelete(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	err := s.RemoveFactor(r.Context(), sess, mux.Vars(r)["id"], s.Meta(r))
	if errors.Is(err, ErrStepUp) {
		stepUpRequired(w)
		return
	}
	s.APINoContent(w, r, err, "The account has no such factor.")
}

func (s *Service) apiRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	list, err := s.RegenerateRecoveryCodes(r.Context(), sess, s.Meta(r))
	switch {
	case errors.Is(err, ErrStepUp):
		stepUpRequired(w)
	case errors.Is(err, storage.ErrNotFound):
		selfservice.APIFail(w, http.StatusConflict, "no_second_factor", "Recovery codes come with a second factor; turn one on first.")
	case err != nil:
		s.APIServerError(w, r, err)
	default:
		selfservice.WriteJSON(w, http.StatusOK, map[string]any{"recovery_codes": list})
	}
}

// apiStepUp starts a second-factor flow for the session; finishing it at
// /flows/mfa/{id} returns a new session token and ends this one.
func (s *Service) apiStepUp(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	acct, err := s.Accounts.GetAccount(ctx, sess.AccountID)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	v, err := s.StartSecondFactor(ctx, true, acct, sess.AMR, PurposeStepUp, sess.ID, "", "", s.Meta(r))
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	if len(v.Methods) == 0 {
		selfservice.APIFail(w, http.StatusConflict, "no_second_factor", "The account has no confirmed contact or factor to step up with.")
		return
	}
	selfservice.WriteJSON(w, http.StatusCreated, v)
}
