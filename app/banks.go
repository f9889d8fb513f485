package app

import (
	"crypto/tls"
	"net/http"

	"github.com/gosid/gosid/federation"
	fedoidc "github.com/gosid/gosid/federation/oidc"
	"github.com/gosid/gosid/selfservice/bank"
)

// newBanks builds the partner banks of the configuration. Nothing is
// fetched here: a bank that is down fails its own button, never the start
// of gosid nor its readiness.
func (srv *Server) newBanks() (*federation.Registry, error) {
	cfg := srv.Config
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	opts := fedoidc.Options{RedirectURL: cfg.Issuer + bank.PathCallback, Transport: t}
	return federation.NewRegistry(cfg.Banks, func(b *federation.Bank) (federation.Connector, error) {
		return fedoidc.New(b, opts)
	})
}
