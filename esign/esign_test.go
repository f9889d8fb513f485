package esign_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosid/gosid/esign"
	"github.com/gosid/gosid/esign/esigntest"
)

// authority is a test certification authority of one algorithm.
type authority struct {
	name   string
	root   *x509.Certificate
	issue  func(p esigntest.Person) *esigntest.Citizen
	revoke func(c *esigntest.Citizen)
}

// gost is shared: the engine is loaded once per checker's lifetime.
var gost = &esign.GOST{}

// checker trusts the roots and fetches CRLs from the test servers.
func (a authority) checker() *esign.Checker {
	return &esign.Checker{Roots: []*x509.Certificate{a.root}, Verifiers: []esign.Verifier{esign.Go{}, gost},
		CRLs: &esign.CRLCache{Client: &http.Client{Timeout: 10 * time.Second}}}
}

func newAuthority(t testing.TB, alg, name string) authority {
	t.Helper()
	if alg == "gost" {
		ca := esigntest.NewGOSTCA(t, name)
		return authority{name: alg, root: ca.Cert,
			issue:  func(p esigntest.Person) *esigntest.Citizen { return ca.Issue(t, p, 365) },
			revoke: func(c *esigntest.Citizen) { ca.Revoke(t, c) }}
	}
	ca := esigntest.NewCA(t, alg, name)
	return authority{name: alg, root: ca.Cert,
		issue:  func(p esigntest.Person) *esigntest.Citizen { return ca.Issue(t, alg, p) },
		revoke: func(c *esigntest.Citizen) { ca.Revoke(c) }}
}

var algs = []string{"rsa", "ecdsa", "gost"}

func TestDetachedAndRaw(t *testing.T) {
	ctx := context.Background()
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			a := newAuthority(t, alg, "Test CA")
			c := a.checker()
			cit := a.issue(esigntest.Ivanov())
			msg := []byte("challenge-1")
			sig := cit.SignDetached(t, msg)
			got, err := c.VerifyDetached(ctx, sig, msg)
			if err != nil {
				t.Fatalf("VerifyDetached: %v", err)
			}
			want := esign.Attributes{SNILS: "11223344595", INN: "500100732259", FamilyName: "Иванов", GivenName: "Иван",
				MiddleName: "Иванович", CommonName: "Иванов Иван Иванович"}
			if got.Attributes != want {
				t.Errorf("attributes %+v, want %+v", got.Attributes, want)
			}
			if got.Serial() == "" || got.Issuer() == "" {
				t.Error("no serial or issuer")
			}
			if _, err := c.VerifyDetached(ctx, sig, []byte("challenge-2")); !errors.Is(err, esign.ErrBadSignature) {
				t.Errorf("another message: %v, want ErrBadSignature", err)
			}
			raw := cit.SignRaw(t, msg)
			if _, err := c.VerifyRaw(ctx, cit.Cert, msg, raw); err != nil {
				t.Errorf("VerifyRaw: %v", err)
			}
			if _, err := c.VerifyRaw(ctx, cit.Cert, []byte("other"), raw); !errors.Is(err, esign.ErrBadSignature) {
				t.Errorf("raw over another message: %v", err)
			}
		})
	}
}

func TestCertificateChecks(t *testing.T) {
	ctx := context.Background()
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			a := newAuthority(t, alg, "Test CA")
			msg := []byte("challenge")
			c := a.checker()
			expiring := a.issue(esigntest.Person{SNILS: "11223344595", FamilyName: "Петров", GivenName: "Пётр",
				NotAfter: time.Now().Add(2 * time.Hour)})
			later := *c
			later.Now = func() time.Time { return time.Now().Add(400 * 24 * time.Hour) }
			if _, err := later.VerifyDetached(ctx, expiring.SignDetached(t, msg), msg); !errors.Is(err, esign.ErrExpired) {
				t.Errorf("expired: %v", err)
			}
			revoked := a.issue(esigntest.Ivanov())
			// The list is fetched once and kept until its nextUpdate: the
			// revocation is seen by a checker with an empty cache.
			a.revoke(revoked)
			if _, err := a.checker().VerifyDetached(ctx, revoked.SignDetached(t, msg), msg); !errors.Is(err, esign.ErrRevoked) {
				t.Errorf("revoked: %v", err)
			}
			// Another authority of the same name and algorithm, not trusted.
			stranger := newAuthority(t, alg, "Test CA").issue(esigntest.Ivanov())
			if _, err := c.VerifyDetached(ctx, stranger.SignDetached(t, msg), msg); !errors.Is(err, esign.ErrUntrusted) {
				t.Errorf("untrusted: %v", err)
			}
		})
	}
}

func TestKeyUsageAndRevocationFailClosed(t *testing.T) {
	ctx := context.Background()
	ca := esigntest.NewCA(t, "ecdsa", "Test CA")
	a := authority{root: ca.Cert}
	c := a.checker()
	msg := []byte("m")
	enc := ca.Issue(t, "ecdsa", esigntest.Person{SNILS: "11223344595", KeyUsage: x509.KeyUsageKeyEncipherment})
	if _, err := c.VerifyDetached(ctx, enc.SignDetached(t, msg), msg); !errors.Is(err, esign.ErrKeyUsage) {
		t.Errorf("key encipherment only: %v", err)
	}
	good := ca.Issue(t, "ecdsa", esigntest.Ivanov())
	sig := good.SignDetached(t, msg)
	for i := 0; i < 3; i++ {
		if _, err := c.VerifyDetached(ctx, sig, msg); err != nil {
			t.Fatal(err)
		}
	}
	if n := ca.Fetches.Load(); n != 1 {
		t.Errorf("the CRL was fetched %d times for three checks, want once (cached until nextUpdate)", n)
	}
	// A list that cannot be fetched fails the check: never a pass.
	down := a.checker()
	down.CRLs.Client = &http.Client{Transport: failing{}}
	if _, err := down.VerifyDetached(ctx, sig, msg); !errors.Is(err, esign.ErrRevocationUnknown) {
		t.Errorf("CRL unreachable: %v", err)
	}
}

type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("network down")
}

func TestUnreadable(t *testing.T) {
	c := authority{}.checker()
	for _, b := range [][]byte{nil, []byte("not a signature"), []byte("-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----\n")} {
		if _, err := c.VerifyDetached(context.Background(), b, []byte("m")); !errors.Is(err, esign.ErrNoCertificate) {
			t.Errorf("%q: %v, want ErrNoCertificate", b, err)
		}
	}
}

func TestGOSTMissing(t *testing.T) {
	g := &esign.GOST{OpenSSL: "/nonexistent/openssl"}
	err := g.Available(context.Background())
	if !errors.Is(err, esign.ErrGOSTUnavailable) || !strings.Contains(err.Error(), "libengine-gost-openssl") {
		t.Errorf("Available: %v", err)
	}
	ca := esigntest.NewGOSTCA(t, "Test GOST CA")
	cit := ca.Issue(t, esigntest.Ivanov(), 30)
	if _, err := g.Detached(context.Background(), cit.SignDetached(t, []byte("m")), []byte("m")); !errors.Is(err, esign.ErrGOSTUnavailable) {
		t.Errorf("Detached without the engine: %v", err)
	}
}

func TestLoadRoots(t *testing.T) {
	ca := esigntest.NewCA(t, "rsa", "Root")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "root.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "root.cer"), ca.Cert.Raw, 0o600); err != nil {
		t.Fatal(err)
	}
	roots, err := esign.LoadRoots(dir, nil)
	if err != nil || len(roots) != 2 {
		t.Fatalf("LoadRoots: %d, %v", len(roots), err)
	}
	if _, err := esign.LoadRoots("", []string{filepath.Join(dir, "missing.pem")}); err == nil {
		t.Error("a missing root file was ignored")
	}
}
