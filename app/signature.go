package app

import (
	"github.com/gosid/gosid/esign"
	"github.com/gosid/gosid/provider"
	"github.com/gosid/gosid/selfservice/signature"
)

// crlMaxBytes bounds a revocation list: an accredited authority's list
// runs to megabytes.
const crlMaxBytes = 64 << 20

// newSignature builds the e-signature flows: the trusted roots from the
// configuration, RSA/ECDSA in Go and GOST through the OpenSSL GOST engine
// (checked when a GOST signature first arrives), CRLs through the bounded
// fetch client (loopback allowed in development mode, where the test
// authority's CRL is served locally).
func (srv *Server) newSignature() (*signature.Service, error) {
	cfg := srv.Config
	trusted, err := esign.LoadRoots(cfg.ESignRootsDir, cfg.ESignRoots)
	if err != nil {
		return nil, err
	}
	if len(trusted) == 0 {
		srv.Log.Info("no trusted certification authorities configured: electronic signatures are refused (esign_roots_dir, esign_roots)")
	}
	client := provider.NewFetchClient(provider.FetchOptions{Timeout: cfg.FetchTimeout, MaxBytes: crlMaxBytes,
		AllowPrivate: cfg.FetchAllowPrivate || cfg.Dev}).StandardClient()
	checker := &esign.Checker{Roots: trusted, Verifiers: []esign.Verifier{esign.Go{}, &esign.GOST{}},
		CRLs: &esign.CRLCache{Client: client, MaxSize: crlMaxBytes}, Now: srv.Engine.Now}
	return signature.New(signature.Deps{Engine: srv.Engine, Checker: checker, Verify: srv.Verify, Enabled: len(trusted) > 0}), nil
}
