// Package esign checks electronic signatures and the certificates behind
// them: detached CMS (PKCS#7) signatures and raw signatures over a
// message, RSA and ECDSA in Go, GOST R 34.10-2012 with Streebog through
// the OpenSSL GOST engine (gosid writes no cryptography of its own), and
// the certificate's chain to the trusted (accredited) certification
// authorities, its validity, key usage and revocation.
//
// A Verifier only says whether bytes were signed by a key; a Checker
// decides whether the certificate is worth anything. Both fail closed: a
// check that cannot be completed (a CRL that cannot be fetched, the GOST
// engine missing) is an error, never a pass.
package esign

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"time"
)

// Verifier verifies signatures for one family of algorithms. The same
// interface serves the citizen's sign-in (a detached CMS signature over a
// challenge) and, later, the GOST client_secret of the ESIA dialect (a raw
// signature made with a registered certificate).
type Verifier interface {
	// Detached checks a DER (or PEM) CMS SignedData whose content is msg,
	// carried apart, and returns its signer's certificate and the other
	// certificates it carries. It makes no trust decision.
	Detached(ctx context.Context, sig, msg []byte) (*Signature, error)
	// Raw checks sig, a signature over msg by cert's key.
	Raw(ctx context.Context, cert *x509.Certificate, msg, sig []byte) error
	// Chain checks that leaf chains to one of roots through intermediates
	// with valid signatures at the time at.
	Chain(ctx context.Context, leaf *x509.Certificate, intermediates, roots []*x509.Certificate, at time.Time) error
	// CRLSignedBy checks that issuer signed the revocation list.
	CRLSignedBy(ctx context.Context, crl *x509.RevocationList, issuer *x509.Certificate) error
	// Supports reports whether the verifier handles cert's key.
	Supports(cert *x509.Certificate) bool
}

// Signature is a verified CMS signature: who signed and what certificates
// came with it.
type Signature struct {
	Signer *x509.Certificate
	Certs  []*x509.Certificate
}

// Errors callers branch on; each has the citizen's wording in Message.
var (
	// ErrNoCertificate: no signature or certificate could be read
	// («Сертификат не найден»).
	ErrNoCertificate = errors.New("esign: certificate not found")
	// ErrBadSignature: the signature does not match the message or key.
	ErrBadSignature = errors.New("esign: the signature is not valid")
	// ErrExpired: the certificate's validity has ended.
	ErrExpired = errors.New("esign: the certificate has expired")
	// ErrNotYetValid: the certificate's validity has not begun.
	ErrNotYetValid = errors.New("esign: the certificate is not valid yet")
	// ErrRevoked: the certificate is listed in its authority's CRL.
	ErrRevoked = errors.New("esign: the certificate is revoked")
	// ErrUntrusted: the certificate does not chain to an accredited
	// certification authority.
	ErrUntrusted = errors.New("esign: the certificate is not issued by an accredited certification authority")
	// ErrKeyUsage: the key may not make signatures (no digitalSignature
	// or nonRepudiation).
	ErrKeyUsage = errors.New("esign: the certificate's key is not for signatures")
	// ErrRevocationUnknown: the revocation status could not be checked.
	ErrRevocationUnknown = errors.New("esign: the certificate's revocation status cannot be checked")
	// ErrNoSNILS: the certificate carries no SNILS.
	ErrNoSNILS = errors.New("esign: the certificate carries no SNILS")
	// ErrUnsupported: no verifier for the certificate's algorithm.
	ErrUnsupported = errors.New("esign: the signature algorithm is not supported")
	// ErrGOSTUnavailable: the OpenSSL GOST engine is not installed.
	ErrGOSTUnavailable = errors.New("esign: GOST R 34.10-2012 needs the OpenSSL GOST engine (Debian package libengine-gost-openssl), which is not installed")
)

// OIDs of GOST R 34.10-2012 public keys (256 and 512 bits).
var (
	oidGOST256 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 1}
	oidGOST512 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 2}
)

// spkiAlgorithm returns the OID of cert's public key algorithm.
func spkiAlgorithm(cert *x509.Certificate) asn1.ObjectIdentifier {
	var spki struct {
		Algorithm struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.RawValue `asn1:"optional"`
		}
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	return spki.Algorithm.Algorithm
}

// IsGOST reports whether cert has a GOST R 34.10-2012 key.
func IsGOST(cert *x509.Certificate) bool {
	a := spkiAlgorithm(cert)
	return a.Equal(oidGOST256) || a.Equal(oidGOST512)
}

func pemDecode(b []byte) ([]byte, error) {
	if p, _ := pem.Decode(b); p != nil {
		return p.Bytes, nil
	}
	return nil, nil
}
