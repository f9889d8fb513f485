package sim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServerOptions configure Start.
type ServerOptions struct {
	// Dataset is what the registries know; nil means Default().
	Dataset *Dataset
	// Certificate, when set, makes the server speak HTTPS (TLS 1.2 or
	// later) with it.
	Certificate *tls.Certificate
	// ClientCAs, when set (with Certificate), make the server require a
	// client certificate signed by one of them: mutual TLS, as a SMEV
	// gateway demands.
	ClientCAs *x509.CertPool
	// SlowDelay is how long a Slow person's check takes (DefaultSlowDelay
	// when zero).
	SlowDelay time.Duration
	// Logger gets a line per check and the server's own errors (refused
	// TLS handshakes among them); nil discards them.
	Logger *slog.Logger
}

// Server is a running simulator. Its embedded *Sim holds the controls.
type Server struct {
	*Sim
	// URL is the base URL for registry.HTTPOptions.BaseURL, e.g.
	// https://127.0.0.1:41234.
	URL string
	srv *http.Server
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves the
// simulator until Close or Shutdown.
func Start(addr string, o ServerOptions) (*Server, error) {
	ds := o.Dataset
	if ds == nil {
		d := Default()
		ds = &d
	}
	s, err := New(*ds)
	if err != nil {
		return nil, err
	}
	if o.SlowDelay > 0 {
		s.SetSlowDelay(o.SlowDelay)
	}
	s.SetLogger(o.Logger)
	if o.ClientCAs != nil && o.Certificate == nil {
		return nil, errors.New("sim: client CAs need a server certificate")
	}
	errLog := log.New(io.Discard, "", 0)
	if o.Logger != nil {
		errLog = slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	scheme := "http"
	if o.Certificate != nil {
		scheme = "https"
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*o.Certificate}}
		if o.ClientCAs != nil {
			srv.TLSConfig.ClientCAs = o.ClientCAs
			srv.TLSConfig.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	go func() {
		if scheme == "https" {
			_ = srv.ServeTLS(ln, "", "")
		} else {
			_ = srv.Serve(ln)
		}
	}()
	return &Server{Sim: s, URL: scheme + "://" + ln.Addr().String(), srv: srv}, nil
}

// Close stops the server at once; checks in progress (a Slow person's) see
// their connection close.
func (s *Server) Close() error { return s.srv.Close() }

// Shutdown stops accepting checks and waits for those in progress, or for
// ctx.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
