package mfa

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gosid/gosid/account"
)

// SecurityKey is the WebAuthn method: a security key or a passkey. An
// account may hold several; each credential is registered once across all
// accounts (the store refuses a second).
type SecurityKey struct {
	WebAuthn *webauthn.WebAuthn
	Factors  Store
	Now      func() time.Time
}

var _ interface {
	Ceremony
	Enroller
} = (*SecurityKey)(nil)

func (*SecurityKey) Kind() string { return KindWebAuthn }

// AMR is "hwk" only for a key reached over USB, NFC or Bluetooth; a
// platform authenticator or a synced passkey is "swk".
func (*SecurityKey) AMR(f *Factor) string {
	if f != nil && isHardwareKey(f) {
		return "hwk"
	}
	return "swk"
}

func isHardwareKey(f *Factor) bool {
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

func (*SecurityKey) Usable(_ context.Context, s *Subject) (bool, error) {
	return s.factor(KindWebAuthn) != nil, nil
}

// BeginCheck starts an assertion ceremony over the account's keys.
func (m *SecurityKey) BeginCheck(_ context.Context, c *Challenge) (json.RawMessage, error) {
	opts, session, err := m.WebAuthn.BeginLogin(newWebAuthnUser(&c.Subject))
	if err != nil {
		return nil, fmt.Errorf("mfa: webauthn begin: %w", err)
	}
	if c.State, err = json.Marshal(session); err != nil {
		return nil, fmt.Errorf("mfa: webauthn session: %w", err)
	}
	return json.Marshal(opts)
}

// Check validates the assertion. Only a signature the library refuses is
// an attempt; a missing ceremony, an unreadable response or a credential
// of no factor of the account are refused without counting.
func (m *SecurityKey) Check(ctx context.Context, c *Challenge, in Answer) (*Factor, error) {
	var session webauthn.SessionData
	if len(c.State) == 0 || json.Unmarshal(c.State, &session) != nil {
		return nil, ErrRefused
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(in.Credential)
	if err != nil {
		return nil, ErrRefused
	}
	cred, err := m.WebAuthn.ValidateLogin(newWebAuthnUser(&c.Subject), session, parsed)
	if err != nil {
		return nil, attempt(fmt.Errorf("%w: %v", ErrRefused, err))
	}
	c.State = nil
	id := base64.RawURLEncoding.EncodeToString(cred.ID)
	for _, f := range c.Factors {
		if f.Kind == KindWebAuthn && f.CredentialID == id {
			raw, err := json.Marshal(cred)
			if err != nil {
				return nil, fmt.Errorf("mfa: webauthn credential: %w", err)
			}
			// The stored credential takes the new sign counter.
			if err := m.Factors.UpdateFactorUse(ctx, c.Account.ID, f.ID, m.Now().UTC(), raw); err != nil {
				return nil, fmt.Errorf("mfa: record webauthn use: %w", err)
			}
			return f, nil
		}
	}
	return nil, ErrRefused
}

// BeginEnroll starts a registration ceremony that excludes the keys the
// account has; a page shown again calls it anew.
func (m *SecurityKey) BeginEnroll(_ context.Context, e *Enrolment) (*Setup, error) {
	u := newWebAuthnUser(&e.Subject)
	opts, session, err := m.WebAuthn.BeginRegistration(u,
		webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementDiscouraged, UserVerification: protocol.VerificationPreferred}))
	if err != nil {
		return nil, fmt.Errorf("mfa: webauthn begin registration: %w", err)
	}
	if e.State, err = json.Marshal(session); err != nil {
		return nil, fmt.Errorf("mfa: webauthn session: %w", err)
	}
	raw, err := json.Marshal(opts)
	if err != nil {
		return nil, fmt.Errorf("mfa: webauthn options: %w", err)
	}
	return &Setup{Options: raw}, nil
}

// Pending shows nothing: the options are good for one ceremony.
func (*SecurityKey) Pending(*Enrolment) (*Setup, error) { return nil, nil }

// FinishEnroll checks the attestation and returns the new key.
func (m *SecurityKey) FinishEnroll(_ context.Context, e *Enrolment, in Answer) (*Factor, error) {
	var session webauthn.SessionData
	if json.Unmarshal(e.State, &session) != nil {
		return nil, ErrRefused
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(in.Credential)
	if err != nil {
		return nil, ErrRefused
	}
	cred, err := m.WebAuthn.CreateCredential(newWebAuthnUser(&e.Subject), session, parsed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	f := newFactor(e, KindWebAuthn, m.Now().UTC())
	if f.Secret, err = json.Marshal(cred); err != nil {
		return nil, fmt.Errorf("mfa: webauthn credential: %w", err)
	}
	f.CredentialID = base64.RawURLEncoding.EncodeToString(cred.ID)
	if f.Name = in.Name; f.Name == "" {
		f.Name = "WebAuthn"
	}
	return f, nil
}

// webAuthnUser adapts an account and its keys to go-webauthn.
type webAuthnUser struct {
	a     *account.Account
	creds []webauthn.Credential
}

func newWebAuthnUser(s *Subject) *webAuthnUser {
	u := &webAuthnUser{a: s.Account}
	for _, f := range s.Factors {
		if f.Kind != KindWebAuthn {
			continue
		}
		var c webauthn.Credential
		if json.Unmarshal(f.Secret, &c) == nil {
			u.creds = append(u.creds, c)
		}
	}
	return u
}

func (u *webAuthnUser) WebAuthnID() []byte                         { return []byte(u.a.ID) }
func (u *webAuthnUser) WebAuthnName() string                       { return Label(u.a) }
func (u *webAuthnUser) WebAuthnDisplayName() string                { return u.a.GivenName + " " + u.a.FamilyName }
func (u *webAuthnUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }
