package provider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"
)

// Reading an authorization request, at the authorization endpoint or
// pushed (PAR): fosite's checks, and around them what fosite cannot be
// configured to check. Each function returns the request read so far with
// its error: when its redirect URI is valid, the error goes there.

// supportedPrompts are the prompt values gosid honours; discovery lists
// the same. There is no account chooser, so select_account is refused
// rather than silently ignored.
var supportedPrompts = []string{"none", "login", "consent"}

// newAuthorizeRequest reads a request at the authorization endpoint.
func (p *Provider) newAuthorizeRequest(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, error) {
	if err := parseParams(r); err != nil {
		return p.errorTarget(ctx, r.Form), err
	}
	if pushedRequestURI(r.Form.Get("request_uri")) {
		// Checked when it was pushed; fosite resumes it from storage. Only
		// the pushed parameters count (RFC 9126 §4, RFC 9101 §5): fosite
		// would keep any the URL adds.
		r.Form = url.Values{"client_id": r.Form["client_id"], "request_uri": r.Form["request_uri"]}
		return p.fositeAuthorizeRequest(ctx, r)
	}
	c, err := p.requestClient(ctx, r.Form.Get("client_id"))
	if err != nil {
		return p.errorTarget(ctx, r.Form), err
	}
	original := r.Form
	found, err := p.expandRequestObject(ctx, r, c, false)
	if err != nil {
		return p.errorTarget(ctx, original), err
	}
	// A resumed request (after sign-in and consent) is gosid's own record
	// of one already checked, request object and all.
	resumed := FlowID(ctx) != ""
	if err := p.precheck(c, r.Form, found || resumed); err != nil {
		return p.errorTarget(ctx, r.Form), err
	}
	return p.fositeAuthorizeRequest(ctx, r)
}

// newPushedRequest reads a pushed authorization request (RFC 9126): the
// client authenticates, then the request is checked as at the
// authorization endpoint. It stands in for fosite's
// NewPushedAuthorizeRequest, which cannot read a request object before
// its checks and takes the request's client from client_id rather than
// from the authentication.
func (p *Provider) newPushedRequest(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, error) {
	ar := fosite.NewAuthorizeRequest()
	if err := parseParams(r); err != nil {
		return ar, err
	}
	client, err := p.clientAuth.authenticate(ctx, r, r.Form)
	if err != nil {
		return ar, err
	}
	ar.Client = client
	if id := r.Form.Get("client_id"); id != "" && id != client.GetID() {
		return ar, fosite.ErrInvalidRequest.WithHint("The client_id is not the authenticated client's.")
	}
	if r.Form.Get("request_uri") != "" {
		return ar, fosite.ErrInvalidRequest.WithHint("A pushed request must not contain request_uri.")
	}
	r.Form.Set("client_id", client.GetID())
	fc, _ := client.(*fositeClient)
	found, err := p.expandRequestObject(ctx, r, fc, true)
	if err != nil {
		return ar, err
	}
	if err := p.precheck(fc, r.Form, found); err != nil {
		return ar, err
	}
	fr, err := p.fositeAuthorizeRequest(ctx, r)
	if err == nil && fr.GetRequestedScopes().Has("openid") && r.Form.Get("redirect_uri") == "" {
		err = fosite.ErrInvalidRequest.WithHint("The redirect_uri parameter is required for OpenID Connect.")
	}
	return fr, err
}

// fositeAuthorizeRequest runs fosite's checks, with gosid's rule for state
// in place of fosite's and PKCE checked before the citizen is asked
// anything.
func (p *Provider) fositeAuthorizeRequest(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, error) {
	ar, err := p.oauth.NewAuthorizeRequest(ctx, r)
	if errors.Is(err, fosite.ErrInvalidState) {
		// fosite's last check: the request is otherwise valid.
		err = stateRule(ar)
	}
	if err == nil {
		err = checkPKCE(ar)
	}
	return ar, err
}

// stateRule stands in for fosite's, which refuses a state under 8
// characters, an absent one included, with invalid_state (not a
// registered error code). With PKCE the state is the client's own
// business: RFC 9700 §2.1 lets a client rely on PKCE against CSRF.
// Without PKCE an unguessable state is the client's protection, so it is
// still required.
func stateRule(ar fosite.AuthorizeRequester) error {
	if ar.GetRequestForm().Get("code_challenge") != "" {
		return nil
	}
	return fosite.ErrInvalidRequest.WithHintf("Without PKCE the request needs a state of at least %d characters.", fosite.MinParameterEntropy)
}

// checkPKCE refuses, before the citizen is asked to sign in, what fosite
// would refuse only when issuing the code: a public client without an S256
// challenge, or any "plain" challenge (RFC 9700 §2.1.1).
func checkPKCE(ar fosite.AuthorizeRequester) error {
	form := ar.GetRequestForm()
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "" && ar.GetClient().IsPublic():
		return fosite.ErrInvalidRequest.WithHint("Clients must include a code_challenge when performing the authorize code flow, but it is missing.")
	case challenge != "" && method != "S256":
		return fosite.ErrInvalidRequest.WithHint("The code_challenge_method must be S256.")
	case challenge != "" && (len(challenge) < 43 || len(challenge) > 128):
		return fosite.ErrInvalidRequest.WithHint("The code_challenge must be 43 to 128 characters.")
	}
	return nil
}

// precheck applies, before fosite's checks, the rules fosite has no
// setting for. signedObject says the request came as a request object (or
// is gosid's record of one that did).
func (p *Provider) precheck(c *fositeClient, form url.Values, signedObject bool) error {
	if c == nil {
		return nil // fosite says the client does not exist
	}
	if uri := form.Get("request_uri"); uri != "" && !pushedRequestURI(uri) {
		return fosite.ErrRequestURINotSupported.WithHint("Only request_uri values from the pushed authorization request endpoint are supported.")
	}
	if form.Get("response_type") == "" {
		return fosite.ErrInvalidRequest.WithHint("The response_type parameter is missing.")
	}
	if c.c.RequireSignedRequestObject && !signedObject {
		return fosite.ErrInvalidRequest.WithHint("This client must send its authorization requests as signed request objects (RFC 9101).")
	}
	if redirectFor(c, form.Get("redirect_uri")) == nil {
		return fosite.ErrInvalidRequest.WithHint("The redirect_uri is not one the client registered.")
	}
	for _, v := range strings.Fields(form.Get("prompt")) {
		if !slices.Contains(supportedPrompts, v) {
			return fosite.ErrInvalidRequest.WithHintf("The prompt value '%s' is not supported.", v)
		}
	}
	return nil
}

// redirectFor returns the redirect URI raw names among c's registered
// ones, or nil: an exact match; with raw empty, the only URI the client
// registered; for a public native app also a registered loopback URI on
// another port (RFC 8252 §7.3: the app listens on whatever port it got).
// A web client's loopback URI is matched exactly, port included.
func redirectFor(c *fositeClient, raw string) *url.URL {
	registered := c.c.RedirectURIs
	switch {
	case raw == "" && len(registered) == 1:
		raw = registered[0]
	case raw == "":
		return nil
	case !slices.Contains(registered, raw):
		if !c.c.LoopbackAnyPort() {
			return nil
		}
		u, err := fosite.MatchRedirectURIWithClientRedirectURIs(raw, c)
		if err != nil {
			return nil
		}
		return u
	}
	u, err := url.Parse(raw)
	if err != nil || !fosite.IsValidRedirectURI(u) {
		return nil
	}
	return u
}

// requestClient returns the client a request names, nil when there is no
// such client (fosite then says so).
func (p *Provider) requestClient(ctx context.Context, id string) (*fositeClient, error) {
	c, err := p.store.GetClient(ctx, id)
	if errors.Is(err, fosite.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	fc, _ := c.(*fositeClient)
	return fc, nil
}

// errorTarget is where an error found before fosite's checks goes: the
// registered redirect URI the request names for the client it names, with
// its state and response mode. When the request names no client or no
// redirect URI of it (or names either twice) there is nowhere to send it,
// and the citizen sees the error page.
func (p *Provider) errorTarget(ctx context.Context, form url.Values) fosite.AuthorizeRequester {
	ar := fosite.NewAuthorizeRequest()
	ar.Form = form
	if len(form["client_id"]) != 1 || len(form["redirect_uri"]) > 1 {
		return ar
	}
	c, err := p.requestClient(ctx, form.Get("client_id"))
	if err != nil || c == nil {
		return ar
	}
	u := redirectFor(c, form.Get("redirect_uri"))
	if u == nil {
		return ar
	}
	ar.Client, ar.RedirectURI = c, u
	if len(form["state"]) == 1 {
		ar.State = form.Get("state")
	}
	if len(form["response_mode"]) == 1 && form.Get("response_mode") == string(fosite.ResponseModeFormPost) {
		ar.ResponseMode = fosite.ResponseModeFormPost
	}
	return ar
}

func pushedRequestURI(uri string) bool {
	return strings.HasPrefix(uri, parRequestURIPrefix)
}
