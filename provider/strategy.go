package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/gosid/gosid/clients"
)

// idTokenStrategy signs each id_token with the algorithm the client
// registered (RS256 unless it asked for ES256), as OpenID Connect requires.
type idTokenStrategy struct {
	byAlg   map[string]openid.OpenIDConnectTokenStrategy
	clients clients.Store
}

func (s *idTokenStrategy) GenerateIDToken(ctx context.Context, lifespan time.Duration, r fosite.Requester) (string, error) {
	alg := "RS256"
	if fc, ok := r.GetClient().(*fositeClient); ok && fc.c.IDTokenAlg != "" {
		alg = fc.c.IDTokenAlg
	}
	st, ok := s.byAlg[alg]
	if !ok {
		st = s.byAlg["RS256"]
	}
	return st.GenerateIDToken(ctx, lifespan, r)
}

// anyAlgSigner verifies tokens signed with any of gosid's algorithms (an
// id_token_hint may be RS256 or ES256), choosing the verifier by the token's
// alg header; it signs with def.
type anyAlgSigner struct {
	byAlg map[string]jwt.Signer
	def   jwt.Signer
}

func (a *anyAlgSigner) pick(token string) jwt.Signer {
	if s, ok := a.byAlg[headerAlg(token)]; ok {
		return s
	}
	return a.def
}

func (a *anyAlgSigner) Generate(ctx context.Context, c jwt.MapClaims, h jwt.Mapper) (string, string, error) {
	return a.def.Generate(ctx, c, h)
}
func (a *anyAlgSigner) Validate(ctx context.Context, token string) (string, error) {
	return a.pick(token).Validate(ctx, token)
}
func (a *anyAlgSigner) Hash(ctx context.Context, in []byte) ([]byte, error) {
	return a.def.Hash(ctx, in)
}
func (a *anyAlgSigner) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	return a.pick(token).Decode(ctx, token)
}
func (a *anyAlgSigner) GetSignature(ctx context.Context, token string) (string, error) {
	return a.def.GetSignature(ctx, token)
}
func (a *anyAlgSigner) GetSigningMethodLength(ctx context.Context) int {
	return a.def.GetSigningMethodLength(ctx)
}

// headerAlg reads the alg of a compact JWS without verifying it (only to
// choose the verifier).
func headerAlg(token string) string {
	h, _, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	_ = json.Unmarshal(raw, &hdr)
	return hdr.Alg
}

// numClaim reads a numeric claim whether the parser produced a float64 or
// a json.Number.
func numClaim(c map[string]interface{}, k string) int64 {
	switch v := c[k].(type) {
	case float64:
		return int64(v)
	case json.Number:
		n, _ := v.Int64()
		return n
	case int64:
		return v
	}
	return 0
}

func looksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 }

// verifyAccessToken checks an access token's signature, expiry, type,
// issuer and the deny-list.
func verifyAccessToken(ctx context.Context, signer jwt.Signer, deny *DenyList, issuer, token string) (*jwt.Token, error) {
	t, err := signer.Decode(ctx, token)
	if err != nil {
		return nil, fosite.ErrInactiveToken.WithWrap(err).WithHint("The access token is invalid or expired.")
	}
	if err := t.Claims.Valid(); err != nil {
		return nil, fosite.ErrInactiveToken.WithWrap(err).WithHint("The access token is invalid or expired.")
	}
	if typ, _ := t.Header["typ"].(string); !strings.EqualFold(typ, "at+jwt") {
		return nil, fosite.ErrInactiveToken.WithHint("The token is not an access token.")
	}
	if iss, _ := t.Claims["iss"].(string); iss != issuer {
		return nil, fosite.ErrInactiveToken.WithHint("The access token was not issued here.")
	}
	gid, _ := t.Claims["gid"].(string)
	jti, _ := t.Claims["jti"].(string)
	denied, err := deny.Denied(ctx, gid, jti)
	if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	if denied {
		return nil, fosite.ErrInactiveToken.WithHint("The access token was revoked.")
	}
	return t, nil
}

// jwtIntrospector introspects gosid's JWT access tokens (RFC 7662) without a
// database lookup, honouring the deny-list. Anything that is not a JWT is
// left to the next introspector (refresh tokens).
type jwtIntrospector struct {
	signer jwt.Signer
	deny   *DenyList
	issuer string
}

func (j *jwtIntrospector) IntrospectToken(ctx context.Context, token string, _ fosite.TokenUse, ar fosite.AccessRequester, scopes []string) (fosite.TokenUse, error) {
	if !looksLikeJWT(token) {
		return "", fosite.ErrUnknownRequest
	}
	t, err := verifyAccessToken(ctx, j.signer, j.deny, j.issuer, token)
	if err != nil {
		return "", err
	}
	req := oauth2.AccessTokenJWTToRequest(t)
	// fosite reads aud only as a string or a []string, and a decoded token
	// holds a list as []any: without this the audience would be lost.
	if list, ok := t.Claims["aud"].([]any); ok {
		for _, a := range list {
			if s, ok := a.(string); ok && !req.GetGrantedAudience().Has(s) {
				req.(*fosite.Request).GrantedAudience = append(req.GetGrantedAudience(), s)
				req.(*fosite.Request).RequestedAudience = append(req.GetRequestedAudience(), s)
			}
		}
	}
	for _, s := range scopes {
		if !req.GetGrantedScopes().Has(s) {
			return fosite.AccessToken, fosite.ErrInvalidScope.WithHintf("The token lacks scope %q.", s)
		}
	}
	ar.Merge(req)
	return fosite.AccessToken, nil
}

// refreshIntrospector lets fosite's core validator introspect refresh
// tokens only; JWT access tokens are the jwtIntrospector's, and the core
// validator would wrongly report them inactive (they are never stored).
type refreshIntrospector struct{ core *oauth2.CoreValidator }

func (r *refreshIntrospector) IntrospectToken(ctx context.Context, token string, use fosite.TokenUse, ar fosite.AccessRequester, scopes []string) (fosite.TokenUse, error) {
	if looksLikeJWT(token) {
		return "", fosite.ErrUnknownRequest
	}
	return r.core.IntrospectToken(ctx, token, use, ar, scopes)
}

// revoker implements RFC 7009 for JWT access tokens (deny-list) and refresh
// tokens (revoke the grant). Unknown tokens succeed silently, as the RFC
// requires; a token of another client is refused.
type revoker struct {
	store  *fositeStore
	signer jwt.Signer
	hmac   *oauth2.HMACSHAStrategy
	deny   *DenyList
}

func (v *revoker) RevokeToken(ctx context.Context, token string, _ fosite.TokenType, client fosite.Client) error {
	if looksLikeJWT(token) {
		t, err := v.signer.Decode(ctx, token)
		if err != nil {
			return nil
		}
		if cid, _ := t.Claims["client_id"].(string); cid != client.GetID() {
			return fosite.ErrUnauthorizedClient.WithHint("The token was issued to another client.")
		}
		if gid, _ := t.Claims["gid"].(string); gid != "" {
			return v.store.RevokeRefreshToken(ctx, gid)
		}
		jti, _ := t.Claims["jti"].(string)
		return v.deny.DenyToken(ctx, jti, time.Unix(numClaim(t.Claims, "exp"), 0))
	}
	rt, err := v.store.grants.GetRefreshToken(ctx, v.hmac.RefreshTokenSignature(ctx, token))
	if err != nil {
		return nil
	}
	if rt.ClientID != client.GetID() {
		return fosite.ErrUnauthorizedClient.WithHint("The token was issued to another client.")
	}
	return v.store.RevokeRefreshToken(ctx, rt.RequestID)
}
