package mfa

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Factor kinds.
const (
	KindTOTP     = "totp"     // an authenticator app
	KindSMS      = "sms"      // a code by SMS to the confirmed phone
	KindEmail    = "email"    // a code by e-mail to the confirmed address
	KindWebAuthn = "webauthn" // a security key or passkey
	// KindRecovery is not stored as a factor: recovery codes are kept in
	// their own table, and used when the other factors are lost.
	KindRecovery = "recovery"
)

// Factor is one second factor an account has turned on.
type Factor struct {
	ID        string
	AccountID string
	Kind      string
	// Name is the citizen's label for a security key ("YubiKey", "phone").
	Name string
	// Secret is the sealed TOTP secret, or the WebAuthn credential (public
	// key, sign counter) as JSON; nil for SMS and e-mail.
	Secret []byte
	// CredentialID is the WebAuthn credential id (base64url); empty for
	// other kinds. Unique across accounts.
	CredentialID string
	CreatedAt    time.Time
	LastUsedAt   time.Time
}

// Store is the persistence port for factors and recovery codes. AddFactor
// returns storage.ErrConflict for a second factor of a kind an account can
// hold once (totp, sms, email) or a WebAuthn credential already registered.
type Store interface {
	AddFactor(ctx context.Context, f *Factor) error
	ListFactors(ctx context.Context, accountID string) ([]*Factor, error)
	// UpdateFactorUse records a use; secret, when not nil, replaces the
	// stored secret (a WebAuthn credential's new sign counter).
	UpdateFactorUse(ctx context.Context, accountID, id string, at time.Time, secret []byte) error
	// DeleteFactor returns storage.ErrNotFound when the account has no
	// such factor.
	DeleteFactor(ctx context.Context, accountID, id string) error
	// DeleteFactors removes every factor and recovery code of the account.
	DeleteFactors(ctx context.Context, accountID string) error
	// ReplaceRecoveryCodes drops the account's recovery codes and stores
	// the given hashes instead, atomically.
	ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes []string, at time.Time) error
	// UseRecoveryCode marks an unused code as used; false when there is no
	// such unused code. Atomic: a code is accepted once even under a race.
	UseRecoveryCode(ctx context.Context, accountID, hash string, at time.Time) (bool, error)
	// RecoveryCodesLeft counts the unused codes.
	RecoveryCodesLeft(ctx context.Context, accountID string) (int, error)
}

// RecoveryCodeCount is how many recovery codes a citizen gets at once.
const RecoveryCodeCount = 10

// recoveryAlphabet leaves out 0/O and 1/I/L, which are easy to misread.
const recoveryAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// NewRecoveryCodes returns RecoveryCodeCount fresh codes, each 10
// characters from a 31-letter alphabet (~49 bits), shown as XXXXX-XXXXX.
func NewRecoveryCodes() ([]string, error) {
	out := make([]string, RecoveryCodeCount)
	buf := make([]byte, 10)
	for i := range out {
		var b strings.Builder
		for j := 0; j < len(buf); {
			if _, err := rand.Read(buf[:1]); err != nil {
				return nil, fmt.Errorf("mfa: random: %w", err)
			}
			// Rejection sampling keeps the letters uniform.
			if int(buf[0]) >= 256-256%len(recoveryAlphabet) {
				continue
			}
			if j == 5 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[int(buf[0])%len(recoveryAlphabet)])
			j++
		}
		out[i] = b.String()
	}
	return out, nil
}

// NormalizeRecoveryCode upper-cases a typed code and drops spaces and
// dashes; it returns "" for anything that cannot be a recovery code.
func NormalizeRecoveryCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch {
		case r == ' ' || r == '-':
		case strings.ContainsRune(recoveryAlphabet, r):
			b.WriteRune(r)
		default:
			return ""
		}
		if b.Len() > 10 {
			return ""
		}
	}
	if b.Len() != 10 {
		return ""
	}
	return b.String()
}

// HashRecoveryCode is the stored form of a (normalized) recovery code: a
// keyed HMAC, so a copy of the table does not reveal usable codes and a
// code from one account is worthless for another.
func HashRecoveryCode(key []byte, accountID, code string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(accountID))
	h.Write([]byte{0})
	h.Write([]byte(code))
	return hex.EncodeToString(h.Sum(nil))
}
