package main

import (
	"context"
	"runtime"
	"time"

	"golang.org/x/crypto/argon2"
)

// The argon2id parameters gosid hashes citizens' passwords with
// (account.DefaultArgon2Params, OWASP's baseline). They are repeated here
// rather than imported so that the figure stays the raw cost of the
// algorithm on this machine, whatever the server does around it.
const (
	argonMemoryKiB = 19456
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
)

// hashRate measures raw argon2id hashes a second with one goroutine per
// GOMAXPROCS, for about d. A sign-in flow costs one such hash, so this is
// the ceiling the flow benchmark is read against.
func hashRate(ctx context.Context, d time.Duration) (*loadResult, int, error) {
	n := runtime.GOMAXPROCS(0)
	password := []byte("Bench-Passw0rd!x")
	res, err := runLoad(ctx, loadSpec{concurrency: n, warmup: 200 * time.Millisecond, duration: d, maxOps: 100_000},
		func(_ context.Context, worker int) (op, error) {
			salt := make([]byte, 16)
			salt[0] = byte(worker)
			return func() error {
				_ = argon2.IDKey(password, salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
				return nil
			}, nil
		})
	return res, n, err
}
