package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gosid/gosid/registry/sim"
)

// runRegistrySim serves the reference registry simulator (registry/sim)
// until SIGINT or SIGTERM: the passport, SNILS and INN registries for
// development, answering from the embedded dataset of fictional persons or
// from --seed. With --tls-cert and --tls-key it speaks HTTPS; --client-ca
// then also requires client certificates signed by that CA (mutual TLS).
func runRegistrySim(args []string) error {
	fs := newFlagSet("registry-sim", os.Stderr)
	addr := fs.String("addr", "127.0.0.1:8479", "address to listen on")
	seed := fs.String("seed", "", "JSON dataset of persons (default: the embedded one, see registry/sim/README.md)")
	certFile := fs.String("tls-cert", "", "server certificate (PEM) to serve HTTPS")
	keyFile := fs.String("tls-key", "", "private key (PEM) of --tls-cert")
	clientCA := fs.String("client-ca", "", "CA certificates (PEM) a client certificate must chain to (needs --tls-cert)")
	slow := fs.Duration("slow-delay", sim.DefaultSlowDelay, "how long a check of a \"slow\" person takes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("registry-sim: unexpected argument %q", fs.Arg(0))
	}
	log := newLogger("info", os.Stderr)
	opts := sim.ServerOptions{SlowDelay: *slow, Logger: log}
	if *seed != "" {
		ds, err := sim.LoadFile(*seed)
		if err != nil {
			return err
		}
		opts.Dataset = &ds
	}
	if (*certFile == "") != (*keyFile == "") {
		return errors.New("registry-sim: --tls-cert and --tls-key go together")
	}
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("registry-sim: %w", err)
		}
		opts.Certificate = &cert
	}
	if *clientCA != "" {
		pem, err := os.ReadFile(*clientCA)
		if err != nil {
			return fmt.Errorf("registry-sim: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("registry-sim: no certificate in %s", *clientCA)
		}
		opts.ClientCAs = pool
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := sim.Start(*addr, opts)
	if err != nil {
		return err
	}
	log.Info("registry simulator listening", "url", srv.URL, "mtls", opts.ClientCAs != nil, "seed", *seed)
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return srv.Close()
	}
	return nil
}
