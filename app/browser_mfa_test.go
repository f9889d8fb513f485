package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/app/apptest"
)

// cdp runs chromedp steps with a screenshot after each; a failure saves a
// screenshot and the page text.
type cdp struct {
	t      *testing.T
	ctx    context.Context
	prefix string
}

func (c *cdp) run(step string, actions ...chromedp.Action) {
	c.t.Helper()
	actions = append(actions, shot(c.prefix+step))
	sctx, cancel := context.WithTimeout(c.ctx, 90*time.Second) // generous: CI runs on two busy cores
	defer cancel()
	if err := chromedp.Run(sctx, actions...); err != nil {
		var body, loc string
		_ = chromedp.Run(c.ctx, shot(c.prefix+step+"-failed"), chromedp.Location(&loc), chromedp.Text("body", &body, chromedp.ByQuery))
		c.t.Fatalf("%s: %v\nat %s\npage text: %s", step, err, loc, body)
	}
}

var settle = chromedp.Sleep(300 * time.Millisecond)

// password fills the sign-in page; the caller waits for what follows.
func password(login, pw string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitVisible(`input[name="login"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="login"]`, login, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, pw, chromedp.ByQuery),
		chromedp.Submit(`input[name="password"]`, chromedp.ByQuery), settle,
	}
}

func signOut() chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitVisible(`form[action="/logout"]`, chromedp.ByQuery),
		chromedp.Click(`form[action="/logout"] button`, chromedp.ByQuery), settle,
		chromedp.WaitNotPresent(`form[action="/logout"]`, chromedp.ByQuery),
	}
}

// TestBrowserAuthenticatorApp: after a password sign-in the citizen is
// offered a second factor, turns on an authenticator app by reading the
// secret off the page, gets recovery codes, then signs in with a code from
// the app and, later, with a recovery code.
func TestBrowserAuthenticatorApp(t *testing.T) {
	ctx := chromium(t)
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := &cdp{t: t, ctx: ctx, prefix: "mfa-totp-"}
	var secret, codesText, body string

	c.run("1-offer", chromedp.Navigate(env.URL+"/login?lang=ru"), password(testPhone, testPassword),
		chromedp.WaitVisible(`button[name="decision"][value="setup"]`, chromedp.ByQuery))
	c.run("2-security", chromedp.Click(`button[name="decision"][value="setup"]`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`button[value="enroll_totp"]`, chromedp.ByQuery))
	c.run("3-qr", chromedp.Click(`button[value="enroll_totp"]`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`img.qr`, chromedp.ByQuery),
		chromedp.Text(`#totp-secret`, &secret, chromedp.ByQuery))
	code, err := totp.GenerateCode(strings.TrimSpace(secret), time.Now())
	if err != nil {
		t.Fatalf("secret %q from the page: %v", secret, err)
	}
	c.run("4-enrolled",
		chromedp.SendKeys(`input[name="code"]`, code, chromedp.ByQuery),
		chromedp.Click(`button[name="action"][value="verify"]`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`#recovery-codes`, chromedp.ByQuery),
		chromedp.Text(`#recovery-codes`, &codesText, chromedp.ByQuery))
	recovery := strings.Fields(codesText)
	if len(recovery) != 10 {
		t.Fatalf("recovery codes on the page: %q", codesText)
	}
	c.run("5-signout", chromedp.Navigate(env.URL+"/account"), signOut())

	next, _ := totp.GenerateCode(strings.TrimSpace(secret), time.Now().Add(30*time.Second))
	c.run("6-second-factor", chromedp.Navigate(env.URL+"/login"), password(testPhone, testPassword),
		chromedp.WaitVisible(`#factor-totp input[name="code"]`, chromedp.ByQuery))
	c.run("7-totp",
		chromedp.SendKeys(`#factor-totp input[name="code"]`, next, chromedp.ByQuery),
		chromedp.Click(`#factor-totp button[type="submit"]`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`form[action="/logout"]`, chromedp.ByQuery),
		chromedp.Text("main", &body, chromedp.ByQuery))
	if strings.Contains(body, "Включить") && strings.Contains(body, "Защитите") {
		t.Fatal("the offer is still shown with a second factor on")
	}
	c.run("8-signout", signOut())
	c.run("9-recovery", chromedp.Navigate(env.URL+"/login"), password(testPhone, testPassword),
		chromedp.WaitVisible(`#factor-recovery summary`, chromedp.ByQuery),
		chromedp.Click(`#factor-recovery summary`, chromedp.ByQuery),
		chromedp.SendKeys(`#recovery_code`, recovery[3], chromedp.ByQuery),
		chromedp.Click(`#factor-recovery button[type="submit"]`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`form[action="/logout"]`, chromedp.ByQuery))
	c.run("10-security", chromedp.Navigate(env.URL+"/settings/security"),
		chromedp.WaitVisible(`#factors`, chromedp.ByQuery), chromedp.Text("main", &body, chromedp.ByQuery))
	if !strings.Contains(body, "Осталось резервных кодов: 9") {
		t.Fatalf("security page after a recovery code: %s", body)
	}
}

// TestBrowserSecurityKey: a security key registered and used through
// Chromium's virtual authenticator (DevTools WebAuthn domain).
func TestBrowserSecurityKey(t *testing.T) {
	ctx := chromium(t)
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := &cdp{t: t, ctx: ctx, prefix: "mfa-key-"}
	c.run("0-authenticator", chromedp.Navigate(env.URL+"/login?lang=en"), chromedp.ActionFunc(func(ctx context.Context) error {
		if err := webauthn.Enable().WithEnableUI(false).Do(ctx); err != nil {
			return err
		}
		_, err := webauthn.AddVirtualAuthenticator(&webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportUsb,
			HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}).Do(ctx)
		return err
	}))
	var body string
	c.run("1-signin", password(testPhone, testPassword), chromedp.WaitVisible(`button[name="decision"]`, chromedp.ByQuery),
		chromedp.Navigate(env.URL+"/settings/security"), chromedp.WaitVisible(`button[value="enroll_webauthn"]`, chromedp.ByQuery))
	c.run("2-register", chromedp.Click(`button[value="enroll_webauthn"]`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`#webauthn-create`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="name"]`, "Key on my keyring", chromedp.ByQuery),
		chromedp.Click(`#webauthn-create`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`#recovery-codes`, chromedp.ByQuery))
	c.run("3-listed", chromedp.Navigate(env.URL+"/settings/security"), chromedp.WaitVisible(`#factors`, chromedp.ByQuery),
		chromedp.Text(`#factors`, &body, chromedp.ByQuery))
	if !strings.Contains(body, "Key on my keyring") {
		t.Fatalf("the key is not listed: %s", body)
	}
	c.run("4-signout", chromedp.Navigate(env.URL+"/account"), signOut())
	c.run("5-use-key", chromedp.Navigate(env.URL+"/login"), password(testPhone, testPassword),
		chromedp.WaitVisible(`#webauthn-begin`, chromedp.ByQuery),
		chromedp.Click(`#webauthn-begin`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`form[action="/logout"]`, chromedp.ByQuery))
	c.run("6-sessions", chromedp.Navigate(env.URL+"/settings/sessions"), chromedp.WaitVisible(`#sessions`, chromedp.ByQuery))
	phone, _ := account.NormalizePhone(testPhone)
	acct, err := env.Stores.DB.FindAccountByPhone(context.Background(), phone)
	if err != nil {
		t.Fatal(err)
	}
	list, err := env.Stores.DB.ListSessions(context.Background(), acct.ID, time.Now())
	if err != nil || len(list) == 0 {
		t.Fatalf("sessions: %v %v", list, err)
	}
	if got := list[0].AMR; !slices.Equal(got, []string{"pwd", "hwk", "mfa"}) {
		t.Fatalf("amr of the security-key session: %v", got)
	}
}

// TestBrowserStepUp: a go-oidc client sends acr_values asking for a second
// factor; Chromium, signed in with a password, is stepped up with an SMS
// code, and the id_token says so.
func TestBrowserStepUp(t *testing.T) {
	ctx := chromium(t)
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	// The relying service's callback records where the browser lands.
	landed := make(chan *url.URL, 1)
	rpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case landed <- req.URL:
		default:
		}
		_, _ = w.Write([]byte("signed in"))
	}))
	t.Cleanup(rpSrv.Close)
	cl := webClient()
	cl.FirstParty, cl.RedirectURIs = true, []string{rpSrv.URL + "/callback"}
	r := newRP(t, env, cl.ID, env.CreateClient(t, cl))
	r.oauth.RedirectURL = rpSrv.URL + "/callback"
	c := &cdp{t: t, ctx: ctx, prefix: "mfa-stepup-"}
	c.run("1-signin", chromedp.Navigate(env.URL+"/login?lang=ru"), password(testPhone, testPassword),
		chromedp.WaitVisible(`button[name="decision"]`, chromedp.ByQuery))

	verifier, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	auth := r.oauth.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce),
		oauth2.SetAuthURLParam("acr_values", "urn:gosid:loa:simplified:mfa"))
	c.run("2-step-up", chromedp.Navigate(auth), chromedp.WaitVisible(`#factor-sms button[value="send"]`, chromedp.ByQuery),
		chromedp.Click(`#factor-sms button[value="send"]`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`#code-sms`, chromedp.ByQuery))
	c.run("3-code", chromedp.SendKeys(`#code-sms`, env.LatestCode(t, testPhone), chromedp.ByQuery),
		chromedp.Click(`#factor-sms button[value="verify"]`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`body`, chromedp.ByQuery))
	var back *url.URL
	select {
	case back = <-landed:
	case <-time.After(10 * time.Second):
		t.Fatal("the browser never came back to the service")
	}
	if back.Query().Get("code") == "" {
		t.Fatalf("the service got %s", back)
	}
	tok, err := r.oauth.Exchange(r.ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := r.verifier.Verify(r.ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	_ = idt.Claims(&claims)
	if claims.ACR != "urn:gosid:loa:simplified:mfa" || !slices.Equal(claims.AMR, []string{"pwd", "sms", "mfa"}) || idt.Nonce != nonce {
		t.Fatalf("id_token after step-up: %+v", claims)
	}
}

// TestBrowserProfile: the citizen fills in personal data and documents in
// Chromium, sees «Ожидание проверки данных», then «Данные подтверждены»
// and the standard level once the reference registry confirmed them.
func TestBrowserProfile(t *testing.T) {
	ctx := chromium(t)
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := &cdp{t: t, ctx: ctx, prefix: "profile-"}
	c.run("1-signin", chromedp.Navigate(env.URL+"/login?lang=ru"), password(testPhone, testPassword),
		chromedp.WaitVisible(`button[name="decision"]`, chromedp.ByQuery),
		chromedp.Navigate(env.URL+"/profile"), chromedp.WaitVisible(`#passport_series`, chromedp.ByQuery))
	var fill chromedp.Tasks
	for id, val := range map[string]string{
		"birth_date": "14.03.1985", "birthplace": "г. Москва", "passport_series": "4505", "passport_number": "123456",
		"passport_issue_date": "01.04.2005", "passport_issued_by": "ОВД Тверского района г. Москвы",
		"passport_dept_code": "772-001", "snils": "123-456-789 64", "inn": "770112345695",
	} {
		fill = append(fill, chromedp.SendKeys("#"+id, val, chromedp.ByQuery))
	}
	var status string
	c.run("2-fill", fill, chromedp.SetValue(`#sex`, "male", chromedp.ByQuery),
		chromedp.Submit(`#snils`, chromedp.ByQuery), settle,
		chromedp.WaitVisible(`#profile-status`, chromedp.ByQuery),
		chromedp.AttributeValue(`#profile-status`, "data-status", &status, nil, chromedp.ByQuery))
	if status != "verifying" && status != "verified" {
		t.Fatalf("after submitting: status %q", status)
	}
	var text string
	for deadline := time.Now().Add(20 * time.Second); status != "verified"; {
		if time.Now().After(deadline) {
			t.Fatalf("never verified; last status %q", status)
		}
		c.run("3-reload", chromedp.Sleep(300*time.Millisecond), chromedp.Navigate(env.URL+"/profile"),
			chromedp.WaitVisible(`#profile-status`, chromedp.ByQuery),
			chromedp.AttributeValue(`#profile-status`, "data-status", &status, nil, chromedp.ByQuery))
	}
	c.run("4-verified", chromedp.Text(`#profile-status`, &text, chromedp.ByQuery))
	if !strings.Contains(text, "Данные подтверждены") || !strings.Contains(text, "стандартная") {
		t.Fatalf("verified status text: %q", text)
	}
}
