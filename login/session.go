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
	"net/http"
	"strconv"
	"time"

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
	CreatedAt time.Time `json:"created_at"`
	UserAgent string    `json:"user_agent,omitempty"`
	IP        string    `json:"ip,omitempty"`
	// Epoch is the account's session epoch when the session was created;
	// bumping the epoch ends every older session of the account at once.
	Epoch int64 `json:"epoch"`
}

// sessionStore keeps sessions in the short-lived store.
type sessionStore struct {
	eph    storage.Ephemeral
	ttl    time.Duration
	cookie string
}

const kvSession = "login:session:"

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return kvSession + hex.EncodeToString(sum[:])
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

// endAll ends every session of the account and returns the new epoch, which
// a session created afterwards (e.g. the one that changed the password)
// carries.
func (s *sessionStore) endAll(ctx context.Context, accountID string) (int64, error) {
	return s.eph.Incr(ctx, kvEpoch+accountID, epochTTL)
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
	return secret, nil
}

// current returns the session of the request's cookie, or nil.
func (s *sessionStore) current(r *http.Request) (*Session, error) {
	c, err := r.Cookie(s.cookie)
	if err != nil {
		return nil, nil
	}
	return s.byToken(r.Context(), c.Value)
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
