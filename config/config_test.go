package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load("", envFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.Issuer != "http://localhost:8080" || c.DataDir != "data" || !c.Migrate {
		t.Fatalf("defaults: %+v", c)
	}
	// The operator listener is on loopback unless told otherwise.
	if c.AdminAddr != "127.0.0.1:9090" || !c.AdminEnabled() {
		t.Fatalf("admin listener default: %q", c.AdminAddr)
	}
	c, err = Load("", envFrom(map[string]string{"GOSID_ADMIN_ADDR": "off"}))
	if err != nil || c.AdminEnabled() {
		t.Fatalf("GOSID_ADMIN_ADDR=off: %v, enabled %v", err, c.AdminEnabled())
	}
}

func TestEnvironmentWinsOverFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gosid.yaml")
	yaml := "issuer: https://id.example.gov\naddr: \":9000\"\naccess_token_ttl: 5m\ntrusted_proxies: [10.0.0.0/8]\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, envFrom(map[string]string{
		"GOSID_ADDR": "127.0.0.1:7000", "GOSID_DEV": "true", "GOSID_REFRESH_GRACE": "3s",
		"GOSID_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16", "GOSID_LOGIN_RATE_PER_IP": "5",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://id.example.gov" || c.Addr != "127.0.0.1:7000" || !c.Dev || c.AccessTokenTTL != 5*time.Minute ||
		c.RefreshGrace != 3*time.Second || len(c.TrustedProxies) != 2 || c.LoginRatePerIP != 5 {
		t.Fatalf("merged config: %+v", c)
	}
	if !c.Secure() {
		t.Fatal("https issuer must be secure")
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		file string
		want string
	}{
		{"bad bool", map[string]string{"GOSID_DEV": "yes please"}, "", "GOSID_DEV"},
		{"bad duration", map[string]string{"GOSID_ACCESS_TOKEN_TTL": "ten"}, "", "GOSID_ACCESS_TOKEN_TTL"},
		{"http issuer in production", map[string]string{"GOSID_ISSUER": "http://id.example.gov"}, "", "https"},
		{"issuer with query", map[string]string{"GOSID_ISSUER": "https://id.example.gov/?a=b"}, "", "issuer"},
		{"non-postgres database", map[string]string{"GOSID_DATABASE_URL": "mysql://x"}, "", "postgres"},
		{"tls half", map[string]string{"GOSID_TLS_CERT": "c.pem"}, "", "tls"},
		{"negative ttl", map[string]string{"GOSID_SESSION_TTL": "-1s"}, "", "session_ttl"},
		{"unknown yaml key", nil, "isuer: x\n", "isuer"},
		{"admin on the public listener", map[string]string{"GOSID_ADDR": ":8080", "GOSID_ADMIN_ADDR": ":8080"}, "", "admin_addr"},
		{"empty admin address", nil, "admin_addr: \"\"\n", "admin_addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = filepath.Join(t.TempDir(), "c.yaml")
				_ = os.WriteFile(path, []byte(tt.file), 0o600)
			}
			_, err := Load(path, envFrom(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestLoopbackHTTPIssuerAllowed(t *testing.T) {
	for _, iss := range []string{"http://localhost:8080", "http://127.0.0.1:9000", "http://[::1]:8080"} {
		if _, err := Load("", envFrom(map[string]string{"GOSID_ISSUER": iss})); err != nil {
			t.Errorf("%s: %v", iss, err)
		}
	}
}
