package clients

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// validClient is a confidential web client that passes Validate; each test
// case changes one thing.
func validClient() *Client {
	c := &Client{
		ID:           "portal",
		Name:         "Портал госуслуг региона",
		RedirectURIs: []string{"https://portal.example.ru/callback"},
	}
	ApplyDefaults(c)
	return c
}

func jwksJSON(t *testing.T, keys ...any) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k, KeyID: "k", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestApplyDefaults(t *testing.T) {
	c := &Client{}
	ApplyDefaults(c)
	want := &Client{
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		Scopes:                  []string{"openid", "profile", "email", "phone", "offline_access"},
		TokenEndpointAuthMethod: "client_secret_basic",
		IDTokenAlg:              "RS256",
	}
	if !clientsEqual(c, want) {
		t.Fatalf("defaults = %+v", c)
	}
	c.Scopes[0] = "changed"
	if DefaultScopes[0] != "openid" {
		t.Fatal("ApplyDefaults shares DefaultScopes")
	}

	pub := &Client{Public: true}
	ApplyDefaults(pub)
	if pub.TokenEndpointAuthMethod != AuthNone {
		t.Fatalf("public client method = %q", pub.TokenEndpointAuthMethod)
	}

	m2m := &Client{GrantTypes: []string{"client_credentials"}, Scopes: []string{"registry"}, IDTokenAlg: "ES256"}
	ApplyDefaults(m2m)
	if len(m2m.ResponseTypes) != 0 || !slices.Equal(m2m.Scopes, []string{"registry"}) || m2m.IDTokenAlg != "ES256" {
		t.Fatalf("machine client = %+v", m2m)
	}
}

func clientsEqual(a, b *Client) bool {
	return slices.Equal(a.GrantTypes, b.GrantTypes) && slices.Equal(a.ResponseTypes, b.ResponseTypes) &&
		slices.Equal(a.Scopes, b.Scopes) && a.TokenEndpointAuthMethod == b.TokenEndpointAuthMethod &&
		a.IDTokenAlg == b.IDTokenAlg
}

func TestValidate(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	weakRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	goodJWKS := jwksJSON(t, &ecKey.PublicKey)

	tests := []struct {
		name   string
		modify func(c *Client)
		field  string // "" when the client is valid
		reason string // a part of the reason, when it matters
	}{
		{"valid", func(c *Client) {}, "", ""},

		// client_id
		{"generated id", func(c *Client) { c.ID, _ = NewID() }, "", ""},
		{"uuid id", func(c *Client) { c.ID = "5f0c8a3e-9a8b-4a8e-8f0e-2b1c3d4e5f60" }, "", ""},
		{"empty id", func(c *Client) { c.ID = "" }, "", ""},
		{"id with space", func(c *Client) { c.ID = "my client" }, "client_id", ""},
		{"id with slash", func(c *Client) { c.ID = "a/b" }, "client_id", ""},
		{"id too long", func(c *Client) { c.ID = strings.Repeat("a", 129) }, "client_id", ""},

		// client_name
		{"name missing", func(c *Client) { c.Name = "" }, "client_name", "required"},
		{"name blank", func(c *Client) { c.Name = "   " }, "client_name", "required"},
		{"name 200 chars", func(c *Client) { c.Name = strings.Repeat("я", 200) }, "", ""},
		{"name 201 chars", func(c *Client) { c.Name = strings.Repeat("я", 201) }, "client_name", "200"},
		{"name control char", func(c *Client) { c.Name = "bad\nname" }, "client_name", "control"},
		{"name NUL", func(c *Client) { c.Name = "bad\x00" }, "client_name", "control"},
		{"name bad UTF-8", func(c *Client) { c.Name = "bad\xff" }, "client_name", "UTF-8"},

		// grant_types
		{"grants empty", func(c *Client) { c.GrantTypes = nil }, "grant_types", "required"},
		{"implicit", func(c *Client) { c.GrantTypes = append(c.GrantTypes, "implicit") }, "grant_types", "implicit grant is not supported"},
		{"password", func(c *Client) { c.GrantTypes = append(c.GrantTypes, "password") }, "grant_types", "password grant is not supported"},
		{"unknown grant", func(c *Client) { c.GrantTypes = append(c.GrantTypes, "urn:x") }, "grant_types", "unsupported"},
		{"grant twice", func(c *Client) { c.GrantTypes = append(c.GrantTypes, "refresh_token") }, "grant_types", "twice"},
		{"client credentials", func(c *Client) { c.GrantTypes = append(c.GrantTypes, "client_credentials") }, "", ""},
		{"machine client", func(c *Client) {
			c.GrantTypes, c.ResponseTypes, c.RedirectURIs = []string{"client_credentials"}, nil, nil
		}, "", ""},
		{"public client credentials", func(c *Client) {
			c.Public, c.TokenEndpointAuthMethod = true, AuthNone
			c.GrantTypes = append(c.GrantTypes, "client_credentials")
		}, "grant_types", "public client"},

		// response_types
		{"response token", func(c *Client) { c.ResponseTypes = []string{"token"} }, "response_types", "only code"},
		{"response id_token", func(c *Client) { c.ResponseTypes = []string{"code", "id_token"} }, "response_types", "only code"},
		{"response twice", func(c *Client) { c.ResponseTypes = []string{"code", "code"} }, "response_types", "twice"},
		{"response missing", func(c *Client) { c.ResponseTypes = nil }, "response_types", "must include code"},
		{"code without grant", func(c *Client) { c.GrantTypes = []string{"client_credentials"} }, "response_types", "requires"},

		// redirect_uris
		{"redirect missing", func(c *Client) { c.RedirectURIs = nil }, "redirect_uris", "required"},
		{"redirect empty string", func(c *Client) { c.RedirectURIs = []string{""} }, "redirect_uris", "empty"},
		{"redirect relative", func(c *Client) { c.RedirectURIs = []string{"/callback"} }, "redirect_uris", "absolute"},
		{"redirect fragment", func(c *Client) { c.RedirectURIs = []string{"https://a.example/cb#x"} }, "redirect_uris", "fragment"},
		{"redirect empty fragment", func(c *Client) { c.RedirectURIs = []string{"https://a.example/cb#"} }, "redirect_uris", "fragment"},
		{"redirect wildcard host", func(c *Client) { c.RedirectURIs = []string{"https://*.example.ru/cb"} }, "redirect_uris", "wildcard"},
		{"redirect wildcard path", func(c *Client) { c.RedirectURIs = []string{"https://a.example/*"} }, "redirect_uris", "wildcard"},
		{"redirect too long", func(c *Client) {
			c.RedirectURIs = []string{"https://a.example/" + strings.Repeat("a", 2000)}
		}, "redirect_uris", "2000"},
		{"redirect 2000 bytes", func(c *Client) {
			c.RedirectURIs = []string{"https://a.example/" + strings.Repeat("a", 2000-len("https://a.example/"))}
		}, "", ""},
		{"redirect http", func(c *Client) { c.RedirectURIs = []string{"http://portal.example.ru/cb"} }, "redirect_uris", "loopback"},
		{"redirect http 127.0.0.1", func(c *Client) { c.RedirectURIs = []string{"http://127.0.0.1:8080/cb"} }, "", ""},
		{"redirect http ::1", func(c *Client) { c.RedirectURIs = []string{"http://[::1]/cb"} }, "", ""},
		{"redirect http localhost", func(c *Client) { c.RedirectURIs = []string{"http://localhost:3000/cb"} }, "", ""},
		{"redirect http localhost suffix", func(c *Client) { c.RedirectURIs = []string{"http://localhost.evil.example/cb"} }, "redirect_uris", "loopback"},
		{"redirect http 127.0.0.2", func(c *Client) { c.RedirectURIs = []string{"http://127.0.0.2/cb"} }, "redirect_uris", "loopback"},
		{"redirect private-use scheme", func(c *Client) { c.RedirectURIs = []string{"com.example.app:/oauth2redirect"} }, "", ""},
		{"redirect private-use no path", func(c *Client) { c.RedirectURIs = []string{"com.example.app:"} }, "redirect_uris", "path"},
		{"redirect custom scheme without dot", func(c *Client) { c.RedirectURIs = []string{"myapp://cb"} }, "redirect_uris", "scheme"},
		{"redirect javascript", func(c *Client) { c.RedirectURIs = []string{"javascript:alert(1)"} }, "redirect_uris", "scheme"},
		{"redirect data", func(c *Client) { c.RedirectURIs = []string{"data:text/html,x"} }, "redirect_uris", "scheme"},
		{"redirect https no host", func(c *Client) { c.RedirectURIs = []string{"https:/cb"} }, "redirect_uris", "host"},
		{"redirect userinfo", func(c *Client) { c.RedirectURIs = []string{"https://user@a.example/cb"} }, "redirect_uris", "user"},
		{"redirect space", func(c *Client) { c.RedirectURIs = []string{"https://a.example/c b"} }, "redirect_uris", "ASCII"},
		{"redirect non-ASCII", func(c *Client) { c.RedirectURIs = []string{"https://портал.рф/cb"} }, "redirect_uris", "ASCII"},
		{"redirect bad escape", func(c *Client) { c.RedirectURIs = []string{"https://a.example/%zz"} }, "redirect_uris", "valid"},
		{"redirect second bad", func(c *Client) {
			c.RedirectURIs = append(c.RedirectURIs, "http://evil.example/cb")
		}, "redirect_uris", "loopback"},
		{"redirect with query", func(c *Client) { c.RedirectURIs = []string{"https://a.example/cb?x=1"} }, "", ""},

		// post_logout_redirect_uris
		{"post logout ok", func(c *Client) { c.PostLogoutRedirectURIs = []string{"https://a.example/bye"} }, "", ""},
		{"post logout http", func(c *Client) { c.PostLogoutRedirectURIs = []string{"http://a.example/bye"} }, "post_logout_redirect_uris", "loopback"},
		{"post logout fragment", func(c *Client) { c.PostLogoutRedirectURIs = []string{"https://a.example/bye#x"} }, "post_logout_redirect_uris", "fragment"},
		{"post logout wildcard", func(c *Client) { c.PostLogoutRedirectURIs = []string{"https://a.example/*"} }, "post_logout_redirect_uris", "wildcard"},

		// scope
		{"scopes empty", func(c *Client) { c.Scopes = nil }, "scope", "required"},
		{"scope with space", func(c *Client) { c.Scopes = []string{"openid profile"} }, "scope", "RFC 6749"},
		{"scope empty token", func(c *Client) { c.Scopes = []string{"openid", ""} }, "scope", "RFC 6749"},
		{"scope quote", func(c *Client) { c.Scopes = []string{`a"b`} }, "scope", "RFC 6749"},
		{"scope backslash", func(c *Client) { c.Scopes = []string{`a\b`} }, "scope", "RFC 6749"},
		{"scope non-ASCII", func(c *Client) { c.Scopes = []string{"профиль"} }, "scope", "RFC 6749"},
		{"scope punctuation", func(c *Client) { c.Scopes = []string{"openid", "urn:gosid:scope/docs.read!"} }, "", ""},
		{"scope twice", func(c *Client) { c.Scopes = []string{"openid", "openid"} }, "scope", "twice"},

		// token_endpoint_auth_method and Public
		{"method empty", func(c *Client) { c.TokenEndpointAuthMethod = "" }, "token_endpoint_auth_method", "required"},
		{"method unknown", func(c *Client) { c.TokenEndpointAuthMethod = "client_secret_jwt" }, "token_endpoint_auth_method", "unsupported"},
		{"method post", func(c *Client) { c.TokenEndpointAuthMethod = AuthSecretPost }, "", ""},
		{"public with none", func(c *Client) { c.Public, c.TokenEndpointAuthMethod = true, AuthNone }, "", ""},
		{"public with secret", func(c *Client) { c.Public = true }, "token_endpoint_auth_method", "public client must use none"},
		{"none not public", func(c *Client) { c.TokenEndpointAuthMethod = AuthNone }, "token_endpoint_auth_method", "only for public"},
		{"public with secret hash", func(c *Client) {
			c.Public, c.TokenEndpointAuthMethod, c.SecretHash = true, AuthNone, []byte("h1$x")
		}, "client_secret", ""},

		// private_key_jwt, jwks, jwks_uri
		{"pkjwt with jwks", func(c *Client) { c.TokenEndpointAuthMethod, c.JWKS = AuthPrivateKeyJWT, goodJWKS }, "", ""},
		{"pkjwt with rsa jwks", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKS = AuthPrivateKeyJWT, jwksJSON(t, &rsaKey.PublicKey)
		}, "", ""},
		{"pkjwt with jwks_uri", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKSURI = AuthPrivateKeyJWT, "https://svc.example.ru/jwks.json"
		}, "", ""},
		{"pkjwt with loopback jwks_uri", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKSURI = AuthPrivateKeyJWT, "http://127.0.0.1:9000/jwks"
		}, "", ""},
		{"pkjwt without keys", func(c *Client) { c.TokenEndpointAuthMethod = AuthPrivateKeyJWT }, "jwks", "needs"},
		{"pkjwt with both", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKS, c.JWKSURI = AuthPrivateKeyJWT, goodJWKS, "https://svc.example.ru/jwks"
		}, "jwks", "not both"},
		{"pkjwt with secret hash", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKS, c.SecretHash = AuthPrivateKeyJWT, goodJWKS, []byte("h1$x")
		}, "client_secret", ""},
		{"jwks not JSON", func(c *Client) { c.TokenEndpointAuthMethod, c.JWKS = AuthPrivateKeyJWT, []byte("{") }, "jwks", "not a valid"},
		{"jwks empty set", func(c *Client) { c.TokenEndpointAuthMethod, c.JWKS = AuthPrivateKeyJWT, []byte(`{"keys":[]}`) }, "jwks", "at least one"},
		{"jwks single key not a set", func(c *Client) {
			k, _ := json.Marshal(jose.JSONWebKey{Key: &ecKey.PublicKey})
			c.TokenEndpointAuthMethod, c.JWKS = AuthPrivateKeyJWT, k
		}, "jwks", "at least one"},
		{"jwks private key", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKS = AuthPrivateKeyJWT, jwksJSON(t, ecKey)
		}, "jwks", "private or symmetric"},
		{"jwks symmetric key", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKS = AuthPrivateKeyJWT, jwksJSON(t, []byte("0123456789abcdef0123456789abcdef"))
		}, "jwks", "private or symmetric"},
		{"jwks public then private", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKS = AuthPrivateKeyJWT, jwksJSON(t, &ecKey.PublicKey, rsaKey)
		}, "jwks", "key 1"},
		{"jwks weak RSA", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKS = AuthPrivateKeyJWT, jwksJSON(t, &weakRSA.PublicKey)
		}, "jwks", "2048"},
		{"jwks too big", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKS = AuthPrivateKeyJWT, make([]byte, maxJWKSSize+1)
		}, "jwks", "at most"},
		{"jwks_uri http", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKSURI = AuthPrivateKeyJWT, "http://svc.example.ru/jwks"
		}, "jwks_uri", "https"},
		{"jwks_uri private-use scheme", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKSURI = AuthPrivateKeyJWT, "com.example.app:/jwks"
		}, "jwks_uri", "https"},
		{"jwks_uri relative", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKSURI = AuthPrivateKeyJWT, "/jwks"
		}, "jwks_uri", "absolute"},
		{"jwks_uri fragment", func(c *Client) {
			c.TokenEndpointAuthMethod, c.JWKSURI = AuthPrivateKeyJWT, "https://svc.example.ru/jwks#k"
		}, "jwks_uri", "fragment"},
		{"jwks on secret client", func(c *Client) { c.JWKS = []byte("not json") }, "jwks", "not a valid"},

		// id_token_signed_response_alg
		{"alg empty", func(c *Client) { c.IDTokenAlg = "" }, "", ""},
		{"alg ES256", func(c *Client) { c.IDTokenAlg = "ES256" }, "", ""},
		{"alg none", func(c *Client) { c.IDTokenAlg = "none" }, "id_token_signed_response_alg", ""},
		{"alg HS256", func(c *Client) { c.IDTokenAlg = "HS256" }, "id_token_signed_response_alg", ""},
		{"alg lower case", func(c *Client) { c.IDTokenAlg = "rs256" }, "id_token_signed_response_alg", ""},

		// min_level, audience
		{"min level", func(c *Client) { c.MinLevel = "confirmed" }, "", ""},
		{"min level unknown", func(c *Client) { c.MinLevel = "gold" }, "min_level", ""},
		{"audience", func(c *Client) { c.Audience = []string{"https://api.example.ru"} }, "", ""},
		{"audience empty entry", func(c *Client) { c.Audience = []string{""} }, "audience", ""},
		{"audience with space", func(c *Client) { c.Audience = []string{"a b"} }, "audience", ""},

		// allowed_cors_origins
		{"cors origin", func(c *Client) { c.AllowedCORSOrigins = []string{"https://spa.example.ru", "http://localhost:5173"} }, "", ""},
		{"cors origin with path", func(c *Client) { c.AllowedCORSOrigins = []string{"https://spa.example.ru/app"} }, "allowed_cors_origins", "origin"},
		{"cors origin trailing slash", func(c *Client) { c.AllowedCORSOrigins = []string{"https://spa.example.ru/"} }, "allowed_cors_origins", "origin"},
		{"cors origin wildcard", func(c *Client) { c.AllowedCORSOrigins = []string{"https://*.example.ru"} }, "allowed_cors_origins", "wildcard"},
		{"cors origin star", func(c *Client) { c.AllowedCORSOrigins = []string{"*"} }, "allowed_cors_origins", ""},
		{"cors origin null", func(c *Client) { c.AllowedCORSOrigins = []string{"null"} }, "allowed_cors_origins", ""},
		{"cors origin http", func(c *Client) { c.AllowedCORSOrigins = []string{"http://spa.example.ru"} }, "allowed_cors_origins", "https"},
		{"cors origin default port", func(c *Client) { c.AllowedCORSOrigins = []string{"https://spa.example.ru:443"} }, "allowed_cors_origins", "https://spa.example.ru"},
		{"cors origin upper case", func(c *Client) { c.AllowedCORSOrigins = []string{"https://SPA.example.ru"} }, "allowed_cors_origins", ""},

		// logout channels, subject type
		{"logout uris", func(c *Client) {
			c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired = "https://rp.example/bc", true
			c.FrontchannelLogoutURI, c.FrontchannelLogoutSessionRequired = "http://127.0.0.1:8080/fc?a=1", true
		}, "", ""},
		{"backchannel http", func(c *Client) { c.BackchannelLogoutURI = "http://rp.example/bc" }, "backchannel_logout_uri", "https"},
		{"backchannel fragment", func(c *Client) { c.BackchannelLogoutURI = "https://rp.example/bc#x" }, "backchannel_logout_uri", ""},
		{"frontchannel relative", func(c *Client) { c.FrontchannelLogoutURI = "/fc" }, "frontchannel_logout_uri", ""},
		{"session required without uri", func(c *Client) { c.BackchannelLogoutSessionRequired = true }, "backchannel_logout_session_required", ""},
		{"pairwise not yet", func(c *Client) { c.SubjectType = SubjectPairwise; c.Sector = "health" }, "subject_type", "not supported"},
		{"sector on a public client", func(c *Client) { c.Sector = "health" }, "subject_type", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClient()
			tt.modify(c)
			err := Validate(c)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError for %s", err, tt.field)
			}
			if ve.Field != tt.field || !strings.Contains(ve.Reason, tt.reason) {
				t.Fatalf("Validate = %q (field %q), want field %q with reason containing %q", err, ve.Field, tt.field, tt.reason)
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	err := Validate(&Client{})
	if err == nil || err.Error() != "invalid client client_name: is required" {
		t.Fatalf("err = %v", err)
	}
}

func ExampleValidate() {
	c := &Client{Name: "Demo", RedirectURIs: []string{"http://demo.example/cb"}}
	ApplyDefaults(c)
	var ve *ValidationError
	if err := Validate(c); errors.As(err, &ve) {
		fmt.Println(ve.Field)
		fmt.Println(ve.Reason)
	}
	// Output:
	// redirect_uris
	// "http://demo.example/cb": http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https
}

func TestCORSOrigins(t *testing.T) {
	c := &Client{
		RedirectURIs: []string{"https://rp.example.ru/cb", "https://rp.example.ru:443/other", "http://127.0.0.1:8081/cb",
			"ru.example.app:/cb", "https://RP.example.ru/x"},
		AllowedCORSOrigins: []string{"https://spa.example.ru", "http://127.0.0.1:8081"},
	}
	got := strings.Join(c.CORSOrigins(), " ")
	if want := "https://rp.example.ru http://127.0.0.1:8081 https://spa.example.ru"; got != want {
		t.Fatalf("CORSOrigins = %q, want %q", got, want)
	}
	if o := OriginOf("http://[::1]:99/cb"); o != "http://[::1]:99" {
		t.Fatalf("OriginOf IPv6 = %q", o)
	}
}
