package provider

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"
)

// Token introspection (RFC 7662). gosid reads the request itself rather
// than through fosite's NewIntrospectionRequest, which accepts only HTTP
// Basic (discovery lists client_secret_post and private_key_jwt too),
// answers request_unauthorized for a failed client authentication and
// active:false for a request without a token.

func (p *Provider) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ir, caller, err := p.newIntrospectionRequest(ctx, r)
	if err != nil {
		p.logError(r, "introspect", fosite.ErrorToRFC6749Error(err))
		challenge(w, r, err)
		p.oauth.WriteAccessError(ctx, w, nil, err)
		return
	}
	p.writeIntrospection(w, r, caller, ir)
}

// newIntrospectionRequest authenticates the caller, a confidential client,
// and introspects the token; it returns the caller's client id too. A token that is not active, or not one gosid
// issued, is an answer (active:false), not an error.
func (p *Provider) newIntrospectionRequest(ctx context.Context, r *http.Request) (fosite.IntrospectionResponder, string, error) {
	if err := parseParams(r); err != nil {
		return nil, "", err
	}
	client, err := p.clientAuth.authenticateBasicOrAny(ctx, r, r.PostForm)
	if err != nil {
		return nil, "", err
	}
	if client.IsPublic() {
		return nil, "", errClientAuth.WithWrap(errors.New("a public client cannot introspect"))
	}
	caller := client.GetID()
	token := r.PostForm.Get("token")
	if token == "" {
		return nil, "", fosite.ErrInvalidRequest.WithHint("The token parameter is missing.")
	}
	scopes := fosite.RemoveEmpty(strings.Split(r.PostForm.Get("scope"), " "))
	use, ar, err := p.oauth.IntrospectToken(ctx, token, fosite.TokenUse(r.PostForm.Get("token_type_hint")), NewSession(), scopes...)
	if err != nil {
		if fosite.ErrorToRFC6749Error(err).CodeField >= http.StatusInternalServerError {
			return nil, "", err
		}
		return &fosite.IntrospectionResponse{Active: false}, caller, nil
	}
	if !mayIntrospect(caller, ar) {
		return &fosite.IntrospectionResponse{Active: false}, caller, nil
	}
	resp := &fosite.IntrospectionResponse{Active: true, AccessRequester: ar, TokenUse: use}
	if use == fosite.AccessToken {
		resp.AccessTokenType = fosite.BearerAccessToken
	}
	return resp, caller, nil
}

// mayIntrospect: a token's details (subject, session, authentication,
// scope) go only to the client it was issued to and to the resource
// servers named in its audience (a client may name those it registered as
// its audience). Any other caller learns nothing, not even that the token
// is active (issue #11).
func mayIntrospect(caller string, ar fosite.Requester) bool {
	if ar == nil || ar.GetClient() == nil {
		return false
	}
	return ar.GetClient().GetID() == caller || ar.GetGrantedAudience().Has(caller)
}
