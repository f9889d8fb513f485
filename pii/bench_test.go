package pii_test

import (
	"crypto/rand"
	"testing"

	"github.com/gosid/gosid/pii"
)

// benchSizes are a document number or SNILS with room to spare, and the
// largest scan an upload may be (5 MB).
var benchSizes = []struct {
	name string
	size int
}{
	{"64B", 64},
	{"5MB", 5 << 20},
}

func BenchmarkEncrypt(b *testing.B) {
	c := newCipher(b, pii.NewMemKeyStore(), pii.Options{})
	aad := pii.AAD("account", "a1", "passport_scan")
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			pt := make([]byte, s.size)
			_, _ = rand.Read(pt)
			b.SetBytes(int64(s.size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Encrypt(pt, aad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	c := newCipher(b, pii.NewMemKeyStore(), pii.Options{})
	aad := pii.AAD("account", "a1", "passport_scan")
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			pt := make([]byte, s.size)
			_, _ = rand.Read(pt)
			ct := mustEncrypt(b, c, pt, aad)
			b.SetBytes(int64(s.size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Decrypt(b.Context(), ct, aad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBlindIndex(b *testing.B) {
	c := newCipher(b, pii.NewMemKeyStore(), pii.Options{})
	b.ReportAllocs()
	for b.Loop() {
		c.BlindIndex(pii.KindSNILS, "11223344595")
	}
}
