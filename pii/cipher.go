// Package pii encrypts citizens' personal data at rest: document numbers,
// SNILS, INN, birth data and scans.
//
// It is envelope encryption. Values are encrypted with AES-256-GCM under a
// random data key (DEK); DEKs are stored in the database (KeyStore), each
// wrapped under a key-encryption key (KEK) derived from the master key, and
// live unwrapped only in memory. So:
//
//   - a database dump without the master key reveals no value, only each
//     value's length and, through blind indexes, which rows share a number;
//   - RotateDataKey starts a new DEK for new data; older DEKs stay and still
//     decrypt what they encrypted;
//   - a master key rotation re-wraps the few stored keys (Rewrap) and never
//     touches a data row.
//
// Every value is bound to where it is stored (its aad, see AAD): a ciphertext
// copied to another citizen's row or another field does not decrypt.
//
// Looking a citizen up by SNILS (or passport or INN) uses a blind index: a
// keyed hash of the normalised number (BlindIndex), stored in an indexed
// column next to the ciphertext. The blind-index secret is a random key stored
// wrapped like a DEK, not a derivation of the master key, so a master key
// rotation leaves every index unchanged.
//
// # Ciphertext format
//
// Version 1, 37 bytes longer than the plaintext:
//
//	0x01 | DEK id (8 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext and tag (16 bytes)
//
// The GCM additional data is the 9-byte header followed by the caller's aad,
// so neither the version nor the key id can be changed. Nonces are random:
// a DEK should encrypt well under 2^32 values, which RotateDataKey, run now
// and then (say yearly), keeps true.
package pii

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosid/gosid/storage"
)

// Errors callers branch on.
var (
	// ErrNotInitialized is returned before Init has succeeded.
	ErrNotInitialized = errors.New("pii: cipher not initialised (call Init)")
	// ErrDecrypt is returned for a ciphertext that is truncated, altered,
	// of an unknown format, or bound to another owner or field.
	ErrDecrypt = errors.New("pii: cannot decrypt (altered, truncated, or stored for another owner or field)")
	// ErrUnknownKey is returned for a ciphertext naming a data key that is
	// not in the store.
	ErrUnknownKey = errors.New("pii: ciphertext names a data key that is not stored")
	// ErrRotationConflict is returned by RotateDataKey when another node
	// rotated first. It wraps storage.ErrConflict.
	ErrRotationConflict = fmt.Errorf("pii: another rotation happened first: %w", storage.ErrConflict)
)

const (
	formatV1   byte = 1
	headerSize      = 1 + idSize
	nonceSize       = 12
	tagSize         = 16
)

// Overhead is how many bytes longer a ciphertext is than its plaintext.
const Overhead = headerSize + nonceSize + tagSize

// initAttempts bounds Init's retries: each follows a create that lost to
// another node, so two or three are the most ever needed.
const initAttempts = 10

// Options configure a Cipher.
type Options struct {
	// MasterKey (32 bytes) wraps every key this node creates or re-wraps.
	MasterKey []byte
	// PreviousMasterKeys still unwrap keys wrapped before a master key
	// rotation, until Rewrap has moved every key under MasterKey.
	PreviousMasterKeys [][]byte
	// ReloadInterval is how often Start re-reads the keys, so that a node
	// encrypts with a key another node rotated in. Default 1 minute.
	ReloadInterval time.Duration
	Logger         *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Cipher encrypts and decrypts personal data and computes blind indexes. It
// is safe for concurrent use; call Init once before anything else.
type Cipher struct {
	store   KeyStore
	current *kek
	keks    map[string]*kek
	o       Options
	ring    atomic.Pointer[keyring]
	// mu serialises loads and writes of keys, so an older listing never
	// replaces a newer one; Encrypt, Decrypt and BlindIndex never take it
	// unless a ciphertext names a key not loaded yet.
	mu sync.Mutex
}

// New returns a Cipher with no keys loaded.
func New(store KeyStore, o Options) (*Cipher, error) {
	cur, err := newKEK(o.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("pii: master key: %w", err)
	}
	c := &Cipher{store: store, current: cur, keks: map[string]*kek{cur.id: cur}, o: o}
	for i, m := range o.PreviousMasterKeys {
		k, err := newKEK(m)
		if err != nil {
			return nil, fmt.Errorf("pii: previous master key %d: %w", i+1, err)
		}
		c.keks[k.id] = k
	}
	c.o.PreviousMasterKeys = nil // the KEKs are all that is needed
	c.o.MasterKey = nil
	if c.o.ReloadInterval <= 0 {
		c.o.ReloadInterval = time.Minute
	}
	if c.o.Logger == nil {
		c.o.Logger = slog.Default()
	}
	if c.o.Now == nil {
		c.o.Now = time.Now
	}
	return c, nil
}

// Init loads the keys, creating the first data key and the blind-index key
// on first start.
//
// Many nodes may start at once on one empty database. A node only proposes
// keys with CreateDataKey, which stores at most one Active key per purpose;
// it then re-reads the store and uses whatever won, so every node ends with
// the same keys.
func (c *Cipher) Init(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range initAttempts {
		recs, err := c.store.ListDataKeys(ctx)
		if err != nil {
			return fmt.Errorf("pii: init: list keys: %w", err)
		}
		proposed := false
		for _, p := range []Purpose{PurposeData, PurposeIndex} {
			if hasActive(recs, p) {
				continue
			}
			if err := c.propose(ctx, p); err != nil {
				return err
			}
			proposed = true
		}
		if !proposed {
			return c.install(recs)
		}
	}
	return fmt.Errorf("pii: init: the stored keys kept changing during %d attempts", initAttempts)
}

func hasActive(recs []DataKey, p Purpose) bool {
	for _, d := range recs {
		if d.Purpose == p && d.State == StateActive {
			return true
		}
	}
	return false
}

// propose creates an Active key of purpose p unless another node got there
// first; either way the caller re-reads.
func (c *Cipher) propose(ctx context.Context, p Purpose) error {
	d, err := newKey(c.current, p, StateActive, c.o.Now().UTC())
	if err != nil {
		return err
	}
	won, err := c.store.CreateDataKey(ctx, d)
	if err != nil {
		return fmt.Errorf("pii: init: create %s key: %w", p, err)
	}
	if won {
		c.o.Logger.Info("pii key created", "purpose", string(p), "id", d.ID, "kek", d.KEKID)
	}
	return nil
}

// Reload re-reads the keys. On error the keys loaded before stay in use.
func (c *Cipher) Reload(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reload(ctx)
}

func (c *Cipher) reload(ctx context.Context) error {
	recs, err := c.store.ListDataKeys(ctx)
	if err != nil {
		return fmt.Errorf("pii: reload keys: %w", err)
	}
	return c.install(recs)
}

// install swaps in the keyring of recs. c.mu must be held.
func (c *Cipher) install(recs []DataKey) error {
	r, err := buildKeyring(recs, c.keks)
	if err != nil {
		return err
	}
	if prev := c.ring.Load(); prev == nil || prev.active.id != r.active.id {
		c.o.Logger.Info("pii keys loaded", "data_keys", len(r.data), "active", r.active.name)
	}
	c.ring.Store(r)
	return nil
}

// Start reloads the keys every ReloadInterval until ctx is done, so that
// after a rotation on another node this one encrypts under the new key too.
// (Decrypt does not depend on it: a ciphertext under a key not loaded yet
// makes it reload at once.) It returns at once.
func (c *Cipher) Start(ctx context.Context) {
	go func() {
		t := time.NewTicker(c.o.ReloadInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := c.Reload(ctx); err != nil && ctx.Err() == nil {
				c.o.Logger.Error("reload pii keys", "err", err)
			}
		}
	}()
}

// Encrypt encrypts plaintext under the active data key, bound to aad (see
// AAD). It does no I/O.
func (c *Cipher) Encrypt(plaintext, aad []byte) ([]byte, error) {
	r := c.ring.Load()
	if r == nil {
		return nil, ErrNotInitialized
	}
	k := r.active
	out := make([]byte, headerSize+nonceSize, Overhead+len(plaintext))
	out[0] = formatV1
	copy(out[1:headerSize], k.id[:])
	nonce := out[headerSize:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("pii: encrypt: %w", err)
	}
	return k.aead.Seal(out, nonce, plaintext, gcmAAD(out[:headerSize], aad)), nil
}

// Decrypt returns the plaintext of a ciphertext made by Encrypt with the same
// aad, or an error wrapping ErrDecrypt or ErrUnknownKey. Only when the
// ciphertext names a key this node has not loaded (created on another node
// since) does it read the store, hence ctx.
func (c *Cipher) Decrypt(ctx context.Context, ct, aad []byte) ([]byte, error) {
	r := c.ring.Load()
	if r == nil {
		return nil, ErrNotInitialized
	}
	if len(ct) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrDecrypt, len(ct))
	}
	if ct[0] != formatV1 {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrDecrypt, ct[0])
	}
	id := keyID(ct[1:headerSize])
	k := r.data[id]
	if k == nil {
		var err error
		if k, err = c.fetch(ctx, id); err != nil {
			return nil, err
		}
	}
	pt, err := k.aead.Open(nil, ct[headerSize:headerSize+nonceSize], ct[headerSize+nonceSize:], gcmAAD(ct[:headerSize], aad))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// fetch reloads the keys to find id. Concurrent misses queue on c.mu and
// find the key the first one loaded.
func (c *Cipher) fetch(ctx context.Context, id keyID) (*dataKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := c.ring.Load().data[id]; k != nil {
		return k, nil
	}
	if err := c.reload(ctx); err != nil {
		return nil, fmt.Errorf("pii: decrypt: %w", err)
	}
	if k := c.ring.Load().data[id]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownKey, hex.EncodeToString(id[:]))
}

func gcmAAD(header, aad []byte) []byte {
	return append(bytes.Clone(header), aad...)
}

// EncryptString is Encrypt for text. The empty string encrypts to nil, so an
// absent optional field stays NULL; DecryptString maps it back.
func (c *Cipher) EncryptString(plaintext string, aad []byte) ([]byte, error) {
	if plaintext == "" {
		return nil, nil
	}
	return c.Encrypt([]byte(plaintext), aad)
}

// DecryptString is Decrypt for text; an empty ciphertext is the empty string.
func (c *Cipher) DecryptString(ctx context.Context, ct, aad []byte) (string, error) {
	if len(ct) == 0 {
		return "", nil
	}
	pt, err := c.Decrypt(ctx, ct, aad)
	return string(pt), err
}

// AAD binds a value to where it is stored, e.g. AAD("account", id, "snils").
// Each part is length-prefixed, so no two different lists of parts give the
// same aad, whatever characters the parts contain.
func AAD(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += binary.MaxVarintLen64 + len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = binary.AppendUvarint(out, uint64(len(p)))
		out = append(out, p...)
	}
	return out
}
