package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/gosid/gosid/clients"
)

// The esia_clients and esia_oids tables (#16).

// PutESIAClient implements clients.ESIAStore: it creates or replaces the
// registration.
func (s *Store) PutESIAClient(ctx context.Context, e *clients.ESIA) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now()
	}
	_, err := s.q(ctx).exec(ctx, `INSERT INTO esia_clients (client_id, certificate, redirect_domains, signing_alg, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id) DO UPDATE SET certificate=excluded.certificate,
		redirect_domains=excluded.redirect_domains, signing_alg=excluded.signing_alg`,
		e.ClientID, e.Certificate, strings.Join(e.RedirectDomains, " "), e.SigningAlg, e.CreatedAt.UTC())
	return s.wrap("put esia client", err)
}

// GetESIAClient implements clients.ESIAStore.
func (s *Store) GetESIAClient(ctx context.Context, clientID string) (*clients.ESIA, error) {
	e := &clients.ESIA{}
	var domains string
	err := s.q(ctx).queryRow(ctx, `SELECT client_id, certificate, redirect_domains, signing_alg, created_at
		FROM esia_clients WHERE client_id=$1`, clientID).Scan(&e.ClientID, &e.Certificate, &domains, &e.SigningAlg, nullTime{&e.CreatedAt})
	if err != nil {
		return nil, s.wrap("get esia client", err)
	}
	e.RedirectDomains = strings.Fields(domains)
	return e, nil
}

// ESIAOid implements clients.ESIAStore. Two concurrent first uses insert
// once (the account_id is unique) and read the same number.
func (s *Store) ESIAOid(ctx context.Context, accountID string) (int64, error) {
	var oid int64
	err := s.q(ctx).queryRow(ctx, `SELECT oid FROM esia_oids WHERE account_id=$1`, accountID).Scan(&oid)
	if err == nil {
		return oid, nil
	}
	if _, err := s.q(ctx).exec(ctx, `INSERT INTO esia_oids (account_id) VALUES ($1) ON CONFLICT (account_id) DO NOTHING`, accountID); err != nil {
		return 0, s.wrap("assign oid", err)
	}
	err = s.q(ctx).queryRow(ctx, `SELECT oid FROM esia_oids WHERE account_id=$1`, accountID).Scan(&oid)
	return oid, s.wrap("get oid", err)
}

// AccountByESIAOid implements clients.ESIAStore.
func (s *Store) AccountByESIAOid(ctx context.Context, oid int64) (string, error) {
	var id string
	err := s.q(ctx).queryRow(ctx, `SELECT account_id FROM esia_oids WHERE oid=$1`, oid).Scan(&id)
	return id, s.wrap("get oid account", err)
}
