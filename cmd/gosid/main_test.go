package main

import (
	"bytes"
	"context"
	"encoding/json"
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
