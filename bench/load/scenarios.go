package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// fixedRequest is a scenario that sends the same request over and over: the
// token, JWKS, discovery and introspection benchmarks.
type fixedRequest struct {
	key    string // flag name: cc, jwks, discovery, introspect
	name   string // table label
	method string
	path   string
	// body is a form, sent with Content-Type application/x-www-form-urlencoded.
	body []byte
	// auth is the Authorization header value, if any.
	auth string
	// want must appear in a 200 response body for the request to count as a
	// success: a 200 carrying "active":false is a failed introspection.
	want []byte
	// floor is the lowest acceptable rate in requests a second (0: none).
	floor float64
}

// basicAuth is client_secret_basic as RFC 6749 §2.3.1 has it: id and secret
// form-encoded before they are joined and base64-encoded.
func basicAuth(id, secret string) string {
	cred := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
}

// fixedScenarios lists the fixed-request benchmarks against base, with the
// bench-cc client's credentials and one of its access tokens to introspect.
func fixedScenarios(base string, cc registeredClient, accessToken string) []fixedRequest {
	auth := basicAuth(cc.ClientID, cc.ClientSecret)
	return []fixedRequest{
		{
			key: "cc", name: "client_credentials (client_secret_basic)", method: http.MethodPost,
			path: "/oauth2/token", body: []byte("grant_type=client_credentials&scope=api"), auth: auth,
			want: []byte(`"access_token"`), floor: 3300,
		},
		{
			key: "jwks", name: "JWKS", method: http.MethodGet, path: "/.well-known/jwks.json",
			want: []byte(`"keys"`), floor: 10000,
		},
		{
			key: "discovery", name: "discovery", method: http.MethodGet, path: "/.well-known/openid-configuration",
			want: []byte(`"issuer"`),
		},
		{
			key: "introspect", name: "introspection (JWT access token)", method: http.MethodPost,
			path: "/oauth2/introspect", body: []byte("token=" + url.QueryEscape(accessToken) + "&token_type_hint=access_token"),
			auth: auth, want: []byte(`"active":true`), floor: 4000,
		},
	}
}

// newTransport is a keep-alive transport with an idle connection kept for
// every worker, so that no request pays for a TCP handshake.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns * 2,
		MaxIdleConnsPerHost:   conns * 2,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
}

// newOp builds the worker loop body. Each worker owns one *http.Request and
// one response buffer and reuses them (the transport is done with a request
// once its response body is closed); only the body reader is new each time.
func (f fixedRequest) newOp(tr http.RoundTripper, base string) newOp {
	return func(ctx context.Context, _ int) (op, error) {
		req, err := http.NewRequestWithContext(ctx, f.method, base+f.path, nil)
		if err != nil {
			return nil, err
		}
		if f.body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.ContentLength = int64(len(f.body))
		}
		if f.auth != "" {
			req.Header.Set("Authorization", f.auth)
		}
		req.Header.Set("Accept", "application/json")
		var buf bytes.Buffer
		buf.Grow(16 << 10)
		return func() error {
			if f.body != nil {
				req.Body = io.NopCloser(bytes.NewReader(f.body))
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				return err
			}
			buf.Reset()
			_, err = buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if err != nil {
				return fmt.Errorf("read body: %w", err)
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d: %s", resp.StatusCode, excerpt(buf.Bytes()))
			}
			if !bytes.Contains(buf.Bytes(), f.want) {
				return fmt.Errorf("status 200 without %s: %s", f.want, excerpt(buf.Bytes()))
			}
			return nil
		}, nil
	}
}

// once sends the request a single time and returns the body: the check made
// before a scenario starts, so that a misconfiguration is one clear error
// rather than a table of failures.
func (f fixedRequest) once(ctx context.Context, tr http.RoundTripper, base string) error {
	mk := f.newOp(tr, base)
	run, err := mk(ctx, 0)
	if err != nil {
		return err
	}
	if err := run(); err != nil {
		return fmt.Errorf("%s: %w", f.name, err)
	}
	return nil
}

func excerpt(b []byte) string {
	const n = 200
	b = bytes.TrimSpace(b)
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
