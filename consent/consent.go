// Package consent owns the citizen's decisions to share data with relying
// services: remembered per client and scope set, listed and revocable.
package consent

import (
	"context"
	"time"
)

// Grant is what a citizen agreed to share with one client.
type Grant struct {
	Subject  string
	ClientID string
	// Scopes are the scopes agreed to, and the claims agreed to one by one
	// (a claims request beyond the scopes) as claimsreq items
	// ("claim:given_name").
	Scopes    []string
	GrantedAt time.Time
	UpdatedAt time.Time
}

// Store is the persistence port for consent decisions. Get returns
// storage.ErrNotFound when the citizen never consented to the client.
type Store interface {
	GetConsent(ctx context.Context, subject, clientID string) (*Grant, error)
	// SaveConsent creates or replaces the grant for (Subject, ClientID).
	SaveConsent(ctx context.Context, g *Grant) error
	// UpdateConsent changes the grant for (subject, clientID) with fn, as
	// one atomic read-change-write; a missing grant is given to fn empty,
	// granted at now. An error from fn writes nothing.
	UpdateConsent(ctx context.Context, subject, clientID string, now time.Time, fn func(g *Grant) error) error
	DeleteConsent(ctx context.Context, subject, clientID string) error
	ListConsents(ctx context.Context, subject string) ([]*Grant, error)
}
