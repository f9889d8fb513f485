package registry_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/gosid/gosid/registry"
	"github.com/gosid/gosid/registry/sim"
)

// testCA issues certificates for the mTLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue returns a leaf certificate for a server (on 127.0.0.1) or a client.
func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestMutualTLS(t *testing.T) {
	ca, stranger := newCA(t, "registry test CA"), newCA(t, "another CA")
	serverCert := ca.issue(t, "registry", x509.ExtKeyUsageServerAuth)
	srv, err := sim.Start("127.0.0.1:0", sim.ServerOptions{Certificate: &serverCert, ClientCAs: ca.pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	q := seeded(t, "ivanov").SNILSQuery()

	t.Run("accepted", func(t *testing.T) {
		h := newAdapter(t, registry.HTTPOptions{
			BaseURL: srv.URL, RootCAs: ca.pool, ClientCert: ca.issue(t, "gosid", x509.ExtKeyUsageClientAuth),
		})
		for _, c := range []call{snils(q), passport(seeded(t, "ivanov").PassportQuery()), inn(seeded(t, "ivanov").INNQuery())} {
			if r, err := c(context.Background(), h); err != nil || r.Outcome != registry.Match {
				t.Fatalf("%+v %v", r, err)
			}
		}
	})
	for _, tc := range []struct {
		name string
		opts registry.HTTPOptions
	}{
		{"no client certificate", registry.HTTPOptions{BaseURL: srv.URL, RootCAs: ca.pool}},
		{"client certificate from another CA", registry.HTTPOptions{
			BaseURL: srv.URL, RootCAs: ca.pool, ClientCert: stranger.issue(t, "gosid", x509.ExtKeyUsageClientAuth)}},
		{"server not trusted", registry.HTTPOptions{
			BaseURL: srv.URL, RootCAs: stranger.pool, ClientCert: ca.issue(t, "gosid", x509.ExtKeyUsageClientAuth)}},
		{"system roots", registry.HTTPOptions{
			BaseURL: srv.URL, ClientCert: ca.issue(t, "gosid", x509.ExtKeyUsageClientAuth)}},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			before := srv.Requests()
			h := newAdapter(t, tc.opts)
			// Refused at the handshake: nothing was said about the query, so
			// the failure is temporary (fix the certificates, then retry).
			if e := wantTemporary(t)(h.CheckSNILS(context.Background(), q)); e.Status != 0 {
				t.Errorf("%+v", e)
			}
			if srv.Requests() != before {
				t.Error("the check reached the registry")
			}
		})
	}
	t.Run("client certificate over plain http", func(t *testing.T) {
		_, err := registry.NewHTTP(registry.HTTPOptions{
			BaseURL: "http://127.0.0.1:1", ClientCert: ca.issue(t, "gosid", x509.ExtKeyUsageClientAuth),
		})
		if err == nil {
			t.Fatal("accepted")
		}
	})
}

func TestServerTLSWithoutClientCertificates(t *testing.T) {
	ca := newCA(t, "registry test CA")
	serverCert := ca.issue(t, "registry", x509.ExtKeyUsageServerAuth)
	srv, err := sim.Start("127.0.0.1:0", sim.ServerOptions{Certificate: &serverCert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL, RootCAs: ca.pool})
	if r, err := h.CheckSNILS(context.Background(), seeded(t, "ivanov").SNILSQuery()); err != nil || r.Outcome != registry.Match {
		t.Fatalf("%+v %v", r, err)
	}
	// The simulator refuses a client CA without a certificate of its own.
	if _, err := sim.Start("127.0.0.1:0", sim.ServerOptions{ClientCAs: ca.pool}); err == nil {
		t.Fatal("started")
	}
}
