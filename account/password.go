package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Argon2Params are the argon2id cost parameters.
type Argon2Params struct {
	// Memory is in KiB.
	Memory  uint32
	Time    uint32
	Threads uint8
}

// DefaultArgon2Params is OWASP's baseline for argon2id (Password Storage
// Cheat Sheet): 19 MiB of memory, 2 passes, 1 lane. One hash then takes tens
// of milliseconds of one core and 19 MiB for that time, which is what makes
// an offline guess expensive; more lanes would only trade that memory-hard
// cost for parallel speed, of no use to a server that hashes many passwords
// at once. Raise Memory or Time when the hardware allows: Verify reports
// hashes made with other parameters so that they are upgraded at sign-in.
var DefaultArgon2Params = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// MaxPasswordRunes is the longest password, in characters, that is hashed.
// Hashing costs the same whatever the length, but normalising and feeding a
// megabyte to the hash on every attempt does not; 128 is also the policy
// maximum.
const MaxPasswordRunes = 128

// ErrPasswordTooLong is returned by Hash for a password longer than
// MaxPasswordRunes.
var ErrPasswordTooLong = errors.New("account: password too long")

// ErrMalformedHash is returned by Verify for a stored hash it cannot parse.
var ErrMalformedHash = errors.New("account: malformed password hash")

const (
	argonSaltLen = 16
	argonKeyLen  = 32

	// Bounds on parameters read from a stored hash, so that a corrupted or
	// planted row cannot make one sign-in take gigabytes or minutes.
	maxStoredMemory  = 1 << 20 // KiB, 1 GiB
	maxStoredTime    = 64
	maxStoredThreads = 64
	minStoredSalt    = 8
	maxStoredSalt    = 64
	minStoredKey     = 16
	maxStoredKey     = 64
)

// PasswordHasher hashes and verifies passwords with argon2id, storing them in
// the PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with salt and hash in unpadded standard base64.
//
// Each hash holds Memory KiB while it runs, so the number running at once is
// bounded: with the defaults and 2×GOMAXPROCS slots, at most 76 MiB on two
// cores however many sign-ins arrive; the rest wait for a slot or for their
// context to end.
//
// Passwords are normalised to Unicode NFKC before hashing (NIST SP 800-63B
// §5.1.1.2), so that a Cyrillic «й» typed as one code point or as «и» plus a
// combining breve is the same password on every device.
type PasswordHasher struct {
	params Argon2Params
	sem    chan struct{}
	// dummy is a well-formed hash with the current parameters that no
	// password matches in practice; see DummyVerify.
	dummy string
}

// NewPasswordHasher returns a hasher that hashes new passwords with p (zero
// fields take DefaultArgon2Params' values) and runs at most maxConcurrent
// hashes at once (<= 0 means 2×GOMAXPROCS).
func NewPasswordHasher(p Argon2Params, maxConcurrent int) *PasswordHasher {
	if p.Memory == 0 {
		p.Memory = DefaultArgon2Params.Memory
	}
	if p.Time == 0 {
		p.Time = DefaultArgon2Params.Time
	}
	if p.Threads == 0 {
		p.Threads = DefaultArgon2Params.Threads
	}
	if maxConcurrent <= 0 {
		maxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	h := &PasswordHasher{params: p, sem: make(chan struct{}, maxConcurrent)}
	var salt [argonSaltLen]byte
	var key [argonKeyLen]byte
	h.dummy = encodeArgon2id(p, salt[:], key[:])
	return h
}

// Hash returns the PHC string of password under a fresh random salt. It
// waits for a free slot and returns ctx's error if ctx ends first.
func (h *PasswordHasher) Hash(ctx context.Context, password string) (string, error) {
	if utf8.RuneCountInString(password) > MaxPasswordRunes {
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key, err := h.derive(ctx, password, salt, h.params, argonKeyLen)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return encodeArgon2id(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, taking the parameters
// from encoded. needsRehash is true when the password matched but encoded
// was made with other parameters than the current ones: the caller should
// store a fresh Hash. A password longer than MaxPasswordRunes never matches
// and is not hashed. A malformed encoded returns ErrMalformedHash.
func (h *PasswordHasher) Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	p, salt, want, err := decodeArgon2id(encoded)
	if err != nil {
		return false, false, err
	}
	if utf8.RuneCountInString(password) > MaxPasswordRunes {
		return false, false, nil
	}
	got, err := h.derive(ctx, password, salt, p, uint32(len(want)))
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	rehash := p != h.params || len(salt) != argonSaltLen || len(want) != argonKeyLen
	return true, rehash, nil
}

// DummyVerify does the work of Verify against a fixed hash with the current
// parameters and discards the result. Call it when the login names no
// account, so that the response takes as long as a wrong password for a real
// account and does not reveal which logins exist.
func (h *PasswordHasher) DummyVerify(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, h.dummy, password)
	return err
}

// derive runs argon2id in one of the bounded slots.
func (h *PasswordHasher) derive(ctx context.Context, password string, salt []byte, p Argon2Params, keyLen uint32) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.sem }()
	pw := []byte(norm.NFKC.String(password))
	return argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, keyLen), nil
}

func encodeArgon2id(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// decodeArgon2id parses a PHC argon2id string strictly: version 19,
// parameters m, t, p in that order, canonical decimal numbers and base64.
func decodeArgon2id(s string) (p Argon2Params, salt, key []byte, err error) {
	fail := func(reason string) (Argon2Params, []byte, []byte, error) {
		return Argon2Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, reason)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("want 5 $-separated fields")
	}
	if parts[1] != "argon2id" {
		return fail("not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail("unsupported version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return fail("want parameters m, t, p")
	}
	var vals [3]uint32
	for i, name := range []string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(kv[i], name)
		v, perr := strconv.ParseUint(num, 10, 32)
		if !ok || perr != nil || strconv.FormatUint(v, 10) != num {
			return fail("bad parameter " + name[:1])
		}
		vals[i] = uint32(v)
	}
	p = Argon2Params{Memory: vals[0], Time: vals[1]}
	switch {
	case vals[2] < 1 || vals[2] > maxStoredThreads:
		return fail("parallelism out of range")
	case p.Time < 1 || p.Time > maxStoredTime:
		return fail("time out of range")
	case p.Memory < 8*vals[2] || p.Memory > maxStoredMemory:
		return fail("memory out of range")
	}
	p.Threads = uint8(vals[2])
	enc := base64.RawStdEncoding.Strict()
	if salt, err = enc.DecodeString(parts[4]); err != nil || len(salt) < minStoredSalt || len(salt) > maxStoredSalt {
		return fail("bad salt")
	}
	if key, err = enc.DecodeString(parts[5]); err != nil || len(key) < minStoredKey || len(key) > maxStoredKey {
		return fail("bad hash")
	}
	return p, salt, key, nil
}
