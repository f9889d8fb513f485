package account

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cheapParams keep unit tests fast; one test runs the defaults.
var cheapParams = Argon2Params{Memory: 64, Time: 1, Threads: 1}

func TestPasswordRoundTripDefaults(t *testing.T) {
	ctx := context.Background()
	h := NewPasswordHasher(DefaultArgon2Params, 0)
	enc, err := h.Hash(ctx, "Correct-Horse-42!")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(enc) {
		t.Fatalf("hash %q is not the expected PHC string", enc)
	}
	ok, rehash, err := h.Verify(ctx, enc, "Correct-Horse-42!")
	if err != nil || !ok || rehash {
		t.Fatalf("Verify(right) = %v, %v, %v", ok, rehash, err)
	}
	if ok, _, err := h.Verify(ctx, enc, "correct-Horse-42!"); err != nil || ok {
		t.Fatalf("Verify(wrong) = %v, %v", ok, err)
	}
	if cap(h.sem) < 2 {
		t.Fatalf("default concurrency = %d", cap(h.sem))
	}
}

func TestPasswordHashAndVerify(t *testing.T) {
	ctx := context.Background()
	h := NewPasswordHasher(cheapParams, 1)
	long := strings.Repeat("я", MaxPasswordRunes)
	tests := []struct {
		name, password, attempt string
		want                    bool
	}{
		{"same", "Пароль-надёжный-1", "Пароль-надёжный-1", true},
		{"wrong", "Пароль-надёжный-1", "Пароль-надёжный-2", false},
		{"case", "Secret-Password-1", "secret-Password-1", false},
		{"trailing space", "Secret-Password-1", "Secret-Password-1 ", false},
		{"empty attempt", "Secret-Password-1", "", false},
		{"128 characters", long, long, true},
		{"129 characters never match", long, long + "я", false},
		// «й» precomposed and as «и» + combining breve are one password.
		{"NFC vs NFD", "Мой-пароль-1", "Мои\u0306-пароль-1", true},
		{"fullwidth digit", "Parol-1", "Parol-\uff11", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := h.Hash(ctx, tt.password)
			if err != nil {
				t.Fatal(err)
			}
			ok, _, err := h.Verify(ctx, enc, tt.attempt)
			if err != nil || ok != tt.want {
				t.Fatalf("Verify = %v, %v; want %v", ok, err, tt.want)
			}
		})
	}
}

func TestPasswordSaltIsRandom(t *testing.T) {
	h := NewPasswordHasher(cheapParams, 1)
	a, _ := h.Hash(context.Background(), "same")
	b, _ := h.Hash(context.Background(), "same")
	if a == b {
		t.Fatal("two hashes of one password are equal")
	}
}

func TestPasswordTooLong(t *testing.T) {
	h := NewPasswordHasher(cheapParams, 1)
	if _, err := h.Hash(context.Background(), strings.Repeat("a", MaxPasswordRunes+1)); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("err = %v", err)
	}
	if err := h.DummyVerify(context.Background(), strings.Repeat("a", 1<<20)); err != nil {
		t.Fatal(err)
	}
}

func TestPasswordMalformed(t *testing.T) {
	h := NewPasswordHasher(cheapParams, 1)
	good, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"missing field", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"extra field", good + "$x"},
		{"no leading $", good[1:]},
		{"params order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + key},
		{"missing param", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"param spaces", "$argon2id$v=19$m=64, t=1,p=1$" + salt + "$" + key},
		{"param sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key},
		{"param leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key},
		{"param not a number", "$argon2id$v=19$m=lots,t=1,p=1$" + salt + "$" + key},
		{"param overflow", "$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + key},
		{"time zero", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"time huge", "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key},
		{"threads zero", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"threads huge", "$argon2id$v=19$m=65536,t=1,p=255$" + salt + "$" + key},
		{"memory too small", "$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key},
		{"memory 4 GiB", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key},
		{"salt not base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key},
		{"salt padded", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"salt too short", "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key},
		{"salt empty", "$argon2id$v=19$m=64,t=1,p=1$$" + key},
		{"hash not base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$%%%"},
		{"hash too short", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAA"},
		{"hash url alphabet", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("_", 43)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), tt.hash, "pw")
			if !errors.Is(err, ErrMalformedHash) || ok || rehash {
				t.Fatalf("Verify(%q) = %v, %v, %v; want ErrMalformedHash", tt.hash, ok, rehash, err)
			}
		})
	}
}

func TestPasswordNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := NewPasswordHasher(cheapParams, 1)
	enc, err := old.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Argon2Params{
		{Memory: 128, Time: 1, Threads: 1},
		{Memory: 64, Time: 2, Threads: 1},
		{Memory: 64, Time: 1, Threads: 2},
	} {
		cur := NewPasswordHasher(p, 1)
		ok, rehash, err := cur.Verify(ctx, enc, "pw")
		if err != nil || !ok || !rehash {
			t.Fatalf("params %+v: Verify = %v, %v, %v; want a match that needs rehash", p, ok, rehash, err)
		}
		if ok, rehash, _ := cur.Verify(ctx, enc, "wrong"); ok || rehash {
			t.Fatalf("params %+v: wrong password: %v, %v", p, ok, rehash)
		}
	}
	if ok, rehash, _ := old.Verify(ctx, enc, "pw"); !ok || rehash {
		t.Fatalf("same params: %v, %v", ok, rehash)
	}
}

func TestPasswordZeroParamsTakeDefaults(t *testing.T) {
	h := NewPasswordHasher(Argon2Params{}, 0)
	if h.params != DefaultArgon2Params {
		t.Fatalf("params = %+v", h.params)
	}
}

func TestDummyVerify(t *testing.T) {
	h := NewPasswordHasher(cheapParams, 1)
	if _, _, _, err := decodeArgon2id(h.dummy); err != nil {
		t.Fatalf("dummy hash %q: %v", h.dummy, err)
	}
	if !strings.Contains(h.dummy, "m=64,t=1,p=1") {
		t.Fatalf("dummy hash %q does not use the current parameters", h.dummy)
	}
	if err := h.DummyVerify(context.Background(), "anything"); err != nil {
		t.Fatal(err)
	}
}

func TestPasswordContextWhileFull(t *testing.T) {
	h := NewPasswordHasher(cheapParams, 1)
	h.sem <- struct{}{} // every slot busy

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with full slots: err = %v", err)
	}
	enc := h.dummy
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, _, err := h.Verify(cancelled, enc, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with cancelled ctx: err = %v", err)
	}
	if err := h.DummyVerify(cancelled, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("DummyVerify with cancelled ctx: err = %v", err)
	}

	// A waiter proceeds once the slot frees.
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "pw")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Hash ran with no free slot: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	<-h.sem
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Even with a cancelled context and a free slot, no hashing starts.
func TestPasswordCancelledBeforeStart(t *testing.T) {
	h := NewPasswordHasher(DefaultArgon2Params, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 {
		if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	}
}

func BenchmarkArgon2idHash(b *testing.B) {
	h := NewPasswordHasher(DefaultArgon2Params, 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "Correct-Horse-42!"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkArgon2idHashParallel(b *testing.B) {
	h := NewPasswordHasher(DefaultArgon2Params, 0)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "Correct-Horse-42!"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
