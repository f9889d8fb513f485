package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/claimsreq"
	"github.com/gosid/gosid/clients"
)

// The claims request parameter (OpenID Connect Core §5.5), wherever the
// authorization request's parameters come from: the URL, a pushed request,
// or a request object.

// RequestedClaims is the claims parameter of an authorization request's
// parameters as gosid honours it: none without the openid scope, and only
// claims of the scopes the client is registered for. An invalid parameter
// is fosite's invalid_request.
func RequestedClaims(form url.Values, c *clients.Client) (*claimsreq.Request, error) {
	req, err := claimsreq.Parse(form.Get("claims"))
	if err != nil {
		return nil, fosite.ErrInvalidRequest.WithHint(err.Error())
	}
	if req == nil || !slices.Contains(strings.Fields(form.Get("scope")), "openid") {
		return nil, nil
	}
	return req.Within(c.Scopes), nil
}

// claimsOf is RequestedClaims of a request fosite parsed.
func claimsOf(ar fosite.Requester) (*claimsreq.Request, error) {
	restoreRequestObjectClaims(ar.GetRequestForm())
	fc, ok := ar.GetClient().(*fositeClient)
	if !ok {
		return nil, fosite.ErrServerError.WithDebug("unexpected client type")
	}
	return RequestedClaims(ar.GetRequestForm(), fc.c)
}

// restoreRequestObjectClaims puts a request object's claims member back
// into the request's parameters as the JSON it is. fosite copies each
// member of a request object into the form with fmt's %s, which turns the
// object into Go's map notation; the request object, which fosite has
// verified when this runs and leaves in the form, still holds the JSON.
func restoreRequestObjectClaims(form url.Values) {
	parts := strings.Split(form.Get("request"), ".")
	if len(parts) != 3 {
		return
	}
	payload, err := b64.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(payload, &members) != nil {
		return
	}
	raw, ok := members["claims"]
	if !ok {
		return
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '"' {
		// A client that wrote the parameter as a JSON string.
		var s string
		if json.Unmarshal(t, &s) == nil {
			form.Set("claims", s)
		}
		return
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) == nil {
		form.Set("claims", compact.String())
	}
}

// claimsParamCheck checks a pushed request's claims parameter before it is
// stored (and stores it readable), as the authorization endpoint checks
// the parameter before the citizen is asked anything.
type claimsParamCheck struct{}

func claimsParamFactory(fosite.Configurator, interface{}, interface{}) interface{} {
	return claimsParamCheck{}
}

func (claimsParamCheck) HandlePushedAuthorizeEndpointRequest(_ context.Context, ar fosite.AuthorizeRequester, _ fosite.PushedAuthorizeResponder) error {
	_, err := claimsOf(ar)
	return err
}

// errSubjectMismatch refuses a decision about another citizen than the one
// the request's sub claim demands (§5.5.1).
var errSubjectMismatch = fosite.ErrAccessDenied.WithHint("The signed-in citizen is not the one the request names.")

// requestedACR is the acr the tokens carry: with acr values asked for in
// the claims parameter, the strongest of them the authentication meets
// (Core §5.5.1.1: an essential acr must be one of the values); otherwise
// the session's own. An essential acr none of whose values is met is
// unmet_authentication_requirements.
func requestedACR(req *claimsreq.Request, achieved string) (string, error) {
	values, essential := req.ACR()
	if len(values) == 0 {
		return achieved, nil
	}
	have, haveMFA, ok := account.ParseACR(achieved)
	best, bestRank := "", -1
	for _, v := range values {
		l, mfa, known := account.ParseACR(v)
		if !known || !ok || have.Rank() < l.Rank() || mfa && !haveMFA {
			continue
		}
		rank := l.Rank() * 2
		if mfa {
			rank++
		}
		if rank > bestRank {
			best, bestRank = v, rank
		}
	}
	switch {
	case best != "":
		return best, nil
	case essential:
		return "", errUnmetAuthentication.WithHint("The authentication does not meet any acr value the request demands as essential.")
	}
	return achieved, nil
}

// errUnmetAuthentication is OpenID Connect's
// unmet_authentication_requirements.
var errUnmetAuthentication = &fosite.RFC6749Error{
	ErrorField:       "unmet_authentication_requirements",
	DescriptionField: "The authorization server cannot meet the authentication requirements of the request.",
	CodeField:        http.StatusForbidden,
}

// requestedClaims loads what a claims request member asks for, beyond the
// scopes' claims, from the claim sources: only the sources it needs.
func (p *Provider) requestedClaims(ctx context.Context, subject string, m claimsreq.Member) (map[string]any, error) {
	if m.Empty() || p.o.Claims == nil {
		return nil, nil
	}
	avail, err := p.o.Claims(ctx, subject, m.Scopes())
	if err != nil {
		return nil, err
	}
	return m.Select(avail, time.Now()), nil
}

// mergeClaims adds claims to dst where dst has none of that name; a scope's
// verified_claims (everything verified) wins over a request's subset.
func mergeClaims(dst, src map[string]any) {
	for k, v := range src {
		if _, taken := dst[k]; !taken {
			dst[k] = v
		}
	}
}

// idTokenClaims are the claims an id_token carries: those the granted
// scopes allow, and what the claims parameter asked for in the id_token as
// far as the consent went (allowed).
func (p *Provider) idTokenClaims(ctx context.Context, subject string, scopes []string, allowed *claimsreq.Request) (map[string]any, error) {
	claims, err := p.o.Claims(ctx, subject, scopes)
	if err != nil || allowed == nil {
		return claims, err
	}
	if claims == nil {
		claims = map[string]any{}
	}
	asked, err := p.requestedClaims(ctx, subject, allowed.IDToken)
	if err != nil {
		return nil, err
	}
	mergeClaims(claims, asked)
	return claims, nil
}

// askUserinfo keeps with the session what the claims parameter asked for
// from userinfo as far as the consent went, for its access tokens to carry.
func (s *Session) askUserinfo(allowed *claimsreq.Request) error {
	if allowed == nil || allowed.UserInfo.Empty() {
		return nil
	}
	raw, err := json.Marshal(allowed.UserInfo)
	if err != nil {
		return fmt.Errorf("provider: encode the userinfo request: %w", err)
	}
	s.UserinfoRequest = raw
	return nil
}

// userinfoClaims is userinfo's answer for an access token: the claims its
// scopes allow, and what the claims parameter asked for from userinfo as
// far as the consent went (the token carries it, signed).
func (p *Provider) userinfoClaims(ctx context.Context, subject string, scopes []string, token map[string]any) (map[string]any, error) {
	claims, err := p.o.Claims(ctx, subject, scopes)
	if err != nil {
		return nil, err
	}
	if claims == nil {
		claims = map[string]any{}
	}
	m, err := userinfoRequest(token)
	if err != nil {
		return nil, err
	}
	asked, err := p.requestedClaims(ctx, subject, m)
	if err != nil {
		return nil, err
	}
	mergeClaims(claims, asked)
	return claims, nil
}

// claimUserinfoRequest is the access-token claim carrying UserinfoRequest.
const claimUserinfoRequest = "userinfo_claims"

// userinfoRequest reads the userinfo member an access token carries.
func userinfoRequest(claims map[string]any) (claimsreq.Member, error) {
	v, ok := claims[claimUserinfoRequest]
	if !ok {
		return claimsreq.Member{}, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return claimsreq.Member{}, err
	}
	m, err := claimsreq.ParseMember(raw)
	if err != nil {
		return claimsreq.Member{}, errors.Join(errors.New("provider: the access token's userinfo request"), err)
	}
	return m, nil
}
