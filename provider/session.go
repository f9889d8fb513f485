package provider

import (
	"encoding/json"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is what gosid keeps with every authorization code, refresh token
// and access token: who signed in, how, and what the token may carry. It is
// serialized into the short-lived store with codes and into the grant store
// with refresh tokens, so every field is exported and JSON-tagged.
type Session struct {
	*openid.DefaultSession `json:"oidc"`
	// ClientID is the client the tokens are issued to.
	ClientID string `json:"client_id"`
	// GrantID identifies the grant (the authorization); every access token
	// carries it so that revoking the grant reaches tokens already issued.
	GrantID string `json:"grant_id,omitempty"`
	// SessionID is the sign-in session (OIDC sid), for logout.
	SessionID string `json:"sid,omitempty"`
	// UserinfoRequest is the userinfo member of the claims parameter, as
	// far as the citizen's consent covers it (claimsreq.Member JSON). Access
	// tokens carry it, so that userinfo answers it without a lookup.
	UserinfoRequest json.RawMessage `json:"userinfo_request,omitempty"`
	// ACR and AMR describe the authentication (OpenID Connect Core §2).
	ACR string   `json:"acr,omitempty"`
	AMR []string `json:"amr,omitempty"`
	// AuthTime is when the citizen last authenticated actively.
	AuthTime time.Time `json:"auth_time,omitempty"`
	// JKT is the thumbprint of the DPoP key (RFC 9449) the tokens are
	// bound to; empty for bearer tokens. Access tokens carry it as cnf.jkt.
	JKT string `json:"jkt,omitempty"`
}

// NewSession returns an empty session with its id-token parts allocated.
func NewSession() *Session {
	return &Session{DefaultSession: &openid.DefaultSession{
		Claims:  &jwt.IDTokenClaims{},
		Headers: &jwt.Headers{},
	}}
}

// GetJWTClaims builds the access-token claims (RFC 9068). fosite adds exp,
// scope, aud, iat and iss.
func (s *Session) GetJWTClaims() jwt.JWTClaimsContainer {
	extra := map[string]interface{}{"client_id": s.ClientID}
	if s.GrantID != "" {
		extra["gid"] = s.GrantID
	}
	if s.SessionID != "" {
		extra["sid"] = s.SessionID
	}
	if len(s.UserinfoRequest) > 0 {
		extra[claimUserinfoRequest] = s.UserinfoRequest
	}
	if !s.AuthTime.IsZero() {
		extra["auth_time"] = s.AuthTime.Unix()
	}
	if s.ACR != "" {
		extra["acr"] = s.ACR
	}
	if len(s.AMR) > 0 {
		extra["amr"] = s.AMR
	}
	if s.JKT != "" {
		extra["cnf"] = map[string]any{"jkt": s.JKT}
	}
	return &jwt.JWTClaims{
		Subject:    s.GetSubject(),
		Extra:      extra,
		ScopeField: jwt.JWTScopeFieldString,
	}
}

// GetJWTHeader marks the token as an RFC 9068 access token.
func (s *Session) GetJWTHeader() *jwt.Headers {
	return &jwt.Headers{Extra: map[string]interface{}{"typ": "at+jwt"}}
}

// Clone returns a deep copy.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	if s.DefaultSession != nil {
		c.DefaultSession = s.DefaultSession.Clone().(*openid.DefaultSession)
	}
	c.AMR = append([]string(nil), s.AMR...)
	c.UserinfoRequest = append(json.RawMessage(nil), s.UserinfoRequest...)
	return &c
}

func (s *Session) ensure() {
	if s.DefaultSession == nil {
		s.DefaultSession = &openid.DefaultSession{}
	}
	if s.DefaultSession.Claims == nil {
		s.DefaultSession.Claims = &jwt.IDTokenClaims{}
	}
	if s.DefaultSession.Headers == nil {
		s.DefaultSession.Headers = &jwt.Headers{}
	}
}
