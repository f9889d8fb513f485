package conformance

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gosid/gosid/internal/testenv"
	"github.com/gosid/gosid/keys"
	"github.com/gosid/gosid/storage"
)

var durKeyCases = []durCase{
	{"RoundTrip", durKeyRoundTrip},
	{"InsertDuplicateGeneration", durKeyInsertDuplicate},
	{"InsertConcurrent", durKeyInsertConcurrent},
	{"Rotate", durKeyRotate},
	{"RotateStale", durKeyRotateStale},
	{"RotateWithoutNext", durKeyRotateWithoutNext},
	{"RotateConcurrent", durKeyRotateConcurrent},
	{"DeleteExpired", durKeyDeleteExpired},
}

func durKey(alg string, gen int64, state keys.State) keys.Record {
	return keys.Record{KID: fmt.Sprintf("%s-%d-%s", alg, gen, testenv.RandomName("")), Alg: alg, Generation: gen,
		State: state, PublicJWK: []byte(`{"kty":"EC"}`), Sealed: []byte{0, 1, 2, 0xfe}, CreatedAt: durNow}
}

// durKeySetup inserts an Active generation 1 and a Next generation 2 of alg.
func durKeySetup(t *testing.T, s Durable, alg string) {
	t.Helper()
	for _, r := range []keys.Record{durKey(alg, 1, keys.StateActive), durKey(alg, 2, keys.StateNext)} {
		if r.State == keys.StateActive {
			r.ActivatedAt = durNow
		}
		if ok, err := s.InsertKey(t.Context(), r); err != nil || !ok {
			t.Fatalf("InsertKey %s gen %d = %v, %v; want true", alg, r.Generation, ok, err)
		}
	}
}

// durKeyStates maps alg/generation to state.
func durKeyStates(t *testing.T, s Durable) map[string]keys.State {
	t.Helper()
	list, err := s.ListKeys(t.Context())
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	m := map[string]keys.State{}
	for _, k := range list {
		m[fmt.Sprintf("%s/%d", k.Alg, k.Generation)] = k.State
	}
	return m
}

func durKeyRoundTrip(t *testing.T, s Durable) {
	ctx := t.Context()
	retired := durKey("RS256", 7, keys.StateRetired)
	retired.ActivatedAt, retired.RetiredAt, retired.ExpiresAt = durNow.Add(-2*time.Hour), durNow.Add(-time.Hour), durNow.Add(time.Hour)
	next := durKey("ES256", 1, keys.StateNext)
	for _, r := range []keys.Record{retired, next} {
		if ok, err := s.InsertKey(ctx, r); err != nil || !ok {
			t.Fatalf("InsertKey = %v, %v", ok, err)
		}
	}
	list, err := s.ListKeys(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListKeys = %d keys, %v; want 2", len(list), err)
	}
	for _, got := range list {
		want := next
		if got.KID == retired.KID {
			want = retired
		}
		durSame(t, "key "+got.KID, &got, &want)
	}
}

func durKeyInsertDuplicate(t *testing.T, s Durable) {
	ctx := t.Context()
	durKeySetup(t, s, "ES256")
	dup := durKey("ES256", 2, keys.StateNext)
	if ok, err := s.InsertKey(ctx, dup); err != nil || ok {
		t.Fatalf("InsertKey of a taken (alg, generation) = %v, %v; want false, nil", ok, err)
	}
	// The same generation of another algorithm is a different key.
	if ok, err := s.InsertKey(ctx, durKey("RS256", 2, keys.StateNext)); err != nil || !ok {
		t.Fatalf("InsertKey of RS256 gen 2 = %v, %v; want true", ok, err)
	}
	list, _ := s.ListKeys(ctx)
	for _, k := range list {
		if k.KID == dup.KID {
			t.Fatal("the refused duplicate was stored")
		}
	}
}

// durKeyInsertConcurrent: many nodes creating the first key at once; one
// wins.
func durKeyInsertConcurrent(t *testing.T, s Durable) {
	ctx := t.Context()
	wins := durRace(t, 20, errLost, func(int) error {
		ok, err := s.InsertKey(ctx, durKey("RS256", 1, keys.StateActive))
		if err == nil && !ok {
			return errLost
		}
		return err
	})
	if wins != 1 {
		t.Fatalf("%d concurrent inserts of one generation won; want exactly 1", wins)
	}
	if list, err := s.ListKeys(ctx); err != nil || len(list) != 1 {
		t.Fatalf("ListKeys = %d keys, %v; want 1", len(list), err)
	}
}

func durKeyRotate(t *testing.T, s Durable) {
	ctx := t.Context()
	durKeySetup(t, s, "ES256")
	durKeySetup(t, s, "RS256")
	now, until := durNow.Add(time.Hour), durNow.Add(25*time.Hour)
	next := durKey("ES256", 0, "") // RotateKeys sets alg, generation and state
	if err := s.RotateKeys(ctx, "ES256", 1, next, now, until); err != nil {
		t.Fatalf("RotateKeys: %v", err)
	}
	want := map[string]keys.State{"ES256/1": keys.StateRetired, "ES256/2": keys.StateActive, "ES256/3": keys.StateNext,
		"RS256/1": keys.StateActive, "RS256/2": keys.StateNext}
	if got := durKeyStates(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("states after rotation = %v, want %v", got, want)
	}
	list, _ := s.ListKeys(ctx)
	for _, k := range list {
		switch {
		case k.Alg != "ES256":
		case k.Generation == 1 && (!durSameTime(k.RetiredAt, now) || !durSameTime(k.ExpiresAt, until)):
			t.Fatalf("retired key: retired %v expires %v; want %v and %v", k.RetiredAt, k.ExpiresAt, now, until)
		case k.Generation == 2 && !durSameTime(k.ActivatedAt, now):
			t.Fatalf("new active key activated %v, want %v", k.ActivatedAt, now)
		case k.Generation == 3 && (k.KID != next.KID || !k.ActivatedAt.IsZero() || string(k.Sealed) != string(next.Sealed)):
			t.Fatalf("new next key: %+v", k)
		}
	}
	// The next rotation builds on the new active generation.
	if err := s.RotateKeys(ctx, "ES256", 2, durKey("ES256", 0, ""), now, until); err != nil {
		t.Fatalf("second RotateKeys: %v", err)
	}
	if got := durKeyStates(t, s); got["ES256/2"] != keys.StateRetired || got["ES256/3"] != keys.StateActive || got["ES256/4"] != keys.StateNext {
		t.Fatalf("states after two rotations = %v", got)
	}
}

// durKeyRotateStale: a node that read an old active generation must change
// nothing.
func durKeyRotateStale(t *testing.T, s Durable) {
	ctx := t.Context()
	durKeySetup(t, s, "ES256")
	if err := s.RotateKeys(ctx, "ES256", 1, durKey("ES256", 0, ""), durNow, durNow.Add(time.Hour)); err != nil {
		t.Fatalf("RotateKeys: %v", err)
	}
	before, _ := s.ListKeys(ctx)
	durWant(t, "RotateKeys of a stale generation", s.RotateKeys(ctx, "ES256", 1, durKey("ES256", 0, ""), durNow, durNow.Add(time.Hour)), storage.ErrConflict)
	durWant(t, "RotateKeys of an unknown alg", s.RotateKeys(ctx, "EdDSA", 1, durKey("EdDSA", 0, ""), durNow, durNow.Add(time.Hour)), storage.ErrConflict)
	durWant(t, "RotateKeys of a future generation", s.RotateKeys(ctx, "ES256", 3, durKey("ES256", 0, ""), durNow, durNow.Add(time.Hour)), storage.ErrConflict)
	after, _ := s.ListKeys(ctx)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("a refused rotation changed keys:\nbefore %+v\n after %+v", before, after)
	}
}

// durKeyRotateWithoutNext: when the step after retiring fails, the retirement
// is rolled back.
func durKeyRotateWithoutNext(t *testing.T, s Durable) {
	ctx := t.Context()
	active := durKey("ES256", 1, keys.StateActive)
	if ok, err := s.InsertKey(ctx, active); err != nil || !ok {
		t.Fatalf("InsertKey = %v, %v", ok, err)
	}
	durWant(t, "RotateKeys without a next key", s.RotateKeys(ctx, "ES256", 1, durKey("ES256", 0, ""), durNow, durNow.Add(time.Hour)), storage.ErrConflict)
	if got := durKeyStates(t, s); !reflect.DeepEqual(got, map[string]keys.State{"ES256/1": keys.StateActive}) {
		t.Fatalf("states after a failed rotation = %v; want only ES256/1 active", got)
	}
}

// durKeyRotateConcurrent: every node decides to rotate at once; one does.
func durKeyRotateConcurrent(t *testing.T, s Durable) {
	ctx := t.Context()
	durKeySetup(t, s, "ES256")
	wins := durRace(t, 10, storage.ErrConflict, func(int) error {
		return s.RotateKeys(ctx, "ES256", 1, durKey("ES256", 0, ""), durNow, durNow.Add(time.Hour))
	})
	if wins != 1 {
		t.Fatalf("%d concurrent rotations succeeded; want exactly 1", wins)
	}
	want := map[string]keys.State{"ES256/1": keys.StateRetired, "ES256/2": keys.StateActive, "ES256/3": keys.StateNext}
	if got := durKeyStates(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("states after concurrent rotations = %v, want %v", got, want)
	}
}

func durKeyDeleteExpired(t *testing.T, s Durable) {
	ctx := t.Context()
	durKeySetup(t, s, "ES256")
	old := durKey("RS256", 1, keys.StateRetired)
	old.RetiredAt, old.ExpiresAt = durNow.Add(-2*time.Hour), durNow.Add(-time.Minute)
	recent := durKey("RS256", 2, keys.StateRetired)
	recent.RetiredAt, recent.ExpiresAt = durNow.Add(-time.Hour), durNow.Add(time.Minute)
	for _, r := range []keys.Record{old, recent} {
		if ok, err := s.InsertKey(ctx, r); err != nil || !ok {
			t.Fatalf("InsertKey = %v, %v", ok, err)
		}
	}
	if n, err := s.DeleteExpiredKeys(ctx, durNow); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredKeys = %d, %v; want 1", n, err)
	}
	want := map[string]keys.State{"ES256/1": keys.StateActive, "ES256/2": keys.StateNext, "RS256/2": keys.StateRetired}
	if got := durKeyStates(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("keys after DeleteExpiredKeys = %v, want %v", got, want)
	}
	// Active and next keys never expire, however late it is.
	if n, err := s.DeleteExpiredKeys(ctx, durNow.Add(1000*time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredKeys far in the future = %d, %v; want 1", n, err)
	}
}
