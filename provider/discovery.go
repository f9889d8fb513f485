package provider

import (
	"encoding/json"
	"log/slog"

	"github.com/ory/fosite"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/claimsreq"
)

// buildDiscovery renders the OpenID Provider metadata once; it is served
// from memory, at the OpenID Connect Discovery address and as RFC 8414
// authorization server metadata (the same document: RFC 8414 §3 lets it
// carry OpenID's fields). It lists what works and nothing else: userinfo
// signed with gosid's keys, DPoP proofs with asymmetric keys, request_uri
// only from PAR (clients cannot register request_uris), no select_account
// (there is no account chooser).
func (p *Provider) buildDiscovery() ([]byte, error) {
	iss := p.o.Issuer
	doc := map[string]any{
		"issuer":                                           iss,
		"authorization_endpoint":                           iss + PathAuthorize,
		"token_endpoint":                                   iss + PathToken,
		"userinfo_endpoint":                                iss + PathUserinfo,
		"jwks_uri":                                         iss + PathJWKS,
		"introspection_endpoint":                           iss + PathIntrospect,
		"revocation_endpoint":                              iss + PathRevoke,
		"pushed_authorization_request_endpoint":            iss + PathPAR,
		"end_session_endpoint":                             iss + PathEndSession,
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query", "form_post"},
		"grant_types_supported":                            []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{"RS256", "ES256"},
		"token_endpoint_auth_methods_supported":            []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256", "ES256", "PS256"},
		"introspection_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"revocation_endpoint_auth_methods_supported":       []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"scopes_supported":                                 []string{"openid", "profile", "email", "phone", "offline_access", "verified_claims"},
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
			"name", "family_name", "given_name", "middle_name", "locale", "updated_at", "email", "email_verified",
			"phone_number", "phone_number_verified", "verified_claims"},
		"acr_values_supported":                           account.SupportedACRs(),
		"prompt_values_supported":                        supportedPrompts,
		"claims_parameter_supported":                     true,
		"request_parameter_supported":                    true,
		"request_object_signing_alg_values_supported":    []string{"none", "RS256", "ES256", "PS256"},
		"request_uri_parameter_supported":                false,
		"require_pushed_authorization_requests":          false,
		"frontchannel_logout_supported":                  false,
		"backchannel_logout_supported":                   false,
		"authorization_response_iss_parameter_supported": true,
		"userinfo_signing_alg_values_supported":          userinfoSigningAlgs,
		"dpop_signing_alg_values_supported":              dpopAlgNames(),
		"introspection_signing_alg_values_supported":     []string{defaultUserinfoSigningAlg},
		"ui_locales_supported":                           []string{"ru", "en"},
		// OpenID Connect for Identity Assurance 1.0 §8.
		"verified_claims_supported":           true,
		"trust_frameworks_supported":          []string{claimsreq.TrustFramework},
		"evidence_supported":                  []string{"electronic_record"},
		"claims_in_verified_claims_supported": claimsreq.VerifiedClaimNames(),
	}
	return json.MarshalIndent(doc, "", "  ")
}

func slogLevel(e *fosite.RFC6749Error) slog.Level {
	if e.CodeField >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}

func causeText(e *fosite.RFC6749Error) string {
	if c := e.Cause(); c != nil {
		return c.Error()
	}
	return ""
}
