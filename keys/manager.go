// Package keys holds gosid's signing keys and the master key.
//
// Signing keys live in the database (through Store), their private halves
// sealed under the master key (Sealer). Every node loads them into memory and
// reloads every few seconds, so a rotation made on one node or by the CLI
// reaches all of them without a restart. Each algorithm has one Active key
// that signs, one Next key that is already published in the JWKS so clients
// know it before it signs anything, and Retired keys that stay published until
// the longest-lived token they signed has expired.
package keys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosid/gosid/storage"
)

// Options configure a Manager. The zero value is valid.
type Options struct {
	// Algs are the algorithms to keep keys for; default ES256 and RS256.
	Algs []string
	// RetireAfter is how long a retired key stays published: the longest
	// lifetime of any token it may have signed. Default 24h.
	RetireAfter time.Duration
	// ReloadInterval is how often Start re-reads the keys. Default 10s.
	ReloadInterval time.Duration
	Logger         *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// ErrNoActiveKey is returned by Sign when no key of the algorithm is loaded.
var ErrNoActiveKey = errors.New("keys: no active key for the algorithm")

// ErrRotationConflict is returned by Rotate when another node (or the CLI)
// rotated the same algorithm since this node last loaded its keys. It wraps
// storage.ErrConflict.
var ErrRotationConflict = fmt.Errorf("another rotation happened first: %w", storage.ErrConflict)

// initAttempts bounds Init's retries: each retry follows an insert that lost
// to another node, so two or three are the most ever needed.
const initAttempts = 10

// sweepEvery is how often Start deletes expired retired keys from the store.
const sweepEvery = 10 * time.Minute

// Manager keeps the signing keys in memory: it signs with the active key of
// each algorithm, verifies against every published key and serves the JWKS.
// It is safe for concurrent use.
type Manager struct {
	store  Store
	sealer *Sealer
	o      Options
	log    *slog.Logger
	set    atomic.Pointer[keySet]
	// mu serialises loads and writes, so an older listing never replaces a
	// newer one; readers never take it.
	mu sync.Mutex
}

// NewManager returns a Manager with no keys loaded: call Init before use.
func NewManager(store Store, sealer *Sealer, opts Options) *Manager {
	if len(opts.Algs) == 0 {
		opts.Algs = []string{ES256, RS256}
	}
	opts.Algs = slices.Clone(opts.Algs)
	if opts.RetireAfter <= 0 {
		opts.RetireAfter = 24 * time.Hour
	}
	if opts.ReloadInterval <= 0 {
		opts.ReloadInterval = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Manager{store: store, sealer: sealer, o: opts, log: opts.Logger}
	m.set.Store(emptyKeySet())
	return m
}

// Init loads the keys and makes sure every algorithm has an Active and a
// Next key, creating them on first start.
//
// Many nodes may start at once on one empty database. None of them signs with
// a key it generated: a node only proposes keys with InsertKey, and since
// (alg, generation) is unique exactly one proposal per generation is stored.
// The node then re-reads the store and uses whatever won, so every node ends
// with the same keys.
func (m *Manager) Init(ctx context.Context) error {
	for _, alg := range m.o.Algs {
		if !supported(alg) {
			return fmt.Errorf("keys: unsupported algorithm %q (want ES256 or RS256)", alg)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for range initAttempts {
		recs, err := m.store.ListKeys(ctx)
		if err != nil {
			return fmt.Errorf("keys: init: list keys: %w", err)
		}
		changed := false
		for _, alg := range m.o.Algs {
			c, err := m.complete(ctx, alg, recs)
			if err != nil {
				return err
			}
			changed = changed || c
		}
		if !changed {
			return m.install(recs)
		}
	}
	return fmt.Errorf("keys: init: the stored keys kept changing during %d attempts", initAttempts)
}

// complete proposes the one key alg lacks, if any, and reports whether it
// proposed one (won or lost: either way the caller must re-read).
func (m *Manager) complete(ctx context.Context, alg string, recs []Record) (bool, error) {
	var active, next *Record
	var maxGen int64
	for i := range recs {
		r := &recs[i]
		if r.Alg != alg {
			continue
		}
		maxGen = max(maxGen, r.Generation)
		switch {
		case r.State == StateActive && active != nil, r.State == StateNext && next != nil:
			return false, fmt.Errorf("keys: more than one %s %s key is stored; the key table needs repair", r.State, alg)
		case r.State == StateActive:
			active = r
		case r.State == StateNext:
			next = r
		}
	}
	var gen int64
	var state State
	switch {
	case active == nil && next != nil:
		return false, fmt.Errorf("keys: the %s key of generation %d is next but no key is active; "+
			"the key table needs repair", alg, next.Generation)
	case active == nil:
		// First start, or every key was retired by hand: start a new line
		// above every generation ever used.
		gen, state = maxGen+1, StateActive
	case next == nil:
		gen, state = active.Generation+1, StateNext
	case next.Generation != active.Generation+1:
		return false, fmt.Errorf("keys: the next %s key has generation %d, want %d; the key table needs repair",
			alg, next.Generation, active.Generation+1)
	default:
		return false, nil
	}
	priv, err := generateKey(alg)
	if err != nil {
		return false, err
	}
	rec, err := newRecord(m.sealer, priv, alg, gen, state, m.o.Now().UTC())
	if err != nil {
		return false, err
	}
	won, err := m.store.InsertKey(ctx, rec)
	if err != nil {
		return false, fmt.Errorf("keys: init: insert %s key: %w", alg, err)
	}
	if won {
		m.log.Info("signing key created", "alg", alg, "kid", rec.KID, "generation", gen, "state", string(state))
	}
	return true, nil
}

// Reload re-reads the keys from the store. On error the keys loaded before
// stay in use.
func (m *Manager) Reload(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reload(ctx)
}

func (m *Manager) reload(ctx context.Context) error {
	recs, err := m.store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: reload: %w", err)
	}
	return m.install(recs)
}

// install builds and swaps in the snapshot for recs. m.mu must be held.
func (m *Manager) install(recs []Record) error {
	prev := m.set.Load()
	s, err := buildKeySet(recs, prev, m.sealer, m.o.Now())
	if err != nil {
		return err
	}
	m.set.Store(s)
	if s.etag != prev.etag {
		attrs := []any{"published", len(s.byKID)}
		for _, alg := range m.o.Algs {
			if k := s.active[alg]; k != nil {
				attrs = append(attrs, "active_"+alg, k.KID)
			}
		}
		m.log.Info("signing keys loaded", attrs...)
	}
	return nil
}

// Start reloads the keys every ReloadInterval, and now and then deletes
// retired keys that have left the JWKS, until ctx is done. It returns at once.
func (m *Manager) Start(ctx context.Context) {
	go func() {
		t := time.NewTicker(m.o.ReloadInterval)
		defer t.Stop()
		var swept time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := m.Reload(ctx); err != nil && ctx.Err() == nil {
				m.log.Error("reload signing keys", "err", err)
			}
			if now := m.o.Now(); now.Sub(swept) >= sweepEvery {
				swept = now
				m.sweep(ctx, now)
			}
		}
	}()
}

func (m *Manager) sweep(ctx context.Context, now time.Time) {
	n, err := m.store.DeleteExpiredKeys(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Error("delete expired signing keys", "err", err)
		}
		return
	}
	if n > 0 {
		m.log.Info("expired signing keys deleted", "count", n)
	}
}

// Rotate makes the published Next key of alg Active, retires the Active one
// (it stays in the JWKS until RetireAfter has passed) and publishes a new
// Next key. It acts on the keys this node has loaded: if another rotation
// happened since, it changes nothing, reloads, and returns an error wrapping
// ErrRotationConflict, so two operators rotating at once rotate once.
func (m *Manager) Rotate(ctx context.Context, alg string) error {
	// Generating an RSA key takes a while; do it before taking the lock.
	priv, err := generateKey(alg)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.set.Load()
	active, next := s.active[alg], s.next[alg]
	if active == nil || next == nil {
		return fmt.Errorf("keys: rotate %s: no active and next key loaded (run Init first)", alg)
	}
	now := m.o.Now().UTC()
	rec, err := newRecord(m.sealer, priv, alg, active.Generation+2, StateNext, now)
	if err != nil {
		return err
	}
	// A node that has not reloaded yet may sign with the old key for up to
	// one more ReloadInterval; keep it published that much longer.
	until := now.Add(m.o.RetireAfter + m.o.ReloadInterval)
	err = m.store.RotateKeys(ctx, alg, active.Generation, rec, now, until)
	if errors.Is(err, storage.ErrConflict) {
		if rerr := m.reload(ctx); rerr != nil {
			m.log.Error("reload signing keys", "err", rerr)
		}
		return fmt.Errorf("keys: rotate %s: %w; the keys were reloaded, check them before rotating again",
			alg, ErrRotationConflict)
	}
	if err != nil {
		return fmt.Errorf("keys: rotate %s: %w", alg, err)
	}
	m.log.Info("signing key rotated", "alg", alg, "active", next.KID, "retired", active.KID,
		"retired_until", until, "next", rec.KID)
	return m.reload(ctx)
}

// List returns every stored key as last loaded (including retired keys not
// yet deleted), by algorithm and generation, without the sealed private keys.
func (m *Manager) List() []Record {
	return slices.Clone(m.set.Load().records)
}

// Published reports whether the key with kid is in the JWKS.
func (m *Manager) Published(kid string) bool {
	return m.set.Load().byKID[kid] != nil
}
