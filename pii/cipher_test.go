package pii_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gosid/gosid/pii"
)

func testMaster(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

var quiet = slog.New(slog.DiscardHandler)

// countingStore counts the listings, to show when a Cipher reads the store.
type countingStore struct {
	pii.KeyStore
	lists atomic.Int64
}

func (s *countingStore) ListDataKeys(ctx context.Context) ([]pii.DataKey, error) {
	s.lists.Add(1)
	return s.KeyStore.ListDataKeys(ctx)
}

// newCipher returns an initialised Cipher on store with master key 1 unless o
// names one.
func newCipher(t testing.TB, store pii.KeyStore, o pii.Options) *pii.Cipher {
	t.Helper()
	if o.MasterKey == nil {
		o.MasterKey = testMaster(1)
	}
	o.Logger = quiet
	c, err := pii.New(store, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustEncrypt(t testing.TB, c *pii.Cipher, pt, aad []byte) []byte {
	t.Helper()
	ct, err := c.Encrypt(pt, aad)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func mustDecrypt(t testing.TB, c *pii.Cipher, ct, aad, want []byte) {
	t.Helper()
	got, err := c.Decrypt(t.Context(), ct, aad)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Decrypt = %q, want %q", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	c := newCipher(t, pii.NewMemKeyStore(), pii.Options{})
	aad := pii.AAD("account", "a1", "passport")
	for _, pt := range [][]byte{nil, []byte("4510 123456"), bytes.Repeat([]byte("скан "), 200_000)} {
		ct := mustEncrypt(t, c, pt, aad)
		if len(ct) != len(pt)+pii.Overhead || ct[0] != 1 {
			t.Fatalf("ciphertext of %d bytes: %d bytes, version %d; want %d bytes, version 1",
				len(pt), len(ct), ct[0], len(pt)+pii.Overhead)
		}
		if len(pt) > 0 && bytes.Contains(ct, pt[:min(len(pt), 32)]) {
			t.Fatal("plaintext visible in the ciphertext")
		}
		mustDecrypt(t, c, ct, aad, pt)
	}
	a, b := mustEncrypt(t, c, []byte("same"), aad), mustEncrypt(t, c, []byte("same"), aad)
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions of one value are identical")
	}
}

func TestDecryptRefusesAnotherOwnerOrField(t *testing.T) {
	c := newCipher(t, pii.NewMemKeyStore(), pii.Options{})
	ct := mustEncrypt(t, c, []byte("112-233-445 95"), pii.AAD("account", "a1", "snils"))
	for name, aad := range map[string][]byte{
		"another account": pii.AAD("account", "a2", "snils"),
		"another field":   pii.AAD("account", "a1", "inn"),
		"no aad":          nil,
		"joined aad":      []byte("account:a1:snils"),
	} {
		if _, err := c.Decrypt(t.Context(), ct, aad); !errors.Is(err, pii.ErrDecrypt) {
			t.Errorf("%s: Decrypt error %v, want ErrDecrypt", name, err)
		}
	}
}

func TestDecryptRefusesAlteredCiphertext(t *testing.T) {
	c := newCipher(t, pii.NewMemKeyStore(), pii.Options{})
	aad := pii.AAD("account", "a1", "inn")
	ct := mustEncrypt(t, c, []byte("500100732259"), aad)
	refused := func(what string, bad []byte) {
		t.Helper()
		_, err := c.Decrypt(t.Context(), bad, aad)
		if !errors.Is(err, pii.ErrDecrypt) && !errors.Is(err, pii.ErrUnknownKey) {
			t.Errorf("%s: Decrypt error %v, want ErrDecrypt or ErrUnknownKey", what, err)
		}
	}
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		refused(fmt.Sprintf("bit flipped in byte %d", i), bad)
	}
	for n := range len(ct) {
		refused("truncated", ct[:n])
	}
	refused("extended", append(bytes.Clone(ct), 0))
	if _, err := c.Decrypt(t.Context(), append([]byte{2}, ct[1:]...), aad); !errors.Is(err, pii.ErrDecrypt) ||
		!strings.Contains(err.Error(), "version 2") {
		t.Errorf("unknown version: %v", err)
	}
}

// TestDecryptUnknownKey: a ciphertext naming a key no store holds is refused
// as such, after one look at the store.
func TestDecryptUnknownKey(t *testing.T) {
	store := &countingStore{KeyStore: pii.NewMemKeyStore()}
	c := newCipher(t, store, pii.Options{})
	elsewhere := newCipher(t, pii.NewMemKeyStore(), pii.Options{})
	ct := mustEncrypt(t, elsewhere, []byte("x"), nil)
	before := store.lists.Load()
	_, err := c.Decrypt(t.Context(), ct, nil)
	if !errors.Is(err, pii.ErrUnknownKey) {
		t.Fatalf("Decrypt under another store's key: %v, want ErrUnknownKey", err)
	}
	if n := store.lists.Load() - before; n != 1 {
		t.Fatalf("the miss read the store %d times, want 1", n)
	}
}

func TestNotInitialized(t *testing.T) {
	c, err := pii.New(pii.NewMemKeyStore(), pii.Options{MasterKey: testMaster(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Encrypt([]byte("x"), nil); !errors.Is(err, pii.ErrNotInitialized) {
		t.Errorf("Encrypt: %v", err)
	}
	if _, err := c.Decrypt(t.Context(), make([]byte, 64), nil); !errors.Is(err, pii.ErrNotInitialized) {
		t.Errorf("Decrypt: %v", err)
	}
	if err := c.RotateDataKey(t.Context()); !errors.Is(err, pii.ErrNotInitialized) {
		t.Errorf("RotateDataKey: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("BlindIndex before Init did not panic")
		}
	}()
	c.BlindIndex(pii.KindSNILS, "11223344595")
}

func TestNewRefusesBadMasterKeys(t *testing.T) {
	for name, o := range map[string]pii.Options{
		"no master key":      {},
		"short master key":   {MasterKey: testMaster(1)[:31]},
		"short previous key": {MasterKey: testMaster(1), PreviousMasterKeys: [][]byte{testMaster(2)[:16]}},
		"empty previous key": {MasterKey: testMaster(1), PreviousMasterKeys: [][]byte{nil}},
		"long master key":    {MasterKey: append(testMaster(1), 0)},
	} {
		if _, err := pii.New(pii.NewMemKeyStore(), o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestStrings(t *testing.T) {
	c := newCipher(t, pii.NewMemKeyStore(), pii.Options{})
	aad := pii.AAD("account", "a1", "birth_place")
	if ct, err := c.EncryptString("", aad); err != nil || ct != nil {
		t.Fatalf(`EncryptString("") = %v, %v; want nil, nil`, ct, err)
	}
	if s, err := c.DecryptString(t.Context(), nil, aad); err != nil || s != "" {
		t.Fatalf("DecryptString(nil) = %q, %v", s, err)
	}
	ct, err := c.EncryptString("г. Москва", aad)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := c.DecryptString(t.Context(), ct, aad); err != nil || s != "г. Москва" {
		t.Fatalf("DecryptString = %q, %v", s, err)
	}
	if _, err := c.DecryptString(t.Context(), ct, pii.AAD("account", "a2", "birth_place")); !errors.Is(err, pii.ErrDecrypt) {
		t.Fatalf("DecryptString for another owner: %v", err)
	}
}

func TestAADIsUnambiguous(t *testing.T) {
	distinct := [][]byte{
		pii.AAD(), pii.AAD(""), pii.AAD("", ""), pii.AAD("a:b", "c"), pii.AAD("a", "b:c"),
		pii.AAD("account", "1", "snils"), pii.AAD("account", "1snils"), pii.AAD("account1", "snils"),
	}
	for i := range distinct {
		for j := range i {
			if bytes.Equal(distinct[i], distinct[j]) {
				t.Errorf("AAD %d and %d are equal: %q", i, j, distinct[i])
			}
		}
	}
}
