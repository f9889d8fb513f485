package esia

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

func selfSigned(t *testing.T, pub, priv any) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "T"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestVerifySecretRSA: a PKCS#1 v1.5 SHA-256 signature verifies in every
// encoding clients use (base64url with and without padding, plain base64,
// ASP.NET UrlTokenEncode), over any of the candidate messages, and
// nothing else does.
func TestVerifySecretRSA(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cert := selfSigned(t, &key.PublicKey, key)
	msg := "TESTIS01openid fullname2026.12.03 19:00:00 +0300" + "a1b2c3d4-0000-4000-8000-000000000000https://is.example/cb"
	h := sha256.Sum256([]byte(msg))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	padded := base64.URLEncoding.EncodeToString(sig)
	aspnet := strings.TrimRight(padded, "=") + string(rune('0'+strings.Count(padded, "=")))
	for name, enc := range map[string]string{
		"base64url": base64.RawURLEncoding.EncodeToString(sig), "base64url padded": padded,
		"base64": base64.StdEncoding.EncodeToString(sig), "base64 unpadded": base64.RawStdEncoding.EncodeToString(sig),
		"UrlTokenEncode": aspnet,
	} {
		if err := verifySecret(cert, nil, enc, []string{"other", msg}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := verifySecret(cert, nil, base64.RawURLEncoding.EncodeToString(sig), []string{msg + "x"}); !errors.Is(err, ErrSignature) {
		t.Errorf("other message: %v", err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if err := verifySecret(selfSigned(t, &other.PublicKey, other), nil, padded, []string{msg}); !errors.Is(err, ErrSignature) {
		t.Errorf("other certificate: %v", err)
	}
	if err := verifySecret(cert, nil, "%%%", []string{msg}); !errors.Is(err, ErrSignature) {
		t.Errorf("not base64: %v", err)
	}
	sum := sha256.Sum256(cert.Raw)
	if hs := certHashes(cert, nil); !slices.Equal(hs, []string{strings.ToUpper(hex.EncodeToString(sum[:]))}) {
		t.Errorf("RSA certificate hashes without a GOST provider: %v", hs)
	}
}

// fakeGOST stands in for the openssl GOST provider: it records what it was
// asked and answers as configured.
type fakeGOST struct {
	hash   []byte
	accept []byte // the one signature that verifies
	asked  [][]byte
}

func (f *fakeGOST) VerifyRaw(certDER, msg, sig []byte) error {
	f.asked = append(f.asked, msg)
	if bytes.Equal(sig, f.accept) {
		return nil
	}
	return errors.New("bad")
}

func (f *fakeGOST) Streebog256([]byte) ([]byte, error) { return f.hash, nil }

// TestGOSTPluggable: a certificate that is not RSA is verified through the
// GOST interface, and its client_certificate_hash is the provider's
// Streebog hash in either byte order; without a provider it never
// verifies. (A P-256 certificate stands in for a GOST one: Go's x509
// parses neither's key as RSA.)
func TestGOSTPluggable(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := selfSigned(t, &k.PublicKey, k)
	g := &fakeGOST{hash: []byte{1, 2, 3, 0xAB}, accept: []byte("sig-64-bytes")}
	if err := verifySecret(cert, g, base64.RawURLEncoding.EncodeToString(g.accept), []string{"m1", "m2"}); err != nil {
		t.Fatal(err)
	}
	if len(g.asked) != 1 || string(g.asked[0]) != "m1" {
		t.Errorf("asked %q", g.asked)
	}
	if err := verifySecret(cert, g, base64.RawURLEncoding.EncodeToString([]byte("forged")), []string{"m1", "m2"}); !errors.Is(err, ErrSignature) {
		t.Errorf("forged: %v", err)
	}
	if err := verifySecret(cert, nil, base64.RawURLEncoding.EncodeToString(g.accept), []string{"m1"}); !errors.Is(err, errNoGOST) {
		t.Errorf("no provider: %v", err)
	}
	if hs := certHashes(cert, g); !slices.Equal(hs, []string{"010203AB", "AB030201"}) {
		t.Errorf("hashes %v", hs)
	}
}

func TestFormats(t *testing.T) {
	for in, want := range map[string]string{"12345678964": "123-456-789 64", "123": "123"} {
		if got := FormatSNILS(in); got != want {
			t.Errorf("FormatSNILS(%q) = %q", in, got)
		}
	}
	for in, want := range map[string]string{"+79102206415": "+7(910)2206415", "+4930123": "+4930123"} {
		if got := FormatPhone(in); got != want {
			t.Errorf("FormatPhone(%q) = %q", in, got)
		}
	}
	if got := dmy("1985-03-14"); got != "14.03.1985" {
		t.Errorf("dmy: %q", got)
	}
	if e := etag(map[string]any{"a": 1}); len(e) != 40 || strings.ToUpper(e) != e {
		t.Errorf("etag %q", e)
	}
}

func TestInternalScopes(t *testing.T) {
	got := internalScopes([]string{"openid", "fullname", "snils", "mobile", "contacts"}, true)
	if !slices.Equal(got, []string{"openid", "profile", "phone", "email", "offline_access"}) {
		t.Errorf("%v", got)
	}
	if got := internalScopes([]string{"openid"}, false); !slices.Equal(got, []string{"openid"}) {
		t.Errorf("%v", got)
	}
}

func TestNewClient(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	cert := selfSigned(t, &key.PublicKey, key)
	pemText := "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(cert.Raw) + "\n-----END CERTIFICATE-----\n"
	c, e, err := NewClient("https://id.example/", "TESTIS01", "ИС", pemText, []string{"a.example"}, []string{"https://b.example/cb"}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.RedirectURIs[0] != "https://id.example/aas/oauth2/cb" || !slices.Equal(e.RedirectDomains, []string{"a.example", "b.example"}) || e.SigningAlg != AlgRS256 {
		t.Errorf("%+v %+v", c, e)
	}
	for name, f := range map[string]func() error{
		"lower case": func() error {
			_, _, err := NewClient("https://i", "testis", "", pemText, []string{"a"}, nil, nil, "")
			return err
		},
		"GOST alg": func() error {
			_, _, err := NewClient("https://i", "T", "", pemText, []string{"a"}, nil, nil, AlgGOST)
			return err
		},
		"bad cert": func() error {
			_, _, err := NewClient("https://i", "T", "", "x", []string{"a"}, nil, nil, "")
			return err
		},
		"no domain": func() error { _, _, err := NewClient("https://i", "T", "", pemText, nil, nil, nil, ""); return err },
	} {
		if f() == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
