package selfservice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
)

// SessionReason says why a session starts; it decides the audit event and
// whether the new-device notice and the second-factor offer apply.
type SessionReason int

const (
	// SignIn: a citizen signed in (a password, maybe a second factor, or
	// any other way of signing in).
	SignIn SessionReason = iota
	// Registration: a new account signs in right after it was made.
	Registration
	// Upgrade: the session's own citizen proved more (a step-up, a new
	// factor, a changed password); the new session replaces the old one.
	Upgrade
)

// SessionStart is what a finished authentication starts a session with.
type SessionStart struct {
	Account *account.Account
	AMR     []string
	Reason  SessionReason
	// ReplaceToken is the secret of the session the browser or app holds
	// now (cookie or bearer); it is ended first, so that an old secret is
	// never carried into the new session (fixation). ReplaceID ends a
	// session known only by its id (an API step-up).
	ReplaceToken, ReplaceID string
	// AuthorizeFlow is the authorization request being signed in for ("" for
	// gosid itself).
	AuthorizeFlow string
	// Device is the device id the browser (cookie) or app (device_token)
	// presented; "" for a device never seen.
	Device string
}

// StartedSession is what a face needs to hand a session over.
type StartedSession struct {
	Secret  string
	Session *session.Session
	// Device is the device id to keep (cookie or device_token).
	Device string
	// Offer is set when the citizen should be offered a second factor.
	Offer bool
	// Flow is the authorization request to resume, if any.
	Flow *Flow
}

// offerPause is how long a declined offer to turn on a second factor stays
// quiet.
const offerPause = 30 * 24 * time.Hour

// deviceUAMaxSize bounds the device description in a new-device notice.
const deviceUAMaxSize = 120

// StartSession is the one place where a session begins: it ends the
// session being replaced, creates the new one, records the sign-in, tells
// the owner about a new device, binds the authorization request and
// decides on the offer of a second factor.
func (e *Engine) StartSession(ctx context.Context, st SessionStart, m Meta) (*StartedSession, error) {
	acct := st.Account
	if st.ReplaceToken != "" {
		if err := e.Sessions.EndToken(ctx, st.ReplaceToken); err != nil {
			return nil, fmt.Errorf("start session: end the replaced session: %w", err)
		}
	}
	if st.ReplaceID != "" {
		if err := e.Sessions.EndByID(ctx, acct.ID, st.ReplaceID); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("start session: end the replaced session: %w", err)
		}
	}
	now := e.Now().UTC()
	sess := &session.Session{AccountID: acct.ID, AuthTime: now, AMR: st.AMR, CreatedAt: now,
		UserAgent: Truncate(m.UserAgent, 200), IP: m.IP}
	if mfa.HasMFA(st.AMR) {
		sess.MFAAt = now
	}
	secret, err := e.Sessions.Create(ctx, sess)
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	out := &StartedSession{Secret: secret, Session: sess, Device: st.Device}
	if st.AuthorizeFlow != "" {
		flow, err := e.Flows.LoadAny(ctx, st.AuthorizeFlow, KindAuthorize)
		if err != nil && !errors.Is(err, ErrFlowExpired) {
			return nil, fmt.Errorf("start session: load authorization flow: %w", err)
		}
		if flow != nil {
			flow.AccountID, flow.LoginAt = acct.ID, now
			if err := e.Flows.Save(ctx, flow); err != nil {
				return nil, fmt.Errorf("start session: bind authorization flow: %w", err)
			}
			out.Flow = flow
		}
	}
	if st.Reason == Upgrade {
		return out, nil
	}
	out.Device = e.rememberDevice(ctx, acct, st.Device, st.Reason == SignIn, m)
	if st.Reason == SignIn {
		clientID := ""
		if out.Flow != nil {
			clientID = out.Flow.ClientID
		}
		data := map[string]string{"amr": strings.Join(st.AMR, " ")}
		if m.API {
			data["via"] = "api"
		}
		e.Record(ctx, m, acct.ID, "login.success", clientID, data)
		// A sign-in to gosid itself is followed by the offer to turn a
		// second factor on; a sign-in for a service is not interrupted
		// (the account page carries the same offer).
		out.Offer = out.Flow == nil && e.OfferMFA(ctx, acct, st.AMR)
	}
	return out, nil
}

// rememberDevice keeps the device the citizen signed in from and, when
// notice is set and the account has never been used from it, tells the
// owner. It returns the device id to hand back (cookie or device_token).
func (e *Engine) rememberDevice(ctx context.Context, a *account.Account, id string, notice bool, m Meta) string {
	id, fresh, err := e.Sessions.RememberDevice(ctx, a.ID, id)
	if err != nil {
		e.log.Error("selfservice: remember device", "err", err)
		return id
	}
	if !fresh || !notice {
		return id
	}
	e.Record(ctx, m, a.ID, "login.new_device", "", nil)
	// Where the notice goes is the citizen's choice (notification settings).
	e.Notify(ctx, a, "login_new_device", m, map[string]string{
		"device": Truncate(m.UserAgent, deviceUAMaxSize), "ip": m.IP,
		"time": e.Web.DateTime(m.Lang, e.Now()),
	})
	return id
}

// OfferMFA reports whether to offer a second factor: none was used, none
// is turned on, and the offer was not declined lately.
func (e *Engine) OfferMFA(ctx context.Context, acct *account.Account, amr []string) bool {
	if mfa.HasMFA(amr) || e.Factors == nil || e.Now().Sub(acct.MFADeclinedAt) < offerPause {
		return false
	}
	fs, err := e.Factors.ListFactors(ctx, acct.ID)
	return err == nil && len(fs) == 0
}

// SetSessionCookie hands a started session to a browser: the session and
// device cookies.
func (e *Engine) SetSessionCookie(w http.ResponseWriter, st *StartedSession) {
	e.Web.SetCookie(w, e.Sessions.Cookie(), st.Secret, e.SessionTTL)
	if st.Device != "" {
		e.Web.SetCookie(w, e.Web.CookieName(session.DeviceCookie), st.Device, session.DeviceRemember)
	}
}

// ContinueSession hands a started session to the browser and goes on to
// the offer of a second factor, the authorization being signed in for, or
// elsewhere.
func (e *Engine) ContinueSession(w http.ResponseWriter, r *http.Request, st *StartedSession, elsewhere string) {
	e.SetSessionCookie(w, st)
	switch {
	case st.Offer:
		http.Redirect(w, r, PathOffer, http.StatusSeeOther)
	case st.Flow != nil:
		e.OAuth.Resume(w, ReplaceCookie(r, e.Sessions.Cookie(), st.Secret), st.Flow.ID, st.Flow.Form)
	default:
		http.Redirect(w, r, elsewhere, http.StatusSeeOther)
	}
}

// ContinueTo resumes the authorization flow id, or goes to elsewhere.
func (e *Engine) ContinueTo(w http.ResponseWriter, r *http.Request, id, elsewhere string) {
	if id != "" {
		if flow, err := e.Flows.LoadAny(r.Context(), id, KindAuthorize); err == nil {
			e.OAuth.Resume(w, r, flow.ID, flow.Form)
			return
		}
	}
	http.Redirect(w, r, elsewhere, http.StatusSeeOther)
}

// SignInAccount starts the session of a browser after a complete
// authentication and goes on (see ContinueSession).
func (e *Engine) SignInAccount(w http.ResponseWriter, r *http.Request, authorizeFlow string, acct *account.Account, amr []string) {
	st, err := e.StartSession(r.Context(), SessionStart{Account: acct, AMR: amr, Reason: SignIn,
		ReplaceToken: e.Sessions.Secret(r), AuthorizeFlow: authorizeFlow,
		Device: e.Cookie(r, session.DeviceCookie)}, e.Meta(r))
	if err != nil {
		e.ServerError(w, r, err)
		return
	}
	e.ContinueSession(w, r, st, PathAccount)
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }
