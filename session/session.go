// Package session keeps citizens' sign-in (SSO) sessions: the secret a
// browser holds in a cookie or an app as a bearer token, the account's
// session epoch that ends every session at once, the durable index behind
// the sessions-and-devices list, and the devices an account was used from.
//
// Sessions live in the short-lived store (Redis, or the embedded database);
// the store keys a session by the SHA-256 of its secret, so a copy of the
// store does not let anyone impersonate a citizen.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/storage"
)

// Session is a citizen's sign-in (SSO) session. The cookie carries a random
// secret; the store keys the session by the secret's SHA-256, so a copy of
// the store does not let anyone impersonate a citizen.
type Session struct {
	// ID is the public session id (the OIDC sid); not the cookie secret.
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	AuthTime  time.Time `json:"auth_time"`
	AMR       []string  `json:"amr"`
	// MFAAt is when a second factor was last used in this session.
	MFAAt time.Time `json:"mfa_at,omitempty"`
	// LastSeen is when the session was last used (updated at most every
	// few minutes).
	LastSeen  time.Time `json:"last_seen,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UserAgent string    `json:"user_agent,omitempty"`
	IP        string    `json:"ip,omitempty"`
	// Epoch is the account's session epoch when the session was created;
	// bumping the epoch ends every older session of the account at once.
	Epoch int64 `json:"epoch"`
}

// Options configure a Store.
type Options struct {
	Ephemeral storage.Ephemeral
	// Index lists sessions durably for the sessions-and-devices page; nil
	// leaves the list empty.
	Index account.SessionIndex
	TTL   time.Duration
	// Cookie is the name of the session cookie.
	Cookie string
	// Locate turns an IP address into an approximate place for the list;
	// nil leaves it empty.
	Locate func(ip string) string
	// OnEnd is told the ids (OIDC sid) of sessions that were ended, after
	// they ended (logout.Service.Ended); nil tells no one.
	OnEnd  func(ctx context.Context, accountID string, sids []string) error
	Logger *slog.Logger
}

// Store keeps sessions in the short-lived store, and an index of them (for
// the sessions-and-devices list) in the durable store.
type Store struct {
	eph    storage.Ephemeral
	index  account.SessionIndex
	ttl    time.Duration
	cookie string
	locate func(ip string) string
	onEnd  func(ctx context.Context, accountID string, sids []string) error
	log    *slog.Logger
}

// NewStore returns a session store.
func NewStore(o Options) *Store {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Store{eph: o.Ephemeral, index: o.Index, ttl: o.TTL, cookie: o.Cookie, locate: o.Locate, onEnd: o.OnEnd, log: o.Logger}
}

// Cookie is the name of the session cookie.
func (s *Store) Cookie() string { return s.cookie }

// TTL is how long a session lives.
func (s *Store) TTL() time.Duration { return s.ttl }

// touchEvery bounds how often a session's last-seen time is written.
const touchEvery = 5 * time.Minute

const kvSession = "login:session:"

func random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionKey(secret string) string { return kvSession + secretHash(secret) }

func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

const kvEpoch = "login:epoch:"

// epochTTL keeps an account's epoch far longer than any session.
const epochTTL = 10 * 365 * 24 * time.Hour

// Epoch returns the account's current session epoch (0 if never bumped).
func (s *Store) Epoch(ctx context.Context, accountID string) (int64, error) {
	raw, err := s.eph.Get(ctx, kvEpoch+accountID)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(raw), 10, 64)
}

// Ending every session of an account has a durable part and a short-lived
// one: Unindex, inside the transaction of the change that ends them (a
// password change, a deletion), and EndUnindexed after it commits. EndAll
// does both, for a change that has no transaction of its own.

// EndAll ends every session of the account and returns the new epoch, which
// a session created afterwards carries.
func (s *Store) EndAll(ctx context.Context, accountID string) (int64, error) {
	recs, err := s.Unindex(ctx, accountID)
	if err != nil {
		return 0, err
	}
	return s.EndUnindexed(ctx, accountID, recs)
}

// Unindex removes every session of the account from the durable index and
// returns the entries removed.
func (s *Store) Unindex(ctx context.Context, accountID string) ([]*account.SessionRecord, error) {
	recs, err := s.List(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("session: list sessions: %w", err)
	}
	for _, r := range recs {
		if _, err := s.index.DeleteSession(ctx, accountID, r.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("session: unindex session: %w", err)
		}
	}
	return recs, nil
}

// EndUnindexed ends every session of the account by bumping its epoch,
// removes the sessions of recs from the short-lived store, and returns the
// new epoch, which a session created afterwards (e.g. the one that changed
// the password) carries.
func (s *Store) EndUnindexed(ctx context.Context, accountID string, recs []*account.SessionRecord) (int64, error) {
	n, err := s.eph.Incr(ctx, kvEpoch+accountID, epochTTL)
	if err != nil {
		return 0, fmt.Errorf("session: bump session epoch: %w", err)
	}
	for _, r := range recs {
		if err := s.eph.Delete(ctx, kvSession+r.KeyHash); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return 0, fmt.Errorf("session: end session: %w", err)
		}
	}
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	s.ended(ctx, accountID, ids...)
	return n, nil
}

// ended tells OnEnd that sessions ended. A failure is logged: the sessions
// are over whatever the services are told.
func (s *Store) ended(ctx context.Context, accountID string, ids ...string) {
	if s.onEnd == nil || len(ids) == 0 {
		return
	}
	if err := s.onEnd(context.WithoutCancel(ctx), accountID, ids); err != nil {
		s.log.Error("session: tell services that sessions ended", "err", err, "account_id", accountID)
	}
}

// Create stores a new session and returns the cookie secret.
func (s *Store) Create(ctx context.Context, sess *Session) (string, error) {
	epoch, err := s.Epoch(ctx, sess.AccountID)
	if err != nil {
		return "", fmt.Errorf("session: session epoch: %w", err)
	}
	sess.Epoch = epoch
	secret := random(32)
	sess.ID = random(16)
	raw, err := json.Marshal(sess)
	if err != nil {
		return "", err
	}
	if err := s.eph.Put(ctx, sessionKey(secret), raw, s.ttl); err != nil {
		return "", fmt.Errorf("session: store session: %w", err)
	}
	if s.index != nil {
		loc := ""
		if s.locate != nil && sess.IP != "" {
			loc = s.locate(sess.IP)
		}
		err := s.index.SaveSession(ctx, &account.SessionRecord{ID: sess.ID, AccountID: sess.AccountID,
			KeyHash: secretHash(secret), AMR: sess.AMR, IP: sess.IP, UserAgent: sess.UserAgent, Location: loc,
			CreatedAt: sess.CreatedAt, LastSeenAt: sess.CreatedAt, ExpiresAt: sess.CreatedAt.Add(s.ttl)})
		if err != nil {
			return "", fmt.Errorf("session: index session: %w", err)
		}
	}
	return secret, nil
}

// Touch records that the session was used, at most every touchEvery.
func (s *Store) Touch(ctx context.Context, sess *Session, token, ip string) {
	now := time.Now().UTC()
	if now.Sub(sess.LastSeen) < touchEvery || now.Sub(sess.CreatedAt) < touchEvery {
		return
	}
	sess.LastSeen = now
	if raw, err := json.Marshal(sess); err == nil {
		if ttl := time.Until(sess.CreatedAt.Add(s.ttl)); ttl > 0 {
			if err := s.eph.Put(ctx, sessionKey(token), raw, ttl); err != nil {
				s.log.Warn("session: touch session", "err", err)
			}
		}
	}
	if s.index != nil {
		if err := s.index.TouchSession(ctx, sess.ID, now, ip); err != nil {
			s.log.Warn("session: touch session index", "err", err)
		}
	}
}

// List returns the account's live sessions, most recent first.
func (s *Store) List(ctx context.Context, accountID string) ([]*account.SessionRecord, error) {
	if s.index == nil {
		return nil, nil
	}
	return s.index.ListSessions(ctx, accountID, time.Now())
}

// EndByID ends one session of the account, by its public id.
func (s *Store) EndByID(ctx context.Context, accountID, id string) error {
	if s.index == nil {
		return storage.ErrNotFound
	}
	rec, err := s.index.DeleteSession(ctx, accountID, id)
	if err != nil {
		return err
	}
	if err := s.eph.Delete(ctx, kvSession+rec.KeyHash); err != nil {
		return err
	}
	s.ended(ctx, accountID, id)
	return nil
}

// EndOthers ends every session of the account but keep (by id) and
// returns how many it ended.
func (s *Store) EndOthers(ctx context.Context, accountID, keep string) (int, error) {
	recs, err := s.List(ctx, accountID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		if r.ID == keep {
			continue
		}
		if err := s.EndByID(ctx, accountID, r.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

// Current returns the session of the request's cookie, or nil.
func (s *Store) Current(r *http.Request) (*Session, error) {
	c, err := r.Cookie(s.cookie)
	if err != nil {
		return nil, nil
	}
	sess, err := s.ByToken(r.Context(), c.Value)
	if sess != nil {
		s.Touch(r.Context(), sess, c.Value, httpx.ClientIP(r))
	}
	return sess, err
}

// ByToken returns the session whose secret is token (a cookie value or an
// API session token), or nil when there is none or it was ended.
func (s *Store) ByToken(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 100 {
		return nil, nil
	}
	raw, err := s.eph.Get(ctx, sessionKey(token))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("session: load session: %w", err)
	}
	var sess Session
	if err := json.Unmarshal(raw, &sess); err != nil {
		return nil, fmt.Errorf("session: decode session: %w", err)
	}
	epoch, err := s.Epoch(ctx, sess.AccountID)
	if err != nil {
		return nil, fmt.Errorf("session: session epoch: %w", err)
	}
	if sess.Epoch != epoch {
		return nil, nil
	}
	return &sess, nil
}

// EndToken deletes the session whose secret is token.
func (s *Store) EndToken(ctx context.Context, token string) error {
	if token == "" || len(token) > 100 {
		return nil
	}
	sess, err := s.ByToken(ctx, token)
	if err != nil {
		sess = nil
	}
	if s.index != nil && sess != nil {
		if _, err := s.index.DeleteSession(ctx, sess.AccountID, sess.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.log.Warn("session: unindex session", "err", err)
		}
	}
	if err := s.eph.Delete(ctx, sessionKey(token)); err != nil {
		return err
	}
	if sess != nil {
		s.ended(ctx, sess.AccountID, sess.ID)
	}
	return nil
}

// Secret is the secret of the request's session cookie ("" without one).
func (s *Store) Secret(r *http.Request) string {
	c, err := r.Cookie(s.cookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// End deletes the request's session.
func (s *Store) End(r *http.Request) error {
	c, err := r.Cookie(s.cookie)
	if err != nil {
		return nil
	}
	return s.EndToken(r.Context(), c.Value)
}
