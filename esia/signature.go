package esia

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"
)

// GOST verifies what ESIA clients sign with GOST R 34.10-2012 keys: the
// raw signature (OpenSSL gost-engine byte order) over a message, and the
// Streebog-256 hash of a certificate for client_certificate_hash. gosid's
// GOST provider (openssl with the GOST engine) implements it; without one
// only RSA clients are served.
type GOST interface {
	// VerifyRaw checks sig, a raw GOST R 34.10-2012 signature over the
	// Streebog hash of msg, with the certificate (DER).
	VerifyRaw(certDER, msg, sig []byte) error
	// Streebog256 returns the Streebog-256 hash of data.
	Streebog256(data []byte) ([]byte, error)
}

// ErrSignature is returned for a client_secret that does not verify.
var ErrSignature = errors.New("esia: client_secret does not verify")

// errNoGOST is returned for a GOST certificate when no GOST provider is
// configured.
var errNoGOST = errors.New("esia: no GOST provider configured")

// ParseCertificate reads a PEM (or DER) certificate.
func ParseCertificate(data []byte) (*x509.Certificate, error) {
	if b, _ := pem.Decode(data); b != nil {
		data = b.Bytes
	}
	return x509.ParseCertificate(data)
}

// isGOST reports whether the certificate's key is a GOST R 34.10-2012 key
// (Go's x509 does not know the algorithm).
func isGOST(c *x509.Certificate) bool {
	_, ok := c.PublicKey.(*rsa.PublicKey)
	return !ok
}

// decodeSecret decodes a client_secret: base64url with or without padding,
// plain base64 with or without padding, and the ASP.NET UrlTokenEncode
// form (a trailing digit counting the padding). A string may decode more
// than one way (an UrlTokenEncode value is also valid unpadded base64):
// every decoding is returned.
func decodeSecret(s string) [][]byte {
	s = strings.TrimSpace(s)
	var out [][]byte
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			out = append(out, b)
		}
	}
	if n := len(s); n > 0 && s[n-1] >= '0' && s[n-1] <= '2' {
		if b, err := base64.URLEncoding.DecodeString(s[:n-1] + strings.Repeat("=", int(s[n-1]-'0'))); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// verifySecret checks a raw client_secret over each candidate message and
// succeeds when one verifies.
func verifySecret(cert *x509.Certificate, gost GOST, secret string, candidates []string) error {
	sigs := decodeSecret(secret)
	for _, sig := range sigs {
		if err := verifyOne(cert, gost, sig, candidates); err == nil || errors.Is(err, errNoGOST) {
			return err
		}
	}
	return ErrSignature
}

func verifyOne(cert *x509.Certificate, gost GOST, sig []byte, candidates []string) error {
	for _, msg := range candidates {
		switch pub := cert.PublicKey.(type) {
		case *rsa.PublicKey:
			h := sha256.Sum256([]byte(msg))
			if rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil {
				return nil
			}
		default:
			if gost == nil {
				return errNoGOST
			}
			if gost.VerifyRaw(cert.Raw, []byte(msg), sig) == nil {
				return nil
			}
		}
	}
	return ErrSignature
}

// certHashes are the client_certificate_hash values accepted for cert, in
// upper-case hex: the Streebog-256 of the DER certificate (either byte
// order) when a GOST provider is configured and, for an RSA certificate,
// its SHA-256 as well (gosid cannot compute Streebog without the
// provider).
func certHashes(cert *x509.Certificate, gost GOST) []string {
	var out []string
	if gost != nil {
		if h, err := gost.Streebog256(cert.Raw); err == nil {
			out = append(out, strings.ToUpper(hex.EncodeToString(h)))
			r := make([]byte, len(h))
			for i := range h {
				r[i] = h[len(h)-1-i]
			}
			out = append(out, strings.ToUpper(hex.EncodeToString(r)))
		}
	}
	if !isGOST(cert) {
		h := sha256.Sum256(cert.Raw)
		out = append(out, strings.ToUpper(hex.EncodeToString(h[:])))
	}
	return out
}
