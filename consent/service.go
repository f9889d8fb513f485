package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gosid/gosid/claimsreq"
	"github.com/gosid/gosid/storage"
)

// Tokens is what consent needs of the OAuth side: which services hold a
// citizen's tokens (a first-party service needs no consent but still holds
// a grant), and revoking them.
type Tokens interface {
	ClientsWithGrants(ctx context.Context, subject string) ([]string, error)
	RevokeSubject(ctx context.Context, subject, clientID string) error
}

// Service decides whether a citizen has agreed to what a service asks,
// remembers what they agreed to, lists the connected services and
// withdraws a service's access.
type Service struct {
	store  Store
	tokens Tokens
	now    func() time.Time
}

// New returns the consent service; now may be nil (time.Now).
func New(store Store, tokens Tokens, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, tokens: tokens, now: now}
}

// Covers reports whether the citizen's remembered consent to the client
// covers every requested item: scopes, and claims asked for one by one
// (claimsreq items, covered by their own consent or their scope's).
func (s *Service) Covers(ctx context.Context, subject, clientID string, requested []string) (bool, error) {
	g, err := s.store.GetConsent(ctx, subject, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("consent: load: %w", err)
	}
	for _, it := range requested {
		if !claimsreq.Covered(g.Scopes, it) {
			return false, nil
		}
	}
	return true, nil
}

// Remember records that the citizen agreed to scopes (and claim items),
// together with what
// they agreed to before, so that a later request for the same or fewer
// scopes goes through without asking again. Two consents given at once
// (two tabs, two services' scopes) both count.
func (s *Service) Remember(ctx context.Context, subject, clientID string, scopes []string) error {
	now := s.now().UTC()
	err := s.store.UpdateConsent(ctx, subject, clientID, now, func(g *Grant) error {
		for _, sc := range scopes {
			if !slices.Contains(g.Scopes, sc) {
				g.Scopes = append(g.Scopes, sc)
			}
		}
		g.UpdatedAt = now
		return nil
	})
	if err != nil {
		return fmt.Errorf("consent: remember: %w", err)
	}
	return nil
}

// Connection is a service connected to a citizen's account: it holds their
// consent, a live grant, or both.
type Connection struct {
	ClientID string
	// Scopes and GrantedAt are those of the consent (empty for a service
	// that holds a grant without one).
	Scopes    []string
	GrantedAt time.Time
}

// Connected lists the services connected to the citizen's account: first
// those holding a consent, then those holding only a grant.
func (s *Service) Connected(ctx context.Context, subject string) ([]Connection, error) {
	grants, err := s.store.ListConsents(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("consent: list: %w", err)
	}
	holding, err := s.tokens.ClientsWithGrants(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("consent: services holding grants: %w", err)
	}
	out := make([]Connection, 0, len(grants)+len(holding))
	seen := map[string]bool{}
	for _, g := range grants {
		if !seen[g.ClientID] {
			seen[g.ClientID] = true
			out = append(out, Connection{ClientID: g.ClientID, Scopes: g.Scopes, GrantedAt: g.GrantedAt})
		}
	}
	for _, id := range holding {
		if !seen[id] {
			seen[id] = true
			out = append(out, Connection{ClientID: id})
		}
	}
	return out, nil
}

// Revoke withdraws the citizen's consent to a service and revokes every
// token it holds for them (refresh tokens at once, access tokens through
// the deny-list). storage.ErrNotFound means the service held neither.
// Tokens go first: a failure then leaves the consent in place to be
// revoked again, never a service that lost its consent but kept its tokens.
func (s *Service) Revoke(ctx context.Context, subject, clientID string) error {
	list, err := s.Connected(ctx, subject)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list, func(c Connection) bool { return c.ClientID == clientID }) {
		return storage.ErrNotFound
	}
	if err := s.tokens.RevokeSubject(ctx, subject, clientID); err != nil {
		return fmt.Errorf("consent: revoke tokens: %w", err)
	}
	if err := s.store.DeleteConsent(ctx, subject, clientID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("consent: delete: %w", err)
	}
	return nil
}
