package sqlstore

import (
	"context"

	"github.com/gosid/gosid/clients"
)

const clientCols = `id, name, secret_hash, redirect_uris, post_logout_redirect_uris, grant_types, response_types,
	scopes, audience, public, token_endpoint_auth_method, jwks, jwks_uri, id_token_alg, first_party, min_level,
	require_mfa, created_at, updated_at, application_type, require_signed_request_object, request_object_signing_alg,
	allowed_cors_origins, dpop_bound_access_tokens, userinfo_signed_response_alg`

func clientArgs(c *clients.Client) []any {
	return []any{c.ID, c.Name, nilIfEmpty(c.SecretHash), jsonList(c.RedirectURIs), jsonList(c.PostLogoutRedirectURIs),
		jsonList(c.GrantTypes), jsonList(c.ResponseTypes), jsonList(c.Scopes), jsonList(c.Audience), c.Public,
		c.TokenEndpointAuthMethod, nilIfEmpty(c.JWKS), c.JWKSURI, c.IDTokenAlg, c.FirstParty, c.MinLevel, c.RequireMFA,
		c.CreatedAt.UTC(), c.UpdatedAt.UTC(), c.ApplicationType, c.RequireSignedRequestObject, c.RequestObjectSigningAlg,
		jsonList(c.AllowedCORSOrigins), c.DPoPBoundAccessTokens, c.UserinfoSignedResponseAlg}
}

func scanClient(r row) (*clients.Client, error) {
	c := &clients.Client{}
	err := r.Scan(&c.ID, &c.Name, &c.SecretHash, listScan{&c.RedirectURIs}, listScan{&c.PostLogoutRedirectURIs},
		listScan{&c.GrantTypes}, listScan{&c.ResponseTypes}, listScan{&c.Scopes}, listScan{&c.Audience}, &c.Public,
		&c.TokenEndpointAuthMethod, &c.JWKS, &c.JWKSURI, &c.IDTokenAlg, &c.FirstParty, &c.MinLevel, &c.RequireMFA,
		nullTime{&c.CreatedAt}, nullTime{&c.UpdatedAt}, &c.ApplicationType, &c.RequireSignedRequestObject, &c.RequestObjectSigningAlg,
		listScan{&c.AllowedCORSOrigins}, &c.DPoPBoundAccessTokens, &c.UserinfoSignedResponseAlg)
	return c, err
}

// CreateClient implements clients.Store.
func (s *Store) CreateClient(ctx context.Context, c *clients.Client) error {
	_, err := s.q(ctx).exec(ctx, `INSERT INTO clients (`+clientCols+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`, clientArgs(c)...)
	return s.wrap("create client", err)
}

// GetClient implements clients.Store.
func (s *Store) GetClient(ctx context.Context, id string) (*clients.Client, error) {
	c, err := scanClient(s.q(ctx).queryRow(ctx, `SELECT `+clientCols+` FROM clients WHERE id = $1`, id))
	if err != nil {
		return nil, s.wrap("get client", err)
	}
	return c, nil
}

// ListClients implements clients.Store.
func (s *Store) ListClients(ctx context.Context) ([]*clients.Client, error) {
	rs, err := s.q(ctx).query(ctx, `SELECT `+clientCols+` FROM clients ORDER BY created_at, id`)
	if err != nil {
		return nil, s.wrap("list clients", err)
	}
	defer rs.Close()
	var out []*clients.Client
	for rs.Next() {
		c, err := scanClient(rs)
		if err != nil {
			return nil, s.wrap("list clients", err)
		}
		out = append(out, c)
	}
	return out, s.wrap("list clients", rs.Err())
}

// UpdateClient implements clients.Store.
func (s *Store) UpdateClient(ctx context.Context, c *clients.Client) error {
	n, err := s.q(ctx).exec(ctx, `UPDATE clients SET name=$2, secret_hash=$3, redirect_uris=$4, post_logout_redirect_uris=$5,
		grant_types=$6, response_types=$7, scopes=$8, audience=$9, public=$10, token_endpoint_auth_method=$11, jwks=$12,
		jwks_uri=$13, id_token_alg=$14, first_party=$15, min_level=$16, require_mfa=$17, created_at=$18, updated_at=$19,
		application_type=$20, require_signed_request_object=$21, request_object_signing_alg=$22,
		allowed_cors_origins=$23, dpop_bound_access_tokens=$24, userinfo_signed_response_alg=$25
		WHERE id=$1`, clientArgs(c)...)
	if err != nil {
		return s.wrap("update client", err)
	}
	if n == 0 {
		return s.wrap("update client", errNoRows)
	}
	return nil
}

// DeleteClient implements clients.Store.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	n, err := s.q(ctx).exec(ctx, `DELETE FROM clients WHERE id = $1`, id)
	if err != nil {
		return s.wrap("delete client", err)
	}
	if n == 0 {
		return s.wrap("delete client", errNoRows)
	}
	return nil
}

var _ clients.Store = (*Store)(nil)
