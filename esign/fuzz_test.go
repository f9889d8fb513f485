package esign_test

import (
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"

	"github.com/gosid/gosid/esign"
	"github.com/gosid/gosid/esign/esigntest"
)

func FuzzParseSubject(f *testing.F) {
	der, _ := asn1.Marshal(esigntest.Subject(esigntest.Ivanov()).ToRDNSequence())
	f.Add(der)
	der, _ = asn1.Marshal(pkix.Name{CommonName: "x"}.ToRDNSequence())
	f.Add(der)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := esign.ParseSubject(b)
		if err != nil {
			return
		}
		if a.SNILS != "" && len(a.SNILS) != 11 {
			t.Fatalf("SNILS %q", a.SNILS)
		}
		if a.INN != "" && len(a.INN) != 12 && len(a.INN) != 10 {
			t.Fatalf("INN %q", a.INN)
		}
	})
}

func FuzzCMS(f *testing.F) {
	ca := esigntest.NewCA(f, "ecdsa", "Fuzz CA")
	c := ca.Issue(f, "ecdsa", esigntest.Ivanov())
	f.Add(c.SignDetached(f, []byte("m")))
	f.Add([]byte("-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, signer, err := esign.ParseCMS(b)
		if err == nil && signer == nil {
			t.Fatal("no error and no signer")
		}
		_, _ = esign.Go{}.Detached(context.Background(), b, []byte("m"))
	})
}
