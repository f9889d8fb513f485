package conformance

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/consent"
	"github.com/gosid/gosid/grants"
	"github.com/gosid/gosid/keys"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/verify"
)

// Durable is every durable port; one adapter implements them all.
type Durable interface {
	clients.Store
	account.Store
	keys.Store
	consent.Store
	audit.Store
	grants.Store
	mfa.Store
	account.SessionIndex
	account.Inbox
	verify.Store
	verify.ScanStore
	// InTx runs fn in one transaction that every method called with fn's
	// context joins: all of fn's writes are committed, or none.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// durCase is one contract check; it gets a store of its own.
type durCase struct {
	name string
	run  func(t *testing.T, s Durable)
}

// RunDurable runs the contract of every durable port against the adapter.
// open returns a fresh, empty, migrated store for each subtest.
//
// Times are compared to the millisecond and in any location; an empty list
// or byte slice may come back as nil and the other way round.
func RunDurable(t *testing.T, open func(t *testing.T) Durable) {
	t.Helper()
	groups := []struct {
		name  string
		cases []durCase
	}{
		{"Clients", durClientCases},
		{"Accounts", durAccountCases},
		{"Keys", durKeyCases},
		{"Consents", durConsentCases},
		{"Audit", durAuditCases},
		{"RefreshTokens", durRefreshCases},
		{"Factors", durFactorCases},
		{"Sessions", durSessionCases},
		{"Transactions", durTxCases},
		{"Profiles", durProfileCases},
		{"VerificationJob", durVerifyJobCases},
		{"Scans", durScanCases},
		{"Inbox", durInboxCases},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
			}
		})
	}
}

// durNow is a fixed instant, in a location other than UTC and with
// sub-second digits, so that adapters must keep both the instant and the
// fraction.
var durNow = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.FixedZone("MSK", 3*3600))

// errLost marks a contender that lost a race without an error.
var errLost = errors.New("lost the race")

// durContenders is how many goroutines race in the exactly-once checks.
const durContenders = 50

func durWant(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func durSameTime(a, b time.Time) bool { return a.Sub(b).Abs() < time.Millisecond }

// durNormalize rewrites, in the struct v points to, every time to UTC
// truncated to the millisecond and every empty slice to nil, so that
// reflect.DeepEqual compares what the contract promises and nothing more.
func durNormalize(v any) {
	durNormalizeValue(reflect.ValueOf(v).Elem())
}

var timeType = reflect.TypeFor[time.Time]()

func durNormalizeValue(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case !f.CanSet():
		case f.Type() == timeType:
			tm := f.Interface().(time.Time)
			if !tm.IsZero() {
				f.Set(reflect.ValueOf(tm.UTC().Truncate(time.Millisecond)))
			}
		case (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0:
			f.Set(reflect.Zero(f.Type()))
		}
	}
}

// durSame fails unless got and want (pointers to structs of one type) are
// equal after normalisation. Both are copied first.
func durSame[T any](t *testing.T, what string, got, want *T) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil", what)
	}
	g, w := *got, *want
	durNormalize(&g)
	durNormalize(&w)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

// durRace runs fn in n goroutines released together and returns how many
// returned nil; any error other than allowed fails the test.
func durRace(t *testing.T, n int, allowed error, fn func(i int) error) int {
	t.Helper()
	start := make(chan struct{})
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range n {
		wg.Go(func() {
			<-start
			err := fn(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case allowed == nil || !errors.Is(err, allowed):
				t.Errorf("contender %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return wins
}

// durSet turns a list into a set for order-free comparison.
func durSet(l []string) map[string]bool {
	m := make(map[string]bool, len(l))
	for _, s := range l {
		m[s] = true
	}
	return m
}
