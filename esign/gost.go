package esign

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// GOST verifies GOST R 34.10-2012 signatures with Streebog (GOST R
// 34.11-2012) by running the openssl command with Debian's GOST engine
// (package libengine-gost-openssl): no Go implementation is reachable, and
// gosid writes no cryptography of its own. A process per check costs a few
// milliseconds (see the benchmarks); Limit bounds how many run at once.
type GOST struct {
	// OpenSSL is the openssl binary ("openssl" on PATH by default).
	OpenSSL string
	// Timeout bounds one openssl run (10 s by default).
	Timeout time.Duration
	// Limit bounds concurrent openssl runs (4 by default).
	Limit int

	once sync.Once
	err  error
	sem  chan struct{}
	conf string
}

// engineConf makes every openssl command load the GOST engine for all its
// algorithms (openssl crl has no -engine option).
const engineConf = `openssl_conf = openssl_def
[openssl_def]
engines = engine_section
[engine_section]
gost = gost_section
[gost_section]
engine_id = gost
default_algorithms = ALL
`

// Available reports whether openssl and its GOST engine can be run;
// ErrGOSTUnavailable (with what is missing) when not.
func (g *GOST) Available(ctx context.Context) error {
	g.once.Do(func() {
		if g.OpenSSL == "" {
			g.OpenSSL = "openssl"
		}
		if g.Timeout <= 0 {
			g.Timeout = 10 * time.Second
		}
		if g.Limit <= 0 {
			g.Limit = 4
		}
		g.sem = make(chan struct{}, g.Limit)
		path, err := exec.LookPath(g.OpenSSL)
		if err != nil {
			g.err = fmt.Errorf("%w: %v", ErrGOSTUnavailable, err)
			return
		}
		g.OpenSSL = path
		out, err := exec.CommandContext(ctx, path, "engine", "gost", "-t").CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("available")) {
			g.err = fmt.Errorf("%w: openssl engine gost: %s", ErrGOSTUnavailable, firstLines(out))
			return
		}
		dir, err := files(map[string][]byte{"openssl.cnf": []byte(engineConf)})
		if err != nil {
			g.err = err
			return
		}
		g.conf = filepath.Join(dir, "openssl.cnf")
	})
	return g.err
}

// Supports reports whether cert has a GOST R 34.10-2012 key.
func (g *GOST) Supports(cert *x509.Certificate) bool { return IsGOST(cert) }

// run runs openssl with the GOST engine loaded in dir; a non-zero exit is
// returned with openssl's output.
func (g *GOST) run(ctx context.Context, dir string, args ...string) ([]byte, error) {
	if err := g.Available(ctx); err != nil {
		return nil, err
	}
	select {
	case g.sem <- struct{}{}:
		defer func() { <-g.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, g.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.OpenSSL, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "OPENSSL_CONF=" + g.conf}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return out, fmt.Errorf("esign: openssl %s: %w", args[0], ctx.Err())
	}
	return out, err
}

// files writes name→content into a fresh directory.
func files(m map[string][]byte) (string, error) {
	dir, err := os.MkdirTemp("", "gosid-esign-")
	if err != nil {
		return "", err
	}
	for name, b := range m {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

func pemOf(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// Detached checks a detached CMS signature over msg with openssl cms;
// the chain is not checked here (-noverify): that is Chain's job.
func (g *GOST) Detached(ctx context.Context, sig, msg []byte) (*Signature, error) {
	p7, signer, err := ParseCMS(sig)
	if err != nil {
		return nil, err
	}
	if !IsGOST(signer) {
		return nil, ErrUnsupported
	}
	if len(p7.Content) > 0 {
		return nil, fmt.Errorf("%w: the signature is not detached", ErrBadSignature)
	}
	der := sig
	if b, _ := pem.Decode(sig); b != nil {
		der = b.Bytes
	}
	dir, err := files(map[string][]byte{"sig.der": der, "msg": msg})
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out, err := g.run(ctx, dir, "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der",
		"-content", "msg", "-noverify", "-out", os.DevNull)
	if err != nil {
		return nil, g.fail(err, out)
	}
	return &Signature{Signer: signer, Certs: p7.Certificates}, nil
}

// fail turns a failed openssl run into ErrBadSignature, unless it could
// not run at all.
func (g *GOST) fail(err error, out []byte) error {
	if _, ok := err.(*exec.ExitError); ok {
		return fmt.Errorf("%w: %s", ErrBadSignature, firstLines(out))
	}
	return err
}

// Raw checks a signature over msg by cert's key: Streebog-256 for a
// 256-bit key, Streebog-512 for a 512-bit one, the signature as openssl
// makes it (openssl dgst -sign).
func (g *GOST) Raw(ctx context.Context, cert *x509.Certificate, msg, sig []byte) error {
	md := "-md_gost12_256"
	switch a := spkiAlgorithm(cert); {
	case a.Equal(oidGOST512):
		md = "-md_gost12_512"
	case !a.Equal(oidGOST256):
		return ErrUnsupported
	}
	dir, err := files(map[string][]byte{"cert.pem": pemOf(cert), "msg": msg, "sig": sig})
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pub, err := g.run(ctx, dir, "x509", "-in", "cert.pem", "-pubkey", "-noout")
	if err != nil {
		return fmt.Errorf("esign: read the GOST key: %v: %s", err, firstLines(pub))
	}
	if err := os.WriteFile(filepath.Join(dir, "pub.pem"), pub, 0o600); err != nil {
		return err
	}
	out, err := g.run(ctx, dir, "dgst", md, "-verify", "pub.pem", "-signature", "sig", "msg")
	if err != nil {
		return g.fail(err, out)
	}
	return nil
}

// Chain checks the chain with openssl verify at the time at.
func (g *GOST) Chain(ctx context.Context, leaf *x509.Certificate, intermediates, roots []*x509.Certificate, at time.Time) error {
	if len(roots) == 0 {
		return fmt.Errorf("%w: no trusted roots configured", ErrUntrusted)
	}
	fs := map[string][]byte{"leaf.pem": pemOf(leaf), "roots.pem": pemOf(roots...)}
	args := []string{"verify", "-CAfile", "roots.pem", "-attime", strconv.FormatInt(at.Unix(), 10), "-purpose", "any"}
	if len(intermediates) > 0 {
		fs["untrusted.pem"] = pemOf(intermediates...)
		args = append(args, "-untrusted", "untrusted.pem")
	}
	dir, err := files(fs)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out, err := g.run(ctx, dir, append(args, "leaf.pem")...)
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			return err
		}
		if bytes.Contains(out, []byte("certificate has expired")) {
			return fmt.Errorf("%w: %s", ErrExpired, firstLines(out))
		}
		return fmt.Errorf("%w: %s", ErrUntrusted, firstLines(out))
	}
	return nil
}

// CRLSignedBy checks the list's signature with openssl crl.
func (g *GOST) CRLSignedBy(ctx context.Context, crl *x509.RevocationList, issuer *x509.Certificate) error {
	dir, err := files(map[string][]byte{"crl.der": crl.Raw, "issuer.pem": pemOf(issuer)})
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out, err := g.run(ctx, dir, "crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "issuer.pem", "-noout")
	if err != nil || !bytes.Contains(out, []byte("verify OK")) {
		return fmt.Errorf("esign: the CRL's signature: %v: %s", err, firstLines(out))
	}
	return nil
}

func firstLines(b []byte) string {
	lines := bytes.SplitN(bytes.TrimSpace(b), []byte("\n"), 4)
	if len(lines) > 3 {
		lines = lines[:3]
	}
	s := string(bytes.Join(lines, []byte("; ")))
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
