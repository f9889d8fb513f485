package pii_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosid/gosid/pii"
	"github.com/gosid/gosid/storage"
)

// keyOf returns the data key id a ciphertext names.
func keyOf(ct []byte) string { return string(ct[1:9]) }

func activeKeys(t *testing.T, s pii.KeyStore) map[pii.Purpose]int {
	t.Helper()
	list, err := s.ListDataKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := map[pii.Purpose]int{}
	for _, k := range list {
		if k.State == pii.StateActive {
			n[k.Purpose]++
		}
	}
	return n
}

func TestRotateKeepsOldDataReadable(t *testing.T) {
	store := pii.NewMemKeyStore()
	c := newCipher(t, store, pii.Options{})
	aad := pii.AAD("account", "a1", "snils")
	old := mustEncrypt(t, c, []byte("old"), aad)
	index := c.BlindIndex(pii.KindSNILS, "11223344595")
	if err := c.RotateDataKey(t.Context()); err != nil {
		t.Fatalf("RotateDataKey: %v", err)
	}
	fresh := mustEncrypt(t, c, []byte("new"), aad)
	if keyOf(old) == keyOf(fresh) {
		t.Fatal("after rotation new data is still encrypted under the old key")
	}
	mustDecrypt(t, c, old, aad, []byte("old"))
	mustDecrypt(t, c, fresh, aad, []byte("new"))
	if got := c.BlindIndex(pii.KindSNILS, "11223344595"); got != index {
		t.Fatal("a data key rotation changed the blind index")
	}
	// A restarted node reads both.
	restarted := newCipher(t, store, pii.Options{})
	mustDecrypt(t, restarted, old, aad, []byte("old"))
	mustDecrypt(t, restarted, fresh, aad, []byte("new"))
	if n := activeKeys(t, store); n[pii.PurposeData] != 1 || n[pii.PurposeIndex] != 1 {
		t.Fatalf("active keys after rotation: %v", n)
	}
}

// TestKeyRotatedOnAnotherNode: a node decrypts at once what another node
// encrypted under a key it rotated in, reading the store once; it encrypts
// under that key after a reload.
func TestKeyRotatedOnAnotherNode(t *testing.T) {
	shared := pii.NewMemKeyStore()
	a := newCipher(t, shared, pii.Options{})
	store := &countingStore{KeyStore: shared}
	b := newCipher(t, store, pii.Options{})
	if err := a.RotateDataKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	ct := mustEncrypt(t, a, []byte("value"), nil)
	before := store.lists.Load()
	for range 3 {
		mustDecrypt(t, b, ct, nil, []byte("value"))
	}
	if n := store.lists.Load() - before; n != 1 {
		t.Fatalf("three decryptions under a new key read the store %d times, want 1", n)
	}
	if got := mustEncrypt(t, b, nil, nil); keyOf(got) != keyOf(ct) {
		t.Fatal("the node that loaded the new key does not encrypt under it")
	}
}

func TestStartReloads(t *testing.T) {
	store := pii.NewMemKeyStore()
	a := newCipher(t, store, pii.Options{})
	b := newCipher(t, store, pii.Options{ReloadInterval: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b.Start(ctx)
	if err := a.RotateDataKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := keyOf(mustEncrypt(t, a, nil, nil))
	deadline := time.Now().Add(5 * time.Second)
	for keyOf(mustEncrypt(t, b, nil, nil)) != want {
		if time.Now().After(deadline) {
			t.Fatal("Start did not load the key rotated on another node")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRotateConflict(t *testing.T) {
	store := pii.NewMemKeyStore()
	a, b := newCipher(t, store, pii.Options{}), newCipher(t, store, pii.Options{})
	if err := a.RotateDataKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	err := b.RotateDataKey(t.Context())
	if !errors.Is(err, pii.ErrRotationConflict) || !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale RotateDataKey: %v, want ErrRotationConflict", err)
	}
	if n := activeKeys(t, store); n[pii.PurposeData] != 1 {
		t.Fatalf("active data keys after a refused rotation: %d", n[pii.PurposeData])
	}
	// The refused node reloaded: it now rotates from the current key.
	if err := b.RotateDataKey(t.Context()); err != nil {
		t.Fatalf("RotateDataKey after the conflict: %v", err)
	}
}

// TestRewrap is a master key rotation: data encrypted under the old master
// key reads with only the new one once the keys are re-wrapped, and the
// blind indexes do not change.
func TestRewrap(t *testing.T) {
	store := pii.NewMemKeyStore()
	oldMaster, newMaster := testMaster(1), testMaster(2)
	c := newCipher(t, store, pii.Options{MasterKey: oldMaster})
	aad := pii.AAD("account", "a1", "passport")
	before := mustEncrypt(t, c, []byte("4510 123456"), aad)
	if err := c.RotateDataKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := mustEncrypt(t, c, []byte("4510 654321"), aad)
	index := c.BlindIndex(pii.KindPassport, "4510123456")
	oldList, _ := store.ListDataKeys(t.Context())

	// Every node moves to the new master key, keeping the old one.
	moving := newCipher(t, store, pii.Options{MasterKey: newMaster, PreviousMasterKeys: [][]byte{oldMaster}})
	mustDecrypt(t, moving, before, aad, []byte("4510 123456"))
	n, err := moving.Rewrap(t.Context())
	if err != nil || n != len(oldList) {
		t.Fatalf("Rewrap = %d, %v; want %d (two data keys and the index key)", n, err, len(oldList))
	}
	if n, err := moving.Rewrap(t.Context()); err != nil || n != 0 {
		t.Fatalf("second Rewrap = %d, %v; want 0", n, err)
	}
	newList, _ := store.ListDataKeys(t.Context())
	for i, k := range newList {
		if k.KEKID == oldList[i].KEKID || bytes.Equal(k.Wrapped, oldList[i].Wrapped) || k.State != oldList[i].State {
			t.Fatalf("key %s after Rewrap: %+v (before %+v)", k.ID, k, oldList[i])
		}
	}

	// The old master key is dropped.
	only := newCipher(t, store, pii.Options{MasterKey: newMaster})
	mustDecrypt(t, only, before, aad, []byte("4510 123456"))
	mustDecrypt(t, only, after, aad, []byte("4510 654321"))
	if only.BlindIndex(pii.KindPassport, "4510123456") != index {
		t.Fatal("a master key rotation changed the blind index")
	}
	// A node still on the old master key alone cannot load the keys, and
	// says what to configure.
	stale, _ := pii.New(store, pii.Options{MasterKey: oldMaster, Logger: quiet})
	if err := stale.Init(t.Context()); err == nil || !strings.Contains(err.Error(), "previous master keys") {
		t.Fatalf("Init with only the old master key: %v", err)
	}
}

// TestInitNeedsPreviousMasterKey: before Rewrap, the new master key alone
// cannot load keys wrapped under the old one.
func TestInitNeedsPreviousMasterKey(t *testing.T) {
	store := pii.NewMemKeyStore()
	newCipher(t, store, pii.Options{MasterKey: testMaster(1)})
	c, _ := pii.New(store, pii.Options{MasterKey: testMaster(2), Logger: quiet})
	if err := c.Init(t.Context()); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("Init without the previous master key: %v", err)
	}
	if _, err := c.Rewrap(t.Context()); err == nil {
		t.Fatal("Rewrap without the previous master key succeeded")
	}
}

// TestInitConcurrent: many nodes start at once on an empty store; one data
// key and one index key are created and every node uses them.
func TestInitConcurrent(t *testing.T) {
	store := pii.NewMemKeyStore()
	const nodes = 50
	ciphers := make([]*pii.Cipher, nodes)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range ciphers {
		c, err := pii.New(store, pii.Options{MasterKey: testMaster(1), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		ciphers[i] = c
		wg.Go(func() {
			<-start
			if err := c.Init(t.Context()); err != nil {
				t.Errorf("node %d: Init: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	if list, _ := store.ListDataKeys(t.Context()); len(list) != 2 {
		t.Fatalf("%d keys stored after concurrent Init, want 2: %+v", len(list), list)
	}
	ct := mustEncrypt(t, ciphers[0], []byte("x"), nil)
	index := ciphers[0].BlindIndex(pii.KindINN, "500100732259")
	for i, c := range ciphers {
		if got := mustEncrypt(t, c, nil, nil); keyOf(got) != keyOf(ct) {
			t.Fatalf("node %d encrypts under another key", i)
		}
		mustDecrypt(t, c, ct, nil, []byte("x"))
		if c.BlindIndex(pii.KindINN, "500100732259") != index {
			t.Fatalf("node %d computes other blind indexes", i)
		}
	}
}

// fixedStore lists the keys it was given, as a damaged table would.
type fixedStore struct {
	pii.KeyStore
	keys []pii.DataKey
}

func (s fixedStore) ListDataKeys(context.Context) ([]pii.DataKey, error) { return s.keys, nil }

// TestInitRefusesDamagedKeys: a key that does not unwrap as itself, or a
// table breaking the one-active rule, stops Init instead of failing reads
// later.
func TestInitRefusesDamagedKeys(t *testing.T) {
	good := pii.NewMemKeyStore()
	newCipher(t, good, pii.Options{})
	keys, _ := good.ListDataKeys(t.Context())
	var data, index pii.DataKey
	for _, k := range keys {
		if k.Purpose == pii.PurposeData {
			data = k
		} else {
			index = k
		}
	}
	swapped := []pii.DataKey{data, index}
	swapped[0].Wrapped, swapped[1].Wrapped = index.Wrapped, data.Wrapped
	relabelled := []pii.DataKey{data, index}
	relabelled[0].ID = "00000000000000ff"
	other := pii.NewMemKeyStore()
	newCipher(t, other, pii.Options{})
	otherKeys, _ := other.ListDataKeys(t.Context())
	twoActive := append([]pii.DataKey{data, index}, otherKeys...)
	for name, tc := range map[string]struct {
		keys []pii.DataKey
		want string
	}{
		"wrapped keys swapped": {swapped, "cannot open"},
		"key id changed":       {relabelled, "cannot open"},
		"two active keys":      {twoActive, "more than one active"},
		"bad id":               {[]pii.DataKey{{ID: "ABC", Purpose: pii.PurposeData, State: pii.StateActive, KEKID: data.KEKID}, index}, "hex"},
		"unknown purpose":      {[]pii.DataKey{data, index, {ID: "00000000000000ff", Purpose: "x", State: pii.StateActive}}, "unknown purpose"},
		"unknown state":        {[]pii.DataKey{data, index, {ID: "00000000000000ff", Purpose: pii.PurposeData, State: "x"}}, "unknown state"},
	} {
		c, _ := pii.New(fixedStore{good, tc.keys}, pii.Options{MasterKey: testMaster(1), Logger: quiet})
		if err := c.Init(t.Context()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Init error %v, want one containing %q", name, err, tc.want)
		}
	}
}
