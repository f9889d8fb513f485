package signature

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/esign"
	"github.com/gosid/gosid/selfservice"
)

// PathAPI is where the JSON API of e-signatures lives.
const PathAPI = selfservice.PathAPI + "/esign"

// Register mounts the page and the JSON API: the citizen or the app asks
// for a challenge, signs its text on the device (a detached CMS
// signature) and posts it back.
func (s *Service) Register(r *mux.Router) {
	r.HandleFunc(PathSignIn, s.signInPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathSignIn, s.signInSubmit).Methods(http.MethodPost)
	r.PathPrefix(PathChallenge).HandlerFunc(s.challengeText).Methods(http.MethodGet)
	r.HandleFunc(PathAPI+"/challenge", s.apiChallenge).Methods(http.MethodPost)
	r.HandleFunc(PathAPI+"/signin", s.apiSignIn).Methods(http.MethodPost)
	r.HandleFunc(PathAPI+"/confirm", s.apiConfirm).Methods(http.MethodPost)
}

type challengeBody struct {
	Purpose string `json:"purpose"`
	// Flow is the authorization request being signed in for.
	Flow string `json:"flow"`
}

type answerBody struct {
	Challenge string `json:"challenge_id"`
	// Signature is the detached CMS signature over the challenge's text,
	// base64 (standard or URL alphabet) of DER, or PEM.
	Signature   string `json:"signature"`
	DeviceToken string `json:"device_token"`
}

func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 2*esign.MaxSignatureSize))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (s *Service) apiChallenge(w http.ResponseWriter, r *http.Request) {
	var in challengeBody
	if err := readJSON(r, &in); err != nil {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "The body must be a JSON object with purpose (signin or confirm).")
		return
	}
	b := Binding{}
	switch in.Purpose {
	case PurposeConfirm:
		sess, ok := s.APISession(w, r)
		if !ok {
			return
		}
		b.AccountID, b.SessionID = sess.AccountID, sess.ID
	case PurposeSignIn:
		b.Flow = in.Flow
	default:
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "purpose must be signin or confirm.")
		return
	}
	c, err := s.NewChallenge(r.Context(), in.Purpose, b)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusCreated, c)
}

// decodeSignature reads the signature as the API carries it: PEM as is,
// otherwise base64 of DER.
func decodeSignature(s string) []byte {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		return []byte(s)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return nil
}

func (s *Service) readAnswer(w http.ResponseWriter, r *http.Request) (*answerBody, []byte, bool) {
	var in answerBody
	if err := readJSON(r, &in); err != nil || in.Challenge == "" {
		selfservice.APIFail(w, http.StatusBadRequest, "invalid_request", "The body must carry challenge_id and signature.")
		return nil, nil, false
	}
	return &in, decodeSignature(in.Signature), true
}

func (s *Service) apiSignIn(w http.ResponseWriter, r *http.Request) {
	in, sig, ok := s.readAnswer(w, r)
	if !ok {
		return
	}
	m := s.Meta(r)
	a, flow, err := s.SignIn(r.Context(), in.Challenge, sig, m)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	st, err := s.StartSession(r.Context(), selfservice.SessionStart{Account: a, AMR: AMR, Reason: selfservice.SignIn,
		AuthorizeFlow: flow, Device: in.DeviceToken}, m)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{"session_token": st.Secret, "device_token": st.Device,
		"amr": st.Session.AMR})
}

func (s *Service) apiConfirm(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	in, sig, ok := s.readAnswer(w, r)
	if !ok {
		return
	}
	a, err := s.Confirm(r.Context(), Binding{AccountID: sess.AccountID, SessionID: sess.ID}, in.Challenge, sig, s.Meta(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]string{"level": string(a.Level)})
}

// apiFail answers what went wrong in the citizen's language, with what to
// do.
func (s *Service) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	code := Code(err)
	if code == "" {
		s.APIServerError(w, r, err)
		return
	}
	lang := s.Web.Lang(r)
	var mm *MismatchError
	if errors.As(err, &mm) {
		fields := make([]selfservice.Message, len(mm.Fields))
		for i, f := range mm.Fields {
			fields[i] = selfservice.Message{Field: f, Code: "esign.mismatch"}
		}
		selfservice.WriteJSON(w, http.StatusConflict, selfservice.APIError{Error: code,
			Description: s.Describe(code, lang) + " (" + strings.Join(mm.Fields, ", ") + ")", Errors: fields})
		return
	}
	if code == "esign_unavailable" || code == "revocation_unknown" {
		s.Log().Warn("esign: check not completed", "err", err)
	}
	selfservice.APIFail(w, statusOf(code), code, s.Describe(code, lang))
}
