package esign_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosid/gosid/esign"
	"github.com/gosid/gosid/esign/esigntest"
)

// TestDevCertRecipe runs the README's recipe: scripts/dev-esign-cert makes
// an authority and Иванов's certificate with openssl, openssl cms -sign
// signs a challenge, and the checker accepts it with the reference
// registry's SNILS and INN.
func TestDevCertRecipe(t *testing.T) {
	for _, alg := range []string{"rsa", "gost"} {
		t.Run(alg, func(t *testing.T) {
			if alg == "gost" {
				esigntest.RequireGOST(t)
			}
			dir := t.TempDir()
			srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
			defer srv.Close()
			run := func(name string, args ...string) {
				t.Helper()
				cmd := exec.Command(name, args...)
				cmd.Dir = dir
				if alg == "gost" {
					cmd.Env = append(os.Environ(), "OPENSSL_CONF="+filepath.Join(dir, "openssl-gost.cnf"))
				}
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s %v: %v\n%s", name, args, err, out)
				}
			}
			script, _ := filepath.Abs("../scripts/dev-esign-cert")
			run("bash", script, dir, alg, srv.URL+"/ca.crl")
			challenge := []byte("gosid signin\nchallenge: x\n")
			if err := os.WriteFile(filepath.Join(dir, "challenge.txt"), challenge, 0o600); err != nil {
				t.Fatal(err)
			}
			run("openssl", "cms", "-sign", "-binary", "-in", "challenge.txt", "-signer", "citizen.pem", "-inkey", "citizen.key",
				"-outform", "DER", "-nosmimecap", "-out", "challenge.p7s")
			roots, err := esign.LoadRoots("", []string{filepath.Join(dir, "ca.pem")})
			if err != nil {
				t.Fatal(err)
			}
			sig, _ := os.ReadFile(filepath.Join(dir, "challenge.p7s"))
			c := &esign.Checker{Roots: roots, Verifiers: []esign.Verifier{esign.Go{}, gost},
				CRLs: &esign.CRLCache{Client: &http.Client{Timeout: 10 * time.Second}}}
			got, err := c.VerifyDetached(context.Background(), sig, challenge)
			if err != nil {
				t.Fatal(err)
			}
			if got.SNILS != "12345678964" || got.INN != "770112345695" || got.FamilyName != "Иванов" || got.MiddleName != "Иванович" {
				t.Errorf("attributes %+v", got.Attributes)
			}
		})
	}
}
