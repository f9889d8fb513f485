package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gosid/gosid/registry/sim"
)

// TestCheckSurvivesKilledProcess: a gosid process is killed (SIGKILL) while
// an identity check waits on the registry; a new process on the same
// database rescues the job and finishes the check. Nothing is lost and
// nothing is decided by the crash.
func TestCheckSurvivesKilledProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gosid")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/gosid").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	reg, err := sim.Start("127.0.0.1:0", sim.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	// The registry hangs (requests wait at this gate) until released.
	target, _ := url.Parse(reg.URL)
	forward := httputil.NewSingleHostReverseProxy(target)
	gate := make(chan struct{})
	var arrived atomic.Int64
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(gateway.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	base := fmt.Sprintf("http://localhost:%d", port)
	dir := t.TempDir()
	env := append(os.Environ(), "GOSID_DEV=true", "GOSID_DATA_DIR="+dir, "GOSID_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"GOSID_ADMIN_ADDR=127.0.0.1:0",
		"GOSID_ISSUER="+base, "GOSID_REGISTRY_URL="+gateway.URL, "GOSID_DATABASE_URL=", "GOSID_REDIS_URL=")
	run := func(extra []string, args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(append([]string{}, env...), extra...)
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s logs:\n%s", args[0], logs.String())
			}
		})
		return cmd
	}
	if err := run(nil, "migrate").Run(); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	create := run(nil, "accounts", "create", "--phone", "+79160000009", "--password", testPassword)
	if err := create.Run(); err != nil {
		t.Fatalf("create account: %v", err)
	}
	serve := func(extra ...string) *exec.Cmd {
		cmd := run(extra, "serve")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		deadline := time.Now().Add(30 * time.Second)
		for {
			if resp, err := http.Get(base + "/healthz"); err == nil {
				resp.Body.Close()
				return cmd
			}
			if time.Now().After(deadline) {
				t.Fatal("gosid did not start")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	call := func(method, path, token string, body, out any) int {
		var raw []byte
		if body != nil {
			raw, _ = json.Marshal(body)
		}
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}

	first := serve()
	var f flowView
	call(http.MethodPost, "/api/v1/flows/login", "", nil, &f)
	var done flowView
	call(http.MethodPost, "/api/v1/flows/login/"+f.ID, f.FlowToken, map[string]any{"login": "+79160000009", "password": testPassword}, &done)
	if done.SessionToken == "" {
		t.Fatalf("sign-in: %+v", done)
	}
	if status := call(http.MethodPut, "/api/v1/session/profile", done.SessionToken, ivanov(), nil); status != http.StatusAccepted {
		t.Fatalf("submit: %d", status)
	}
	// The check is waiting on the registry: kill the process.
	for deadline := time.Now().Add(20 * time.Second); arrived.Load() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the check never reached the registry")
		}
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = first.Process.Wait()

	// A new process, with a short rescue delay, finishes the check once
	// the registry answers again.
	if status := reg.Requests(); status != 0 {
		t.Fatalf("%d checks reached the registry before the crash", status)
	}
	close(gate)
	time.Sleep(3 * time.Second)
	serve("GOSID_JOB_RESCUE_AFTER=2500ms", "GOSID_REGISTRY_TIMEOUT=500ms")
	var p profileView
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if status := call(http.MethodGet, "/api/v1/session/profile", done.SessionToken, nil, &p); status != http.StatusOK {
			t.Fatalf("profile: %d", status)
		}
		if p.Status != "verifying" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the interrupted check was never finished")
		}
	}
	if p.Status != "verified" || p.Level != "standard" {
		t.Fatalf("after the crash: %+v", p)
	}
}
