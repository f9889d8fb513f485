package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/riverqueue/river"

	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/operator"
	"github.com/gosid/gosid/post"
	"github.com/gosid/gosid/registry"
	"github.com/gosid/gosid/registry/sim"
	"github.com/gosid/gosid/verify"
)

// newRegistry connects to the state registries' gateway. Without one, in
// development mode, the reference registry runs in-process on loopback (a
// real HTTP connection, seeded fictional persons: registry/sim/README.md);
// otherwise there is no registry and identity checks are refused.
func newRegistry(s *Stores) (registry.Registry, func(), error) {
	cfg := s.Config
	opts := registry.HTTPOptions{BaseURL: cfg.RegistryURL, Timeout: cfg.RegistryTimeout}
	stop := func() {}
	switch {
	case cfg.RegistryURL != "":
		if cfg.RegistryCert != "" {
			cert, err := tls.LoadX509KeyPair(cfg.RegistryCert, cfg.RegistryKey)
			if err != nil {
				return nil, nil, fmt.Errorf("registry client certificate: %w", err)
			}
			opts.ClientCert = cert
		}
		if cfg.RegistryCA != "" {
			pem, err := os.ReadFile(cfg.RegistryCA)
			if err != nil {
				return nil, nil, fmt.Errorf("registry CA: %w", err)
			}
			opts.RootCAs = x509.NewCertPool()
			if !opts.RootCAs.AppendCertsFromPEM(pem) {
				return nil, nil, errors.New("registry CA: no certificate in the file")
			}
		}
	case cfg.Dev:
		srv, err := sim.Start("127.0.0.1:0", sim.ServerOptions{Logger: s.Log.With("component", "registry-sim")})
		if err != nil {
			return nil, nil, fmt.Errorf("reference registry: %w", err)
		}
		s.Log.Warn("development mode: identity checks go to the built-in reference registry (fictional persons)", "url", srv.URL)
		opts.BaseURL, stop = srv.URL, func() { _ = srv.Close() }
	default:
		s.Log.Warn("no state registry configured (GOSID_REGISTRY_URL): identity checks are unavailable")
		return nil, stop, nil
	}
	r, err := registry.NewHTTP(opts)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return r, stop, nil
}

// newVerifier builds the identity-check service, which commits its jobs to
// the durable queue, and the worker that runs them once the queue starts;
// notices tell the citizen the outcome.
func (srv *Server) newVerifier(reg registry.Registry, notices *notify.Notices) (*verify.Service, *verify.Worker) {
	o := verify.Options{
		Store: srv.DB, Accounts: srv.DB, Tx: srv.DB, Cipher: srv.PII, Registry: reg, Audit: srv.DB, Logger: srv.Log,
		Notify: notices.Notify,
	}
	w := verify.NewWorker(o)
	w.RunTimeout = srv.Config.RegistryTimeout * 4
	return verify.New(o, srv.Queue), w
}

var _ river.Worker[verify.CheckArgs] = (*verify.Worker)(nil)

// unavailable is the registry of a node without one: every check is a
// temporary failure, so queued checks wait (and are retried) rather than
// being decided.
type unavailable struct{}

var errNoRegistry = fmt.Errorf("%w: no state registry is configured", registry.ErrTemporary)

func (unavailable) CheckPassport(context.Context, registry.PassportQuery) (registry.Result, error) {
	return registry.Result{}, errNoRegistry
}
func (unavailable) CheckSNILS(context.Context, registry.SNILSQuery) (registry.Result, error) {
	return registry.Result{}, errNoRegistry
}
func (unavailable) CheckINN(context.Context, registry.INNQuery) (registry.Result, error) {
	return registry.Result{}, errNoRegistry
}

// NewPost builds the Post letter service on the stores: the command line's
// export uses it without a running server.
func NewPost(s *Stores, v post.Verifier) *post.Service {
	return post.New(post.Options{Store: s.DB, Accounts: s.DB, Verify: v, Audit: s.DB, Tx: s.DB, Cipher: s.PII,
		HashKey: s.Sealer.DeriveKey("post-code"), Logger: s.Log})
}

// NewOperators builds the service centres' console service on the stores;
// the command line manages centres and operators with it (v may then be
// nil: it is needed only for actions on citizens).
func NewOperators(s *Stores, v operator.Verifier) *operator.Service {
	return operator.New(operator.Options{
		Store: s.DB, Accounts: s.DB, Verify: v, Audit: s.DB, Tx: s.DB, Cipher: s.PII, Passwords: s.Passwords,
		Ephemeral: s.Ephemeral, TOTP: mfa.NewVerifier(s.Ephemeral), Issuer: "gosid", Logger: s.Log,
	})
}
