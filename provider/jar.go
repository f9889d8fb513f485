package provider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	josev3 "github.com/go-jose/go-jose/v3"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
)

// Request objects (JAR, RFC 9101): the whole authorization request as a
// JWT, in the request parameter at the authorization endpoint or in the
// body of a pushed request. gosid verifies them itself rather than through
// fosite, which reads a request object only when the URL repeats
// scope=openid (RFC 9101 sends client_id and request alone), merges it
// with the URL's parameters, and turns non-string values into Go syntax.

// maxRequestObject bounds a request object (bytes).
const maxRequestObject = 32 << 10

// requestObjectAlgs are the algorithms gosid verifies request objects
// with, the same it accepts for client assertions.
var requestObjectAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256}

// jwtOnlyClaims describe the JWT itself, not the authorization request.
var jwtOnlyClaims = []string{"iss", "aud", "exp", "iat", "nbf", "jti"}

// clientAuthParams authenticate the client at PAR; they travel beside a
// request object, never inside it.
var clientAuthParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// clockLeeway absorbs a client clock running a little ahead (nbf).
const clockLeeway = time.Minute

func errRequestObject(format string, args ...any) *fosite.RFC6749Error {
	return fosite.ErrInvalidRequestObject.WithHintf(format, args...)
}

// expandRequestObject replaces r.Form with the parameters of the request
// object it carries, if any (RFC 9101 §6.3: only the request object's
// parameters are used), keeping client_id and, for a pushed request, the
// client's authentication. It reports whether there was a request object.
func (p *Provider) expandRequestObject(ctx context.Context, r *http.Request, c *fositeClient, pushed bool) (bool, error) {
	raw := r.Form.Get("request")
	if raw == "" {
		return false, nil
	}
	if r.Form.Get("request_uri") != "" {
		return true, fosite.ErrInvalidRequest.WithHint("The request and request_uri parameters cannot be used together.")
	}
	if c == nil {
		return true, fosite.ErrInvalidClient.WithHint("The requested OAuth 2.0 Client does not exist.")
	}
	params, err := p.readRequestObject(ctx, c, raw)
	if err != nil {
		return true, err
	}
	params.Set("client_id", c.GetID())
	if pushed {
		for _, k := range clientAuthParams {
			if v, ok := r.Form[k]; ok {
				params[k] = v
			}
		}
	}
	r.Form = params
	return true, nil
}

// readRequestObject verifies a request object of client c and returns the
// authorization parameters it holds.
func (p *Provider) readRequestObject(ctx context.Context, c *fositeClient, raw string) (url.Values, error) {
	if len(raw) > maxRequestObject {
		return nil, errRequestObject("The request object is larger than %d bytes.", maxRequestObject)
	}
	switch strings.Count(raw, ".") {
	case 2:
	case 4:
		return nil, errRequestObject("Encrypted request objects are not supported.")
	default:
		return nil, errRequestObject("The request object is not a JWT.")
	}
	var payload []byte
	var err error
	if alg := headerAlg(raw); alg == "none" {
		payload, err = plaintextPayload(c, raw)
	} else {
		payload, err = p.verifyRequestObject(ctx, c, raw, alg)
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, errRequestObject("The request object's claims are not a JSON object.")
	}
	if err := checkRequestObjectClaims(claims, c.GetID(), p.o.Issuer, time.Now()); err != nil {
		return nil, err
	}
	return requestParams(claims), nil
}

// plaintextPayload reads an unsigned (alg none) request object, which RFC
// 9101 allows unless the client registered that it signs them.
func plaintextPayload(c *fositeClient, raw string) ([]byte, error) {
	if c.c.RequireSignedRequestObject || c.c.RequestObjectSigningAlg != "" {
		return nil, errRequestObject("The client registered that its request objects are signed; this one is not.")
	}
	parts := strings.Split(raw, ".")
	if parts[2] != "" {
		return nil, errRequestObject("An unsigned request object must have an empty signature.")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errRequestObject("The request object is not a JWT.")
	}
	return payload, nil
}

// verifyRequestObject checks the signature against the client's registered
// keys (inline or at its jwks_uri, fetched again once when no key fits, as
// after a rotation) and returns the payload.
func (p *Provider) verifyRequestObject(ctx context.Context, c *fositeClient, raw, alg string) ([]byte, error) {
	if want := c.c.RequestObjectSigningAlg; want != "" && alg != want {
		return nil, errRequestObject("The request object is signed with %s; the client registered %s.", alg, want)
	}
	jws, err := jose.ParseSignedCompact(raw, requestObjectAlgs)
	if err != nil {
		return nil, errRequestObject("The request object is not a JWS signed with RS256, ES256 or PS256.")
	}
	kid := jws.Signatures[0].Header.KeyID
	for _, refresh := range []bool{false, true} {
		if refresh && c.c.JWKSURI == "" {
			break
		}
		set, err := p.clientKeys(ctx, c, refresh)
		if err != nil {
			return nil, err
		}
		if payload, ok := verifyWithAny(jws, set, kid); ok {
			return payload, nil
		}
	}
	return nil, errRequestObject("The request object's signature does not verify with the client's keys.")
}

// clientKeys returns the client's public keys.
func (p *Provider) clientKeys(ctx context.Context, c *fositeClient, refresh bool) (*josev3.JSONWebKeySet, error) {
	if c.jwks != nil {
		return c.jwks, nil
	}
	if c.c.JWKSURI == "" {
		return nil, errRequestObject("The client has no keys registered to verify its request objects with.")
	}
	set, err := p.jwksFetcher.Resolve(ctx, c.c.JWKSURI, refresh)
	if err != nil {
		return nil, errRequestObject("The client's keys could not be fetched.").WithWrap(err)
	}
	return set, nil
}

func verifyWithAny(jws *jose.JSONWebSignature, set *josev3.JSONWebKeySet, kid string) ([]byte, bool) {
	for _, k := range set.Keys {
		if (kid != "" && k.KeyID != kid) || (k.Use != "" && k.Use != "sig") || !k.IsPublic() {
			continue
		}
		if payload, err := jws.Verify(k.Key); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// checkRequestObjectClaims applies RFC 9101 §4 and §6.3: the object is the
// client's (iss, client_id) and meant for gosid (aud), it is valid now (exp,
// nbf), and it does not point at yet another request object.
func checkRequestObjectClaims(claims map[string]any, clientID, issuer string, now time.Time) error {
	if v, ok := claims["iss"]; ok && v != clientID {
		return errRequestObject("The request object's iss must be the client_id.")
	}
	if v, ok := claims["client_id"]; ok && v != clientID {
		return errRequestObject("The request object's client_id does not match the request's.")
	}
	if v, ok := claims["aud"]; ok && !audienceNames(v, issuer) {
		return errRequestObject("The request object's aud must name the issuer %s.", issuer)
	}
	if v, ok := claims["exp"]; ok {
		if exp, ok := numericDate(v); !ok || !now.Before(exp) {
			return errRequestObject("The request object has expired.")
		}
	}
	if v, ok := claims["nbf"]; ok {
		if nbf, ok := numericDate(v); !ok || now.Add(clockLeeway).Before(nbf) {
			return errRequestObject("The request object is not valid yet.")
		}
	}
	for _, k := range []string{"request", "request_uri"} {
		if _, ok := claims[k]; ok {
			return errRequestObject("A request object must not contain %s.", k)
		}
	}
	return nil
}

func audienceNames(aud any, issuer string) bool {
	switch a := aud.(type) {
	case string:
		return a == issuer
	case []any:
		return slices.Contains(a, any(issuer))
	}
	return false
}

func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// requestParams turns the claims of a request object into authorization
// parameters: strings as they are, numbers and booleans in JSON notation,
// objects (claims) and arrays as JSON text.
func requestParams(claims map[string]any) url.Values {
	params := url.Values{}
	for k, v := range claims {
		if slices.Contains(jwtOnlyClaims, k) {
			continue
		}
		switch v := v.(type) {
		case nil:
		case string:
			params.Set(k, v)
		case json.Number:
			params.Set(k, v.String())
		case bool:
			params.Set(k, strconv.FormatBool(v))
		default:
			raw, err := json.Marshal(v)
			if err == nil {
				params.Set(k, string(raw))
			}
		}
	}
	return params
}
