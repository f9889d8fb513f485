package secondfactor

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

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/selfservice"
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
	PurposeLogin  = "login"  // the password was right; the session is not created yet
	PurposeStepUp = "stepup" // a session exists; it is upgraded
)

// Limits of the second factor (DESIGN.md "Decisions"): counters of their
// own, separate from the password's.
const (
	// mfaFresh is how recent the last second factor must be for turning a
	// factor off or regenerating recovery codes.
	mfaFresh = 10 * time.Minute
)

// challengeState is a challenge in progress.
type challengeState struct {
	AccountID string `json:"account_id"`
	// AMR lists what this authentication already used ("pwd").
	AMR     []string `json:"amr"`
	Purpose string   `json:"purpose"`
	// SessionID is the session a step-up upgrades.
	SessionID string `json:"session_id,omitempty"`
	// Next is a gosid page to go to afterwards (re-authentication).
	Next string `json:"next,omitempty"`
	// Sent is the kind whose code was sent last ("sms" or "email").
	Sent string `json:"sent,omitempty"`
	// State is a pending ceremony (mfa.Challenge.State).
	State []byte `json:"state,omitempty"`
}

// enrollState is a factor being turned on.
type enrollState struct {
	AccountID string `json:"account_id"`
	Kind      string `json:"kind"`
	// First: the account had no factor when the flow began, so the session
	// that began it needed no fresh second factor; it may only add the
	// first one.
	First bool `json:"first,omitempty"`
	// State is the method's (mfa.Enrolment.State).
	State []byte `json:"state,omitempty"`
}

// ErrStepUp means a sensitive change needs a fresh second factor.
var ErrStepUp = errors.New("secondfactor: a fresh second factor is required")

// methodTable is the second-factor methods gosid offers, built once.
type methodTable struct {
	*mfa.Methods
	// recovery is also reached directly: its codes are made when the first
	// factor is turned on and on request.
	recovery *mfa.RecoveryCodes
}

// maxCredentialJSON bounds a WebAuthn response.
const maxCredentialJSON = 16 << 10

// AccountFactors returns the account's factors and whether any is on.
func (s *Service) AccountFactors(ctx context.Context, accountID string) ([]*mfa.Factor, error) {
	if s.Engine.Factors == nil {
		return nil, nil
	}
	return s.Engine.Factors.ListFactors(ctx, accountID)
}

// NeedSecondFactor reports whether signing in to the account takes a second
// factor: it has one turned on, every sign-in needs one (the global
// setting), or the service being signed in to demands one.
func (s *Service) NeedSecondFactor(ctx context.Context, a *account.Account, clientWants bool) (bool, error) {
	if s.Engine.Factors == nil {
		return false, nil
	}
	if s.d.RequireMFA || clientWants {
		return true, nil
	}
	fs, err := s.AccountFactors(ctx, a.ID)
	return len(fs) > 0, err
}

// methods lists what the citizen can use as a second factor now. With no
// factor turned on (a sign-in where a service or the global setting
// demands one) a code to a confirmed contact always works.
func (s *Service) methods(ctx context.Context, a *account.Account) ([]selfservice.MethodView, []*mfa.Factor, error) {
	fs, err := s.AccountFactors(ctx, a.ID)
	if err != nil {
		return nil, nil, err
	}
	usable, err := s.mfa.Usable(ctx, &mfa.Subject{Account: a, Factors: fs})
	if err != nil {
		return nil, nil, fmt.Errorf("second factor: usable methods: %w", err)
	}
	out := make([]selfservice.MethodView, 0, len(usable))
	for _, meth := range usable {
		out = append(out, selfservice.MethodView{Method: meth.Kind(), Contact: s.MaskedContact(a, meth.Kind())})
	}
	return out, fs, nil
}

// StartSecondFactor starts a challenge for the account. amr is what the
// authentication used so far; returnTo an authorization flow to resume.
func (s *Service) StartSecondFactor(ctx context.Context, api bool, a *account.Account, amr []string, purpose, sessionID, returnTo, next string, m selfservice.Meta) (*selfservice.View, error) {
	f := withChallenge(newFlow(KindMFA, StateChallenge, api, returnTo), &challengeState{
		AccountID: a.ID, AMR: amr, Purpose: purpose, SessionID: sessionID, Next: next,
	})
	v, err := s.start(ctx, f)
	if err != nil {
		return nil, err
	}
	return v, s.fillChallenge(ctx, v, f)
}

// fillChallenge adds the usable methods to a challenge's view.
func (s *Service) fillChallenge(ctx context.Context, v *selfservice.View, f *flow) error {
	a, err := s.Accounts.GetAccount(ctx, f.MFA.AccountID)
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
func (s *Service) SubmitSecondFactor(ctx context.Context, f *flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	if v := s.rejectInput(f, in, m); v != nil {
		return v, s.fillChallenge(ctx, v, f)
	}
	a, err := s.Accounts.GetAccount(ctx, f.MFA.AccountID)
	if err != nil {
		return nil, err
	}
	methods, factors, err := s.methods(ctx, a)
	if err != nil {
		return nil, err
	}
	v := s.view(f)
	v.Methods, v.Method = methods, f.MFA.Sent
	if a.Status != account.StatusActive {
		s.AddErr(v, m, "", "flow.error.action")
		return v, nil
	}
	method := in.Get("method")
	if !slices.ContainsFunc(methods, func(x selfservice.MethodView) bool { return x.Method == method }) {
		s.AddErr(v, m, "method", "mfa.method")
		return v, nil
	}
	meth := s.mfa.Get(method)
	ch := &mfa.Challenge{Subject: mfa.Subject{Account: a, Factors: factors, Lang: m.Lang},
		Purpose: f.MFA.Purpose, Sent: f.MFA.Sent, State: f.MFA.State}
	switch action {
	case "send":
		snd, ok := meth.(mfa.Sender)
		if !ok {
			s.AddErr(v, m, "method", "mfa.method")
			return v, nil
		}
		ok, err := s.SendCode(v, m, func() error { return snd.Send(ctx, &ch.Subject, f.MFA.Purpose) })
		if !ok {
			return v, err
		}
		f.MFA.Sent, v.Method = method, method
		v.Contact = s.MaskedContact(a, method)
		s.AddMsg(v, m, "code.sent")
		return v, s.flows.save(ctx, f)
	case "webauthn_begin":
		cer, ok := meth.(mfa.Ceremony)
		if !ok {
			s.AddErr(v, m, "method", "mfa.method")
			return v, nil
		}
		if v.WebAuthn, err = cer.BeginCheck(ctx, ch); err != nil {
			return nil, fmt.Errorf("second factor: begin %s: %w", method, err)
		}
		f.MFA.State, v.Method = ch.State, method
		return v, s.flows.save(ctx, f)
	}
	used, err := meth.Check(ctx, ch, answerOf(in))
	if err != nil {
		return v, s.refused(ctx, v, m, a.ID, method, err, true)
	}
	amr := mfa.WithFactor(f.MFA.AMR, meth.AMR(used))
	s.Record(ctx, m, a.ID, "mfa.success", "", map[string]string{"method": method, "purpose": f.MFA.Purpose})
	if meth == mfa.Method(s.mfa.recovery) {
		left, err := s.mfa.recovery.Left(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		s.Record(ctx, m, a.ID, "mfa.recovery_code_used", "", map[string]string{"left": strconv.Itoa(left)})
		s.Notify(ctx, a, "security_changed", m, map[string]string{"change": "recovery_code_used",
			"time": s.Web.DateTime(m.Lang, s.Now())})
	}
	f.State = selfservice.StateDone
	if err := s.flows.delete(ctx, f.ID); err != nil {
		return nil, err
	}
	v = s.view(f)
	v.AccountID, v.AMR = a.ID, amr
	return v, nil
}

func answerOf(in selfservice.Input) mfa.Answer {
	return mfa.Answer{Code: in.Get("code"), Credential: []byte(in["credential"]), Name: in.Get("name")}
}

// refused puts a method's refusal on v and returns nil, or returns an
// internal error. In a challenge (audit) a failed attempt is kept as
// "mfa.failure".
func (s *Service) refused(ctx context.Context, v *selfservice.View, m selfservice.Meta, accountID, method string, err error, audit bool) error {
	field, key := "code", selfservice.CodeErrorKey(err)
	switch {
	case key != "":
	case errors.Is(err, mfa.ErrNoAnswer):
		key = "code.required"
	case errors.Is(err, mfa.ErrNotSent):
		key = "mfa.send_first"
	case errors.Is(err, mfa.ErrInvalidCode):
		key = "mfa.invalid"
	case errors.Is(err, mfa.ErrReplayed):
		key = "mfa.replayed"
	case errors.Is(err, mfa.ErrTooMany):
		key = "mfa.locked"
	case errors.Is(err, mfa.ErrRecoveryCode):
		key = "mfa.recovery_invalid"
	case errors.Is(err, mfa.ErrRefused):
		field, key = "", "mfa.webauthn_failed"
		s.Log().Info("second factor: webauthn refused", "account", accountID, "err", err)
	case errors.Is(err, mfa.ErrNoFactor):
		field, key = "method", "mfa.method"
	default:
		return fmt.Errorf("second factor: check %s: %w", method, err)
	}
	if audit && errors.Is(err, mfa.ErrFailedAttempt) {
		s.Record(ctx, m, accountID, "mfa.failure", "", map[string]string{"method": method})
	}
	s.AddErr(v, m, field, key)
	return nil
}

// MaskedContact masks the contact a method sends codes to; "" for a method
// that sends none.
func (s *Service) MaskedContact(a *account.Account, kind string) string {
	snd, ok := s.mfa.Get(kind).(mfa.Sender)
	if !ok {
		return ""
	}
	c := snd.Contact(a)
	return selfservice.MaskContact(c.Channel, c.Address)
}

// SendSecondFactorCode sends a one-time code to the account's confirmed
// phone or e-mail, with the limits of package codes.
func (s *Service) SendSecondFactorCode(ctx context.Context, a *account.Account, kind, purpose string, m selfservice.Meta) error {
	snd, ok := s.mfa.Get(kind).(mfa.Sender)
	if !ok {
		return fmt.Errorf("second factor: send code: %q sends no codes", kind)
	}
	return snd.Send(ctx, &mfa.Subject{Account: a, Lang: m.Lang}, purpose)
}

// newRecoveryCodes replaces the account's recovery codes and returns the
// new ones, to be shown once.
func (s *Service) newRecoveryCodes(ctx context.Context, accountID string) ([]string, error) {
	return s.mfa.recovery.Renew(ctx, accountID)
}

// StartEnroll begins turning a factor on for the session's account. With
// a factor already on, adding another needs a fresh second factor
// (ErrStepUp), so a password-only session that predates the first factor
// cannot add one of its own.
func (s *Service) StartEnroll(ctx context.Context, api bool, sess *session.Session, kind string, m selfservice.Meta) (*selfservice.View, error) {
	accountID := sess.AccountID
	a, err := s.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	fs, err := s.AccountFactors(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if len(fs) > 0 && !s.Fresh(sess) {
		return nil, ErrStepUp
	}
	f := withEnroll(newFlow(KindEnroll, selfservice.StateConfirm, api, ""), &enrollState{AccountID: accountID, Kind: kind, First: len(fs) == 0})
	v := &selfservice.View{Type: KindEnroll, State: selfservice.StateForm}
	en, ok := s.mfa.Get(kind).(mfa.Enroller)
	if !ok {
		s.AddErr(v, m, "method", "mfa.method")
		return v, nil
	}
	e := &mfa.Enrolment{Subject: mfa.Subject{Account: a, Factors: fs, Lang: m.Lang}}
	setup, err := en.BeginEnroll(ctx, e)
	if err != nil {
		return s.enrollRefused(v, m, kind, err)
	}
	f.Enroll.State = e.State
	if v, err = s.start(ctx, f); err != nil {
		return nil, err
	}
	v.WebAuthn = setup.Options
	return v, s.fillEnroll(v, f, a)
}

// enrollRefused puts a refusal to begin an enrolment on v, or returns an
// internal error.
func (s *Service) enrollRefused(v *selfservice.View, m selfservice.Meta, kind string, err error) (*selfservice.View, error) {
	key := selfservice.CodeErrorKey(err)
	switch {
	case key != "":
	case errors.Is(err, mfa.ErrExists):
		key = "mfa.exists"
	case errors.Is(err, mfa.ErrNoContact):
		key = "mfa.no_contact"
	default:
		return nil, fmt.Errorf("second factor: begin enrolling %s: %w", kind, err)
	}
	s.AddErr(v, m, "", key)
	return v, nil
}

// enrolment is the method and state of an enrolment flow.
func (s *Service) enrolment(f *flow, a *account.Account, fs []*mfa.Factor, m selfservice.Meta) (mfa.Enroller, *mfa.Enrolment, error) {
	en, ok := s.mfa.Get(f.Enroll.Kind).(mfa.Enroller)
	if !ok {
		return nil, nil, fmt.Errorf("second factor: enrolment of %q: %w", f.Enroll.Kind, selfservice.ErrFlowExpired)
	}
	return en, &mfa.Enrolment{Subject: mfa.Subject{Account: a, Factors: fs, Lang: m.Lang}, State: f.Enroll.State}, nil
}

// RefreshRegistration begins the device ceremony of an enrolment flow
// afresh (a page shown again needs a new challenge); nil options for a
// method without one.
func (s *Service) RefreshRegistration(ctx context.Context, f *flow, a *account.Account) (json.RawMessage, error) {
	if _, ok := s.mfa.Get(f.Enroll.Kind).(mfa.Ceremony); !ok {
		return nil, nil
	}
	fs, err := s.AccountFactors(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	en, e, err := s.enrolment(f, a, fs, selfservice.Meta{})
	if err != nil {
		return nil, err
	}
	setup, err := en.BeginEnroll(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("second factor: refresh enrolment: %w", err)
	}
	f.Enroll.State = e.State
	return setup.Options, s.flows.save(ctx, f)
}

// fillEnroll adds what the citizen needs to finish: the authenticator's
// secret and QR code, or the masked contact a code went to.
func (s *Service) fillEnroll(v *selfservice.View, f *flow, a *account.Account) error {
	v.Method = f.Enroll.Kind
	v.Contact = s.MaskedContact(a, f.Enroll.Kind)
	if f.State != selfservice.StateConfirm {
		return nil
	}
	en, e, err := s.enrolment(f, a, nil, selfservice.Meta{})
	if err != nil {
		return err
	}
	setup, err := en.Pending(e)
	if err != nil || setup == nil || setup.Authenticator == nil {
		return err
	}
	auth := setup.Authenticator
	v.TOTPSecret, v.TOTPURL = auth.Secret, auth.URL
	// The data URL is gosid's own PNG, safe to put in an img src.
	v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(auth.QRPNG))
	return nil
}

// SubmitEnroll finishes turning a factor on: the first authenticator code,
// the code sent to the contact, or the security key's attestation. The
// first factor an account turns on comes with 10 recovery codes, returned
// once on the view.
func (s *Service) SubmitEnroll(ctx context.Context, f *flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	a, err := s.Accounts.GetAccount(ctx, f.Enroll.AccountID)
	if err != nil {
		return nil, err
	}
	v := s.view(f)
	if rv := s.rejectInput(f, in, m); rv != nil {
		return rv, s.fillEnroll(rv, f, a)
	}
	if err := s.fillEnroll(v, f, a); err != nil {
		return nil, err
	}
	if f.State != selfservice.StateConfirm {
		return s.unknownAction(f, m), nil
	}
	fs, err := s.AccountFactors(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if f.Enroll.First && len(fs) > 0 {
		// A factor was turned on since this flow began without a fresh
		// second factor: adding another now takes one (StartEnroll).
		s.AddErr(v, m, "", "flow.error.action")
		return v, nil
	}
	en, e, err := s.enrolment(f, a, fs, m)
	if err != nil {
		return nil, err
	}
	if snd, ok := en.(mfa.Sender); ok && action == "resend" {
		ok, err := s.SendCode(v, m, func() error { return snd.Send(ctx, &e.Subject, "enroll") })
		if ok {
			s.AddMsg(v, m, "code.sent")
		}
		return v, err
	}
	fct, err := en.FinishEnroll(ctx, e, answerOf(in))
	if err != nil {
		return v, s.refused(ctx, v, m, a.ID, f.Enroll.Kind, err, false)
	}
	if err := s.Engine.Factors.AddFactor(ctx, fct); errors.Is(err, storage.ErrConflict) {
		s.AddErr(v, m, "", "mfa.exists")
		return v, nil
	} else if err != nil {
		return nil, err
	}
	// The factor is on; a flow left behind expires by itself, so a
	// failure to end it must not hide the recovery codes just made.
	if err := s.flows.delete(ctx, f.ID); err != nil {
		s.Log().Warn("second factor: end the enrolment flow", "err", err)
	}
	f.State = selfservice.StateDone
	v = s.view(f)
	v.Method = fct.Kind
	if len(fs) == 0 {
		if v.RecoveryCodes, err = s.newRecoveryCodes(ctx, a.ID); err != nil {
			return nil, err
		}
	}
	s.Record(ctx, m, a.ID, "mfa.enabled", "", map[string]string{"method": fct.Kind})
	s.Notify(ctx, a, "security_changed", m, map[string]string{"change": "mfa_enabled",
		"time": s.Web.DateTime(m.Lang, fct.CreatedAt)})
	s.AddMsg(v, m, "mfa.enabled")
	v.AccountID, v.AMR = a.ID, []string{en.AMR(fct)}
	return v, nil
}

// Fresh reports whether the session used a second factor recently
// enough for a sensitive change.
func (s *Service) Fresh(sess *session.Session) bool {
	return mfa.HasMFA(sess.AMR) && s.Now().Sub(sess.MFAAt) <= mfaFresh
}

// RemoveFactor turns a factor off. It needs a fresh second factor
// (ErrStepUp otherwise); the last factor takes the recovery codes with it.
func (s *Service) RemoveFactor(ctx context.Context, sess *session.Session, id string, m selfservice.Meta) error {
	if !httpx.ValidID(id) {
		return storage.ErrNotFound
	}
	if !s.Fresh(sess) {
		return ErrStepUp
	}
	a, err := s.Accounts.GetAccount(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	fs, err := s.AccountFactors(ctx, a.ID)
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
		err = s.Engine.Factors.DeleteFactors(ctx, a.ID)
	} else {
		err = s.Engine.Factors.DeleteFactor(ctx, a.ID, id)
	}
	if err != nil {
		return err
	}
	s.Record(ctx, m, a.ID, "mfa.disabled", "", map[string]string{"method": kind})
	s.Notify(ctx, a, "security_changed", m, map[string]string{"change": "mfa_disabled",
		"time": s.Web.DateTime(m.Lang, s.Now())})
	return nil
}

// RegenerateRecoveryCodes replaces the recovery codes; it needs a fresh
// second factor and at least one factor turned on.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, sess *session.Session, m selfservice.Meta) ([]string, error) {
	if !s.Fresh(sess) {
		return nil, ErrStepUp
	}
	fs, err := s.AccountFactors(ctx, sess.AccountID)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, storage.ErrNotFound
	}
	list, err := s.newRecoveryCodes(ctx, sess.AccountID)
	if err == nil {
		s.Record(ctx, m, sess.AccountID, "mfa.recovery_codes_regenerated", "", nil)
	}
	return list, err
}

// Factors lists the account's factors for the settings.
func (s *Service) Factors(ctx context.Context, accountID string) ([]selfservice.FactorView, int, error) {
	a, err := s.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return nil, 0, err
	}
	fs, err := s.AccountFactors(ctx, accountID)
	if err != nil {
		return nil, 0, err
	}
	out := make([]selfservice.FactorView, 0, len(fs))
	for _, f := range fs {
		fv := selfservice.FactorView{ID: f.ID, Kind: f.Kind, Name: f.Name, CreatedAt: f.CreatedAt}
		if !f.LastUsedAt.IsZero() {
			t := f.LastUsedAt
			fv.LastUsedAt = &t
		}
		fv.Contact = s.MaskedContact(a, f.Kind)
		out = append(out, fv)
	}
	left := 0
	if len(fs) > 0 {
		if left, err = s.Engine.Factors.RecoveryCodesLeft(ctx, accountID); err != nil {
			return nil, 0, err
		}
	}
	return out, left, nil
}

// Submit runs a step of a challenge kept in f, a challenge flow or the
// API's sign-in flow that went on to its second factor. A challenge that
// succeeded says which session it earned (View.Start): a new one after a
// password, or an upgrade of the session it stepped up.
func (s *Service) Submit(ctx context.Context, raw *selfservice.Flow, action string, in selfservice.Input, m selfservice.Meta) (*selfservice.View, error) {
	f, err := wrap(raw)
	if err != nil {
		return nil, err
	}
	if f.MFA == nil {
		return nil, fmt.Errorf("second factor: flow %s holds no challenge", f.Kind)
	}
	purpose, sessionID := f.MFA.Purpose, f.MFA.SessionID
	v, err := s.SubmitSecondFactor(ctx, f, action, in, m)
	if err != nil || v == nil || v.AccountID == "" {
		return v, err
	}
	acct, err := s.Accounts.GetAccount(ctx, v.AccountID)
	if err != nil {
		return nil, fmt.Errorf("second factor: load account: %w", err)
	}
	v.Start = &selfservice.SessionStart{Account: acct, AMR: v.AMR, Reason: selfservice.SignIn}
	if purpose == PurposeStepUp {
		v.Start.Reason, v.Start.ReplaceID = selfservice.Upgrade, sessionID
	}
	return v, nil
}

// Begin turns raw, a flow of another package that proved a password (the
// API's sign-in), into a second-factor challenge for the account, and
// returns its view with the usable methods.
func (s *Service) Begin(ctx context.Context, raw *selfservice.Flow, a *account.Account, amr []string) (*selfservice.View, error) {
	f := &flow{Flow: raw, MFA: &challengeState{AccountID: a.ID, AMR: amr, Purpose: PurposeLogin}}
	f.State = StateChallenge
	if err := s.flows.save(ctx, f); err != nil {
		return nil, err
	}
	v := s.view(f)
	return v, s.fillChallenge(ctx, v, f)
}

// Show is the view of a flow holding a challenge or an enrolment, with what
// it offers (methods, WebAuthn options, the authenticator's QR code).
func (s *Service) Show(ctx context.Context, raw *selfservice.Flow) (*selfservice.View, error) {
	f, err := wrap(raw)
	if err != nil {
		return nil, err
	}
	v := s.view(f)
	return v, s.fillFlow(ctx, v, f)
}

// RequireMFA reports whether every sign-in needs a second factor.
func (s *Service) RequireMFA() bool { return s.d.RequireMFA }
