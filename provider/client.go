package provider

import (
	"crypto/ecdsa"
	"encoding/json"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/gosid/gosid/clients"
)

// fositeClient adapts a registered client to the interfaces fosite reads.
type fositeClient struct {
	c *clients.Client
	// audience is what access tokens for this client may be issued to:
	// gosid itself (userinfo) plus the client's registered audience.
	audience fosite.Arguments
	jwks     *jose.JSONWebKeySet
}

func newFositeClient(c *clients.Client, issuer string) *fositeClient {
	fc := &fositeClient{c: c, audience: append(fosite.Arguments{issuer}, c.Audience...)}
	if len(c.JWKS) > 0 {
		var set jose.JSONWebKeySet
		if json.Unmarshal(c.JWKS, &set) == nil {
			fc.jwks = &set
		}
	}
	return fc
}

func (f *fositeClient) GetID() string                            { return f.c.ID }
func (f *fositeClient) GetHashedSecret() []byte                  { return f.c.SecretHash }
func (f *fositeClient) GetRedirectURIs() []string                { return f.c.RedirectURIs }
func (f *fositeClient) GetGrantTypes() fosite.Arguments          { return f.c.GrantTypes }
func (f *fositeClient) GetResponseTypes() fosite.Arguments       { return f.c.ResponseTypes }
func (f *fositeClient) GetScopes() fosite.Arguments              { return f.c.Scopes }
func (f *fositeClient) IsPublic() bool                           { return f.c.Public }
func (f *fositeClient) GetAudience() fosite.Arguments            { return f.audience }
func (f *fositeClient) GetRequestURIs() []string                 { return nil }
func (f *fositeClient) GetJSONWebKeys() *jose.JSONWebKeySet      { return f.jwks }
func (f *fositeClient) GetJSONWebKeysURI() string                { return f.c.JWKSURI }
func (f *fositeClient) GetRequestObjectSigningAlgorithm() string { return "" }

// responseModes are the response modes every client may ask for
// explicitly (discovery's response_modes_supported). The code flow does
// not use fragment, so no client may.
var responseModes = []fosite.ResponseModeType{fosite.ResponseModeQuery, fosite.ResponseModeFormPost}

// GetResponseModes implements fosite.ResponseModeClient.
func (f *fositeClient) GetResponseModes() []fosite.ResponseModeType { return responseModes }

func (f *fositeClient) GetTokenEndpointAuthMethod() string {
	if f.c.TokenEndpointAuthMethod == "" {
		return clients.AuthSecretBasic
	}
	return f.c.TokenEndpointAuthMethod
}

// GetTokenEndpointAuthSigningAlgorithm is the algorithm fosite demands of a
// private_key_jwt assertion: the registered signing key's alg, else the one
// matching its key type; RS256 when nothing is registered inline.
func (f *fositeClient) GetTokenEndpointAuthSigningAlgorithm() string {
	if f.jwks == nil {
		return "RS256"
	}
	for _, k := range f.jwks.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if k.Algorithm != "" {
			return k.Algorithm
		}
		if _, ok := k.Key.(*ecdsa.PublicKey); ok {
			return "ES256"
		}
		return "RS256"
	}
	return "RS256"
}
