// Package esia is gosid's ESIA-compatible interface (#16): the /aas/oauth2
// endpoints with signed client_secret, tokens shaped like ESIA's, and the
// /rs/prns person REST API, so that an information system built for ESIA
// switches to gosid by changing its base URL.
//
// The citizen signs in on gosid's own pages: an ESIA authorization request
// is checked here and then handed to gosid's OpenID provider as an
// ordinary authorization request of the same client (code + PKCE, with
// gosid's callback /aas/oauth2/cb as redirect URI), so that sign-in,
// second factor, consent and the grant are the provider's. The code and
// tokens the provider answers are then exchanged in-process and mapped to
// ESIA's shapes.
package esia

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/keys"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/verify"
)

// Paths.
const (
	PathAC       = "/aas/oauth2/v2/ac"
	PathTE       = "/aas/oauth2/v3/te"
	PathCallback = "/aas/oauth2/cb"
	PathPersons  = "/rs/prns"
	PathLogout   = "/idp/ext/Logout"
)

// TimestampLayout is the layout of the timestamp parameter.
const TimestampLayout = "2006.01.02 15:04:05 -0700"

// Signing algorithms of ESIA clients' tokens.
const (
	AlgRS256 = "RS256"
	AlgGOST  = "GOST3410_2012_256"
)

// Lifetimes of ESIA's tokens (esia-interface.md §5.1).
const (
	accessTTL = time.Hour
	idTTL     = 3 * time.Hour
	flowTTL   = 30 * time.Minute
	codeTTL   = 5 * time.Minute
)

// Profiles gives the citizen's personal data (verify.Service).
type Profiles interface {
	Get(ctx context.Context, accountID string) (*verify.Profile, *verify.Record, error)
}

// Options configure the service.
type Options struct {
	Issuer   string
	Clients  clients.Store
	ESIA     clients.ESIAStore
	Accounts account.Store
	Profiles Profiles
	// Ephemeral keeps pending requests, codes, used states and refresh
	// tokens.
	Ephemeral storage.Ephemeral
	Keys      *keys.Manager
	// Internal serves gosid's own OAuth endpoints (the router): the
	// provider's token endpoint is called through it in-process.
	Internal http.Handler
	// TimestampWindow is how far a request's timestamp may be from now
	// (default 5 minutes), either way.
	TimestampWindow time.Duration
	// RefreshTTL is how long a refresh token lives (default 30 days).
	RefreshTTL time.Duration
	// GOST verifies GOST signatures; nil serves RSA clients only.
	GOST   GOST
	Now    func() time.Time
	Logger *slog.Logger
}

// Service serves the ESIA-compatible endpoints.
type Service struct {
	o Options
	// hashes caches the accepted client_certificate_hash values per
	// certificate (the Streebog hash costs an openssl run).
	hashes sync.Map // string(cert.Raw) -> []string
}

// New returns the service.
func New(o Options) *Service {
	if o.TimestampWindow == 0 {
		o.TimestampWindow = 5 * time.Minute
	}
	if o.RefreshTTL == 0 {
		o.RefreshTTL = 30 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Issuer = strings.TrimSuffix(o.Issuer, "/")
	return &Service{o: o}
}

// Register mounts the endpoints on r.
func (s *Service) Register(r *mux.Router) {
	r.HandleFunc(PathAC, s.handleAC).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc(PathCallback, s.handleCallback).Methods(http.MethodGet)
	r.HandleFunc(PathTE, s.handleTE).Methods(http.MethodPost)
	r.HandleFunc("/aas/oauth2/v2/te", s.handleTE).Methods(http.MethodPost)
	r.HandleFunc(PathLogout, s.handleLogout).Methods(http.MethodGet)
	r.HandleFunc(PathPersons+"/{oid}", s.handlePerson).Methods(http.MethodGet)
	r.HandleFunc(PathPersons+"/{oid}/{coll:ctts|addrs|docs}", s.handleCollection).Methods(http.MethodGet)
	r.HandleFunc(PathPersons+"/{oid}/{coll:ctts|addrs|docs}/{id}", s.handleItem).Methods(http.MethodGet)
}

// tokenIssuer is the iss of ESIA-shaped tokens: the issuer with a
// trailing slash, as ESIA's own "http://esia.gosuslugi.ru/".
func (s *Service) tokenIssuer() string { return s.o.Issuer + "/" }

// client is an ESIA-style client with its parsed certificate.
type client struct {
	*clients.Client
	esia *clients.ESIA
}

func (s *Service) client(ctx context.Context, id string) (*client, *Error) {
	c, err := s.o.Clients.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errCertMismatch()
	} else if err != nil {
		return nil, errInternal()
	}
	e, err := s.o.ESIA.GetESIAClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errUnauthorizedClient()
	} else if err != nil {
		return nil, errInternal()
	}
	return &client{Client: c, esia: e}, nil
}

// redirectAllowed reports whether uri is on one of the client's registered
// domains (ESIA whitelists domains).
func (c *client) redirectAllowed(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.Fragment != "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, d := range c.esia.RedirectDomains {
		if host == strings.ToLower(d) {
			return true
		}
	}
	return false
}

// checkAuth checks the client's signature, certificate hash, timestamp
// and state; candidates are the messages the client may have signed.
func (s *Service) checkAuth(ctx context.Context, c *client, p url.Values, candidates []string) *Error {
	for _, name := range []string{"client_secret", "client_certificate_hash", "state", "timestamp"} {
		if p.Get(name) == "" {
			return errMissing(name)
		}
	}
	if _, err := uuid.Parse(p.Get("state")); err != nil || len(p.Get("state")) != 36 {
		return errBadParam("state")
	}
	ts, err := time.Parse(TimestampLayout, p.Get("timestamp"))
	if err != nil {
		return errBadParam("timestamp")
	}
	if d := s.o.Now().Sub(ts); d > s.o.TimestampWindow || d < -s.o.TimestampWindow {
		return errTime()
	}
	cert, err := ParseCertificate([]byte(c.esia.Certificate))
	if err != nil {
		return errInternal()
	}
	hash := strings.ToUpper(strings.TrimSpace(p.Get("client_certificate_hash")))
	if !slices.Contains(s.certHashes(cert), hash) {
		return errCertMismatch()
	}
	if err := verifySecret(cert, s.o.GOST, p.Get("client_secret"), candidates); err != nil {
		if errors.Is(err, errNoGOST) {
			s.o.Logger.Warn("esia: a GOST client signed, and no GOST provider is configured", "client_id", c.ID)
		}
		return errSecret()
	}
	// A signed request is used once: its state is remembered for as long
	// as its timestamp is valid.
	ok, err := s.o.Ephemeral.PutNX(ctx, "esia:state:"+c.ID+":"+p.Get("state"), []byte{1}, 2*s.o.TimestampWindow)
	if err != nil {
		return errInternal()
	}
	if !ok {
		return errBadParam("state")
	}
	return nil
}

// certHashes are certHashes(cert), computed once per certificate (a
// failure of the GOST provider is not cached).
func (s *Service) certHashes(cert *x509.Certificate) []string {
	if v, ok := s.hashes.Load(string(cert.Raw)); ok {
		return v.([]string)
	}
	hs := certHashes(cert, s.o.GOST)
	if s.o.GOST == nil || len(hs) > 1 {
		s.hashes.Store(string(cert.Raw), hs)
	}
	return hs
}

// params are the request's parameters: query and form (ESIA clients send
// the token request as a form, some in the query of an empty POST).
func params(r *http.Request) url.Values {
	_ = r.ParseForm()
	return r.Form
}

// pending is an authorization request on its way through gosid's pages.
type pending struct {
	ClientID    string   `json:"c"`
	RedirectURI string   `json:"r"`
	Scopes      []string `json:"s"`
	State       string   `json:"st"`
	Offline     bool     `json:"o"`
	Verifier    string   `json:"v"`
	Code        string   `json:"code,omitempty"`
}

func (s *Service) handleAC(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := params(r)
	if p.Get("client_id") == "" {
		writeJSONError(w, errMissing("client_id"), p.Get("state"))
		return
	}
	c, e := s.client(ctx, p.Get("client_id"))
	if e != nil {
		writeJSONError(w, e, p.Get("state"))
		return
	}
	redirectURI := p.Get("redirect_uri")
	if redirectURI == "" {
		writeJSONError(w, errMissing("redirect_uri"), p.Get("state"))
		return
	}
	if !c.redirectAllowed(redirectURI) {
		writeJSONError(w, errRedirect(), p.Get("state"))
		return
	}
	state := p.Get("state")
	fail := func(e *Error) { redirectError(w, r, redirectURI, e, state) }
	scope := p.Get("scope")
	if scope == "" {
		fail(errNoScope())
		return
	}
	if p.Get("response_type") == "" {
		fail(errMissing("response_type"))
		return
	}
	if p.Get("response_type") != "code" {
		fail(errBadParam("response_type"))
		return
	}
	scopes := strings.Fields(scope)
	for _, sc := range scopes {
		if !slices.Contains(c.Scopes, sc) {
			fail(errBadScope(sc))
			return
		}
	}
	base := c.ID + scope
	candidates := []string{
		base + p.Get("timestamp") + state + redirectURI,
		c.ID + scope + p.Get("scope_org") + p.Get("timestamp") + state + redirectURI,
	}
	if e := s.checkAuth(ctx, c, p, candidates); e != nil {
		fail(e)
		return
	}
	verifier := randomString(32)
	pd := pending{ClientID: c.ID, RedirectURI: redirectURI, Scopes: scopes, State: state,
		Offline: p.Get("access_type") == "offline", Verifier: verifier}
	key := randomString(24)
	if err := s.putJSON(ctx, "esia:flow:"+key, pd, flowTTL); err != nil {
		fail(errInternal())
		return
	}
	internal := internalScopes(scopes, pd.Offline)
	ch := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {s.o.Issuer + PathCallback},
		"scope": {strings.Join(internal, " ")}, "state": {key},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(ch[:])}, "code_challenge_method": {"S256"},
	}
	http.Redirect(w, r, s.o.Issuer+"/oauth2/authorize?"+q.Encode(), http.StatusFound)
}

// handleCallback receives the provider's answer to the internal request
// and answers the ESIA client: its own code, or the error in ESIA's form.
func (s *Service) handleCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	var pd pending
	if err := s.takeJSON(ctx, "esia:flow:"+q.Get("state"), &pd); err != nil {
		writeJSONError(w, errBadParam("state"), "")
		return
	}
	if q.Get("error") != "" {
		e := errDenied()
		if q.Get("error") != "access_denied" && q.Get("error") != "consent_required" && q.Get("error") != "login_required" {
			e = esiaErr(q.Get("error"), "ESIA-007007", q.Get("error_description"))
		}
		redirectError(w, r, pd.RedirectURI, e, pd.State)
		return
	}
	pd.Code = q.Get("code")
	code := uuid.NewString()
	if err := s.putJSON(ctx, "esia:code:"+code, pd, codeTTL); err != nil {
		redirectError(w, r, pd.RedirectURI, errInternal(), pd.State)
		return
	}
	u, _ := url.Parse(pd.RedirectURI)
	v := u.Query()
	v.Set("code", code)
	v.Set("state", pd.State)
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// refresh is what a refresh token stands for.
type refresh struct {
	ClientID    string   `json:"c"`
	RedirectURI string   `json:"r"`
	Scopes      []string `json:"s"`
	Internal    string   `json:"i"`
	SID         string   `json:"sid"`
}

func (s *Service) handleTE(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := params(r)
	state := p.Get("state")
	for _, name := range []string{"client_id", "grant_type"} {
		if p.Get(name) == "" {
			writeJSONError(w, errMissing(name), state)
			return
		}
	}
	c, e := s.client(ctx, p.Get("client_id"))
	if e != nil {
		writeJSONError(w, e, state)
		return
	}
	if tt := p.Get("token_type"); tt != "" && tt != "Bearer" {
		writeJSONError(w, errBadParam("token_type"), state)
		return
	}
	ts, scope, ru := p.Get("timestamp"), p.Get("scope"), p.Get("redirect_uri")
	var ans *tokenAnswer
	switch p.Get("grant_type") {
	case "authorization_code":
		for _, name := range []string{"code", "redirect_uri", "scope"} {
			if p.Get(name) == "" {
				writeJSONError(w, errMissing(name), state)
				return
			}
		}
		candidates := []string{
			c.ID + scope + ts + state + ru + p.Get("code"),
			c.ID + scope + p.Get("scope_org") + ts + state + ru + p.Get("code"),
		}
		if e := s.checkAuth(ctx, c, p, candidates); e != nil {
			writeJSONError(w, e, state)
			return
		}
		var pd pending
		if err := s.takeJSON(ctx, "esia:code:"+p.Get("code"), &pd); err != nil || pd.ClientID != c.ID || pd.RedirectURI != ru {
			writeJSONError(w, errBadGrant(), state)
			return
		}
		ans, e = s.exchange(ctx, c, url.Values{"grant_type": {"authorization_code"}, "code": {pd.Code},
			"redirect_uri": {s.o.Issuer + PathCallback}, "client_id": {c.ID}, "code_verifier": {pd.Verifier}},
			&refresh{ClientID: c.ID, RedirectURI: ru, Scopes: pd.Scopes})
	case "refresh_token":
		rt := p.Get("refresh_token")
		if rt == "" {
			writeJSONError(w, errMissing("refresh_token"), state)
			return
		}
		// The sources disagree on what a refresh request signs
		// (esia-interface.md §2.2): any of them is accepted.
		candidates := []string{
			c.ID + scope + ts + state + ru,
			c.ID + scope + p.Get("scope_org") + ts + state + ru,
			c.ID + scope + ts + state + rt,
		}
		if e := s.checkAuth(ctx, c, p, candidates); e != nil {
			writeJSONError(w, e, state)
			return
		}
		var old refresh
		if err := s.takeJSON(ctx, "esia:rt:"+rt, &old); err != nil || old.ClientID != c.ID {
			writeJSONError(w, errBadGrant(), state)
			return
		}
		ans, e = s.exchange(ctx, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.Internal},
			"client_id": {c.ID}}, &old)
	default:
		writeJSONError(w, errGrantType(), state)
		return
	}
	if e != nil {
		writeJSONError(w, e, state)
		return
	}
	ans.State = state
	writeJSON(w, http.StatusOK, ans)
}

// tokenAnswer is ESIA's token response.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	State        string `json:"state"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// exchange calls gosid's token endpoint in-process with form and maps the
// answer to ESIA's tokens; rt carries what the refresh token stands for.
func (s *Service) exchange(ctx context.Context, c *client, form url.Values, rt *refresh) (*tokenAnswer, *Error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.o.Issuer+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, errInternal()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "127.0.0.1:0"
	rec := &recorder{header: http.Header{}}
	s.o.Internal.ServeHTTP(rec, req)
	var in struct {
		IDToken      string `json:"id_token"`
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	if err := json.Unmarshal(rec.body, &in); err != nil {
		return nil, errInternal()
	}
	if rec.status != http.StatusOK {
		if in.Error == "invalid_grant" {
			return nil, errBadGrant()
		}
		s.o.Logger.Warn("esia: token exchange failed", "status", rec.status, "error", in.Error, "description", in.Description)
		return nil, errInternal()
	}
	// The id_token comes from gosid's own token endpoint in-process: its
	// signature is gosid's, checked anyway.
	_, payload, err := s.o.Keys.Verify(in.IDToken)
	if err != nil {
		return nil, errInternal()
	}
	var idc struct {
		Sub      string `json:"sub"`
		AuthTime int64  `json:"auth_time"`
		AMR      []string
		SID      string `json:"sid"`
	}
	if err := json.Unmarshal(payload, &idc); err != nil {
		return nil, errInternal()
	}
	a, err := s.o.Accounts.GetAccount(ctx, idc.Sub)
	if err != nil {
		return nil, errInternal()
	}
	oid, err := s.o.ESIA.ESIAOid(ctx, a.ID)
	if err != nil {
		return nil, errInternal()
	}
	if rt.SID == "" {
		rt.SID = uuid.NewString()
	}
	tok, err := s.mint(c, a, oid, rt.Scopes, rt.SID, idc.AuthTime, amrOf(idc.AMR))
	if err != nil {
		s.o.Logger.Error("esia: sign tokens", "err", err)
		return nil, errInternal()
	}
	if in.RefreshToken != "" {
		rt.Internal = in.RefreshToken
		id := uuid.NewString()
		if err := s.putJSON(ctx, "esia:rt:"+id, rt, s.o.RefreshTTL); err != nil {
			return nil, errInternal()
		}
		tok.RefreshToken = id
	}
	return tok, nil
}

// amrOf maps gosid's amr to ESIA's: DS for a qualified electronic
// signature, PWD otherwise.
func amrOf(amr []string) string {
	if slices.Contains(amr, "sig") || slices.Contains(amr, "ds") {
		return "DS"
	}
	return "PWD"
}

// mint signs ESIA-shaped access and id tokens.
func (s *Service) mint(c *client, a *account.Account, oid int64, scopes []string, sid string, authTime int64, amr string) (*tokenAnswer, error) {
	alg := c.esia.SigningAlg
	if alg != AlgRS256 {
		return nil, fmt.Errorf("esia: signing with %s is not available", alg)
	}
	now := s.o.Now().Unix()
	suffixed := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if sc == "openid" {
			suffixed = append(suffixed, sc)
		} else {
			suffixed = append(suffixed, fmt.Sprintf("%s?oid=%d", sc, oid))
		}
	}
	at := map[string]any{
		"nbf": now, "iat": now, "exp": now + int64(accessTTL/time.Second), "iss": s.tokenIssuer(),
		"scope": strings.Join(suffixed, " "), "urn:esia:sid": sid, "urn:esia:sbj_id": oid, "client_id": c.ID,
	}
	access, err := s.o.Keys.SignWithHeaders(alg, at, "JWT", map[string]any{"sbt": "access", "ver": 1})
	if err != nil {
		return nil, err
	}
	ans := &tokenAnswer{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(accessTTL / time.Second)}
	if slices.Contains(scopes, "openid") {
		sbj := map[string]any{"urn:esia:sbj:typ": "P", "urn:esia:sbj:oid": oid, "urn:esia:sbj:nam": fmt.Sprintf("OID.%d", oid)}
		if a.Level == account.LevelConfirmed {
			sbj["urn:esia:sbj:is_tru"] = true
		}
		if authTime == 0 {
			authTime = now
		}
		idt := map[string]any{
			"aud": c.ID, "sub": oid, "nbf": now, "iat": now, "exp": now + int64(idTTL/time.Second), "iss": s.tokenIssuer(),
			"auth_time": authTime, "amr": amr, "urn:esia:amd": amr, "urn:esia:sid": sid, "urn:esia:sbj": sbj,
		}
		if ans.IDToken, err = s.o.Keys.SignWithHeaders(alg, idt, "JWT", map[string]any{"sbt": "id", "ver": 0}); err != nil {
			return nil, err
		}
	}
	return ans, nil
}

// internalScopes are the gosid scopes an ESIA request needs: the data is
// read through the REST API, so the consent must cover it.
func internalScopes(esia []string, offline bool) []string {
	out := []string{"openid"}
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, sc := range esia {
		switch sc {
		case "fullname", "birthdate", "gender", "birthplace", "snils", "inn", "id_doc", "drivers_licence_doc",
			"foreign_passport_doc", "addresses":
			add("profile")
		case "email":
			add("email")
		case "mobile":
			add("phone")
		case "contacts":
			add("email")
			add("phone")
		}
	}
	if offline {
		add("offline_access")
	}
	return out
}

func (s *Service) putJSON(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.o.Ephemeral.Put(ctx, key, b, ttl)
}

func (s *Service) takeJSON(ctx context.Context, key string, v any) error {
	b, err := s.o.Ephemeral.Take(ctx, key)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// recorder is a minimal http.ResponseWriter for the in-process call.
type recorder struct {
	header http.Header
	status int
	body   []byte
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body = append(r.body, b...)
	return len(b), nil
}

// NewClient returns the client record and ESIA registration of an
// ESIA-style client: mnemonic id (upper case), gosid's callback as the one
// redirect URI of the internal flow (a public client with PKCE: what
// authenticates the client is the signed client_secret checked here), the
// ESIA scopes and the gosid scopes they need.
func NewClient(issuer, mnemonic, name, certPEM string, domains, redirectURIs, scopes []string, alg string) (*clients.Client, *clients.ESIA, error) {
	if mnemonic == "" || mnemonic != strings.ToUpper(mnemonic) {
		return nil, nil, errors.New("esia: the client_id (mnemonic) must be upper case")
	}
	if alg == "" {
		alg = AlgRS256
	}
	if alg != AlgRS256 {
		return nil, nil, fmt.Errorf("esia: token signing algorithm %q is not available yet (RS256)", alg)
	}
	cert, err := ParseCertificate([]byte(certPEM))
	if err != nil {
		return nil, nil, fmt.Errorf("esia: certificate: %w", err)
	}
	_ = cert // a GOST certificate is checked through the GOST provider (openssl with the GOST engine)
	if len(scopes) == 0 {
		scopes = []string{"openid", "fullname", "birthdate", "gender", "birthplace", "snils", "inn", "id_doc",
			"drivers_licence_doc", "foreign_passport_doc", "email", "mobile", "contacts", "addresses"}
	}
	all := slices.Clone(scopes)
	for _, sc := range internalScopes(scopes, true) {
		if !slices.Contains(all, sc) {
			all = append(all, sc)
		}
	}
	c := &clients.Client{
		ID: mnemonic, Name: name, RedirectURIs: []string{strings.TrimSuffix(issuer, "/") + PathCallback},
		GrantTypes: []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken}, ResponseTypes: []string{"code"},
		Scopes: all, Public: true, TokenEndpointAuthMethod: clients.AuthNone,
	}
	e := &clients.ESIA{ClientID: mnemonic, Certificate: certPEM, RedirectDomains: domains, SigningAlg: alg}
	// The redirect URIs are where the logout (/idp/ext/Logout) may return.
	c.PostLogoutRedirectURIs = slices.Clone(redirectURIs)
	for _, u := range redirectURIs {
		pu, err := url.Parse(u)
		if err != nil || pu.Hostname() == "" {
			return nil, nil, fmt.Errorf("esia: redirect uri %q has no host", u)
		}
		if !slices.Contains(e.RedirectDomains, pu.Hostname()) {
			e.RedirectDomains = append(e.RedirectDomains, pu.Hostname())
		}
	}
	if len(e.RedirectDomains) == 0 {
		return nil, nil, errors.New("esia: at least one redirect domain is required")
	}
	return c, e, nil
}

// handleLogout is ESIA's logout, GET /idp/ext/Logout?client_id=&redirect_url=
// (redirect_url, not redirect_uri): gosid's own RP-initiated logout, which
// returns to redirect_url when it is one of the client's registered
// redirect URIs.
func (s *Service) handleLogout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out := url.Values{}
	if id := q.Get("client_id"); id != "" {
		c, e := s.client(r.Context(), id)
		if e != nil {
			writeJSONError(w, e, "")
			return
		}
		out.Set("client_id", c.ID)
		if ru := q.Get("redirect_url"); ru != "" {
			if !slices.Contains(c.PostLogoutRedirectURIs, ru) {
				writeJSONError(w, errRedirect(), "")
				return
			}
			out.Set("post_logout_redirect_uri", ru)
		}
	}
	http.Redirect(w, r, s.o.Issuer+"/oauth2/logout?"+out.Encode(), http.StatusFound)
}
