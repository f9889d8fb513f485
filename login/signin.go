package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
)

// The password step and the start of a session, written once for the
// sign-in page and the JSON API: the two faces differ only in how they show
// the outcome (a page and a cookie, or JSON and a token), never in limits,
// counters, audit events, notices or the offer of a second factor.

// Outcomes of a password attempt, for metrics (Options.OnLogin).
const (
	outcomeSuccess     = "success"
	outcomeInvalid     = "invalid"
	outcomeLocked      = "locked"
	outcomeRateLimited = "rate_limited"
)

// passwordResult is what the password step decided.
type passwordResult struct {
	// Account is the citizen who proved the password; nil on any failure.
	Account *account.Account
	// Field and Code name the failure (Code is an err.* message key:
	// login.required, login.invalid, login.locked, login.rate or a field
	// check such as field.too_long); both empty on success.
	Field, Code string
	// NeedMFA is set on success when a second factor must follow.
	NeedMFA bool
}

// passwordStep checks a login and password with the per-IP rate limit and
// the per-account lockout, and decides whether a second factor must
// follow. clientWantsMFA is the relying service's policy (false for a
// sign-in to gosid itself).
func (s *Service) passwordStep(ctx context.Context, in Input, clientWantsMFA bool, m Meta) (*passwordResult, error) {
	if fe := checkInput(in); fe != nil {
		return &passwordResult{Field: fe.Field, Code: fe.Code}, nil
	}
	login, password := in.Get("login"), in["password"]
	if login == "" || password == "" {
		return &passwordResult{Code: "login.required"}, nil
	}
	acct, outcome, err := s.checkPassword(ctx, m, login, password)
	s.o.OnLogin(outcome)
	if err != nil {
		return nil, fmt.Errorf("sign-in: check password: %w", err)
	}
	switch outcome {
	case outcomeRateLimited:
		return &passwordResult{Code: "login.rate"}, nil
	case outcomeLocked:
		return &passwordResult{Code: "login.locked"}, nil
	case outcomeInvalid:
		return &passwordResult{Code: "login.invalid"}, nil
	}
	need, err := s.needSecondFactor(ctx, acct, clientWantsMFA)
	if err != nil {
		return nil, fmt.Errorf("sign-in: second factor policy: %w", err)
	}
	return &passwordResult{Account: acct, NeedMFA: need}, nil
}

// sessionReason says why a session starts; it decides the audit event and
// whether the new-device notice and the second-factor offer apply.
type sessionReason int

const (
	// reasonSignIn: a citizen signed in (password, maybe a second factor).
	reasonSignIn sessionReason = iota
	// reasonRegistration: a new account signs in right after it was made.
	reasonRegistration
	// reasonUpgrade: the session's own citizen proved more (a step-up, a
	// new factor, a changed password); it replaces the old session.
	reasonUpgrade
)

// sessionStart is what a finished authentication starts a session with.
type sessionStart struct {
	Account *account.Account
	AMR     []string
	Reason  sessionReason
	// ReplaceToken is the secret of the session the browser or app holds
	// now (cookie or bearer); it is ended first, so that an old secret is
	// never carried into the new session (fixation). ReplaceID ends a
	// session known only by its id (an API step-up).
	ReplaceToken, ReplaceID string
	// AuthorizeFlow is the authorization request being signed in for
	// ("" for gosid itself); ClientID names its service in the audit trail.
	AuthorizeFlow string
	// Device is the device id the browser (cookie) or app (device_token)
	// presented; "" for a device never seen.
	Device string
}

// startedSession is what a face needs to hand the session over.
type startedSession struct {
	Secret  string
	Session *session.Session
	// Device is the device id to keep (cookie or device_token).
	Device string
	// Offer is set when the citizen should be offered a second factor.
	Offer bool
	// Flow is the authorization request to resume, if any.
	Flow *Flow
}

// startSession is the one place where a session begins: it ends the
// session being replaced, creates the new one, records the sign-in, tells
// the owner about a new device, binds the authorization request and
// decides on the offer of a second factor.
func (s *Service) startSession(ctx context.Context, st sessionStart, m Meta) (*startedSession, error) {
	acct := st.Account
	if st.ReplaceToken != "" {
		if err := s.sessions.EndToken(ctx, st.ReplaceToken); err != nil {
			return nil, fmt.Errorf("start session: end the replaced session: %w", err)
		}
	}
	if st.ReplaceID != "" {
		if err := s.sessions.EndByID(ctx, acct.ID, st.ReplaceID); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("start session: end the replaced session: %w", err)
		}
	}
	now := s.o.Now().UTC()
	sess := &session.Session{AccountID: acct.ID, AuthTime: now, AMR: st.AMR, CreatedAt: now,
		UserAgent: truncate(m.UserAgent, 200), IP: m.IP}
	if hasMFA(st.AMR) {
		sess.MFAAt = now
	}
	secret, err := s.sessions.Create(ctx, sess)
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	out := &startedSession{Secret: secret, Session: sess, Device: st.Device}
	if st.AuthorizeFlow != "" {
		flow, err := s.flows.load(ctx, st.AuthorizeFlow, FlowAuthorize)
		if err != nil && !isFlowExpired(err) {
			return nil, fmt.Errorf("start session: load authorization flow: %w", err)
		}
		if flow != nil {
			flow.AccountID, flow.LoginAt = acct.ID, now
			if err := s.flows.save(ctx, flow); err != nil {
				return nil, fmt.Errorf("start session: bind authorization flow: %w", err)
			}
			out.Flow = flow
		}
	}
	if st.Reason == reasonUpgrade {
		return out, nil
	}
	out.Device = s.rememberDevice(ctx, acct, st.Device, st.Reason == reasonSignIn, m)
	if st.Reason == reasonSignIn {
		clientID := ""
		if out.Flow != nil {
			clientID = out.Flow.ClientID
		}
		data := map[string]string{"amr": strings.Join(st.AMR, " ")}
		if m.API {
			data["via"] = "api"
		}
		s.recordMeta(ctx, m, acct.ID, "login.success", clientID, data)
		// A sign-in to gosid itself is followed by the offer to turn a
		// second factor on; a sign-in for a service is not interrupted
		// (the account page carries the same offer).
		out.Offer = out.Flow == nil && s.offerMFA(ctx, acct, st.AMR)
	}
	return out, nil
}

// setSessionCookie hands a started session to a browser: the session and
// device cookies.
func (s *Service) setSessionCookie(w http.ResponseWriter, st *startedSession) {
	s.o.Web.SetCookie(w, s.sessions.Cookie(), st.Secret, s.o.SessionTTL)
	if st.Device != "" {
		s.o.Web.SetCookie(w, s.o.Web.CookieName(session.DeviceCookie), st.Device, session.DeviceRemember)
	}
}

// passwordChangedSession replaces the session that changed the password
// (every session of the account ended with the change) with a fresh one
// that keeps what the old one had proved.
func (s *Service) passwordChangedSession(ctx context.Context, old *session.Session, secret string, m Meta) (*startedSession, error) {
	acct, err := s.o.Accounts.GetAccount(ctx, old.AccountID)
	if err != nil {
		return nil, fmt.Errorf("password changed: load account: %w", err)
	}
	return s.startSession(ctx, sessionStart{Account: acct, AMR: old.AMR, Reason: reasonUpgrade, ReplaceToken: secret}, m)
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

func isFlowExpired(err error) bool { return errors.Is(err, ErrFlowExpired) }
