package codes_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosid/gosid/codes"
	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/storage/redis"
)

func newService(t *testing.T, p codes.Policy) (*codes.Service, storage.Ephemeral) {
	t.Helper()
	url, prefix := testenv.RedisURL(t)
	st, err := redis.Open(context.Background(), url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return codes.New(st, []byte("0123456789abcdef0123456789abcdef"), p), st
}

func TestIssueAndVerify(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, codes.DefaultPolicy)
	code, err := s.Issue(ctx, "register", "+79990000001", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 6 {
		t.Fatalf("code %q is not 6 digits", code)
	}
	if err := s.Verify(ctx, "recover", "+79990000001", code); !errors.Is(err, codes.ErrExpired) {
		t.Fatalf("a code for another purpose: %v", err)
	}
	if err := s.Verify(ctx, "register", "+79990000001", code); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if err := s.Verify(ctx, "register", "+79990000001", code); !errors.Is(err, codes.ErrExpired) {
		t.Fatalf("a used code must not work twice: %v", err)
	}
}

func TestResendLimits(t *testing.T) {
	ctx := context.Background()
	p := codes.DefaultPolicy
	p.ResendAfter = time.Millisecond
	s, _ := newService(t, p)
	if _, err := s.Issue(ctx, "register", "a@example.ru", time.Minute); err != nil {
		t.Fatal(err)
	}
	strict, _ := newService(t, codes.DefaultPolicy)
	if _, err := strict.Issue(ctx, "register", "b@example.ru", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Issue(ctx, "register", "b@example.ru", time.Minute); !errors.Is(err, codes.ErrTooSoon) {
		t.Fatalf("resend within 60s: %v", err)
	}
	for i := 2; i <= 5; i++ {
		time.Sleep(5 * time.Millisecond)
		if _, err := s.Issue(ctx, "register", "a@example.ru", time.Minute); err != nil {
			t.Fatalf("code %d: %v", i, err)
		}
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := s.Issue(ctx, "register", "a@example.ru", time.Minute); !errors.Is(err, codes.ErrHourlyLimit) {
		t.Fatalf("sixth code in an hour: %v", err)
	}
}

func TestWrongCodesBurnAndBlock(t *testing.T) {
	ctx := context.Background()
	p := codes.DefaultPolicy
	p.ResendAfter = time.Millisecond
	s, _ := newService(t, p)
	contact := "+79990000002"
	for burn := 1; burn <= 3; burn++ {
		time.Sleep(5 * time.Millisecond)
		code, err := s.Issue(ctx, "login", contact, time.Minute)
		if err != nil {
			t.Fatalf("burn %d: issue: %v", burn, err)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := 1; i <= 2; i++ {
			if err := s.Verify(ctx, "login", contact, wrong); !errors.Is(err, codes.ErrInvalid) {
				t.Fatalf("wrong try %d: %v", i, err)
			}
		}
		err = s.Verify(ctx, "login", contact, wrong)
		if burn < 3 && !errors.Is(err, codes.ErrBurned) {
			t.Fatalf("third wrong try: %v", err)
		}
		if burn == 3 && !errors.Is(err, codes.ErrBlocked) {
			t.Fatalf("third burned code must block: %v", err)
		}
		// The burned code no longer works even when right.
		if err := s.Verify(ctx, "login", contact, code); err == nil {
			t.Fatal("a burned code was accepted")
		}
	}
	if _, err := s.Issue(ctx, "login", contact, time.Minute); !errors.Is(err, codes.ErrBlocked) {
		t.Fatalf("blocked contact got a code: %v", err)
	}
	if err := s.Unblock(ctx, "login", contact); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // past the (1 ms) resend interval
	if _, err := s.Issue(ctx, "login", contact, time.Minute); err != nil {
		t.Fatalf("after unblock: %v", err)
	}
}

// TestParallelGuesses submits 100 wrong guesses at once: at most MaxAttempts
// of them may be compared, the rest must be refused.
func TestParallelGuesses(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, codes.DefaultPolicy)
	code, err := s.Issue(ctx, "register", "+79990000003", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var invalid atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			guess := "999999"
			if guess == code {
				guess = "888888"
			}
			if err := s.Verify(ctx, "register", "+79990000003", guess); errors.Is(err, codes.ErrInvalid) {
				invalid.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if n := invalid.Load(); n > 2 {
		t.Fatalf("%d guesses were compared as merely invalid; at most 2 may be before the code burns", n)
	}
	if err := s.Verify(ctx, "register", "+79990000003", code); err == nil {
		t.Fatal("the code survived 100 wrong guesses")
	}
}

func TestLinks(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, codes.DefaultPolicy)
	tok, err := s.NewLink(ctx, []byte("account-1"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var wins atomic.Int32
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p, err := s.UseLink(ctx, tok); err == nil && string(p) == "account-1" {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("a single-use link worked %d times", wins.Load())
	}
	if _, err := s.UseLink(ctx, "forged"); !errors.Is(err, codes.ErrExpired) {
		t.Fatalf("forged token: %v", err)
	}
}
