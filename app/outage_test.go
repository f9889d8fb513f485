package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/internal/testenv"
)

// ownRedis is a redis-server process the test owns (never the shared
// one), on a free loopback port.
type ownRedis struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func startOwnRedis(t *testing.T, port int) *ownRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("redis-server is needed for the outage test: %v", err)
		}
		t.Skipf("redis-server not installed: %v", err)
	}
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &ownRedis{t: t, port: port, cmd: cmd}
	t.Cleanup(r.stop)
	c := goredis.NewClient(&goredis.Options{Addr: r.addr()})
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("own redis-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r
}

func (r *ownRedis) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

func (r *ownRedis) stop() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// TestRedisOutage: while Redis is gone, requests that need it answer 503
// with Retry-After (JSON on the APIs, a page in the citizen's language on
// the pages) instead of 500; gosid recovers by itself when Redis is back.
func TestRedisOutage(t *testing.T) {
	rd := startOwnRedis(t, 0)
	cfg := apptest.NewConfig(t, apptest.SQLite)
	cfg.RedisURL = "redis://" + rd.addr() + "/0"
	cfg.RedisPrefix = "outage:"
	env := apptest.Start(t, cfg)
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	if _, v := a.password(testPhone, testPassword); v.SessionToken == "" {
		t.Fatal("sign-in before the outage failed")
	}

	b := env.NewBrowser(t)
	b.Get(env.URL + "/login")

	rd.stop()

	// The API: JSON 503 with Retry-After, for a request that needs Redis.
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/api/v1/flows/login", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Error string }
	decodeErr := json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || decodeErr != nil ||
		body.Error != "temporarily_unavailable" {
		t.Fatalf("API during the outage: %d Retry-After %q %s %q (%v)", resp.StatusCode, resp.Header.Get("Retry-After"),
			resp.Header.Get("Content-Type"), body.Error, decodeErr)
	}

	// The sign-in page: a 503 page in the citizen's language.
	p := b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "временно недоступен") {
		t.Fatalf("sign-in page during the outage: %d %.300s", p.Status, p.Body)
	}

	// Liveness stays up; readiness says why not.
	if resp, err := http.Get(env.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz during the outage: %v %v", resp, err)
	}

	// Redis comes back (empty): gosid recovers without a restart.
	startOwnRedis(t, rd.port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(env.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("gosid did not recover after Redis came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, v := a.password(testPhone, testPassword); v.SessionToken == "" {
		t.Fatal("sign-in after the outage failed")
	}
}
