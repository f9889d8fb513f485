// Package federation is partner banks as upstream OpenID providers, in the
// shape of Dex's connectors: a bank is a Connector, and adding a bank is
// configuration (Bank), not code. Package federation/oidc is the one kind
// of connector there is (authorization code + PKCE against the bank's
// discovery); federation/devbank is a development stand-in bank.
//
// What a bank returns is never trusted on its own: an Identity is only the
// bank's word, tied to its stable (issuer, subject) pair. Whoever uses it
// (selfservice/bank) links it to an account only when the identifiers the
// bank vouches for match the account's registry-verified data, never by
// e-mail or phone alone (Keycloak's auto-link-by-email was an account
// takeover path).
package federation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"time"
)

// Field is an identity field a bank may vouch for.
type Field string

// The identity fields gosid compares with registry-verified data.
const (
	FamilyName Field = "family_name"
	GivenName  Field = "given_name"
	MiddleName Field = "middle_name"
	BirthDate  Field = "birth_date"
	SNILS      Field = "snils"
	INN        Field = "inn"
	Passport   Field = "passport"
	Phone      Field = "phone"
)

// Fields lists every field in the order pages show them.
var Fields = []Field{FamilyName, GivenName, MiddleName, BirthDate, SNILS, INN, Passport, Phone}

// Bank is one partner bank's configuration (YAML `banks:`).
type Bank struct {
	// ID names the bank in URLs, links and the audit trail; never change it
	// once citizens have linked the bank.
	ID     string `yaml:"id"`
	NameRU string `yaml:"name_ru"`
	NameEN string `yaml:"name_en"`
	// Logo is a URL of the bank's logo for the choice of banks.
	Logo string `yaml:"logo"`
	// Issuer is the bank's OpenID issuer; its discovery document is
	// fetched from Issuer + "/.well-known/openid-configuration".
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecret selects client_secret_basic; PrivateKey (a PEM file
	// with an RSA or EC key) selects private_key_jwt and wins when both
	// are set. KeyID is the "kid" the bank knows the key by.
	ClientSecret string `yaml:"client_secret"`
	PrivateKey   string `yaml:"private_key"`
	KeyID        string `yaml:"key_id"`
	// Scopes asked for besides "openid".
	Scopes []string `yaml:"scopes"`
	// Claims maps an identity field to the claim that carries it at this
	// bank (banks differ); fields not named use the field's own name.
	Claims map[Field]string `yaml:"claims"`
	// Vouches lists the fields the bank verifies itself and that must
	// match the account's verified data for a confirmation.
	Vouches []Field `yaml:"vouches"`
	// MinACR, when set, is the acr the bank's id_token must carry (exactly
	// or as one of AcceptACR).
	MinACR    string   `yaml:"min_acr"`
	AcceptACR []string `yaml:"accept_acr"`
	// Enabled banks are offered to citizens.
	Enabled bool `yaml:"enabled"`
}

// Name is the bank's display name in lang ("ru" or "en").
func (b *Bank) Name(lang string) string {
	if lang == "en" && b.NameEN != "" {
		return b.NameEN
	}
	if b.NameRU != "" {
		return b.NameRU
	}
	return b.ID
}

// Claim is the claim that carries f at this bank.
func (b *Bank) Claim(f Field) string {
	if c := b.Claims[f]; c != "" {
		return c
	}
	return string(f)
}

// Vouch reports whether the bank vouches for f.
func (b *Bank) Vouch(f Field) bool { return slices.Contains(b.Vouches, f) }

// Validate checks a bank's configuration.
func (b *Bank) Validate() error {
	if b.ID == "" || len(b.ID) > 40 {
		return errors.New("federation: a bank needs an id of at most 40 characters")
	}
	for _, r := range b.ID {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("federation: bank %q: the id takes a-z, 0-9, - and _", b.ID)
		}
	}
	u, err := url.Parse(b.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("federation: bank %s: issuer %q is not an http(s) URL", b.ID, b.Issuer)
	}
	if b.ClientID == "" || (b.ClientSecret == "" && b.PrivateKey == "") {
		return fmt.Errorf("federation: bank %s: client_id and a client_secret or private_key are required", b.ID)
	}
	// A bank that vouches for no identifier cannot confirm anyone: names
	// and a birth date alone are not unique.
	if !b.Vouch(SNILS) && !b.Vouch(INN) && !b.Vouch(Passport) {
		return fmt.Errorf("federation: bank %s: vouches must include snils, inn or passport", b.ID)
	}
	for _, f := range b.Vouches {
		if !slices.Contains(Fields, f) {
			return fmt.Errorf("federation: bank %s: unknown field %q in vouches", b.ID, f)
		}
	}
	for f := range b.Claims {
		if !slices.Contains(Fields, f) {
			return fmt.Errorf("federation: bank %s: unknown field %q in claims", b.ID, f)
		}
	}
	return nil
}

// Identity is what a bank said about the citizen who signed in there.
// Values are as the bank sent them, normalised only in form (SNILS and
// INN digits, ISO dates); matching is the caller's business.
type Identity struct {
	Bank    string `json:"bank"`
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	// Values holds the identity fields the bank returned.
	Values map[Field]string `json:"values"`
	// ACR and AMR are the bank's own assurance of the sign-in.
	ACR string   `json:"acr,omitempty"`
	AMR []string `json:"amr,omitempty"`
}

// Errors a connector returns; pages map them to the seed's messages.
var (
	// ErrUnavailable: the bank did not answer, or answered nonsense
	// («Ошибка соединения»).
	ErrUnavailable = errors.New("federation: the bank is unavailable")
	// ErrRefused: the bank refused the sign-in or the citizen cancelled
	// («Отказ в аутентификации»).
	ErrRefused = errors.New("federation: the bank refused the authentication")
	// ErrInvalid: the answer failed a protocol check (state, nonce, iss,
	// signature, acr); treated as a refusal, logged as an attack.
	ErrInvalid = errors.New("federation: the bank's answer is invalid")
)

// Request is one authorization request to a bank: its secrets stay with
// gosid (in the short-lived store, keyed by State) until the callback.
type Request struct {
	Bank     string `json:"bank"`
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

// Connector is one upstream bank.
type Connector interface {
	// AuthURL is where the citizen's browser goes to sign in at the bank.
	// It fails with ErrUnavailable when the bank's discovery cannot be
	// fetched.
	AuthURL(ctx context.Context, req *Request) (string, error)
	// Callback finishes req with the bank's answer (the redirect's query):
	// it exchanges the code, checks the id_token and returns the identity.
	// The caller has matched the state to req already.
	Callback(ctx context.Context, req *Request, answer url.Values) (*Identity, error)
}

// Registry holds the configured banks and their connectors.
type Registry struct {
	banks map[string]*Bank
	conns map[string]Connector
}

// NewRegistry returns a registry of banks, each with the connector open
// makes for it.
func NewRegistry(banks []Bank, open func(*Bank) (Connector, error)) (*Registry, error) {
	r := &Registry{banks: map[string]*Bank{}, conns: map[string]Connector{}}
	for i := range banks {
		b := &banks[i]
		if err := b.Validate(); err != nil {
			return nil, err
		}
		if _, dup := r.banks[b.ID]; dup {
			return nil, fmt.Errorf("federation: bank %s is configured twice", b.ID)
		}
		c, err := open(b)
		if err != nil {
			return nil, fmt.Errorf("federation: bank %s: %w", b.ID, err)
		}
		r.banks[b.ID], r.conns[b.ID] = b, c
	}
	return r, nil
}

// Add registers a bank with its connector (the development bank).
func (r *Registry) Add(b *Bank, c Connector) error {
	if err := b.Validate(); err != nil {
		return err
	}
	r.banks[b.ID], r.conns[b.ID] = b, c
	return nil
}

// Bank returns an enabled bank and its connector.
func (r *Registry) Bank(id string) (*Bank, Connector, bool) {
	if r == nil {
		return nil, nil, false
	}
	b, ok := r.banks[id]
	if !ok || !b.Enabled {
		return nil, nil, false
	}
	return b, r.conns[id], true
}

// Enabled lists the enabled banks by id.
func (r *Registry) Enabled() []*Bank {
	if r == nil {
		return nil
	}
	var out []*Bank
	for _, b := range r.banks {
		if b.Enabled {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// All lists every configured bank by id (for `gosid banks list`).
func (r *Registry) All() []*Bank {
	out := make([]*Bank, 0, len(r.banks))
	for _, b := range r.banks {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Link ties a bank identity to an account.
type Link struct {
	Bank       string    `json:"bank"`
	Subject    string    `json:"-"`
	Issuer     string    `json:"-"`
	AccountID  string    `json:"-"`
	LinkedAt   time.Time `json:"linked_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// LinkStore keeps the links; storage/sqlstore implements it.
type LinkStore interface {
	// CreateLink adds a link; storage.ErrConflict when the bank identity
	// backs an account already (this one or another).
	CreateLink(ctx context.Context, l *Link) error
	// LinkBySubject returns the link of a bank identity or
	// storage.ErrNotFound.
	LinkBySubject(ctx context.Context, bank, subject string) (*Link, error)
	// ListLinks lists an account's links.
	ListLinks(ctx context.Context, accountID string) ([]Link, error)
	// TouchLink records a sign-in through the link.
	TouchLink(ctx context.Context, bank, subject string, at time.Time) error
	// DeleteLink removes the account's link to bank; storage.ErrNotFound
	// when there is none.
	DeleteLink(ctx context.Context, accountID, bank string) error
}
