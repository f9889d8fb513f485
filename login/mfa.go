package login

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
)

// The second factor: a challenge after the password (or later, as a
// step-up), turning factors on and off, and recovery codes. Both faces (the
// pages and the JSON API) drive these through the same functions.

// Flow kinds of the second factor.
const (
	// KindMFA is a second-factor challenge: at sign-in, as a step-up for a
	// relying service, or to re-authenticate before a sensitive change.
	KindMFA = "mfa"
	// KindEnroll turns a factor on.
	KindEnroll = "enroll"
)

// StateChallenge means a second factor is awaited.
const StateChallenge = "second_factor"

// Purposes of a challenge.
const (
	purposeLogin  = "login"  // the password was right; the session is not created yet
	purposeStepUp = "stepup" // a session exists; it is upgraded
)

// Limits of the second factor (DESIGN.md "Decisions"): counters of their
// own, separate from the password's.
const (
	maxRecoveryFails = 5
	recoveryLockout  = 15 * time.Minute
	// mfaFresh is how recent the last second factor must be for turning a
	// factor off or regenerating recovery codes.
	mfaFresh = 10 * time.Minute
	// offerPause is how long a declined offer to turn on a second factor
	// stays quiet.
	offerPause = 30 * 24 * time.Hour
)

// mfaState is a challenge in progress.
type mfaState struct {
	AccountID string `json:"account_id"`
	// AMR lists what this authentication already used ("pwd").
	AMR     []string `json:"amr"`
	Purpose string   `json:"purpose"`
	// SessionID is the session a step-up upgrades.
	SessionID string `json:"session_id,omitempty"`
	// Next is a gosid page to go to afterwards (re-authentication).
	Next string `json:"next,omitempty"`
	// Sent is the channel a code was sent to: "sms" or "email".
	Sent string `json:"sent,omitempty"`
	// WebAuthn is the pending assertion ceremony (webauthn.SessionData).
	WebAuthn json.RawMessage `json:"webauthn,omitempty"`
}

// enrollState is a factor being turned on.
type enrollState struct {
	AccountID string `json:"account_id"`
	Kind      string `json:"kind"`
	// URL is the sealed otpauth:// URL of a new authenticator.
	URL      []byte          `json:"url,omitempty"`
	WebAuthn json.RawMessage `json:"webauthn,omitempty"`
}

// MethodView is a second factor the citizen can use now.
type MethodView struct {
	Method string `json:"method"`
	// Contact is the masked phone or e-mail a code goes to.
	Contact string `json:"contact,omitempty"`
}

// FactorView is a factor that is on, for the security settings.
type FactorView struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Name       string     `json:"name,omitempty"`
	Contact    string     `json:"contact,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// errStepUp means a sensitive change needs a fresh second factor.
var errStepUp = errors.New("login: a fresh second factor is required")

// amrOf is the RFC 8176 method of a factor.
func amrOf(method string, f *mfa.Factor) string {
	switch method {
	case mfa.KindSMS:
		return "sms"
	case mfa.KindWebAuthn:
		if f != nil && isHardwareKey(f) {
			return "hwk"
		}
		return "swk"
	}
	// An authenticator app, an e-mail code and a recovery code are all
	// one-time passwords.
	return "otp"
}

func isHardwareKey(f *mfa.Factor) bool {
	var c webauthn.Credential
	if json.Unmarshal(f.Secret, &c) != nil {
		return false
	}
	for _, t := range c.Transport {
		if t == protocol.USB || t == protocol.NFC || t == protocol.BLE {
			return true
		}
	}
	return false
}

// withMFA adds method and "mfa" to amr (once each).
func withMFA(amr []string, method string) []string {
	out := slices.Clone(amr)
	for _, m := range []string{method, "mfa"} {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func hasMFA(amr []string) bool { return slices.Contains(amr, "mfa") }

// accountFactors returns the account's factors and whether any is on.
func (s *Service) accountFactors(ctx context.Context, accountID string) ([]*mfa.Factor, error) {
	if s.o.Factors == nil {
		return nil, nil
	}
	return s.o.Factors.ListFactors(ctx, accountID)
}

// needSecondFactor reports whether signing in to the account takes a second
// factor: it has one turned on, every sign-in needs one (the global
// setting), or the service being signed in to demands one.
func (s *Service) needSecondFactor(ctx context.Context, a *account.Account, clientWants bool) (bool, error) {
	if s.o.Factors == nil {
		return false, nil
	}
	if s.o.RequireMFA || clientWants {
		return true, nil
	}
	fs, err := s.accountFactors(ctx, a.ID)
	return len(fs) > 0, err
}

// methods lists what the citizen can use as a second factor now. With no
// factor turned on (a sign-in where a service or the global setting
// demands one) a code to a confirmed contact always works.
func (s *Service) methods(ctx context.Context, a *account.Account) ([]MethodView, []*mfa.Factor, error) {
	fs, err := s.accountFactors(ctx, a.ID)
	if err != nil {
		return nil, nil, err
	}
	var out []MethodView
	add := func(m MethodView) {
		if !slices.ContainsFunc(out, func(x MethodView) bool { return x.Method == m.Method }) {
			out = append(out, m)
		}
	}
	for _, f := range fs {
		switch f.Kind {
		case mfa.KindTOTP:
			add(MethodView{Method: f.Kind})
		case mfa.KindWebAuthn:
			if s.o.WebAuthn != nil {
				add(MethodView{Method: f.Kind})
			}
		case mfa.KindSMS:
			if a.PhoneVerified && a.Phone != "" {
				add(MethodView{Method: f.Kind, Contact: maskContact("phone", a.Phone)})
			}
		case mfa.KindEmail:
			if a.EmailVerified && a.Email != "" {
				add(MethodView{Method: f.Kind, Contact: maskContact("email", a.Email)})
			}
		}
	}
	if len(fs) == 0 {
		if a.PhoneVerified && a.Phone != "" {
			add(MethodView{Method: mfa.KindSMS, Contact: maskContact("phone", a.Phone)})
		}
		if a.EmailVerified && a.Email != "" {
			add(MethodView{Method: mfa.KindEmail, Contact: maskContact("email", a.Email)})
		}
	}
	if len(fs) > 0 {
		left, err := s.o.Factors.RecoveryCodesLeft(ctx, a.ID)
		if err != nil {
			return nil, nil, err
		}
		if left > 0 {
			add(MethodView{Method: mfa.KindRecovery})
		}
	}
	return out, fs, nil
}

// StartSecondFactor starts a challenge for the account. amr is what the
// authentication used so far; returnTo an authorization flow to resume.
func (s *Service) StartSecondFactor(ctx context.Context, api bool, a *account.Account, amr []string, purpose, sessionID, returnTo, next string, m Meta) (*View, error) {
	f := &SelfFlow{Kind: KindMFA, State: StateChallenge, API: api, ReturnTo: returnTo, MFA: &mfaState{
		AccountID: a.ID, AMR: amr, Purpose: purpose, SessionID: sessionID, Next: next,
	}}
	v, err := s.start(ctx, f, m)
	if err != nil {
		return nil, err
	}
	return v, s.fillChallenge(ctx, v, f)
}

// fillChallenge adds the usable methods to a challenge's view.
func (s *Service) fillChallenge(ctx context.Context, v *View, f *SelfFlow) error {
	a, err := s.o.Accounts.GetAccount(ctx, f.MFA.AccountID)
	if err != nil {
		return err
	}
	v.Methods, _, err = s.methods(ctx, a)
	v.Method = f.MFA.Sent
	return err
}

// SubmitSecondFactor takes one step of a challenge: "send" a code by SMS
// or e-mail, "webauthn_begin" a security-key ceremony, or (any other
// action) check the method's answer. A finished challenge has accountID
// and amr set on the view; the face creates or upgrades the session.
func (s *Service) SubmitSecondFactor(ctx context.Context, f *SelfFlow, action string, in Input, m Meta) (*View, error) {
	if v := s.rejectInput(f, in, m); v != nil {
		return v, s.fillChallenge(ctx, v, f)
	}
	a, err := s.o.Accounts.GetAccount(ctx, f.MFA.AccountID)
	if err != nil {
		return nil, err
	}
	methods, factors, err := s.methods(ctx, a)
	if err != nil {
		return nil, err
	}
	v := s.view(f, m)
	v.Methods, v.Method = methods, f.MFA.Sent
	if a.Status != account.StatusActive {
		s.addErr(v, m, "", "flow.error.action")
		return v, nil
	}
	method := in.Get("method")
	if !slices.ContainsFunc(methods, func(x MethodView) bool { return x.Method == method }) {
		s.addErr(v, m, "method", "mfa.method")
		return v, nil
	}
	switch action {
	case "send":
		if method != mfa.KindSMS && method != mfa.KindEmail {
			s.addErr(v, m, "method", "mfa.method")
			return v, nil
		}
		ok, err := s.sendCode(ctx, f, v, m, func(ctx context.Context, f *SelfFlow, m Meta) error {
			return s.sendSecondFactorCode(ctx, a, method, f.MFA.Purpose, m)
		})
		if !ok {
			return v, err
		}
		f.MFA.Sent, v.Method = method, method
		v.Contact = contactView(a, method)
		s.addMsg(v, m, "code.sent")
		return v, s.self.save(ctx, f)
	case "webauthn_begin":
		if method != mfa.KindWebAuthn {
			s.addErr(v, m, "method", "mfa.method")
			return v, nil
		}
		opts, session, err := s.o.WebAuthn.BeginLogin(newWebAuthnUser(a, factors))
		if err != nil {
			return nil, fmt.Errorf("login: webauthn begin: %w", err)
		}
		if f.MFA.WebAuthn, err = json.Marshal(session); err != nil {
			return nil, err
		}
		if v.WebAuthn, err = json.Marshal(opts); err != nil {
			return nil, err
		}
		v.Method = method
		return v, s.self.save(ctx, f)
	}
	used, ok, err := s.checkFactor(ctx, v, m, a, factors, f.MFA, method, in)
	if err != nil || !ok {
		return v, err
	}
	amr := withMFA(f.MFA.AMR, amrOf(method, used))
	s.recordMeta(ctx, m, a.ID, "mfa.success", "", map[string]string{"method": method, "purpose": f.MFA.Purpose})
	if method == mfa.KindRecovery {
		left, err := s.o.Factors.RecoveryCodesLeft(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		s.recordMeta(ctx, m, a.ID, "mfa.recovery_code_used", "", map[string]string{"left": strconv.Itoa(left)})
		s.notifyAccount(ctx, a, "security_changed", m, map[string]string{"change": "recovery_code_used",
			"time": s.o.Now().UTC().Format("02.01.2006 15:04 UTC")})
	}
	f.State = StateDone
	_ = s.self.delete(ctx, f.ID)
	v = s.view(f, m)
	v.accountID, v.amr = a.ID, amr
	return v, nil
}

// contactView masks the contact a method sends codes to.
func contactView(a *account.Account, method string) string {
	if method == mfa.KindSMS {
		return maskContact("phone", a.Phone)
	}
	return maskContact("email", a.Email)
}

// sendSecondFactorCode sends a one-time code to the account's confirmed
// phone or e-mail, with the limits of package codes.
func (s *Service) sendSecondFactorCode(ctx context.Context, a *account.Account, method, purpose string, m Meta) error {
	contact, ch, ttl, minutes := a.Phone, "sms", smsCodeTTL, "5"
	if method == mfa.KindEmail {
		contact, ch, ttl, minutes = a.Email, "email", emailCodeTTL, "10"
	}
	code, err := s.o.Codes.Issue(ctx, "mfa_"+purpose, contact, ttl)
	if err != nil {
		return err
	}
	lang := a.Locale
	if m.Lang != "" {
		lang = m.Lang
	}
	// The message says "sign-in code" for a sign-in or step-up.
	shown := "login"
	if purpose == "enroll" {
		shown = "mfa_enroll"
	}
	return s.o.Notifier.Enqueue(ctx, notify.Message{Channel: notify.Channel(ch), To: contact, Lang: lang,
		Template: "otp", Data: map[string]string{"code": code, "minutes": minutes, "purpose": shown}})
}

// checkFactor checks the answer for method and puts any error on v. It
// returns the factor used (nil for codes to a contact or recovery codes).
func (s *Service) checkFactor(ctx context.Context, v *View, m Meta, a *account.Account, factors []*mfa.Factor, st *mfaState, method string, in Input) (*mfa.Factor, bool, error) {
	now := s.o.Now().UTC()
	switch method {
	case mfa.KindTOTP:
		fct := factorOf(factors, mfa.KindTOTP)
		code := in.Get("code")
		if code == "" {
			s.addErr(v, m, "code", "code.required")
			return nil, false, nil
		}
		secret, err := s.totpSecret(fct)
		if err != nil {
			return nil, false, err
		}
		if ok, err := s.verifyTOTP(ctx, v, m, a.ID, secret, code); !ok {
			if err == nil {
				s.recordMeta(ctx, m, a.ID, "mfa.failure", "", map[string]string{"method": method})
			}
			return nil, false, err
		}
		return fct, true, s.o.Factors.UpdateFactorUse(ctx, a.ID, fct.ID, now, nil)
	case mfa.KindSMS, mfa.KindEmail:
		if st.Sent != method {
			s.addErr(v, m, "code", "mfa.send_first")
			return nil, false, nil
		}
		contact := a.Phone
		if method == mfa.KindEmail {
			contact = a.Email
		}
		if ok, err := s.verifyCode(ctx, v, m, "mfa_"+st.Purpose, contact, in.Get("code")); !ok {
			if err == nil {
				s.recordMeta(ctx, m, a.ID, "mfa.failure", "", map[string]string{"method": method})
			}
			return nil, false, err
		}
		if fct := factorOf(factors, method); fct != nil {
			return fct, true, s.o.Factors.UpdateFactorUse(ctx, a.ID, fct.ID, now, nil)
		}
		return nil, true, nil
	case mfa.KindRecovery:
		ok, err := s.useRecoveryCode(ctx, v, m, a.ID, in.Get("code"))
		return nil, ok, err
	case mfa.KindWebAuthn:
		return s.finishWebAuthnLogin(ctx, v, m, a, factors, st, in)
	}
	s.addErr(v, m, "method", "mfa.method")
	return nil, false, nil
}

func factorOf(fs []*mfa.Factor, kind string) *mfa.Factor {
	for _, f := range fs {
		if f.Kind == kind {
			return f
		}
	}
	return nil
}

func (s *Service) totpSecret(f *mfa.Factor) (string, error) {
	raw, err := s.o.Sealer.Open(f.Secret, []byte("mfa:totp:"+f.AccountID))
	if err != nil {
		return "", fmt.Errorf("login: open totp secret: %w", err)
	}
	return string(raw), nil
}

// verifyTOTP checks an authenticator code and puts the error on v.
func (s *Service) verifyTOTP(ctx context.Context, v *View, m Meta, accountID, secret, code string) (bool, error) {
	err := s.o.TOTP.Verify(ctx, accountID, secret, code)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, mfa.ErrInvalidCode):
		s.addErr(v, m, "code", "mfa.invalid")
	case errors.Is(err, mfa.ErrReplayed):
		s.addErr(v, m, "code", "mfa.replayed")
	case errors.Is(err, mfa.ErrTooMany):
		s.addErr(v, m, "code", "mfa.locked")
	default:
		return false, err
	}
	return false, nil
}

// useRecoveryCode spends a recovery code. Its own counter (taken before the
// check) bounds guessing: 5 wrong codes lock recovery codes for 15 minutes.
func (s *Service) useRecoveryCode(ctx context.Context, v *View, m Meta, accountID, typed string) (bool, error) {
	if typed == "" {
		s.addErr(v, m, "code", "code.required")
		return false, nil
	}
	key := "mfa:recovery:fail:" + accountID
	fails, err := s.o.Ephemeral.Incr(ctx, key, recoveryLockout)
	if err != nil {
		return false, err
	}
	if fails > maxRecoveryFails {
		s.addErr(v, m, "code", "mfa.locked")
		return false, nil
	}
	code := mfa.NormalizeRecoveryCode(typed)
	ok := false
	if code != "" {
		ok, err = s.o.Factors.UseRecoveryCode(ctx, accountID, mfa.HashRecoveryCode(s.o.RecoveryKey, accountID, code), s.o.Now().UTC())
		if err != nil {
			return false, err
		}
	}
	if !ok {
		s.recordMeta(ctx, m, accountID, "mfa.failure", "", map[string]string{"method": mfa.KindRecovery})
		s.addErr(v, m, "code", "mfa.recovery_invalid")
		return false, nil
	}
	return true, s.o.Ephemeral.Delete(ctx, key)
}

// newRecoveryCodes replaces the account's recovery codes and returns the
// new ones, to be shown once.
func (s *Service) newRecoveryCodes(ctx context.Context, accountID string) ([]string, error) {
	list, err := mfa.NewRecoveryCodes()
	if err != nil {
		return nil, err
	}
	hashes := make([]string, len(list))
	for i, c := range list {
		hashes[i] = mfa.HashRecoveryCode(s.o.RecoveryKey, accountID, mfa.NormalizeRecoveryCode(c))
	}
	return list, s.o.Factors.ReplaceRecoveryCodes(ctx, accountID, hashes, s.o.Now().UTC())
}

// webAuthnUser adapts an account to go-webauthn.
type webAuthnUser struct {
	a     *account.Account
	creds []webauthn.Credential
}

func newWebAuthnUser(a *account.Account, fs []*mfa.Factor) *webAuthnUser {
	u := &webAuthnUser{a: a}
	for _, f := range fs {
		if f.Kind != mfa.KindWebAuthn {
			continue
		}
		var c webauthn.Credential
		if json.Unmarshal(f.Secret, &c) == nil {
			u.creds = append(u.creds, c)
		}
	}
	return u
}

func (u *webAuthnUser) WebAuthnID() []byte { return []byte(u.a.ID) }
func (u *webAuthnUser) WebAuthnName() string {
	if u.a.Email != "" {
		return u.a.Email
	}
	return u.a.Phone
}
func (u *webAuthnUser) WebAuthnDisplayName() string {
	return u.a.GivenName + " " + u.a.FamilyName
}
func (u *webAuthnUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// maxCredentialJSON bounds a WebAuthn response.
const maxCredentialJSON = 16 << 10

func (s *Service) finishWebAuthnLogin(ctx context.Context, v *View, m Meta, a *account.Account, factors []*mfa.Factor, st *mfaState, in Input) (*mfa.Factor, bool, error) {
	var session webauthn.SessionData
	if len(st.WebAuthn) == 0 || json.Unmarshal(st.WebAuthn, &session) != nil {
		s.addErr(v, m, "", "mfa.webauthn_failed")
		return nil, false, nil
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(in["credential"]))
	if err != nil {
		s.addErr(v, m, "", "mfa.webauthn_failed")
		return nil, false, nil
	}
	cred, err := s.o.WebAuthn.ValidateLogin(newWebAuthnUser(a, factors), session, parsed)
	if err != nil {
		s.log.Info("login: webauthn assertion refused", "account", a.ID, "err", err)
		s.recordMeta(ctx, m, a.ID, "mfa.failure", "", map[string]string{"method": mfa.KindWebAuthn})
		s.addErr(v, m, "", "mfa.webauthn_failed")
		return nil, false, nil
	}
	// One assertion per ceremony.
	st.WebAuthn = nil
	id := base64.RawURLEncoding.EncodeToString(cred.ID)
	for _, f := range factors {
		if f.Kind == mfa.KindWebAuthn && f.CredentialID == id {
			raw, err := json.Marshal(cred)
			if err != nil {
				return nil, false, err
			}
			return f, true, s.o.Factors.UpdateFactorUse(ctx, a.ID, f.ID, s.o.Now().UTC(), raw)
		}
	}
	s.addErr(v, m, "", "mfa.webauthn_failed")
	return nil, false, nil
}

// StartEnroll begins turning a factor on for the session's account. With
// a factor already on, adding another needs a fresh second factor
// (errStepUp), so a password-only session that predates the first factor
// cannot add one of its own.
func (s *Service) StartEnroll(ctx context.Context, api bool, sess *session.Session, kind string, m Meta) (*View, error) {
	accountID := sess.AccountID
	a, err := s.o.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	fs, err := s.accountFactors(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if len(fs) > 0 && !s.freshMFA(sess) {
		return nil, errStepUp
	}
	f := &SelfFlow{Kind: KindEnroll, State: StateConfirm, API: api, Enroll: &enrollState{AccountID: accountID, Kind: kind}}
	v := &View{Type: KindEnroll, State: StateForm}
	switch kind {
	case mfa.KindTOTP:
		if factorOf(fs, kind) != nil {
			s.addErr(v, m, "", "mfa.exists")
			return v, nil
		}
		e, err := mfa.NewEnrollment(s.o.TOTPIssuer, (&webAuthnUser{a: a}).WebAuthnName())
		if err != nil {
			return nil, err
		}
		if f.Enroll.URL, err = s.o.Sealer.Seal([]byte(e.URL), []byte("mfa:enroll:"+accountID)); err != nil {
			return nil, err
		}
	case mfa.KindSMS, mfa.KindEmail:
		if factorOf(fs, kind) != nil {
			s.addErr(v, m, "", "mfa.exists")
			return v, nil
		}
		if (kind == mfa.KindSMS && !(a.PhoneVerified && a.Phone != "")) || (kind == mfa.KindEmail && !(a.EmailVerified && a.Email != "")) {
			s.addErr(v, m, "", "mfa.no_contact")
			return v, nil
		}
		if err := s.sendSecondFactorCode(ctx, a, kind, "enroll", m); err != nil {
			key := codeErrorKey(err)
			if key == "" {
				return nil, err
			}
			s.addErr(v, m, "", key)
			return v, nil
		}
	case mfa.KindWebAuthn:
		if s.o.WebAuthn == nil {
			s.addErr(v, m, "method", "mfa.method")
			return v, nil
		}
		if v.WebAuthn, err = s.beginRegistration(f, a, fs); err != nil {
			return nil, err
		}
	default:
		s.addErr(v, m, "method", "mfa.method")
		return v, nil
	}
	options := v.WebAuthn
	if v, err = s.start(ctx, f, m); err != nil {
		return nil, err
	}
	v.WebAuthn = options
	return v, s.fillEnroll(v, f, a)
}

// beginRegistration starts a security-key registration ceremony for the
// enrolment flow f (its state is kept in f) and returns the options for
// navigator.credentials.create.
func (s *Service) beginRegistration(f *SelfFlow, a *account.Account, fs []*mfa.Factor) (json.RawMessage, error) {
	u := newWebAuthnUser(a, fs)
	opts, session, err := s.o.WebAuthn.BeginRegistration(u,
		webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementDiscouraged, UserVerification: protocol.VerificationPreferred}))
	if err != nil {
		return nil, fmt.Errorf("login: webauthn begin registration: %w", err)
	}
	if f.Enroll.WebAuthn, err = json.Marshal(session); err != nil {
		return nil, err
	}
	return json.Marshal(opts)
}

// RefreshRegistration starts the security-key ceremony of an enrolment
// flow afresh (a page shown again needs a new challenge).
func (s *Service) RefreshRegistration(ctx context.Context, f *SelfFlow, a *account.Account) (json.RawMessage, error) {
	fs, err := s.accountFactors(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	opts, err := s.beginRegistration(f, a, fs)
	if err != nil {
		return nil, err
	}
	return opts, s.self.save(ctx, f)
}

// fillEnroll adds what the citizen needs to finish: the authenticator's
// secret and QR code, or the masked contact a code went to.
func (s *Service) fillEnroll(v *View, f *SelfFlow, a *account.Account) error {
	v.Method = f.Enroll.Kind
	switch f.Enroll.Kind {
	case mfa.KindTOTP:
		if f.State != StateConfirm {
			return nil
		}
		raw, err := s.o.Sealer.Open(f.Enroll.URL, []byte("mfa:enroll:"+f.Enroll.AccountID))
		if err != nil {
			return err
		}
		e, err := mfa.EnrollmentFromURL(string(raw))
		if err != nil {
			return err
		}
		v.TOTPSecret, v.TOTPURL = e.Secret, e.URL
		// The data URL is gosid's own PNG, safe to put in an img src.
		v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRPNG))
	case mfa.KindSMS, mfa.KindEmail:
		v.Contact = contactView(a, f.Enroll.Kind)
	}
	return nil
}

// SubmitEnroll finishes turning a factor on: the first authenticator code,
// the code sent to the contact, or the security key's attestation. The
// first factor an account turns on comes with 10 recovery codes, returned
// once on the view.
func (s *Service) SubmitEnroll(ctx context.Context, f *SelfFlow, action string, in Input, m Meta) (*View, error) {
	a, err := s.o.Accounts.GetAccount(ctx, f.Enroll.AccountID)
	if err != nil {
		return nil, err
	}
	v := s.view(f, m)
	if rv := s.rejectInput(f, in, m); rv != nil {
		return rv, s.fillEnroll(rv, f, a)
	}
	if err := s.fillEnroll(v, f, a); err != nil {
		return nil, err
	}
	if f.State != StateConfirm {
		return s.unknownAction(f, m), nil
	}
	fs, err := s.accountFactors(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	now := s.o.Now().UTC()
	fct := &mfa.Factor{ID: randomToken(12), AccountID: a.ID, Kind: f.Enroll.Kind, CreatedAt: now, LastUsedAt: now}
	switch f.Enroll.Kind {
	case mfa.KindTOTP:
		code := in.Get("code")
		if code == "" {
			s.addErr(v, m, "code", "code.required")
			return v, nil
		}
		if ok, err := s.verifyTOTP(ctx, v, m, a.ID, v.TOTPSecret, code); !ok {
			return v, err
		}
		if fct.Secret, err = s.o.Sealer.Seal([]byte(v.TOTPSecret), []byte("mfa:totp:"+a.ID)); err != nil {
			return nil, err
		}
	case mfa.KindSMS, mfa.KindEmail:
		if action == "resend" {
			ok, err := s.sendCode(ctx, f, v, m, func(ctx context.Context, _ *SelfFlow, m Meta) error {
				return s.sendSecondFactorCode(ctx, a, f.Enroll.Kind, "enroll", m)
			})
			if ok {
				s.addMsg(v, m, "code.sent")
			}
			return v, err
		}
		contact := a.Phone
		if f.Enroll.Kind == mfa.KindEmail {
			contact = a.Email
		}
		if ok, err := s.verifyCode(ctx, v, m, "mfa_enroll", contact, in.Get("code")); !ok {
			return v, err
		}
	case mfa.KindWebAuthn:
		var session webauthn.SessionData
		if json.Unmarshal(f.Enroll.WebAuthn, &session) != nil {
			s.addErr(v, m, "", "mfa.webauthn_failed")
			return v, nil
		}
		parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(in["credential"]))
		if err != nil {
			s.addErr(v, m, "", "mfa.webauthn_failed")
			return v, nil
		}
		cred, err := s.o.WebAuthn.CreateCredential(newWebAuthnUser(a, fs), session, parsed)
		if err != nil {
			s.log.Info("login: webauthn registration refused", "account", a.ID, "err", err)
			s.addErr(v, m, "", "mfa.webauthn_failed")
			return v, nil
		}
		if fct.Secret, err = json.Marshal(cred); err != nil {
			return nil, err
		}
		fct.CredentialID = base64.RawURLEncoding.EncodeToString(cred.ID)
		fct.Name = in.Get("name")
		if fct.Name == "" {
			fct.Name = "WebAuthn"
		}
	}
	if err := s.o.Factors.AddFactor(ctx, fct); errors.Is(err, storage.ErrConflict) {
		s.addErr(v, m, "", "mfa.exists")
		return v, nil
	} else if err != nil {
		return nil, err
	}
	_ = s.self.delete(ctx, f.ID)
	f.State = StateDone
	v = s.view(f, m)
	v.Method = fct.Kind
	if len(fs) == 0 {
		if v.RecoveryCodes, err = s.newRecoveryCodes(ctx, a.ID); err != nil {
			return nil, err
		}
	}
	s.recordMeta(ctx, m, a.ID, "mfa.enabled", "", map[string]string{"method": fct.Kind})
	s.notifyAccount(ctx, a, "security_changed", m, map[string]string{"change": "mfa_enabled",
		"time": now.Format("02.01.2006 15:04 UTC")})
	s.addMsg(v, m, "mfa.enabled")
	v.accountID, v.amr = a.ID, []string{amrOf(fct.Kind, fct)}
	return v, nil
}

// freshMFA reports whether the session used a second factor recently
// enough for a sensitive change.
func (s *Service) freshMFA(sess *session.Session) bool {
	return hasMFA(sess.AMR) && s.o.Now().Sub(sess.MFAAt) <= mfaFresh
}

// RemoveFactor turns a factor off. It needs a fresh second factor
// (errStepUp otherwise); the last factor takes the recovery codes with it.
func (s *Service) RemoveFactor(ctx context.Context, sess *session.Session, id string, m Meta) error {
	if !s.freshMFA(sess) {
		return errStepUp
	}
	a, err := s.o.Accounts.GetAccount(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	fs, err := s.accountFactors(ctx, a.ID)
	if err != nil {
		return err
	}
	var kind string
	for _, f := range fs {
		if f.ID == id {
			kind = f.Kind
		}
	}
	if kind == "" {
		return storage.ErrNotFound
	}
	if len(fs) == 1 {
		err = s.o.Factors.DeleteFactors(ctx, a.ID)
	} else {
		err = s.o.Factors.DeleteFactor(ctx, a.ID, id)
	}
	if err != nil {
		return err
	}
	s.recordMeta(ctx, m, a.ID, "mfa.disabled", "", map[string]string{"method": kind})
	s.notifyAccount(ctx, a, "security_changed", m, map[string]string{"change": "mfa_disabled",
		"time": s.o.Now().UTC().Format("02.01.2006 15:04 UTC")})
	return nil
}

// RegenerateRecoveryCodes replaces the recovery codes; it needs a fresh
// second factor and at least one factor turned on.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, sess *session.Session, m Meta) ([]string, error) {
	if !s.freshMFA(sess) {
		return nil, errStepUp
	}
	fs, err := s.accountFactors(ctx, sess.AccountID)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, storage.ErrNotFound
	}
	list, err := s.newRecoveryCodes(ctx, sess.AccountID)
	if err == nil {
		s.recordMeta(ctx, m, sess.AccountID, "mfa.recovery_codes_regenerated", "", nil)
	}
	return list, err
}

// Factors lists the account's factors for the settings.
func (s *Service) Factors(ctx context.Context, accountID string) ([]FactorView, int, error) {
	a, err := s.o.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return nil, 0, err
	}
	fs, err := s.accountFactors(ctx, accountID)
	if err != nil {
		return nil, 0, err
	}
	out := make([]FactorView, 0, len(fs))
	for _, f := range fs {
		fv := FactorView{ID: f.ID, Kind: f.Kind, Name: f.Name, CreatedAt: f.CreatedAt}
		if !f.LastUsedAt.IsZero() {
			t := f.LastUsedAt
			fv.LastUsedAt = &t
		}
		if f.Kind == mfa.KindSMS || f.Kind == mfa.KindEmail {
			fv.Contact = contactView(a, f.Kind)
		}
		out = append(out, fv)
	}
	left := 0
	if len(fs) > 0 {
		if left, err = s.o.Factors.RecoveryCodesLeft(ctx, accountID); err != nil {
			return nil, 0, err
		}
	}
	return out, left, nil
}
