package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/ory/fosite"

	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/grants"
	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/storage"
)

// Key prefixes in the short-lived store.
const (
	kvCode     = "oauth:code:"
	kvCodeUsed = "oauth:code-used:"
	kvPKCE     = "oauth:pkce:"
	kvOIDC     = "oauth:oidc:"
	kvPAR      = "oauth:par:"
	kvJTI      = "oauth:jti:"
)

// fositeStore implements the storage interfaces fosite's handlers consume on
// top of gosid's ports: clients from the client store (cached), codes and
// other short-lived artefacts in the Ephemeral store with a TTL, refresh
// tokens in the durable grant store. Access tokens are JWTs and are never
// stored: revocation reaches them through the deny-list.
type fositeStore struct {
	clients clients.Store
	eph     storage.Ephemeral
	grants  grants.Store
	deny    *DenyList
	tx      TxRunner // nil: no transactions (see BeginTX)
	issuer  string
	codeTTL time.Duration
	parTTL  time.Duration
	rtTTL   time.Duration
	grace   time.Duration
	now     func() time.Time
}

// storedRequest is the serialized form of a fosite request.
type storedRequest struct {
	ID                string          `json:"id"`
	RequestedAt       time.Time       `json:"requested_at"`
	ClientID          string          `json:"client_id"`
	RequestedScope    []string        `json:"requested_scope,omitempty"`
	GrantedScope      []string        `json:"granted_scope,omitempty"`
	RequestedAudience []string        `json:"requested_audience,omitempty"`
	GrantedAudience   []string        `json:"granted_audience,omitempty"`
	Form              url.Values      `json:"form,omitempty"`
	Session           json.RawMessage `json:"session"`
	// Authorize-request parts, kept for pushed authorization requests.
	ResponseTypes []string `json:"response_types,omitempty"`
	RedirectURI   string   `json:"redirect_uri,omitempty"`
	State         string   `json:"state,omitempty"`
	ResponseMode  string   `json:"response_mode,omitempty"`
	DefaultMode   string   `json:"default_response_mode,omitempty"`
}

func encodeRequest(r fosite.Requester) ([]byte, error) {
	sess, err := json.Marshal(r.GetSession())
	if err != nil {
		return nil, fmt.Errorf("encode session: %w", err)
	}
	sr := storedRequest{
		ID:                r.GetID(),
		RequestedAt:       r.GetRequestedAt(),
		ClientID:          r.GetClient().GetID(),
		RequestedScope:    r.GetRequestedScopes(),
		GrantedScope:      r.GetGrantedScopes(),
		RequestedAudience: r.GetRequestedAudience(),
		GrantedAudience:   r.GetGrantedAudience(),
		Form:              withoutSecrets(r.GetRequestForm()),
		Session:           sess,
	}
	if ar, ok := r.(fosite.AuthorizeRequester); ok {
		sr.ResponseTypes = ar.GetResponseTypes()
		if u := ar.GetRedirectURI(); u != nil {
			sr.RedirectURI = u.String()
		}
		sr.State = ar.GetState()
		sr.ResponseMode = string(ar.GetResponseMode())
		sr.DefaultMode = string(ar.GetDefaultResponseMode())
	}
	return json.Marshal(sr)
}

// withoutSecrets drops client credentials from a request form before it is
// stored (a PAR request authenticated with client_secret_post carries one).
func withoutSecrets(form url.Values) url.Values {
	out := make(url.Values, len(form))
	for k, v := range form {
		switch k {
		case "client_secret", "client_assertion", "password", "refresh_token", "code", "code_verifier":
			continue
		}
		out[k] = v
	}
	return out
}

func (s *fositeStore) decodeRequest(ctx context.Context, raw []byte, into fosite.Session) (*fosite.Request, *storedRequest, error) {
	var sr storedRequest
	if err := json.Unmarshal(raw, &sr); err != nil {
		return nil, nil, fmt.Errorf("decode request: %w", err)
	}
	sess, ok := into.(*Session)
	if !ok || sess == nil {
		sess = NewSession()
	}
	if err := json.Unmarshal(sr.Session, sess); err != nil {
		return nil, nil, fmt.Errorf("decode session: %w", err)
	}
	sess.ensure()
	client, err := s.GetClient(ctx, sr.ClientID)
	if err != nil {
		return nil, nil, err
	}
	return &fosite.Request{
		ID:                sr.ID,
		RequestedAt:       sr.RequestedAt,
		Client:            client,
		RequestedScope:    sr.RequestedScope,
		GrantedScope:      sr.GrantedScope,
		RequestedAudience: sr.RequestedAudience,
		GrantedAudience:   sr.GrantedAudience,
		Form:              sr.Form,
		Session:           sess,
	}, &sr, nil
}

func (s *fositeStore) put(ctx context.Context, key string, r fosite.Requester, ttl time.Duration) error {
	raw, err := encodeRequest(r)
	if err != nil {
		return err
	}
	return s.eph.Put(ctx, key, raw, ttl)
}

func (s *fositeStore) get(ctx context.Context, key string, sess fosite.Session) (*fosite.Request, error) {
	raw, err := s.eph.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fosite.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	r, _, err := s.decodeRequest(ctx, raw, sess)
	return r, err
}

// validSignature reports whether a code's or token's signature (or the
// code itself), which comes from the client, can be one gosid issued
// (base64url): anything else is not looked up, since storage may refuse it
// with an error (PostgreSQL rejects NUL and invalid UTF-8).
func validSignature(sig string) bool { return httpx.ValidID(sig) }

// GetClient implements fosite.ClientManager.
func (s *fositeStore) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.clients.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fosite.ErrNotFound.WithHint("Unknown client.")
	} else if err != nil {
		return nil, err
	}
	return newFositeClient(c, s.issuer), nil
}

// ClientAssertionJWTValid implements fosite.ClientManager.
func (s *fositeStore) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	_, err := s.eph.Get(ctx, kvJTI+jti)
	if err == nil {
		return fosite.ErrJTIKnown
	} else if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// SetClientAssertionJWT records a private_key_jwt assertion's jti until it
// expires; a second use of the same jti is refused even under a race.
func (s *fositeStore) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	ttl := time.Until(exp)
	if ttl < time.Second {
		ttl = time.Second
	}
	ok, err := s.eph.PutNX(ctx, kvJTI+jti, []byte{1}, ttl)
	if err != nil {
		return err
	}
	if !ok {
		return fosite.ErrJTIKnown
	}
	return nil
}

// CreateAuthorizeCodeSession stores the code's request for the code lifetime.
func (s *fositeStore) CreateAuthorizeCodeSession(ctx context.Context, sig string, r fosite.Requester) error {
	return s.put(ctx, kvCode+sig, r, s.codeTTL)
}

// GetAuthorizeCodeSession returns the request, with ErrInvalidatedAuthorizeCode
// when the code was already used (fosite then revokes what it issued).
func (s *fositeStore) GetAuthorizeCodeSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	if !validSignature(sig) {
		return nil, fosite.ErrNotFound
	}
	r, err := s.get(ctx, kvCode+sig, sess)
	if err != nil {
		return nil, err
	}
	if _, err := s.eph.Get(ctx, kvCodeUsed+sig); err == nil {
		return r, fosite.ErrInvalidatedAuthorizeCode
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	return r, nil
}

// InvalidateAuthorizeCodeSession marks the code used; of two concurrent
// redemptions exactly one gets past this point.
func (s *fositeStore) InvalidateAuthorizeCodeSession(ctx context.Context, sig string) error {
	ok, err := s.eph.PutNX(ctx, kvCodeUsed+sig, []byte{1}, s.codeTTL)
	if err != nil {
		return err
	}
	if !ok {
		return fosite.ErrInvalidatedAuthorizeCode
	}
	return nil
}

// CreateAccessTokenSession stores nothing: access tokens are self-contained JWTs.
func (s *fositeStore) CreateAccessTokenSession(context.Context, string, fosite.Requester) error {
	return nil
}

// GetAccessTokenSession never finds anything; JWTs are validated, not looked up.
func (s *fositeStore) GetAccessTokenSession(context.Context, string, fosite.Session) (fosite.Requester, error) {
	return nil, fosite.ErrNotFound
}

// DeleteAccessTokenSession is a no-op for the same reason.
func (s *fositeStore) DeleteAccessTokenSession(context.Context, string) error { return nil }

// CreateRefreshTokenSession stores a refresh token, unless its grant was
// revoked meanwhile (a code redeemed twice at once).
//
// A successor is derived from the token it replaces (successorStrategy), so
// a refresh repeated inside the grace window, or run twice at once, stores
// the same signature: the first insert wins and the others hand out the
// identical token, as long as it is still live and unused. A successor that
// was used already means the client has moved on: the replay is refused,
// and no second chain ever starts.
func (s *fositeStore) CreateRefreshTokenSession(ctx context.Context, sig, _ string, r fosite.Requester) error {
	if denied, err := s.deny.GrantDenied(ctx, r.GetID()); err != nil {
		return err
	} else if denied {
		return fosite.ErrInactiveToken
	}
	raw, err := encodeRequest(r)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	exp := r.GetSession().GetExpiresAt(fosite.RefreshToken)
	if exp.IsZero() {
		exp = now.Add(s.rtTTL)
	}
	err = s.grants.CreateRefreshToken(ctx, &grants.RefreshToken{
		Signature: sig,
		RequestID: r.GetID(),
		ClientID:  r.GetClient().GetID(),
		Subject:   r.GetSession().GetSubject(),
		Request:   raw,
		CreatedAt: now,
		ExpiresAt: exp,
	})
	if !errors.Is(err, storage.ErrConflict) {
		return err
	}
	prev, err := s.grants.GetRefreshToken(ctx, sig)
	if err != nil {
		return fmt.Errorf("load the successor already issued: %w", err)
	}
	switch {
	case prev.RequestID != r.GetID():
		return fmt.Errorf("refresh token signature taken by another grant: %w", storage.ErrConflict)
	case !prev.RevokedAt.IsZero() || !prev.UsedAt.IsZero() || !prev.ExpiresAt.After(now):
		return errSuccessorUsed
	}
	return nil
}

// errSuccessorUsed refuses a rotated-out refresh token inside the grace
// window whose successor is no longer live: the client already moved on.
var errSuccessorUsed = errors.New("provider: the refresh token's successor was already used")

// GetRefreshTokenSession returns the request; a token rotated before the
// grace window or belonging to a revoked grant comes back with
// ErrInactiveToken, which makes fosite revoke the whole grant.
func (s *fositeStore) GetRefreshTokenSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	if !validSignature(sig) {
		return nil, fosite.ErrNotFound
	}
	t, err := s.grants.GetRefreshToken(ctx, sig)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fosite.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	r, _, err := s.decodeRequest(ctx, t.Request, sess)
	if err != nil {
		return nil, err
	}
	cutoff := s.now().Add(-s.grace)
	if !t.RevokedAt.IsZero() || (!t.UsedAt.IsZero() && t.UsedAt.Before(cutoff)) {
		return r, fosite.ErrInactiveToken
	}
	return r, nil
}

// DeleteRefreshTokenSession is called by fosite only before revoking the
// whole grant, which RevokeRefreshToken does; the row stays for the record.
func (s *fositeStore) DeleteRefreshTokenSession(context.Context, string) error { return nil }

// RotateRefreshToken marks the presented token used.
func (s *fositeStore) RotateRefreshToken(ctx context.Context, _ string, sig string) error {
	now := s.now().UTC()
	err := s.grants.UseRefreshToken(ctx, sig, now, now.Add(-s.grace))
	if errors.Is(err, grants.ErrTokenInactive) {
		return fosite.ErrInactiveToken
	} else if errors.Is(err, storage.ErrNotFound) {
		return fosite.ErrNotFound
	}
	return err
}

// RevokeRefreshToken revokes every refresh token of the grant and
// deny-lists its access tokens.
func (s *fositeStore) RevokeRefreshToken(ctx context.Context, requestID string) error {
	if err := s.grants.RevokeGrant(ctx, requestID, s.now().UTC()); err != nil {
		return err
	}
	return s.deny.DenyGrant(ctx, requestID)
}

// RevokeAccessToken deny-lists the grant's access tokens.
func (s *fositeStore) RevokeAccessToken(ctx context.Context, requestID string) error {
	return s.deny.DenyGrant(ctx, requestID)
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (s *fositeStore) CreatePKCERequestSession(ctx context.Context, sig string, r fosite.Requester) error {
	return s.put(ctx, kvPKCE+sig, r, s.codeTTL)
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (s *fositeStore) GetPKCERequestSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	if !validSignature(sig) {
		return nil, fosite.ErrNotFound
	}
	return s.get(ctx, kvPKCE+sig, sess)
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage.
func (s *fositeStore) DeletePKCERequestSession(ctx context.Context, sig string) error {
	return s.eph.Delete(ctx, kvPKCE+sig)
}

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *fositeStore) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.put(ctx, kvOIDC+code, r, s.codeTTL)
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *fositeStore) GetOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) (fosite.Requester, error) {
	if !validSignature(code) {
		return nil, fosite.ErrNotFound
	}
	return s.get(ctx, kvOIDC+code, r.GetSession())
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *fositeStore) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return s.eph.Delete(ctx, kvOIDC+code)
}

// CreatePARSession implements fosite.PARStorage.
func (s *fositeStore) CreatePARSession(ctx context.Context, uri string, r fosite.AuthorizeRequester) error {
	return s.put(ctx, kvPAR+uri, r, s.parTTL)
}

// GetPARSession implements fosite.PARStorage.
func (s *fositeStore) GetPARSession(ctx context.Context, uri string) (fosite.AuthorizeRequester, error) {
	raw, err := s.eph.Get(ctx, kvPAR+uri)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fosite.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	r, sr, err := s.decodeRequest(ctx, raw, nil)
	if err != nil {
		return nil, err
	}
	ar := &fosite.AuthorizeRequest{
		ResponseTypes:       sr.ResponseTypes,
		State:               sr.State,
		ResponseMode:        fosite.ResponseModeType(sr.ResponseMode),
		DefaultResponseMode: fosite.ResponseModeType(sr.DefaultMode),
		Request:             *r,
	}
	if sr.RedirectURI != "" {
		if ar.RedirectURI, err = url.Parse(sr.RedirectURI); err != nil {
			return nil, fmt.Errorf("decode par redirect uri: %w", err)
		}
	}
	return ar, nil
}

// DeletePARSession implements fosite.PARStorage.
func (s *fositeStore) DeletePARSession(ctx context.Context, uri string) error {
	return s.eph.Delete(ctx, kvPAR+uri)
}
