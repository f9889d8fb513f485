package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIESIAClient: gosid clients create --esia registers an ESIA-style
// client from its mnemonic and certificate file; a lower-case mnemonic, a
// missing certificate and a second registration of the mnemonic are
// refused.
func TestCLIESIAClient(t *testing.T) {
	t.Setenv("GOSID_DATA_DIR", t.TempDir())
	t.Setenv("GOSID_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	t.Setenv("GOSID_LOG_LEVEL", "error")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "TESTIS01"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(t.TempDir(), "is.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := gosid(t, "clients", "create", "--esia", "--id", "TESTIS01", "--name", "Тестовая ИС", "--certificate", cert,
		"--redirect-uri", "https://is.example.ru/esia/cb", "--scope", "openid", "--scope", "fullname")
	if err != nil || !strings.Contains(out, "TESTIS01 (ESIA-style)") || !strings.Contains(out, "is.example.ru") {
		t.Fatalf("create: %v %s", err, out)
	}
	if out, err = gosid(t, "clients", "get", "TESTIS01", "--json"); err != nil || !strings.Contains(out, "/aas/oauth2/cb") {
		t.Fatalf("get: %v %s", err, out)
	}
	for name, args := range map[string][]string{
		"lower case": {"--id", "testis02", "--certificate", cert, "--redirect-uri", "https://is.example.ru/cb"},
		"no cert":    {"--id", "TESTIS03", "--redirect-uri", "https://is.example.ru/cb"},
		"duplicate":  {"--id", "TESTIS01", "--certificate", cert, "--redirect-uri", "https://is.example.ru/cb"},
		"no domain":  {"--id", "TESTIS04", "--certificate", cert},
	} {
		if out, err := gosid(t, append([]string{"clients", "create", "--esia"}, args...)...); err == nil {
			t.Errorf("%s: accepted: %s", name, out)
		}
	}
}
