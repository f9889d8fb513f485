package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// benchEnv is everything a run sets up and must tear down: a temporary
// directory, a fresh PostgreSQL database, a Redis key prefix, and the gosid
// server process.
type benchEnv struct {
	dir     string
	binary  string
	pgBase  string
	dbName  string
	redis   string
	prefix  string
	addr    string
	issuer  string
	env     []string
	server  *exec.Cmd
	exited  chan error
	logPath string
}

// buildGosid compiles ./cmd/gosid of the module containing the working
// directory into dir.
func buildGosid(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "gosid")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/gosid")
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gosid: %w\n%s", err, out)
	}
	return bin, nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the gosid module")
	}
	return filepath.Dir(mod), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// createDatabase creates gosid_bench_<random> on the server pgBase points at
// and returns the new database's URL.
func (e *benchEnv) createDatabase(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.pgBase)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL (--pg): %w", err)
	}
	defer conn.Close(context.Background())
	name := "gosid_bench_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	e.dbName = name
	u, err := url.Parse(e.pgBase)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func (e *benchEnv) dropDatabase() error {
	if e.dbName == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.pgBase)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+e.dbName+" WITH (FORCE)")
	return err
}

func (e *benchEnv) pingRedis(ctx context.Context) error {
	opt, err := goredis.ParseURL(e.redis)
	if err != nil {
		return fmt.Errorf("--redis: %w", err)
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping Redis (--redis): %w", err)
	}
	return nil
}

// cleanRedis deletes the keys under this run's prefix: sessions, flows and
// counters that would otherwise linger until their TTLs end.
func (e *benchEnv) cleanRedis() error {
	opt, err := goredis.ParseURL(e.redis)
	if err != nil {
		return err
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cursor uint64
	for range 100_000 {
		keys, next, err := c.Scan(ctx, cursor, e.prefix+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := c.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
	return errors.New("redis cleanup: too many keys")
}

// freeLoopbackAddr returns a loopback address with a port that was free a
// moment ago.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// configure sets the environment every gosid invocation of the run gets.
func (e *benchEnv) configure(dbURL string) error {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	e.addr, e.issuer = addr, "http://"+addr
	// Settings come only from here: a GOSID_* variable left in the caller's
	// shell (a config file, a hash concurrency) would change what is measured.
	e.env = nil
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOSID_") {
			e.env = append(e.env, kv)
		}
	}
	e.env = append(e.env,
		"GOSID_DATABASE_URL="+dbURL,
		"GOSID_REDIS_URL="+e.redis,
		"GOSID_REDIS_PREFIX="+e.prefix,
		"GOSID_MASTER_KEY="+base64.StdEncoding.EncodeToString(key),
		"GOSID_ISSUER="+e.issuer,
		"GOSID_ADDR="+addr,
		// A free port of its own, so that several nodes never clash.
		"GOSID_ADMIN_ADDR=127.0.0.1:0",
		"GOSID_LOG_LEVEL=warn",
		// The per-IP sign-in limit would stop the flow benchmark, whose every
		// sign-in comes from 127.0.0.1.
		"GOSID_LOGIN_RATE_PER_IP=1000000000",
	)
	return nil
}

// gosid runs one CLI command of the binary and returns its standard output.
func (e *benchEnv) gosid(ctx context.Context, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.binary, args...)
	cmd.Env = e.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gosid %s: %w\n%s", strings.Join(args[:min(2, len(args))], " "), err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// registeredClient is the part of `gosid clients create --json` the
// benchmark needs.
type registeredClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func (e *benchEnv) createClient(ctx context.Context, args ...string) (registeredClient, error) {
	var c registeredClient
	out, err := e.gosid(ctx, append([]string{"clients", "create", "--json"}, args...)...)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(out, &c); err != nil {
		return c, fmt.Errorf("clients create output: %w", err)
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return c, fmt.Errorf("clients create gave no id or secret: %s", out)
	}
	return c, nil
}

// startServer runs `gosid serve` with its standard error in serve.log and
// waits until /readyz answers 200.
func (e *benchEnv) startServer(ctx context.Context) error {
	e.logPath = filepath.Join(e.dir, "serve.log")
	logf, err := os.Create(e.logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(e.binary, "serve")
	cmd.Env = e.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start gosid serve: %w", err)
	}
	e.server = cmd
	e.exited = make(chan error, 1)
	go func() {
		e.exited <- cmd.Wait()
		logf.Close()
	}()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-e.exited:
			e.exited <- err
			return fmt.Errorf("gosid serve exited before it was ready (%v); log %s:\n%s", err, e.logPath, e.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get(e.issuer + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("gosid serve not ready after 90s; log %s:\n%s", e.logPath, e.logTail())
}

// stopServer sends SIGTERM and waits for a graceful exit, killing the
// process if it takes longer than 30 s.
func (e *benchEnv) stopServer() error {
	if e.server == nil {
		return nil
	}
	defer func() { e.server = nil }()
	_ = e.server.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-e.exited:
		return err
	case <-time.After(30 * time.Second):
		_ = e.server.Process.Kill()
		<-e.exited
		return errors.New("gosid serve did not stop within 30s of SIGTERM; killed")
	}
}

func (e *benchEnv) logTail() string {
	b, err := os.ReadFile(e.logPath)
	if err != nil {
		return ""
	}
	const n = 4000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// mustBeLoopback refuses to aim load at anything but this machine.
func mustBeLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to load %s: only loopback targets", base)
	}
	return nil
}
