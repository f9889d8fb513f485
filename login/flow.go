package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/gosid/gosid/storage"
)

// Flow is one pass through the hosted pages on behalf of an authorization
// request (or a logout). It lives in the short-lived store; any node can
// serve any step.
type Flow struct {
	ID       string     `json:"id"`
	Kind     string     `json:"kind"`
	ClientID string     `json:"client_id"`
	Form     url.Values `json:"form"`
	// RequestedAt is when the authorization request first arrived.
	RequestedAt time.Time `json:"requested_at"`
	// AccountID is set once the citizen has signed in within this flow.
	AccountID string    `json:"account_id,omitempty"`
	LoginAt   time.Time `json:"login_at,omitempty"`
}

// Flow kinds.
const (
	FlowAuthorize = "authorize"
	FlowLogout    = "logout"
)

const kvFlow = "login:flow:"

// ErrFlowExpired means the flow is unknown or has expired.
var ErrFlowExpired = errors.New("login: flow expired")

type flowStore struct {
	eph storage.Ephemeral
	ttl time.Duration
}

func (s *flowStore) save(ctx context.Context, f *Flow) error {
	if f.ID == "" {
		f.ID = randomToken(18)
	}
	raw, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := s.eph.Put(ctx, kvFlow+f.ID, raw, s.ttl); err != nil {
		return fmt.Errorf("login: save flow: %w", err)
	}
	return nil
}

func (s *flowStore) load(ctx context.Context, id string, kind string) (*Flow, error) {
	if id == "" || len(id) > 64 {
		return nil, ErrFlowExpired
	}
	raw, err := s.eph.Get(ctx, kvFlow+id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrFlowExpired
	} else if err != nil {
		return nil, fmt.Errorf("login: load flow: %w", err)
	}
	var f Flow
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("login: decode flow: %w", err)
	}
	if f.Kind != kind {
		return nil, ErrFlowExpired
	}
	return &f, nil
}

func (s *flowStore) delete(ctx context.Context, id string) error {
	return s.eph.Delete(ctx, kvFlow+id)
}
