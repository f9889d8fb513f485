// Package provider is gosid's OAuth 2.0 / OpenID Connect core on ory/fosite:
// authorize, token, userinfo, introspection, revocation, PAR, discovery and
// JWKS. It decides nothing about how a citizen signs in or consents: the
// Interaction (package login), given when the endpoints are mounted, does,
// and the provider resumes the authorization once it has.
package provider

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/claimsreq"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/grants"
	"github.com/gosid/gosid/storage"
)

// KeySet is what the provider needs from package keys.
type KeySet interface {
	// FositeSigner signs with the active key of alg and verifies against
	// every published key.
	FositeSigner(alg string) jwt.Signer
	// JWKS is the published key set, precomputed.
	JWKS() []byte
	JWKSETag() string
}

// AuthorizeContext describes an authorization request to the sign-in UI.
type AuthorizeContext struct {
	Request fosite.AuthorizeRequester
	Client  *clients.Client
	// Form holds the resolved request parameters (after PAR expansion); the
	// UI keeps them to resume the request with Provider.Resume.
	Form url.Values
	// Claims is the claims request parameter, nil when there is none.
	Claims *claimsreq.Request
}

// Decision is the outcome of sign-in and consent for one request.
type Decision struct {
	Subject   string
	SessionID string
	AuthTime  time.Time
	// RequestedAt is when the authorization request first arrived; id_token
	// checks of prompt=login and max_age compare AuthTime against it.
	RequestedAt   time.Time
	ACR           string
	AMR           []string
	GrantedScopes []string
	// GrantedClaims are the claim items (claimsreq) the citizen agreed to
	// beyond the scopes; a claim the claims parameter asks for is released
	// only when the scopes or these cover it.
	GrantedClaims []string
}

// Interaction is the sign-in and consent UI. Authorize either returns a
// decision, or writes the response itself (a redirect to a page) and returns
// (nil, nil), or returns an error to be sent to the client (e.g.
// fosite.ErrLoginRequired for prompt=none).
type Interaction interface {
	Authorize(w http.ResponseWriter, r *http.Request, ac *AuthorizeContext) (*Decision, error)
}

// ClaimsFunc returns the claims about subject that the granted scopes allow.
// Only verified values may be returned as verified.
type ClaimsFunc func(ctx context.Context, subject string, scopes []string) (map[string]any, error)

// ErrorPageFunc renders an error the citizen sees in the browser when the
// client cannot be told (unknown client, wrong redirect_uri).
type ErrorPageFunc func(w http.ResponseWriter, r *http.Request, err *fosite.RFC6749Error)

// Options configure the provider.
type Options struct {
	Issuer    string
	Clients   clients.Store
	Ephemeral storage.Ephemeral
	Grants    grants.Store
	// Holds keeps revocations durably, so that a short-lived store that
	// loses its data brings no revoked token back (see DenyList).
	Holds storage.Holds
	// Tx, when set, runs the database writes of one token refresh (and of
	// the revocation of a reused refresh token) in one transaction.
	Tx           TxRunner
	Keys         KeySet
	SecretHasher fosite.Hasher
	// GlobalSecret (32 bytes) keys the HMAC of authorization codes and refresh tokens.
	GlobalSecret    []byte
	Claims          ClaimsFunc
	ErrorPage       ErrorPageFunc
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	IDTokenTTL      time.Duration
	AuthCodeTTL     time.Duration
	RefreshGrace    time.Duration
	Fetch           FetchOptions
	// OnTokenIssued is called once per successful token response.
	OnTokenIssued func(grantType string)
	// Audit records, in the citizen's activity log, each exchange of an
	// authorization code: tokens for a citizen went to a service.
	Audit  audit.Store
	Dev    bool
	Logger *slog.Logger
}

// Provider serves the OAuth 2.0 and OpenID Connect endpoints.
type Provider struct {
	o         Options
	oauth     fosite.OAuth2Provider
	store     *fositeStore
	deny      *DenyList
	atSigner  jwt.Signer
	idSigner  jwt.Signer
	discovery []byte
	// jwksFetcher fetches clients' keys from their jwks_uri (cached).
	jwksFetcher fosite.JWKSFetcherStrategy
	clientAuth  *clientAuthenticator
	dpop        *dpopChecker
	// signers sign userinfo and introspection responses, by algorithm.
	signers map[string]jwt.Signer
	// origins are the web origins of all clients, for CORS preflights.
	origins *originIndex
	log     *slog.Logger
	// interaction is the sign-in UI, given when the endpoints are mounted:
	// it uses the provider to resume requests, so it is built after it.
	interaction Interaction
}

// Endpoint paths.
const (
	PathAuthorize  = "/oauth2/authorize"
	PathToken      = "/oauth2/token"
	PathUserinfo   = "/oauth2/userinfo"
	PathIntrospect = "/oauth2/introspect"
	PathRevoke     = "/oauth2/revoke"
	PathPAR        = "/oauth2/par"
	PathJWKS       = "/.well-known/jwks.json"
	PathDiscovery  = "/.well-known/openid-configuration"
	// PathASMetadata is the RFC 8414 authorization server metadata.
	PathASMetadata = "/.well-known/oauth-authorization-server"
	PathEndSession = "/oauth2/logout"
)

// parRequestURIPrefix starts every request_uri the PAR endpoint issues.
const parRequestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// New composes fosite with gosid's storage, keys and strategies.
func New(o Options) (*Provider, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	deny := NewDenyList(o.Ephemeral, o.Holds, o.AccessTokenTTL)
	st := &fositeStore{
		clients: o.Clients, eph: o.Ephemeral, grants: o.Grants, deny: deny, tx: o.Tx, issuer: o.Issuer,
		codeTTL: o.AuthCodeTTL, parTTL: 90 * time.Second, rtTTL: o.RefreshTokenTTL, grace: o.RefreshGrace,
		now: time.Now,
	}
	cfg := &fosite.Config{
		AccessTokenLifespan:             o.AccessTokenTTL,
		RefreshTokenLifespan:            o.RefreshTokenTTL,
		AuthorizeCodeLifespan:           o.AuthCodeTTL,
		IDTokenLifespan:                 o.IDTokenTTL,
		IDTokenIssuer:                   o.Issuer,
		AccessTokenIssuer:               o.Issuer,
		TokenURL:                        o.Issuer + PathToken,
		ScopeStrategy:                   fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:        fosite.ExactAudienceMatchingStrategy,
		EnforcePKCEForPublicClients:     true,
		EnablePKCEPlainChallengeMethod:  false,
		MinParameterEntropy:             fosite.MinParameterEntropy,
		JWTScopeClaimKey:                jwt.JWTScopeFieldString,
		ClientSecretsHasher:             o.SecretHasher,
		GlobalSecret:                    o.GlobalSecret,
		SendDebugMessagesToClients:      o.Dev,
		PushedAuthorizeRequestURIPrefix: parRequestURIPrefix,
		PushedAuthorizeContextLifespan:  st.parTTL,
		HTTPClient:                      NewFetchClient(o.Fetch),
		RefreshTokenScopes:              []string{"offline_access"},
		AllowedPromptValues:             supportedPrompts,
	}
	cfg.JWKSFetcherStrategy = fosite.NewDefaultJWKSFetcherStrategy(fosite.JWKSFetcherWithHTTPClient(cfg.HTTPClient))
	auth, err := newClientAuthenticator(context.Background(), o.SecretHasher)
	if err != nil {
		return nil, fmt.Errorf("provider: client authentication: %w", err)
	}
	cfg.ClientAuthenticationStrategy = auth.authenticate

	hmacStrategy := compose.NewOAuth2HMACStrategy(cfg)
	atSigner := o.Keys.FositeSigner("ES256")
	idSigner := &anyAlgSigner{
		byAlg: map[string]jwt.Signer{"RS256": o.Keys.FositeSigner("RS256"), "ES256": atSigner},
		def:   o.Keys.FositeSigner("RS256"),
	}
	core, cerr := newSuccessorStrategy(&oauth2.DefaultJWTStrategy{Signer: atSigner, HMACSHAStrategy: hmacStrategy, Config: cfg}, o.GlobalSecret)
	if cerr != nil {
		return nil, cerr
	}
	strategy := &compose.CommonStrategy{
		CoreStrategy: core,
		OpenIDConnectTokenStrategy: &idTokenStrategy{
			byAlg: map[string]openid.OpenIDConnectTokenStrategy{
				"RS256": &openid.DefaultStrategy{Signer: o.Keys.FositeSigner("RS256"), Config: cfg},
				"ES256": &openid.DefaultStrategy{Signer: o.Keys.FositeSigner("ES256"), Config: cfg},
			},
			clients: o.Clients,
		},
		Signer: idSigner,
	}
	p := &Provider{signers: map[string]jwt.Signer{"RS256": o.Keys.FositeSigner("RS256"), "ES256": atSigner}, o: o, store: st, deny: deny, atSigner: atSigner, idSigner: idSigner, log: o.Logger,
		jwksFetcher: cfg.JWKSFetcherStrategy, clientAuth: auth, dpop: newDPoPChecker(o.Ephemeral, o.GlobalSecret, true),
		origins: &originIndex{store: o.Clients, now: time.Now}}
	p.oauth = compose.Compose(cfg, st, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2PKCEFactory,
		claimsParamFactory, // before the request is stored
		compose.PushedAuthorizeHandlerFactory,
		func(fosite.Configurator, interface{}, interface{}) interface{} {
			return &jwtIntrospector{signer: atSigner, deny: deny, issuer: o.Issuer}
		},
		func(c fosite.Configurator, st interface{}, strat interface{}) interface{} {
			return &refreshIntrospector{core: compose.OAuth2TokenIntrospectionFactory(c, st, strat).(*oauth2.CoreValidator)}
		},
		func(fosite.Configurator, interface{}, interface{}) interface{} {
			return &revoker{store: st, signer: atSigner, hmac: hmacStrategy, deny: deny}
		},
	)
	for i, h := range cfg.TokenEndpointHandlers {
		cfg.TokenEndpointHandlers[i] = guardedTokenHandler{h}
	}
	f := p.oauth.(*fosite.Fosite)
	f.Config = &fositeConfig{Config: cfg, assertionAudiences: []string{o.Issuer, o.Issuer + PathToken, o.Issuer + PathPAR}}
	auth.oauth = f
	if p.discovery, err = p.buildDiscovery(); err != nil {
		return nil, err
	}
	return p, nil
}

// guardedTokenHandler answers "not mine" without fosite's stack-capturing
// error for grants the handler does not serve: fosite asks every handler on
// every token request, and capturing a stack trace each time cost 5-15% of
// the token endpoint's CPU (bench/README.md).
type guardedTokenHandler struct{ fosite.TokenEndpointHandler }

func (g guardedTokenHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !g.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	return g.TokenEndpointHandler.HandleTokenEndpointRequest(ctx, r)
}

func (g guardedTokenHandler) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !g.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	return g.TokenEndpointHandler.PopulateTokenEndpointResponse(ctx, r, resp)
}

// Deny exposes the deny-list to packages that revoke grants.
func (p *Provider) Deny() *DenyList { return p.deny }

// ClientsWithGrants lists the clients holding a live refresh token of the
// subject.
func (p *Provider) ClientsWithGrants(ctx context.Context, subject string) ([]string, error) {
	return p.o.Grants.SubjectClients(ctx, subject, time.Now())
}

// RevokeSubject revokes every grant of subject (for one client when clientID
// is not empty): refresh tokens stop working at once and access tokens are
// deny-listed. Used on password change, recovery and "revoke this service".
func (p *Provider) RevokeSubject(ctx context.Context, subject, clientID string) error {
	ids, err := p.o.Grants.RevokeSubjectGrants(ctx, subject, clientID, time.Now().UTC())
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := p.deny.DenyGrant(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
