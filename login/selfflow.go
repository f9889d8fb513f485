package login

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gosid/gosid/storage"
)

// Self-service flow kinds.
const (
	KindRegistration = "registration"
	KindRecovery     = "recovery"
	KindLogin        = "login"
)

// Flow states.
const (
	StateForm     = "form"     // the first form: data to enter
	StateConfirm  = "confirm"  // a code was sent; enter it
	StatePassword = "password" // recovery: choose a new password
	StateDone     = "done"     // finished
)

// SelfFlow is a registration or recovery in progress. The HTML pages and the
// JSON API drive the same flows; every flow has a secret flow token, which an
// app presents as a bearer token and a browser keeps in a cookie, so knowing
// a flow's id is not enough to drive it.
type SelfFlow struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	State string `json:"state"`
	// API marks a flow started through the JSON API; TokenMAC is the HMAC of
	// its flow token.
	API      bool   `json:"api,omitempty"`
	TokenMAC string `json:"token_mac,omitempty"`
	// ReturnTo is an authorization flow to resume when this flow finishes.
	ReturnTo  string       `json:"return_to,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	ExpiresAt time.Time    `json:"expires_at"`
	Reg       *regState    `json:"reg,omitempty"`
	Rec       *recState    `json:"rec,omitempty"`
	MFA       *mfaState    `json:"mfa,omitempty"`
	Enroll    *enrollState `json:"enroll,omitempty"`
}

// regState is what a registration carries between steps. The password is
// hashed as soon as it is submitted; the plaintext is never stored.
type regState struct {
	FamilyName   string    `json:"family_name"`
	GivenName    string    `json:"given_name"`
	MiddleName   string    `json:"middle_name,omitempty"`
	Phone        string    `json:"phone,omitempty"`
	Email        string    `json:"email,omitempty"`
	PasswordHash string    `json:"password_hash"`
	ConsentAt    time.Time `json:"consent_at"`
	// Channel is the contact being confirmed: "phone" or "email".
	Channel string `json:"channel"`
	// Existing marks a contact that already has an account: no code was
	// sent (its owner was warned instead), and no code will be accepted.
	Existing bool `json:"existing,omitempty"`
}

// recState is what a recovery carries between steps.
type recState struct {
	Channel   string `json:"channel"`
	Contact   string `json:"contact"`
	AccountID string `json:"account_id,omitempty"`
	Verified  bool   `json:"verified,omitempty"`
	// Taken marks a contact of another account (contact flow): no code is
	// sent and none is accepted.
	Taken bool `json:"taken,omitempty"`
}

const kvSelfFlow = "login:self:"

// ErrFlowToken means an API flow was addressed without its flow token.
var ErrFlowToken = errors.New("login: missing or wrong flow token")

type selfFlowStore struct {
	eph storage.Ephemeral
	ttl time.Duration
	key []byte
}

func (s *selfFlowStore) tokenMAC(token string) string {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// create stores a new flow and returns its flow token.
func (s *selfFlowStore) create(ctx context.Context, f *SelfFlow, now time.Time) (string, error) {
	f.ID = randomToken(18)
	f.CreatedAt = now
	f.ExpiresAt = now.Add(s.ttl)
	token := randomToken(32)
	f.TokenMAC = s.tokenMAC(token)
	return token, s.save(ctx, f)
}

func (s *selfFlowStore) save(ctx context.Context, f *SelfFlow) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return err
	}
	ttl := time.Until(f.ExpiresAt)
	if ttl <= 0 {
		return ErrFlowExpired
	}
	if err := s.eph.Put(ctx, kvSelfFlow+f.ID, raw, ttl); err != nil {
		return fmt.Errorf("login: save flow: %w", err)
	}
	return nil
}

// load returns the flow of the given kind if token is its flow token;
// browser flows are refused to API callers and vice versa.
func (s *selfFlowStore) load(ctx context.Context, id, kind string, api bool, token string) (*SelfFlow, error) {
	f, err := s.loadAny(ctx, id, kind)
	if err != nil {
		return nil, err
	}
	if f.API != api {
		return nil, ErrFlowExpired
	}
	if !hmac.Equal([]byte(s.tokenMAC(token)), []byte(f.TokenMAC)) {
		return nil, ErrFlowToken
	}
	return f, nil
}

func (s *selfFlowStore) delete(ctx context.Context, id string) error {
	return s.eph.Delete(ctx, kvSelfFlow+id)
}

// loadAny returns a flow of the given kind without checking its token: only
// for the e-mail link, whose own single-use token is the proof.
func (s *selfFlowStore) loadAny(ctx context.Context, id, kind string) (*SelfFlow, error) {
	if id == "" || len(id) > 64 {
		return nil, ErrFlowExpired
	}
	raw, err := s.eph.Get(ctx, kvSelfFlow+id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrFlowExpired
	} else if err != nil {
		return nil, fmt.Errorf("login: load flow: %w", err)
	}
	var f SelfFlow
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("login: decode flow: %w", err)
	}
	if f.Kind != kind {
		return nil, ErrFlowExpired
	}
	return &f, nil
}
