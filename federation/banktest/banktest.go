// Package banktest runs a real third-party OpenID provider (npm
// oidc-provider, federation/testdata/bank) as a partner bank for tests.
// scripts/test installs it (ensure_node); without node or its packages a
// test skips, and fails under CI=true.
package banktest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gosid/gosid/internal/testenv"
)

// Bank is a running bank.
type Bank struct {
	// Issuer is the bank's OpenID issuer.
	Issuer string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
}

// Config is what the bank is told once gosid's address is known.
type Config struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	// JWKS is the client's public key set (private_key_jwt).
	JWKS        any    `json:"jwks,omitempty"`
	RedirectURI string `json:"redirect_uri"`
	// Customers are the bank's customers by subject, with their claims
	// named as this bank names them.
	Customers map[string]map[string]any `json:"customers"`
}

func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "bank")
}

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if testenv.InCI() {
		t.Fatalf("the test bank (npm oidc-provider) is required in CI: "+format, args...)
	}
	t.Skipf("the test bank (npm oidc-provider) is unavailable (scripts/test installs it): "+format, args...)
}

// Launch starts the bank's process; it serves nothing until Configure.
func Launch(t testing.TB) *Bank {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "%v", err)
	}
	if _, err := os.Stat(filepath.Join(dir(), "node_modules", "oidc-provider")); err != nil {
		unavailable(t, "%v", err)
	}
	cmd := exec.Command(node, "bank.mjs")
	cmd.Dir = dir()
	cmd.Stderr = io.Discard
	if os.Getenv("GOSID_TEST_LOG") != "" {
		cmd.Stderr = os.Stderr
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the test bank: %v", err)
	}
	b := &Bank{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	t.Cleanup(b.Stop)
	var hello struct{ Issuer string }
	b.read(t, &hello)
	b.Issuer = hello.Issuer
	return b
}

// read waits for the bank's next line (a slow machine may take seconds to
// load node; the wait is for the line, not for a time).
func (b *Bank) read(t testing.TB, v any) {
	t.Helper()
	if !b.lines.Scan() {
		t.Fatalf("the test bank stopped: %v", b.lines.Err())
	}
	if err := json.Unmarshal(b.lines.Bytes(), v); err != nil {
		t.Fatalf("the test bank said %q: %v", b.lines.Text(), err)
	}
}

// Configure registers gosid's client and the customers, and waits for the
// bank to serve.
func (b *Bank) Configure(t testing.TB, c Config) {
	t.Helper()
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(b.stdin, "%s\n", raw); err != nil {
		t.Fatalf("configure the test bank: %v", err)
	}
	var ready struct{ Ready bool }
	b.read(t, &ready)
	if !ready.Ready {
		t.Fatal("the test bank is not ready")
	}
}

// Next chooses the customer who signs in at the bank next; refuse makes
// the customer cancel instead.
func (b *Bank) Next(t testing.TB, subject string, refuse bool) {
	t.Helper()
	q := url.Values{"account": {subject}}
	if refuse {
		q.Set("refuse", "1")
	}
	c := &http.Client{Timeout: 30 * time.Second}
	res, err := c.Get(b.Issuer + "/__test/next?" + q.Encode())
	if err != nil {
		t.Fatalf("test bank: %v", err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("test bank: next: %d", res.StatusCode)
	}
}

// Stop ends the bank's process (a bank that goes down).
func (b *Bank) Stop() {
	if b.cmd.ProcessState != nil {
		return
	}
	_ = b.stdin.Close()
	_ = b.cmd.Process.Kill()
	_ = b.cmd.Wait()
}
