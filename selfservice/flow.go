package selfservice

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/pii"
	"github.com/gosid/gosid/storage"
)

// Flow is one pass of a citizen through a self-service flow, or an
// authorization (or logout) request being served on gosid's pages. Every
// flow has this one record, kept in the short-lived store so that any node
// serves any step, and disappearing by itself when it expires.
type Flow struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	State string `json:"state,omitempty"`
	// API marks a flow started through the JSON API (a browser's flow is
	// refused to API callers and vice versa); TokenMAC is the HMAC of its
	// flow token. An authorization request has no token: it is bound to
	// the session that signs in for it.
	API      bool   `json:"api,omitempty"`
	TokenMAC string `json:"token_mac,omitempty"`
	// ReturnTo is an authorization flow to resume when this one finishes.
	ReturnTo  string    `json:"return_to,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`

	// ClientID, Form and RequestedAt describe the authorization (or
	// logout) request being served; AccountID and LoginAt are set once
	// the citizen signed in for it.
	ClientID    string     `json:"client_id,omitempty"`
	Form        url.Values `json:"form,omitempty"`
	RequestedAt time.Time  `json:"requested_at,omitempty"`
	AccountID   string     `json:"account_id,omitempty"`
	LoginAt     time.Time  `json:"login_at,omitempty"`

	// Data is the flow's own state, kept by the package that runs it.
	Data json.RawMessage `json:"data,omitempty"`
}

// Kinds of flow the engine itself knows: requests of relying services.
const (
	KindAuthorize = "authorize"
	KindLogout    = "logout"
)

// Flow states shared by the flows.
const (
	StateForm    = "form"    // the first form: data to enter
	StateConfirm = "confirm" // a code was sent; enter it
	StateDone    = "done"    // finished
)

// ErrFlowExpired means the flow is unknown, of another kind, of the other
// face, or has expired.
var ErrFlowExpired = errors.New("selfservice: flow expired")

// ErrFlowToken means a flow was addressed without its flow token.
var ErrFlowToken = errors.New("selfservice: missing or wrong flow token")

// FlowCipher seals flow records: the envelope encryption of personal data
// (*pii.Cipher), so a flow's state — a registrant's names, contacts and
// password hash, an authorization request's login hint — is never in clear
// in Redis or the embedded store's short-lived table.
type FlowCipher interface {
	Encrypt(plaintext, aad []byte) ([]byte, error)
	Decrypt(ctx context.Context, ct, aad []byte) ([]byte, error)
}

// FlowStore keeps flows in the short-lived store, each record sealed.
type FlowStore struct {
	eph    storage.Ephemeral
	ttl    time.Duration
	key    []byte
	cipher FlowCipher
	now    func() time.Time
}

// NewFlowStore returns a store whose flows live ttl; key (32 bytes) keys
// the HMAC of flow tokens and cipher seals every flow record (it must not be
// nil).
func NewFlowStore(eph storage.Ephemeral, ttl time.Duration, key []byte, cipher FlowCipher, now func() time.Time) *FlowStore {
	if cipher == nil {
		panic("selfservice: NewFlowStore without a cipher")
	}
	if now == nil {
		now = time.Now
	}
	return &FlowStore{eph: eph, ttl: ttl, key: key, cipher: cipher, now: now}
}

// flowAAD binds a sealed flow record to its id and kind: a record copied
// under another id, or read as another kind of flow, does not open.
func flowAAD(id, kind string) []byte {
	return pii.AAD("selfservice flow", id, kind)
}

const kvFlow = "selfservice:flow:"

// maxFlowID bounds an id taken from a request before it reaches the store.
const maxFlowID = 64

// RandomToken returns n random bytes, base64url-encoded: flow ids, flow
// tokens and record ids.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *FlowStore) tokenMAC(token string) string {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// TTL is how long a flow lives.
func (s *FlowStore) TTL() time.Duration { return s.ttl }

// Create stores a new flow with a flow token and returns the token; the
// store keeps only its HMAC.
func (s *FlowStore) Create(ctx context.Context, f *Flow) (string, error) {
	s.stamp(f)
	token := RandomToken(32)
	f.TokenMAC = s.tokenMAC(token)
	return token, s.Save(ctx, f)
}

// stamp gives a new flow its id and lifetime.
func (s *FlowStore) stamp(f *Flow) {
	now := s.now().UTC()
	f.ID = RandomToken(18)
	f.CreatedAt, f.ExpiresAt = now, now.Add(s.ttl)
}

// Save stores f until it expires; a flow without an id (an authorization
// request) is given one and its lifetime first.
func (s *FlowStore) Save(ctx context.Context, f *Flow) error {
	if f.ID == "" {
		s.stamp(f)
	}
	ttl := f.ExpiresAt.Sub(s.now())
	if ttl <= 0 {
		return ErrFlowExpired
	}
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("selfservice: encode flow: %w", err)
	}
	sealed, err := s.cipher.Encrypt(raw, flowAAD(f.ID, f.Kind))
	if err != nil {
		return fmt.Errorf("selfservice: seal flow: %w", err)
	}
	if err := s.eph.Put(ctx, kvFlow+f.ID, sealed, ttl); err != nil {
		return fmt.Errorf("selfservice: save flow: %w", err)
	}
	return nil
}

// Load returns the flow of the given kind if token is its flow token;
// browser flows are refused to API callers and vice versa.
func (s *FlowStore) Load(ctx context.Context, id, kind string, api bool, token string) (*Flow, error) {
	f, err := s.LoadAny(ctx, id, kind)
	if err != nil {
		return nil, err
	}
	if f.API != api {
		return nil, ErrFlowExpired
	}
	if f.TokenMAC == "" || !hmac.Equal([]byte(s.tokenMAC(token)), []byte(f.TokenMAC)) {
		return nil, ErrFlowToken
	}
	return f, nil
}

// LoadAny returns a flow of the given kind without checking a token: for
// authorization requests (bound to a session instead) and for the e-mail
// link, whose own single-use token is the proof.
func (s *FlowStore) LoadAny(ctx context.Context, id, kind string) (*Flow, error) {
	if len(id) > maxFlowID || !httpx.ValidID(id) {
		return nil, ErrFlowExpired
	}
	sealed, err := s.eph.Get(ctx, kvFlow+id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrFlowExpired
	} else if err != nil {
		return nil, fmt.Errorf("selfservice: load flow: %w", err)
	}
	// A record of another kind does not open under this kind's aad; nor
	// does one written in clear before flows were sealed, or one altered:
	// all of them are, for the citizen, an expired flow.
	raw, err := s.cipher.Decrypt(ctx, sealed, flowAAD(id, kind))
	if errors.Is(err, pii.ErrDecrypt) || errors.Is(err, pii.ErrUnknownKey) {
		return nil, ErrFlowExpired
	} else if err != nil {
		return nil, fmt.Errorf("selfservice: open flow: %w", err)
	}
	var f Flow
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("selfservice: decode flow: %w", err)
	}
	if f.Kind != kind || f.ID != id {
		return nil, ErrFlowExpired
	}
	return &f, nil
}

// Delete removes a flow; a missing one is not an error.
func (s *FlowStore) Delete(ctx context.Context, id string) error {
	if err := s.eph.Delete(ctx, kvFlow+id); err != nil {
		return fmt.Errorf("selfservice: delete flow: %w", err)
	}
	return nil
}

// Decode reads the flow's own state into v (nothing when there is none).
func (f *Flow) Decode(v any) error {
	if len(f.Data) == 0 {
		return nil
	}
	if err := json.Unmarshal(f.Data, v); err != nil {
		return fmt.Errorf("selfservice: decode %s flow state: %w", f.Kind, err)
	}
	return nil
}

// Encode stores v as the flow's own state.
func (f *Flow) Encode(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("selfservice: encode %s flow state: %w", f.Kind, err)
	}
	f.Data = raw
	return nil
}
