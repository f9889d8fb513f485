// Package apptest starts a whole gosid in-process for integration tests, on
// the embedded SQLite default or on PostgreSQL + Redis, and drives its
// hosted pages the way a browser would.
package apptest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	redis "github.com/redis/go-redis/v9"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/app"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/config"
	"github.com/gosid/gosid/internal/testenv"
	goredis "github.com/gosid/gosid/storage/redis"
)

// Backend selects the storage a test server runs on.
type Backend string

// Backends.
const (
	SQLite        Backend = "sqlite"
	PostgresRedis Backend = "postgres+redis"
	// PostgresRedisCluster is PostgreSQL with the Redis Cluster scripts/test
	// starts (GOSID_TEST_REDIS_CLUSTER). It is not in Backends: the cluster
	// tests choose it.
	PostgresRedisCluster Backend = "postgres+redis-cluster"
)

// Backends lists every backend integration tests run on.
var Backends = []Backend{SQLite, PostgresRedis}

// Env is a running test server.
type Env struct {
	URL    string
	Config config.Config
	Stores *app.Stores
	Server *app.Server
	HTTP   *httptest.Server
	// Admin serves the operator endpoints (AdminHandler), as the admin
	// listener does.
	Admin  *httptest.Server
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	seen   map[string]bool   // outbox entries whose code a test already took
	hashes map[string]string // password hashes by password (CreateAccountWith)
	// CertPEM is the server's self-signed certificate when it serves
	// https (StartTLS), for clients outside the process to trust.
	CertPEM []byte
	tls     *tls.Config // what the test's own clients trust (StartTLS)
}

// NewConfig returns a configuration for backend with fresh storage.
func NewConfig(t testing.TB, backend Backend) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Dev = true
	cfg.DataDir = t.TempDir()
	cfg.LogLevel = "error"
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cfg.MasterKey = base64.StdEncoding.EncodeToString(key)
	cfg.RefreshGrace = 0
	cfg.LoginRatePerIP = 1000
	// Retries of background jobs in milliseconds, not minutes.
	cfg.JobRetryBase = 5 * time.Millisecond
	switch backend {
	case PostgresRedis:
		cfg.DatabaseURL = testenv.PostgresURL(t)
		cfg.RedisURL, cfg.RedisPrefix = testenv.RedisURL(t)
	case PostgresRedisCluster:
		cfg.DatabaseURL = testenv.PostgresURL(t)
		cfg.RedisURL, cfg.RedisPrefix = testenv.RedisClusterURL(t)
	}
	return cfg
}

// Start runs a server with cfg (Issuer and Addr are chosen here).
func Start(t testing.TB, cfg config.Config) *Env {
	t.Helper()
	return start(t, cfg, false)
}

// StartTLS is Start on https, with the issuer https://localhost:port and a
// certificate made for the test (Env.CertPEM), so that a stock client with
// its default settings, which refuse plain http, can use the server.
func StartTLS(t testing.TB, cfg config.Config) *Env {
	t.Helper()
	return start(t, cfg, true)
}

func start(t testing.TB, cfg config.Config, useTLS bool) *Env {
	t.Helper()
	addr := "127.0.0.1:0"
	if strings.HasPrefix(cfg.Addr, "127.0.0.1:") && strings.HasPrefix(cfg.Issuer, "http://localhost:") {
		addr = cfg.Addr // a restart keeps its address, as a real deployment keeps its issuer
	}
	ln, err := listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	// The issuer is named "localhost" (a domain, as security keys need for
	// their relying-party id); the server listens on 127.0.0.1.
	cfg.Issuer = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	if useTLS {
		cfg.Issuer = "https" + strings.TrimPrefix(cfg.Issuer, "http")
	}
	cfg.Addr = ln.Addr().String()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if os.Getenv("GOSID_TEST_LOG") != "" {
		log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	stores, err := app.Open(ctx, cfg, log, true)
	if err != nil {
		cancel()
		t.Fatalf("open stores: %v", err)
	}
	srv, err := app.NewServer(ctx, stores)
	if err != nil {
		cancel()
		stores.Close()
		t.Fatalf("new server: %v", err)
	}
	stopBackground, err := srv.Start(ctx)
	if err != nil {
		cancel()
		stores.Close()
		t.Fatalf("start background work: %v", err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler)
	hs.Listener.Close()
	hs.Listener = ln
	var certPEM []byte
	var trust *tls.Config
	if useTLS {
		cert, pemBytes, pool := selfSigned(t)
		hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		hs.StartTLS()
		certPEM, trust = pemBytes, &tls.Config{RootCAs: pool}
	} else {
		hs.Start()
	}
	e := &Env{CertPEM: certPEM, tls: trust, URL: cfg.Issuer, Config: cfg, Stores: stores, Server: srv, HTTP: hs, Admin: httptest.NewServer(srv.AdminHandler), ctx: ctx,
		cancel: func() { stopBackground(); cancel() }}
	t.Cleanup(e.Stop)
	return e
}

// NewServer builds a server on cfg without starting it or its background
// work, for a test that serves it its own way; it is closed with the test.
func NewServer(t testing.TB, cfg config.Config) *app.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stores, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), true)
	if err != nil {
		t.Fatalf("open stores: %v", err)
	}
	t.Cleanup(stores.Close)
	srv, err := app.NewServer(ctx, stores)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	return srv
}

// listen retries briefly: a restarted server's port may still be closing.
func listen(addr string) (net.Listener, error) {
	var err error
	for i := 0; i < 50; i++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}

// Stop shuts the server down; calling it twice is harmless.
func (e *Env) Stop() {
	if e.HTTP == nil {
		return
	}
	e.HTTP.Close()
	e.Admin.Close()
	e.cancel()
	e.Stores.Close()
	e.HTTP = nil
}

// Restart stops the server and starts a new one on the same storage and
// address-independent configuration.
func (e *Env) Restart(t testing.TB) *Env {
	t.Helper()
	e.Stop()
	return Start(t, e.Config)
}

// CreateClient registers c (defaults applied) and returns its secret, if any.
func (e *Env) CreateClient(t testing.TB, c *clients.Client) string {
	t.Helper()
	ctx := context.Background()
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	clients.ApplyDefaults(c)
	if err := clients.Validate(c); err != nil {
		t.Fatalf("client: %v", err)
	}
	secret := ""
	if c.TokenEndpointAuthMethod == clients.AuthSecretBasic || c.TokenEndpointAuthMethod == clients.AuthSecretPost {
		var err error
		if secret, err = clients.NewSecret(); err != nil {
			t.Fatal(err)
		}
		if c.SecretHash, err = e.Stores.Secrets.Hash(ctx, []byte(secret)); err != nil {
			t.Fatal(err)
		}
	}
	c.CreatedAt, c.UpdatedAt = time.Now().UTC(), time.Now().UTC()
	if err := e.Stores.DB.CreateClient(ctx, c); err != nil {
		t.Fatalf("create client: %v", err)
	}
	return secret
}

// CreateAccount creates an active, simplified account with a confirmed phone.
func (e *Env) CreateAccount(t testing.TB, phone, password string) *account.Account {
	t.Helper()
	norm, err := account.NormalizePhone(phone)
	if err != nil {
		t.Fatal(err)
	}
	return e.CreateAccountWith(t, password, func(a *account.Account) { a.Phone, a.PhoneVerified = norm, true })
}

// CreateAccountWith creates an active, simplified account with password;
// edit sets its contacts (normalised) and anything else. The password is
// hashed once per server and password, so that a test can make many
// accounts quickly.
func (e *Env) CreateAccountWith(t testing.TB, password string, edit func(a *account.Account)) *account.Account {
	t.Helper()
	ctx := context.Background()
	e.mu.Lock()
	hash, ok := e.hashes[password]
	e.mu.Unlock()
	if !ok {
		var err error
		if hash, err = e.Stores.Passwords.Hash(ctx, password); err != nil {
			t.Fatal(err)
		}
		e.mu.Lock()
		if e.hashes == nil {
			e.hashes = map[string]string{}
		}
		e.hashes[password] = hash
		e.mu.Unlock()
	}
	now := time.Now().UTC()
	a := &account.Account{
		ID: uuid.NewString(), FamilyName: "Иванов", GivenName: "Иван",
		MiddleName: "Иванович", PasswordHash: hash, PasswordChangedAt: now, Level: account.LevelSimplified,
		Status: account.StatusActive, Locale: "ru", CreatedAt: now, UpdatedAt: now,
	}
	edit(a)
	if err := e.Stores.DB.CreateAccount(ctx, a); err != nil {
		t.Fatalf("create account: %v", err)
	}
	return a
}

// Client returns an HTTP client for API calls to the server.
func (e *Env) Client() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: e.Transport()}
}

// Transport is an HTTP transport that trusts the server's certificate (the
// default transport when the server serves plain http).
func (e *Env) Transport() http.RoundTripper {
	if e.tls == nil {
		return http.DefaultTransport
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = e.tls.Clone()
	return tr
}

// selfSigned makes a certificate for localhost and 127.0.0.1, valid for a
// day, and the pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, []byte, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pool
}

// LoseEphemeral empties the short-lived store as a Redis restarted without
// its data would (`redis-cli shutdown nosave`): on Redis every key under
// this server's prefix is deleted, on the embedded store every kv row.
func (e *Env) LoseEphemeral(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	if e.Config.RedisURL == "" {
		if _, err := e.Stores.DB.SQLDB().ExecContext(ctx, `DELETE FROM kv`); err != nil {
			t.Fatalf("empty kv: %v", err)
		}
		return
	}
	r, err := goredis.Open(ctx, e.Config.RedisURL, "")
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	defer r.Close()
	c := r.Client()
	var keys []string
	scan := func(ctx context.Context, n redis.Cmdable) error {
		it := n.Scan(ctx, 0, e.Config.RedisPrefix+"*", 1000).Iterator()
		for it.Next(ctx) {
			keys = append(keys, it.Val())
		}
		return it.Err()
	}
	var err2 error
	if cc, ok := c.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		err2 = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return scan(ctx, m)
		})
	} else {
		err2 = scan(ctx, c)
	}
	if err2 != nil {
		t.Fatalf("redis scan: %v", err2)
	}
	for _, k := range keys {
		if err := c.Del(ctx, k).Err(); err != nil {
			t.Fatalf("redis del: %v", err)
		}
	}
	if len(keys) == 0 {
		t.Fatal("the short-lived store held nothing to lose")
	}
}
