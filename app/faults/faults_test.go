// Package faults_test runs three gosid processes (the real binary) on a
// PostgreSQL and a Redis of their own and breaks things under them: Redis
// stopped, frozen and restarted empty, PostgreSQL stopped and restarted, a
// node killed mid-flow and a node told to stop while requests are in
// flight. It checks what citizens and relying services see during each
// fault (503 with Retry-After, JSON on the APIs and a page in the
// citizen's language, answered well before the client gives up), that the
// cluster recovers by itself, and that nothing acknowledged is lost and
// nothing revoked comes back.
package faults_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
)

const (
	password    = "Correct-Horse-9-battery"
	redirectURI = "http://127.0.0.1:5555/callback"
)

// userToken runs the authorization-code flow (PKCE) through the hosted
// pages on the balancer and returns the tokens.
func (c *cluster) userToken(t *testing.T, cl client, phone string) *oauth2.Token {
	t.Helper()
	conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: cl.Secret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: c.URL + "/oauth2/authorize", TokenURL: c.URL + "/oauth2/token",
			AuthStyle: oauth2.AuthStyleInHeader},
		Scopes: []string{"openid", "profile", "phone"}}
	verifier := oauth2.GenerateVerifier()
	b := (&apptest.Env{URL: c.URL}).NewBrowser(t)
	back := b.SignIn(conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier)), phone, password)
	code := back.Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %s", back)
	}
	tok, err := conf.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// introspect asks whether token is active; the answer must be a 200.
func (c *cluster) introspect(t *testing.T, cl client, token string) bool {
	t.Helper()
	a := c.form(c.URL, "/oauth2/introspect", cl, url.Values{"token": {token}})
	if a.Status != http.StatusOK {
		t.Fatalf("introspect: %s", a)
	}
	return decode[struct {
		Active bool `json:"active"`
	}](t, a).Active
}

func (c *cluster) userinfo(token string) *answer {
	c.t.Helper()
	return c.request(c.URL, http.MethodGet, "/oauth2/userinfo", http.Header{"Authorization": {"Bearer " + token}}, nil)
}

// duringOutage checks what a citizen and a relying service see while a
// store is away: every answer a 503 with Retry-After, JSON on the APIs and
// a page in the citizen's language on the hosted pages, before the
// client's own timeout (c.request fails the test otherwise). pending is
// an access token the relying service tries to revoke meanwhile: the
// revocation cannot be recorded everywhere it must be, so it is a 503 and
// the service sends it again later (afterOutage).
func duringOutage(t *testing.T, c *cluster, cl client, token, pending, session string) {
	t.Helper()
	for _, n := range c.nodes {
		if n.cmd.ProcessState != nil {
			continue
		}
		for _, lang := range []string{"ru", "en"} {
			a := c.request(n.URL, http.MethodGet, "/registration", http.Header{"Accept-Language": {lang}}, nil)
			assertPage503(t, "the registration page", lang, a)
		}
		assertAPI503(t, "starting a sign-in flow", c.api(n.URL, http.MethodPost, "/api/v1/flows/login", "", nil))
		assertAPI503(t, "introspection", c.form(n.URL, "/oauth2/introspect", cl, url.Values{"token": {token}}))
		assertAPI503(t, "revocation", c.form(n.URL, "/oauth2/revoke", cl, url.Values{"token": {pending}}))
		assertAPI503(t, "userinfo", c.request(n.URL, http.MethodGet, "/oauth2/userinfo",
			http.Header{"Authorization": {"Bearer " + token}}, nil))
		assertAPI503(t, "the signed-in citizen's profile", c.api(n.URL, http.MethodGet, "/api/v1/session/profile", session, nil))
	}
}

// afterOutage checks that every node recovered without a restart: a
// sign-in on each node, the token still works, and the revocation sent
// again takes effect on every node.
func afterOutage(t *testing.T, c *cluster, cl client, phone, token, pending string) {
	t.Helper()
	c.waitAllReady()
	for _, n := range c.nodes {
		if n.cmd.ProcessState != nil {
			continue
		}
		if s, code := c.signIn(n.URL, phone, password); s == "" {
			t.Fatalf("node %d: sign-in after the outage: %q", n.i, code)
		}
	}
	if !c.introspect(t, cl, token) {
		t.Fatal("a token never revoked is not active after the outage")
	}
	if a := c.userinfo(token); a.Status != http.StatusOK {
		t.Fatalf("userinfo after the outage: %s", a)
	}
	if a := c.form(c.URL, "/oauth2/revoke", cl, url.Values{"token": {pending}}); a.Status != http.StatusOK {
		t.Fatalf("revocation sent again after the outage: %s", a)
	}
	for range c.nodes {
		if c.introspect(t, cl, pending) {
			t.Fatal("a token revoked after the outage is still active")
		}
	}
}

// TestFaults breaks the stores and the nodes of one cluster, one fault
// after another.
func TestFaults(t *testing.T) {
	c := startCluster(t)
	const (
		phone   = "+79160000001"
		locked  = "+79160000002"
		revoked = "+79160000003"
	)
	for _, p := range []string{phone, locked, revoked} {
		c.createAccount(p, password)
	}
	rp := c.createClient("--name", "Портал", "--redirect-uri", redirectURI, "--scope", "openid", "--scope", "profile",
		"--scope", "phone", "--first-party")
	tok := c.userToken(t, rp, phone)
	session, code := c.signIn(c.URL, phone, password)
	if session == "" {
		t.Fatalf("sign-in: %q", code)
	}

	t.Run("redis frozen", func(t *testing.T) {
		pending := c.userToken(t, rp, phone)
		c.rd.Freeze()
		defer c.rd.Thaw()
		duringOutage(t, c, rp, tok.AccessToken, pending.AccessToken, session)
		c.rd.Thaw()
		afterOutage(t, c, rp, phone, tok.AccessToken, pending.AccessToken)
	})

	t.Run("redis stopped", func(t *testing.T) {
		pending := c.userToken(t, rp, phone)
		c.rd.Save() // a production Redis persists its data (README: Redis persistence)
		c.rd.Stop()
		duringOutage(t, c, rp, tok.AccessToken, pending.AccessToken, session)
		c.rd = c.rd.Restart()
		afterOutage(t, c, rp, phone, tok.AccessToken, pending.AccessToken)
		if a := c.api(c.URL, http.MethodGet, "/api/v1/session/profile", session, nil); a.Status != http.StatusOK {
			t.Errorf("a session from before the outage (Redis kept its data): %s", a)
		}
	})

	t.Run("redis restarted empty", func(t *testing.T) {
		gone := c.userToken(t, rp, revoked)
		if a := c.form(c.URL, "/oauth2/revoke", rp, url.Values{"token": {gone.AccessToken}}); a.Status != http.StatusOK {
			t.Fatalf("revoke: %s", a)
		}
		for i := 0; i < 3; i++ {
			c.signIn(c.URL, locked, "Wrong-password-1")
		}
		if _, code := c.signIn(c.URL, locked, password); code != "login.locked" {
			t.Fatalf("not locked after three wrong passwords: %q", code)
		}
		if err := os.Remove(filepath.Join(c.rd.Dir, "dump.rdb")); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		c.rd.Stop() // no persistence: the data is gone
		c.rd = c.rd.Restart()
		c.waitAllReady()
		for i := 0; i < 3; i++ { // every node, through the balancer
			if c.introspect(t, rp, gone.AccessToken) {
				t.Fatal("a revoked access token is active again after Redis lost its data")
			}
			if a := c.userinfo(gone.AccessToken); a.Status != http.StatusUnauthorized {
				t.Fatalf("a revoked access token at userinfo after Redis lost its data: %s", a)
			}
			if _, code := c.signIn(c.URL, locked, password); code != "login.locked" {
				t.Fatalf("a locked login is not locked after Redis lost its data: %q", code)
			}
		}
		if !c.introspect(t, rp, tok.AccessToken) {
			t.Fatal("a token never revoked is refused after Redis lost its data")
		}
		if a := c.userinfo(tok.AccessToken); a.Status != http.StatusOK {
			t.Fatalf("userinfo of a token never revoked: %s", a)
		}
	})

	t.Run("postgres stopped and restarted", func(t *testing.T) {
		session, code := c.signIn(c.URL, phone, password)
		if session == "" {
			t.Fatalf("sign-in: %q", code)
		}
		svc := c.createClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "api")
		pending := c.userToken(t, rp, phone)
		c.pg.Stop()
		var browsers []*apptest.Browser
		for _, n := range c.nodes {
			assertAPI503(t, "client_credentials", c.form(n.URL, "/oauth2/token", svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}}))
			assertAPI503(t, "revocation", c.form(n.URL, "/oauth2/revoke", rp, url.Values{"token": {pending.AccessToken}}))
			assertAPI503(t, "userinfo", c.request(n.URL, http.MethodGet, "/oauth2/userinfo",
				http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, nil))
			f := c.startFlow(n.URL, "login") // the flow lives in Redis
			a, _ := c.submit(n.URL, "login", f, map[string]any{"login": phone, "password": password})
			assertAPI503(t, "a sign-in", a)
			assertAPI503(t, "the profile", c.api(n.URL, http.MethodGet, "/api/v1/session/profile", session, nil))
			for _, lang := range []string{"ru", "en"} {
				b := (&apptest.Env{URL: n.URL}).NewBrowser(t)
				b.Header.Set("Accept-Language", lang)
				b.Get(n.URL + "/login")
				p := b.Submit("/login", url.Values{"login": {phone}, "password": {password}})
				assertPage503(t, "the sign-in page", lang, &answer{Status: p.Status, Header: p.Header, Body: []byte(p.Body)})
				browsers = append(browsers, b)
			}
		}
		c.pg.Start()
		afterOutage(t, c, rp, phone, tok.AccessToken, pending.AccessToken)
		// The page kept the login: the citizen types the password again and
		// sends the form once more.
		for _, b := range browsers {
			if p := b.Submit("/login", url.Values{"password": {password}}); p.Status != http.StatusOK || strings.HasSuffix(p.URL.Path, "/login") {
				t.Fatalf("the sign-in sent again after the outage: %d %s", p.Status, p.URL)
			}
		}
	})

	t.Run("node killed mid-flow", func(t *testing.T) {
		const before, during = "+79160000011", "+79160000012"
		dead, other := c.nodes[1], c.nodes[2]
		// A registration acknowledged by the node before it dies.
		f := c.startFlow(dead.URL, "registration")
		register := func(f *flow, base, contact string) {
			t.Helper()
			a, v := c.submit(base, "registration", f, map[string]any{"action": "register", "family_name": "Кузнецова",
				"given_name": "Ольга", "contact": contact, "password": password, "password_confirm": password, "consent": true})
			if a.Status != http.StatusOK || v.State != "confirm" {
				t.Fatalf("register %s: %s", contact, a)
			}
		}
		register(f, dead.URL, before)
		a, v := c.submit(dead.URL, "registration", f, map[string]any{"action": "confirm", "code": c.sms.code(t, before, 1)})
		if a.Status != http.StatusOK || v.State != "done" || v.SessionToken == "" {
			t.Fatalf("confirm: %s", a)
		}
		acknowledged := v.SessionToken
		// A registration half done on the node when it dies.
		g := c.startFlow(dead.URL, "registration")
		register(g, dead.URL, during)
		code := c.sms.code(t, during, 1)
		c.kill(dead)

		a, v = c.submit(other.URL, "registration", g, map[string]any{"action": "confirm", "code": code})
		if a.Status != http.StatusOK || v.State != "done" || v.SessionToken == "" {
			t.Fatalf("the flow started on the dead node, confirmed on another: %s", a)
		}
		for _, p := range []string{before, during} {
			if s, code := c.signIn(c.URL, p, password); s == "" {
				t.Fatalf("the account %s after the crash: %q", p, code)
			}
		}
		if a := c.api(other.URL, http.MethodGet, "/api/v1/session/profile", acknowledged, nil); a.Status != http.StatusOK {
			t.Fatalf("a session acknowledged by the dead node: %s", a)
		}
		c.start(dead)
		c.waitReady(dead)
	})

	t.Run("graceful shutdown under load", func(t *testing.T) {
		gracefulShutdown(t, c, phone)
	})
}
