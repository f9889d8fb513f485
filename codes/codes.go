// Package codes issues and checks one-time confirmation codes sent by SMS or
// e-mail, and single-use e-mail links, with the limits of DESIGN.md: six
// digits; 3 wrong tries burn a code; a new code at most every 60 seconds and
// 5 an hour per contact; repeated failures block the purpose (for a flow:
// that flow) for the contact for 30 minutes.
//
// Codes are stored only as an HMAC under a server key, in the short-lived
// store with a TTL, so a copy of Redis reveals no code. Every counter is an
// atomic increment taken before the comparison, so parallel guesses cannot
// exceed the limits.
package codes

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/gosid/gosid/storage"
)

// Errors callers branch on; each maps to a message on the pages.
var (
	ErrInvalid     = errors.New("codes: wrong code")
	ErrExpired     = errors.New("codes: no valid code (expired, burned or never sent)")
	ErrBurned      = errors.New("codes: too many wrong attempts; request a new code")
	ErrTooSoon     = errors.New("codes: a new code can be requested later")
	ErrHourlyLimit = errors.New("codes: too many codes requested this hour")
	ErrBlocked     = errors.New("codes: this contact is temporarily blocked")
)

// Policy holds the limits. ResendAfter applies per purpose and contact;
// MaxPerHour, BurnsToBlock and BlockDuration per contact.
type Policy struct {
	Length        int
	MaxAttempts   int
	ResendAfter   time.Duration
	MaxPerHour    int
	BurnsToBlock  int
	BlockDuration time.Duration
}

// DefaultPolicy is DESIGN.md's.
var DefaultPolicy = Policy{
	Length: 6, MaxAttempts: 3, ResendAfter: 60 * time.Second, MaxPerHour: 5,
	BurnsToBlock: 3, BlockDuration: 30 * time.Minute,
}

// Service issues and verifies codes.
type Service struct {
	eph    storage.Ephemeral
	key    []byte
	policy Policy
}

// New returns a service; key (32 bytes) keys the code HMAC.
func New(eph storage.Ephemeral, key []byte, p Policy) *Service {
	return &Service{eph: eph, key: key, policy: p}
}

type record struct {
	MAC   string `json:"mac"`
	Nonce string `json:"nonce"`
}

func (s *Service) mac(scope, code string) string {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(code))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// contactKey hides the contact (a phone or e-mail) behind an HMAC in key names.
func (s *Service) contactKey(contact string) string { return s.mac("contact", contact) }

// Issue creates a code for (purpose, contact) valid for ttl, replacing any
// previous one, and returns it for delivery. It enforces the resend
// interval, the hourly limit and the block.
func (s *Service) Issue(ctx context.Context, purpose, contact string, ttl time.Duration) (string, error) {
	ck := s.contactKey(contact)
	scope := purpose + ":" + ck
	if blocked, err := s.has(ctx, "codes:block:"+scope); err != nil || blocked {
		return "", errOr(err, ErrBlocked)
	}
	// The resend interval is per purpose: a registration code just sent
	// does not hold up a recovery code. The hourly limit is per contact.
	ok, err := s.eph.PutNX(ctx, "codes:cool:"+purpose+":"+ck, []byte{1}, s.policy.ResendAfter)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrTooSoon
	}
	n, err := s.eph.Incr(ctx, "codes:hour:"+ck, time.Hour)
	if err != nil {
		return "", err
	}
	if n > int64(s.policy.MaxPerHour) {
		return "", ErrHourlyLimit
	}
	code, err := randomDigits(s.policy.Length)
	if err != nil {
		return "", err
	}
	raw, _ := json.Marshal(record{MAC: s.mac(scope, code), Nonce: randomNonce()})
	if err := s.eph.Put(ctx, "codes:code:"+scope, raw, ttl); err != nil {
		return "", fmt.Errorf("codes: store: %w", err)
	}
	return code, nil
}

// Verify checks code for (purpose, contact). A correct code is consumed
// (exactly once, even under concurrent submissions).
func (s *Service) Verify(ctx context.Context, purpose, contact, code string) error {
	ck := s.contactKey(contact)
	scope := purpose + ":" + ck
	if blocked, err := s.has(ctx, "codes:block:"+scope); err != nil || blocked {
		return errOr(err, ErrBlocked)
	}
	raw, err := s.eph.Get(ctx, "codes:code:"+scope)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrExpired
	} else if err != nil {
		return err
	}
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return fmt.Errorf("codes: decode: %w", err)
	}
	ttl, err := s.eph.TTL(ctx, "codes:code:"+scope)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrExpired
	} else if err != nil {
		return err
	}
	// The attempt is counted before comparing, per code (nonce), so parallel
	// guesses cannot exceed MaxAttempts.
	n, err := s.eph.Incr(ctx, "codes:try:"+scope+":"+rec.Nonce, ttl)
	if err != nil {
		return err
	}
	if n > int64(s.policy.MaxAttempts) {
		return ErrBurned
	}
	if !hmac.Equal([]byte(s.mac(scope, code)), []byte(rec.MAC)) {
		if n == int64(s.policy.MaxAttempts) {
			_ = s.eph.Delete(ctx, "codes:code:"+scope)
			return s.burned(ctx, scope)
		}
		return ErrInvalid
	}
	if _, err := s.eph.Take(ctx, "codes:code:"+scope); errors.Is(err, storage.ErrNotFound) {
		return ErrExpired
	} else if err != nil {
		return err
	}
	return nil
}

// burned counts a burned code against its scope (purpose and contact) and
// blocks the scope after BurnsToBlock of them within the block window. The
// block is per scope, not per contact: codes burned in a flow a stranger
// started for someone's phone (a purpose that names the flow) block that
// flow, never the owner's own; the hourly limit per contact still bounds
// how many codes, and so guesses, anyone gets.
func (s *Service) burned(ctx context.Context, scope string) error {
	n, err := s.eph.Incr(ctx, "codes:burns:"+scope, s.policy.BlockDuration)
	if err != nil {
		return err
	}
	if n >= int64(s.policy.BurnsToBlock) {
		if err := s.eph.Put(ctx, "codes:block:"+scope, []byte{1}, s.policy.BlockDuration); err != nil {
			return err
		}
		return ErrBlocked
	}
	return ErrBurned
}

// Unblock lifts the block and counters of a purpose for a contact (after a
// successful recovery by another channel, or by an operator).
func (s *Service) Unblock(ctx context.Context, purpose, contact string) error {
	scope := purpose + ":" + s.contactKey(contact)
	for _, k := range []string{"codes:block:", "codes:burns:"} {
		if err := s.eph.Delete(ctx, k+scope); err != nil {
			return err
		}
	}
	return nil
}

// NewLink stores payload under a fresh single-use token valid for ttl and
// returns the token (for an e-mail link).
func (s *Service) NewLink(ctx context.Context, payload []byte, ttl time.Duration) (string, error) {
	token := randomNonce() + randomNonce()
	if err := s.eph.Put(ctx, "codes:link:"+s.mac("link", token), payload, ttl); err != nil {
		return "", fmt.Errorf("codes: store link: %w", err)
	}
	return token, nil
}

// UseLink consumes a link token and returns its payload; a second use, an
// unknown or an expired token gives ErrExpired.
func (s *Service) UseLink(ctx context.Context, token string) ([]byte, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrExpired
	}
	p, err := s.eph.Take(ctx, "codes:link:"+s.mac("link", token))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrExpired
	}
	return p, err
}

func (s *Service) has(ctx context.Context, key string) (bool, error) {
	_, err := s.eph.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func errOr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

func randomDigits(n int) (string, error) {
	max := big.NewInt(10)
	b := make([]byte, n)
	for i := range b {
		d, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b), nil
}

func randomNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Ref names the code of (purpose, contact) without the contact in clear
// (an HMAC), for a delivery job to ask Pending before it sends the code.
func (s *Service) Ref(purpose, contact string) string {
	return purpose + ":" + s.contactKey(contact)
}

// Pending reports whether code is still the valid, unused code of ref: it
// is not once it was used, burned, replaced by a newer code or expired. A
// delivery that comes late (a job rescued from a dead node) sends nothing
// that is no longer pending.
func (s *Service) Pending(ctx context.Context, ref, code string) (bool, error) {
	raw, err := s.eph.Get(ctx, "codes:code:"+ref)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return false, fmt.Errorf("codes: decode: %w", err)
	}
	return hmac.Equal([]byte(s.mac(ref, code)), []byte(rec.MAC)), nil
}
