package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gosid/gosid/clients"
	"github.com/gosid/gosid/storage"
)

// TestESIAOids: an account's oid is assigned once, numeric, unique; ten
// concurrent first uses of one account agree; a deleted row's number is
// never handed out again; an ESIA registration round-trips and is replaced
// by a second Put.
func TestESIAOids(t *testing.T) {
	forEachDialect(t, func(t *testing.T, open func(tb testing.TB) *Store) {
		s := open(t)
		ctx := context.Background()
		oids := make([]int64, 10)
		errs := make([]error, 10)
		var wg sync.WaitGroup
		for i := range oids {
			wg.Add(1)
			go func() { defer wg.Done(); oids[i], errs[i] = s.ESIAOid(ctx, "acc-same") }()
		}
		wg.Wait()
		for i := range oids {
			if errs[i] != nil || oids[i] != oids[0] || oids[0] <= 1000000000 {
				t.Fatalf("concurrent first use: %v %v", oids, errs)
			}
		}
		seen := map[int64]bool{oids[0]: true}
		var last int64
		for i := range 5 {
			oid, err := s.ESIAOid(ctx, fmt.Sprintf("acc-%d", i))
			if err != nil || seen[oid] {
				t.Fatalf("oid %d %v (seen %v)", oid, err, seen)
			}
			seen[oid], last = true, oid
		}
		if id, err := s.AccountByESIAOid(ctx, last); err != nil || id != "acc-4" {
			t.Fatalf("by oid: %q %v", id, err)
		}
		// Even if the newest row went away, its number is not reused.
		if _, err := s.q(ctx).exec(ctx, `DELETE FROM esia_oids WHERE oid=$1`, last); err != nil {
			t.Fatal(err)
		}
		if oid, err := s.ESIAOid(ctx, "acc-new"); err != nil || oid <= last {
			t.Fatalf("after delete: %d %v (last %d)", oid, err, last)
		}
		if _, err := s.AccountByESIAOid(ctx, 42); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("unknown oid: %v", err)
		}

		if _, err := s.GetESIAClient(ctx, "NOPE"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("unknown client: %v", err)
		}
		c := &clients.Client{ID: "TESTIS01", Name: "x", RedirectURIs: []string{"https://a/cb"}, GrantTypes: []string{"authorization_code"},
			ResponseTypes: []string{"code"}, Scopes: []string{"openid"}, Public: true, TokenEndpointAuthMethod: "none"}
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		e := &clients.ESIA{ClientID: "TESTIS01", Certificate: "PEM", RedirectDomains: []string{"a.example", "b.example"}, SigningAlg: "RS256"}
		if err := s.PutESIAClient(ctx, e); err != nil {
			t.Fatal(err)
		}
		e.RedirectDomains = []string{"c.example"}
		if err := s.PutESIAClient(ctx, e); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetESIAClient(ctx, "TESTIS01")
		if err != nil || got.Certificate != "PEM" || len(got.RedirectDomains) != 1 || got.RedirectDomains[0] != "c.example" || got.SigningAlg != "RS256" {
			t.Fatalf("got %+v %v", got, err)
		}
	})
}
