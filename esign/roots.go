package esign

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadRoots reads the trusted certification authorities: every .pem, .crt
// or .cer file (PEM or DER) in dir, and each of files. A file that cannot
// be read is an error: a trust list silently shorter than configured would
// refuse citizens for no reason they could see.
func LoadRoots(dir string, files []string) ([]*x509.Certificate, error) {
	var paths []string
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("esign: trusted roots: %w", err)
		}
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".pem", ".crt", ".cer", ".der":
				paths = append(paths, filepath.Join(dir, e.Name()))
			}
		}
	}
	paths = append(paths, files...)
	var out []*x509.Certificate
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("esign: trusted roots: %w", err)
		}
		certs, err := ParseCertificates(b)
		if err != nil {
			return nil, fmt.Errorf("esign: trusted roots: %s: %w", p, err)
		}
		out = append(out, certs...)
	}
	return out, nil
}

// ParseCertificates reads PEM certificates, or one DER certificate.
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := b
	for {
		var p *pem.Block
		p, rest = pem.Decode(rest)
		if p == nil {
			break
		}
		if p.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(p.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) > 0 {
		return out, nil
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		return nil, ErrNoCertificate
	}
	return []*x509.Certificate{c}, nil
}
