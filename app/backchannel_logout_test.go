package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/gosid/gosid/app/apptest"
)

// logoutRP is a relying party's back-channel logout endpoint (OpenID
// Connect Back-Channel Logout 1.0 §2.5): it validates every logout token
// with go-oidc against gosid's published keys, as a service would, and
// answers 503 while down.
type logoutRP struct {
	t        *testing.T
	srv      *httptest.Server
	verifier *oidc.IDTokenVerifier
	mu       sync.Mutex
	down     int // requests still refused
	refused  int
	tokens   chan logoutToken
}

type logoutToken struct {
	Sub    string                     `json:"sub"`
	Sid    string                     `json:"sid"`
	Jti    string                     `json:"jti"`
	Iat    int64                      `json:"iat"`
	Nonce  *string                    `json:"nonce"`
	Events map[string]json.RawMessage `json:"events"`
	Typ    string                     `json:"-"`
}

func newLogoutRP(t *testing.T) *logoutRP {
	l := &logoutRP{t: t, tokens: make(chan logoutToken, 16)}
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *logoutRP) serve(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	if l.down > 0 {
		l.down--
		l.refused++
		l.mu.Unlock()
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	v := l.verifier
	l.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		l.t.Errorf("logout request: %s %s", r.Method, r.Header.Get("Content-Type"))
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	raw := r.PostFormValue("logout_token")
	tok, err := v.Verify(r.Context(), raw)
	if err != nil {
		l.t.Errorf("logout token does not verify: %v", err)
		http.Error(w, "invalid", http.StatusBadRequest)
		return
	}
	var c logoutToken
	if err := tok.Claims(&c); err != nil {
		l.t.Errorf("logout token claims: %v", err)
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		l.t.Errorf("logout token: %v", err)
	} else if typ, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string); typ != "" {
		c.Typ = typ
	}
	w.WriteHeader(http.StatusOK)
	l.tokens <- c
}

// next waits for a logout token and checks what §2.4 requires of it; sid
// "*" is any session.
func (l *logoutRP) next(t *testing.T, sub, sid string) logoutToken {
	t.Helper()
	select {
	case c := <-l.tokens:
		if _, ok := c.Events["http://schemas.openid.net/event/backchannel-logout"]; !ok || len(c.Events) != 1 {
			t.Fatalf("logout token events: %v", c.Events)
		}
		if c.Nonce != nil || c.Jti == "" || c.Iat == 0 || c.Typ != "logout+jwt" {
			t.Fatalf("logout token: %+v", c)
		}
		if c.Sub != sub || (sid != "*" && c.Sid != sid) || c.Sid == "" {
			t.Fatalf("logout token for sub %q sid %q; want %q %q", c.Sub, c.Sid, sub, sid)
		}
		return c
	case <-time.After(90 * time.Second):
		t.Fatal("no logout token reached the service")
	}
	return logoutToken{}
}

// none checks that no other logout token arrives for a while.
func (l *logoutRP) none(t *testing.T) {
	t.Helper()
	select {
	case c := <-l.tokens:
		t.Fatalf("unexpected logout token: %+v", c)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestBackchannelLogout: a service that registered a backchannel_logout_uri
// gets a signed logout token, which go-oidc validates against gosid's keys,
// with the sub and sid of its id_token, for every way a session ends: sign
// out at gosid, RP-initiated logout, ending the session on the sessions
// page, a password change (the path recovery shares), account deletion;
// delivery is retried while the service is down. Discovery says so.
func TestBackchannelLogout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		cfg := apptest.NewConfig(t, backend)
		cfg.FetchAllowPrivate = true // the service listens on loopback
		env := apptest.Start(t, cfg)
		acct := env.CreateAccount(t, testPhone, testPassword)
		l := newLogoutRP(t)
		c := webClient()
		c.FirstParty = true
		c.BackchannelLogoutURI = l.srv.URL + "/bc"
		c.BackchannelLogoutSessionRequired = true
		r := newRP(t, env, c.ID, env.CreateClient(t, c))
		l.verifier = r.provider.Verifier(&oidc.Config{ClientID: c.ID})

		var disc map[string]any
		if err := r.provider.Claims(&disc); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"backchannel_logout_supported", "backchannel_logout_session_supported"} {
			if disc[k] != true {
				t.Fatalf("discovery %s: %v", k, disc[k])
			}
		}

		signIn := func(b *apptest.Browser) string {
			t.Helper()
			_, idt := r.login(t, b)
			var cl struct {
				Sid string `json:"sid"`
			}
			if err := idt.Claims(&cl); err != nil || cl.Sid == "" {
				t.Fatalf("id_token sid: %q %v", cl.Sid, err)
			}
			if idt.Subject != acct.ID {
				t.Fatalf("id_token sub %q", idt.Subject)
			}
			return cl.Sid
		}

		t.Run("sign-out at gosid, retried while the service is down", func(t *testing.T) {
			b := env.NewBrowser(t)
			sid := signIn(b)
			l.mu.Lock()
			l.down = 2
			l.mu.Unlock()
			b.Get(env.URL + "/account")
			if p := b.Submit("/logout", nil); p.Status != http.StatusOK && p.Status != http.StatusSeeOther {
				t.Fatalf("sign out: %d", p.Status)
			}
			l.next(t, acct.ID, sid)
			l.mu.Lock()
			refused := l.refused
			l.mu.Unlock()
			if refused != 2 {
				t.Fatalf("the service refused %d deliveries; want 2 before the one it took", refused)
			}
			l.none(t)
		})

		t.Run("RP-initiated logout", func(t *testing.T) {
			b := env.NewBrowser(t)
			tok, _ := r.login(t, b)
			idt, _ := r.verifier.Verify(r.ctx, tok.Extra("id_token").(string))
			var cl struct {
				Sid string `json:"sid"`
			}
			_ = idt.Claims(&cl)
			b.Get(env.URL + "/oauth2/logout?" + url.Values{"id_token_hint": {tok.Extra("id_token").(string)},
				"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}}.Encode())
			l.next(t, acct.ID, cl.Sid)
		})

		t.Run("ended on the sessions page", func(t *testing.T) {
			b1, b2 := env.NewBrowser(t), env.NewBrowser(t)
			sid1, sid2 := signIn(b1), signIn(b2)
			l.none(t) // signing in at b2 ended nothing
			p := b2.Get(env.URL + "/settings/sessions")
			if _, err := p.Form("/settings/sessions"); err != nil {
				t.Fatal(err)
			}
			b2.Submit("/settings/sessions", url.Values{"action": {"end"}, "session": {sid1}})
			l.next(t, acct.ID, sid1)
			l.none(t)
			b2.Get(env.URL + "/account")
			b2.Submit("/logout", nil)
			l.next(t, acct.ID, sid2)
		})

		t.Run("password change ends every session", func(t *testing.T) {
			a := &api{t: t, env: env}
			b1, b2 := env.NewBrowser(t), env.NewBrowser(t)
			want := []string{signIn(b1), signIn(b2)}
			_, v := a.password(testPhone, testPassword)
			const newPassword = "Тихий-Ветер-5-Сад"
			status, v2 := a.do(http.MethodPost, "/api/v1/session/password", v.SessionToken, map[string]any{
				"current_password": testPassword, "password": newPassword, "password_confirm": newPassword})
			if status != http.StatusOK {
				t.Fatalf("change password: %d", status)
			}
			got := []string{l.next(t, acct.ID, "*").Sid, l.next(t, acct.ID, "*").Sid}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("logout tokens for sessions %v; want %v", got, want)
			}
			l.none(t)
			// Back to the old password (the API session has no service).
			if status, _ := a.do(http.MethodPost, "/api/v1/session/password", v2.SessionToken, map[string]any{
				"current_password": newPassword, "password": testPassword, "password_confirm": testPassword}); status != http.StatusOK {
				t.Fatalf("change password back: %d", status)
			}
			l.none(t)
		})

		t.Run("account deletion", func(t *testing.T) {
			a := &api{t: t, env: env}
			sid := signIn(env.NewBrowser(t))
			_, v := a.password(testPhone, testPassword)
			f := &mfaView{}
			if status := a.call(http.MethodPost, "/api/v1/session/deletion", v.SessionToken, nil, f); status != http.StatusCreated {
				t.Fatalf("start: %d %+v", status, f)
			}
			if status, r := a.flow("delete", f, map[string]any{"code": env.LatestCode(t, testPhone)}); status != http.StatusOK || r.State != "done" {
				t.Fatalf("confirm: %d %+v", status, r)
			}
			l.next(t, acct.ID, sid)
		})
	})
}
