package esign

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Checker decides whether a signature counts: it was made by a key of a
// certificate that chains to a trusted (accredited) certification
// authority, is valid now, may sign, and is not revoked.
type Checker struct {
	// Roots are the trusted certification authorities.
	Roots []*x509.Certificate
	// Verifiers, tried in order by Supports (Go, then GOST).
	Verifiers []Verifier
	// CRLs fetches and caches revocation lists.
	CRLs *CRLCache
	Now  func() time.Time
}

// Certificate is a checked certificate and the citizen's data in it.
type Certificate struct {
	Cert *x509.Certificate
	Attributes
	Algorithm string
}

// Issuer is the issuing authority's name; Serial the serial number in hex.
func (c *Certificate) Issuer() string { return c.Cert.Issuer.String() }

// Serial is the certificate's serial number in hex.
func (c *Certificate) Serial() string { return fmt.Sprintf("%X", c.Cert.SerialNumber) }

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Checker) verifier(cert *x509.Certificate) (Verifier, string, error) {
	for _, v := range c.Verifiers {
		if v.Supports(cert) {
			name := "RSA/ECDSA"
			if IsGOST(cert) {
				name = "GOST R 34.10-2012"
			}
			return v, name, nil
		}
	}
	return nil, "", ErrUnsupported
}

// VerifyDetached checks a detached CMS signature over msg and its signer's
// certificate.
func (c *Checker) VerifyDetached(ctx context.Context, sig, msg []byte) (*Certificate, error) {
	_, signer, err := ParseCMS(sig)
	if err != nil {
		return nil, err
	}
	// Dates first: an expired certificate is called expired, whatever
	// else is wrong with the signature.
	if err := c.dates(signer); err != nil {
		return nil, err
	}
	v, _, err := c.verifier(signer)
	if err != nil {
		return nil, err
	}
	s, err := v.Detached(ctx, sig, msg)
	if err != nil {
		return nil, err
	}
	return c.Check(ctx, s.Signer, s.Certs)
}

// VerifyRaw checks a raw signature over msg by cert's key and cert.
func (c *Checker) VerifyRaw(ctx context.Context, cert *x509.Certificate, msg, sig []byte) (*Certificate, error) {
	v, _, err := c.verifier(cert)
	if err != nil {
		return nil, err
	}
	if err := v.Raw(ctx, cert, msg, sig); err != nil {
		return nil, err
	}
	return c.Check(ctx, cert, nil)
}

// Check checks cert (with the certificates that came with it as possible
// intermediates): validity first, so that an expired certificate is
// called expired, then key usage, chain and revocation.
func (c *Checker) Check(ctx context.Context, cert *x509.Certificate, others []*x509.Certificate) (*Certificate, error) {
	now := c.now()
	if err := c.dates(cert); err != nil {
		return nil, err
	}
	if cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, ErrKeyUsage
	}
	v, alg, err := c.verifier(cert)
	if err != nil {
		return nil, err
	}
	var inter []*x509.Certificate
	for _, o := range others {
		if !bytes.Equal(o.Raw, cert.Raw) {
			inter = append(inter, o)
		}
	}
	if err := v.Chain(ctx, cert, inter, c.Roots, now); err != nil {
		return nil, err
	}
	issuer := c.issuerOf(cert, inter)
	if issuer == nil {
		return nil, ErrUntrusted
	}
	if err := c.CRLs.Check(ctx, v, cert, issuer, now); err != nil {
		return nil, err
	}
	return &Certificate{Cert: cert, Attributes: ReadAttributes(cert), Algorithm: alg}, nil
}

func (c *Checker) dates(cert *x509.Certificate) error {
	now := c.now()
	if now.After(cert.NotAfter) {
		return fmt.Errorf("%w: valid until %s", ErrExpired, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(cert.NotBefore) {
		return fmt.Errorf("%w: valid from %s", ErrNotYetValid, cert.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// issuerOf finds cert's issuer among the roots and intermediates (the
// chain was checked already; this finds the CRL's signer).
func (c *Checker) issuerOf(cert *x509.Certificate, inter []*x509.Certificate) *x509.Certificate {
	for _, list := range [][]*x509.Certificate{inter, c.Roots} {
		for _, p := range list {
			if bytes.Equal(p.RawSubject, cert.RawIssuer) &&
				(len(cert.AuthorityKeyId) == 0 || len(p.SubjectKeyId) == 0 || bytes.Equal(cert.AuthorityKeyId, p.SubjectKeyId)) {
				return p
			}
		}
	}
	return nil
}

// CRLCache fetches the revocation lists named by certificates'
// distribution points and keeps each until its nextUpdate.
type CRLCache struct {
	// Client is the bounded fetch client (timeouts, size cap, no
	// internal addresses unless development).
	Client *http.Client
	// MaxSize bounds a list (16 MiB by default).
	MaxSize int64

	mu    sync.Mutex
	byURL map[string]*x509.RevocationList
}

// Check fails closed: a certificate with no distribution point, or whose
// lists cannot be fetched, parsed, verified or are stale, is
// ErrRevocationUnknown; one listed is ErrRevoked.
func (c *CRLCache) Check(ctx context.Context, v Verifier, cert, issuer *x509.Certificate, now time.Time) error {
	if len(cert.CRLDistributionPoints) == 0 {
		return fmt.Errorf("%w: the certificate names no CRL distribution point", ErrRevocationUnknown)
	}
	var errs []error
	for _, u := range cert.CRLDistributionPoints {
		crl, err := c.list(ctx, v, u, issuer, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber != nil && e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return fmt.Errorf("%w: since %s", ErrRevoked, e.RevocationTime.UTC().Format(time.RFC3339))
			}
		}
		return nil
	}
	return fmt.Errorf("%w: %v", ErrRevocationUnknown, errors.Join(errs...))
}

func (c *CRLCache) list(ctx context.Context, v Verifier, u string, issuer *x509.Certificate, now time.Time) (*x509.RevocationList, error) {
	c.mu.Lock()
	crl := c.byURL[u]
	c.mu.Unlock()
	if crl != nil && now.Before(crl.NextUpdate) && bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return crl, nil
	}
	crl, err := c.fetch(ctx, u)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return nil, fmt.Errorf("esign: the CRL at %s is not the issuer's", u)
	}
	if err := v.CRLSignedBy(ctx, crl, issuer); err != nil {
		return nil, fmt.Errorf("esign: the CRL at %s: %w", u, err)
	}
	if crl.NextUpdate.IsZero() || !now.Before(crl.NextUpdate) {
		return nil, fmt.Errorf("esign: the CRL at %s is stale (next update %s)", u, crl.NextUpdate.UTC().Format(time.RFC3339))
	}
	c.mu.Lock()
	if c.byURL == nil {
		c.byURL = map[string]*x509.RevocationList{}
	}
	c.byURL[u] = crl
	c.mu.Unlock()
	return crl, nil
}

func (c *CRLCache) fetch(ctx context.Context, u string) (*x509.RevocationList, error) {
	if c.Client == nil {
		return nil, errors.New("esign: no client to fetch CRLs")
	}
	max := c.MaxSize
	if max <= 0 {
		max = 16 << 20
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("esign: CRL at %q: %w", u, err)
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("esign: fetch the CRL: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("esign: fetch the CRL at %s: status %d", u, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("esign: fetch the CRL at %s: %w", u, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("esign: the CRL at %s is larger than %d bytes", u, max)
	}
	if p, _ := pemDecode(b); p != nil {
		b = p
	}
	crl, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, fmt.Errorf("esign: parse the CRL at %s: %w", u, err)
	}
	return crl, nil
}
