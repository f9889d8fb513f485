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
}

// sessionStore keeps sessions in the short-lived store.
type sessionStore struct {
	eph    storage.Ephemeral
	ttl    time.Duration
	cookie string
	secure bool
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

// create stores a new session and returns the cookie secret.
func (s *sessionStore) create(ctx context.Context, sess *Session) (string, error) {
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

// current returns the session of the request, or nil when there is none.
func (s *sessionStore) current(r *http.Request) (*Session, error) {
	c, err := r.Cookie(s.cookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	raw, err := s.eph.Get(r.Context(), sessionKey(c.Value))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("login: load session: %w", err)
	}
	var sess Session
	if err := json.Unmarshal(raw, &sess); err != nil {
		return nil, fmt.Errorf("login: decode session: %w", err)
	}
	return &sess, nil
}

// end deletes the request's session.
func (s *sessionStore) end(r *http.Request) error {
	c, err := r.Cookie(s.cookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil
	}
	return s.eph.Delete(r.Context(), sessionKey(c.Value))
}
