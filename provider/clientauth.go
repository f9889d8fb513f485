package provider

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/ory/fosite"

	"github.com/gosid/gosid/storage"
)

// realm names gosid in the WWW-Authenticate challenges it sends.
const realm = "gosid"

// errClientAuth is the one answer to a client that failed to authenticate,
// whatever the reason (unknown client_id, wrong secret, bad or replayed
// assertion, wrong method): a different answer for an unknown client would
// tell a stranger which client ids exist. The reason goes to the log.
var errClientAuth = &fosite.RFC6749Error{
	ErrorField:       fosite.ErrInvalidClient.ErrorField,
	DescriptionField: "Client authentication failed.",
	CodeField:        http.StatusUnauthorized,
}

// fositeConfig is fosite's configuration plus what its fields cannot say.
type fositeConfig struct {
	*fosite.Config
	assertionAudiences []string
}

// GetTokenURLs lists the audiences a client assertion (private_key_jwt,
// RFC 7523) may name: the issuer, which RFC 9126 §2 says the PAR endpoint
// must accept and which current clients send everywhere, the token
// endpoint and the PAR endpoint. fosite accepts only the token endpoint
// (Config.TokenURL) and uses this list at every endpoint that
// authenticates clients.
func (c *fositeConfig) GetTokenURLs(context.Context) []string { return c.assertionAudiences }

// clientAuthenticator authenticates clients with fosite's strategy (secret,
// Basic or in the body, or private_key_jwt) and makes its failures
// indistinguishable (errClientAuth).
type clientAuthenticator struct {
	oauth  *fosite.Fosite
	hasher fosite.Hasher
	// decoy is a hash no secret matches: an unknown client's secret is
	// compared against it, so that an unknown client costs the same work
	// as a wrong secret.
	decoy []byte
}

func newClientAuthenticator(ctx context.Context, hasher fosite.Hasher) (*clientAuthenticator, error) {
	decoy, err := hasher.Hash(ctx, []byte("gosid: no client has this secret"))
	if err != nil {
		return nil, err
	}
	return &clientAuthenticator{hasher: hasher, decoy: decoy}, nil
}

// authenticate is fosite's ClientAuthenticationStrategy.
func (a *clientAuthenticator) authenticate(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	c, err := a.oauth.DefaultClientAuthenticationStrategy(ctx, r, form)
	if err == nil {
		return c, nil
	}
	if errors.Is(err, storage.ErrUnavailable) {
		return nil, fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	if rfc := fosite.ErrorToRFC6749Error(err); rfc.CodeField >= http.StatusInternalServerError {
		return nil, err
	}
	if errors.Is(err, fosite.ErrNotFound) {
		_ = a.hasher.Compare(ctx, a.decoy, []byte(presentedSecret(r, form)))
	}
	return nil, errClientAuth.WithWrap(err)
}

// authenticateBasicOrAny is authenticate for endpoints that have always
// taken HTTP Basic from any client with a secret, whichever secret method
// it registered for the token endpoint: resource servers call
// introspection with Basic. Other credentials go through authenticate.
func (a *clientAuthenticator) authenticateBasicOrAny(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return a.authenticate(ctx, r, form)
	}
	id, err1 := url.QueryUnescape(id)
	secret, err2 := url.QueryUnescape(secret)
	if err := errors.Join(err1, err2); err != nil {
		return nil, errClientAuth.WithWrap(err)
	}
	c, err := a.oauth.Store.GetClient(ctx, id)
	switch {
	case errors.Is(err, storage.ErrUnavailable):
		return nil, fosite.ErrTemporarilyUnavailable.WithWrap(err)
	case err != nil && !errors.Is(err, fosite.ErrNotFound):
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	hasSecret := err == nil && !c.IsPublic() && len(c.GetHashedSecret()) > 0
	hash := a.decoy
	if hasSecret {
		hash = c.GetHashedSecret()
	}
	cerr := a.hasher.Compare(ctx, hash, []byte(secret))
	switch {
	case err != nil:
		return nil, errClientAuth.WithWrap(err)
	case !hasSecret:
		return nil, errClientAuth.WithWrap(errors.New("the client has no secret"))
	case cerr != nil:
		return nil, errClientAuth.WithWrap(cerr)
	}
	return c, nil
}

// presentedSecret is the client secret a request carries, Basic or in the
// body, or "".
func presentedSecret(r *http.Request, form url.Values) string {
	if _, secret, ok := r.BasicAuth(); ok {
		if s, err := url.QueryUnescape(secret); err == nil {
			return s
		}
		return secret
	}
	return form.Get("client_secret")
}

// challenge adds the WWW-Authenticate header RFC 6749 §5.2 requires when a
// client that used HTTP Basic failed to authenticate.
func challenge(w http.ResponseWriter, r *http.Request, err error) {
	if _, _, basic := r.BasicAuth(); basic && errors.Is(err, fosite.ErrInvalidClient) {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
	}
}
