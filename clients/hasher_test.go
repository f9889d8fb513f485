package clients

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/ory/fosite"
)

var _ fosite.Hasher = (*Hasher)(nil)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestHasherRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testKey(1))
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h.Hash(ctx, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(hash), "h1$") || bytes.Contains(hash, []byte(secret)) {
		t.Fatalf("hash %q", hash)
	}
	if err := h.Compare(ctx, hash, []byte(secret)); err != nil {
		t.Fatalf("Compare(right secret) = %v", err)
	}
	again, _ := h.Hash(ctx, []byte(secret))
	if !bytes.Equal(hash, again) {
		t.Fatal("Hash is not deterministic")
	}
}

func TestHasherCompareRejects(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testKey(1))
	hash, _ := h.Hash(ctx, []byte("right"))
	otherKey, _ := NewHasher(testKey(2)).Hash(ctx, []byte("right"))
	short := "h1$" + base64.RawURLEncoding.EncodeToString([]byte("short"))
	tests := []struct {
		name string
		hash string
		data string
		want error
	}{
		{"wrong secret", string(hash), "wrong", ErrSecretMismatch},
		{"empty secret", string(hash), "", ErrSecretMismatch},
		{"other key", string(otherKey), "right", ErrSecretMismatch},
		{"empty hash", "", "right", ErrUnknownHashScheme},
		{"unknown scheme", "h2$" + string(hash[3:]), "right", ErrUnknownHashScheme},
		{"bcrypt hash", "$2a$10$abcdefghijklmnopqrstuv", "right", ErrUnknownHashScheme},
		{"not base64", "h1$!!!", "right", ErrSecretMismatch},
		{"wrong length", short, "right", ErrSecretMismatch},
		{"truncated", string(hash[:len(hash)-1]), "right", ErrSecretMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.Compare(ctx, []byte(tt.hash), []byte(tt.data)); !errors.Is(err, tt.want) {
				t.Fatalf("Compare = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestHasherCopiesKey(t *testing.T) {
	ctx := context.Background()
	key := testKey(1)
	h := NewHasher(key)
	before, _ := h.Hash(ctx, []byte("s"))
	key[0] = 9
	after, _ := h.Hash(ctx, []byte("s"))
	if !bytes.Equal(before, after) {
		t.Fatal("hasher shares the caller's key slice")
	}
}

func TestNewHasherShortKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewHasher accepted a 16-byte key")
		}
	}()
	NewHasher(make([]byte, 16))
}

func TestNewSecretAndID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(raw) != 32 {
			t.Fatalf("secret %q: %d bytes, %v", s, len(raw), err)
		}
		id, err := NewID()
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 22 || !validIDChars(id) {
			t.Fatalf("id %q", id)
		}
		if seen[s] || seen[id] {
			t.Fatal("repeated value")
		}
		seen[s], seen[id] = true, true
	}
}

func BenchmarkHasherCompare(b *testing.B) {
	ctx := context.Background()
	h := NewHasher(testKey(1))
	secret, _ := NewSecret()
	hash, _ := h.Hash(ctx, []byte(secret))
	b.ReportAllocs()
	for b.Loop() {
		if err := h.Compare(ctx, hash, []byte(secret)); err != nil {
			b.Fatal(err)
		}
	}
}
