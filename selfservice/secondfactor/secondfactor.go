// Package secondfactor is the second factor of gosid's own flows: a
// challenge after the password (or later, as a step-up a relying service
// or a sensitive change asks for), turning factors on and off, recovery
// codes, and the security settings that list them. The methods themselves
// (authenticator app, SMS and e-mail codes, security keys, recovery codes)
// live in package mfa behind one Method interface; this package runs them
// as flows of the self-service engine, through both faces.
package secondfactor

import (
	"context"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gorilla/mux"

	"github.com/gosid/gosid/keys"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/notify"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
)

// Deps are what the second factor needs besides the engine.
type Deps struct {
	Engine *selfservice.Engine
	// Ephemeral keeps the recovery codes' attempt counter.
	Ephemeral storage.Ephemeral
	// Queue delivers the SMS and e-mail codes.
	Queue interface {
		Enqueue(ctx context.Context, m notify.Message) error
	}
	// Sealer seals authenticator secrets.
	Sealer *keys.Sealer
	// TOTP checks authenticator codes; TOTPIssuer names gosid in the app.
	TOTP       *mfa.Verifier
	TOTPIssuer string
	// WebAuthn runs security-key ceremonies; nil turns security keys off.
	WebAuthn *webauthn.WebAuthn
	// RecoveryKey keys the HMAC of stored recovery codes.
	RecoveryKey []byte
	// RequireMFA makes a second factor mandatory for every sign-in.
	RequireMFA bool
	// SetLoginNotice stores where sign-in notices go (the security page
	// carries the same select as the notification settings).
	SetLoginNotice func(ctx context.Context, accountID, value string) error
}

// Service runs the second factor's flows.
type Service struct {
	*selfservice.Engine
	d     Deps
	mfa   methodTable
	flows flows
}

// Validity of the codes sent as a second factor.
const (
	smsCodeTTL   = 5 * time.Minute
	emailCodeTTL = 10 * time.Minute
)

// New returns the service and serves its flows through the engine's API.
func New(d Deps) *Service {
	s := &Service{Engine: d.Engine, d: d, flows: flows{store: d.Engine.Flows}}
	s.mfa = s.newMethodTable()
	s.handleFlows()
	return s
}

// newMethodTable registers the methods; security keys only when WebAuthn
// is configured.
func (s *Service) newMethodTable() methodTable {
	e, d := s.Engine, s.d
	code := mfa.CodeDeps{Codes: e.Codes, Queue: d.Queue, Factors: e.Factors, Now: e.Now}
	rec := &mfa.RecoveryCodes{Key: d.RecoveryKey, Factors: e.Factors, Ephemeral: d.Ephemeral, Now: e.Now}
	ms := []mfa.Method{&mfa.Authenticator{Issuer: d.TOTPIssuer, Sealer: d.Sealer, Verifier: d.TOTP, Factors: e.Factors, Now: e.Now}}
	if d.WebAuthn != nil {
		ms = append(ms, &mfa.SecurityKey{WebAuthn: d.WebAuthn, Factors: e.Factors, Now: e.Now})
	}
	ms = append(ms, mfa.NewSMS(code, smsCodeTTL), mfa.NewEmail(code, emailCodeTTL), rec)
	return methodTable{Methods: mfa.NewMethods(ms...), recovery: rec}
}

// Register mounts the second factor's pages and API endpoints.
func (s *Service) Register(r *mux.Router) {
	s.registerPages(r)
	s.registerAPI(r.PathPrefix(selfservice.PathAPI).Subrouter())
}

// flow is a second-factor flow: the engine's record and this package's
// state in it. A challenge can also run inside another package's flow (the
// API's sign-in flow goes on to its second factor): the state is then kept
// in that flow's record under the same name.
type flow struct {
	*selfservice.Flow
	MFA    *challengeState
	Enroll *enrollState
}

// flowState is how a flow's own state is kept in the record.
type flowState struct {
	MFA    *challengeState `json:"mfa,omitempty"`
	Enroll *enrollState    `json:"enroll,omitempty"`
}

// flows keeps second-factor flows in the engine's flow store.
type flows struct{ store *selfservice.FlowStore }

func wrap(f *selfservice.Flow) (*flow, error) {
	var st flowState
	if err := f.Decode(&st); err != nil {
		return nil, err
	}
	return &flow{Flow: f, MFA: st.MFA, Enroll: st.Enroll}, nil
}

func (fs flows) encode(f *flow) error {
	return f.Encode(flowState{MFA: f.MFA, Enroll: f.Enroll})
}

func (fs flows) create(ctx context.Context, f *flow) (string, error) {
	if err := fs.encode(f); err != nil {
		return "", err
	}
	return fs.store.Create(ctx, f.Flow)
}

func (fs flows) save(ctx context.Context, f *flow) error {
	if err := fs.encode(f); err != nil {
		return err
	}
	return fs.store.Save(ctx, f.Flow)
}

func (fs flows) load(ctx context.Context, id, kind string, api bool, token string) (*flow, error) {
	f, err := fs.store.Load(ctx, id, kind, api, token)
	if err != nil {
		return nil, err
	}
	return wrap(f)
}

func (fs flows) delete(ctx context.Context, id string) error {
	if err := fs.store.Delete(ctx, id); err != nil {
		return fmt.Errorf("end flow: %w", err)
	}
	return nil
}

func (s *Service) view(f *flow) *selfservice.View { return s.View(f.Flow) }

// start stores a new flow and returns its view with the flow token.
func (s *Service) start(ctx context.Context, f *flow) (*selfservice.View, error) {
	token, err := s.flows.create(ctx, f)
	if err != nil {
		return nil, err
	}
	v := s.view(f)
	v.FlowToken = token
	return v, nil
}

// rejectInput returns a view with the error when the submitted fields are
// oversize, invalid UTF-8 or hold control characters; nil when they are fine.
func (s *Service) rejectInput(f *flow, in selfservice.Input, m selfservice.Meta) *selfservice.View {
	fe := selfservice.CheckInput(in)
	if fe == nil {
		return nil
	}
	v := s.view(f)
	s.AddErr(v, m, fe.Field, fe.Code)
	return v
}

// unknownAction answers an action the flow's state does not accept.
func (s *Service) unknownAction(f *flow, m selfservice.Meta) *selfservice.View {
	v := s.view(f)
	s.AddErr(v, m, "", "flow.error.action")
	return v
}

func newFlow(kind, state string, api bool, returnTo string) *flow {
	return &flow{Flow: &selfservice.Flow{Kind: kind, State: state, API: api, ReturnTo: returnTo}}
}

func withChallenge(f *flow, st *challengeState) *flow { f.MFA = st; return f }
func withEnroll(f *flow, st *enrollState) *flow       { f.Enroll = st; return f }
