package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func testMaster(b byte) []byte { return bytes.Repeat([]byte{b}, MasterKeySize) }

func newTestSealer(t testing.TB, b byte) *Sealer {
	t.Helper()
	s, err := NewSealer(testMaster(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealRoundTrip(t *testing.T) {
	s := newTestSealer(t, 1)
	for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("secret "), 1000)} {
		sealed, err := s.Seal(pt, []byte("kid-1"))
		if err != nil {
			t.Fatal(err)
		}
		if sealed[0] != sealV1 {
			t.Fatalf("version byte %d, want %d", sealed[0], sealV1)
		}
		if len(pt) >= 8 && bytes.Contains(sealed, pt) {
			t.Fatal("plaintext visible in sealed output")
		}
		got, err := s.Open(sealed, []byte("kid-1"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("round trip: got %q", got)
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	s := newTestSealer(t, 1)
	a, _ := s.Seal([]byte("same"), nil)
	b, _ := s.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical")
	}
}

func TestOpenRefuses(t *testing.T) {
	s := newTestSealer(t, 1)
	aad := []byte("kid-1")
	sealed, err := s.Seal([]byte("private key"), aad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name   string
		sealer *Sealer
		sealed []byte
		aad    []byte
	}{
		{"wrong aad", s, sealed, []byte("kid-2")},
		{"missing aad", s, sealed, nil},
		{"wrong key", newTestSealer(t, 2), sealed, aad},
		{"version changed", s, flip(0), aad},
		{"nonce changed", s, flip(1), aad},
		{"ciphertext changed", s, flip(1 + nonceSize), aad},
		{"tag changed", s, flip(len(sealed) - 1), aad},
		{"truncated", s, sealed[:len(sealed)-1], aad},
		{"only a header", s, sealed[:1+nonceSize], aad},
		{"empty", s, nil, aad},
		{"extended", s, append(bytes.Clone(sealed), 0), aad},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.sealer.Open(tc.sealed, tc.aad)
			if !errors.Is(err, ErrUnseal) {
				t.Fatalf("Open = %q, %v; want ErrUnseal", got, err)
			}
		})
	}
}

func TestNewSealerRefusesWrongLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer accepted a %d-byte key", n)
		}
	}
}

func TestNewSealerCopiesMaster(t *testing.T) {
	master := testMaster(7)
	s, err := NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	want := s.DeriveKey("x")
	master[0] ^= 0xff
	if !bytes.Equal(s.DeriveKey("x"), want) {
		t.Fatal("the sealer depends on the caller's slice")
	}
}

func TestDevMasterKey(t *testing.T) {
	if len(DevMasterKey) != MasterKeySize {
		t.Fatalf("DevMasterKey has %d bytes", len(DevMasterKey))
	}
	if _, err := NewSealer(DevMasterKey); err != nil {
		t.Fatal(err)
	}
}

func TestDeriveKey(t *testing.T) {
	a, b := newTestSealer(t, 1), newTestSealer(t, 2)
	k1 := a.DeriveKey("client-secret")
	if len(k1) != 32 {
		t.Fatalf("derived key has %d bytes", len(k1))
	}
	if !bytes.Equal(k1, a.DeriveKey("client-secret")) {
		t.Fatal("derivation is not deterministic")
	}
	if bytes.Equal(k1, a.DeriveKey("csrf")) {
		t.Fatal("two purposes share a key")
	}
	if bytes.Equal(k1, b.DeriveKey("client-secret")) {
		t.Fatal("two master keys derive the same key")
	}
	if bytes.Equal(k1, testMaster(1)) || bytes.Equal(a.DeriveKey("seal/v1"), testMaster(1)) {
		t.Fatal("a derived key equals the master key")
	}
}

func TestParseMasterKey(t *testing.T) {
	raw := make([]byte, MasterKeySize)
	for i := range raw {
		raw[i] = byte(0xf0 + i) // makes '+', '/', '-' and '_' appear in the encodings
	}
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"std padded", base64.StdEncoding.EncodeToString(raw), true},
		{"std unpadded", base64.RawStdEncoding.EncodeToString(raw), true},
		{"url padded", base64.URLEncoding.EncodeToString(raw), true},
		{"url unpadded", base64.RawURLEncoding.EncodeToString(raw), true},
		{"hex lower", hex.EncodeToString(raw), true},
		{"hex upper", strings.ToUpper(hex.EncodeToString(raw)), true},
		{"surrounding whitespace", " " + base64.StdEncoding.EncodeToString(raw) + "\n", true},
		{"empty", "", false},
		{"blank", "  \n", false},
		{"16 bytes base64", base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"33 bytes base64", base64.StdEncoding.EncodeToString(append(bytes.Clone(raw), 1)), false},
		{"31 bytes hex", hex.EncodeToString(raw[:31]), false},
		{"64 chars not hex", strings.Repeat("z", 64), false},
		{"not base64", strings.Repeat("z", 43) + "!", false},
		{"passphrase", "correct horse battery staple", false},
		{"inner space", base64.StdEncoding.EncodeToString(raw[:16]) + " " + base64.StdEncoding.EncodeToString(raw[16:]), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMasterKey(tc.in)
			if !tc.ok {
				if err == nil {
					t.Fatalf("accepted %q", tc.in)
				}
				if strings.TrimSpace(tc.in) != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
					t.Fatalf("the error echoes the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, raw) {
				t.Fatalf("got %x, want %x", got, raw)
			}
		})
	}
}

func FuzzParseMasterKey(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString(testMaster(3)))
	f.Add(hex.EncodeToString(testMaster(3)))
	f.Add("")
	f.Add("not a key")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseMasterKey(s)
		if err == nil && len(b) != MasterKeySize {
			t.Fatalf("accepted a %d-byte key", len(b))
		}
	})
}

func FuzzOpen(f *testing.F) {
	s := newTestSealer(f, 1)
	good, _ := s.Seal([]byte("secret"), []byte("aad"))
	f.Add(good, []byte("aad"))
	f.Add([]byte{sealV1}, []byte(nil))
	f.Fuzz(func(t *testing.T, sealed, aad []byte) {
		pt, err := s.Open(sealed, aad)
		// Each fuzz worker seals its own "secret" (the nonce is random), so
		// only a seal of that plaintext under that aad may ever open.
		if err == nil && !(bytes.Equal(aad, []byte("aad")) && string(pt) == "secret") {
			t.Fatalf("opened forged input %x", sealed)
		}
	})
}

func ExampleSealer() {
	master, err := ParseMasterKey("Z29zaWQtZXhhbXBsZS1tYXN0ZXIta2V5LTMyYnl0ZSE=")
	if err != nil {
		panic(err)
	}
	s, err := NewSealer(master)
	if err != nil {
		panic(err)
	}
	sealed, _ := s.Seal([]byte("private key"), []byte("kid-1"))
	opened, _ := s.Open(sealed, []byte("kid-1"))
	_, err = s.Open(sealed, []byte("kid-2"))
	fmt.Println(string(opened), errors.Is(err, ErrUnseal))
	// Output: private key true
}
