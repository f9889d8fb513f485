package mfa_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gosid/gosid/mfa"
)

// BenchmarkTOTPVerify is one accepted authenticator code: the attempt
// counter, three candidate codes at most, the replay claim and the counter
// reset, on the embedded store (Redis is faster).
func BenchmarkTOTPVerify(b *testing.B) {
	e, err := mfa.NewEnrollment("gosid", "bench")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	v := newVerifier(b, start)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		// A new account per code, so no code is a replay.
		at := start
		code, _ := totp.GenerateCode(e.Secret, at)
		if err := v.Verify(ctx, "acct-"+strconv.Itoa(i), e.Secret, code); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRecoveryCodes is making ten codes and their stored hashes.
func BenchmarkRecoveryCodes(b *testing.B) {
	key := make([]byte, 32)
	for b.Loop() {
		list, err := mfa.NewRecoveryCodes()
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range list {
			_ = mfa.HashRecoveryCode(key, "acct", mfa.NormalizeRecoveryCode(c))
		}
	}
}
