package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/gosid/gosid/codes"
	"github.com/gosid/gosid/consent"
	consentpages "github.com/gosid/gosid/consent/pages"
	"github.com/gosid/gosid/esia"
	"github.com/gosid/gosid/esign"
	"github.com/gosid/gosid/federation"
	"github.com/gosid/gosid/geoip"
	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/logout"
	"github.com/gosid/gosid/metrics"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/operator"
	"github.com/gosid/gosid/operator/console"
	"github.com/gosid/gosid/post"
	postpages "github.com/gosid/gosid/post/pages"
	"github.com/gosid/gosid/provider"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/selfservice/bank"
	"github.com/gosid/gosid/selfservice/lockout"
	"github.com/gosid/gosid/selfservice/recovery"
	"github.com/gosid/gosid/selfservice/registration"
	"github.com/gosid/gosid/selfservice/secondfactor"
	"github.com/gosid/gosid/selfservice/settings"
	"github.com/gosid/gosid/selfservice/signature"
	"github.com/gosid/gosid/selfservice/signin"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/verify"
	"github.com/gosid/gosid/web"
)

// Server is a running gosid: the HTTP handler and what it depends on.
type Server struct {
	*Stores
	Provider *provider.Provider
	// SignIn signs citizens in, for gosid itself and for relying services
	// (the provider's interaction), and serves the level page and logout.
	SignIn *signin.Service
	// Consent is the consent page of authorization requests.
	Consent *consentpages.Pages
	// Settings is the citizen's personal account.
	Settings *settings.Service
	// Registration and Recovery are the flows that make an account and
	// recover access to one.
	Registration *registration.Service
	Recovery     *recovery.Service
	// Engine runs the steps every self-service flow shares.
	Engine *selfservice.Engine
	// SecondFactor runs challenges, step-up and the security settings.
	SecondFactor *secondfactor.Service
	Web          *web.Renderer
	Metrics      *metrics.Metrics
	// Handler serves citizens and relying services (Config.Addr);
	// AdminHandler serves operators (Config.AdminAddr): /metrics, /healthz
	// and /readyz. /metrics is on AdminHandler only.
	Handler      http.Handler
	AdminHandler http.Handler
	// Outbox records every message in development mode (/dev/outbox).
	Outbox *notify.Outbox
	// Queue delivers messages durably (e-mail over SMTP, SMS through the
	// gateway, the outbox in development mode) and runs identity checks.
	Queue *notify.Queue
	// Logout tells services that sign-in sessions ended (back- and
	// front-channel logout).
	Logout *logout.Service
	// Verify keeps personal data and checks it against the registries.
	Verify *verify.Service
	// Operators runs the service centres' console (Console: its pages).
	Operators *operator.Service
	Console   *console.Console
	// Post confirms identities by a letter with a code (PostPages: the
	// citizen's page).
	Post      *post.Service
	PostPages *postpages.Pages
	// Banks are the partner banks; Bank the citizen's flows through them.
	Banks *federation.Registry
	Bank  *bank.Service
	// Signature signs in and confirms identities with qualified
	// electronic signatures.
	Signature *signature.Service
	// checks runs the identity-check jobs; it joins the queue at Start.
	checks       *verify.Worker
	stopRegistry func()
	// draining is set when the server was told to stop: /readyz answers
	// 503 while the requests in flight finish.
	draining atomic.Bool
}

// NewServer initialises keys and builds the HTTP handler.
func NewServer(ctx context.Context, s *Stores) (*Server, error) {
	cfg := s.Config
	if err := s.Keys.Init(ctx); err != nil {
		return nil, fmt.Errorf("init signing keys: %w", err)
	}
	srv := &Server{Stores: s, Metrics: metrics.New(), Outbox: notify.NewOutbox(200, s.Log)}
	reg, stopRegistry, err := newRegistry(s)
	if err != nil {
		return nil, err
	}
	srv.stopRegistry = stopRegistry
	if srv.Queue, err = newQueue(s, srv.Outbox); err != nil {
		stopRegistry()
		return nil, err
	}
	if reg == nil {
		reg = unavailable{}
	}
	notices := &notify.Notices{Queue: srv.Queue, Inbox: s.DB, Log: s.Log}
	srv.Verify, srv.checks = srv.newVerifier(reg, notices)
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}
	srv.Web, err = web.New(web.Options{
		Dev: cfg.Dev, Secure: cfg.Secure(), CSRFKey: s.Sealer.DeriveKey("csrf"), Logger: s.Log, Location: loc,
	})
	if err != nil {
		return nil, err
	}
	wa, err := newWebAuthn(cfg.Issuer, s.Log)
	if err != nil {
		return nil, err
	}
	var locate func(string) string
	if cfg.GeoIPDB != "" {
		loc, err := geoip.Open(cfg.GeoIPDB)
		if err != nil {
			return nil, err
		}
		locate = loc.Locate
	}
	fetch := provider.NewFetchClient(provider.FetchOptions{
		Timeout: cfg.FetchTimeout, MaxBytes: cfg.FetchMaxBytes, AllowPrivate: cfg.FetchAllowPrivate,
	})
	fetch.RetryMax = 0 // the job queue retries
	srv.Logout = logout.New(logout.Options{Issuer: cfg.Issuer, Store: s.DB, Clients: s.Clients, Signer: s.Keys,
		Queue: srv.Queue, Tx: s.DB, HTTP: fetch.StandardClient(), SessionTTL: cfg.SessionTTL, Audit: s.DB,
		OnFailure: srv.Metrics.LogoutFailed, Logger: s.Log})
	srv.Provider, err = provider.New(provider.Options{
		Issuer: cfg.Issuer, Clients: s.Clients, Ephemeral: s.Ephemeral, Grants: s.DB, Holds: s.DB, Tx: s.DB, Keys: s.Keys,
		SecretHasher: s.Secrets, GlobalSecret: s.Sealer.DeriveKey("oauth-hmac"),
		Claims: provider.Claims(provider.AccountClaims(s.DB), srv.Verify.Claims), ErrorPage: srv.oauthErrorPage,
		AccessTokenTTL: cfg.AccessTokenTTL, RefreshTokenTTL: cfg.RefreshTokenTTL, IDTokenTTL: cfg.IDTokenTTL,
		AuthCodeTTL: cfg.AuthCodeTTL, RefreshGrace: cfg.RefreshGrace,
		Fetch: provider.FetchOptions{
			Timeout: cfg.FetchTimeout, MaxBytes: cfg.FetchMaxBytes, AllowPrivate: cfg.FetchAllowPrivate,
		},
		SessionClients: srv.Logout.Record,
		OnTokenIssued:  srv.Metrics.TokenIssued, Audit: s.DB, Dev: cfg.Dev, Logger: s.Log,
	})
	if err != nil {
		return nil, err
	}
	sessions := session.NewStore(session.Options{Ephemeral: s.Ephemeral, Index: s.DB, TTL: cfg.SessionTTL,
		Cookie: srv.Web.CookieName("gosid_session"), Locate: locate, OnEnd: srv.Logout.Ended, Logger: s.Log})
	srv.Engine = selfservice.New(selfservice.Deps{
		Accounts: s.DB, Clients: s.Clients, Audit: s.DB, Web: srv.Web, Sessions: sessions, FrontChannel: srv.Logout.FrontChannel,
		Flows: selfservice.NewFlowStore(s.Ephemeral, cfg.FlowTTL, s.Sealer.DeriveKey("flow"), s.PII, nil),
		Codes: codes.New(s.Ephemeral, s.Sealer.DeriveKey("codes"), codes.DefaultPolicy), Notices: notices,
		OAuth: srv.Provider, Tx: s.DB, Factors: s.DB, Passwords: s.Passwords, Lockout: lockout.New(s.Ephemeral, s.DB), Ephemeral: s.Ephemeral,
		Issuer: cfg.Issuer, SessionTTL: cfg.SessionTTL, Dev: cfg.Dev, Logger: s.Log,
	})
	srv.SecondFactor = secondfactor.New(secondfactor.Deps{
		Engine: srv.Engine, Ephemeral: s.Ephemeral, Queue: srv.Queue,
		Sealer: s.Sealer, TOTP: mfa.NewVerifier(s.Ephemeral), TOTPIssuer: "gosid", WebAuthn: wa,
		RecoveryKey: s.Sealer.DeriveKey("mfa-recovery"), RequireMFA: cfg.RequireMFA,
	})
	consents := consent.New(s.DB, srv.Provider, nil)
	srv.Consent = consentpages.New(srv.Engine, consents)
	banks, stopBanks, err := srv.newBanks()
	if err != nil {
		return nil, err
	}
	srv.Banks, srv.stopRegistry = banks, func() { stopRegistry(); stopBanks() }
	srv.Bank = bank.New(bank.Deps{Engine: srv.Engine, Banks: srv.Banks, Links: s.DB, Verify: srv.Verify})
	if srv.Signature, err = srv.newSignature(); err != nil {
		return nil, err
	}
	srv.SignIn = signin.New(signin.Options{
		Banks: len(srv.Banks.Enabled()) > 0, ESign: srv.Signature.Enabled(), Engine: srv.Engine, Ephemeral: s.Ephemeral, Consent: consents, LoginRatePerIP: cfg.LoginRatePerIP,
		LockoutKey: s.Sealer.DeriveKey("lockout"), Notifier: srv.Queue,
		OnLogin: srv.Metrics.Login, SecondFactor: srv.SecondFactor, Verify: srv.Verify,
	})
	settingsDeps := settings.Deps{Engine: srv.Engine, Consent: consents,
		SecondFactor: srv.SecondFactor, Notifier: srv.Queue, Verify: srv.Verify, Scans: s.DB, Inbox: s.DB}
	if cfg.Dev {
		settingsDeps.Outbox = srv.Outbox
	}
	srv.Settings = settings.New(settingsDeps)
	srv.Registration = registration.New(registration.Deps{Engine: srv.Engine, Notifier: srv.Queue})
	srv.Recovery = recovery.New(recovery.Deps{Engine: srv.Engine, Notifier: srv.Queue, LiftLockout: srv.SignIn.LiftLockout})
	srv.Operators = NewOperators(s, srv.Verify)
	srv.Console = console.New(srv.Operators, srv.Web, operator.DefaultSessionTTL, cfg.Dev, s.Log)
	srv.Post = NewPost(s, srv.Verify)
	srv.PostPages = postpages.New(srv.Engine, srv.Post)
	if srv.Handler, err = srv.routes(); err != nil {
		return nil, err
	}
	srv.AdminHandler = srv.adminRoutes()
	return srv, nil
}

// newWebAuthn configures security keys for the issuer's origin: the
// relying-party id is its host name. An issuer addressed by IP cannot have
// security keys (WebAuthn needs a domain); they are then off.
func newWebAuthn(issuer string, log *slog.Logger) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(u.Hostname()) != nil {
		log.Warn("security keys (WebAuthn) are off: the issuer is an IP address, not a domain", "issuer", issuer)
		return nil, nil
	}
	return webauthn.New(&webauthn.Config{RPID: u.Hostname(), RPDisplayName: "gosid",
		RPOrigins: []string{u.Scheme + "://" + u.Host}})
}

func (srv *Server) routes() (http.Handler, error) {
	r := mux.NewRouter()
	r.Use(srv.Metrics.Middleware, httpx.LimitBody(srv.Config.MaxBodyBytes))
	srv.Provider.Register(r, srv.SignIn)
	srv.SignIn.Register(r)
	srv.Consent.Register(r)
	srv.SecondFactor.Register(r)
	srv.Settings.Register(r)
	srv.Registration.Register(r)
	srv.Recovery.Register(r)
	srv.Bank.Register(r)
	esia.New(esia.Options{Issuer: srv.Config.Issuer, Clients: srv.Clients, ESIA: srv.DB, Accounts: srv.DB, Profiles: srv.Verify,
		Ephemeral: srv.Ephemeral, Keys: srv.Keys, Internal: r, TimestampWindow: srv.Config.ESIATimestampWindow,
		RefreshTTL: srv.Config.RefreshTokenTTL, GOST: esia.OpenSSLGOST{GOST: &esign.GOST{}}, Logger: srv.Log}).Register(r)
	srv.Signature.Register(r)
	srv.Engine.MountAPI(r)
	srv.Console.Register(r)
	srv.PostPages.Register(r)
	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", srv.Web.Static()))
	// Load balancers probe the public listener too.
	r.HandleFunc("/healthz", healthz)
	r.HandleFunc("/readyz", srv.ready)
	// The start page: what gosid is, sign in, register. Discovery stays at
	// /.well-known/openid-configuration.
	r.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		srv.Web.Render(w, r, http.StatusOK, "home", &web.HomeData{Page: web.Page{Lang: srv.Web.Lang(r), Dev: srv.Config.Dev}})
	}).Methods(http.MethodGet, http.MethodHead)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// An API client gets JSON, never a page, even for a path that
		// does not exist.
		if strings.HasPrefix(r.URL.Path, selfservice.PathAPI+"/") || strings.HasPrefix(r.URL.Path, "/oauth2/") {
			selfservice.APIFail(w, http.StatusNotFound, "not_found", "No such endpoint.")
			return
		}
		srv.Web.Error(w, r, http.StatusNotFound, "error.title", "error.not_found", "")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"Method not allowed."}`))
	})
	realIP, err := httpx.RealIP(srv.Config.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	var h http.Handler = r
	h = httpx.Unavailable(srv.storesDown, srv.unavailable)(h)
	h = httpx.AccessLog(srv.Log)(h)
	h = realIP(h)
	h = httpx.Recover(srv.Log)(h)
	if srv.Config.Secure() {
		h = httpx.HSTS(h)
	}
	return h, nil
}

// storesDown reports whether the database or the short-lived store does
// not answer now (asked only when a request failed inside).
func (srv *Server) storesDown(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	return srv.DB.Ping(ctx) != nil || srv.Ephemeral.Ping(ctx) != nil
}

// unavailable answers a request that failed because a store is away: a
// JSON error (RFC 6749's temporarily_unavailable) on the APIs, a page in
// the citizen's language elsewhere, which gives a posted form back to be
// sent again.
func (srv *Server) unavailable(w http.ResponseWriter, r *http.Request, form string) {
	p := r.URL.Path
	if strings.HasPrefix(p, selfservice.PathAPI+"/") || strings.HasPrefix(p, "/oauth2/") || strings.HasPrefix(p, "/.well-known/") {
		selfservice.APIFail(w, http.StatusServiceUnavailable, "temporarily_unavailable",
			"The service is temporarily unavailable; try again in a few seconds.")
		return
	}
	srv.Web.Unavailable(w, r, form)
}

// adminRoutes is the operator listener's handler: metrics and probes.
func (srv *Server) adminRoutes() http.Handler {
	mx := http.NewServeMux()
	mx.Handle("GET /metrics", srv.Metrics.Handler())
	mx.HandleFunc("GET /healthz", healthz)
	mx.HandleFunc("GET /readyz", srv.ready)
	return httpx.Recover(srv.Log)(mx)
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}

func (srv *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status, body := http.StatusOK, "ok\n"
	if srv.draining.Load() {
		status, body = http.StatusServiceUnavailable, "shutting down\n"
	} else if err := srv.DB.Ping(ctx); err != nil {
		status, body = http.StatusServiceUnavailable, "database unreachable\n"
	} else if err := srv.Ephemeral.Ping(ctx); err != nil {
		status, body = http.StatusServiceUnavailable, "short-lived store unreachable\n"
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// oauthErrorPage shows an authorization error that cannot be sent to the
// client, in the citizen's language, with the OAuth code as detail.
func (srv *Server) oauthErrorPage(w http.ResponseWriter, r *http.Request, e *fosite.RFC6749Error) {
	status := e.CodeField
	if status < 400 {
		status = http.StatusBadRequest
	}
	// The detail is the OAuth code for support; the English description
	// goes to the log, not to the citizen.
	msg := "oauth.error.message"
	if e.ErrorField == fosite.ErrInvalidClient.ErrorField {
		msg = "oauth.error.unknown_client"
	}
	srv.Web.Render(w, r, status, "error", &web.ErrorData{
		Page:       web.Page{Lang: srv.Web.Lang(r), Dev: srv.Config.Dev},
		TitleKey:   "oauth.error",
		MessageKey: msg,
		Detail:     e.ErrorField,
	})
}

// Start runs the background work: key reloads, the janitor and the delivery
// queue. stop stops the queue and waits (up to 10 s) for the deliveries in
// flight; cancelling ctx stops the rest.
func (srv *Server) Start(ctx context.Context) (stop func(), err error) {
	srv.Keys.Start(ctx)
	go srv.PII.Start(ctx)
	go srv.DB.RunJanitor(ctx, time.Minute)
	// The queue outlives ctx: stop ends it softly, so that a delivery in
	// flight when the server is told to stop finishes instead of being cut
	// off and sent again by another node.
	if err := srv.Queue.Start(context.WithoutCancel(ctx), srv.checks.Register, srv.Logout.Worker().Register); err != nil {
		return nil, fmt.Errorf("start delivery queue: %w", err)
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Queue.Stop(sctx)
		srv.stopRegistry()
	}, nil
}

// Run starts the background work and serves until ctx is cancelled, then
// shuts down gracefully: in-flight requests finish. It listens on Addr and,
// unless it is "off", on AdminAddr.
func (srv *Server) Run(ctx context.Context) error {
	cfg := srv.Config
	var aln net.Listener
	if cfg.AdminEnabled() {
		var err error
		if aln, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
			return fmt.Errorf("admin listener: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		if aln != nil {
			_ = aln.Close()
		}
		return err
	}
	return srv.Serve(ctx, ln, aln)
}

// Serve is Run on listeners already open: ln for citizens and relying
// services (TLS when configured), admin (nil: none) for operators. It
// closes both.
func (srv *Server) Serve(ctx context.Context, ln, admin net.Listener) error {
	cfg := srv.Config
	stop, err := srv.Start(ctx)
	if err != nil {
		_ = ln.Close()
		if admin != nil {
			_ = admin.Close()
		}
		return err
	}
	defer stop()
	hs := &http.Server{
		Handler:           srv.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.Log.Info("gosid listening", "addr", ln.Addr().String(), "issuer", cfg.Issuer,
		"database", srv.DB.Dialect(), "redis", cfg.RedisURL != "", "dev", cfg.Dev)
	errc := make(chan error, 2)
	go func() {
		if cfg.TLSCert != "" {
			errc <- hs.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	as := &http.Server{
		Handler:           srv.AdminHandler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	if admin != nil {
		srv.Log.Info("admin listening (/metrics, /healthz, /readyz)", "addr", admin.Addr().String())
		go func() { errc <- as.Serve(admin) }()
	}
	defer as.Close()
	select {
	case err := <-errc:
		_ = hs.Close()
		return err
	case <-ctx.Done():
	}
	// Unready first, still serving, so that load balancers stop sending
	// new requests here; then no new connections, and the requests in
	// flight finish.
	srv.draining.Store(true)
	if d := cfg.ShutdownDelay; d > 0 {
		srv.Log.Info("shutting down: unready, still serving", "delay", d.String())
		hs.SetKeepAlivesEnabled(false)
		time.Sleep(d)
	}
	srv.Log.Info("shutting down: waiting for in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
