package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gosid/gosid/storage"
)

// memEphemeral is the part of storage.Ephemeral the proof checker uses.
type memEphemeral struct {
	storage.Ephemeral
	mu   sync.Mutex
	seen map[string]bool
	err  error
}

func (m *memEphemeral) PutNX(_ context.Context, key string, _ []byte, _ time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return false, m.err
	}
	if m.seen[key] {
		return false, nil
	}
	m.seen[key] = true
	return true, nil
}

func TestNormalizeHTU(t *testing.T) {
	for in, want := range map[string]string{
		"https://ID.example:443/oauth2/token?x=1#f": "https://id.example/oauth2/token",
		"http://127.0.0.1:80/a":                     "http://127.0.0.1/a",
		"https://id.example:8443":                   "https://id.example:8443/",
		"https://[::1]:9/t":                         "https://[::1]:9/t",
		"ftp://id.example/t":                        "",
		"/oauth2/token":                             "",
	} {
		if got := normalizeHTU(in); got != want {
			t.Errorf("normalizeHTU(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDPoPNonceWindows(t *testing.T) {
	d := newDPoPChecker(&memEphemeral{seen: map[string]bool{}}, make([]byte, 32), true)
	now := time.Unix(1_800_000_000, 0)
	d.now = func() time.Time { return now }
	n := d.Nonce()
	if !d.nonceValid(n) {
		t.Fatal("current nonce refused")
	}
	now = now.Add(dpopNonceWindow)
	if !d.nonceValid(n) {
		t.Error("previous window's nonce refused")
	}
	now = now.Add(dpopNonceWindow)
	if d.nonceValid(n) {
		t.Error("a nonce two windows old accepted")
	}
	other := newDPoPChecker(nil, []byte("another secret of thirty-two b!!"), true)
	other.now = d.now
	if d.nonceValid(other.Nonce()) {
		t.Error("a nonce under another secret accepted")
	}
}

func testProof(tb testing.TB, key *ecdsa.PrivateKey, htu, nonce string, jti int) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", jose.JSONWebKey{Key: key.Public()}))
	if err != nil {
		tb.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"htm": "POST", "htu": htu, "iat": time.Now().Unix(), "jti": strconv.Itoa(jti), "nonce": nonce})
	jws, err := s.Sign(payload)
	if err != nil {
		tb.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// TestDPoPStoreOutage: a replay cache that cannot be reached is a server
// error (the HTTP layer turns it into 503), never a pass.
func TestDPoPStoreOutage(t *testing.T) {
	eph := &memEphemeral{seen: map[string]bool{}, err: errors.Join(storage.ErrUnavailable, errors.New("down"))}
	d := newDPoPChecker(eph, make([]byte, 32), true)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	r, _ := http.NewRequest(http.MethodPost, "https://id.example/oauth2/token", nil)
	r.Header.Set("DPoP", testProof(t, key, "https://id.example/oauth2/token", d.Nonce(), 1))
	_, err := d.Check(t.Context(), r, "https://id.example/oauth2/token", "")
	if e := asRFC(err); e.CodeField != http.StatusInternalServerError || !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("err = %v (%d)", err, e.CodeField)
	}
}

// BenchmarkDPoPCheck is the proof check alone (ES256 verification, JWK
// thumbprint, nonce, an in-memory replay cache).
func BenchmarkDPoPCheck(b *testing.B) {
	d := newDPoPChecker(&memEphemeral{seen: map[string]bool{}}, make([]byte, 32), true)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	const htu = "https://id.example/oauth2/token"
	proofs := make([]string, 0, 1024)
	for i := range cap(proofs) {
		proofs = append(proofs, testProof(b, key, htu, d.Nonce(), i))
	}
	r, _ := http.NewRequest(http.MethodPost, htu, nil)
	i := 0
	for b.Loop() {
		if i == len(proofs) {
			b.StopTimer()
			d.eph.(*memEphemeral).seen = map[string]bool{}
			i = 0
			b.StartTimer()
		}
		r.Header.Set("DPoP", proofs[i])
		i++
		if p, err := d.Check(context.Background(), r, htu, ""); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}
