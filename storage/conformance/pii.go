package conformance

import (
	"crypto/rand"
	"encoding/hex"
	"reflect"
	"testing"
	"time"

	"github.com/gosid/gosid/pii"
	"github.com/gosid/gosid/storage"
)

// RunPIIKeyStore runs the contract of pii.KeyStore against an adapter. open
// returns a fresh, empty store for each subtest.
func RunPIIKeyStore(t *testing.T, open func(t *testing.T) pii.KeyStore) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, s pii.KeyStore)
	}{
		{"RoundTrip", piiRoundTrip},
		{"OneActivePerPurpose", piiOneActive},
		{"DuplicateID", piiDuplicateID},
		{"CreateConcurrent", piiCreateConcurrent},
		{"UpdateWrapped", piiUpdateWrapped},
		{"Rotate", piiRotate},
		{"RotateStale", piiRotateStale},
		{"RotateConcurrent", piiRotateConcurrent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

func piiKey(p pii.Purpose, state pii.State) pii.DataKey {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	return pii.DataKey{ID: hex.EncodeToString(id), Purpose: p, State: state,
		Wrapped: []byte{1, 0, 0xfe, 0xff, 7}, KEKID: "0123456789abcdef", CreatedAt: durNow}
}

func piiCreate(t *testing.T, s pii.KeyStore, keys ...pii.DataKey) {
	t.Helper()
	for _, k := range keys {
		if ok, err := s.CreateDataKey(t.Context(), k); err != nil || !ok {
			t.Fatalf("CreateDataKey %s %s = %v, %v; want true", k.Purpose, k.State, ok, err)
		}
	}
}

func piiList(t *testing.T, s pii.KeyStore) map[string]pii.DataKey {
	t.Helper()
	list, err := s.ListDataKeys(t.Context())
	if err != nil {
		t.Fatalf("ListDataKeys: %v", err)
	}
	m := map[string]pii.DataKey{}
	for _, k := range list {
		m[k.ID] = k
	}
	if len(m) != len(list) {
		t.Fatalf("ListDataKeys returned an id twice: %+v", list)
	}
	return m
}

func piiRoundTrip(t *testing.T, s pii.KeyStore) {
	retired := piiKey(pii.PurposeData, pii.StateRetired)
	retired.CreatedAt, retired.RetiredAt = durNow.Add(-time.Hour), durNow
	keys := []pii.DataKey{retired, piiKey(pii.PurposeData, pii.StateActive), piiKey(pii.PurposeIndex, pii.StateActive)}
	piiCreate(t, s, keys...)
	got := piiList(t, s)
	if len(got) != len(keys) {
		t.Fatalf("ListDataKeys = %d keys, want %d", len(got), len(keys))
	}
	for _, want := range keys {
		g := got[want.ID]
		durSame(t, "key "+want.ID, &g, &want)
	}
}

// piiOneActive: a second Active key of a purpose is refused, whatever else
// is stored.
func piiOneActive(t *testing.T, s pii.KeyStore) {
	ctx := t.Context()
	piiCreate(t, s, piiKey(pii.PurposeData, pii.StateActive))
	second := piiKey(pii.PurposeData, pii.StateActive)
	if ok, err := s.CreateDataKey(ctx, second); err != nil || ok {
		t.Fatalf("CreateDataKey of a second active data key = %v, %v; want false, nil", ok, err)
	}
	// Another purpose, or a retired key, is not a second active key.
	piiCreate(t, s, piiKey(pii.PurposeIndex, pii.StateActive), piiKey(pii.PurposeData, pii.StateRetired))
	if _, ok := piiList(t, s)[second.ID]; ok {
		t.Fatal("the refused second active key was stored")
	}
}

func piiDuplicateID(t *testing.T, s pii.KeyStore) {
	k := piiKey(pii.PurposeData, pii.StateRetired)
	piiCreate(t, s, k)
	dup := piiKey(pii.PurposeIndex, pii.StateActive)
	dup.ID = k.ID
	if ok, err := s.CreateDataKey(t.Context(), dup); err != nil || ok {
		t.Fatalf("CreateDataKey of a taken id = %v, %v; want false, nil", ok, err)
	}
	if got := piiList(t, s)[k.ID]; got.Purpose != pii.PurposeData {
		t.Fatalf("the first key with the id was replaced: %+v", got)
	}
}

// piiCreateConcurrent: many nodes creating the first key at once; one wins.
func piiCreateConcurrent(t *testing.T, s pii.KeyStore) {
	wins := durRace(t, durContenders, errLost, func(int) error {
		ok, err := s.CreateDataKey(t.Context(), piiKey(pii.PurposeData, pii.StateActive))
		if err == nil && !ok {
			return errLost
		}
		return err
	})
	if wins != 1 {
		t.Fatalf("%d concurrent creations of the first active key won; want exactly 1", wins)
	}
	if n := len(piiList(t, s)); n != 1 {
		t.Fatalf("%d keys stored, want 1", n)
	}
}

func piiUpdateWrapped(t *testing.T, s pii.KeyStore) {
	ctx := t.Context()
	k, other := piiKey(pii.PurposeData, pii.StateActive), piiKey(pii.PurposeIndex, pii.StateActive)
	piiCreate(t, s, k, other)
	if err := s.UpdateWrapped(ctx, k.ID, []byte{9, 8, 7}, "fedcba9876543210"); err != nil {
		t.Fatalf("UpdateWrapped: %v", err)
	}
	got := piiList(t, s)
	want := k
	want.Wrapped, want.KEKID = []byte{9, 8, 7}, "fedcba9876543210"
	g := got[k.ID]
	durSame(t, "re-wrapped key", &g, &want)
	g = got[other.ID]
	durSame(t, "other key", &g, &other)
	durWant(t, "UpdateWrapped of a missing key", s.UpdateWrapped(ctx, "0000000000000000", []byte{1}, "x"), storage.ErrNotFound)
}

func piiRotate(t *testing.T, s pii.KeyStore) {
	ctx := t.Context()
	active, index := piiKey(pii.PurposeData, pii.StateActive), piiKey(pii.PurposeIndex, pii.StateActive)
	piiCreate(t, s, active, index)
	next := piiKey(pii.PurposeData, pii.StateActive)
	next.CreatedAt = durNow.Add(time.Hour)
	if err := s.RotateDataKey(ctx, active.ID, next); err != nil {
		t.Fatalf("RotateDataKey: %v", err)
	}
	got := piiList(t, s)
	wantRetired := active
	wantRetired.State, wantRetired.RetiredAt = pii.StateRetired, next.CreatedAt
	for _, want := range []pii.DataKey{wantRetired, next, index} {
		g := got[want.ID]
		durSame(t, "key "+want.ID, &g, &want)
	}
	// The next rotation builds on the new active key.
	if err := s.RotateDataKey(ctx, next.ID, piiKey(pii.PurposeData, pii.StateActive)); err != nil {
		t.Fatalf("second RotateDataKey: %v", err)
	}
	if st := piiList(t, s)[next.ID].State; st != pii.StateRetired {
		t.Fatalf("after the second rotation the first new key is %s, want retired", st)
	}
}

// piiRotateStale: a node that read an old active key, or names the key of
// another purpose, must change nothing.
func piiRotateStale(t *testing.T, s pii.KeyStore) {
	ctx := t.Context()
	active, index := piiKey(pii.PurposeData, pii.StateActive), piiKey(pii.PurposeIndex, pii.StateActive)
	piiCreate(t, s, active, index)
	if err := s.RotateDataKey(ctx, active.ID, piiKey(pii.PurposeData, pii.StateActive)); err != nil {
		t.Fatalf("RotateDataKey: %v", err)
	}
	before := piiList(t, s)
	durWant(t, "RotateDataKey of a retired key", s.RotateDataKey(ctx, active.ID, piiKey(pii.PurposeData, pii.StateActive)), storage.ErrConflict)
	durWant(t, "RotateDataKey of a key of another purpose", s.RotateDataKey(ctx, index.ID, piiKey(pii.PurposeData, pii.StateActive)), storage.ErrConflict)
	durWant(t, "RotateDataKey of a missing key", s.RotateDataKey(ctx, "0000000000000000", piiKey(pii.PurposeData, pii.StateActive)), storage.ErrConflict)
	cur := piiList(t, s)
	var curActive string
	for id, k := range cur {
		if k.Purpose == pii.PurposeData && k.State == pii.StateActive {
			curActive = id
		}
	}
	taken := piiKey(pii.PurposeData, pii.StateActive)
	taken.ID = index.ID
	durWant(t, "RotateDataKey to a taken id", s.RotateDataKey(ctx, curActive, taken), storage.ErrConflict)
	if after := piiList(t, s); !reflect.DeepEqual(before, after) {
		t.Fatalf("a refused rotation changed keys:\nbefore %+v\n after %+v", before, after)
	}
}

// piiRotateConcurrent: every node decides to rotate at once; one does.
func piiRotateConcurrent(t *testing.T, s pii.KeyStore) {
	active := piiKey(pii.PurposeData, pii.StateActive)
	piiCreate(t, s, active)
	wins := durRace(t, durContenders, storage.ErrConflict, func(int) error {
		return s.RotateDataKey(t.Context(), active.ID, piiKey(pii.PurposeData, pii.StateActive))
	})
	if wins != 1 {
		t.Fatalf("%d concurrent rotations succeeded; want exactly 1", wins)
	}
	got := piiList(t, s)
	if len(got) != 2 || got[active.ID].State != pii.StateRetired {
		t.Fatalf("after concurrent rotations: %+v; want the old key retired and one new key", got)
	}
}
