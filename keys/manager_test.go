package keys

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/storage"
)

// parseJWKS parses a published key set and checks that it holds only
// public signing keys.
func parseJWKS(t *testing.T, b []byte) jose.JSONWebKeySet {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("JWKS: %v\n%s", err, b)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || k.Use != "sig" || k.KeyID == "" || !supported(k.Algorithm) {
			t.Fatalf("bad published key %+v", k)
		}
	}
	if bytes.Contains(b, []byte(`"d"`)) || bytes.Contains(b, []byte(`"p"`)) {
		t.Fatalf("JWKS holds private material: %s", b)
	}
	return set
}

func kids(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	slices.Sort(out)
	return out
}

// byState returns the stored records of alg by state.
func byState(t *testing.T, st *memStore, alg string) map[State][]Record {
	t.Helper()
	recs, _ := st.ListKeys(context.Background())
	out := map[State][]Record{}
	for _, r := range recs {
		if r.Alg == alg {
			out[r.State] = append(out[r.State], r)
		}
	}
	return out
}

func activeKID(m *Manager, alg string) string {
	if k := m.set.Load().active[alg]; k != nil {
		return k.KID
	}
	return ""
}

func TestInitFirstStart(t *testing.T) {
	st := &memStore{}
	clk := newTestClock()
	m := initManager(t, st, testOptions(clk))

	for _, alg := range []string{ES256, RS256} {
		s := byState(t, st, alg)
		if len(s[StateActive]) != 1 || len(s[StateNext]) != 1 || len(s[StateRetired]) != 0 {
			t.Fatalf("%s: want one active and one next key, got %v", alg, s)
		}
		a, n := s[StateActive][0], s[StateNext][0]
		if a.Generation != 1 || n.Generation != 2 {
			t.Fatalf("%s: generations %d and %d, want 1 and 2", alg, a.Generation, n.Generation)
		}
		if !a.ActivatedAt.Equal(clk.Now()) || !n.ActivatedAt.IsZero() || !a.CreatedAt.Equal(clk.Now()) {
			t.Fatalf("%s: timestamps %+v %+v", alg, a, n)
		}
		for _, r := range []Record{a, n} {
			if raw, err := base64.RawURLEncoding.DecodeString(r.KID); err != nil || len(raw) != 16 {
				t.Fatalf("kid %q is not 16 random bytes in base64url", r.KID)
			}
			if bytes.Contains(r.PublicJWK, []byte(`"d"`)) {
				t.Fatal("the stored public JWK holds the private key")
			}
		}
		k := m.set.Load().active[alg]
		switch p := k.priv.(type) {
		case *rsa.PrivateKey:
			if alg != RS256 || p.N.BitLen() != 2048 {
				t.Fatalf("%s key is RSA-%d", alg, p.N.BitLen())
			}
		case *ecdsa.PrivateKey:
			if alg != ES256 || p.Curve.Params().Name != "P-256" {
				t.Fatalf("%s key is ECDSA %s", alg, p.Curve.Params().Name)
			}
		}
	}
	set := parseJWKS(t, m.JWKS())
	if len(set.Keys) != 4 {
		t.Fatalf("JWKS has %d keys, want 4", len(set.Keys))
	}
	if tag := m.JWKSETag(); len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		t.Fatalf("ETag %q is not a quoted strong validator", tag)
	}
}

func TestBeforeInit(t *testing.T) {
	m := newTestManager(t, &memStore{}, testOptions(newTestClock()))
	if got := string(m.JWKS()); got != `{"keys":[]}` {
		t.Fatalf("JWKS before Init = %s", got)
	}
	if _, err := m.Sign(context.Background(), ES256, map[string]any{}, "JWT"); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("Sign before Init: %v", err)
	}
	if err := m.Rotate(context.Background(), ES256); err == nil {
		t.Fatal("Rotate before Init succeeded")
	}
}

func TestInitAdoptsStoredKeys(t *testing.T) {
	st := &memStore{}
	clk := newTestClock()
	m1 := initManager(t, st, testOptions(clk))
	m2 := initManager(t, st, testOptions(clk))
	if err := m1.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	if recs, _ := st.ListKeys(context.Background()); len(recs) != 4 {
		t.Fatalf("a second Init created keys: %d stored", len(recs))
	}
	if !bytes.Equal(m1.JWKS(), m2.JWKS()) || m1.JWKSETag() != m2.JWKSETag() {
		t.Fatal("two nodes on one store publish different key sets")
	}
}

// TestInitConcurrentNodes starts ten nodes at once on one empty store: they
// must end with exactly one active and one next key per algorithm, and all
// sign with the same keys (Hydra's bug under concurrent first use is each
// node creating and using its own).
func TestInitConcurrentNodes(t *testing.T) {
	st := &memStore{}
	clk := newTestClock()
	const nodes = 10
	ms := make([]*Manager, nodes)
	errs := make([]error, nodes)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range ms {
		ms[i] = newTestManager(t, st, testOptions(clk))
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = ms[i].Init(context.Background())
		}()
	}
	start.Done()
	done.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	for _, alg := range []string{ES256, RS256} {
		s := byState(t, st, alg)
		if len(s[StateActive]) != 1 || len(s[StateNext]) != 1 || len(s) != 2 {
			t.Fatalf("%s: want exactly one active and one next key, got %v", alg, s)
		}
		for i, m := range ms {
			if got := activeKID(m, alg); got != s[StateActive][0].KID {
				t.Fatalf("node %d signs %s with %s, the store's active key is %s", i, alg, got, s[StateActive][0].KID)
			}
		}
	}
	for i, m := range ms {
		if !bytes.Equal(m.JWKS(), ms[0].JWKS()) {
			t.Fatalf("node %d publishes a different key set", i)
		}
	}
}

func TestInitCompletesStoredKeys(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	sealer := newTestSealer(t, 1)
	rec := func(gen int64, state State) Record {
		priv, err := generateKey(ES256)
		if err != nil {
			t.Fatal(err)
		}
		r, err := newRecord(sealer, priv, ES256, gen, state, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if state == StateRetired {
			r.ExpiresAt = clk.Now().Add(time.Minute)
		}
		return r
	}
	tests := []struct {
		name       string
		stored     []Record
		wantActive int64
		wantNext   int64
	}{
		{"next missing", []Record{rec(1, StateActive)}, 1, 2},
		{"after rotations", []Record{rec(4, StateRetired), rec(5, StateActive), rec(6, StateNext)}, 5, 6},
		{"every key retired", []Record{rec(1, StateRetired), rec(2, StateRetired)}, 3, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &memStore{keys: tc.stored}
			m := NewManager(st, sealer, testOptions(clk, ES256))
			if err := m.Init(ctx); err != nil {
				t.Fatal(err)
			}
			s := byState(t, st, ES256)
			if len(s[StateActive]) != 1 || s[StateActive][0].Generation != tc.wantActive ||
				len(s[StateNext]) != 1 || s[StateNext][0].Generation != tc.wantNext {
				t.Fatalf("got %v", s)
			}
			if activeKID(m, ES256) != s[StateActive][0].KID {
				t.Fatal("the manager does not sign with the stored active key")
			}
		})
	}
}

func TestInitRefusesInconsistentKeys(t *testing.T) {
	clk := newTestClock()
	sealer := newTestSealer(t, 1)
	rec := func(gen int64, state State) Record {
		priv, _ := generateKey(ES256)
		r, err := newRecord(sealer, priv, ES256, gen, state, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name   string
		stored []Record
	}{
		{"next without active", []Record{rec(2, StateNext)}},
		{"two active", []Record{rec(1, StateActive), rec(2, StateActive), rec(3, StateNext)}},
		{"two next", []Record{rec(1, StateActive), rec(2, StateNext), rec(3, StateNext)}},
		{"next not after active", []Record{rec(1, StateActive), rec(3, StateNext)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewManager(&memStore{keys: tc.stored}, sealer, testOptions(clk, ES256))
			if err := m.Init(context.Background()); err == nil {
				t.Fatal("Init accepted an inconsistent key table")
			}
		})
	}
}

func TestInitRefusesUnknownAlgorithm(t *testing.T) {
	m := newTestManager(t, &memStore{}, testOptions(newTestClock(), "HS256"))
	if err := m.Init(context.Background()); err == nil {
		t.Fatal("Init accepted HS256")
	}
}

func TestWrongMasterKey(t *testing.T) {
	st := &memStore{}
	clk := newTestClock()
	initManager(t, st, testOptions(clk))
	other := NewManager(st, newTestSealer(t, 2), testOptions(clk))
	err := other.Init(context.Background())
	if !errors.Is(err, ErrUnseal) {
		t.Fatalf("Init with another master key: %v", err)
	}
	if got := string(other.JWKS()); got != `{"keys":[]}` {
		t.Fatalf("a node that cannot open its keys publishes %s", got)
	}
}

// TestSealedKeyBoundToKid swaps the sealed private keys of two stored
// records: the AAD (the kid) makes both refuse to open.
func TestSealedKeyBoundToKid(t *testing.T) {
	st := &memStore{}
	m := initManager(t, st, testOptions(newTestClock(), ES256))
	before := m.JWKS()
	st.set(func(ks []Record) []Record {
		ks[0].Sealed, ks[1].Sealed = ks[1].Sealed, ks[0].Sealed
		return ks
	})
	fresh := newTestManager(t, st, testOptions(newTestClock(), ES256))
	if err := fresh.Init(context.Background()); !errors.Is(err, ErrUnseal) {
		t.Fatalf("swapped sealed keys: %v", err)
	}
	// A running node refuses the altered keys and keeps those it opened.
	if err := m.Reload(context.Background()); !errors.Is(err, ErrUnseal) {
		t.Fatalf("reload of swapped sealed keys: %v", err)
	}
	if !bytes.Equal(m.JWKS(), before) {
		t.Fatal("JWKS changed")
	}
	if _, err := m.Sign(context.Background(), ES256, map[string]any{}, "JWT"); err != nil {
		t.Fatal(err)
	}
}

func TestReloadErrorKeepsKeys(t *testing.T) {
	st := &memStore{}
	m := initManager(t, st, testOptions(newTestClock(), ES256))
	before := m.JWKS()
	st.set(func(ks []Record) []Record { st.listErr = errors.New("database down"); return ks })
	if err := m.Reload(context.Background()); err == nil {
		t.Fatal("Reload hid a store error")
	}
	if !bytes.Equal(m.JWKS(), before) {
		t.Fatal("a failed reload changed the keys")
	}
	if _, err := m.Sign(context.Background(), ES256, map[string]any{"sub": "x"}, "JWT"); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownAlgorithmSkipped: a key of an algorithm added by a newer
// version (rolling upgrade) neither breaks nor is published by this one.
func TestUnknownAlgorithmSkipped(t *testing.T) {
	st := &memStore{}
	m := initManager(t, st, testOptions(newTestClock(), ES256))
	before := m.JWKS()
	if _, err := st.InsertKey(context.Background(), Record{KID: "future", Alg: "EdDSA", Generation: 1,
		State: StateActive, PublicJWK: []byte(`{"kty":"OKP"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.JWKS(), before) {
		t.Fatal("an unknown algorithm's key was published")
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	st := &memStore{}
	clk := newTestClock()
	m := initManager(t, st, testOptions(clk))

	oldKID, nextKID := m.set.Load().active[ES256].KID, m.set.Load().next[ES256].KID
	rsaKID := activeKID(m, RS256)
	tagBefore := m.JWKSETag()
	old, err := m.Sign(ctx, ES256, map[string]any{"sub": "before"}, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}

	clk.Advance(time.Minute)
	rotatedAt := clk.Now()
	if err := m.Rotate(ctx, ES256); err != nil {
		t.Fatal(err)
	}

	if got := activeKID(m, ES256); got != nextKID {
		t.Fatalf("after rotation %s signs, want the published next key %s", got, nextKID)
	}
	if activeKID(m, RS256) != rsaKID {
		t.Fatal("rotating ES256 changed the RS256 key")
	}
	s := byState(t, st, ES256)
	if len(s[StateRetired]) != 1 || s[StateRetired][0].KID != oldKID ||
		len(s[StateActive]) != 1 || s[StateActive][0].KID != nextKID || s[StateActive][0].Generation != 2 ||
		len(s[StateNext]) != 1 || s[StateNext][0].Generation != 3 {
		t.Fatalf("stored keys after rotation: %v", s)
	}
	retired := s[StateRetired][0]
	if !retired.RetiredAt.Equal(rotatedAt) || !s[StateActive][0].ActivatedAt.Equal(rotatedAt) {
		t.Fatalf("rotation times: retired %v, activated %v, want %v", retired.RetiredAt, s[StateActive][0].ActivatedAt, rotatedAt)
	}
	if retired.ExpiresAt.Before(rotatedAt.Add(time.Hour)) {
		t.Fatalf("the retired key expires at %v, before the longest token it signed", retired.ExpiresAt)
	}
	if m.set.Load().byKID[oldKID].priv != nil {
		t.Fatal("the retired key's private half is still in memory")
	}

	set := parseJWKS(t, m.JWKS())
	if len(set.Keys) != 5 || !slices.Contains(kids(set), oldKID) {
		t.Fatalf("JWKS after rotation: %v, want 5 keys including the retired %s", kids(set), oldKID)
	}
	if m.JWKSETag() == tagBefore {
		t.Fatal("the ETag did not change")
	}
	h, payload, err := m.Verify(old)
	if err != nil || h.KID != oldKID || !strings.Contains(string(payload), "before") {
		t.Fatalf("a token signed before rotation: %v %v", h, err)
	}
	fresh, err := m.Sign(ctx, ES256, map[string]any{"sub": "after"}, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	if h, _, err := m.Verify(fresh); err != nil || h.KID != nextKID {
		t.Fatalf("a token signed after rotation: %v %v", h, err)
	}

	// Until the retired key expires it stays published...
	clk.Advance(retired.ExpiresAt.Sub(clk.Now()) - time.Second)
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(kids(parseJWKS(t, m.JWKS())), oldKID) {
		t.Fatal("the retired key left the JWKS before it expired")
	}
	m.sweep(ctx, clk.Now())
	if len(byState(t, st, ES256)[StateRetired]) != 1 {
		t.Fatal("the sweep deleted a key that has not expired")
	}
	// ...and then leaves it, and its tokens stop verifying.
	clk.Advance(2 * time.Second)
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := kids(parseJWKS(t, m.JWKS())); len(got) != 4 || slices.Contains(got, oldKID) {
		t.Fatalf("JWKS after expiry: %v", got)
	}
	if _, _, err := m.Verify(old); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("a token of an expired key verified: %v", err)
	}
	if !slices.ContainsFunc(m.List(), func(r Record) bool { return r.KID == oldKID }) {
		t.Fatal("List hides a stored key")
	}
	m.sweep(ctx, clk.Now())
	if len(byState(t, st, ES256)[StateRetired]) != 0 {
		t.Fatal("the sweep kept an expired key")
	}
}

func TestRotateTwice(t *testing.T) {
	ctx := context.Background()
	st := &memStore{}
	m := initManager(t, st, testOptions(newTestClock(), ES256))
	for range 2 {
		if err := m.Rotate(ctx, ES256); err != nil {
			t.Fatal(err)
		}
	}
	s := byState(t, st, ES256)
	if len(s[StateRetired]) != 2 || s[StateActive][0].Generation != 3 || s[StateNext][0].Generation != 4 {
		t.Fatalf("after two rotations: %v", s)
	}
}

// TestRotateConflict: a node that has not seen a rotation made elsewhere
// must not rotate again (that would activate a key published a moment ago).
func TestRotateConflict(t *testing.T) {
	ctx := context.Background()
	st := &memStore{}
	clk := newTestClock()
	m1 := initManager(t, st, testOptions(clk, ES256))
	m2 := initManager(t, st, testOptions(clk, ES256))
	if err := m1.Rotate(ctx, ES256); err != nil {
		t.Fatal(err)
	}
	err := m2.Rotate(ctx, ES256)
	if !errors.Is(err, ErrRotationConflict) || !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("a stale rotation: %v", err)
	}
	if !strings.Contains(err.Error(), "another rotation happened first") {
		t.Fatalf("unclear error: %v", err)
	}
	s := byState(t, st, ES256)
	if len(s[StateRetired]) != 1 || len(s[StateActive]) != 1 || len(s[StateNext]) != 1 {
		t.Fatalf("the stale rotation changed the store: %v", s)
	}
	if activeKID(m2, ES256) != activeKID(m1, ES256) || !bytes.Equal(m1.JWKS(), m2.JWKS()) {
		t.Fatal("the node did not reload after the conflict")
	}
}

// TestStartReachesOtherNodes: a rotation made on one node reaches another
// through its periodic reload.
func TestStartReachesOtherNodes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &memStore{}
	clk := newTestClock()
	m1 := initManager(t, st, testOptions(clk, ES256))
	o := testOptions(clk, ES256)
	o.ReloadInterval = 5 * time.Millisecond
	m2 := initManager(t, st, o)
	m2.Start(ctx)
	if err := m1.Rotate(ctx, ES256); err != nil {
		t.Fatal(err)
	}
	want := activeKID(m1, ES256)
	deadline := time.Now().Add(10 * time.Second)
	for activeKID(m2, ES256) != want {
		if time.Now().After(deadline) {
			t.Fatal("the rotation never reached the other node")
		}
		time.Sleep(5 * time.Millisecond)
	}
	tok, err := m2.Sign(ctx, ES256, map[string]any{"sub": "x"}, "JWT")
	if err != nil {
		t.Fatal(err)
	}
	if h, _, err := m1.Verify(tok); err != nil || h.KID != want {
		t.Fatalf("verify on the rotating node: %v %v", h, err)
	}
}

// TestReloadKeepsLoadedKeys: an unchanged key is not unsealed again and
// keeps its cached signers.
func TestReloadKeepsLoadedKeys(t *testing.T) {
	m := initManager(t, &memStore{}, testOptions(newTestClock(), ES256))
	if _, err := m.Sign(context.Background(), ES256, map[string]any{}, "JWT"); err != nil {
		t.Fatal(err)
	}
	before := m.set.Load().active[ES256]
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m.set.Load().active[ES256] != before {
		t.Fatal("an unchanged key was loaded again")
	}
}

func TestSignHeaders(t *testing.T) {
	ctx := context.Background()
	m := initManager(t, &memStore{}, testOptions(newTestClock()))
	for _, alg := range []string{ES256, RS256} {
		for _, typ := range []string{"at+jwt", "JWT", ""} {
			tok, err := m.Sign(ctx, alg, map[string]any{"sub": "s"}, typ)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			var hdr map[string]any
			if err := json.Unmarshal(raw, &hdr); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"alg": alg, "kid": activeKID(m, alg)}
			if typ != "" {
				want["typ"] = typ
			}
			if len(hdr) != len(want) || hdr["alg"] != want["alg"] || hdr["kid"] != want["kid"] || hdr["typ"] != want["typ"] {
				t.Fatalf("header %v, want %v", hdr, want)
			}
			h, payload, err := m.Verify(tok)
			if err != nil || h.Typ != typ || h.Alg != alg || string(payload) != `{"sub":"s"}` {
				t.Fatalf("Verify: %+v %s %v", h, payload, err)
			}
		}
	}
	if _, err := m.Sign(ctx, "HS256", map[string]any{}, "JWT"); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("Sign HS256: %v", err)
	}
	if _, err := m.Sign(ctx, ES256, func() {}, "JWT"); err == nil {
		t.Fatal("Sign marshalled a func")
	}
}

// forge builds a compact JWS with any header and key, as an attacker would.
func forge(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, payload string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerifyRejects(t *testing.T) {
	ctx := context.Background()
	m := initManager(t, &memStore{}, testOptions(newTestClock()))
	stranger := initManager(t, &memStore{}, testOptions(newTestClock()))
	esKID, rsKID := activeKID(m, ES256), activeKID(m, RS256)
	good, err := m.Sign(ctx, ES256, map[string]any{"sub": "a"}, "JWT")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	rsaPriv := m.set.Load().active[RS256].priv
	foreign, _ := stranger.Sign(ctx, ES256, map[string]any{"sub": "a"}, "JWT")

	tests := []struct {
		name  string
		token string
		algs  []string
	}{
		{"empty", "", nil},
		{"garbage", "a.b.c", nil},
		{"unknown kid", foreign, nil},
		{"tampered payload", parts[0] + "." + b64([]byte(`{"sub":"b"}`)) + "." + parts[2], nil},
		{"tampered signature", parts[0] + "." + parts[1] + "." + b64([]byte("0123456789")), nil},
		{"alg none", b64([]byte(`{"alg":"none","kid":"`+esKID+`"}`)) + "." + parts[1] + ".", nil},
		{"HS256 keyed with the public key", forge(t, jose.HS256, []byte(m.JWKS()), esKID, `{}`), nil},
		{"RS256 under the ES256 kid", forge(t, jose.RS256, rsaPriv, esKID, `{}`), nil},
		{"alg not allowed", good, []string{RS256}},
		{"only unsupported algs allowed", good, []string{"none", "HS256"}},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := m.Verify(tc.token, tc.algs...); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify accepted it or failed oddly: %v", err)
			}
		})
	}
	if _, _, err := m.Verify(good, ES256); err != nil {
		t.Fatalf("the genuine token with ES256 allowed: %v", err)
	}
	if h, _, err := m.Verify(forge(t, jose.RS256, rsaPriv, rsKID, `{}`)); err != nil || h.KID != rsKID {
		t.Fatalf("a genuine RS256 token: %v", err)
	}
}

// TestNoKeyMaterialInLogs runs a key lifecycle with logging on and checks
// that no private key or sealed blob reaches the log.
func TestNoKeyMaterialInLogs(t *testing.T) {
	ctx := context.Background()
	var buf testenv.SyncBuffer
	st := &memStore{}
	o := testOptions(newTestClock())
	o.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := initManager(t, st, o)
	if err := m.Rotate(ctx, ES256); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "signing key rotated") {
		t.Fatalf("no rotation logged:\n%s", buf.String())
	}
	recs, _ := st.ListKeys(ctx)
	var secrets []string
	for _, r := range recs {
		secrets = append(secrets, base64.StdEncoding.EncodeToString(r.Sealed)[:16])
	}
	for _, k := range m.set.Load().byKID {
		switch p := k.priv.(type) {
		case *ecdsa.PrivateKey:
			b, _ := p.Bytes()
			secrets = append(secrets, base64.RawURLEncoding.EncodeToString(b)[:16], p.D.String()[:16])
		case *rsa.PrivateKey:
			secrets = append(secrets, base64.RawURLEncoding.EncodeToString(p.D.Bytes())[:16], p.D.String()[:16])
		}
	}
	for _, s := range secrets {
		if strings.Contains(buf.String(), s) {
			t.Fatalf("key material %q in the log", s)
		}
	}
}

func TestList(t *testing.T) {
	clk := newTestClock()
	m := initManager(t, &memStore{}, testOptions(clk))
	recs := m.List()
	if len(recs) != 4 {
		t.Fatalf("List: %d keys", len(recs))
	}
	for i, r := range recs {
		if r.Sealed != nil {
			t.Fatal("List exposes the sealed private key")
		}
		if !m.Published(r.KID) || !r.CreatedAt.Equal(clk.Now()) {
			t.Fatalf("record %+v", r)
		}
		if i > 0 && (recs[i-1].Alg > r.Alg || recs[i-1].Alg == r.Alg && recs[i-1].Generation > r.Generation) {
			t.Fatal("List is not ordered by algorithm and generation")
		}
	}
	recs[0].KID = "changed"
	if m.List()[0].KID == "changed" {
		t.Fatal("List shares its slice")
	}
}

func ExampleManager() {
	ctx := context.Background()
	master, _ := ParseMasterKey("Z29zaWQtZXhhbXBsZS1tYXN0ZXIta2V5LTMyYnl0ZSE=")
	sealer, _ := NewSealer(master)
	m := NewManager(&memStore{}, sealer, Options{Algs: []string{ES256}, Logger: discardLogger})
	if err := m.Init(ctx); err != nil {
		panic(err)
	}
	token, _ := m.Sign(ctx, ES256, map[string]any{"sub": "citizen-1"}, "at+jwt")
	h, payload, err := m.Verify(token, ES256)
	fmt.Println(h.Typ, string(payload), err)
	// Output: at+jwt {"sub":"citizen-1"} <nil>
}

// FuzzVerify feeds outside input to both verifiers: neither may panic, and
// nothing but a genuine token may pass.
func FuzzVerify(f *testing.F) {
	m := initManager(f, &memStore{}, testOptions(newTestClock(), ES256))
	const payload = `{"exp":4102444800,"sub":"fuzz"}`
	good, err := m.Sign(context.Background(), ES256, json.RawMessage(payload), "at+jwt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(`{"payload":"e30","signatures":[]}`)
	s := m.FositeSigner(ES256)
	f.Fuzz(func(t *testing.T, token string) {
		if _, got, err := m.Verify(token); err == nil && string(got) != payload {
			t.Fatalf("verified a forged payload %q", got)
		}
		if tok, err := s.Decode(context.Background(), token); err == nil && tok.Claims["sub"] != "fuzz" {
			t.Fatalf("decoded a forged token %v", tok.Claims)
		}
	})
}
