package esia

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosid/gosid/esign"
)

// gostOrSkip returns the GOST provider, or skips (fails with CI=true)
// when openssl has no GOST engine.
func gostOrSkip(t *testing.T) OpenSSLGOST {
	t.Helper()
	g := &esign.GOST{}
	if err := g.Available(context.Background()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("GOST engine missing: %v", err)
		}
		t.Skipf("GOST engine missing: %v", err)
	}
	return OpenSSLGOST{GOST: g}
}

// TestStreebog: the GOST R 34.11-2012 example M1 hashes to its published
// 256-bit value.
func TestStreebog(t *testing.T) {
	g := gostOrSkip(t)
	h, err := g.Streebog256([]byte("012345678901234567890123456789012345678901234567890123456789012"))
	if err != nil || hex.EncodeToString(h) != "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500" {
		t.Fatalf("%x %v", h, err)
	}
}

// TestGOSTClientSecret: a client_secret made as ilimurzin/esia's
// OpenSSLSigner does (openssl dgst -md_gost12_256 -sign with a GOST
// R 34.10-2012 key, base64url) verifies against the registered
// certificate through the GOST provider; one over another message does
// not; the certificate's hash is its Streebog-256 in upper-case hex.
func TestGOSTClientSecret(t *testing.T) {
	g := gostOrSkip(t)
	dir := t.TempDir()
	run := func(stdin string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
		return out
	}
	run("", "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", "key.pem")
	run("", "req", "-engine", "gost", "-x509", "-new", "-key", "key.pem", "-subj", "/CN=TESTIS01", "-days", "1", "-out", "cert.pem")
	msg := "TESTIS01openid fullname2026.12.03 19:00:00 +0300a1b2c3d4-0000-4000-8000-000000000000https://is.example/cb"
	if err := os.WriteFile(filepath.Join(dir, "msg"), []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	run("", "dgst", "-engine", "gost", "-md_gost12_256", "-sign", "key.pem", "-out", "sig", "msg")
	sig, _ := os.ReadFile(filepath.Join(dir, "sig"))
	pemBytes, _ := os.ReadFile(filepath.Join(dir, "cert.pem"))
	cert, err := ParseCertificate(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !isGOST(cert) || len(sig) != 64 {
		t.Fatalf("GOST cert %v, signature %d bytes", isGOST(cert), len(sig))
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding} {
		if err := verifySecret(cert, g, enc.EncodeToString(sig), []string{"x", msg}); err != nil {
			t.Errorf("GOST secret: %v", err)
		}
	}
	if err := verifySecret(cert, g, base64.RawURLEncoding.EncodeToString(sig), []string{msg + "x"}); err == nil {
		t.Error("a GOST signature over another message verified")
	}
	der := run("", "x509", "-in", "cert.pem", "-outform", "DER")
	lines := strings.Split(strings.TrimSpace(string(run(string(der), "dgst", "-engine", "gost", "-md_gost12_256", "-r"))), "\n")
	want := strings.ToUpper(strings.SplitN(lines[len(lines)-1], " ", 2)[0])
	if hs := certHashes(cert, g); len(want) != 64 || !slices.Contains(hs, want) {
		t.Errorf("certificate hashes %v, want %s among them", hs, want)
	}
}
