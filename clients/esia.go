package clients

import (
	"context"
	"time"
)

// ESIA is what an ESIA-style client (#16) registers besides its client
// record: the certificate its client_secret signatures are checked
// against, the redirect domains ESIA whitelists, and the algorithm gosid
// signs its tokens with.
type ESIA struct {
	ClientID string
	// Certificate is the PEM of the client's certificate (RSA or GOST R
	// 34.10-2012).
	Certificate string
	// RedirectDomains are host names; a redirect_uri on one of them (or
	// equal to one of the client's RedirectURIs) is allowed.
	RedirectDomains []string
	// SigningAlg is RS256 or GOST3410_2012_256.
	SigningAlg string
	CreatedAt  time.Time
}

// ESIAStore keeps ESIA registrations and the citizens' oids.
// GetESIAClient returns storage.ErrNotFound for a client that is not
// ESIA-style. ESIAOid returns the account's oid, assigning the next
// number on first use (unique, never reused); AccountByESIAOid returns
// storage.ErrNotFound for an oid never assigned.
type ESIAStore interface {
	PutESIAClient(ctx context.Context, e *ESIA) error
	GetESIAClient(ctx context.Context, clientID string) (*ESIA, error)
	ESIAOid(ctx context.Context, accountID string) (int64, error)
	AccountByESIAOid(ctx context.Context, oid int64) (string, error)
}
