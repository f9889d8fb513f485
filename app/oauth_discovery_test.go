package app_test

import (
	"net/url"
	"slices"
	"testing"

	"golang.org/x/oauth2"
)

// TestDiscoveryTellsTheTruth: the metadata lists what works and nothing
// else, at both well-known addresses (OpenID Connect Discovery and RFC
// 8414).
func TestDiscoveryTellsTheTruth(t *testing.T) {
	env, c, r, b := signedInRP(t)
	var oidc, oauth map[string]any
	getJSON(t, env, "/.well-known/openid-configuration", &oidc)
	getJSON(t, env, "/.well-known/oauth-authorization-server", &oauth)
	for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
		"pushed_authorization_request_endpoint", "code_challenge_methods_supported"} {
		if oauth[k] == nil || !equalJSON(oauth[k], oidc[k]) {
			t.Fatalf("RFC 8414 %s = %v, OpenID %v", k, oauth[k], oidc[k])
		}
	}
	if oauth["issuer"] != env.URL {
		t.Fatalf("issuer %v", oauth["issuer"])
	}
	if algs, ok := oidc["userinfo_signing_alg_values_supported"].([]any); ok && slices.Contains(algs, any("none")) {
		t.Fatalf("userinfo_signing_alg_values_supported lists none: %v", algs)
	}
	if oidc["request_uri_parameter_supported"] != false || oidc["request_parameter_supported"] != true {
		t.Fatalf("request_uri_parameter_supported %v, request_parameter_supported %v",
			oidc["request_uri_parameter_supported"], oidc["request_parameter_supported"])
	}
	if modes := strs(oidc["response_modes_supported"]); !slices.Equal(modes, []string{"query", "form_post"}) {
		t.Fatalf("response_modes_supported %v", modes)
	}
	claims := strs(oidc["claims_supported"])
	for _, k := range []string{"locale", "updated_at"} {
		if !slices.Contains(claims, k) {
			t.Fatalf("claims_supported lacks %s: %v", k, claims)
		}
	}
	if slices.Contains(strs(oidc["prompt_values_supported"]), "select_account") {
		t.Fatal("select_account advertised without an account chooser")
	}

	// What is not supported is refused, not ignored.
	q := codeRequest(c.ID, oauth2.GenerateVerifier())
	q.Set("prompt", "select_account")
	if p := b.Get(authorizeURL(env, q)); !atClient(p) || p.URL.Query().Get("error") != "invalid_request" {
		t.Fatalf("prompt=select_account: %d %s", p.Status, p.URL)
	}
	q = url.Values{"client_id": {c.ID}, "request_uri": {"https://rp.example/request.jwt"}}
	if p := b.Get(authorizeURL(env, q)); !atClient(p) || p.URL.Query().Get("error") != "request_uri_not_supported" {
		t.Fatalf("request_uri: %d %s", p.Status, p.URL)
	}

	// The claims listed are released: locale and updated_at with profile.
	tok, idt := r.login(t, b)
	var idc map[string]any
	if err := idt.Claims(&idc); err != nil {
		t.Fatal(err)
	}
	ui, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var uic map[string]any
	if err := ui.Claims(&uic); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]map[string]any{"id_token": idc, "userinfo": uic} {
		if got["locale"] != "ru" || got["updated_at"] == nil {
			t.Fatalf("%s lacks locale or updated_at: %v", name, got)
		}
	}
}

func strs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func equalJSON(a, b any) bool {
	if la, ok := a.([]any); ok {
		lb, ok := b.([]any)
		return ok && slices.Equal(strs(la), strs(lb)) && len(la) == len(lb)
	}
	return a == b
}
