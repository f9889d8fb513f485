package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gosid runs the CLI in-process with a fresh embedded data directory.
func gosid(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), err
}

func TestCLI(t *testing.T) {
	t.Setenv("GOSID_DATA_DIR", t.TempDir())
	t.Setenv("GOSID_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	t.Setenv("GOSID_LOG_LEVEL", "error")

	out, err := gosid(t, "clients", "create", "--name", "Портал", "--redirect-uri", "https://svc.example.ru/cb",
		"--scope", "openid", "--scope", "profile", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		AuthMethod   string `json:"token_endpoint_auth_method"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" || len(c.ClientSecret) < 43 || c.AuthMethod != "client_secret_basic" {
		t.Fatalf("clients create: %v %s", err, out)
	}
	if out, err = gosid(t, "clients", "get", c.ClientID, "--json"); err != nil || strings.Contains(out, c.ClientSecret) {
		t.Fatalf("clients get must not show the secret: %v %s", err, out)
	}
	if out, err = gosid(t, "clients", "rotate-secret", c.ClientID, "--json"); err != nil || strings.Contains(out, c.ClientSecret) || !strings.Contains(out, "client_secret") {
		t.Fatalf("rotate-secret: %v %s", err, out)
	}
	if _, err = gosid(t, "clients", "create", "--name", "bad", "--redirect-uri", "http://evil.example/cb"); err == nil {
		t.Fatal("an http redirect URI outside loopback was accepted")
	}
	if _, err = gosid(t, "clients", "create", "--name", "implicit", "--redirect-uri", "https://a/cb", "--grant-type", "implicit"); err == nil {
		t.Fatal("the implicit grant was accepted")
	}
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwks, []byte(`{"keys":[{"kty":"EC","crv":"P-256","use":"sig","kid":"k1",`+
		`"x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = gosid(t, "clients", "create", "--name", "JAR", "--redirect-uri", "http://127.0.0.1/cb", "--public",
		"--application-type", "native", "--jwks", jwks, "--auth-method", "none", "--require-signed-request-object",
		"--request-object-signing-alg", "ES256", "--json")
	if err != nil || !strings.Contains(out, `"application_type": "native"`) || !strings.Contains(out, `"require_signed_request_object": true`) ||
		!strings.Contains(out, `"request_object_signing_alg": "ES256"`) {
		t.Fatalf("clients create with request-object settings: %v %s", err, out)
	}
	out, err = gosid(t, "clients", "create", "--name", "SPA", "--redirect-uri", "https://spa.example/cb", "--public",
		"--cors-origin", "https://app.spa.example", "--json")
	if err != nil || !strings.Contains(out, `"allowed_cors_origins": [`) || !strings.Contains(out, `"https://app.spa.example"`) {
		t.Fatalf("clients create with a CORS origin: %v %s", err, out)
	}
	out, err = gosid(t, "clients", "create", "--name", "DPoP", "--redirect-uri", "https://dpop.example/cb",
		"--dpop-bound-access-tokens", "--userinfo-signed-response-alg", "ES256", "--json")
	if err != nil || !strings.Contains(out, `"dpop_bound_access_tokens": true`) || !strings.Contains(out, `"userinfo_signed_response_alg": "ES256"`) {
		t.Fatalf("clients create with DPoP and signed userinfo: %v %s", err, out)
	}
	if _, err = gosid(t, "clients", "create", "--name", "bad", "--redirect-uri", "https://a/cb", "--userinfo-signed-response-alg", "HS256"); err == nil {
		t.Fatal("userinfo signed with HS256 was accepted")
	}
	if _, err = gosid(t, "clients", "create", "--name", "SPA", "--redirect-uri", "https://spa.example/cb", "--cors-origin", "*"); err == nil {
		t.Fatal("a wildcard CORS origin was accepted")
	}
	if _, err = gosid(t, "clients", "create", "--name", "nokeys", "--redirect-uri", "https://a/cb", "--require-signed-request-object"); err == nil {
		t.Fatal("require-signed-request-object without keys was accepted")
	}
	if out, err = gosid(t, "accounts", "create", "--phone", "+7 912 345-67-89", "--password", "Correct-Horse-9-battery", "--json"); err != nil || !strings.Contains(out, "+79123456789") {
		t.Fatalf("accounts create: %v %s", err, out)
	}
	if _, err = gosid(t, "accounts", "create", "--phone", "89123456789", "--password", "Correct-Horse-9-battery"); err == nil {
		t.Fatal("a second account with the same phone was created")
	}
	before, err := gosid(t, "keys", "list")
	if err != nil || strings.Count(before, "active") != 2 || strings.Count(before, "next") != 2 {
		t.Fatalf("keys list: %v\n%s", err, before)
	}
	if out, err = gosid(t, "keys", "rotate", "--alg", "ES256"); err != nil || strings.Count(out, "retired") != 1 {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	if out, err = gosid(t, "clients", "delete", c.ClientID); err != nil {
		t.Fatalf("delete: %v %s", err, out)
	}
	if _, err = gosid(t, "clients", "get", c.ClientID); err == nil {
		t.Fatal("a deleted client is still there")
	}
}

// TestPIIRewrap: after a master-key change, personal-data keys open only
// with the old key listed as previous, until `gosid pii rewrap` re-wraps
// them under the new one.
func TestPIIRewrap(t *testing.T) {
	t.Setenv("GOSID_DATA_DIR", t.TempDir())
	t.Setenv("GOSID_DATABASE_URL", "")
	t.Setenv("GOSID_REDIS_URL", "")
	k1, k2 := strings.Repeat("a", 64), strings.Repeat("b", 64)
	t.Setenv("GOSID_MASTER_KEY", k1)
	if _, err := gosid(t, "migrate"); err != nil {
		t.Fatal(err)
	}
	if out, err := gosid(t, "pii", "rotate"); err != nil || !strings.Contains(out, "new data key") {
		t.Fatalf("rotate: %q %v", out, err)
	}
	t.Setenv("GOSID_MASTER_KEY", k2)
	if _, err := gosid(t, "pii", "rotate"); err == nil {
		t.Fatal("data keys wrapped under the old master key opened with the new one alone")
	}
	t.Setenv("GOSID_PREVIOUS_MASTER_KEYS", k1)
	out, err := gosid(t, "pii", "rewrap")
	if err != nil || !strings.Contains(out, "re-wrapped") || strings.Contains(out, "re-wrapped 0 ") {
		t.Fatalf("rewrap: %q %v", out, err)
	}
	t.Setenv("GOSID_PREVIOUS_MASTER_KEYS", "")
	if out, err := gosid(t, "pii", "rewrap"); err != nil || !strings.Contains(out, "re-wrapped 0 ") {
		t.Fatalf("with the new key alone after rewrap: %q %v", out, err)
	}
	if _, err := gosid(t, "pii", "bogus"); err == nil {
		t.Fatal("unknown subcommand accepted")
	}
}
