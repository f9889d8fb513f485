// Package clients owns relying services registered as OAuth 2.0 clients: their
// metadata, validation of that metadata, secret generation and hashing, and a
// read-through cache so that the hot token path never waits on the database.
package clients

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Token endpoint authentication methods (OpenID Connect Core §9).
const (
	AuthSecretBasic   = "client_secret_basic"
	AuthSecretPost    = "client_secret_post"
	AuthPrivateKeyJWT = "private_key_jwt"
	AuthNone          = "none"
)

// Application types (OpenID Connect Dynamic Client Registration §2): a
// native app runs on the citizen's device and may receive its redirect on
// any loopback port (RFC 8252 §7.3); a web client's redirect URIs are
// matched exactly.
const (
	AppWeb    = "web"
	AppNative = "native"
)

// Client is a registered relying service.
type Client struct {
	ID   string
	Name string
	// SecretHash is the keyed hash of the client secret (see Hasher); empty
	// for public clients and private_key_jwt clients.
	SecretHash              []byte
	RedirectURIs            []string
	PostLogoutRedirectURIs  []string
	GrantTypes              []string
	ResponseTypes           []string
	Scopes                  []string
	Audience                []string
	Public                  bool
	TokenEndpointAuthMethod string
	// JWKS is the client's public key set as JSON (for private_key_jwt), or
	// empty when JWKSURI is used.
	JWKS    []byte
	JWKSURI string
	// IDTokenAlg is the id_token signing algorithm (RS256 by default, ES256).
	IDTokenAlg string
	// ApplicationType is AppWeb (the default) or AppNative.
	ApplicationType string
	// RequireSignedRequestObject refuses any authorization request of the
	// client that is not a signed request object (RFC 9101).
	RequireSignedRequestObject bool
	// RequestObjectSigningAlg is the one algorithm the client's request
	// objects must be signed with; empty means any gosid verifies.
	RequestObjectSigningAlg string
	// AllowedCORSOrigins are web origins (scheme://host[:port]) besides
	// those of RedirectURIs from which a browser-based client calls the
	// token, userinfo, revocation and PAR endpoints (see CORSOrigins).
	AllowedCORSOrigins []string
	// DPoPBoundAccessTokens makes DPoP (RFC 9449) mandatory: the token
	// endpoint refuses a request of the client without a DPoP proof, so
	// every token it holds is bound to its key (dpop_bound_access_tokens).
	DPoPBoundAccessTokens bool
	// UserinfoSignedResponseAlg, when set (RS256 or ES256), makes userinfo
	// answer the client with a signed JWT instead of JSON.
	UserinfoSignedResponseAlg string
	// FirstParty clients skip the consent page.
	FirstParty bool
	// MinLevel is the lowest account trust level the client accepts
	// (simplified, standard, confirmed); empty means any.
	MinLevel string
	// RequireMFA makes a second factor mandatory for this client's sign-ins.
	RequireMFA bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Store is the persistence port for clients. Get returns storage.ErrNotFound
// for an unknown id; Create returns storage.ErrConflict for a duplicate id.
type Store interface {
	CreateClient(ctx context.Context, c *Client) error
	GetClient(ctx context.Context, id string) (*Client, error)
	ListClients(ctx context.Context) ([]*Client, error)
	UpdateClient(ctx context.Context, c *Client) error
	DeleteClient(ctx context.Context, id string) error
}

// LoopbackAnyPort reports whether the client's loopback redirect URIs match
// on any port: only a public native app's (RFC 8252 §7.3), which listens on
// whatever port the operating system gave it. Anyone else's redirect URIs
// match exactly.
func (c *Client) LoopbackAnyPort() bool {
	return c.Public && c.ApplicationType == AppNative && c.TokenEndpointAuthMethod == AuthNone
}

// CORSOrigins are the web origins the client's browser code runs on: those
// of its https and http redirect URIs and its AllowedCORSOrigins, without
// duplicates. A private-use-scheme redirect (a native app) has no web
// origin.
func (c *Client) CORSOrigins() []string {
	var out []string
	add := func(o string) {
		if o != "" && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	for _, r := range c.RedirectURIs {
		add(OriginOf(r))
	}
	for _, o := range c.AllowedCORSOrigins {
		add(o)
	}
	return out
}

// OriginOf returns the web origin (RFC 6454 serialisation, lower-case
// scheme and host, default port dropped) of an http or https URL, or "".
func OriginOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		return u.Scheme + "://" + host
	}
	return u.Scheme + "://" + host + ":" + port
}
