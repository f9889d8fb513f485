package app_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gosid/gosid/app/apptest"
)

// TestFrontchannelLogout: a service that registered a
// frontchannel_logout_uri (session required) is loaded in an iframe of
// gosid's signed-out page, with iss and sid (Front-Channel Logout 1.0 §2,
// §3), whether the citizen signs out at gosid or the service asks
// (RP-initiated logout, then the page links on to the registered
// post-logout address); the page's Content-Security-Policy lets exactly
// that origin be framed; a service without one gets no iframe. Discovery
// says so.
func TestFrontchannelLogout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		env.CreateAccount(t, testPhone, testPassword)
		c := webClient()
		c.FirstParty = true
		c.FrontchannelLogoutURI = "https://rp.example:8443/fc?x=1"
		c.FrontchannelLogoutSessionRequired = true
		r := newRP(t, env, c.ID, env.CreateClient(t, c))
		other := webClient()
		other.FirstParty = true
		r2 := newRP(t, env, other.ID, env.CreateClient(t, other))

		var disc map[string]any
		if err := r.provider.Claims(&disc); err != nil {
			t.Fatal(err)
		}
		if disc["frontchannel_logout_supported"] != true || disc["frontchannel_logout_session_supported"] != true {
			t.Fatalf("discovery: %v %v", disc["frontchannel_logout_supported"], disc["frontchannel_logout_session_supported"])
		}
		frames := regexp.MustCompile(`<iframe class="logout-frame" src="([^"]+)"`)
		check := func(p *apptest.Page, sid string) {
			t.Helper()
			m := frames.FindAllStringSubmatch(p.Body, -1)
			if p.Status != http.StatusOK || len(m) != 1 {
				t.Fatalf("signed-out page: %d, iframes %v", p.Status, m)
			}
			u, err := url.Parse(html.UnescapeString(m[0][1]))
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if u.Host != "rp.example:8443" || u.Path != "/fc" || q.Get("x") != "1" || q.Get("iss") != env.URL || q.Get("sid") != sid {
				t.Fatalf("front-channel iframe %s; want iss %s sid %s", u, env.URL, sid)
			}
			if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src https://rp.example:8443") {
				t.Fatalf("CSP %q does not allow the iframe", csp)
			}
		}
		sidOf := func(raw string) string {
			t.Helper()
			idt, err := r.verifier.Verify(r.ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			var cl struct {
				Sid string `json:"sid"`
			}
			if err := idt.Claims(&cl); err != nil || cl.Sid == "" {
				t.Fatalf("sid: %v", err)
			}
			return cl.Sid
		}

		// Sign-out at gosid.
		b := env.NewBrowser(t)
		tok, _ := r.login(t, b)
		r2.login(t, b)
		b.Get(env.URL + "/account")
		check(b.Submit("/logout", nil), sidOf(tok.Extra("id_token").(string)))

		// RP-initiated logout: the page, then on to the service.
		b = env.NewBrowser(t)
		tok, _ = r.login(t, b)
		p := b.Get(env.URL + "/oauth2/logout?" + url.Values{"id_token_hint": {tok.Extra("id_token").(string)},
			"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"st1"}}.Encode())
		check(p, sidOf(tok.Extra("id_token").(string)))
		if !strings.Contains(p.Body, `href="http://127.0.0.1:9/bye?state=st1"`) {
			t.Fatalf("no link on to the service:\n%s", p.Body)
		}

		// A service without a front-channel URI: straight back, no page.
		b = env.NewBrowser(t)
		tok, _ = r2.login(t, b)
		p = b.Get(env.URL + "/oauth2/logout?" + url.Values{"id_token_hint": {tok.Extra("id_token").(string)},
			"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}}.Encode())
		if p.URL.String() != "http://127.0.0.1:9/bye" {
			t.Fatalf("logout of a service without front channel: %d %s", p.Status, p.URL)
		}
	})
}
