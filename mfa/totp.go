// Package mfa holds second factors. This file: authenticator-app codes
// (TOTP, RFC 6238) with the rules of DESIGN.md: a code is accepted once
// (no replay within its window), a clock drift of one step either way is
// tolerated, and wrong codes have their own attempt counter, separate from
// passwords.
package mfa

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"image/png"
	"strconv"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gosid/gosid/storage"
)

// Errors callers branch on.
var (
	ErrInvalidCode = errors.New("mfa: wrong code")
	ErrReplayed    = errors.New("mfa: code already used")
	ErrTooMany     = errors.New("mfa: too many wrong codes; try again later")
)

// TOTP limits: 5 wrong codes per account in 15 minutes.
const (
	totpPeriod   = 30 * time.Second
	maxTOTPFails = 5
	totpLockout  = 15 * time.Minute
)

// Enrollment is a new authenticator secret to show once: as a QR code and as
// text for manual entry.
type Enrollment struct {
	Secret string // base32, for manual entry
	URL    string // otpauth:// URL, encoded in the QR code
	QRPNG  []byte // the QR code, rendered by gosid (no external service)
}

// NewEnrollment generates a secret for account (the label the app shows).
func NewEnrollment(issuer, account string) (*Enrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: uint(totpPeriod.Seconds()),
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, SecretSize: 20})
	if err != nil {
		return nil, fmt.Errorf("mfa: generate totp secret: %w", err)
	}
	return enrollmentOf(key)
}

func enrollmentOf(key *otp.Key) (*Enrollment, error) {
	img, err := key.Image(256, 256)
	if err != nil {
		return nil, fmt.Errorf("mfa: render qr: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &Enrollment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes()}, nil
}

// Verifier checks TOTP codes against replay and brute force.
type Verifier struct {
	eph storage.Ephemeral
	now func() time.Time
}

// NewVerifier returns a verifier keeping its counters in eph.
func NewVerifier(eph storage.Ephemeral) *Verifier { return &Verifier{eph: eph, now: time.Now} }

// NewVerifierAt returns a verifier on the given clock (the wall clock when
// now is nil), so that codes are checked at the same time as the rest of a
// flow (the engine's clock; a fixed one in tests).
func NewVerifierAt(eph storage.Ephemeral, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{eph: eph, now: now}
}

// Verify checks code for the account's secret. The failure counter is taken
// before the comparison, so parallel guesses cannot exceed the limit; a
// matching code is claimed for its time step exactly once.
func (v *Verifier) Verify(ctx context.Context, accountID, secret, code string) error {
	fails, err := v.eph.Incr(ctx, "mfa:totp:fail:"+accountID, totpLockout)
	if err != nil {
		return err
	}
	if fails > maxTOTPFails {
		return ErrTooMany
	}
	now := v.now()
	for _, skew := range []int64{0, -1, 1} {
		at := now.Add(time.Duration(skew) * totpPeriod)
		want, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: uint(totpPeriod.Seconds()),
			Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return fmt.Errorf("mfa: totp: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		step := at.Unix() / int64(totpPeriod.Seconds())
		fresh, err := v.eph.PutNX(ctx, "mfa:totp:used:"+accountID+":"+strconv.FormatInt(step, 10), []byte{1}, 3*totpPeriod)
		if err != nil {
			return err
		}
		if !fresh {
			return ErrReplayed
		}
		return v.eph.Delete(ctx, "mfa:totp:fail:"+accountID)
	}
	return ErrInvalidCode
}

// EnrollmentFromURL rebuilds an enrolment (secret, QR code) from its
// otpauth:// URL, so that only the URL needs keeping between steps.
func EnrollmentFromURL(u string) (*Enrollment, error) {
	key, err := otp.NewKeyFromURL(u)
	if err != nil {
		return nil, fmt.Errorf("mfa: otpauth url: %w", err)
	}
	return enrollmentOf(key)
}
