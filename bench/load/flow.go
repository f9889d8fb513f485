package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// benchRedirectURI is the bench-web client's redirect URI. Nothing listens
// there: the flow stops at the redirect and reads the code from it.
const benchRedirectURI = "http://127.0.0.1:9/cb"

// codeFlow is the full authorization-code benchmark: one op is one citizen
// signing in to a first-party confidential client from a fresh browser, from
// the authorization request to the id_token.
type codeFlow struct {
	base     *url.URL
	client   registeredClient
	logins   []string // one citizen per worker; see registerCitizens
	password string
	tr       http.RoundTripper
}

func (f *codeFlow) newOp() newOp {
	return func(ctx context.Context, worker int) (op, error) {
		if worker >= len(f.logins) {
			return nil, fmt.Errorf("no citizen for worker %d", worker)
		}
		login := f.logins[worker]
		return func() error { return f.run(ctx, login) }, nil
	}
}

// browser returns a client with its own cookie jar that follows redirects
// inside gosid and stops at anything else, the redirect URI included.
func (f *codeFlow) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Transport: f.tr,
		Jar:       jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("more than 10 redirects")
			}
			if req.URL.Host != f.base.Host {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

func (f *codeFlow) run(ctx context.Context, login string) error {
	verifier, state, nonce := randomToken(), randomToken(), randomToken()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {f.client.ClientID},
		"redirect_uri":          {benchRedirectURI},
		"scope":                 {"openid profile"},
		"state":                 {state},
		"nonce":                 {nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	b := f.browser()

	// The authorization request redirects (303) to the sign-in page, which the
	// browser follows.
	page, resp, err := fetch(ctx, b, http.MethodGet, f.base.String()+"/oauth2/authorize?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("flow") == "" {
		return fmt.Errorf("authorize: want the sign-in page, got %d at %s: %s", resp.StatusCode, resp.Request.URL.Path, excerpt(page))
	}
	form, err := hiddenInputs(page, "/login")
	if err != nil {
		return fmt.Errorf("sign-in page: %w", err)
	}
	if form.Get("flow") == "" || form.Get("csrf_token") == "" {
		return fmt.Errorf("sign-in page: hidden inputs flow and csrf_token missing (have %v)", keys(form))
	}
	form.Set("login", login)
	form.Set("password", f.password)

	// Signing in resumes the authorization, which redirects to the client.
	page, resp, err = fetch(ctx, b, http.MethodPost, f.base.String()+"/login", form)
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	code, err := codeFromRedirect(resp, state)
	if err != nil {
		return fmt.Errorf("sign in: %w (status %d at %s: %s)", err, resp.StatusCode, resp.Request.URL.Path, excerpt(page))
	}

	tok := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {benchRedirectURI},
		"code_verifier": {verifier},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.base.String()+"/oauth2/token", strings.NewReader(tok.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", basicAuth(f.client.ClientID, f.client.ClientSecret))
	resp, err = f.tr.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token: status %d: %s", resp.StatusCode, excerpt(body))
	}
	return checkIDToken(body, f.client.ClientID, nonce)
}

// fetch sends a request with the browser and reads the final response.
func fetch(ctx context.Context, b *http.Client, method, u string, form url.Values) ([]byte, *http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	resp, err := b.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return page, resp, err
}

// codeFromRedirect checks that resp redirects to the client with the state
// it was given and returns the authorization code.
func codeFromRedirect(resp *http.Response, state string) (string, error) {
	if resp.StatusCode/100 != 3 {
		return "", errors.New("no redirect to the client")
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", fmt.Errorf("bad Location: %w", err)
	}
	if loc.Scheme+"://"+loc.Host+loc.Path != benchRedirectURI {
		return "", fmt.Errorf("redirect to %s, not the client", loc.Redacted())
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("client got error %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != state {
		return "", errors.New("state does not match")
	}
	if q.Get("code") == "" {
		return "", errors.New("no code in the redirect")
	}
	return q.Get("code"), nil
}

// checkIDToken checks that a token response carries an id_token for the
// client with the flow's nonce. The signature is not verified here: the
// benchmark measures the server, and go-oidc interoperability has its own
// tests.
func checkIDToken(body []byte, clientID, nonce string) error {
	var tr struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return fmt.Errorf("token response: %w", err)
	}
	if tr.AccessToken == "" || tr.IDToken == "" {
		return fmt.Errorf("token response without access_token or id_token: %s", excerpt(body))
	}
	parts := strings.Split(tr.IDToken, ".")
	if len(parts) != 3 {
		return errors.New("id_token is not a JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("id_token payload: %w", err)
	}
	var claims struct {
		Nonce string          `json:"nonce"`
		Aud   json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return fmt.Errorf("id_token payload: %w", err)
	}
	if claims.Nonce != nonce {
		return errors.New("id_token nonce does not match")
	}
	if !bytes.Contains(claims.Aud, []byte(`"`+clientID+`"`)) {
		return fmt.Errorf("id_token audience %s lacks the client", claims.Aud)
	}
	return nil
}

// randomToken returns 32 random bytes, base64url: a PKCE verifier (43
// characters, within RFC 7636's 43-128), a state or a nonce.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func keys(v url.Values) []string {
	out := make([]string, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	return out
}
