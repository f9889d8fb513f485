// Package esigntest makes test certification authorities (RSA and ECDSA in
// Go, GOST with openssl and its GOST engine), citizens' certificates with
// SNILS and INN, and revocation lists served over HTTP.
package esigntest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/gosid/gosid/esign"
)

// Person is what a citizen's certificate says and how it is made.
type Person struct {
	SNILS, INN, FamilyName, GivenName string
	// NotBefore and NotAfter default to an hour ago and a year ahead.
	NotBefore, NotAfter time.Time
	// KeyUsage defaults to digitalSignature | nonRepudiation.
	KeyUsage x509.KeyUsage
}

// Ivanov is a citizen of the reference registry's shape.
func Ivanov() Person {
	return Person{SNILS: "11223344595", INN: "500100732259", FamilyName: "Иванов", GivenName: "Иван Иванович"}
}

// Citizen is an issued certificate with its private key.
type Citizen struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// gost is set for a GOST citizen: signing runs openssl.
	gost *gostCitizen
}

// CA is a Go certification authority ("rsa" or "ecdsa") that serves its
// CRL over HTTP.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CRLURL  string
	Fetches atomic.Int64

	mu      sync.Mutex
	revoked []x509.RevocationListEntry
	serial  int64
}

func newKey(t testing.TB, alg string) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case "rsa":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ecdsa":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("esigntest: algorithm %q", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// NewCA makes a root authority named name with a key of alg.
func NewCA(t testing.TB, alg, name string) *CA {
	t.Helper()
	ca := &CA{Key: newKey(t, alg), serial: 100}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name, Organization: []string{"Test CA"}},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, ca.Key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	ca.Cert, _ = x509.ParseCertificate(der)
	srv := httptest.NewServer(http.HandlerFunc(ca.serveCRL))
	t.Cleanup(srv.Close)
	ca.CRLURL = srv.URL + "/ca.crl"
	return ca
}

func (ca *CA) serveCRL(w http.ResponseWriter, r *http.Request) {
	ca.Fetches.Add(1)
	ca.mu.Lock()
	entries := append([]x509.RevocationListEntry(nil), ca.revoked...)
	ca.mu.Unlock()
	now := time.Now()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(now.UnixNano()),
		ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour), RevokedCertificateEntries: entries}, ca.Cert, ca.Key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	_, _ = w.Write(der)
}

// Issue issues p a certificate with a key of alg.
func (ca *CA) Issue(t testing.TB, alg string, p Person) *Citizen {
	t.Helper()
	key := newKey(t, alg)
	ca.mu.Lock()
	ca.serial++
	serial := ca.serial
	ca.mu.Unlock()
	if p.NotBefore.IsZero() {
		p.NotBefore = time.Now().Add(-time.Hour)
	}
	if p.NotAfter.IsZero() {
		p.NotAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	if p.KeyUsage == 0 {
		p.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: Subject(p),
		NotBefore: p.NotBefore, NotAfter: p.NotAfter, KeyUsage: p.KeyUsage, CRLDistributionPoints: []string{ca.CRLURL}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &Citizen{Cert: c, Key: key}
}

// Subject is the subject name of p's certificate.
func Subject(p Person) pkix.Name {
	n := pkix.Name{CommonName: p.FamilyName + " " + p.GivenName}
	add := func(oid []int, v string) {
		if v != "" {
			n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: oid, Value: v})
		}
	}
	add(esign.OIDSurname, p.FamilyName)
	add(esign.OIDGivenName, p.GivenName)
	add(esign.OIDSNILS, p.SNILS)
	add(esign.OIDINN, p.INN)
	return n
}

// Revoke lists c in the authority's CRL.
func (ca *CA) Revoke(c *Citizen) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.revoked = append(ca.revoked, x509.RevocationListEntry{SerialNumber: c.Cert.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
}

// SignDetached returns a detached DER CMS signature over msg.
func (c *Citizen) SignDetached(t testing.TB, msg []byte) []byte {
	t.Helper()
	if c.gost != nil {
		return c.gost.signDetached(t, msg)
	}
	sd, err := pkcs7.NewSignedData(msg)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(c.Cert, c.Key, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (c *Citizen) signRawGo(t testing.TB, msg []byte) []byte {
	t.Helper()
	h := sha256.Sum256(msg)
	sig, err := c.Key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}
