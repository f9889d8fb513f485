package esign

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/smallstep/pkcs7"
)

// Go verifies RSA and ECDSA signatures in pure Go (CMS through
// github.com/smallstep/pkcs7, the maintained fork of go.mozilla.org/pkcs7).
type Go struct{}

// MaxSignatureSize bounds a CMS signature (a few certificates and a
// signer info are far less).
const MaxSignatureSize = 256 << 10

// Supports reports whether cert has an RSA or ECDSA key.
func (Go) Supports(cert *x509.Certificate) bool {
	switch cert.PublicKey.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
		return true
	}
	return false
}

// ParseCMS reads a DER or PEM CMS SignedData and returns it with its
// signer's certificate (the fuzzed entry point).
func ParseCMS(sig []byte) (*pkcs7.PKCS7, *x509.Certificate, error) {
	if len(sig) == 0 || len(sig) > MaxSignatureSize {
		return nil, nil, ErrNoCertificate
	}
	if b, _ := pem.Decode(sig); b != nil {
		sig = b.Bytes
	}
	p7, err := pkcs7.Parse(sig)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNoCertificate, err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, nil, fmt.Errorf("%w: not one signer with its certificate", ErrNoCertificate)
	}
	return p7, signer, nil
}

// Detached checks a detached CMS signature over msg.
func (g Go) Detached(_ context.Context, sig, msg []byte) (*Signature, error) {
	p7, signer, err := ParseCMS(sig)
	if err != nil {
		return nil, err
	}
	if !g.Supports(signer) {
		return nil, ErrUnsupported
	}
	if len(p7.Content) > 0 {
		return nil, fmt.Errorf("%w: the signature is not detached", ErrBadSignature)
	}
	p7.Content = msg
	// Validity is the Checker's question; the signature alone is checked
	// here (VerifyWithChain with no trust store checks no chain).
	if err := p7.VerifyWithChain(nil); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return &Signature{Signer: signer, Certs: p7.Certificates}, nil
}

// Raw checks a signature over msg by cert's key with the certificate's
// own signature algorithm family and SHA-256 (RSA PKCS#1 v1.5 or ECDSA).
func (g Go) Raw(_ context.Context, cert *x509.Certificate, msg, sig []byte) error {
	alg := x509.SHA256WithRSA
	if _, ok := cert.PublicKey.(*ecdsa.PublicKey); ok {
		alg = x509.ECDSAWithSHA256
	} else if !g.Supports(cert) {
		return ErrUnsupported
	}
	if err := cert.CheckSignature(alg, msg, sig); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

// Chain checks the chain with crypto/x509 (any extended key usage: a
// qualified certificate's purposes vary by authority).
func (Go) Chain(_ context.Context, leaf *x509.Certificate, intermediates, roots []*x509.Certificate, at time.Time) error {
	opts := x509.VerifyOptions{Roots: x509.NewCertPool(), Intermediates: x509.NewCertPool(),
		CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	for _, c := range roots {
		opts.Roots.AddCert(c)
	}
	for _, c := range intermediates {
		opts.Intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(opts); err != nil {
		var ua x509.UnknownAuthorityError
		var ci x509.CertificateInvalidError
		switch {
		case errors.As(err, &ua):
			return fmt.Errorf("%w: %v", ErrUntrusted, err)
		case errors.As(err, &ci) && ci.Reason == x509.Expired:
			return fmt.Errorf("%w: %v", ErrExpired, err)
		}
		return fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	return nil
}

// CRLSignedBy checks the list's signature with crypto/x509.
func (Go) CRLSignedBy(_ context.Context, crl *x509.RevocationList, issuer *x509.Certificate) error {
	return crl.CheckSignatureFrom(issuer)
}
