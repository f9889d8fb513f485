// Package signature is the citizen's side of qualified electronic
// signatures: «Войти с электронной подписью» (sign in) and «Подтвердить
// личность электронной подписью» (confirm the identity), over the JSON API.
// Package esign checks signatures and certificates; this package decides
// what a checked certificate is worth.
//
// The rules: the citizen signs a challenge gosid made — single use,
// short-lived, bound to the purpose, the account (confirm) and the
// authorization request (sign in) it was made for — on their own device;
// the server never sees a private key. Sign-in finds the account whose
// registry-verified SNILS is the certificate's, through the SNILS blind
// index, and the INN must match too when both have one. The session's amr
// is "sc" (RFC 8176: a smart card or a key it holds, which is what a
// qualified certificate's key is) plus "mfa": the key and its PIN or
// password are two factors, as ESIA's DS counts them.
package signature

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/esign"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/verify"
)

// Purposes of a challenge.
const (
	PurposeSignIn  = "signin"
	PurposeConfirm = "confirm"
)

// AMR is the session's amr after signing in with a signature.
var AMR = []string{"sc", "mfa"}

// Verifier is what the flows need of package verify.
type Verifier interface {
	Get(ctx context.Context, accountID string) (*verify.Profile, *verify.Record, error)
	Confirm(ctx context.Context, accountID string, c verify.Confirmation) (*account.Account, error)
	AccountBySNILS(ctx context.Context, snils string) (string, error)
}

// Checker checks a signature and its certificate (esign.Checker).
type Checker interface {
	VerifyDetached(ctx context.Context, sig, msg []byte) (*esign.Certificate, error)
}

// Deps are what the flows need.
type Deps struct {
	Engine  *selfservice.Engine
	Checker Checker
	Verify  Verifier
	// TTL bounds a challenge (5 minutes by default).
	TTL time.Duration
	// Enabled: trusted authorities are configured (the sign-in page
	// offers the signature).
	Enabled bool
}

// Service runs the signature flows.
type Service struct {
	*selfservice.Engine
	d Deps
}

// New returns the service.
func New(d Deps) *Service {
	if d.TTL <= 0 {
		d.TTL = 5 * time.Minute
	}
	return &Service{Engine: d.Engine, d: d}
}

// Enabled reports whether signatures can be accepted at all.
func (s *Service) Enabled() bool { return s.d.Enabled }

// Challenge is what the citizen signs: Text, exactly, as the content of a
// detached CMS signature. ID names it when the signature comes back.
type Challenge struct {
	ID        string    `json:"challenge_id"`
	Text      string    `json:"challenge"`
	ExpiresAt time.Time `json:"expires_at"`
}

// kept is a challenge in the short-lived store until it is answered.
type kept struct {
	Text      string `json:"text"`
	Purpose   string `json:"purpose"`
	AccountID string `json:"account,omitempty"`
	Session   string `json:"session,omitempty"`
	Flow      string `json:"flow,omitempty"`
}

// Binding is who a challenge is for: nobody yet (sign-in, with the
// authorization request it signs in for) or a signed-in session (confirm).
type Binding struct {
	AccountID, SessionID, Flow string
}

func challengeKey(id string) string { return "esign:challenge:" + id }

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Outcomes the faces answer; the esign errors (expired, revoked, ...) pass
// through as they are.
var (
	// ErrChallenge: no such challenge (answered already, expired, forged)
	// or it was made for another purpose or session.
	ErrChallenge = errors.New("signature: the challenge is over or not yours")
	// ErrNoAccount: no account has the certificate's SNILS verified.
	ErrNoAccount = errors.New("signature: no account with the certificate's SNILS")
	// ErrNotVerified: the account's data is not registry-verified yet.
	ErrNotVerified = verify.ErrNotVerified
)

// MismatchError names the fields where the certificate and the verified
// data differ («Несоответствие данных»).
type MismatchError struct{ Fields []string }

func (e *MismatchError) Error() string {
	return "signature: data mismatch: " + strings.Join(e.Fields, ", ")
}

// NewChallenge makes a challenge for purpose, bound to b.
func (s *Service) NewChallenge(ctx context.Context, purpose string, b Binding) (*Challenge, error) {
	id := random()
	exp := s.Now().UTC().Add(s.d.TTL).Truncate(time.Second)
	// The text names the issuer, the purpose and the expiry, so that a
	// signature made for one is no use for another.
	text := fmt.Sprintf("gosid %s\nissuer: %s\npurpose: %s\nchallenge: %s\nexpires: %s\n",
		purpose, s.Issuer, purpose, id, exp.Format(time.RFC3339))
	raw, err := json.Marshal(kept{Text: text, Purpose: purpose, AccountID: b.AccountID, Session: b.SessionID, Flow: b.Flow})
	if err != nil {
		return nil, err
	}
	if err := s.Ephemeral.Put(ctx, challengeKey(id), raw, s.d.TTL); err != nil {
		return nil, fmt.Errorf("signature: keep the challenge: %w", err)
	}
	return &Challenge{ID: id, Text: text, ExpiresAt: exp}, nil
}

// peek reads a challenge without using it (its text, for download).
func (s *Service) peek(r *http.Request, id string) (*kept, error) {
	if id == "" || len(id) > 100 {
		return nil, ErrChallenge
	}
	raw, err := s.Ephemeral.Get(r.Context(), challengeKey(id))
	if err != nil {
		return nil, ErrChallenge
	}
	var k kept
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// answer takes the challenge (once: a replayed signature finds nothing)
// and checks the signature over it and the certificate.
func (s *Service) answer(ctx context.Context, id, purpose string, b Binding, sig []byte) (*kept, *esign.Certificate, error) {
	if id == "" || len(id) > 100 {
		return nil, nil, ErrChallenge
	}
	raw, err := s.Ephemeral.Take(ctx, challengeKey(id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, ErrChallenge
	} else if err != nil {
		return nil, nil, err
	}
	var k kept
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, nil, err
	}
	if k.Purpose != purpose || subtle.ConstantTimeCompare([]byte(k.AccountID), []byte(b.AccountID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(k.Session), []byte(b.SessionID)) != 1 {
		return nil, nil, ErrChallenge
	}
	cert, err := s.d.Checker.VerifyDetached(ctx, sig, []byte(k.Text))
	if err != nil {
		return &k, nil, err
	}
	if cert.SNILS == "" {
		return &k, nil, esign.ErrNoSNILS
	}
	return &k, cert, nil
}

// SignIn checks a signature over the challenge id and returns the account
// it signs in to, and the authorization flow the challenge was made for.
func (s *Service) SignIn(ctx context.Context, id string, sig []byte, m selfservice.Meta) (*account.Account, string, error) {
	k, cert, err := s.answer(ctx, id, PurposeSignIn, Binding{}, sig)
	if err != nil {
		s.refused(ctx, m, "", err)
		return nil, "", err
	}
	accountID, err := s.d.Verify.AccountBySNILS(ctx, cert.SNILS)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, "", ErrNoAccount
	} else if err != nil {
		return nil, "", err
	}
	p, _, err := s.d.Verify.Get(ctx, accountID)
	if err != nil {
		return nil, "", err
	}
	// The index finds; the verified data decides.
	if p.Verified == nil || p.Status != verify.StatusVerified || digits(p.Verified.SNILS) != cert.SNILS ||
		(cert.INN != "" && p.Verified.INN != "" && p.Verified.INN != cert.INN) {
		return nil, "", ErrNoAccount
	}
	a, err := s.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return nil, "", err
	}
	if a.Status != account.StatusActive {
		return nil, "", ErrNoAccount
	}
	s.Record(ctx, m, a.ID, "esign.signin", "", certData(cert))
	return a, k.Flow, nil
}

// Confirm checks a signature over the challenge id made for the session b
// and,
// when the certificate's SNILS, INN (when both have one) and names match
// the verified data, raises the account to confirmed (verify.Confirm: the
// level and the audit event naming the certificate are one change).
func (s *Service) Confirm(ctx context.Context, b Binding, id string, sig []byte, m selfservice.Meta) (*account.Account, error) {
	accountID := b.AccountID
	_, cert, err := s.answer(ctx, id, PurposeConfirm, b, sig)
	if err != nil {
		s.refused(ctx, m, accountID, err)
		return nil, err
	}
	p, _, err := s.d.Verify.Get(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if p.Verified == nil || p.Status != verify.StatusVerified {
		return nil, ErrNotVerified
	}
	if diff := Compare(cert.Attributes, p.Verified); len(diff) > 0 {
		data := certData(cert)
		data["fields"] = strings.Join(diff, ",")
		s.Record(ctx, m, accountID, "esign.mismatch", "", data)
		return nil, &MismatchError{diff}
	}
	data := certData(cert)
	return s.d.Verify.Confirm(ctx, accountID, verify.Confirmation{Cause: verify.CauseESignature,
		By: cert.Issuer(), Subject: cert.Serial(), Name: "", Details: data})
}

// refused records a refused signature (not a replay of nothing).
func (s *Service) refused(ctx context.Context, m selfservice.Meta, accountID string, err error) {
	if errors.Is(err, ErrChallenge) {
		return
	}
	s.Record(ctx, m, accountID, "esign.refused", "", map[string]string{"reason": Code(err)})
}

func certData(c *esign.Certificate) map[string]string {
	return map[string]string{"issuer": c.Issuer(), "serial": c.Serial(), "algorithm": c.Algorithm,
		"not_before": c.Cert.NotBefore.UTC().Format(time.RFC3339), "not_after": c.Cert.NotAfter.UTC().Format(time.RFC3339)}
}

// Compare returns the fields where the certificate differs from the
// verified data: SNILS always, INN when both have one, family and given
// names (and the patronymic when the certificate carries one).
func Compare(c esign.Attributes, d *verify.Data) []string {
	var diff []string
	if c.SNILS != digits(d.SNILS) {
		diff = append(diff, "snils")
	}
	if c.INN != "" && d.INN != "" && c.INN != d.INN {
		diff = append(diff, "inn")
	}
	if !sameName(c.FamilyName, d.FamilyName) {
		diff = append(diff, "family_name")
	}
	if !sameName(c.GivenName, d.GivenName) {
		diff = append(diff, "given_name")
	}
	if c.MiddleName != "" && !sameName(c.MiddleName, d.MiddleName) {
		diff = append(diff, "middle_name")
	}
	return diff
}

func sameName(a, b string) bool {
	fold := strings.NewReplacer("ё", "е", "Ё", "Е")
	return strings.EqualFold(fold.Replace(strings.TrimSpace(a)), fold.Replace(strings.TrimSpace(b)))
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
