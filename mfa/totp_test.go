package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/storage/sqlstore"
)

func newVerifier(t testing.TB, now time.Time) *mfa.Verifier {
	t.Helper()
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	v := mfa.NewVerifier(st)
	mfa.SetClock(v, func() time.Time { return now })
	return v
}

func TestEnrollment(t *testing.T) {
	e, err := mfa.NewEnrollment("gosid", "+79123456789")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Secret) < 32 || !strings.HasPrefix(e.URL, "otpauth://totp/gosid:") {
		t.Fatalf("enrollment: %+v", e)
	}
	if _, err := png.Decode(bytes.NewReader(e.QRPNG)); err != nil {
		t.Fatalf("QR is not a PNG: %v", err)
	}
}

func TestVerifyDriftAndReplay(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 15, 0, time.UTC)
	e, _ := mfa.NewEnrollment("gosid", "a")
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(e.Secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	v := newVerifier(t, now)
	if err := v.Verify(ctx, "a1", e.Secret, code(now)); err != nil {
		t.Fatalf("current code: %v", err)
	}
	if err := v.Verify(ctx, "a1", e.Secret, code(now)); !errors.Is(err, mfa.ErrReplayed) {
		t.Fatalf("replay: %v", err)
	}
	if err := v.Verify(ctx, "a1", e.Secret, code(now.Add(-30*time.Second))); err != nil {
		t.Fatalf("one step behind: %v", err)
	}
	if err := v.Verify(ctx, "a1", e.Secret, code(now.Add(30*time.Second))); err != nil {
		t.Fatalf("one step ahead: %v", err)
	}
	if err := v.Verify(ctx, "a1", e.Secret, code(now.Add(-90*time.Second))); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Fatalf("three steps behind: %v", err)
	}
}

// TestParallelGuesses: 50 wrong codes at once compare at most 5; after that
// even the right code is refused until the window passes.
func TestParallelGuesses(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	e, _ := mfa.NewEnrollment("gosid", "a")
	v := newVerifier(t, now)
	right, _ := totp.GenerateCode(e.Secret, now)
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	var compared atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errors.Is(v.Verify(ctx, "a2", e.Secret, wrong), mfa.ErrInvalidCode) {
				compared.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := compared.Load(); n > mfa.MaxTOTPFails {
		t.Fatalf("%d wrong codes were compared; the limit is %d", n, mfa.MaxTOTPFails)
	}
	if err := v.Verify(ctx, "a2", e.Secret, right); !errors.Is(err, mfa.ErrTooMany) {
		t.Fatalf("right code during the lockout: %v", err)
	}
}
