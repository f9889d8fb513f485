package pii_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gosid/gosid/pii"
)

// FuzzDecrypt: no input panics, and none but the ciphertext Encrypt made
// decrypts.
func FuzzDecrypt(f *testing.F) {
	c := newCipher(f, pii.NewMemKeyStore(), pii.Options{})
	aad := pii.AAD("account", "a1", "snils")
	valid := mustEncrypt(f, c, []byte("11223344595"), aad)
	f.Add(valid)
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add(append([]byte{2}, valid[1:]...))
	f.Fuzz(func(t *testing.T, ct []byte) {
		pt, err := c.Decrypt(t.Context(), ct, aad)
		switch {
		case err == nil && !bytes.Equal(ct, valid):
			t.Fatalf("a forged ciphertext decrypted to %q", pt)
		case err != nil && !errors.Is(err, pii.ErrDecrypt) && !errors.Is(err, pii.ErrUnknownKey):
			t.Fatalf("unexpected error: %v", err)
		}
	})
}
