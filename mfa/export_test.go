package mfa

import "time"

// Test hooks for the external tests (which use sqlstore; sqlstore imports
// mfa, so they cannot live in package mfa).

// SetClock replaces the verifier's clock.
func SetClock(v *Verifier, now func() time.Time) { v.now = now }

// MaxTOTPFails is the limit of wrong codes.
const MaxTOTPFails = maxTOTPFails
