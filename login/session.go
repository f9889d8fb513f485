package login

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

// sessionStore keeps sessions in the short-lived store, and an index of
// them (for the sessions-and-devices list) in the durable store.
type sessionStore struct {
	eph    storage.Ephemeral
	index  account.SessionIndex
	ttl    time.Duration
	cookie string
	locate func(ip string) string
	log    *slog.Logger
}

// touchEvery bounds how often a session's last-seen time is written.
const touchEvery = 5 * time.Minute

const kvSession = "login:session:"

func randomToken(n int) string {
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

// epoch returns the account's current session epoch (0 if never bumped).
func (s *sessionStore) epoch(ctx context.Context, accountID string) (int64, error) {
	raw, err := s.eph.Get(ctx, kvEpoch+accountID)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(raw), 10, 64)
}

// Ending every session of an account has a durable part and a short-lived
// one: unindex, inside the transaction of the change that ends them (a
// password change, a deletion), and endUnindexed after it commits.

// unindex removes every session of the account from the durable index and
// returns the entries removed.
func (s *sessionStore) unindex(ctx context.Context, accountID string) ([]*account.SessionRecord, error) {
	recs, err := s.list(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	for _, r := range recs {
		if _, err := s.index.DeleteSession(ctx, accountID, r.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("unindex session: %w", err)
		}
	}
	return recs, nil
}

// endUnindexed ends every session of the account by bumping its epoch,
// removes the sessions of recs from the short-lived store, and returns the
// new epoch, which a session created afterwards (e.g. the one that changed
// the password) carries.
func (s *sessionStore) endUnindexed(ctx context.Context, accountID string, recs []*account.SessionRecord) (int64, error) {
	n, err := s.eph.Incr(ctx, kvEpoch+accountID, epochTTL)
	if err != nil {
		return 0, fmt.Errorf("bump session epoch: %w", err)
	}
	for _, r := range recs {
		if err := s.eph.Delete(ctx, kvSession+r.KeyHash); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return 0, fmt.Errorf("end session: %w", err)
		}
	}
	return n, nil
}

// create stores a new session and returns the cookie secret.
func (s *sessionStore) create(ctx context.Context, sess *Session) (string, error) {
	epoch, err := s.epoch(ctx, sess.AccountID)
	if err != nil {
		return "", fmt.Errorf("login: session epoch: %w", err)
	}
	sess.Epoch = epoch
	secret := randomToken(32)
	sess.ID = randomToken(16)
	raw, err := json.Marshal(sess)
	if err != nil {
		return "", err
	}
	if err := s.eph.Put(ctx, sessionKey(secret), raw, s.ttl); err != nil {
		return "", fmt.Errorf("login: store session: %w", err)
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
			return "", fmt.Errorf("login: index session: %w", err)
		}
	}
	return secret, nil
}

// touch records that the session was used, at most every touchEvery.
func (s *sessionStore) touch(ctx context.Context, sess *Session, token, ip string) {
	now := time.Now().UTC()
	if now.Sub(sess.LastSeen) < touchEvery || now.Sub(sess.CreatedAt) < touchEvery {
		return
	}
	sess.LastSeen = now
	if raw, err := json.Marshal(sess); err == nil {
		if ttl := time.Until(sess.CreatedAt.Add(s.ttl)); ttl > 0 {
			if err := s.eph.Put(ctx, sessionKey(token), raw, ttl); err != nil {
				s.log.Warn("login: touch session", "err", err)
			}
		}
	}
	if s.index != nil {
		if err := s.index.TouchSession(ctx, sess.ID, now, ip); err != nil {
			s.log.Warn("login: touch session index", "err", err)
		}
	}
}

// list returns the account's live sessions, most recent first.
func (s *sessionStore) list(ctx context.Context, accountID string) ([]*account.SessionRecord, error) {
	if s.index == nil {
		return nil, nil
	}
	return s.index.ListSessions(ctx, accountID, time.Now())
}

// endByID ends one session of the account, by its public id.
func (s *sessionStore) endByID(ctx context.Context, accountID, id string) error {
	if s.index == nil {
		return storage.ErrNotFound
	}
	rec, err := s.index.DeleteSession(ctx, accountID, id)
	if err != nil {
		return err
	}
	return s.eph.Delete(ctx, kvSession+rec.KeyHash)
}

// endOthers ends every session of the account but keep (by id) and
// returns how many it ended.
func (s *sessionStore) endOthers(ctx context.Context, accountID, keep string) (int, error) {
	recs, err := s.list(ctx, accountID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		if r.ID == keep {
			continue
		}
		if err := s.endByID(ctx, accountID, r.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

// current returns the session of the request's cookie, or nil.
func (s *sessionStore) current(r *http.Request) (*Session, error) {
	c, err := r.Cookie(s.cookie)
	if err != nil {
		return nil, nil
	}
	sess, err := s.byToken(r.Context(), c.Value)
	if sess != nil {
		s.touch(r.Context(), sess, c.Value, httpx.ClientIP(r))
	}
	return sess, err
}

// byToken returns the session whose secret is token (a cookie value or an
// API session token), or nil when there is none or it was ended.
func (s *sessionStore) byToken(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 100 {
		return nil, nil
	}
	raw, err := s.eph.Get(ctx, sessionKey(token))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("login: load session: %w", err)
	}
	var sess Session
	if err := json.Unmarshal(raw, &sess); err != nil {
		return nil, fmt.Errorf("login: decode session: %w", err)
	}
	epoch, err := s.epoch(ctx, sess.AccountID)
	if err != nil {
		return nil, fmt.Errorf("login: session epoch: %w", err)
	}
	if sess.Epoch != epoch {
		return nil, nil
	}
	return &sess, nil
}

// endToken deletes the session whose secret is token.
func (s *sessionStore) endToken(ctx context.Context, token string) error {
	if token == "" || len(token) > 100 {
		return nil
	}
	if s.index != nil {
		if sess, err := s.byToken(ctx, token); err == nil && sess != nil {
			if _, err := s.index.DeleteSession(ctx, sess.AccountID, sess.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				s.log.Warn("login: unindex session", "err", err)
			}
		}
	}
	return s.eph.Delete(ctx, sessionKey(token))
}

// end deletes the request's session.
func (s *sessionStore) end(r *http.Request) error {
	c, err := r.Cookie(s.cookie)
	if err != nil {
		return nil
	}
	return s.endToken(r.Context(), c.Value)
}
