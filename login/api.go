package login

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
// handleFlows serves this package's kinds of flow through the engine's
// flows API.
func (s *Service) handleFlows() {
	show := func(ctx context.Context, raw *selfservice.Flow, m selfservice.Meta) (*selfservice.View, error) {
		f, err := decode(raw)
		if err != nil {
			return nil, err
		}
		return s.view(f, m), nil
	}
	type step func(w http.ResponseWriter, r *http.Request, f *SelfFlow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error)
	submit := func(run step) func(http.ResponseWriter, *http.Request, *selfservice.Flow, string, selfservice.Input, selfservice.Meta) (*selfservice.View, error) {
		return func(w http.ResponseWriter, r *http.Request, raw *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
			f, err := decode(raw)
			if err != nil {
				return nil, err
			}
			v, err := run(w, r, f, action, in, m)
			if err != nil || v == nil || v.AccountID == "" {
				return v, err
			}
			return v, s.finishAPI(r.Context(), f, v)
		}
	}
	s.HandleFlow(KindLogin, selfservice.APIFlow{
		Start: func(ctx context.Context, m selfservice.Meta) (*selfservice.View, error) {
			f := newSelfFlow(KindLogin, selfservice.StateForm, true, "")
			return s.start(ctx, f, m)
		},
		// After a right password the sign-in flow may go on to its second
		// factor, which then runs the flow's steps.
		Show: func(ctx context.Context, raw *selfservice.Flow, m selfservice.Meta) (*selfservice.View, error) {
			if raw.State == secondfactor.StateChallenge {
				return s.sf.Show(ctx, raw)
			}
			return show(ctx, raw, m)
		},
		Submit: func(w http.ResponseWriter, r *http.Request, raw *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
			if raw.State == secondfactor.StateChallenge {
				return s.sf.Submit(r.Context(), raw, action, in, m)
			}
			return submit(func(w http.ResponseWriter, r *http.Request, f *SelfFlow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
				return s.apiLogin(w, r, f, in, m)
			})(w, r, raw, action, in, m)
		},
	})

}

// finishAPI says which session a finished registration or password
// sign-in earned; the engine's API face starts it.
func (s *Service) finishAPI(ctx context.Context, f *SelfFlow, v *selfservice.View) error {
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
	api := r.PathPrefix(PathAPI).Subrouter()
	api.HandleFunc("/session", s.apiWhoami).Methods(http.MethodGet)
	api.HandleFunc("/session", s.apiLogout).Methods(http.MethodDelete)
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
		selfservice.APIFail(w, http.StatusTooManyRequests, "rate_limited", s.Web.T(m.Lang, "login.error.rate"))
		return nil, nil
	case res.Account == nil:
		s.addErr(v, m, res.Field, res.Code)
		return v, nil
	case res.NeedMFA:
		return s.sf.Begin(ctx, f.Flow, res.Account, []string{"pwd"})
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
