package signin

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/selfservice/secondfactor"
)

// The JSON flows API: the same flows as the pages, for mobile apps. No
// cookies: a flow is addressed by its id and a bearer flow token; a finished
// sign-in or registration returns a session token, presented as a bearer
// token to the session endpoints. Described in api/openapi.yaml.
// handleFlows serves the sign-in flow through the engine's flows API: a
// password step, then maybe the second factor, which runs the flow's
// steps from then on.
func (s *Service) handleFlows() {
	s.HandleFlow(KindLogin, selfservice.APIFlow{
		Start: func(ctx context.Context, m selfservice.Meta) (*selfservice.View, error) {
			return s.startLogin(ctx)
		},
		Show: func(ctx context.Context, f *selfservice.Flow, m selfservice.Meta) (*selfservice.View, error) {
			if f.State == secondfactor.StateChallenge {
				return s.sf.Show(ctx, f)
			}
			return s.View(f), nil
		},
		Submit: func(w http.ResponseWriter, r *http.Request, f *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
			if f.State == secondfactor.StateChallenge {
				return s.sf.Submit(r.Context(), f, action, in, m)
			}
			v, err := s.apiLogin(w, r, f, in, m)
			if err != nil || v == nil || v.AccountID == "" {
				return v, err
			}
			return v, s.finishAPI(r.Context(), v)
		},
	})
}

// startLogin begins an API sign-in flow.
func (s *Service) startLogin(ctx context.Context) (*selfservice.View, error) {
	f := &selfservice.Flow{Kind: KindLogin, State: selfservice.StateForm, API: true}
	token, err := s.Start(ctx, f)
	if err != nil {
		return nil, err
	}
	v := s.View(f)
	v.FlowToken = token
	return v, nil
}

// finishAPI says which session a password sign-in earned; the engine's API
// face starts it.
func (s *Service) finishAPI(ctx context.Context, v *selfservice.View) error {
	acct, err := s.Accounts.GetAccount(ctx, v.AccountID)
	if err != nil {
		return fmt.Errorf("start session: load account: %w", err)
	}
	st := &selfservice.SessionStart{Account: acct, AMR: v.AMR, Reason: selfservice.SignIn}
	if st.AMR == nil {
		st.AMR = []string{"pwd"}
	}
	v.Start = st
	return nil
}

func (s *Service) registerAPI(r *mux.Router) {
	api := r.PathPrefix(selfservice.PathAPI).Subrouter()
	api.HandleFunc("/session", s.apiWhoami).Methods(http.MethodGet)
	api.HandleFunc("/session", s.apiLogout).Methods(http.MethodDelete)
}

// apiLogin checks a password for an API login flow: the same password
// step as the sign-in page.
func (s *Service) apiLogin(w http.ResponseWriter, r *http.Request, f *selfservice.Flow, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	ctx := r.Context()
	// An app names its device in the body (a browser by its cookie).
	m.Device = in.Get("device_token")
	res, err := s.passwordStep(ctx, in, false, m)
	if err != nil {
		return nil, err
	}
	v := s.View(f)
	switch {
	case res.Code == "login.rate":
		w.Header().Set("Retry-After", "60")
		selfservice.APIFail(w, http.StatusTooManyRequests, "rate_limited", s.Web.T(m.Lang, "login.error.rate"))
		return nil, nil
	case res.Account == nil:
		s.AddErr(v, m, res.Field, res.Code)
		return v, nil
	case res.NeedMFA:
		return s.sf.Begin(ctx, f, res.Account, []string{"pwd"})
	}
	f.State = selfservice.StateDone
	v = s.View(f)
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
