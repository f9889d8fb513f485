package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
)

// TestLogoutHintOfAnEndedSessionAsks: an id_token_hint issued for an
// earlier session of the same citizen does not end the session they have
// now without asking (RP-Initiated Logout 1.0 §2). The confirmation page is
// in the language the service named (ui_locales), carries a CSRF token,
// and confirming goes back to the registered address with state. Before
// the fix the current session ended at once.
func TestLogoutHintOfAnEndedSessionAsks(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	c.FirstParty = true
	secret := env.CreateClient(t, c)
	r := newRP(t, env, c.ID, secret)
	b := env.NewBrowser(t)
	signedIn := func() bool {
		t.Helper()
		p := b.Get(r.oauth.AuthCodeURL("state-123456", oauth2.SetAuthURLParam("prompt", "none"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		return p.URL.Query().Get("code") != ""
	}

	tok, _ := r.login(t, b)
	oldHint := tok.Extra("id_token").(string)
	logout := func(hint, state string) *apptest.Page {
		return b.Get(env.URL + "/oauth2/logout?" + url.Values{"id_token_hint": {hint}, "ui_locales": {"en-GB ru"},
			"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {state}}.Encode())
	}
	// The hint of the current session ends it at once.
	if p := logout(oldHint, "st1"); p.URL.String() != "http://127.0.0.1:9/bye?state=st1" {
		t.Fatalf("logout with the current session's hint: %d %s", p.Status, p.URL)
	}
	if signedIn() {
		t.Fatal("still signed in after logout")
	}

	tok, _ = r.login(t, b)
	if tok.Extra("id_token").(string) == oldHint {
		t.Fatal("the second sign-in returned the first id_token")
	}
	p := logout(oldHint, "st2")
	if p.Status != http.StatusOK || p.URL.Host != strings.TrimPrefix(env.URL, "http://") {
		t.Fatalf("hint of an ended session: %d %s; want the confirmation page", p.Status, p.URL)
	}
	form, err := p.Form("/logout/confirm")
	if err != nil {
		t.Fatal(err)
	}
	if form.Values.Get("csrf_token") == "" {
		t.Fatalf("confirmation form without a CSRF token: %v", form.Values)
	}
	for _, want := range []string{"Sign out", "earlier sign-in", `<html lang="en">`} {
		if !strings.Contains(p.Body, want) {
			t.Fatalf("confirmation page lacks %q:\n%s", want, p.Body)
		}
	}
	if !signedIn() {
		t.Fatal("the current session ended before the citizen confirmed")
	}

	// Without the CSRF token the confirmation is refused.
	if p := b.Post(env.URL+"/logout/confirm", url.Values{"flow": {form.Values.Get("flow")}, "decision": {"yes"}}); p.Status != http.StatusForbidden {
		t.Fatalf("confirmation without CSRF: %d", p.Status)
	}
	if !signedIn() {
		t.Fatal("a confirmation without CSRF ended the session")
	}
	p = logout(oldHint, "st3")
	if p = b.Submit("/logout/confirm", url.Values{"decision": {"yes"}}); p.URL.String() != "http://127.0.0.1:9/bye?state=st3" {
		t.Fatalf("after confirming: %d %s", p.Status, p.URL)
	}
	if signedIn() {
		t.Fatal("still signed in after confirming")
	}
}
