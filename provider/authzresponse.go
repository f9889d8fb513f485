package provider

import (
	"net/http"
	"net/url"

	"github.com/ory/fosite"
)

// Authorization responses are written here rather than by fosite, whose
// writers echo an absent state as an empty "state=" and cannot add the
// issuer.

// registeredAuthorizeErrors are the error codes a client may receive at its
// redirect URI: RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6, RFC 9101
// §6.3 and OpenID Connect EAP ACR Values (unmet_authentication_requirements).
var registeredAuthorizeErrors = map[string]bool{
	"invalid_request": true, "unauthorized_client": true, "access_denied": true,
	"unsupported_response_type": true, "invalid_scope": true, "server_error": true,
	"temporarily_unavailable": true, "interaction_required": true, "login_required": true,
	"account_selection_required": true, "consent_required": true, "invalid_request_uri": true,
	"invalid_request_object": true, "request_not_supported": true, "request_uri_not_supported": true,
	"registration_not_supported": true, "unmet_authentication_requirements": true,
}

// registeredAuthorizeError returns e with a registered error code: fosite's
// own codes (invalid_state, unsupported_response_mode, insufficient_entropy,
// request_forbidden, ...) become invalid_request, or server_error for a
// failure of the server. The description stays.
func registeredAuthorizeError(e *fosite.RFC6749Error) *fosite.RFC6749Error {
	if registeredAuthorizeErrors[e.ErrorField] {
		return e
	}
	out := *e
	out.ErrorField = fosite.ErrInvalidRequest.ErrorField
	out.CodeField = fosite.ErrInvalidRequest.CodeField
	if e.CodeField >= http.StatusInternalServerError {
		out.ErrorField, out.CodeField = fosite.ErrServerError.ErrorField, fosite.ErrServerError.CodeField
	}
	return &out
}

// authorizeErrorParams are the parameters of an error response to ar.
func (p *Provider) authorizeErrorParams(ar fosite.AuthorizeRequester, e *fosite.RFC6749Error) url.Values {
	params := e.WithExposeDebug(p.o.Dev).ToValues()
	params.Set("state", ar.GetState())
	return params
}

// sendToClient delivers an authorization response, success or error, to
// the redirect URI of ar in the response mode the request asked for: query
// (the code flow's default) or form_post. Every response names the issuer
// (RFC 9207), so that a client of several servers cannot be led to send one
// server's code to another; a state the client did not send is not echoed
// (nor an empty scope).
func (p *Provider) sendToClient(w http.ResponseWriter, ar fosite.AuthorizeRequester, params url.Values) {
	for k, v := range params {
		if len(v) == 0 || v[0] == "" {
			delete(params, k) // an absent state or scope, never an empty one
		}
	}
	params.Set("iss", p.o.Issuer)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	target := *ar.GetRedirectURI()
	target.Fragment = ""
	if ar.GetResponseMode() == fosite.ResponseModeFormPost {
		h.Set("Content-Type", "text/html; charset=utf-8")
		fosite.WriteAuthorizeFormPostResponse(target.String(), params, fosite.DefaultFormPostTemplate, w)
		return
	}
	q := target.Query()
	for k, v := range params {
		q[k] = v
	}
	target.RawQuery = q.Encode()
	h.Set("Location", target.String())
	w.WriteHeader(http.StatusSeeOther)
}

// writeAuthorizeResponse sends a successful response (the code).
func (p *Provider) writeAuthorizeResponse(w http.ResponseWriter, ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder) {
	for k, v := range resp.GetHeader() {
		w.Header()[k] = v
	}
	params := url.Values{}
	for k, v := range resp.GetParameters() {
		params[k] = v
	}
	p.sendToClient(w, ar, params)
}
