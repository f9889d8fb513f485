package pii_test

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"

	"github.com/gosid/gosid/pii"
)

func TestBlindIndex(t *testing.T) {
	store := pii.NewMemKeyStore()
	c := newCipher(t, store, pii.Options{})
	const snils = "11223344595"
	index := c.BlindIndex(pii.KindSNILS, snils)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(index) {
		t.Fatalf("index %q is not 64 lowercase hex characters", index)
	}
	if c.BlindIndex(pii.KindSNILS, snils) != index {
		t.Fatal("the index of one value changes")
	}
	if newCipher(t, store, pii.Options{}).BlindIndex(pii.KindSNILS, snils) != index {
		t.Fatal("two nodes on one store compute different indexes")
	}
	sum := sha256.Sum256([]byte(snils))
	distinct := map[string]string{
		"snils":                   index,
		"same digits as passport": c.BlindIndex(pii.KindPassport, snils),
		"same digits as inn":      c.BlindIndex(pii.KindINN, snils),
		"another snils":           c.BlindIndex(pii.KindSNILS, "11223344596"),
		"kind and value shifted":  c.BlindIndex(pii.KindSNILS+"1", snils[1:]),
		"another store's key":     newCipher(t, pii.NewMemKeyStore(), pii.Options{}).BlindIndex(pii.KindSNILS, snils),
		"unkeyed hash":            hex.EncodeToString(sum[:]),
	}
	seen := map[string]string{}
	for name, v := range distinct {
		if other, ok := seen[v]; ok {
			t.Errorf("%s and %s have the same index", name, other)
		}
		seen[v] = name
	}
}

// TestBlindIndexKeyIsPerStore: the index key is a secret of the store, not a
// derivation of the master key, so two databases sharing a master key do not
// share indexes.
func TestBlindIndexKeyIsPerStore(t *testing.T) {
	a := newCipher(t, pii.NewMemKeyStore(), pii.Options{})
	b := newCipher(t, pii.NewMemKeyStore(), pii.Options{})
	if a.BlindIndex(pii.KindINN, "500100732259") == b.BlindIndex(pii.KindINN, "500100732259") {
		t.Fatal("two stores under one master key share the blind-index key")
	}
}
