package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPOptions configure the HTTP/JSON adapter.
type HTTPOptions struct {
	// BaseURL is the root of the registry gateway, e.g.
	// https://smev-gw.internal:8479; checks are POSTed to BaseURL +
	// /v1/passport/check and so on. Plain http is accepted for the
	// simulator on loopback; anything else carries personal data and must
	// be https.
	BaseURL string
	// Timeout bounds one check, from dialling to the last byte of the
	// answer (10 s when zero). A check that runs out of time is temporary.
	Timeout time.Duration
	// ClientCert, when set, is presented to a registry that asks for one
	// (mutual TLS). It requires an https BaseURL.
	ClientCert tls.Certificate
	// RootCAs verify the registry's certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// MaxBodyBytes bounds an answer (64 KiB when zero); a longer one is
	// refused with ErrResponseTooLarge.
	MaxBodyBytes int64
}

// Defaults for the zero HTTPOptions fields.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBodyBytes = 64 << 10
)

// maxRetryAfter caps a registry's Retry-After, so that a typo on its side
// cannot park a verification for a year.
const maxRetryAfter = time.Hour

// HTTP is the Registry speaking gosid's HTTP/JSON wire format (see the
// package documentation). It is safe for concurrent use and does not retry
// by itself: retries belong to the durable job that owns the verification,
// which sees every failure and decides with backoff.
type HTTP struct {
	base    string
	timeout time.Duration
	max     int64
	client  *http.Client
}

var _ Registry = (*HTTP)(nil)

// NewHTTP checks o and returns the adapter.
func NewHTTP(o HTTPOptions) (*HTTP, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("registry: base url must be an absolute http(s) URL without query or fragment")
	}
	hasCert := len(o.ClientCert.Certificate) > 0
	if hasCert && u.Scheme != "https" {
		return nil, errors.New("registry: a client certificate needs an https base url")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: o.RootCAs}
	if hasCert {
		tlsConf.Certificates = []tls.Certificate{o.ClientCert}
	}
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		// The check's context bounds dialling, the handshake and the answer
		// alike, so that a timeout anywhere is context.DeadlineExceeded.
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}
	return &HTTP{
		base:    strings.TrimRight(u.String(), "/"),
		timeout: o.Timeout,
		max:     o.MaxBodyBytes,
		client: &http.Client{
			Transport: tr,
			// A redirect would re-post a citizen's data to another address.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// CheckPassport implements Registry.
func (h *HTTP) CheckPassport(ctx context.Context, q PassportQuery) (Result, error) {
	body, err := encodePassport(q)
	return h.check(ctx, MVD, "/v1/passport/check", body, err)
}

// CheckSNILS implements Registry.
func (h *HTTP) CheckSNILS(ctx context.Context, q SNILSQuery) (Result, error) {
	body, err := encodeSNILS(q)
	return h.check(ctx, SFR, "/v1/snils/check", body, err)
}

// CheckINN implements Registry.
func (h *HTTP) CheckINN(ctx context.Context, q INNQuery) (Result, error) {
	body, err := encodeINN(q)
	return h.check(ctx, FNS, "/v1/inn/check", body, err)
}

// CloseIdleConnections closes the connections kept for the next checks.
func (h *HTTP) CloseIdleConnections() { h.client.CloseIdleConnections() }

func (h *HTTP) check(ctx context.Context, reg, path string, body []byte, err error) (Result, error) {
	if err != nil {
		return Result{}, &Error{Registry: reg, Err: err}
	}
	id, err := requestID(ctx)
	if err != nil {
		return Result{}, &Error{Registry: reg, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+path, bytes.NewReader(body))
	if err != nil {
		return Result{}, &Error{Registry: reg, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Request-ID", id)
	req.Header.Set("Idempotency-Key", id)
	resp, err := h.client.Do(req)
	if err != nil {
		// Unreachable, refused, timed out, TLS refused: nothing was
		// answered about the query.
		return Result{}, &Error{Registry: reg, Temporary: true, Err: err}
	}
	defer resp.Body.Close()
	answer, readErr := h.read(resp)
	if resp.StatusCode == http.StatusOK {
		if readErr != nil {
			return Result{}, &Error{Registry: reg, Status: resp.StatusCode, Temporary: true, Err: readErr}
		}
		r, err := decodeResult(answer, reg, time.Now())
		if err != nil {
			return Result{}, &Error{Registry: reg, Status: resp.StatusCode, Temporary: true, Err: err}
		}
		return r, nil
	}
	e := &Error{
		Registry:   reg,
		Status:     resp.StatusCode,
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Temporary:  temporaryStatus(resp.StatusCode),
		Err:        fmt.Errorf("answered %s", resp.Status),
	}
	if code := errorCode(answer); code != "" {
		e.Err = fmt.Errorf("answered %s (%s)", resp.Status, code)
	}
	return Result{}, e
}

// read returns the body, at most h.max bytes of it.
func (h *HTTP) read(resp *http.Response) ([]byte, error) {
	if resp.ContentLength > h.max {
		return nil, fmt.Errorf("%w: %d bytes", ErrResponseTooLarge, resp.ContentLength)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, h.max+1))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if int64(len(b)) > h.max {
		return nil, fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, h.max)
	}
	return b, nil
}

// temporaryStatus classifies an answer other than 200: the registry's own
// trouble (5xx), throttling and timeouts are temporary; a refusal of the
// request (4xx), a redirect gosid will not follow, and anything else it does
// not expect are permanent, except other 2xx codes, which are a confused
// gateway rather than a refusal.
func temporaryStatus(code int) bool {
	switch {
	case code >= 500, code >= 200 && code < 300:
		return true
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		return true
	}
	return false
}

// retryAfter parses Retry-After: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if strings.Trim(v, "0123456789") == "" {
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil || s > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter // only too many digits fail to parse
		}
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

type requestIDKey struct{}

// WithRequestID returns a context whose checks send id as X-Request-ID and
// Idempotency-Key. A durable job passes the same id on every attempt of the
// same check (say, "verify-<job id>-snils"), so that a registry which
// answered an attempt whose answer was lost can recognise the retry. Without
// it each check gets a fresh random id. id must be 1 to 128 visible ASCII
// characters.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func requestID(ctx context.Context) (string, error) {
	id, ok := ctx.Value(requestIDKey{}).(string)
	if !ok {
		return rand.Text(), nil
	}
	if id == "" || len(id) > 128 || strings.IndexFunc(id, notVisibleASCII) >= 0 {
		return "", fmt.Errorf("%w: request id must be 1 to 128 visible ASCII characters", ErrInvalidQuery)
	}
	return id, nil
}
