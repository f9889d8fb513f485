package app_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gosid/gosid/app/apptest"
)

// Serve runs the public and the admin listener: the metrics are on the
// admin one only, the probes on both.
func TestAdminListener(t *testing.T) {
	srv := apptest.NewServer(t, apptest.NewConfig(t, apptest.SQLite))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	aln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, aln) }()
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	public, admin := "http://"+ln.Addr().String(), "http://"+aln.Addr().String()
	get(public + "/.well-known/openid-configuration") // a sample for the request counter
	if status, body := get(admin + "/metrics"); status != http.StatusOK || !strings.Contains(body, "gosid_http_requests_total") {
		t.Fatalf("admin /metrics: %d %.200q", status, body)
	}
	if status, body := get(public + "/metrics"); status != http.StatusNotFound || strings.Contains(body, "gosid_http_requests_total") {
		t.Fatalf("public /metrics: %d %.200q, want 404", status, body)
	}
	for _, base := range []string{public, admin} {
		for _, p := range []string{"/healthz", "/readyz"} {
			if status, body := get(base + p); status != http.StatusOK || !strings.HasPrefix(body, "ok") {
				t.Fatalf("%s%s: %d %q", base, p, status, body)
			}
		}
	}
	if status, _ := get(admin + "/login"); status != http.StatusNotFound {
		t.Fatalf("admin /login: %d, want 404 (citizen pages are not on the admin listener)", status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
