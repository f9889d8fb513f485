package bank

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/federation"
	"github.com/gosid/gosid/selfservice"
)

// The JSON API of the mobile app: start returns the bank's URL and the
// trip token; the app opens the URL, catches the redirect to
// PathCallback and posts what it carried (the query) with the token.

func (s *Service) registerAPI(r *mux.Router) {
	r.HandleFunc(PathAPI, s.apiBanks).Methods(http.MethodGet)
	r.HandleFunc(PathAPI+"/callback", s.apiCallback).Methods(http.MethodPost)
	r.HandleFunc(PathAPI+"/{bank}/start", s.apiStart).Methods(http.MethodPost)
	r.HandleFunc(selfservice.PathAPI+"/session/banks", s.apiLinks).Methods(http.MethodGet)
	r.HandleFunc(selfservice.PathAPI+"/session/banks/{bank}", s.apiUnlink).Methods(http.MethodDelete)
}

func (s *Service) apiBanks(w http.ResponseWriter, r *http.Request) {
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{"banks": s.banks(s.Web.Lang(r), nil)})
}

type apiStartBody struct {
	Purpose string `json:"purpose"`
	Flow    string `json:"flow"`
}

func readJSON(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (s *Service) apiStart(w http.ResponseWriter, r *http.Request) {
	var in apiStartBody
	if err := readJSON(r, &in); err != nil {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "The body must be a JSON object with purpose and flow.")
		return
	}
	accountID := ""
	switch in.Purpose {
	case PurposeConfirm:
		sess, ok := s.APISession(w, r)
		if !ok {
			return
		}
		accountID = sess.AccountID
	case PurposeSignIn:
	default:
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "purpose must be confirm or signin.")
		return
	}
	u, trip, err := s.Start(r.Context(), mux.Vars(r)["bank"], in.Purpose, accountID, in.Flow, s.Meta(r).IP, true)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]string{"url": u, "trip": trip})
}

type apiCallbackBody struct {
	Trip string `json:"trip"`
	// Response is the query of the redirect to PathCallback (or the whole
	// redirect URL).
	Response    string `json:"response"`
	DeviceToken string `json:"device_token"`
}

func (s *Service) apiCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var in apiCallbackBody
	if err := readJSON(r, &in); err != nil || in.Trip == "" || len(in.Response) > 8<<10 {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "The body must carry trip and response.")
		return
	}
	q := in.Response
	if i := strings.IndexByte(q, '?'); i >= 0 {
		q = q[i+1:]
	}
	answer, err := url.ParseQuery(q)
	if err != nil {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "response is not a query string.")
		return
	}
	t, b, id, err := s.finish(ctx, answer, in.Trip)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	m := s.Meta(r)
	switch t.Purpose {
	case PurposeConfirm:
		sess, err := s.Sessions.ByToken(ctx, selfservice.Bearer(r))
		if err != nil {
			s.APIServerError(w, r, err)
			return
		}
		if sess == nil || sess.AccountID != t.AccountID {
			s.apiFail(w, r, ErrWrongAccount)
			return
		}
		a, err := s.Confirm(ctx, t.AccountID, b, id, m)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		selfservice.WriteJSON(w, http.StatusOK, map[string]string{"bank": b.ID, "level": string(a.Level)})
	case PurposeSignIn:
		a, err := s.SignIn(ctx, b, id, m)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		st, err := s.StartSession(ctx, selfservice.SessionStart{Account: a, AMR: AMR(id), Reason: selfservice.SignIn,
			AuthorizeFlow: t.Flow, Device: in.DeviceToken}, m)
		if err != nil {
			s.APIServerError(w, r, err)
			return
		}
		selfservice.WriteJSON(w, http.StatusOK, map[string]any{"session_token": st.Secret, "device_token": st.Device,
			"amr": st.Session.AMR})
	}
}

func (s *Service) apiLinks(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	links, err := s.Links(r.Context(), sess.AccountID, s.Web.Lang(r))
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	if links == nil {
		links = []LinkView{}
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{"links": links})
}

func (s *Service) apiUnlink(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	err := s.Unlink(r.Context(), sess.AccountID, mux.Vars(r)["bank"], s.Meta(r))
	s.APINoContent(w, r, err, "That bank is not linked.")
}

// apiFail answers what went wrong, with the seed's messages as the
// description.
func (s *Service) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	var mm *MismatchError
	switch {
	case errors.As(err, &mm):
		fields := make([]selfservice.Message, len(mm.Fields))
		for i, f := range mm.Fields {
			fields[i] = selfservice.Message{Field: string(f), Code: "bank.mismatch"}
		}
		selfservice.WriteJSON(w, http.StatusConflict, selfservice.APIError{Error: "data_mismatch",
			Description: "Несоответствие данных: the bank's data differs from the verified data.", Errors: fields})
	case errors.Is(err, federation.ErrUnavailable):
		s.Log().Warn("bank: unavailable", "err", err)
		selfservice.APIFail(w, http.StatusBadGateway, "bank_unavailable", "Ошибка соединения: the bank does not answer; try again later or choose another bank.")
	case errors.Is(err, federation.ErrInvalid), errors.Is(err, federation.ErrRefused):
		s.Log().Warn("bank: refused", "err", err)
		selfservice.APIFail(w, http.StatusForbidden, "access_denied", "Отказ в аутентификации: the bank refused the sign-in.")
	case errors.Is(err, ErrNotLinked):
		selfservice.APIFail(w, http.StatusForbidden, "not_linked", "This bank is not linked to an account: sign in another way and confirm your identity through the bank first.")
	case errors.Is(err, ErrLinkedElsewhere):
		selfservice.APIFail(w, http.StatusConflict, "linked_elsewhere", "This bank identity is linked to another account.")
	case errors.Is(err, ErrNotVerified):
		selfservice.APIFail(w, http.StatusConflict, "not_verified", "Your passport and SNILS must be verified first.")
	case errors.Is(err, ErrUnknownBank):
		selfservice.APIFail(w, http.StatusNotFound, "not_found", "No such bank.")
	case errors.Is(err, ErrTooMany):
		w.Header().Set("Retry-After", "60")
		selfservice.APIFail(w, http.StatusTooManyRequests, "rate_limited", "Too many trips to a bank from this address; try again in a minute.")
	case errors.Is(err, ErrExpired), errors.Is(err, ErrWrongAccount):
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "The trip to the bank is over or belongs to another session; start again.")
	default:
		s.APIServerError(w, r, err)
	}
}
