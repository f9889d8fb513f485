// Package signin signs citizens in: the sign-in page and the API's sign-in
// flow (one password step, then maybe the second factor), and the hosted
// flows a citizen goes through on behalf of a
// relying service: sign-in, consent and sign-out. It implements the
// provider's Interaction: the provider asks it to decide on each
// authorization request, and it either answers at once (a valid session and
// remembered consent) or takes the citizen through the pages and resumes the
// request afterwards.
package signin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/consent"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/provider"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/selfservice/lockout"
	"github.com/gosid/gosid/selfservice/secondfactor"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/verify"
)

// Options configure the service.
type Options struct {
	// Engine runs the steps every flow shares (flows, sessions, codes,
	// audit, notices, the OAuth side).
	Engine *selfservice.Engine
	// Banks offers «Войти через банк» (partner banks are configured).
	Banks bool
	// ESign offers «Войти с электронной подписью» (trusted certification
	// authorities are configured).
	ESign bool
	// Ephemeral keeps the per-IP rate-limit counters (the lockout
	// counters are the engine's).
	Ephemeral storage.Ephemeral
	// Consent decides whether the citizen agreed to what a service asks.
	Consent *consent.Service
	// LoginRatePerIP caps password attempts per client IP per minute.
	LoginRatePerIP int
	// Notifier queues the decoy notice of a login with no account, so that
	// a lock costs the same work for it as for an account.
	Notifier selfservice.Notifier
	// LockoutKey (32 bytes) keys the HMAC under which failed sign-ins of a
	// login with no account are counted.
	LockoutKey []byte
	// OnLogin is called with the outcome of every password attempt
	// (success, invalid, locked, rate_limited) for metrics.
	OnLogin func(outcome string)
	// SecondFactor runs the second factor (challenges, step-up, factors).
	SecondFactor *secondfactor.Service
	// Verify keeps personal data and checks it against the registries.
	Verify *verify.Service
}

// Service is the hosted sign-in UI: the flows of this package on the
// self-service engine.
type Service struct {
	*selfservice.Engine
	o       Options
	consent *consent.Service
	log     *slog.Logger
	sf      *secondfactor.Service
}

// Lockout policy (DESIGN.md "Decisions"), package lockout's.
const maxPasswordFailures = lockout.MaxFailures

// New returns the service.
func New(o Options) *Service {
	if o.OnLogin == nil {
		o.OnLogin = func(string) {}
	}
	e := o.Engine
	s := &Service{
		Engine:  e,
		o:       o,
		consent: o.Consent,
		log:     e.Log(),
		sf:      o.SecondFactor,
	}
	s.handleFlows()
	return s
}

// Authorize implements provider.Interaction.
func (s *Service) Authorize(w http.ResponseWriter, r *http.Request, ac *provider.AuthorizeContext) (*provider.Decision, error) {
	ctx := r.Context()
	var flow *selfservice.Flow
	if id := provider.FlowID(ctx); id != "" {
		f, err := s.Flows.LoadAny(ctx, id, selfservice.KindAuthorize)
		if err != nil && !errors.Is(err, selfservice.ErrFlowExpired) {
			return nil, fosite.ErrServerError.WithWrap(err)
		}
		flow = f
	}
	sess, err := s.Sessions.Current(r)
	if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	now := s.Now().UTC()
	requestedAt := now
	if flow != nil {
		requestedAt = flow.RequestedAt
	}
	prompts := fosite.Arguments(strings.Fields(ac.Form.Get("prompt")))

	var acct *account.Account
	if sess != nil {
		acct, err = s.Accounts.GetAccount(ctx, sess.AccountID)
		if errors.Is(err, storage.ErrNotFound) {
			sess, acct = nil, nil
		} else if err != nil {
			return nil, fosite.ErrServerError.WithWrap(err)
		}
	}
	if acct != nil && acct.Status != account.StatusActive {
		sess, acct = nil, nil
	}
	if s.needsLogin(sess, flow, ac, prompts, now) {
		if prompts.Has("none") {
			return nil, fosite.ErrLoginRequired.WithHint("The citizen is not signed in.")
		}
		return nil, s.redirectToPage(w, r, selfservice.PathLogin, flow, ac, requestedAt)
	}

	need, wantMFA, err := s.requirements(ac)
	if err != nil {
		return nil, err
	}
	if need.Rank() > acct.Level.Rank() {
		if prompts.Has("none") {
			return nil, errUnmet.WithHintf("The service requires the %s trust level; this account is %s.", need, acct.Level)
		}
		if flow == nil {
			flow = &selfservice.Flow{Kind: selfservice.KindAuthorize, ClientID: ac.Client.ID, Form: ac.Form, RequestedAt: requestedAt}
		}
		flow.AccountID = acct.ID
		return nil, s.redirectToPage(w, r, selfservice.PathLevel, flow, ac, requestedAt)
	}
	if wantMFA && !mfa.HasMFA(sess.AMR) {
		if s.Engine.Factors == nil {
			return nil, errUnmet.WithHint("The service requires sign-in with a second factor.")
		}
		if prompts.Has("none") {
			return nil, fosite.ErrInteractionRequired.WithHint("The service requires a second factor the session has not used.")
		}
		return nil, s.stepUp(w, r, acct, sess, flow, ac, requestedAt)
	}
	granted, claims, ok, err := s.consented(ctx, acct.ID, ac, prompts)
	if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	if !ok {
		if prompts.Has("none") {
			return nil, fosite.ErrConsentRequired.WithHint("The citizen has not consented to share the requested data.")
		}
		if flow == nil {
			flow = &selfservice.Flow{Kind: selfservice.KindAuthorize, ClientID: ac.Client.ID, Form: ac.Form, RequestedAt: requestedAt}
		}
		flow.AccountID = acct.ID
		return nil, s.redirectToPage(w, r, selfservice.PathConsent, flow, ac, requestedAt)
	}
	if flow != nil {
		if err := s.Flows.Delete(ctx, flow.ID); err != nil {
			s.Log().Warn("signin: end the authorization flow", "err", err)
		}
	}
	return &provider.Decision{
		Subject:       acct.ID,
		SessionID:     sess.ID,
		AuthTime:      sess.AuthTime,
		RequestedAt:   requestedAt,
		ACR:           account.SessionACR(acct.Level, mfa.HasMFA(sess.AMR)),
		AMR:           sess.AMR,
		GrantedScopes: granted,
		GrantedClaims: claims,
	}, nil
}

// errUnmet is OpenID Connect's unmet_authentication_requirements.
var errUnmet = &fosite.RFC6749Error{
	ErrorField:       "unmet_authentication_requirements",
	DescriptionField: "The authorization server cannot meet the authentication requirements of the request.",
	CodeField:        http.StatusForbidden,
}

// requirements returns the trust level and whether a second factor the
// request needs: the client's registered minimum and policy, the global
// setting, acr_values and the acr the claims parameter asks for (of several
// values, the weakest one gosid can satisfy is what the client asked for at
// least). An essential acr none of whose values gosid knows can never be
// met: unmet_authentication_requirements (OpenID Connect Core §5.5.1.1).
func (s *Service) requirements(ac *provider.AuthorizeContext) (account.Level, bool, error) {
	need := account.Level(ac.Client.MinLevel)
	wantMFA := ac.Client.RequireMFA || s.sf.RequireMFA()
	raise := func(acrs []string) bool {
		lowest, lowestMFA, known := account.Level(""), true, false
		for _, acr := range acrs {
			l, m, ok := account.ParseACR(acr)
			if !ok {
				continue
			}
			if !known || l.Rank() < lowest.Rank() || l.Rank() == lowest.Rank() && !m {
				lowest, lowestMFA, known = l, m, true
			}
		}
		if known {
			if lowest.Rank() > need.Rank() {
				need = lowest
			}
			wantMFA = wantMFA || lowestMFA
		}
		return known
	}
	raise(strings.Fields(ac.Form.Get("acr_values")))
	if acrs, essential := ac.Claims.ACR(); len(acrs) > 0 && !raise(acrs) && essential {
		return "", false, errUnmet.WithHint("None of the essential acr values is one gosid offers.")
	}
	return need, wantMFA, nil
}

// flowContext is the authorization request an authorization flow keeps,
// for deciding what it needs.
func flowContext(c *clients.Client, flow *selfservice.Flow) *provider.AuthorizeContext {
	// The claims parameter was checked when the request arrived.
	claims, _ := provider.RequestedClaims(flow.Form, c)
	return &provider.AuthorizeContext{Client: c, Form: flow.Form, Claims: claims}
}

// stepUp sends a signed-in citizen to the second-factor page; the
// authorization resumes when it is done.
func (s *Service) stepUp(w http.ResponseWriter, r *http.Request, acct *account.Account, sess *session.Session, flow *selfservice.Flow, ac *provider.AuthorizeContext, requestedAt time.Time) error {
	ctx := r.Context()
	if flow == nil {
		flow = &selfservice.Flow{Kind: selfservice.KindAuthorize, ClientID: ac.Client.ID, Form: ac.Form, RequestedAt: requestedAt}
	}
	flow.AccountID = acct.ID
	if err := s.Flows.Save(ctx, flow); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	v, err := s.sf.StartSecondFactor(ctx, false, acct, sess.AMR, secondfactor.PurposeStepUp, sess.ID, flow.ID, "", s.Meta(r))
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	s.Web.SetCookie(w, s.Web.CookieName(selfservice.FlowCookie(secondfactor.KindMFA)), v.FlowToken, s.Flows.TTL())
	http.Redirect(w, r, selfservice.PathSecondFactor+"?flow="+v.ID, http.StatusSeeOther)
	return nil
}

// needsLogin decides whether the citizen must (re-)authenticate: no
// session, prompt=login not yet satisfied within this flow, max_age
// exceeded, or a claims parameter demanding someone else.
func (s *Service) needsLogin(sess *session.Session, flow *selfservice.Flow, ac *provider.AuthorizeContext, prompts fosite.Arguments, now time.Time) bool {
	if sess == nil {
		return true
	}
	if prompts.Has("login") && (flow == nil || sess.AuthTime.Before(flow.RequestedAt)) {
		return true
	}
	// The claims parameter demands a citizen by sub (Core §5.5.1): someone
	// else signed in signs in again, once; the provider refuses a decision
	// about anybody but the one demanded.
	if subs, ok := ac.Claims.Subjects(); ok && !slices.Contains(subs, sess.AccountID) &&
		(flow == nil || sess.AuthTime.Before(flow.RequestedAt)) {
		return true
	}
	if ma := ac.Form.Get("max_age"); ma != "" {
		if secs, err := strconv.Atoi(ma); err == nil && secs >= 0 &&
			now.Sub(sess.AuthTime) > time.Duration(secs)*time.Second {
			return flow == nil || sess.AuthTime.Before(flow.RequestedAt)
		}
	}
	return false
}

// consented returns the scopes and claim items to grant and whether the
// citizen has agreed to all requested ones (first-party clients need no
// consent page). Claim items are the claims the claims parameter asks for
// beyond the requested scopes.
func (s *Service) consented(ctx context.Context, subject string, ac *provider.AuthorizeContext, prompts fosite.Arguments) ([]string, []string, bool, error) {
	requested := ac.Request.GetRequestedScopes()
	claims := ac.Claims.ItemNames(requested)
	if ac.Client.FirstParty {
		return requested, claims, true, nil
	}
	if prompts.Has("consent") {
		if flow := provider.FlowID(ctx); flow == "" {
			return nil, nil, false, nil
		}
	}
	ok, err := s.consent.Covers(ctx, subject, ac.Client.ID, slices.Concat(requested, claims))
	if err != nil || !ok {
		return nil, nil, false, err
	}
	return requested, claims, true, nil
}

func (s *Service) redirectToPage(w http.ResponseWriter, r *http.Request, path string, flow *selfservice.Flow, ac *provider.AuthorizeContext, requestedAt time.Time) error {
	if flow == nil {
		flow = &selfservice.Flow{Kind: selfservice.KindAuthorize, ClientID: ac.Client.ID, Form: ac.Form, RequestedAt: requestedAt}
	}
	if err := s.Flows.Save(r.Context(), flow); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	target := path + "?flow=" + flow.ID
	if lang := uiLocale(ac.Form.Get("ui_locales")); lang != "" {
		target += "&lang=" + lang
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// uiLocale is the first language of a ui_locales list (space-separated
// BCP 47 tags, preferred first) the pages speak: "ru", "en" or "".
func uiLocale(list string) string {
	for _, l := range strings.Fields(list) {
		if l == "en" || l == "ru" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "ru-") {
			return l[:2]
		}
	}
	return ""
}
