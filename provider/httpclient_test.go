package provider

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFetchClientRefusesInternalAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	defer srv.Close()
	c := NewFetchClient(FetchOptions{Timeout: 2 * time.Second, MaxBytes: 1024})
	_, err := c.Get(srv.URL)
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("fetch of a loopback URL: got %v, want ErrForbiddenAddress", err)
	}
	allowed := NewFetchClient(FetchOptions{Timeout: 2 * time.Second, MaxBytes: 1024, AllowPrivate: true})
	resp, err := allowed.Get(srv.URL)
	if err != nil {
		t.Fatalf("with AllowPrivate: %v", err)
	}
	resp.Body.Close()
}

func TestFetchClientCapsResponseSize(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if chunked {
				w.(http.Flusher).Flush() // no Content-Length: the cap must hold while reading
			}
			_, _ = w.Write([]byte(strings.Repeat("x", 4096)))
		}))
		c := NewFetchClient(FetchOptions{Timeout: 2 * time.Second, MaxBytes: 1024, AllowPrivate: true})
		resp, err := c.Get(srv.URL)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		srv.Close()
		if !errors.Is(err, ErrResponseTooLarge) {
			t.Fatalf("chunked=%v: got %v, want ErrResponseTooLarge", chunked, err)
		}
	}
}

func TestPublicIP(t *testing.T) {
	tests := map[string]bool{
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "fe80::1": false, "fc00::1": false,
		"8.8.8.8": true, "2001:4860:4860::8888": true, "100.128.0.1": true,
	}
	for s, want := range tests {
		if got := publicIP(net.ParseIP(s)); got != want {
			t.Errorf("publicIP(%s) = %v, want %v", s, got, want)
		}
	}
}
