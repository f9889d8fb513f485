// Package oidc is the connector to a bank that is an OpenID provider: the
// authorization code flow with PKCE (S256), state and nonce, the bank's
// id_token checked against its JWKS (go-oidc refetches the key set on an
// unknown key id, one fetch at a time), the RFC 9207 iss response
// parameter, and client_secret_basic or private_key_jwt to the token
// endpoint.
//
// The bank's discovery is fetched on first use, not at start: a bank that
// is down makes its own button fail with federation.ErrUnavailable and
// never makes gosid unready.
package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/gosid/gosid/federation"
)

// Options are what every bank connector shares.
type Options struct {
	// RedirectURL is gosid's callback registered at every bank.
	RedirectURL string
	// Timeout bounds each request to the bank (10 s by default).
	Timeout time.Duration
	// MaxBytes caps a response body from the bank (1 MiB by default).
	MaxBytes int64
	// Transport is the HTTP transport (http.DefaultTransport when nil);
	// production sets TLS 1.2 minimum on it.
	Transport http.RoundTripper
	Now       func() time.Time
}

// Connector is one bank.
type Connector struct {
	bank   *federation.Bank
	o      Options
	client *http.Client
	signer jose.Signer

	mu   sync.Mutex
	prov *discovered
}

type discovered struct {
	p        *oidc.Provider
	verifier *oidc.IDTokenVerifier
	issParam bool
	hasUI    bool
	token    string
}

// New returns the connector of b; it fails only on a configuration error
// (an unreadable private key), never because the bank is down.
func New(b *federation.Bank, o Options) (*Connector, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 20
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Connector{bank: b, o: o,
		client: &http.Client{Timeout: o.Timeout, Transport: capped{o.Transport, o.MaxBytes}}}
	if b.PrivateKey != "" {
		raw, err := os.ReadFile(b.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		key, err := parseKey(raw)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		if c.signer, err = newSigner(key, b.KeyID); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// parseKey reads a PKCS#8, PKCS#1 (RSA) or SEC 1 (EC) private key.
func parseKey(data []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, errors.New("not a signing key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	return x509.ParseECPrivateKey(b.Bytes)
}

func newSigner(key crypto.Signer, kid string) (jose.Signer, error) {
	alg := jose.RS256
	if _, ok := key.(*ecdsa.PrivateKey); ok {
		alg = jose.ES256
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	return jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
}

// capped limits every response body from the bank.
type capped struct {
	rt  http.RoundTripper
	max int64
}

func (c capped) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := c.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	res.Body = &limitedBody{r: io.LimitReader(res.Body, c.max+1), c: res.Body, left: c.max}
	return res, nil
}

type limitedBody struct {
	r    io.Reader
	c    io.Closer
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, errors.New("federation: the bank's answer is too large")
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.c.Close() }

func (c *Connector) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, c.client)
}

// discover fetches the bank's discovery once it answers; a failure is not
// kept, so the next citizen tries again.
func (c *Connector) discover(ctx context.Context) (*discovered, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prov != nil {
		return c.prov, nil
	}
	p, err := oidc.NewProvider(c.ctx(ctx), c.bank.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery of %s: %v", federation.ErrUnavailable, c.bank.ID, err)
	}
	var meta struct {
		ISS      bool     `json:"authorization_response_iss_parameter_supported"`
		UserInfo string   `json:"userinfo_endpoint"`
		Token    string   `json:"token_endpoint"`
		PKCE     []string `json:"code_challenge_methods_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("%w: discovery of %s: %v", federation.ErrUnavailable, c.bank.ID, err)
	}
	d := &discovered{p: p, issParam: meta.ISS, hasUI: meta.UserInfo != "", token: meta.Token,
		verifier: p.Verifier(&oidc.Config{ClientID: c.bank.ClientID, Now: c.o.Now})}
	c.prov = d
	return d, nil
}

func (c *Connector) config(d *discovered) *oauth2.Config {
	ep := d.p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	secret := c.bank.ClientSecret
	if c.signer != nil {
		ep.AuthStyle, secret = oauth2.AuthStyleInParams, ""
	}
	return &oauth2.Config{ClientID: c.bank.ClientID, ClientSecret: secret, Endpoint: ep, RedirectURL: c.o.RedirectURL,
		Scopes: append([]string{oidc.ScopeOpenID}, c.bank.Scopes...)}
}

// AuthURL implements federation.Connector.
func (c *Connector) AuthURL(ctx context.Context, req *federation.Request) (string, error) {
	d, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(req.Nonce), oauth2.S256ChallengeOption(req.Verifier)}
	if c.bank.MinACR != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(append([]string{c.bank.MinACR}, c.bank.AcceptACR...), " ")))
	}
	return c.config(d).AuthCodeURL(req.State, opts...), nil
}

// Callback implements federation.Connector.
func (c *Connector) Callback(ctx context.Context, req *federation.Request, answer url.Values) (*federation.Identity, error) {
	d, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	// RFC 9207: an iss parameter names the server that answered; one that
	// is not this bank is a mix-up, whatever else the answer says.
	if iss, ok := answer["iss"]; ok {
		if len(iss) != 1 || iss[0] != c.bank.Issuer {
			return nil, fmt.Errorf("%w: iss %q is not %s", federation.ErrInvalid, answer.Get("iss"), c.bank.Issuer)
		}
	} else if d.issParam {
		return nil, fmt.Errorf("%w: the bank promises iss and sent none", federation.ErrInvalid)
	}
	if answer.Get("state") != req.State {
		return nil, fmt.Errorf("%w: state does not match", federation.ErrInvalid)
	}
	if e := answer.Get("error"); e != "" {
		return nil, fmt.Errorf("%w: %s", federation.ErrRefused, safe(e))
	}
	code := answer.Get("code")
	if code == "" {
		return nil, fmt.Errorf("%w: no code", federation.ErrInvalid)
	}
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(req.Verifier)}
	if c.signer != nil {
		a, err := c.assertion(d.token)
		if err != nil {
			return nil, err
		}
		opts = append(opts, oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			oauth2.SetAuthURLParam("client_assertion", a))
	}
	cfg := c.config(d)
	tok, err := cfg.Exchange(c.ctx(ctx), code, opts...)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return nil, fmt.Errorf("%w: token endpoint: %s", federation.ErrRefused, safe(re.ErrorCode))
		}
		return nil, fmt.Errorf("%w: token endpoint: %v", federation.ErrUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: no id_token", federation.ErrInvalid)
	}
	idt, err := d.verifier.Verify(c.ctx(ctx), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: id_token: %v", federation.ErrInvalid, err)
	}
	if idt.Nonce != req.Nonce {
		return nil, fmt.Errorf("%w: nonce does not match", federation.ErrInvalid)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: id_token claims: %v", federation.ErrInvalid, err)
	}
	acr, _ := claims["acr"].(string)
	if c.bank.MinACR != "" && acr != c.bank.MinACR && !slices.Contains(c.bank.AcceptACR, acr) {
		return nil, fmt.Errorf("%w: acr %q is below the bank's minimum", federation.ErrRefused, safe(acr))
	}
	if d.hasUI {
		ui, err := d.p.UserInfo(c.ctx(ctx), cfg.TokenSource(c.ctx(ctx), tok))
		if err != nil {
			return nil, fmt.Errorf("%w: userinfo: %v", federation.ErrUnavailable, err)
		}
		if ui.Subject != idt.Subject {
			return nil, fmt.Errorf("%w: userinfo is about another subject", federation.ErrInvalid)
		}
		more := map[string]any{}
		if err := ui.Claims(&more); err != nil {
			return nil, fmt.Errorf("%w: userinfo claims: %v", federation.ErrInvalid, err)
		}
		// The signed id_token wins over userinfo where both speak.
		for k, v := range more {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	id := &federation.Identity{Bank: c.bank.ID, Issuer: idt.Issuer, Subject: idt.Subject, ACR: acr,
		Values: map[federation.Field]string{}}
	if amr, ok := claims["amr"].([]any); ok {
		for _, v := range amr {
			if s, ok := v.(string); ok {
				id.AMR = append(id.AMR, s)
			}
		}
	}
	for _, f := range federation.Fields {
		if v := value(claims, c.bank.Claim(f)); v != "" {
			id.Values[f] = Normalize(f, v)
		}
	}
	return id, nil
}

func (c *Connector) assertion(aud string) (string, error) {
	now := c.o.Now()
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	cl := jwt.Claims{Issuer: c.bank.ClientID, Subject: c.bank.ClientID, Audience: jwt.Audience{aud},
		ID: base64.RawURLEncoding.EncodeToString(jti), IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(time.Minute))}
	s, err := jwt.Signed(c.signer).Claims(cl).Serialize()
	if err != nil {
		return "", fmt.Errorf("federation: sign client assertion: %w", err)
	}
	return s, nil
}

// value reads a claim; a dotted name reaches into objects
// ("document.number").
func value(claims map[string]any, name string) string {
	var cur any = claims
	for _, part := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[part]
	}
	switch v := cur.(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return fmt.Sprintf("%.0f", v)
	}
	return ""
}

var nonDigits = regexp.MustCompile(`\D`)

// Normalize puts a bank's value of f in gosid's form: digits only for
// SNILS, INN, passport and phone; an ISO date for birth dates given as
// ДД.ММ.ГГГГ.
func Normalize(f federation.Field, v string) string {
	switch f {
	case federation.SNILS, federation.INN, federation.Passport:
		return nonDigits.ReplaceAllString(v, "")
	case federation.Phone:
		d := nonDigits.ReplaceAllString(v, "")
		if len(d) == 11 && (d[0] == '7' || d[0] == '8') {
			return "+7" + d[1:]
		}
		return v
	case federation.BirthDate:
		if t, err := time.Parse("02.01.2006", v); err == nil {
			return t.Format(time.DateOnly)
		}
	}
	return v
}

// safe keeps an error code from the bank printable and short for logs.
func safe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

var _ federation.Connector = (*Connector)(nil)

// Check fetches the bank's discovery now (for `gosid banks check`); the
// result is kept like a first use's.
func (c *Connector) Check(ctx context.Context) error {
	_, err := c.discover(ctx)
	return err
}
