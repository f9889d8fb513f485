package provider

import (
	"context"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"
)

// Signed responses: userinfo as a JWT (OpenID Connect Core §5.3.2) and
// JWT introspection responses (RFC 9701), both signed with the provider's
// published keys by fosite's signers.

// Media types of the signed responses.
const (
	mediaJWT                  = "application/jwt"
	mediaIntrospectionJWT     = "application/token-introspection+jwt"
	typIntrospectionJWT       = "token-introspection+jwt"
	defaultUserinfoSigningAlg = "RS256"
)

// userinfoSigningAlgs are the algorithms userinfo can be signed with
// (discovery's userinfo_signing_alg_values_supported).
var userinfoSigningAlgs = []string{"RS256", "ES256"}

// accepts reports whether the Accept header names media type mt (with a
// non-zero quality).
func accepts(r *http.Request, mt string) bool {
	for _, part := range r.Header.Values("Accept") {
		for item := range strings.SplitSeq(part, ",") {
			t, params, err := mime.ParseMediaType(strings.TrimSpace(item))
			if err == nil && strings.EqualFold(t, mt) && params["q"] != "0" && params["q"] != "0.0" {
				return true
			}
		}
	}
	return false
}

// writeUserinfo answers userinfo with JSON, or with a JWT signed for the
// client when it registered userinfo_signed_response_alg or the request
// accepts application/jwt.
func (p *Provider) writeUserinfo(w http.ResponseWriter, r *http.Request, clientID string, claims map[string]any) {
	alg := ""
	c, err := p.o.Clients.GetClient(r.Context(), clientID)
	if err == nil && c.UserinfoSignedResponseAlg != "" {
		alg = c.UserinfoSignedResponseAlg
	}
	if alg == "" && accepts(r, mediaJWT) {
		alg = defaultUserinfoSigningAlg
		if err == nil && c.IDTokenAlg != "" {
			alg = c.IDTokenAlg
		}
	}
	if alg == "" {
		writeJSON(w, http.StatusOK, claims)
		return
	}
	mc := jwt.MapClaims{}
	for k, v := range claims {
		mc[k] = v
	}
	mc["iss"] = p.o.Issuer
	mc["aud"] = clientID
	mc["iat"] = time.Now().Unix()
	tok, err := p.sign(r.Context(), alg, mc, "")
	if err != nil {
		p.logError(r, "userinfo", fosite.ErrServerError.WithWrap(err))
		writeJSONError(w, http.StatusInternalServerError, "server_error", "The server could not sign the response.")
		return
	}
	w.Header().Set("Content-Type", mediaJWT)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(tok))
}

// sign signs claims with the provider's active key of alg.
func (p *Provider) sign(ctx context.Context, alg string, claims jwt.MapClaims, typ string) (string, error) {
	s, ok := p.signers[alg]
	if !ok {
		s = p.signers[defaultUserinfoSigningAlg]
	}
	h := &jwt.Headers{Extra: map[string]any{}}
	if typ != "" {
		h.Extra["typ"] = typ
	}
	tok, _, err := s.Generate(ctx, claims, h)
	return tok, err
}

// introspectionClaims is the RFC 7662 answer: fosite's fields, with the
// expiry of the token introspected (a refresh token's own, not its access
// token's), its type, and its DPoP binding (cnf, RFC 9449 §6.2).
func introspectionClaims(ir fosite.IntrospectionResponder) map[string]any {
	if !ir.IsActive() {
		return map[string]any{"active": false}
	}
	ar := ir.GetAccessRequester()
	sess := ar.GetSession()
	m := map[string]any{"active": true}
	if ec, ok := sess.(fosite.ExtraClaimsSession); ok {
		for k, v := range ec.GetExtraClaims() {
			switch k {
			case "exp", "client_id", "scope", "iat", "sub", "aud", "username", "token_type":
			default:
				m[k] = v
			}
		}
	}
	use := ir.GetTokenUse()
	switch use {
	case fosite.RefreshToken:
		if exp := sess.GetExpiresAt(fosite.RefreshToken); !exp.IsZero() {
			m["exp"] = exp.Unix()
		}
		m["token_type"] = "refresh_token"
		if s, ok := sess.(*Session); ok && s.JKT != "" && ar.GetClient().IsPublic() {
			m["cnf"] = map[string]any{"jkt": s.JKT}
		}
	default:
		if exp := sess.GetExpiresAt(fosite.AccessToken); !exp.IsZero() {
			m["exp"] = exp.Unix()
		}
		m["token_type"] = "Bearer"
		if cnf, ok := m["cnf"].(map[string]any); ok && cnf["jkt"] != nil {
			m["token_type"] = "DPoP"
		}
	}
	if id := ar.GetClient().GetID(); id != "" {
		m["client_id"] = id
	}
	if sc := ar.GetGrantedScopes(); len(sc) > 0 {
		m["scope"] = strings.Join(sc, " ")
	}
	if at := ar.GetRequestedAt(); !at.IsZero() {
		m["iat"] = at.Unix()
	}
	if sub := sess.GetSubject(); sub != "" {
		m["sub"] = sub
	}
	if aud := ar.GetGrantedAudience(); len(aud) > 0 {
		m["aud"] = []string(aud)
	}
	return m
}

// writeIntrospection answers JSON, or a signed JWT (RFC 9701) when the
// resource server accepts application/token-introspection+jwt.
func (p *Provider) writeIntrospection(w http.ResponseWriter, r *http.Request, caller string, ir fosite.IntrospectionResponder) {
	w.Header().Set("Cache-Control", "no-store")
	claims := introspectionClaims(ir)
	if !accepts(r, mediaIntrospectionJWT) {
		writeJSON(w, http.StatusOK, claims)
		return
	}
	tok, err := p.sign(r.Context(), defaultUserinfoSigningAlg, jwt.MapClaims{
		"iss": p.o.Issuer, "aud": caller, "iat": time.Now().Unix(), "token_introspection": claims,
	}, typIntrospectionJWT)
	if err != nil {
		p.logError(r, "introspect", fosite.ErrServerError.WithWrap(err))
		writeJSONError(w, http.StatusInternalServerError, "server_error", "The server could not sign the response.")
		return
	}
	w.Header().Set("Content-Type", mediaIntrospectionJWT)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(tok))
}
