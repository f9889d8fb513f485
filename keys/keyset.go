package keys

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Supported signing algorithms.
const (
	ES256 = "ES256"
	RS256 = "RS256"
)

// rsaBits is the size of generated RS256 keys; smaller stored keys are refused.
const rsaBits = 2048

func supported(alg string) bool { return alg == ES256 || alg == RS256 }

// key is a stored key as loaded: the public key always, the private key only
// while the key may sign (Next and Active). A retired key never signs again,
// so its private half is not kept in memory.
type key struct {
	Record // Sealed is cleared
	sealed []byte
	pub    crypto.PublicKey
	priv   crypto.Signer
	// signers caches a go-jose signer per typ header value; only the active
	// key's cache is ever filled.
	signers sync.Map
}

// keySet is one immutable snapshot of the keys, swapped atomically on every
// reload so that signing, verification and JWKS never take a lock.
type keySet struct {
	records []Record        // every stored key, Sealed cleared, by alg and generation
	byKID   map[string]*key // published keys: next, active, unexpired retired
	active  map[string]*key // by alg
	next    map[string]*key // by alg
	jwks    []byte
	etag    string
}

func emptyKeySet() *keySet {
	s, _ := buildKeySet(nil, nil, nil, time.Time{})
	return s
}

// buildKeySet checks and loads recs. Keys unchanged since prev are reused
// as they are (no unsealing, signer caches kept). Records of algorithms this
// version does not know are skipped, so that a rolling upgrade which adds
// one does not break older nodes; any other inconsistency is an error and
// the caller keeps its previous snapshot.
func buildKeySet(recs []Record, prev *keySet, sealer *Sealer, now time.Time) (*keySet, error) {
	recs = slices.Clone(recs)
	slices.SortFunc(recs, func(a, b Record) int {
		return cmp.Or(strings.Compare(a.Alg, b.Alg), cmp.Compare(a.Generation, b.Generation))
	})
	s := &keySet{byKID: map[string]*key{}, active: map[string]*key{}, next: map[string]*key{}}
	for _, r := range recs {
		if !supported(r.Alg) {
			continue
		}
		sealed := r.Sealed
		r.Sealed = nil
		s.records = append(s.records, r)
		published := r.State == StateNext || r.State == StateActive ||
			(r.State == StateRetired && r.ExpiresAt.After(now))
		if !published {
			continue
		}
		var old *key
		if prev != nil {
			old = prev.byKID[r.KID]
		}
		k, err := loadKey(r, sealed, old, sealer)
		if err != nil {
			return nil, err
		}
		if s.byKID[r.KID] != nil {
			return nil, fmt.Errorf("keys: kid %s is stored twice", r.KID)
		}
		s.byKID[r.KID] = k
		switch r.State {
		case StateActive:
			if s.active[r.Alg] != nil {
				return nil, fmt.Errorf("keys: more than one active %s key (generations %d and %d)",
					r.Alg, s.active[r.Alg].Generation, r.Generation)
			}
			s.active[r.Alg] = k
		case StateNext:
			if s.next[r.Alg] != nil {
				return nil, fmt.Errorf("keys: more than one next %s key (generations %d and %d)",
					r.Alg, s.next[r.Alg].Generation, r.Generation)
			}
			s.next[r.Alg] = k
		}
	}
	if err := s.publish(); err != nil {
		return nil, err
	}
	return s, nil
}

// loadKey returns the loaded form of r, reusing old where it is the same key.
func loadKey(r Record, sealed []byte, old *key, sealer *Sealer) (*key, error) {
	sameMaterial := old != nil && old.Alg == r.Alg && bytes.Equal(old.PublicJWK, r.PublicJWK) &&
		bytes.Equal(old.sealed, sealed)
	if sameMaterial && old.Record.equal(r) {
		return old, nil
	}
	k := &key{Record: r, sealed: sealed}
	if sameMaterial {
		k.pub = old.pub
	} else {
		pub, err := parsePublicJWK(r)
		if err != nil {
			return nil, err
		}
		k.pub = pub
	}
	if r.State == StateRetired {
		return k, nil
	}
	if sameMaterial && old.priv != nil {
		k.priv = old.priv
		return k, nil
	}
	priv, err := unsealPrivate(r, sealed, k.pub, sealer)
	if err != nil {
		return nil, err
	}
	k.priv = priv
	return k, nil
}

func (r Record) equal(o Record) bool {
	return r.KID == o.KID && r.Alg == o.Alg && r.Generation == o.Generation && r.State == o.State &&
		r.CreatedAt.Equal(o.CreatedAt) && r.ActivatedAt.Equal(o.ActivatedAt) &&
		r.RetiredAt.Equal(o.RetiredAt) && r.ExpiresAt.Equal(o.ExpiresAt)
}

// parsePublicJWK checks that the stored public key is a public key of the
// record's algorithm and kid.
func parsePublicJWK(r Record) (crypto.PublicKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(r.PublicJWK); err != nil {
		return nil, fmt.Errorf("keys: key %s: public JWK: %w", r.KID, err)
	}
	if !jwk.IsPublic() {
		return nil, fmt.Errorf("keys: key %s: the stored public JWK holds private material", r.KID)
	}
	if jwk.KeyID != r.KID || jwk.Algorithm != r.Alg {
		return nil, fmt.Errorf("keys: key %s: public JWK has kid %q and alg %q, want %q and %q",
			r.KID, jwk.KeyID, jwk.Algorithm, r.KID, r.Alg)
	}
	if err := checkKeyType(r.Alg, jwk.Key); err != nil {
		return nil, fmt.Errorf("keys: key %s: %w", r.KID, err)
	}
	return jwk.Key, nil
}

func checkKeyType(alg string, pub crypto.PublicKey) error {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if alg == ES256 && p.Curve == elliptic.P256() {
			return nil
		}
	case *rsa.PublicKey:
		if alg == RS256 && p.N.BitLen() >= rsaBits {
			return nil
		}
	}
	return fmt.Errorf("a %T is not a valid %s key", pub, alg)
}

// unsealPrivate opens the private key sealed under the master key with the
// kid as context, and checks that it matches the public key.
func unsealPrivate(r Record, sealed []byte, pub crypto.PublicKey, sealer *Sealer) (crypto.Signer, error) {
	der, err := sealer.Open(sealed, []byte(r.KID))
	if err != nil {
		return nil, fmt.Errorf("keys: unseal key %s (is the master key the one the keys were sealed with?): %w", r.KID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: key %s: parse private key: %w", r.KID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: key %s: private key of type %T cannot sign", r.KID, parsed)
	}
	eq, ok := priv.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(pub) {
		return nil, fmt.Errorf("keys: key %s: private key does not match the published public key", r.KID)
	}
	return priv, nil
}

// publish renders the JWKS from the published keys (by alg and generation,
// so every node serves byte-identical documents for the same keys). The JWK
// is rebuilt from the parsed public key: nothing stored is copied through.
func (s *keySet) publish() error {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, r := range s.records {
		k := s.byKID[r.KID]
		if k == nil {
			continue
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.pub, KeyID: k.KID, Algorithm: k.Alg, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("keys: render JWKS: %w", err)
	}
	s.jwks = b
	s.etag = etagOf(b)
	return nil
}

// generateKey makes a new private key for alg.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	return nil, fmt.Errorf("keys: unsupported algorithm %q (want ES256 or RS256)", alg)
}

// newKID returns a random key id. It is deliberately unrelated to the
// generation: a kid reveals nothing and never repeats across databases.
func newKID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("keys: new kid: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newRecord seals priv into a storable record.
func newRecord(sealer *Sealer, priv crypto.Signer, alg string, gen int64, state State, now time.Time) (Record, error) {
	kid, err := newKID()
	if err != nil {
		return Record{}, err
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		return Record{}, fmt.Errorf("keys: marshal public key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return Record{}, fmt.Errorf("keys: marshal private key: %w", err)
	}
	defer clear(der)
	sealed, err := sealer.Seal(der, []byte(kid))
	if err != nil {
		return Record{}, err
	}
	r := Record{KID: kid, Alg: alg, Generation: gen, State: state, PublicJWK: pub, Sealed: sealed, CreatedAt: now}
	if state == StateActive {
		r.ActivatedAt = now
	}
	return r, nil
}
