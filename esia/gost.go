package esia

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"os/exec"
	"time"

	"github.com/gosid/gosid/esign"
)

// OpenSSLGOST is the GOST interface on gosid's GOST provider: raw
// signatures through esign.GOST (openssl with the GOST engine), and the
// Streebog-256 certificate hash through the same openssl binary.
type OpenSSLGOST struct {
	GOST *esign.GOST
}

// VerifyRaw implements GOST.
func (o OpenSSLGOST) VerifyRaw(certDER, msg, sig []byte) error {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return o.GOST.Raw(ctx, cert, msg, sig)
}

// Streebog256 implements GOST: openssl dgst -md_gost12_256 with the GOST
// engine.
func (o OpenSSLGOST) Streebog256(data []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := o.GOST.Available(ctx); err != nil {
		return nil, err
	}
	bin := o.GOST.OpenSSL
	cmd := exec.CommandContext(ctx, bin, "dgst", "-engine", "gost", "-md_gost12_256", "-binary")
	cmd.Stdin = bytes.NewReader(data)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("esia: openssl dgst: %w: %s", err, errOut.String())
	}
	if out.Len() != 32 {
		return nil, fmt.Errorf("esia: openssl dgst gave %d bytes", out.Len())
	}
	return out.Bytes(), nil
}
