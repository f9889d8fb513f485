package clients

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
)

// Grant and response types gosid supports. The implicit and password grants
// are deliberately absent (OAuth 2.0 Security BCP, RFC 9700 §2.1.2, §2.4).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	ResponseTypeCode       = "code"
)

// Signing algorithms a client may register: RS256 and ES256 for id_tokens;
// those and PS256 for its request objects.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
	AlgPS256 = "PS256"
)

// Limits on client metadata.
const (
	maxNameLen  = 200  // characters
	maxURILen   = 2000 // bytes
	maxIDLen    = 128  // bytes
	maxJWKSSize = 64 << 10
	minRSABits  = 2048
)

// DefaultScopes are the scopes a client gets when it registers none.
var DefaultScopes = []string{"openid", "profile", "email", "phone", "offline_access"}

// ValidationError names the client metadata field that is wrong and why. The
// reason is fit to show to an administrator.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return "invalid client " + e.Field + ": " + e.Reason
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ApplyDefaults fills the metadata a client left empty: grant types
// authorization_code and refresh_token; response type code (for clients that
// use the authorization code grant); DefaultScopes; token endpoint auth
// method none for public clients and client_secret_basic otherwise; id_token
// algorithm RS256. Call it before Validate.
func ApplyDefaults(c *Client) {
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	if len(c.ResponseTypes) == 0 && slices.Contains(c.GrantTypes, GrantAuthorizationCode) {
		c.ResponseTypes = []string{ResponseTypeCode}
	}
	if len(c.Scopes) == 0 {
		c.Scopes = slices.Clone(DefaultScopes)
	}
	if c.TokenEndpointAuthMethod == "" {
		if c.Public {
			c.TokenEndpointAuthMethod = AuthNone
		} else {
			c.TokenEndpointAuthMethod = AuthSecretBasic
		}
	}
	if c.IDTokenAlg == "" {
		c.IDTokenAlg = AlgRS256
	}
	if c.ApplicationType == "" {
		c.ApplicationType = AppWeb
	}
}

// Validate checks client metadata and returns a *ValidationError for the
// first field that is wrong, or nil. It does not fill defaults (see
// ApplyDefaults) and does not require SecretHash, which callers set after
// validation when they generate the secret.
func Validate(c *Client) error {
	checks := []func(*Client) *ValidationError{
		validateID, validateName, validateGrantTypes, validateResponseTypes,
		validateRedirects, validateScopes, validateAuthMethod, validateKeys,
		validateIDTokenAlg, validateMinLevel, validateAudience, validateApplicationType,
		validateRequestObjects, validateCORSOrigins, validateUserinfoAlg,
	}
	for _, check := range checks {
		if err := check(c); err != nil {
			return err
		}
	}
	return nil
}

// validateID keeps ids to RFC 3986 unreserved characters, which need no
// escaping in URLs, forms or Basic credentials. An empty id is allowed: the
// caller may assign one (NewID) after validation.
func validateID(c *Client) *ValidationError {
	if len(c.ID) > maxIDLen {
		return invalid("client_id", "must be at most %d characters", maxIDLen)
	}
	if !validIDChars(c.ID) {
		return invalid("client_id", "may contain only letters, digits and - . _ ~")
	}
	return nil
}

func validIDChars(id string) bool {
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			b == '-' || b == '.' || b == '_' || b == '~') {
			return false
		}
	}
	return true
}

func validateName(c *Client) *ValidationError {
	switch {
	case strings.TrimSpace(c.Name) == "":
		return invalid("client_name", "is required")
	case !utf8.ValidString(c.Name):
		return invalid("client_name", "must be valid UTF-8")
	case utf8.RuneCountInString(c.Name) > maxNameLen:
		return invalid("client_name", "must be at most %d characters", maxNameLen)
	case strings.ContainsFunc(c.Name, unicode.IsControl):
		return invalid("client_name", "must not contain control characters")
	}
	return nil
}

func validateGrantTypes(c *Client) *ValidationError {
	if len(c.GrantTypes) == 0 {
		return invalid("grant_types", "is required")
	}
	for i, g := range c.GrantTypes {
		switch g {
		case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials:
		case "implicit":
			return invalid("grant_types", "the implicit grant is not supported: use authorization_code with PKCE")
		case "password":
			return invalid("grant_types", "the resource owner password grant is not supported: use authorization_code")
		default:
			return invalid("grant_types", "unsupported grant type %q", g)
		}
		if slices.Contains(c.GrantTypes[:i], g) {
			return invalid("grant_types", "%q is listed twice", g)
		}
	}
	if c.Public && slices.Contains(c.GrantTypes, GrantClientCredentials) {
		return invalid("grant_types", "a public client cannot use client_credentials")
	}
	return nil
}

// validateResponseTypes keeps response types consistent with grant types
// (OpenID Connect Dynamic Client Registration §2): code goes with
// authorization_code, both ways.
func validateResponseTypes(c *Client) *ValidationError {
	for i, r := range c.ResponseTypes {
		if r != ResponseTypeCode {
			return invalid("response_types", "unsupported response type %q: only code is supported", r)
		}
		if slices.Contains(c.ResponseTypes[:i], r) {
			return invalid("response_types", "%q is listed twice", r)
		}
	}
	hasCode := slices.Contains(c.ResponseTypes, ResponseTypeCode)
	hasGrant := slices.Contains(c.GrantTypes, GrantAuthorizationCode)
	switch {
	case hasGrant && !hasCode:
		return invalid("response_types", "must include code when grant_types include authorization_code")
	case hasCode && !hasGrant:
		return invalid("response_types", "code requires the authorization_code grant type")
	}
	return nil
}

func validateRedirects(c *Client) *ValidationError {
	if len(c.RedirectURIs) == 0 && slices.Contains(c.GrantTypes, GrantAuthorizationCode) {
		return invalid("redirect_uris", "at least one is required for the authorization_code grant")
	}
	for _, u := range c.RedirectURIs {
		if reason := checkRedirectURI(u); reason != "" {
			return invalid("redirect_uris", "%q: %s", u, reason)
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if reason := checkRedirectURI(u); reason != "" {
			return invalid("post_logout_redirect_uris", "%q: %s", u, reason)
		}
	}
	return nil
}

// checkRedirectURI returns why raw cannot be a redirect URI, or "". Allowed:
// https; http on a loopback host (RFC 8252 §7.3); a private-use scheme in
// reverse-domain form such as com.example.app:/cb (RFC 8252 §7.1). Redirect
// URIs are compared as exact strings, so wildcards and fragments have no
// meaning and are refused.
func checkRedirectURI(raw string) string {
	u, reason := parseAbsoluteURI(raw)
	if reason != "" {
		return reason
	}
	switch {
	case u.Scheme == "https":
		if u.Host == "" {
			return "an https URI needs a host"
		}
	case u.Scheme == "http":
		if !isLoopback(u.Hostname()) {
			return "http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https"
		}
	case strings.Contains(u.Scheme, "."):
		if u.Opaque == "" && u.Path == "" {
			return "a private-use scheme URI needs a path, such as com.example.app:/callback"
		}
	default:
		return "scheme must be https, http on a loopback host, or a private-use scheme with a dot (com.example.app)"
	}
	return ""
}

// parseAbsoluteURI applies the rules every registered URI shares.
func parseAbsoluteURI(raw string) (*url.URL, string) {
	switch {
	case raw == "":
		return nil, "must not be empty"
	case len(raw) > maxURILen:
		return nil, fmt.Sprintf("must be at most %d characters", maxURILen)
	case strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
		return nil, "must be ASCII without spaces or control characters; percent-encode the rest"
	case strings.Contains(raw, "#"):
		return nil, "must not contain a fragment"
	case strings.Contains(raw, "*"):
		return nil, "must not contain wildcards"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "is not a valid URI"
	}
	if u.Scheme == "" {
		return nil, "must be an absolute URI"
	}
	if u.User != nil {
		return nil, "must not contain user information"
	}
	return u, ""
}

func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

// validateScopes checks each scope against RFC 6749 §3.3:
// scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func validateScopes(c *Client) *ValidationError {
	if len(c.Scopes) == 0 {
		return invalid("scope", "is required")
	}
	for i, s := range c.Scopes {
		if !validScopeToken(s) {
			return invalid("scope", "%q is not a valid scope token (RFC 6749 §3.3)", s)
		}
		if slices.Contains(c.Scopes[:i], s) {
			return invalid("scope", "%q is listed twice", s)
		}
	}
	return nil
}

func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}

func validateAuthMethod(c *Client) *ValidationError {
	m := c.TokenEndpointAuthMethod
	switch m {
	case AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT, AuthNone:
	case "":
		return invalid("token_endpoint_auth_method", "is required")
	default:
		return invalid("token_endpoint_auth_method", "unsupported method %q", m)
	}
	switch {
	case c.Public && m != AuthNone:
		return invalid("token_endpoint_auth_method", "a public client must use none")
	case !c.Public && m == AuthNone:
		return invalid("token_endpoint_auth_method", "none is only for public clients")
	case len(c.SecretHash) > 0 && (m == AuthNone || m == AuthPrivateKeyJWT):
		return invalid("client_secret", "a client using %s must not have a secret", m)
	}
	return nil
}

// validateKeys checks the client's public keys: private_key_jwt needs
// exactly one of an inline set or a URI; any client may register neither.
func validateKeys(c *Client) *ValidationError {
	hasSet, hasURI := len(c.JWKS) > 0, c.JWKSURI != ""
	if hasSet && hasURI {
		return invalid("jwks", "register either jwks or jwks_uri, not both")
	}
	if c.TokenEndpointAuthMethod == AuthPrivateKeyJWT && !hasSet && !hasURI {
		return invalid("jwks", "private_key_jwt needs jwks or jwks_uri")
	}
	if hasSet {
		if reason := checkJWKS(c.JWKS); reason != "" {
			return invalid("jwks", "%s", reason)
		}
	}
	if hasURI {
		u, reason := parseAbsoluteURI(c.JWKSURI)
		if reason == "" && !(u.Scheme == "https" && u.Host != "" || u.Scheme == "http" && isLoopback(u.Hostname())) {
			reason = "must be https (http only for loopback hosts)"
		}
		if reason != "" {
			return invalid("jwks_uri", "%s", reason)
		}
	}
	return nil
}

// checkJWKS requires a JSON Web Key Set of valid public keys. A private or
// symmetric key in the set is refused: it would be a secret the client
// has leaked to us.
func checkJWKS(raw []byte) string {
	if len(raw) > maxJWKSSize {
		return fmt.Sprintf("must be at most %d bytes", maxJWKSSize)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return "is not a valid JSON Web Key Set"
	}
	if len(set.Keys) == 0 {
		return "must contain at least one key"
	}
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return fmt.Sprintf("key %d is a private or symmetric key; register public keys only", i)
		}
		if !k.Valid() {
			return fmt.Sprintf("key %d is not valid", i)
		}
		if rk, ok := k.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
			return fmt.Sprintf("key %d: RSA keys must be at least %d bits", i, minRSABits)
		}
	}
	return ""
}

func validateIDTokenAlg(c *Client) *ValidationError {
	switch c.IDTokenAlg {
	case "", AlgRS256, AlgES256:
		return nil
	}
	return invalid("id_token_signed_response_alg", "must be RS256 or ES256")
}

// validateMinLevel accepts the account trust levels (see account.Level).
func validateMinLevel(c *Client) *ValidationError {
	switch c.MinLevel {
	case "", "simplified", "standard", "confirmed":
		return nil
	}
	return invalid("min_level", "must be simplified, standard or confirmed")
}

func validateAudience(c *Client) *ValidationError {
	for _, a := range c.Audience {
		if a == "" || len(a) > maxURILen || strings.ContainsFunc(a, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
			return invalid("audience", "%q must be a non-empty ASCII string without spaces", a)
		}
	}
	return nil
}

func validateApplicationType(c *Client) *ValidationError {
	switch c.ApplicationType {
	case "", AppWeb, AppNative:
		return nil
	}
	return invalid("application_type", "must be web or native")
}

// validateRequestObjects: a client that signs its request objects (RFC
// 9101) needs keys gosid can check them with, and an algorithm gosid
// verifies.
func validateRequestObjects(c *Client) *ValidationError {
	switch c.RequestObjectSigningAlg {
	case "", AlgRS256, AlgES256, AlgPS256:
	default:
		return invalid("request_object_signing_alg", "must be RS256, ES256 or PS256")
	}
	signs := c.RequireSignedRequestObject || c.RequestObjectSigningAlg != ""
	if signs && len(c.JWKS) == 0 && c.JWKSURI == "" {
		return invalid("jwks", "signed request objects need jwks or jwks_uri to verify them with")
	}
	return nil
}

// validateUserinfoAlg: signed userinfo uses one of gosid's own signing
// algorithms.
func validateUserinfoAlg(c *Client) *ValidationError {
	switch c.UserinfoSignedResponseAlg {
	case "", AlgRS256, AlgES256:
		return nil
	}
	return invalid("userinfo_signed_response_alg", "must be RS256 or ES256")
}

// validateCORSOrigins accepts only bare web origins, as a browser sends them
// in the Origin header: https://host[:port], or http on a loopback host.
// Wildcards and "null" are refused: CORS is opened origin by origin.
func validateCORSOrigins(c *Client) *ValidationError {
	for _, o := range c.AllowedCORSOrigins {
		u, reason := parseAbsoluteURI(o)
		if reason == "" {
			switch {
			case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
				reason = "must be https (http only for loopback hosts)"
			case u.Host == "" || u.Path != "" || u.RawQuery != "" || u.ForceQuery:
				reason = "must be an origin: scheme://host[:port], no path or query"
			case OriginOf(o) != o:
				reason = fmt.Sprintf("must be written as the browser sends it: %s", OriginOf(o))
			}
		}
		if reason != "" {
			return invalid("allowed_cors_origins", "%q: %s", o, reason)
		}
	}
	return nil
}
