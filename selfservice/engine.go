package selfservice

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/codes"
	"github.com/gosid/gosid/logout"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/provider"
	"github.com/gosid/gosid/selfservice/lockout"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/web"
)

// Notices sends a notice about an account to the channels its owner chose
// (notify.Notices); lang applies when the account has no language set.
type Notices interface {
	Send(ctx context.Context, a *account.Account, template, lang string, data map[string]string)
}

// OAuth is what the flows need of the OAuth provider: resuming or failing
// an authorization request, checking an id_token_hint, and the grants a
// citizen gave.
type OAuth interface {
	Resume(w http.ResponseWriter, r *http.Request, flowID string, form url.Values)
	WriteAuthorizeError(w http.ResponseWriter, r *http.Request, form url.Values, err error)
	VerifyIDTokenHint(ctx context.Context, token string) (*provider.IDTokenHint, error)
	ClientsWithGrants(ctx context.Context, subject string) ([]string, error)
	RevokeSubject(ctx context.Context, subject, clientID string) error
}

// Transactor runs fn in one transaction: every store call made with the
// context fn is given joins it, and nothing of it stays if fn fails.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Deps are what the engine needs; every flow package reaches them through
// its Engine.
type Deps struct {
	Accounts account.Store
	Clients  clients.Store
	Audit    audit.Store
	Web      *web.Renderer
	Flows    *FlowStore
	// Ephemeral is the short-lived store (for the steps' own short-lived
	// records: the event counting a lockout's refused attempts).
	Ephemeral storage.Ephemeral
	Sessions  *session.Store
	// FrontChannel lists the front-channel logout iframes of a sign-in
	// session (logout.Service.FrontChannel); nil shows none.
	FrontChannel func(ctx context.Context, sid string) ([]logout.Frame, error)
	// Codes issues one-time confirmation codes and e-mail links.
	Codes   *codes.Service
	Notices Notices
	OAuth   OAuth
	// Tx makes a change spanning tables one; nil runs the steps one by one.
	Tx Transactor
	// Passwords hashes and checks citizens' passwords.
	Passwords *account.PasswordHasher
	// Lockout counts wrong passwords per account, for every step that
	// checks one (CheckPassword).
	Lockout *lockout.Counter
	// Factors lists an account's second factors (for the offer to turn
	// one on); nil means gosid runs without a second factor.
	Factors mfa.Store
	// Issuer is the public base URL, for links in messages.
	Issuer     string
	SessionTTL time.Duration
	Dev        bool
	Logger     *slog.Logger
	Now        func() time.Time
}

// Engine runs the steps every flow shares. Flow packages embed it.
type Engine struct {
	Deps
	log      *slog.Logger
	apiFlows map[string]APIFlow
}

// New returns the engine.
func New(d Deps) *Engine {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Tx == nil {
		d.Tx = noTx{}
	}
	return &Engine{Deps: d, log: d.Logger}
}

// noTx runs fn as it is.
type noTx struct{}

func (noTx) InTx(ctx context.Context, fn func(ctx context.Context) error) error { return fn(ctx) }

// Log is the engine's logger.
func (e *Engine) Log() *slog.Logger { return e.log }

// View renders the public state every flow shares; a flow package adds
// what its own state shows (the masked contact a code went to...).
func (e *Engine) View(f *Flow) *View {
	return &View{ID: f.ID, Type: f.Kind, State: f.State, ExpiresAt: f.ExpiresAt, ReturnTo: f.ReturnTo}
}

// AddErr adds an error, on field ("" for the whole form), in the caller's
// language; code is an err.* message key.
func (e *Engine) AddErr(v *View, m Meta, field, code string) {
	v.Errors = append(v.Errors, Message{Field: field, Code: code, Text: e.Web.T(m.Lang, "err."+code)})
}

// AddMsg adds a notice; code is a msg.* message key, which may name the
// view's contact.
func (e *Engine) AddMsg(v *View, m Meta, code string) {
	v.Messages = append(v.Messages, Message{Code: code, Text: e.Web.T(m.Lang, "msg."+code, v.Contact)})
}

// Record appends an audit event about the account; a failure is logged,
// never shown to the citizen (their action happened).
func (e *Engine) Record(ctx context.Context, m Meta, accountID, typ, clientID string, data map[string]string) {
	if e.Audit == nil {
		return
	}
	err := e.Audit.AppendEvent(ctx, &audit.Event{
		AccountID: accountID, Type: typ, ClientID: clientID, IP: m.IP,
		UserAgent: Truncate(m.UserAgent, 200), Data: data, At: e.Now().UTC(),
	})
	if err != nil {
		e.log.Error("selfservice: audit", "type", typ, "err", err)
	}
}

// Notify sends a notice about the account where its owner wants it.
func (e *Engine) Notify(ctx context.Context, a *account.Account, template string, m Meta, data map[string]string) {
	e.Notices.Send(ctx, a, template, m.Lang, data)
}

// Start stores a new flow and returns the flow token.
func (e *Engine) Start(ctx context.Context, f *Flow) (string, error) {
	return e.Flows.Create(ctx, f)
}

// CodeErrorKey turns a refusal of the code service into a message key; ""
// for an error that is not a refusal.
func CodeErrorKey(err error) string {
	switch {
	case errors.Is(err, codes.ErrInvalid):
		return "code.invalid"
	case errors.Is(err, codes.ErrExpired):
		return "code.expired"
	case errors.Is(err, codes.ErrBurned):
		return "code.burned"
	case errors.Is(err, codes.ErrTooSoon):
		return "code.too_soon"
	case errors.Is(err, codes.ErrHourlyLimit):
		return "code.hourly_limit"
	case errors.Is(err, codes.ErrBlocked):
		return "code.blocked"
	}
	return ""
}

// SendCode runs send and turns a limit (too soon, blocked...) into a
// form-level error on v; other errors are returned.
func (e *Engine) SendCode(v *View, m Meta, send func() error) (bool, error) {
	if err := send(); err != nil {
		key := CodeErrorKey(err)
		if key == "" {
			return false, err
		}
		e.AddErr(v, m, "", key)
		return false, nil
	}
	return true, nil
}

// Resend sends a new code and says so on v, or puts the refusal on it.
func (e *Engine) Resend(v *View, m Meta, msg string, send func() error) (*View, error) {
	ok, err := e.SendCode(v, m, send)
	if ok {
		e.AddMsg(v, m, msg)
	}
	return v, err
}

// VerifyCode checks a one-time code and puts the error on the code field;
// ok reports success.
func (e *Engine) VerifyCode(ctx context.Context, v *View, m Meta, purpose, contact, code string) (bool, error) {
	if code == "" {
		e.AddErr(v, m, "code", "code.required")
		return false, nil
	}
	if err := e.Codes.Verify(ctx, purpose, contact, code); err != nil {
		key := CodeErrorKey(err)
		if key == "" {
			return false, err
		}
		e.AddErr(v, m, "code", key)
		return false, nil
	}
	return true, nil
}

// ClientName is a relying service's name ("" when unknown).
func (e *Engine) ClientName(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	c, err := e.Clients.GetClient(ctx, id)
	if err != nil {
		return ""
	}
	return c.Name
}

// LogoutFrames fills a signed-out page with the front-channel logout
// iframes of the request's session (Front-Channel Logout 1.0 §3), and its
// Content-Security-Policy with their origins. Call it before the session
// ends.
func (e *Engine) LogoutFrames(r *http.Request, d *web.MessageData) {
	if e.FrontChannel == nil {
		return
	}
	sess, err := e.Sessions.Current(r)
	if err != nil || sess == nil {
		return
	}
	frames, err := e.FrontChannel(r.Context(), sess.ID)
	if err != nil {
		e.Log().Warn("selfservice: front-channel logout frames", "err", err)
		return
	}
	for _, f := range frames {
		o := clients.OriginOf(f.URL)
		if o == "" {
			continue
		}
		d.Frames = append(d.Frames, f.URL)
		if !slices.Contains(d.FrameSrc, o) {
			d.FrameSrc = append(d.FrameSrc, o)
		}
	}
}
