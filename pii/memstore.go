package pii

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/gosid/gosid/storage"
)

// MemKeyStore is a KeyStore in memory, for tests of packages that encrypt
// personal data. It keeps the port's contract (the storage conformance suite
// checks it as it checks the SQL store), and forgets everything when dropped.
type MemKeyStore struct {
	mu   sync.Mutex
	keys []DataKey
}

// NewMemKeyStore returns an empty MemKeyStore.
func NewMemKeyStore() *MemKeyStore { return &MemKeyStore{} }

func cloneKey(d DataKey) DataKey {
	d.Wrapped = bytes.Clone(d.Wrapped)
	return d
}

// ListDataKeys implements KeyStore.
func (s *MemKeyStore) ListDataKeys(context.Context) ([]DataKey, error) {
	runtime.Gosched() // let concurrent nodes interleave
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DataKey, len(s.keys))
	for i, d := range s.keys {
		out[i] = cloneKey(d)
	}
	return out, nil
}

// taken reports whether d may not be added. s.mu must be held.
func (s *MemKeyStore) taken(d DataKey) bool {
	return slices.ContainsFunc(s.keys, func(k DataKey) bool {
		return k.ID == d.ID || d.State == StateActive && k.State == StateActive && k.Purpose == d.Purpose
	})
}

// CreateDataKey implements KeyStore.
func (s *MemKeyStore) CreateDataKey(_ context.Context, d DataKey) (bool, error) {
	runtime.Gosched()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taken(d) {
		return false, nil
	}
	s.keys = append(s.keys, cloneKey(d))
	return true, nil
}

// UpdateWrapped implements KeyStore.
func (s *MemKeyStore) UpdateWrapped(_ context.Context, id string, wrapped []byte, kekID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.keys, func(k DataKey) bool { return k.ID == id })
	if i < 0 {
		return storage.ErrNotFound
	}
	s.keys[i].Wrapped, s.keys[i].KEKID = bytes.Clone(wrapped), kekID
	return nil
}

// RotateDataKey implements KeyStore.
func (s *MemKeyStore) RotateDataKey(_ context.Context, retireID string, next DataKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.keys, func(k DataKey) bool {
		return k.ID == retireID && k.Purpose == next.Purpose && k.State == StateActive
	})
	if i < 0 || slices.ContainsFunc(s.keys, func(k DataKey) bool { return k.ID == next.ID }) {
		return storage.ErrConflict
	}
	s.keys[i].State, s.keys[i].RetiredAt = StateRetired, next.CreatedAt
	next.State, next.RetiredAt = StateActive, time.Time{}
	s.keys = append(s.keys, cloneKey(next))
	return nil
}

var _ KeyStore = (*MemKeyStore)(nil)
