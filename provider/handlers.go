package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/claimsreq"
	"github.com/gosid/gosid/storage"
)

// Register mounts the endpoints on r; ia decides each authorization
// request (sign-in and consent).
func (p *Provider) Register(r *mux.Router, ia Interaction) {
	p.interaction = ia
	// CORS: see cors.go for who may call what from a browser.
	r.HandleFunc(PathDiscovery, publicCORS(p.handleDiscovery)).Methods(http.MethodGet, http.MethodHead, http.MethodOptions)
	r.HandleFunc(PathASMetadata, publicCORS(p.handleDiscovery)).Methods(http.MethodGet, http.MethodHead, http.MethodOptions)
	r.HandleFunc(PathJWKS, publicCORS(p.handleJWKS)).Methods(http.MethodGet, http.MethodHead, http.MethodOptions)
	r.HandleFunc(PathAuthorize, p.handleAuthorize).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc(PathPAR, p.clientCORS("POST", p.handlePAR)).Methods(http.MethodPost, http.MethodOptions)
	r.HandleFunc(PathToken, p.clientCORS("POST", p.handleToken)).Methods(http.MethodPost, http.MethodOptions)
	r.HandleFunc(PathUserinfo, p.clientCORS("GET, POST", p.handleUserinfo)).Methods(http.MethodGet, http.MethodPost, http.MethodOptions)
	r.HandleFunc(PathIntrospect, p.handleIntrospect).Methods(http.MethodPost)
	r.HandleFunc(PathRevoke, p.clientCORS("POST", p.handleRevoke)).Methods(http.MethodPost, http.MethodOptions)
}

type flowKey struct{}

// FlowID returns the sign-in flow a resumed authorization belongs to.
func FlowID(ctx context.Context) string {
	id, _ := ctx.Value(flowKey{}).(string)
	return id
}

func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ar, err := p.newAuthorizeRequest(r.Context(), r)
	if err != nil {
		p.writeAuthorizeError(w, r, ar, err)
		return
	}
	claims, err := claimsOf(ar)
	if err != nil {
		p.writeAuthorizeError(w, r, ar, err)
		return
	}
	fc, ok := ar.GetClient().(*fositeClient)
	if !ok {
		p.writeAuthorizeError(w, r, ar, fosite.ErrServerError.WithDebug("unexpected client type"))
		return
	}
	dec, err := p.interaction.Authorize(w, r, &AuthorizeContext{Request: ar, Client: fc.c, Form: resumableForm(ar), Claims: claims})
	if err != nil {
		p.writeAuthorizeError(w, r, ar, err)
		return
	}
	if dec == nil {
		return
	}
	p.finishAuthorize(w, r, ar, claims, dec)
}

// resumableForm is the resolved request minus anything secret or
// single-use, so that the UI can resume it after sign-in and consent.
func resumableForm(ar fosite.AuthorizeRequester) url.Values {
	form := url.Values{}
	for k, v := range ar.GetRequestForm() {
		switch k {
		case "client_secret", "client_assertion", "client_assertion_type", "request", "request_uri":
			continue
		}
		form[k] = append([]string(nil), v...)
	}
	form.Set("client_id", ar.GetClient().GetID())
	return form
}

// Resume re-runs an authorization request after the UI has done its part
// (sign-in, consent). The request is rebuilt from the resolved parameters and
// validated again from scratch.
func (p *Provider) Resume(w http.ResponseWriter, r *http.Request, flowID string, form url.Values) {
	req := r.Clone(context.WithValue(r.Context(), flowKey{}, flowID))
	req.Method = http.MethodGet
	req.URL = &url.URL{Path: PathAuthorize, RawQuery: form.Encode()}
	req.RequestURI = req.URL.RequestURI()
	req.Body = http.NoBody
	req.ContentLength = 0
	req.Form, req.PostForm = nil, nil
	req.Header.Del("Content-Type")
	p.handleAuthorize(w, req)
}

func (p *Provider) finishAuthorize(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, req *claimsreq.Request, dec *Decision) {
	ctx := r.Context()
	if subs, ok := req.Subjects(); ok && !slices.Contains(subs, dec.Subject) {
		p.writeAuthorizeError(w, r, ar, errSubjectMismatch)
		return
	}
	acr, err := requestedACR(req, dec.ACR)
	if err != nil {
		p.writeAuthorizeError(w, r, ar, err)
		return
	}
	for _, s := range dec.GrantedScopes {
		if ar.GetRequestedScopes().Has(s) {
			ar.GrantScope(s)
		}
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	if len(ar.GetGrantedAudience()) == 0 {
		ar.GrantAudience(p.o.Issuer)
	}
	// What the claims parameter asks for, as far as the consent goes.
	allowed := req.Allowed(slices.Concat(ar.GetGrantedScopes(), dec.GrantedClaims))
	sess := NewSession()
	sess.Subject = dec.Subject
	sess.ClientID = ar.GetClient().GetID()
	sess.GrantID = ar.GetID()
	sess.SessionID = dec.SessionID
	sess.ACR = acr
	sess.AMR = append([]string(nil), dec.AMR...)
	sess.AuthTime = dec.AuthTime.UTC()
	c := sess.DefaultSession.Claims
	c.Subject = dec.Subject
	c.AuthTime = dec.AuthTime.UTC()
	c.RequestedAt = dec.RequestedAt.UTC()
	c.AuthenticationContextClassReference = acr
	c.AuthenticationMethodsReferences = sess.AMR
	c.Extra = map[string]interface{}{}
	if dec.SessionID != "" {
		c.Extra["sid"] = dec.SessionID
	}
	if p.o.Claims != nil {
		claims, err := p.idTokenClaims(ctx, dec.Subject, ar.GetGrantedScopes(), allowed)
		if err != nil {
			p.writeAuthorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
			return
		}
		for k, v := range claims {
			if _, reserved := c.Extra[k]; !reserved {
				c.Extra[k] = v
			}
		}
	}
	if err := sess.askUserinfo(allowed); err != nil {
		p.writeAuthorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	resp, err := p.oauth.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		p.writeAuthorizeError(w, r, ar, err)
		return
	}
	if p.o.SessionClients != nil && dec.SessionID != "" {
		// Before the code leaves: a client that holds tokens of the
		// session is always told when it ends.
		if err := p.o.SessionClients(ctx, dec.SessionID, dec.Subject, sess.ClientID, sess.Subject); err != nil {
			p.writeAuthorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
			return
		}
	}
	p.writeAuthorizeResponse(w, ar, resp)
}

// writeAuthorizeError sends err to the client's redirect URI, or shows the
// citizen the error page when the request has no valid redirect URI (an
// unknown client, a redirect URI it did not register).
func (p *Provider) writeAuthorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	orig := fosite.ErrorToRFC6749Error(err)
	rfc := registeredAuthorizeError(orig)
	p.logError(r, "authorize", rfc)
	if ar == nil || !ar.IsRedirectURIValid() {
		if p.o.ErrorPage != nil {
			// The page is no authorization response: it may say that the
			// client is unknown, which a redirect could not.
			if orig.ErrorField == fosite.ErrInvalidClient.ErrorField {
				rfc = orig
			}
			p.o.ErrorPage(w, r, rfc)
			return
		}
		p.oauth.WriteAccessError(r.Context(), w, nil, rfc)
		return
	}
	p.sendToClient(w, ar, p.authorizeErrorParams(ar, rfc))
}

// WriteAuthorizeError lets the UI end a flow with an OAuth error sent back to
// the client (e.g. access_denied when the citizen declines consent). form
// is the flow's record of the request (see AuthorizeContext.Form).
func (p *Provider) WriteAuthorizeError(w http.ResponseWriter, r *http.Request, form url.Values, err error) {
	p.writeAuthorizeError(w, r, p.errorTarget(r.Context(), form), err)
}

func (p *Provider) handlePAR(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := p.newPushedRequest(ctx, r)
	if err == nil {
		var resp fosite.PushedAuthorizeResponder
		if resp, err = p.oauth.NewPushedAuthorizeResponse(ctx, ar, NewSession()); err == nil {
			p.oauth.WritePushedAuthorizeResponse(ctx, w, ar, resp)
			return
		}
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	if !errors.Is(err, fosite.ErrInvalidClient) {
		rfc = registeredAuthorizeError(rfc)
	}
	p.logError(r, "par", rfc)
	challenge(w, r, rfc)
	p.oauth.WritePushedAuthorizeError(ctx, w, ar, rfc)
}

// grantTypes are the grants gosid offers; implicit and password never.
var grantTypes = map[string]bool{"authorization_code": true, "refresh_token": true, "client_credentials": true}

func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := parseParams(r); err != nil {
		p.writeAccessError(w, r, nil, err)
		return
	}
	if gt := r.PostFormValue("grant_type"); gt != "" && !grantTypes[gt] {
		p.writeAccessError(w, r, nil, fosite.ErrUnsupportedGrantType.WithHintf("The grant type %q is not supported.", gt))
		return
	}
	// DPoP (RFC 9449): the proof is checked, and its jti spent, before
	// anything of the grant is.
	if len(r.Header.Values(dpopHeader)) > 0 {
		w.Header().Set(dpopNonceHeader, p.dpop.Nonce())
	}
	proof, err := p.dpop.Check(ctx, r, p.o.Issuer+PathToken, "")
	if err != nil {
		p.writeAccessError(w, r, nil, err)
		return
	}
	ar, err := p.oauth.NewAccessRequest(ctx, r, NewSession())
	if ar != nil && ar.GetClient() != nil {
		setCORSClient(ctx, ar.GetClient().GetID())
	}
	if err != nil {
		p.writeAccessError(w, r, ar, err)
		return
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		p.prepareClientCredentials(ar)
	}
	if err := bindDPoP(ar, proof); err != nil {
		p.writeAccessError(w, r, ar, err)
		return
	}
	resp, err := p.oauth.NewAccessResponse(ctx, ar)
	if err != nil {
		p.writeAccessError(w, r, ar, err)
		return
	}
	if proof != nil {
		resp.SetTokenType("DPoP")
	}
	p.oauth.WriteAccessResponse(ctx, w, ar, resp)
	if p.o.OnTokenIssued != nil {
		p.o.OnTokenIssued(ar.GetGrantTypes()[0])
	}
	if ar.GetGrantTypes().ExactOne("authorization_code") {
		p.recordTokensIssued(ctx, ar)
	}
}

// recordTokensIssued notes in the citizen's activity log that a service
// received tokens on their behalf. The tokens are already sent: a failure
// is logged, not answered.
func (p *Provider) recordTokensIssued(ctx context.Context, ar fosite.AccessRequester) {
	if p.o.Audit == nil {
		return
	}
	err := p.o.Audit.AppendEvent(ctx, &audit.Event{AccountID: ar.GetSession().GetSubject(), Type: "token.issued",
		ClientID: ar.GetClient().GetID(), Data: map[string]string{"scope": strings.Join(ar.GetGrantedScopes(), " ")},
		At: time.Now().UTC()})
	if err != nil {
		p.log.Error("audit: token issued", "err", err)
	}
}

// prepareClientCredentials makes the client the token's subject (RFC 9068
// §2.2) and grants the requested scopes and audience, which fosite has
// already checked against the client's registration.
func (p *Provider) prepareClientCredentials(ar fosite.AccessRequester) {
	cid := ar.GetClient().GetID()
	if s, ok := ar.GetSession().(*Session); ok {
		s.ClientID = cid
		s.Subject = cid
	}
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	if len(ar.GetGrantedAudience()) == 0 {
		ar.GrantAudience(p.o.Issuer)
	}
}

func (p *Provider) writeAccessError(w http.ResponseWriter, r *http.Request, ar fosite.AccessRequester, err error) {
	ctx := r.Context()
	switch {
	case errors.Is(err, fosite.ErrInvalidatedAuthorizeCode):
		// Lost a race with a concurrent redemption of the same code: treat it as
		// reuse and revoke whatever the other redemption issued.
		if ar != nil && ar.GetID() != "" {
			_ = p.store.RevokeRefreshToken(ctx, ar.GetID())
		}
		err = fosite.ErrInvalidGrant.WithHint("The authorization code has already been used.")
	case errors.Is(err, errSuccessorUsed):
		err = fosite.ErrInvalidGrant.WithHint("The refresh token was already used.")
	case errors.Is(err, fosite.ErrInactiveToken) && !isRFC(err):
		err = fosite.ErrInvalidGrant.WithHint("The token is no longer valid.")
	}
	p.logError(r, "token", fosite.ErrorToRFC6749Error(err))
	challenge(w, r, err)
	p.oauth.WriteAccessError(ctx, w, ar, err)
}

func isRFC(err error) bool {
	var e *fosite.RFC6749Error
	return errors.As(err, &e) && e.ErrorField != fosite.ErrInactiveToken.ErrorField
}

func (p *Provider) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := parseParams(r)
	if err == nil {
		err = p.oauth.NewRevocationRequest(ctx, r)
	}
	if err == nil {
		p.oauth.WriteRevocationResponse(ctx, w, nil)
		return
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	p.logError(r, "revoke", rfc)
	// RFC 7009 §2.2: an invalid or foreign token is not the caller's
	// error (fosite answers 200); a bad request, a failed client
	// authentication or a failure of the server are.
	if errors.Is(err, fosite.ErrInvalidRequest) || errors.Is(err, fosite.ErrInvalidClient) || rfc.CodeField >= http.StatusInternalServerError {
		challenge(w, r, err)
		p.oauth.WriteAccessError(ctx, w, nil, err)
		return
	}
	p.oauth.WriteRevocationResponse(ctx, w, err)
}

func (p *Provider) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	scheme, token := accessTokenOf(r)
	if token == "" {
		// RFC 6750 §3.1: a request without any credentials gets the
		// challenge alone, no error code.
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
		dpopResourceChallenge(w, "", "")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	t, err := verifyAccessToken(ctx, p.atSigner, p.deny, p.o.Issuer, token)
	if err == nil {
		err = p.checkTokenBinding(ctx, w, r, scheme, token, t.Claims)
	}
	if err != nil {
		rfc := asRFC(err)
		if rfc.ErrorField == fosite.ErrServerError.ErrorField {
			p.logError(r, "userinfo", rfc)
			writeJSONError(w, http.StatusInternalServerError, "server_error", "The server could not verify the token.")
			return
		}
		code, desc := "invalid_token", "The access token is invalid, expired or revoked."
		if rfc.ErrorField != fosite.ErrInactiveToken.ErrorField {
			code, desc = rfc.ErrorField, rfc.GetDescription()
		}
		if scheme == "dpop" || code != "invalid_token" {
			dpopResourceChallenge(w, code, desc)
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+desc+`"`)
		}
		writeJSONError(w, http.StatusUnauthorized, code, desc)
		return
	}
	setCORSClient(ctx, stringClaim(t.Claims, "client_id"))
	scopes := strings.Fields(stringClaim(t.Claims, "scope"))
	if !fosite.Arguments(scopes).Has("openid") {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="openid"`)
		writeJSONError(w, http.StatusForbidden, "insufficient_scope", "The access token was not granted the openid scope.")
		return
	}
	sub := stringClaim(t.Claims, "sub")
	claims := map[string]any{}
	if p.o.Claims != nil {
		if claims, err = p.userinfoClaims(ctx, sub, scopes, t.Claims); err != nil {
			p.logError(r, "userinfo", fosite.ErrServerError.WithWrap(err))
			writeJSONError(w, http.StatusInternalServerError, "server_error", "The server could not load the claims.")
			return
		}
	}
	claims["sub"] = sub
	w.Header().Set("Cache-Control", "no-store")
	p.writeUserinfo(w, r, stringClaim(t.Claims, "client_id"), claims)
}

// accessTokenOf returns the authorization scheme ("bearer" or "dpop") and
// the access token of a resource request: from the Authorization header, or
// (Bearer only) the access_token form parameter (RFC 6750 §2.2).
func accessTokenOf(r *http.Request) (scheme, token string) {
	h := r.Header.Get("Authorization")
	if s, tok, ok := strings.Cut(h, " "); ok {
		switch strings.ToLower(s) {
		case "bearer":
			return "bearer", strings.TrimSpace(tok)
		case "dpop":
			return "dpop", strings.TrimSpace(tok)
		}
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return "bearer", r.PostFormValue("access_token")
	}
	return "", ""
}

// checkTokenBinding enforces DPoP at a resource endpoint (RFC 9449 §7): a
// token bound to a key (cnf.jkt) is accepted only under the DPoP scheme
// with a proof by that key for this request and this token; a bearer
// token only under the Bearer scheme, and never for a client that
// registered dpop_bound_access_tokens.
func (p *Provider) checkTokenBinding(ctx context.Context, w http.ResponseWriter, r *http.Request, scheme, token string, claims map[string]any) error {
	jkt := cnfJKT(claims)
	if jkt == "" {
		if scheme == "dpop" {
			return fosite.ErrInactiveToken.WithHint("The access token is not DPoP-bound.")
		}
		c, err := p.o.Clients.GetClient(ctx, stringClaim(claims, "client_id"))
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return fosite.ErrInactiveToken.WithHint("The token's client no longer exists.")
		case err != nil:
			return fosite.ErrServerError.WithWrap(err)
		case c.DPoPBoundAccessTokens:
			return fosite.ErrInactiveToken.WithHint("The client uses DPoP-bound access tokens only.")
		}
		return nil
	}
	if scheme != "dpop" {
		return fosite.ErrInactiveToken.WithHint("The access token is DPoP-bound: use the DPoP authorization scheme.")
	}
	w.Header().Set(dpopNonceHeader, p.dpop.Nonce())
	proof, err := p.dpop.Check(ctx, r, p.o.Issuer+r.URL.Path, token)
	if err != nil {
		return resourceDPoPError(err)
	}
	if proof == nil {
		return resourceDPoPError(errInvalidDPoPProof.WithHint("The request carries no DPoP proof."))
	}
	if proof.JKT != jkt {
		return resourceDPoPError(errInvalidDPoPProof.WithHint("The DPoP proof is signed by another key than the token is bound to."))
	}
	return nil
}

// resourceDPoPError: at a resource endpoint, DPoP errors are 401 (RFC 9449
// §7.1, §9).
func resourceDPoPError(err error) error {
	e := asRFC(err)
	if e.ErrorField == fosite.ErrServerError.ErrorField {
		return e
	}
	c := *e
	c.CodeField = http.StatusUnauthorized
	return &c
}

// cnfJKT reads cnf.jkt of token claims.
func cnfJKT(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	s, _ := cnf["jkt"].(string)
	return s
}

func stringClaim(c map[string]interface{}, k string) string {
	s, _ := c[k].(string)
	return s
}

func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(p.discovery)
}

func (p *Provider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	etag := p.o.Keys.JWKSETag()
	w.Header().Set("Content-Type", "application/jwk-set+json")
	// Short max-age: a rotation publishes the next key long before it signs,
	// so clients refreshing every few minutes always know it in time.
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(p.o.Keys.JWKS())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (p *Provider) logError(r *http.Request, endpoint string, e *fosite.RFC6749Error) {
	level := slogLevel(e)
	p.log.Log(r.Context(), level, "oauth error", "endpoint", endpoint, "error", e.ErrorField,
		"description", e.GetDescription(), "debug", e.DebugField, "cause", causeText(e))
}

// IDTokenHint is what an id_token_hint says, once its signature is checked.
type IDTokenHint struct {
	Subject   string
	Audience  []string
	SessionID string
}

// Names reports whether the hint was issued for the sign-in session sid
// of subject; a hint without a sid names no session. nil names none.
func (h *IDTokenHint) Names(sid, subject string) bool {
	return h != nil && h.SessionID != "" && h.SessionID == sid && h.Subject == subject
}

// VerifyIDTokenHint checks an id_token gosid issued. An expired token is
// accepted, as RP-initiated logout allows; a forged or foreign one is not.
func (p *Provider) VerifyIDTokenHint(ctx context.Context, token string) (*IDTokenHint, error) {
	if !looksLikeJWT(token) {
		return nil, errors.New("provider: id_token_hint is not a JWT")
	}
	t, err := p.idSigner.Decode(ctx, token)
	if err != nil {
		var ve *jwt.ValidationError
		if t == nil || !errors.As(err, &ve) || ve.Errors&^jwt.ValidationErrorExpired != 0 {
			return nil, fmt.Errorf("provider: id_token_hint: %w", err)
		}
	}
	if iss, _ := t.Claims["iss"].(string); iss != p.o.Issuer {
		return nil, errors.New("provider: id_token_hint from another issuer")
	}
	h := &IDTokenHint{Subject: stringClaim(t.Claims, "sub"), SessionID: stringClaim(t.Claims, "sid")}
	switch aud := t.Claims["aud"].(type) {
	case string:
		h.Audience = []string{aud}
	case []interface{}:
		for _, a := range aud {
			if s, ok := a.(string); ok {
				h.Audience = append(h.Audience, s)
			}
		}
	}
	return h, nil
}
