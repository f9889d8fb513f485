package selfservice

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/web"
)

// PathAPI is the prefix of the JSON flows API.
const PathAPI = "/api/v1"

// Meta describes the request's caller.
func (e *Engine) Meta(r *http.Request) Meta {
	return Meta{IP: httpx.ClientIP(r), UserAgent: r.UserAgent(), Lang: e.Web.Lang(r),
		API: strings.HasPrefix(r.URL.Path, PathAPI+"/"), Device: e.Cookie(r, session.DeviceCookie)}
}

// Page is the basics of every page: language, CSRF token, development mode.
func (e *Engine) Page(w http.ResponseWriter, r *http.Request) web.Page {
	return web.Page{Lang: e.Web.Lang(r), CSRF: e.Web.CSRFToken(w, r), Dev: e.Dev}
}

// SelfPage is the data of a flow's page: the flow's view plus the page
// basics.
type SelfPage struct {
	web.Page
	View *View
	// LoginURL is where «Войти» leads (the sign-in page of the
	// authorization that sent the citizen here, if any).
	LoginURL string
}

// FlowCookie is the base name of the cookie holding a browser flow's token.
func FlowCookie(kind string) string { return "gosid_" + kind }

// Cookie is the value of a gosid cookie ("" without one).
func (e *Engine) Cookie(r *http.Request, base string) string {
	c, err := r.Cookie(e.Web.CookieName(base))
	if err != nil {
		return ""
	}
	return c.Value
}

// SetFlowCookie hands a browser the token of a flow it just started.
func (e *Engine) SetFlowCookie(w http.ResponseWriter, kind, token string) {
	e.Web.SetCookie(w, e.Web.CookieName(FlowCookie(kind)), token, e.Flows.TTL())
}

// Expired answers a page request for a flow that is gone.
func (e *Engine) Expired(w http.ResponseWriter, r *http.Request) {
	e.Web.Error(w, r, http.StatusGone, "flow.error.title", "flow.error.expired", "")
}

// ServerError answers a page request that failed inside: the error is
// logged with the path, the citizen sees a page in their language.
func (e *Engine) ServerError(w http.ResponseWriter, r *http.Request, err error) {
	e.log.Error("selfservice: internal error", "path", r.URL.Path, "err", err)
	e.Web.Error(w, r, http.StatusInternalServerError, "error.title", "error.generic", "")
}

// BadRequest answers a page request whose form cannot be read.
func (e *Engine) BadRequest(w http.ResponseWriter, r *http.Request) {
	e.Web.Error(w, r, http.StatusBadRequest, "error.title", "error.bad_request", "")
}

// SignedIn returns the request's session; without one it redirects to
// elsewhere (or answers an internal error) and returns ok=false.
func (e *Engine) SignedIn(w http.ResponseWriter, r *http.Request, elsewhere string) (*session.Session, bool) {
	sess, err := e.Sessions.Current(r)
	if err != nil {
		e.ServerError(w, r, err)
		return nil, false
	}
	if sess == nil {
		http.Redirect(w, r, elsewhere, http.StatusSeeOther)
		return nil, false
	}
	return sess, true
}

// SignedInForm parses the form a signed-in citizen posted and checks its
// CSRF token. On failure it answers (bad request, the sign-in page, or
// forbidden with retry as the way back) and returns ok=false.
func (e *Engine) SignedInForm(w http.ResponseWriter, r *http.Request, signIn, retry string) (*session.Session, bool) {
	if err := r.ParseForm(); err != nil {
		e.BadRequest(w, r)
		return nil, false
	}
	sess, ok := e.SignedIn(w, r, signIn)
	if !ok {
		return nil, false
	}
	if !e.Web.CheckCSRF(r) {
		e.Web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", retry)
		return nil, false
	}
	return sess, true
}

// FormInput is a posted form as a step's input (the CSRF token and the
// flow id are the face's, not the step's).
func FormInput(form url.Values) Input {
	in := Input{}
	for k, v := range form {
		if len(v) > 0 && k != "csrf_token" && k != "flow" {
			in[k] = v[0]
		}
	}
	return in
}

// APIError is the RFC 6749-style error body of the API.
type APIError struct {
	Error       string    `json:"error"`
	Description string    `json:"error_description"`
	Errors      []Message `json:"errors,omitempty"`
}

// WriteJSON answers with v as JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// APIFail answers an API request with an error.
func APIFail(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gosid"`)
	}
	WriteJSON(w, status, APIError{Error: code, Description: desc})
}

// APIServerError answers an API request that failed inside.
func (e *Engine) APIServerError(w http.ResponseWriter, r *http.Request, err error) {
	e.log.Error("selfservice api: internal error", "path", r.URL.Path, "err", err)
	APIFail(w, http.StatusInternalServerError, "server_error", "An internal error occurred; try again later.")
}

// APINoContent answers a change that returns nothing: 204 when err is nil,
// 404 with missing when it is storage.ErrNotFound, 500 otherwise.
func (e *Engine) APINoContent(w http.ResponseWriter, r *http.Request, err error, missing string) {
	switch {
	case isNotFound(err):
		APIFail(w, http.StatusNotFound, "not_found", missing)
	case err != nil:
		e.APIServerError(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// Bearer is the request's bearer token ("" without one).
func Bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// APISession resolves the bearer session token; without a live session it
// answers 401 and returns ok=false.
func (e *Engine) APISession(w http.ResponseWriter, r *http.Request) (*session.Session, bool) {
	sess, err := e.Sessions.ByToken(r.Context(), Bearer(r))
	if err != nil {
		e.APIServerError(w, r, err)
		return nil, false
	}
	if sess == nil {
		APIFail(w, http.StatusUnauthorized, "invalid_token", "The session token is missing, expired or revoked.")
		return nil, false
	}
	e.Sessions.Touch(r.Context(), sess, Bearer(r), httpx.ClientIP(r))
	return sess, true
}

// ReadInput decodes a JSON object of string fields (booleans are accepted
// for consent) and takes its action out. Anything else is a clear error.
func ReadInput(r *http.Request) (Input, string, error) {
	if r.ContentLength == 0 {
		return Input{}, "", nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, "", errors.New("the body must be application/json")
	}
	var raw map[string]any
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&raw); err != nil {
		return nil, "", fmt.Errorf("the body is not a JSON object: %v", JSONProblem(err))
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

// JSONDecoder decodes a JSON body strictly (no unknown fields).
func JSONDecoder(r *http.Request) *json.Decoder {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	return dec
}

// JSONProblem says what is wrong with a JSON body without echoing it.
func JSONProblem(err error) string {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return "too large"
	}
	return "malformed JSON"
}

// Truncate cuts s to at most n bytes on a rune boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ReplaceCookie returns r with the named cookie set to value (and no other
// value for that name): a response that set a new session cookie goes on
// as a request that carries it.
func ReplaceCookie(r *http.Request, name, value string) *http.Request {
	r2 := r.Clone(r.Context())
	var kept []string
	for _, c := range r.Cookies() {
		if c.Name != name {
			kept = append(kept, (&http.Cookie{Name: c.Name, Value: c.Value}).String())
		}
	}
	kept = append(kept, (&http.Cookie{Name: name, Value: value}).String())
	r2.Header.Set("Cookie", strings.Join(kept, "; "))
	return r2
}

// AuthorizeFlowOf loads the authorization request a page (consent, the
// trust level needed) belongs to, and
// the session of the citizen who signed in for it; on any mismatch it
// answers with the expired-flow page and returns ok=false.
func (e *Engine) AuthorizeFlowOf(w http.ResponseWriter, r *http.Request, id string) (*Flow, *session.Session, bool) {
	flow, err := e.Flows.LoadAny(r.Context(), id, KindAuthorize)
	if errors.Is(err, ErrFlowExpired) {
		e.Expired(w, r)
		return nil, nil, false
	} else if err != nil {
		e.ServerError(w, r, err)
		return nil, nil, false
	}
	sess, err := e.Sessions.Current(r)
	if err != nil {
		e.ServerError(w, r, err)
		return nil, nil, false
	}
	if sess == nil || sess.AccountID != flow.AccountID {
		e.Expired(w, r)
		return nil, nil, false
	}
	return flow, sess, true
}

// AuthorizeForm reads a form posted on a page of an authorization request
// (consent, the level needed): the request must belong to the signed-in
// citizen and the CSRF token must hold. On failure it answers and returns
// ok=false.
func (e *Engine) AuthorizeForm(w http.ResponseWriter, r *http.Request) (*Flow, *session.Session, bool) {
	if err := r.ParseForm(); err != nil {
		e.BadRequest(w, r)
		return nil, nil, false
	}
	flow, sess, ok := e.AuthorizeFlowOf(w, r, r.PostForm.Get("flow"))
	if !ok {
		return nil, nil, false
	}
	if !e.Web.CheckCSRF(r) {
		e.Web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", "")
		return nil, nil, false
	}
	return flow, sess, true
}

// APIInput is the signed-in API request's session and JSON body; on a
// missing session or an unreadable body it answers and returns ok=false.
func (e *Engine) APIInput(w http.ResponseWriter, r *http.Request) (*session.Session, Input, bool) {
	sess, ok := e.APISession(w, r)
	if !ok {
		return nil, nil, false
	}
	in, _, err := ReadInput(r)
	if err != nil {
		APIFail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return nil, nil, false
	}
	return sess, in, true
}

// Status is the HTTP status of a step's view: 422 when it carries errors.
func Status(v *View) int {
	if len(v.Errors) > 0 {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}
