package app_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/app/apptest"
	"github.com/gosid/gosid/esia"
)

// esiaRP is a relying system that speaks ESIA's dialect as the public
// client libraries do (ilimurzin/esia, go-api-epgu): an RSA key and
// self-signed certificate registered under a mnemonic, client_secret the
// raw PKCS#1 v1.5 SHA-256 signature over the documented concatenation,
// timestamp "yyyy.MM.dd HH:mm:ss Z", a fresh UUID state per request.
type esiaRP struct {
	t        testing.TB
	env      *apptest.Env
	id       string
	key      *rsa.PrivateKey
	certHash string
	redirect string
	// encode encodes the signature (base64url without padding unless a
	// test chooses another).
	encode func([]byte) string
	now    func() time.Time
}

const esiaRedirect = "http://127.0.0.1:9/esia/cb"

func newESIARP(t testing.TB, env *apptest.Env, id string, scopes []string) *esiaRP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: id},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	c, e, err := esia.NewClient(env.URL, id, "ИС "+id, certPEM, nil, []string{esiaRedirect}, scopes, esia.AlgRS256)
	if err != nil {
		t.Fatal(err)
	}
	env.CreateClient(t, c)
	if err := env.Stores.DB.PutESIAClient(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(der)
	return &esiaRP{t: t, env: env, id: id, key: key, certHash: strings.ToUpper(hex.EncodeToString(h[:])),
		redirect: esiaRedirect, encode: base64.RawURLEncoding.EncodeToString, now: time.Now}
}

func (rp *esiaRP) sign(msg string) string {
	h := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(rand.Reader, rp.key, crypto.SHA256, h[:])
	if err != nil {
		rp.t.Fatal(err)
	}
	return rp.encode(sig)
}

func (rp *esiaRP) timestamp() string { return rp.now().Format("2006.01.02 15:04:05 -0700") }

// acURL is the v2/ac request for scope.
func (rp *esiaRP) acURL(scope string) (string, url.Values) {
	ts, state := rp.timestamp(), uuid.NewString()
	q := url.Values{
		"client_id": {rp.id}, "client_secret": {rp.sign(rp.id + scope + ts + state + rp.redirect)},
		"client_certificate_hash": {rp.certHash}, "redirect_uri": {rp.redirect}, "scope": {scope},
		"response_type": {"code"}, "state": {state}, "timestamp": {ts}, "access_type": {"offline"},
	}
	return rp.env.URL + esia.PathAC + "?" + q.Encode(), q
}

// te posts a v3/te request.
func (rp *esiaRP) te(form url.Values) oauthAnswer {
	rp.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rp.env.URL+esia.PathTE, strings.NewReader(form.Encode()))
	if err != nil {
		rp.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := rp.env.Client().Do(req)
	if err != nil {
		rp.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := oauthAnswer{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if err := json.Unmarshal(raw, &a.Body); err != nil {
		rp.t.Fatalf("v3/te: not JSON: %d %s", resp.StatusCode, raw)
	}
	return a
}

func (rp *esiaRP) codeForm(code, scope string) url.Values {
	ts, state := rp.timestamp(), uuid.NewString()
	return url.Values{
		"client_id": {rp.id}, "code": {code}, "grant_type": {"authorization_code"},
		"client_secret": {rp.sign(rp.id + scope + ts + state + rp.redirect + code)}, "client_certificate_hash": {rp.certHash},
		"state": {state}, "redirect_uri": {rp.redirect}, "scope": {scope}, "timestamp": {ts}, "token_type": {"Bearer"},
	}
}

func (rp *esiaRP) refreshForm(rt, scope string) url.Values {
	ts, state := rp.timestamp(), uuid.NewString()
	return url.Values{
		"client_id": {rp.id}, "refresh_token": {rt}, "grant_type": {"refresh_token"},
		"client_secret": {rp.sign(rp.id + scope + ts + state + rp.redirect)}, "client_certificate_hash": {rp.certHash},
		"state": {state}, "redirect_uri": {rp.redirect}, "scope": {scope}, "timestamp": {ts}, "token_type": {"Bearer"},
	}
}

func (rp *esiaRP) rest(token, path string) (int, map[string]any) {
	rp.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rp.env.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := rp.env.Client().Do(req)
	if err != nil {
		rp.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// jwtParts decodes a compact JWT's header and claims.
func jwtParts(t testing.TB, tok string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	var h, c map[string]any
	for i, dst := range []*map[string]any{&h, &c} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return h, c
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func wantKeys(t testing.TB, what string, m map[string]any, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := keysOf(m); !slices.Equal(got, want) {
		t.Errorf("%s: fields %v, want %v (ESIA fixture)", what, got, want)
	}
}

// esiaError checks an ESIA error: the OAuth code and the ESIA code at the
// head of error_description.
func esiaError(t testing.TB, what string, got url.Values, oauth, code string) {
	t.Helper()
	if got.Get("error") != oauth || !strings.HasPrefix(got.Get("error_description"), code+":") {
		t.Errorf("%s: got error=%q %q, want %s %s", what, got.Get("error"), got.Get("error_description"), oauth, code)
	}
}

func bodyValues(m map[string]any) url.Values {
	v := url.Values{}
	for k, x := range m {
		if s, ok := x.(string); ok {
			v.Set(k, s)
		}
	}
	return v
}

const esiaScope = "openid fullname email mobile contacts"

// TestESIAFlow: an ESIA-style client signs a citizen in through gosid's
// pages (v2/ac → sign-in → consent → code), exchanges the code on v3/te,
// gets tokens shaped like ESIA's (compared field by field with the 2022
// production fixture of esia-interface.md), reads the person and contacts
// over /rs/prns, and refreshes with a rotating UUID refresh token.
func TestESIAFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		rp := newESIARP(t, env, "TESTIS01", nil)
		a := env.CreateAccountWith(t, testPassword, func(a *account.Account) {
			a.Phone, a.PhoneVerified = "+79102206415", true
			a.Email, a.EmailVerified = "citizen@example.ru", false
		})
		u, q := rp.acURL(esiaScope)
		final := env.NewBrowser(t).SignIn(u, "+79102206415", testPassword)
		if final.Host+final.Path != "127.0.0.1:9/esia/cb" || final.Query().Get("state") != q.Get("state") || final.Query().Get("code") == "" {
			t.Fatalf("v2/ac ended at %s", final)
		}
		code := final.Query().Get("code")
		form := rp.codeForm(code, esiaScope)
		ans := rp.te(form)
		if ans.Status != http.StatusOK {
			t.Fatalf("v3/te: %d %s", ans.Status, ans.Raw)
		}
		wantKeys(t, "token response", ans.Body, "access_token", "id_token", "refresh_token", "state", "token_type", "expires_in")
		if ans.Body["state"] != form.Get("state") || ans.Body["token_type"] != "Bearer" || ans.Body["expires_in"] != float64(3600) {
			t.Errorf("token response %s", ans.Raw)
		}
		rt := ans.Body["refresh_token"].(string)
		if _, err := uuid.Parse(rt); err != nil {
			t.Errorf("refresh_token %q is not a UUID", rt)
		}
		// The access token (fixture: infolabs 2022, ekapusta 2018).
		h, c := jwtParts(t, ans.Body["access_token"].(string))
		wantKeys(t, "access token header", h, "alg", "typ", "sbt", "ver", "kid")
		if h["sbt"] != "access" || h["ver"] != float64(1) || h["alg"] != "RS256" || h["typ"] != "JWT" {
			t.Errorf("access token header %v", h)
		}
		wantKeys(t, "access token", c, "nbf", "iat", "exp", "iss", "scope", "urn:esia:sid", "urn:esia:sbj_id", "client_id")
		oid := c["urn:esia:sbj_id"].(float64)
		oidS := jsonNum(oid)
		if c["exp"].(float64)-c["iat"].(float64) != 3600 || c["client_id"] != "TESTIS01" || c["iss"] != env.URL+"/" {
			t.Errorf("access token claims %v", c)
		}
		wantScope := "openid fullname?oid=" + oidS + " email?oid=" + oidS + " mobile?oid=" + oidS + " contacts?oid=" + oidS
		if c["scope"] != wantScope {
			t.Errorf("scope %q, want %q", c["scope"], wantScope)
		}
		sid := c["urn:esia:sid"].(string)
		if _, err := uuid.Parse(sid); err != nil {
			t.Errorf("urn:esia:sid %q", sid)
		}
		// The id_token.
		h, c = jwtParts(t, ans.Body["id_token"].(string))
		wantKeys(t, "id token header", h, "alg", "typ", "sbt", "ver", "kid")
		if h["sbt"] != "id" || h["ver"] != float64(0) {
			t.Errorf("id token header %v", h)
		}
		wantKeys(t, "id token", c, "aud", "sub", "nbf", "iat", "exp", "auth_time", "amr", "urn:esia:amd", "iss", "urn:esia:sid", "urn:esia:sbj")
		sbj, _ := c["urn:esia:sbj"].(map[string]any)
		wantKeys(t, "urn:esia:sbj", sbj, "urn:esia:sbj:typ", "urn:esia:sbj:oid", "urn:esia:sbj:nam") // simplified: no is_tru
		if c["sub"] != oid || c["aud"] != "TESTIS01" || c["amr"] != "PWD" || c["urn:esia:sid"] != sid ||
			sbj["urn:esia:sbj:nam"] != "OID."+oidS || sbj["urn:esia:sbj:typ"] != "P" || c["exp"].(float64)-c["iat"].(float64) != 10800 {
			t.Errorf("id token claims %v", c)
		}
		// The oid is the account's, stable.
		if got, err := env.Stores.DB.ESIAOid(context.Background(), a.ID); err != nil || float64(got) != oid {
			t.Errorf("oid %d %v, token says %v", got, err, oid)
		}

		// REST.
		at := ans.Body["access_token"].(string)
		st, p := rp.rest(at, "/rs/prns/"+oidS)
		if st != http.StatusOK || p["firstName"] != "Иван" || p["lastName"] != "Иванов" || p["middleName"] != "Иванович" ||
			p["trusted"] != false || p["status"] != "REGISTERED" {
			t.Errorf("person: %d %v", st, p)
		}
		if _, leaked := p["snils"]; leaked {
			t.Errorf("person shows snils without the scope: %v", p)
		}
		if e, _ := p["eTag"].(string); len(e) != 40 || strings.ToUpper(e) != e {
			t.Errorf("person eTag %q", e)
		}
		st, coll := rp.rest(at, "/rs/prns/"+oidS+"/ctts")
		wantKeys(t, "ctts", coll, "stateFacts", "size", "eTag", "elements")
		els, _ := coll["elements"].([]any)
		if st != http.StatusOK || coll["size"] != float64(2) || len(els) != 2 || els[0] != env.URL+"/rs/prns/"+oidS+"/ctts/1" {
			t.Errorf("ctts: %d %v", st, coll)
		}
		_, coll = rp.rest(at, "/rs/prns/"+oidS+"/ctts?embed=(elements)")
		els, _ = coll["elements"].([]any)
		byType := map[string]map[string]any{}
		for _, e := range els {
			m := e.(map[string]any)
			byType[m["type"].(string)] = m
		}
		if byType["MBT"]["value"] != "+7(910)2206415" || byType["MBT"]["vrfStu"] != "VERIFIED" ||
			byType["EML"]["value"] != "citizen@example.ru" || byType["EML"]["vrfStu"] != "NOT_VERIFIED" {
			t.Errorf("ctts elements %v", els)
		}
		wantKeys(t, "ctts element", byType["MBT"], "stateFacts", "id", "type", "vrfStu", "value", "eTag")
		if st, item := rp.rest(at, "/rs/prns/"+oidS+"/ctts/2"); st != http.StatusOK || item["type"] != "MBT" {
			t.Errorf("ctts/2: %d %v", st, item)
		}
		if st, p = rp.rest(at, "/rs/prns/"+oidS+"?embed=(contacts.elements)"); st != http.StatusOK || p["contacts"] == nil {
			t.Errorf("person embed: %d %v", st, p)
		}
		if st, _ := rp.rest(at, "/rs/prns/"+oidS+"/addrs"); st != http.StatusForbidden {
			t.Errorf("addrs without the scope: %d, want 403", st)
		}
		if st, _ := rp.rest(at, "/rs/prns/"+oidS+"/docs"); st != http.StatusForbidden {
			t.Errorf("docs without the scope: %d, want 403", st)
		}
		if st, _ := rp.rest(at, "/rs/prns/1"); st != http.StatusForbidden {
			t.Errorf("another person: %d, want 403", st)
		}
		if st, _ := rp.rest(at[:len(at)-4]+"AAAA", "/rs/prns/"+oidS); st != http.StatusUnauthorized {
			t.Errorf("forged token: %d, want 401", st)
		}
		if st, _ := rp.rest(ans.Body["id_token"].(string), "/rs/prns/"+oidS); st != http.StatusUnauthorized {
			t.Errorf("id_token as access token: %d, want 401", st)
		}

		// The code is used once.
		if again := rp.te(rp.codeForm(code, esiaScope)); again.Status != http.StatusBadRequest {
			t.Errorf("code reused: %d %s", again.Status, again.Raw)
		} else {
			esiaError(t, "code reused", bodyValues(again.Body), "invalid_grant", "ESIA-007011")
		}

		// Refresh rotates; the old refresh token is dead.
		rf := rp.refreshForm(rt, esiaScope)
		r2 := rp.te(rf)
		if r2.Status != http.StatusOK || r2.Body["state"] != rf.Get("state") {
			t.Fatalf("refresh: %d %s", r2.Status, r2.Raw)
		}
		if rt2, _ := r2.Body["refresh_token"].(string); rt2 == "" || rt2 == rt {
			t.Errorf("refresh token did not rotate: %q", rt2)
		}
		if _, c2 := jwtParts(t, r2.Body["access_token"].(string)); c2["urn:esia:sid"] != sid || c2["urn:esia:sbj_id"] != oid {
			t.Errorf("refreshed access token %v", c2)
		}
		old := rp.te(rp.refreshForm(rt, esiaScope))
		esiaError(t, "old refresh token", bodyValues(old.Body), "invalid_grant", "ESIA-007011")
	})
}

func jsonNum(f float64) string { return big.NewFloat(f).Text('f', 0) }

// TestESIAErrors: each check of v2/ac and v3/te answers in ESIA's form;
// errors after the redirect URI is checked go back to it.
func TestESIAErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		rp := newESIARP(t, env, "TESTIS02", []string{"openid", "fullname", "mobile"})
		other := newESIARP(t, env, "TESTIS03", nil)
		nb := &http.Client{Transport: env.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(q url.Values) (int, url.Values) {
			t.Helper()
			resp, err := nb.Get(env.URL + esia.PathAC + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusFound {
				loc, _ := url.Parse(resp.Header.Get("Location"))
				return resp.StatusCode, loc.Query()
			}
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			return resp.StatusCode, bodyValues(m)
		}
		fresh := func(scope string, edit func(q url.Values)) url.Values {
			_, q := rp.acURL(scope)
			if edit != nil {
				edit(q)
			}
			return q
		}
		// A good request goes on to the sign-in.
		resp, err := nb.Get(func() string { u, _ := rp.acURL("openid fullname"); return u }())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, "/oauth2/authorize?") {
			t.Fatalf("good request: %d %s", resp.StatusCode, loc)
		}
		// Encodings of client_secret: padded base64url and plain base64.
		for name, enc := range map[string]func([]byte) string{"base64url padded": base64.URLEncoding.EncodeToString, "base64": base64.StdEncoding.EncodeToString} {
			rp.encode = enc
			if st, v := get(fresh("openid", nil)); st != http.StatusFound || v.Get("error") != "" {
				t.Errorf("%s: %d %v", name, st, v)
			}
		}
		rp.encode = base64.RawURLEncoding.EncodeToString

		cases := []struct {
			name        string
			q           url.Values
			status      int
			oauth, code string
		}{
			{"missing client_id", fresh("openid", func(q url.Values) { q.Del("client_id") }), 400, "invalid_request", "ESIA-007014"},
			{"redirect outside the domains", fresh("openid", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }), 400, "invalid_request", "ESIA-007023"},
			{"missing client_certificate_hash", fresh("openid", func(q url.Values) { q.Del("client_certificate_hash") }), 302, "invalid_request", "ESIA-007014"},
			{"wrong certificate hash", fresh("openid", func(q url.Values) { q.Set("client_certificate_hash", other.certHash) }), 302, "invalid_client", "ESIA-007002"},
			{"signature by another key", fresh("openid", func(q url.Values) {
				q.Set("client_secret", other.sign(rp.id+q.Get("scope")+q.Get("timestamp")+q.Get("state")+q.Get("redirect_uri")))
			}), 302, "access_denied", "ESIA-007053"},
			{"signature over another scope", fresh("openid", func(q url.Values) { q.Set("scope", "openid fullname") }), 302, "access_denied", "ESIA-007053"},
			{"scope not registered", fresh("openid snils", nil), 302, "invalid_scope", "ESIA-007006"},
			{"no scope", fresh("", nil), 302, "invalid_scope", "ESIA-007013"},
			{"state not a UUID", fresh("openid", func(q url.Values) { q.Set("state", "abc") }), 302, "invalid_request", "ESIA-007003"},
			{"response_type token", fresh("openid", func(q url.Values) { q.Set("response_type", "token") }), 302, "invalid_request", "ESIA-007003"},
		}
		for _, c := range cases {
			st, v := get(c.q)
			if st != c.status {
				t.Errorf("%s: status %d, want %d (%v)", c.name, st, c.status, v)
			}
			esiaError(t, c.name, v, c.oauth, c.code)
			if st == http.StatusFound && v.Get("state") != c.q.Get("state") {
				t.Errorf("%s: state %q not echoed", c.name, v.Get("state"))
			}
		}
		if _, v := get(fresh("openid", func(q url.Values) { q.Del("client_certificate_hash") })); !strings.Contains(v.Get("error_description"), "[client_certificate_hash]") {
			t.Errorf("007014 does not name the parameter: %q", v.Get("error_description"))
		}
		// A timestamp outside the window, either way.
		for _, skew := range []time.Duration{-10 * time.Minute, 10 * time.Minute} {
			rp.now = func() time.Time { return time.Now().Add(skew) }
			_, v := get(fresh("openid", nil))
			esiaError(t, "timestamp "+skew.String(), v, "invalid_request", "ESIA-007015")
		}
		rp.now = time.Now
		// A replayed request (same state).
		q := fresh("openid", nil)
		if _, v := get(q); v.Get("error") != "" {
			t.Fatalf("first use: %v", v)
		}
		_, v := get(q)
		esiaError(t, "replayed state", v, "invalid_request", "ESIA-007003")

		// v3/te.
		te := rp.te(url.Values{"client_id": {rp.id}, "grant_type": {"password"}})
		esiaError(t, "grant password", bodyValues(te.Body), "unsupported_grant_type", "ESIA-007009")
		form := rp.codeForm("no-such-code", "openid")
		te = rp.te(form)
		if te.Status != 400 || te.Body["state"] != form.Get("state") {
			t.Errorf("unknown code: %d %s", te.Status, te.Raw)
		}
		esiaError(t, "unknown code", bodyValues(te.Body), "invalid_grant", "ESIA-007011")
		form = rp.codeForm("no-such-code", "openid")
		form.Set("code", "other")
		esiaError(t, "te signature", bodyValues(rp.te(form).Body), "access_denied", "ESIA-007053")
		form = rp.codeForm("x", "openid")
		form.Del("timestamp")
		esiaError(t, "te missing timestamp", bodyValues(rp.te(form).Body), "invalid_request", "ESIA-007014")
		form = rp.codeForm("x", "openid")
		form.Set("client_id", "NOSUCH")
		esiaError(t, "unknown client", bodyValues(rp.te(form).Body), "invalid_client", "ESIA-007002")
		// A client of gosid that is not ESIA-style may not use these endpoints.
		plain := webClient()
		env.CreateClient(t, plain)
		form = rp.codeForm("x", "openid")
		form.Set("client_id", plain.ID)
		esiaError(t, "not ESIA-style", bodyValues(rp.te(form).Body), "unauthorized_client", "ESIA-007005")
	})
}

// TestESIADocuments: with the data scopes the person, documents and
// addresses come in ESIA's formats (dd.MM.yyyy, XXX-XXX-XXX YY, RUS), and
// vrfStu is VERIFIED only for what a registry confirmed: the passport
// after the check, never the driving licence (stored, not checked), and
// not the passport of data the registry rejected.
func TestESIADocuments(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		rp := newESIARP(t, env, "TESTIS04", nil)
		const scope = "openid fullname birthdate gender birthplace snils inn id_doc drivers_licence_doc addresses"
		api := &api{t: t, env: env}
		env.CreateAccount(t, testPhone, testPassword)
		_, v := api.password(testPhone, testPassword)
		readDocs := func() (map[string]any, map[string]map[string]any, []any) {
			t.Helper()
			u, _ := rp.acURL(scope)
			final := env.NewBrowser(t).SignIn(u, testPhone, testPassword)
			if final.Query().Get("code") == "" {
				t.Fatalf("v2/ac ended at %s", final)
			}
			ans := rp.te(rp.codeForm(final.Query().Get("code"), scope))
			if ans.Status != http.StatusOK {
				t.Fatalf("v3/te: %d %s", ans.Status, ans.Raw)
			}
			at := ans.Body["access_token"].(string)
			_, c := jwtParts(t, at)
			oid := jsonNum(c["urn:esia:sbj_id"].(float64))
			_, p := rp.rest(at, "/rs/prns/"+oid)
			st, docs := rp.rest(at, "/rs/prns/"+oid+"/docs?embed=(elements)")
			if st != http.StatusOK {
				t.Fatalf("docs: %d", st)
			}
			byType := map[string]map[string]any{}
			for _, e := range docs["elements"].([]any) {
				m := e.(map[string]any)
				byType[m["type"].(string)] = m
			}
			_, addrs := rp.rest(at, "/rs/prns/"+oid+"/addrs?embed=(elements)")
			els, _ := addrs["elements"].([]any)
			return p, byType, els
		}
		// Entered and rejected by the registry: shown, not VERIFIED.
		wrong := ivanov()
		wrong["birth_date"] = "15.03.1985"
		api.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, wrong, nil)
		if p := api.waitProfile(v.SessionToken); p.Status != "rejected" {
			t.Fatalf("%+v", p)
		}
		_, docs, _ := readDocs()
		if docs["RF_PASSPORT"]["vrfStu"] != "NOT_VERIFIED" {
			t.Errorf("rejected passport: %v", docs["RF_PASSPORT"])
		}
		api.call(http.MethodPut, "/api/v1/session/profile", v.SessionToken, ivanov(), nil)
		if p := api.waitProfile(v.SessionToken); p.Status != "verified" {
			t.Fatalf("%+v", p)
		}
		p, docs, addrs := readDocs()
		if p["birthDate"] != "14.03.1985" || p["snils"] != "123-456-789 64" || p["inn"] != "770112345695" ||
			p["gender"] != "M" || p["citizenship"] != "RUS" || p["birthPlace"] != "г. Москва" || p["rIdDoc"] != float64(1) {
			t.Errorf("person: %v", p)
		}
		pass := docs["RF_PASSPORT"]
		if pass["vrfStu"] != "VERIFIED" || pass["series"] != "4505" || pass["number"] != "123456" ||
			pass["issueDate"] != "01.04.2005" || pass["issueId"] != "772001" || pass["issuedBy"] == nil {
			t.Errorf("passport: %v", pass)
		}
		wantKeys(t, "passport", pass, "stateFacts", "id", "type", "vrfStu", "series", "number", "issueDate", "issueId", "issuedBy", "eTag")
		if dl := docs["RF_DRIVING_LICENSE"]; dl["vrfStu"] != "NOT_VERIFIED" || dl["expiryDate"] != "10.06.2030" {
			t.Errorf("driving licence: %v", dl)
		}
		if len(addrs) != 1 || addrs[0].(map[string]any)["type"] != "PRG" || addrs[0].(map[string]any)["zipCode"] != "125009" {
			t.Errorf("addresses: %v", addrs)
		}
	})
}

// TestESIAConsentRefused: the citizen refuses on gosid's consent page; the
// client gets ESIA-007004 with its state.
func TestESIAConsentRefused(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	rp := newESIARP(t, env, "TESTIS05", nil)
	env.CreateAccount(t, testPhone, testPassword)
	u, q := rp.acURL("openid fullname")
	b := env.NewBrowser(t)
	p := b.Get(u)
	if strings.HasSuffix(p.URL.Path, "/login") {
		p = b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
	}
	if !strings.HasSuffix(p.URL.Path, "/consent") {
		t.Fatalf("no consent page: %s", p.URL)
	}
	p = b.Submit("/consent", url.Values{"decision": {"deny"}})
	if p.URL.Host+p.URL.Path != "127.0.0.1:9/esia/cb" || p.URL.Query().Get("state") != q.Get("state") {
		t.Fatalf("refusal ended at %s", p.URL)
	}
	esiaError(t, "consent refused", p.URL.Query(), "access_denied", "ESIA-007004")
}

// TestESIALogout: /idp/ext/Logout?client_id=&redirect_url= ends the
// citizen's gosid session (after the confirmation page, as any logout
// without an id_token) and returns to redirect_url; a redirect_url the
// client did not register is refused.
func TestESIALogout(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	rp := newESIARP(t, env, "TESTIS06", nil)
	env.CreateAccount(t, testPhone, testPassword)
	b := env.NewBrowser(t)
	u, _ := rp.acURL("openid fullname")
	b.SignIn(u, testPhone, testPassword)
	p := b.Get(env.URL + esia.PathLogout + "?" + url.Values{"client_id": {rp.id}, "redirect_url": {esiaRedirect}}.Encode())
	if p.URL.Host == "127.0.0.1:9" {
		t.Fatalf("logged out without confirmation: %s", p.URL)
	}
	p = b.Submit("/logout/confirm", url.Values{"decision": {"yes"}})
	if p.URL.Host+p.URL.Path != "127.0.0.1:9/esia/cb" {
		t.Fatalf("logout ended at %s (%d)", p.URL, p.Status)
	}
	// Signed out: the next authorization asks for the password again.
	u, _ = rp.acURL("openid fullname")
	if p := b.Get(u); !strings.HasSuffix(p.URL.Path, "/login") {
		t.Errorf("still signed in after logout: %s", p.URL)
	}
	bad := b.Get(env.URL + esia.PathLogout + "?" + url.Values{"client_id": {rp.id}, "redirect_url": {"https://evil.example/"}}.Encode())
	if bad.Status != http.StatusBadRequest {
		t.Errorf("foreign redirect_url: %d %s", bad.Status, bad.URL)
	}
}
