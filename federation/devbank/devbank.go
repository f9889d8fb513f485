// Package devbank is a development stand-in for a partner bank: a small
// OpenID provider on loopback whose customers are the fictional persons of
// the reference registry (registry/sim), so that `gosid serve` in
// development mode can confirm an account through "a bank" with nothing
// else running. It is reached through the same connector as a real bank
// (federation/oidc): code flow, PKCE S256, nonce, the RFC 9207 iss
// parameter, ES256 id_tokens, client_secret_basic.
//
// It is NOT a bank and never runs outside development mode: anyone at the
// page can pick any person. Real banks are configured (README, "Partner
// banks").
package devbank

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gosid/gosid/registry/sim"
)

// Options configure the bank.
type Options struct {
	ClientID, ClientSecret string
	// RedirectURI is the one redirect the client may use.
	RedirectURI string
	// Persons are the customers (the reference registry's by default).
	Persons []sim.Person
}

// ACR is the assurance the development bank asserts.
const ACR = "urn:gosid:devbank:loa:high"

// Server is a running development bank.
type Server struct {
	// URL is its issuer.
	URL     string
	o       Options
	key     *ecdsa.PrivateKey
	signer  jose.Signer
	persons map[string]sim.Person
	order   []string
	srv     *http.Server

	mu     sync.Mutex
	codes  map[string]*grant
	tokens map[string]*grant
}

type grant struct {
	person, nonce, challenge, redirect string
	until                              time.Time
}

const codeTTL = 2 * time.Minute

// Start runs the bank on addr ("127.0.0.1:0" for any free port).
func Start(addr string, o Options) (*Server, error) {
	if len(o.Persons) == 0 {
		o.Persons = sim.Default().Persons
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "devbank-1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), o: o, key: key, signer: signer, persons: map[string]sim.Person{},
		codes: map[string]*grant{}, tokens: map[string]*grant{}}
	for _, p := range o.Persons {
		if p.Behaviour != "" || p.SNILS == "" {
			continue // misbehaving registry records make no sense as customers
		}
		s.persons[p.ID] = p
		s.order = append(s.order, p.ID)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /jwks", s.jwks)
	mux.HandleFunc("GET /authorize", s.authorizePage)
	mux.HandleFunc("POST /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /userinfo", s.userinfo)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the bank.
func (s *Server) Close() error { return s.srv.Close() }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": s.URL, "authorization_endpoint": s.URL + "/authorize", "token_endpoint": s.URL + "/token",
		"userinfo_endpoint": s.URL + "/userinfo", "jwks_uri": s.URL + "/jwks",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"}, "code_challenge_methods_supported": []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic"},
		"authorization_response_iss_parameter_supported": true, "acr_values_supported": []string{ACR},
		"claims_supported": []string{"sub", "family_name", "given_name", "middle_name", "birthdate", "snils", "inn", "passport"},
	})
}

func (s *Server) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: "devbank-1",
		Algorithm: "ES256", Use: "sig"}}})
}

// checkRequest validates an authorization request; an error is shown to
// the developer, never sent to an unchecked redirect.
func (s *Server) checkRequest(q url.Values) error {
	switch {
	case q.Get("client_id") != s.o.ClientID:
		return errors.New("unknown client_id")
	case q.Get("redirect_uri") != s.o.RedirectURI:
		return errors.New("redirect_uri is not registered")
	case q.Get("response_type") != "code":
		return errors.New("response_type must be code")
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43:
		return errors.New("PKCE S256 is required")
	case q.Get("state") == "" || q.Get("nonce") == "":
		return errors.New("state and nonce are required")
	}
	return nil
}

var page = template.Must(template.New("devbank").Parse(`<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Банк для разработки / Development bank</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:2em auto">
<h1>Банк для разработки / Development bank</h1>
<p><strong>Только для разработки: вымышленные лица справочного реестра. Development only: the reference registry's fictional persons.</strong></p>
<p>Войти как / Sign in as:</p>
{{range .Persons}}
<form method="post" action="/authorize">{{range $k, $v := $.Query}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">{{end}}
<input type="hidden" name="person" value="{{.ID}}"><button type="submit">{{.FamilyName}} {{.GivenName}} {{.MiddleName}}, {{.BirthDate}}</button></form>
{{end}}
<form method="post" action="/authorize">{{range $k, $v := .Query}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">{{end}}
<button type="submit" name="cancel" value="1">Отмена / Cancel</button></form>
</body></html>`))

func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := s.checkRequest(q); err != nil {
		http.Error(w, "devbank: "+err.Error(), http.StatusBadRequest)
		return
	}
	persons := make([]sim.Person, 0, len(s.order))
	for _, id := range s.order {
		persons = append(persons, s.persons[id])
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, map[string]any{"Persons": persons, "Query": q})
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "devbank: bad form", http.StatusBadRequest)
		return
	}
	q := r.PostForm
	if err := s.checkRequest(q); err != nil {
		http.Error(w, "devbank: "+err.Error(), http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}, "iss": {s.URL}}
	if _, ok := s.persons[q.Get("person")]; !ok || q.Get("cancel") != "" {
		back.Set("error", "access_denied")
	} else {
		code := random()
		s.mu.Lock()
		s.codes[code] = &grant{person: q.Get("person"), nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
			redirect: q.Get("redirect_uri"), until: time.Now().Add(codeTTL)}
		s.mu.Unlock()
		back.Set("code", code)
	}
	http.Redirect(w, r, s.o.RedirectURI+"?"+back.Encode(), http.StatusSeeOther)
}

func tokenError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if cid, err := url.QueryUnescape(id); err == nil {
		id = cid
	}
	if sec, err := url.QueryUnescape(secret); err == nil {
		secret = sec
	}
	if !ok || id != s.o.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.o.ClientSecret)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="devbank"`)
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	s.mu.Lock()
	g := s.codes[r.PostForm.Get("code")]
	delete(s.codes, r.PostForm.Get("code"))
	s.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if g == nil || time.Now().After(g.until) || g.redirect != r.PostForm.Get("redirect_uri") ||
		subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	now := time.Now()
	claims := map[string]any{"nonce": g.nonce, "acr": ACR, "amr": []string{"pwd"}, "auth_time": now.Unix()}
	idt, err := jwt.Signed(s.signer).Claims(jwt.Claims{Issuer: s.URL, Subject: "dev-" + g.person, Audience: jwt.Audience{s.o.ClientID},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute))}).Claims(claims).Serialize()
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error")
		return
	}
	at := random()
	s.mu.Lock()
	g.until = now.Add(5 * time.Minute)
	s.tokens[at] = g
	for k, v := range s.tokens {
		if now.After(v.until) {
			delete(s.tokens, k)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 300, "id_token": idt})
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g := s.tokens[at]
	s.mu.Unlock()
	if !ok || g == nil || time.Now().After(g.until) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		tokenError(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	p := s.persons[g.person]
	out := map[string]any{"sub": "dev-" + p.ID, "family_name": p.FamilyName, "given_name": p.GivenName,
		"birthdate": p.BirthDate, "snils": p.SNILS}
	if p.MiddleName != "" {
		out["middle_name"] = p.MiddleName
	}
	if p.INN != "" {
		out["inn"] = p.INN
	}
	for _, pp := range p.Passports {
		if pp.Status == "" || pp.Status == "valid" {
			out["passport"] = pp.Series + pp.Number
			break
		}
	}
	writeJSON(w, http.StatusOK, out)
}
