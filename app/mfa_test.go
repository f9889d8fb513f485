package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/gosid/gosid/app/apptest"
)

// mfaView is a flow view with the second-factor fields.
type mfaView struct {
	flowView
	Methods []struct {
		Method  string `json:"method"`
		Contact string `json:"contact"`
	} `json:"methods"`
	Method        string          `json:"method"`
	TOTPSecret    string          `json:"totp_secret"`
	QR            string          `json:"qr_png"`
	RecoveryCodes []string        `json:"recovery_codes"`
	WebAuthn      json.RawMessage `json:"webauthn"`
}

func (v *mfaView) methods() []string {
	var out []string
	for _, m := range v.Methods {
		out = append(out, m.Method)
	}
	return out
}

// call sends a JSON request and decodes the answer into out (if not nil).
func (a *api) call(method, path, token string, body any, out any) int {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, a.env.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.env.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: not JSON (%d): %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

// flow posts to a flow and decodes a second-factor view.
func (a *api) flow(kind string, f *mfaView, body map[string]any) (int, *mfaView) {
	a.t.Helper()
	v := &mfaView{}
	status := a.call(http.MethodPost, "/api/v1/flows/"+kind+"/"+f.ID, f.FlowToken, body, v)
	return status, v
}

// password starts an API sign-in and submits the password; the view is
// either done (session token) or awaits a second factor.
func (a *api) password(login, password string) (int, *mfaView) {
	a.t.Helper()
	f := &mfaView{}
	if status := a.call(http.MethodPost, "/api/v1/flows/login", "", nil, f); status != http.StatusCreated {
		a.t.Fatalf("start login: %d", status)
	}
	status, v := a.flow("login", f, map[string]any{"login": login, "password": password})
	v.FlowToken = f.FlowToken
	return status, v
}

// whoami returns the session's amr.
func (a *api) amr(token string) []string {
	a.t.Helper()
	var who struct {
		AMR []string `json:"amr"`
	}
	if status := a.call(http.MethodGet, "/api/v1/session", token, nil, &who); status != http.StatusOK {
		a.t.Fatalf("whoami: %d", status)
	}
	return who.AMR
}

// enrollTOTP turns an authenticator on and returns its secret and the
// recovery codes.
func (a *api) enrollTOTP(session string) (string, []string) {
	a.t.Helper()
	secret, _, recovery := a.enrollTOTPCode(session)
	return secret, recovery
}

// enrollTOTPCode is enrollTOTP that also returns the code that confirmed
// the enrolment (a code computed again later may be of the next step).
func (a *api) enrollTOTPCode(session string) (secret, code string, recovery []string) {
	a.t.Helper()
	f := &mfaView{}
	if status := a.call(http.MethodPost, "/api/v1/session/factors", session, map[string]any{"method": "totp"}, f); status != http.StatusCreated {
		a.t.Fatalf("start enrolment: %d %+v", status, f)
	}
	if f.TOTPSecret == "" || !strings.HasPrefix(f.QR, "data:image/png;base64,") {
		a.t.Fatalf("enrolment shows no secret or QR code: %+v", f)
	}
	code, _ = totp.GenerateCode(f.TOTPSecret, time.Now())
	status, v := a.flow("enroll", f, map[string]any{"code": code})
	if status != http.StatusOK || v.State != "done" {
		a.t.Fatalf("confirm enrolment: %d %+v", status, v)
	}
	return f.TOTPSecret, code, v.RecoveryCodes
}

func wrongCode(right string) string {
	if right == "000000" {
		return "111111"
	}
	return "000000"
}

// TestAPISecondFactorTOTP: an authenticator app turned on over the API, a
// sign-in with it (drift of one step accepted, a code used once), recovery
// codes (each works once), and turning it off only with a fresh second
// factor.
func TestAPISecondFactorTOTP(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		a := &api{t: t, env: env}
		env.CreateAccount(t, testPhone, testPassword)
		status, v := a.password(testPhone, testPassword)
		if status != http.StatusOK || v.SessionToken == "" {
			t.Fatalf("password-only sign-in: %d %+v", status, v)
		}
		session := v.SessionToken

		// A wrong first code does not turn the app on.
		f := &mfaView{}
		a.call(http.MethodPost, "/api/v1/session/factors", session, map[string]any{"method": "totp"}, f)
		right, _ := totp.GenerateCode(f.TOTPSecret, time.Now())
		if status, v := a.flow("enroll", f, map[string]any{"code": wrongCode(right)}); status != http.StatusUnprocessableEntity || v.errCode("code") != "mfa.invalid" {
			t.Fatalf("wrong enrolment code: %d %+v", status, v)
		}
		secret, used, recovery := a.enrollTOTPCode(session)
		if len(recovery) != 10 {
			t.Fatalf("got %d recovery codes, want 10", len(recovery))
		}
		var factors struct {
			Factors []struct {
				ID   string `json:"id"`
				Kind string `json:"kind"`
			} `json:"factors"`
			Left int `json:"recovery_codes_left"`
		}
		a.call(http.MethodGet, "/api/v1/session/factors", session, nil, &factors)
		if len(factors.Factors) != 1 || factors.Factors[0].Kind != "totp" || factors.Left != 10 {
			t.Fatalf("factors: %+v", factors)
		}

		// The password alone no longer signs in.
		status, v = a.password(testPhone, testPassword)
		if status != http.StatusOK || v.State != "second_factor" || v.SessionToken != "" {
			t.Fatalf("after the password: %d %+v", status, v)
		}
		if got := v.methods(); !slices.Equal(got, []string{"totp", "recovery"}) {
			t.Fatalf("methods %v", got)
		}
		// The code used for enrolment is refused: no replay.
		if status, r := a.flow("login", v, map[string]any{"method": "totp", "code": used}); status != http.StatusUnprocessableEntity ||
			(r.errCode("code") != "mfa.replayed" && r.errCode("code") != "mfa.invalid") {
			t.Fatalf("replayed code: %d %+v", status, r)
		}
		// The next step's code is accepted (clock drift of one step).
		next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
		status, done := a.flow("login", v, map[string]any{"method": "totp", "code": next})
		if status != http.StatusOK || done.SessionToken == "" {
			t.Fatalf("next step's code: %d %+v", status, done)
		}
		if got := a.amr(done.SessionToken); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
			t.Fatalf("amr %v", got)
		}
		// The same code again, in a new sign-in: refused.
		_, v = a.password(testPhone, testPassword)
		if status, r := a.flow("login", v, map[string]any{"method": "totp", "code": next}); status != http.StatusUnprocessableEntity || r.errCode("code") != "mfa.replayed" {
			t.Fatalf("code reused in another sign-in: %d %+v", status, r)
		}

		// A recovery code signs in once, typed loosely.
		loose := strings.ToLower(strings.ReplaceAll(recovery[0], "-", " "))
		status, rec := a.flow("login", v, map[string]any{"method": "recovery", "code": loose})
		if status != http.StatusOK || rec.SessionToken == "" {
			t.Fatalf("recovery code: %d %+v", status, rec)
		}
		_, v = a.password(testPhone, testPassword)
		if status, r := a.flow("login", v, map[string]any{"method": "recovery", "code": recovery[0]}); status != http.StatusUnprocessableEntity || r.errCode("code") != "mfa.recovery_invalid" {
			t.Fatalf("recovery code reused: %d %+v", status, r)
		}
		env.WaitTemplate(t, testPhone, "security_changed")

		// Adding another factor needs a fresh second factor too: the first,
		// password-only session (from before the app was on) cannot.
		if status := a.call(http.MethodPost, "/api/v1/session/factors", session, map[string]any{"method": "sms"}, nil); status != http.StatusForbidden {
			t.Fatalf("a password-only session added a factor: %d", status)
		}
		// Turning the factor off needs a fresh second factor: the first,
		// password-only session is refused; the recovery-code one may.
		id := factors.Factors[0].ID
		if status := a.call(http.MethodDelete, "/api/v1/session/factors/"+id, session, nil, &flowView{}); status != http.StatusForbidden {
			t.Fatalf("turn off without a second factor: %d", status)
		}
		// New recovery codes replace the old ones.
		var fresh struct {
			Codes []string `json:"recovery_codes"`
		}
		if status := a.call(http.MethodPost, "/api/v1/session/recovery-codes", rec.SessionToken, nil, &fresh); status != http.StatusOK || len(fresh.Codes) != 10 {
			t.Fatalf("regenerate: %d %+v", status, fresh)
		}
		if status, r := a.flow("login", v, map[string]any{"method": "recovery", "code": recovery[1]}); status != http.StatusUnprocessableEntity || r.errCode("code") != "mfa.recovery_invalid" {
			t.Fatalf("an old recovery code still works: %d %+v", status, r)
		}
		if status := a.call(http.MethodDelete, "/api/v1/session/factors/"+id, rec.SessionToken, nil, nil); status != http.StatusNoContent {
			t.Fatalf("turn off: %d", status)
		}
		if status, v := a.password(testPhone, testPassword); status != http.StatusOK || v.SessionToken == "" {
			t.Fatalf("after turning off, the password alone signs in: %d %+v", status, v)
		}
	})
}

// TestTOTPBruteForce: wrong authenticator codes have their own counter,
// safe against parallel guesses, and do not touch the password's.
func TestTOTPBruteForce(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	_, v := a.password(testPhone, testPassword)
	secret, _ := a.enrollTOTP(v.SessionToken)

	_, v = a.password(testPhone, testPassword)
	right, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := range 40 {
		wg.Go(func() {
			guess := strings.Repeat(string(rune('0'+i%10)), 6)
			if guess == right {
				guess = "123456"
			}
			_, r := a.flow("login", v, map[string]any{"method": "totp", "code": guess})
			mu.Lock()
			codes[r.errCode("code")]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes["mfa.invalid"] > 5 || codes["mfa.locked"] < 35 {
		t.Fatalf("40 parallel wrong codes: %v; at most 5 may be compared", codes)
	}
	// Locked: even the right code is refused now.
	if _, r := a.flow("login", v, map[string]any{"method": "totp", "code": right}); r.errCode("code") != "mfa.locked" {
		t.Fatalf("right code while locked: %+v", r.Errors)
	}
	// The password's counter is untouched: the password still gets through
	// to the second factor (3 wrong passwords would have locked it).
	if status, p := a.password(testPhone, testPassword); status != http.StatusOK || p.State != "second_factor" {
		t.Fatalf("password after OTP lockout: %d %+v", status, p)
	}
	// And wrong passwords do not consume OTP attempts of another account.
	other := "+79163527199"
	env.CreateAccount(t, other, testPassword)
	_, ov := a.password(other, testPassword)
	osecret, _ := a.enrollTOTP(ov.SessionToken)
	a.password(other, "Wrong-password-1")
	a.password(other, "Wrong-password-2")
	_, ov = a.password(other, testPassword)
	ocode, _ := totp.GenerateCode(osecret, time.Now().Add(30*time.Second))
	if status, r := a.flow("login", ov, map[string]any{"method": "totp", "code": ocode}); status != http.StatusOK || r.SessionToken == "" {
		t.Fatalf("TOTP after two wrong passwords: %d %+v", status, r)
	}
}

// TestAPISecondFactorSMS: SMS codes as the second factor, turned on with a
// code, the code sent only on request, wrong codes burning it.
func TestAPISecondFactorSMS(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		a := &api{t: t, env: env}
		env.CreateAccount(t, testPhone, testPassword)
		_, v := a.password(testPhone, testPassword)
		f := &mfaView{}
		if status := a.call(http.MethodPost, "/api/v1/session/factors", v.SessionToken, map[string]any{"method": "sms"}, f); status != http.StatusCreated || f.Contact == "" {
			t.Fatalf("start SMS: %d %+v", status, f)
		}
		if status, r := a.flow("enroll", f, map[string]any{"code": env.LatestCode(t, testPhone)}); status != http.StatusOK || len(r.RecoveryCodes) != 10 {
			t.Fatalf("confirm SMS: %d %+v", status, r)
		}
		// Another factor, from the password-only session: a step-up first.
		if status := a.call(http.MethodPost, "/api/v1/session/factors", v.SessionToken, map[string]any{"method": "email"}, nil); status != http.StatusForbidden {
			t.Fatalf("second factor from a password-only session: %d", status)
		}

		_, v = a.password(testPhone, testPassword)
		if got := v.methods(); !slices.Equal(got, []string{"sms", "recovery"}) {
			t.Fatalf("methods %v", got)
		}
		if _, r := a.flow("login", v, map[string]any{"method": "sms", "code": "123456"}); r.errCode("code") != "mfa.send_first" {
			t.Fatalf("code before sending: %+v", r.Errors)
		}
		if status, r := a.flow("login", v, map[string]any{"action": "send", "method": "sms"}); status != http.StatusOK || r.Method != "sms" {
			t.Fatalf("send: %d %+v", status, r)
		}
		status, r := a.flow("login", v, map[string]any{"method": "sms", "code": env.LatestCode(t, testPhone)})
		if status != http.StatusOK || r.SessionToken == "" {
			t.Fatalf("SMS code: %d %+v", status, r)
		}
		if got := a.amr(r.SessionToken); !slices.Equal(got, []string{"pwd", "sms", "mfa"}) {
			t.Fatalf("amr %v", got)
		}
		// E-mail cannot be turned on without a confirmed address.
		e := &mfaView{}
		if status := a.call(http.MethodPost, "/api/v1/session/factors", r.SessionToken, map[string]any{"method": "email"}, e); status != http.StatusUnprocessableEntity || e.errCode("") != "mfa.no_contact" {
			t.Fatalf("e-mail factor without an address: %d %+v", status, e)
		}
		// Another code within 60 s is refused (the resend pause).
		_, v = a.password(testPhone, testPassword)
		if _, r := a.flow("login", v, map[string]any{"action": "send", "method": "sms"}); r.errCode("") != "code.too_soon" {
			t.Fatalf("second code at once: %+v", r.Errors)
		}

		// Three wrong tries burn a code; the right one is then refused.
		other := "+79163527198"
		env.CreateAccount(t, other, testPassword)
		_, ov := a.password(other, testPassword)
		of := &mfaView{}
		a.call(http.MethodPost, "/api/v1/session/factors", ov.SessionToken, map[string]any{"method": "sms"}, of)
		a.flow("enroll", of, map[string]any{"code": env.LatestCode(t, other)})
		_, ov = a.password(other, testPassword)
		a.flow("login", ov, map[string]any{"action": "send", "method": "sms"})
		code := env.LatestCode(t, other)
		for i := range 3 {
			_, r := a.flow("login", ov, map[string]any{"method": "sms", "code": wrongCode(code)})
			if got := r.errCode("code"); got != "code.invalid" && got != "code.burned" {
				t.Fatalf("wrong code %d: %+v", i, r.Errors)
			}
		}
		if _, r := a.flow("login", ov, map[string]any{"method": "sms", "code": code}); r.SessionToken != "" || r.errCode("code") == "" {
			t.Fatalf("a burned SMS code signed in: %+v", r)
		}
	})
}

// TestMandatorySecondFactor: with the global setting, every sign-in needs a
// second factor; an account without one gets a code to its phone.
func TestMandatorySecondFactor(t *testing.T) {
	cfg := apptest.NewConfig(t, apptest.SQLite)
	cfg.RequireMFA = true
	env := apptest.Start(t, cfg)
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	status, v := a.password(testPhone, testPassword)
	if status != http.StatusOK || v.State != "second_factor" || !slices.Equal(v.methods(), []string{"sms"}) {
		t.Fatalf("mandatory second factor: %d %+v", status, v)
	}
	a.flow("login", v, map[string]any{"action": "send", "method": "sms"})
	if status, r := a.flow("login", v, map[string]any{"method": "sms", "code": env.LatestCode(t, testPhone)}); status != http.StatusOK || r.SessionToken == "" {
		t.Fatalf("sign-in with the code: %d %+v", status, r)
	}
}

// TestStepUpForACRValues: a client asking for a second factor in
// acr_values steps a password session up (never a weaker token); the
// id_token names the factor in amr and the strength in acr.
func TestStepUpForACRValues(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	c := webClient()
	c.FirstParty = true
	secret := env.CreateClient(t, c)
	r := newRP(t, env, c.ID, secret)
	b := env.NewBrowser(t)

	_, idt := r.login(t, b)
	var claims struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	_ = idt.Claims(&claims)
	if claims.ACR != "urn:gosid:loa:simplified" || !slices.Equal(claims.AMR, []string{"pwd"}) {
		t.Fatalf("password sign-in: %+v", claims)
	}
	// prompt=none cannot step up.
	p := b.Get(r.oauth.AuthCodeURL("s-123456789", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("acr_values", "urn:gosid:loa:simplified:mfa"), oauth2.SetAuthURLParam("prompt", "none")))
	if p.URL.Query().Get("error") != "interaction_required" {
		t.Fatalf("prompt=none step-up: %s", p.URL)
	}
	verifier := oauth2.GenerateVerifier()
	p = b.Get(r.oauth.AuthCodeURL("s-123456789", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("acr_values", "urn:gosid:loa:simplified:mfa")))
	if !strings.HasSuffix(p.URL.Path, "/login/second-factor") {
		t.Fatalf("no step-up: %d %s", p.Status, p.URL)
	}
	p = b.Submit("/login/second-factor", url.Values{"action": {"send"}})
	p = b.Submit("/login/second-factor", url.Values{"action": {"verify"}, "code-sms": {env.LatestCode(t, testPhone)}})
	code := p.URL.Query().Get("code")
	if code == "" {
		t.Fatalf("after the step-up: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	tok, err := r.oauth.Exchange(r.ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err = r.verifier.Verify(r.ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	_ = idt.Claims(&claims)
	if claims.ACR != "urn:gosid:loa:simplified:mfa" || !slices.Equal(claims.AMR, []string{"pwd", "sms", "mfa"}) {
		t.Fatalf("stepped-up token: %+v", claims)
	}
	// A client whose policy requires MFA is satisfied by the stepped-up session.
	strict := webClient()
	strict.FirstParty, strict.RequireMFA = true, true
	rs := newRP(t, env, strict.ID, env.CreateClient(t, strict))
	if _, idt := rs.login(t, b); idt == nil {
		t.Fatal("no token for the MFA client")
	}
}

// TestSessionsAndServices: the citizen lists sessions and ends another one;
// lists connected services and revokes one, which kills its refresh token.
func TestSessionsAndServices(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		a := &api{t: t, env: env}
		env.CreateAccount(t, testPhone, testPassword)
		_, first := a.password(testPhone, testPassword)
		_, second := a.password(testPhone, testPassword)
		var list struct {
			Sessions []struct {
				ID      string   `json:"id"`
				Current bool     `json:"current"`
				IP      string   `json:"ip"`
				AMR     []string `json:"amr"`
			} `json:"sessions"`
		}
		if status := a.call(http.MethodGet, "/api/v1/session/sessions", second.SessionToken, nil, &list); status != http.StatusOK || len(list.Sessions) != 2 {
			t.Fatalf("sessions: %d %+v", status, list)
		}
		other := ""
		for _, s := range list.Sessions {
			if !s.Current {
				other = s.ID
			}
			if s.IP == "" || len(s.AMR) == 0 {
				t.Fatalf("session without IP or amr: %+v", s)
			}
		}
		if status := a.call(http.MethodDelete, "/api/v1/session/sessions/"+other, second.SessionToken, nil, nil); status != http.StatusNoContent {
			t.Fatalf("end other: %d", status)
		}
		if status := a.call(http.MethodGet, "/api/v1/session", first.SessionToken, nil, nil); status != http.StatusUnauthorized {
			t.Fatalf("the ended session still works: %d", status)
		}
		if status := a.call(http.MethodDelete, "/api/v1/session/sessions/"+other, second.SessionToken, nil, nil); status != http.StatusNotFound {
			t.Fatalf("ending it twice: %d", status)
		}
		_, third := a.password(testPhone, testPassword)
		var ended struct {
			N int `json:"ended"`
		}
		if a.call(http.MethodDelete, "/api/v1/session/sessions", third.SessionToken, nil, &ended); ended.N != 1 {
			t.Fatalf("end others ended %d, want 1", ended.N)
		}
		if status := a.call(http.MethodGet, "/api/v1/session", second.SessionToken, nil, nil); status != http.StatusUnauthorized {
			t.Fatalf("end others left a session: %d", status)
		}

		// A connected service, revoked: its refresh token dies.
		c := webClient()
		secret := env.CreateClient(t, c)
		r := newRP(t, env, c.ID, secret)
		tok, _ := r.login(t, env.NewBrowser(t))
		var services struct {
			Services []struct {
				ClientID string   `json:"client_id"`
				Name     string   `json:"name"`
				Scopes   []string `json:"scopes"`
			} `json:"services"`
		}
		a.call(http.MethodGet, "/api/v1/session/services", third.SessionToken, nil, &services)
		if len(services.Services) != 1 || services.Services[0].ClientID != c.ID || services.Services[0].Name != c.Name {
			t.Fatalf("services: %+v", services)
		}
		if status := a.call(http.MethodDelete, "/api/v1/session/services/"+c.ID, third.SessionToken, nil, nil); status != http.StatusNoContent {
			t.Fatalf("revoke: %d", status)
		}
		if _, err := r.oauth.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("the revoked service's refresh token still works")
		}
		a.call(http.MethodGet, "/api/v1/session/services", third.SessionToken, nil, &services)
		if len(services.Services) != 0 {
			t.Fatalf("after revoking: %+v", services)
		}
		// A first-party service holds a grant without a consent: listed too.
		fp := webClient()
		fp.FirstParty = true
		rf := newRP(t, env, fp.ID, env.CreateClient(t, fp))
		ftok, _ := rf.login(t, env.NewBrowser(t))
		a.call(http.MethodGet, "/api/v1/session/services", third.SessionToken, nil, &services)
		if len(services.Services) != 1 || services.Services[0].ClientID != fp.ID {
			t.Fatalf("first-party service: %+v", services)
		}
		if status := a.call(http.MethodDelete, "/api/v1/session/services/"+fp.ID, third.SessionToken, nil, nil); status != http.StatusNoContent {
			t.Fatalf("revoke first-party: %d", status)
		}
		if _, err := rf.oauth.TokenSource(rf.ctx, &oauth2.Token{RefreshToken: ftok.RefreshToken}).Token(); err == nil {
			t.Fatal("the revoked first-party service's refresh token still works")
		}
	})
}

// TestLoginNoticeChannel: sign-in notices from new devices go where the
// citizen chose, for the pages and the API alike; an app that presents its
// device_token again is a known device.
func TestLoginNoticeChannel(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	_, v := a.password(testPhone, testPassword)
	if v.SessionToken == "" || len(v.DeviceToken) != 43 {
		t.Fatalf("API sign-in: session token %t, device token %q", v.SessionToken != "", v.DeviceToken)
	}
	// The API is a new device too: the same notice as the sign-in page.
	env.WaitCount(t, testPhone, "login_new_device", 1)
	f := &mfaView{}
	if status := a.call(http.MethodPost, "/api/v1/flows/login", "", nil, f); status != http.StatusCreated {
		t.Fatalf("start login: %d", status)
	}
	if status, again := a.flow("login", f, map[string]any{"login": testPhone, "password": testPassword,
		"device_token": v.DeviceToken}); status != http.StatusOK || again.DeviceToken != v.DeviceToken {
		t.Fatalf("API sign-in with the device token: %d, device token %q", status, again.DeviceToken)
	}
	if status := a.call(http.MethodPatch, "/api/v1/session/settings", v.SessionToken, map[string]any{"login_notice": "carrier-pigeon"}, nil); status != http.StatusBadRequest {
		t.Fatalf("unknown channel: %d", status)
	}
	if status := a.call(http.MethodPatch, "/api/v1/session/settings", v.SessionToken, map[string]any{"login_notice": "none"}, nil); status != http.StatusOK {
		t.Fatalf("set none: %d", status)
	}
	signIn := func() {
		b := env.NewBrowser(t) // a new device: a fresh cookie jar
		b.Get(env.URL + "/login")
		if p := b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}}); p.Status != http.StatusOK {
			t.Fatalf("sign-in: %d %s", p.Status, p.URL)
		}
	}
	signIn()
	a.call(http.MethodPatch, "/api/v1/session/settings", v.SessionToken, map[string]any{"login_notice": "phone"}, nil)
	signIn()
	if n := env.WaitCount(t, testPhone, "login_new_device", 2); n != 2 {
		t.Fatalf("%d new-device notices; want 2 (the API's first sign-in and the last browser): the known app and the one with notices off must not send", n)
	}
}

// TestLoginNoticeOneRecord: the sign-in notice setting has one record, the
// notification preferences: a change on the notifications page shows on
// the security page and in the export, and a change on the security page
// shows in the preferences.
func TestLoginNoticeOneRecord(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	env.CreateAccount(t, testPhone, testPassword)
	_, v := a.password(testPhone, testPassword)
	b := env.NewBrowser(t)
	b.Get(env.URL + "/login")
	b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
	b.Get(env.URL + "/settings/notifications")
	all := []string{"sms", "email", "inbox"}
	if p := b.Submit("/settings/notifications", url.Values{"login": {"email"}, "security": all, "verification": all}); p.Status != http.StatusOK {
		t.Fatalf("notifications page: %d", p.Status)
	}
	selected := func(want string) {
		t.Helper()
		p := b.Get(env.URL + "/settings/security")
		if !strings.Contains(p.Body, `<option value="`+want+`" selected>`) {
			t.Fatalf("security page does not show sign-in notices %q:\n%s", want, p.Body)
		}
	}
	exported := func(want string) {
		t.Helper()
		var x struct {
			Settings map[string]string `json:"settings"`
		}
		if status := a.call(http.MethodGet, "/api/v1/session/export", v.SessionToken, nil, &x); status != http.StatusOK {
			t.Fatalf("export: %d", status)
		}
		if x.Settings["login_notice"] != want {
			t.Fatalf("export: login_notice %q, want %q", x.Settings["login_notice"], want)
		}
	}
	selected("email")
	exported("email")
	if p := b.Submit("/settings/security", url.Values{"action": {"login_notice"}, "login_notice": {"none"}}); p.Status != http.StatusOK {
		t.Fatalf("security page: %d", p.Status)
	}
	var got struct {
		Preferences map[string][]string `json:"preferences"`
	}
	if status := a.call(http.MethodGet, "/api/v1/session/notifications", v.SessionToken, nil, &got); status != http.StatusOK {
		t.Fatalf("notifications: %d", status)
	}
	if login, ok := got.Preferences["login"]; !ok || len(login) != 0 {
		t.Fatalf("preferences after notices off on the security page: %+v", got.Preferences)
	}
	selected("none")
	exported("none")
}

// TestAPISecurityKey: a security key registered and used over the JSON API
// (a software authenticator signs for real); a forged assertion is refused.
func TestAPISecurityKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend apptest.Backend) {
		env := apptest.Start(t, apptest.NewConfig(t, backend))
		a := &api{t: t, env: env}
		env.CreateAccount(t, testPhone, testPassword)
		_, v := a.password(testPhone, testPassword)
		key := newSoftKey(t, env.URL)
		f := &mfaView{}
		if status := a.call(http.MethodPost, "/api/v1/session/factors", v.SessionToken, map[string]any{"method": "webauthn"}, f); status != http.StatusCreated || len(f.WebAuthn) == 0 {
			t.Fatalf("start: %d %+v", status, f)
		}
		if status, r := a.flow("enroll", f, map[string]any{"credential": `{"id":"x"}`}); status != http.StatusUnprocessableEntity || r.errCode("") != "mfa.webauthn_failed" {
			t.Fatalf("garbage credential: %d %+v", status, r)
		}
		status, r := a.flow("enroll", f, map[string]any{"credential": key.create(f.WebAuthn), "name": "Ключ"})
		if status != http.StatusOK || r.State != "done" || len(r.RecoveryCodes) != 10 {
			t.Fatalf("register: %d %+v", status, r)
		}

		_, v = a.password(testPhone, testPassword)
		if got := v.methods(); !slices.Equal(got, []string{"webauthn", "recovery"}) {
			t.Fatalf("methods %v", got)
		}
		_, begin := a.flow("login", v, map[string]any{"action": "webauthn_begin", "method": "webauthn"})
		if len(begin.WebAuthn) == 0 {
			t.Fatalf("no assertion options: %+v", begin)
		}
		// Signed by another key: refused.
		forger := newSoftKey(t, env.URL)
		forger.id = key.id
		if _, r := a.flow("login", v, map[string]any{"method": "webauthn", "credential": forger.get(begin.WebAuthn, "localhost")}); r.SessionToken != "" {
			t.Fatal("a forged assertion signed in")
		}
		// The ceremony was spent by the failed try; a new one succeeds.
		_, begin = a.flow("login", v, map[string]any{"action": "webauthn_begin", "method": "webauthn"})
		status, done := a.flow("login", v, map[string]any{"method": "webauthn", "credential": key.get(begin.WebAuthn, "localhost")})
		if status != http.StatusOK || done.SessionToken == "" {
			t.Fatalf("assertion: %d %+v", status, done)
		}
		if got := a.amr(done.SessionToken); !slices.Equal(got, []string{"pwd", "hwk", "mfa"}) {
			t.Fatalf("amr %v", got)
		}
	})
}

// TestAPISecondFactorEmail: e-mail codes as the second factor.
func TestAPISecondFactorEmail(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	a := &api{t: t, env: env}
	const email, pw = "olga.k@example.ru", "Глубокий-Сон-7-Лес"
	session := a.register(email, pw)
	f := &mfaView{}
	if status := a.call(http.MethodPost, "/api/v1/session/factors", session, map[string]any{"method": "email"}, f); status != http.StatusCreated || f.Contact != "o***@example.ru" {
		t.Fatalf("start: %d %+v", status, f)
	}
	if status, r := a.flow("enroll", f, map[string]any{"code": env.LatestCode(t, email)}); status != http.StatusOK || r.State != "done" {
		t.Fatalf("confirm: %d %+v", status, r)
	}
	_, v := a.password(email, pw)
	if got := v.methods(); !slices.Equal(got, []string{"email", "recovery"}) {
		t.Fatalf("methods %v", got)
	}
	a.flow("login", v, map[string]any{"action": "send", "method": "email"})
	status, r := a.flow("login", v, map[string]any{"method": "email", "code": env.LatestCode(t, email)})
	if status != http.StatusOK || r.SessionToken == "" {
		t.Fatalf("e-mail code: %d %+v", status, r)
	}
	if got := a.amr(r.SessionToken); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("amr %v", got)
	}
}

// TestPromptLoginAndMaxAge: prompt=login and an exceeded max_age make a
// signed-in citizen authenticate again, second factor included; a recent
// enough sign-in goes straight through.
func TestPromptLoginAndMaxAge(t *testing.T) {
	env := apptest.Start(t, apptest.NewConfig(t, apptest.SQLite))
	env.CreateAccount(t, testPhone, testPassword)
	a := &api{t: t, env: env}
	_, v := a.password(testPhone, testPassword)
	_, recovery := a.enrollTOTP(v.SessionToken)
	c := webClient()
	c.FirstParty = true
	r := newRP(t, env, c.ID, env.CreateClient(t, c))
	b := env.NewBrowser(t)
	// Each sign-in needs an unused second factor: a recovery code each (an
	// authenticator code depends on the clock, and a slow machine can cross
	// a 30 s step between two sign-ins).
	answers := []url.Values{}
	for _, rc := range recovery[:3] {
		answers = append(answers, url.Values{"method": {"recovery"}, "recovery_code": {rc}, "action": {"verify"}})
	}
	authorize := func(extra ...oauth2.AuthCodeOption) *apptest.Page {
		opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(oauth2.GenerateVerifier())}, extra...)
		return b.Get(r.oauth.AuthCodeURL("state-123456", opts...))
	}
	fullSignIn := func(p *apptest.Page) *apptest.Page {
		t.Helper()
		if !strings.HasSuffix(p.URL.Path, "/login") {
			t.Fatalf("expected the sign-in page, got %d %s", p.Status, p.URL)
		}
		p = b.Submit("/login", url.Values{"login": {testPhone}, "password": {testPassword}})
		if !strings.HasSuffix(p.URL.Path, "/login/second-factor") {
			t.Fatalf("expected the second factor, got %d %s", p.Status, p.URL)
		}
		answer := answers[0]
		answers = answers[1:]
		return b.Submit("/login/second-factor", answer)
	}
	if p := fullSignIn(authorize()); p.URL.Query().Get("code") == "" {
		t.Fatalf("first sign-in: %s", p.URL)
	}
	if p := authorize(); p.URL.Query().Get("code") == "" {
		t.Fatalf("signed in, no prompt: %s", p.URL)
	}
	if p := authorize(oauth2.SetAuthURLParam("max_age", "3600")); p.URL.Query().Get("code") == "" {
		t.Fatalf("max_age not exceeded: %s", p.URL)
	}
	if p := fullSignIn(authorize(oauth2.SetAuthURLParam("prompt", "login"))); p.URL.Query().Get("code") == "" {
		t.Fatalf("prompt=login: %s", p.URL)
	}
	time.Sleep(1100 * time.Millisecond)
	if p := fullSignIn(authorize(oauth2.SetAuthURLParam("max_age", "1"))); p.URL.Query().Get("code") == "" {
		t.Fatalf("max_age exceeded: %s", p.URL)
	}
}
