package conformance

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/consent"
	"github.com/gosid/gosid/storage"
)

var durConsentCases = []durCase{
	{"SaveGetReplace", durConsentSave},
	{"ListAndDelete", durConsentList},
	{"ConcurrentUpdates", durConsentConcurrent},
}

var durAuditCases = []durCase{
	{"RoundTrip", durAuditRoundTrip},
	{"Paging", durAuditPaging},
	{"RaiseCount", durAuditRaiseCount},
}

// durAuditRaiseCount: a counted event's count only goes up, its other data
// stays, and another account's event is not touched.
func durAuditRaiseCount(t *testing.T, s Durable) {
	ctx := t.Context()
	e := &audit.Event{AccountID: "a1", Type: "login.blocked_attempt", IP: "192.0.2.1",
		Data: map[string]string{audit.CountKey: "1", "minutes": "15"}, At: durNow}
	bare := &audit.Event{AccountID: "a1", Type: "login.blocked_attempt", At: durNow}
	other := &audit.Event{AccountID: "a2", Type: "login.blocked_attempt", Data: map[string]string{audit.CountKey: "1"}, At: durNow}
	for _, ev := range []*audit.Event{e, bare, other} {
		if err := s.AppendEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int64{5, 12, 9, 12, 1} {
		if err := s.RaiseEventCount(ctx, "a1", e.ID, n); err != nil {
			t.Fatalf("RaiseEventCount(%d): %v", n, err)
		}
	}
	if err := s.RaiseEventCount(ctx, "a1", bare.ID, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.RaiseEventCount(ctx, "a1", other.ID, 99); err != nil {
		t.Fatalf("another account's event: %v", err)
	}
	if err := s.RaiseEventCount(ctx, "a1", 1<<40, 99); err != nil {
		t.Fatalf("an unknown event: %v", err)
	}
	list, err := s.ListEvents(ctx, "a1", 0, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListEvents = %d, %v", len(list), err)
	}
	if got := list[1].Data; got[audit.CountKey] != "12" || got["minutes"] != "15" || len(got) != 2 {
		t.Errorf("raised event data = %v, want count 12 and minutes 15", got)
	}
	if got := list[0].Data; got[audit.CountKey] != "3" {
		t.Errorf("event without data raised to %v, want count 3", got)
	}
	if list, _ := s.ListEvents(ctx, "a2", 0, 10); len(list) != 1 || list[0].Data[audit.CountKey] != "1" {
		t.Errorf("another account's event changed: %+v", list[0].Data)
	}
}

func durGrant(subject, clientID string, scopes ...string) *consent.Grant {
	return &consent.Grant{Subject: subject, ClientID: clientID, Scopes: scopes, GrantedAt: durNow, UpdatedAt: durNow}
}

func durConsentSave(t *testing.T, s Durable) {
	ctx := t.Context()
	_, err := s.GetConsent(ctx, "a1", "c1")
	durWant(t, "GetConsent before any consent", err, storage.ErrNotFound)
	g := durGrant("a1", "c1", "openid", "profile")
	if err := s.SaveConsent(ctx, g); err != nil {
		t.Fatalf("SaveConsent: %v", err)
	}
	got, err := s.GetConsent(ctx, "a1", "c1")
	if err != nil {
		t.Fatalf("GetConsent: %v", err)
	}
	durSame(t, "consent round trip", got, g)
	// Saving again replaces the grant.
	g = &consent.Grant{Subject: "a1", ClientID: "c1", Scopes: []string{"openid", "profile", "phone"},
		GrantedAt: durNow.Add(-time.Hour), UpdatedAt: durNow.Add(time.Minute)}
	if err := s.SaveConsent(ctx, g); err != nil {
		t.Fatalf("SaveConsent (replace): %v", err)
	}
	got, err = s.GetConsent(ctx, "a1", "c1")
	if err != nil {
		t.Fatalf("GetConsent: %v", err)
	}
	durSame(t, "replaced consent", got, g)
}

func durConsentList(t *testing.T, s Durable) {
	ctx := t.Context()
	if list, err := s.ListConsents(ctx, "a1"); err != nil || len(list) != 0 {
		t.Fatalf("ListConsents with none = %d, %v", len(list), err)
	}
	for _, g := range []*consent.Grant{durGrant("a1", "c1", "openid"), durGrant("a1", "c2", "openid", "email"),
		durGrant("a2", "c1", "openid")} {
		if err := s.SaveConsent(ctx, g); err != nil {
			t.Fatalf("SaveConsent: %v", err)
		}
	}
	list, err := s.ListConsents(ctx, "a1")
	if err != nil || len(list) != 2 {
		t.Fatalf("ListConsents = %d, %v; want 2", len(list), err)
	}
	for _, g := range list {
		durSame(t, "listed consent", g, durGrant("a1", g.ClientID, g.Scopes...))
	}
	if err := s.DeleteConsent(ctx, "a1", "c1"); err != nil {
		t.Fatalf("DeleteConsent: %v", err)
	}
	_, err = s.GetConsent(ctx, "a1", "c1")
	durWant(t, "GetConsent after delete", err, storage.ErrNotFound)
	if err := s.DeleteConsent(ctx, "a1", "c1"); err != nil {
		t.Fatalf("DeleteConsent of a missing consent: %v; want nil (revoking twice is fine)", err)
	}
	if _, err := s.GetConsent(ctx, "a2", "c1"); err != nil {
		t.Fatalf("another citizen's consent to the same client is gone: %v", err)
	}
	if list, err := s.ListConsents(ctx, "a1"); err != nil || len(list) != 1 || list[0].ClientID != "c2" {
		t.Fatalf("ListConsents after delete = %+v, %v", list, err)
	}
}

func durAuditRoundTrip(t *testing.T, s Durable) {
	ctx := t.Context()
	full := &audit.Event{AccountID: "a1", Type: "login.success", ClientID: "c1", IP: "2001:db8::1",
		UserAgent: "Mozilla/5.0 (Яндекс)", Data: map[string]string{"method": "password", "amr": "pwd otp"}, At: durNow}
	bare := &audit.Event{Type: "client.created", At: durNow.Add(time.Second)}
	bare2 := &audit.Event{AccountID: "a1", Type: "password.changed", Data: map[string]string{}, At: durNow.Add(time.Second)}
	var last int64
	for _, e := range []*audit.Event{full, bare, bare2} {
		if err := s.AppendEvent(ctx, e); err != nil {
			t.Fatalf("AppendEvent: %v", err)
		}
		if e.ID <= last {
			t.Fatalf("AppendEvent set ID %d after %d; want increasing IDs", e.ID, last)
		}
		last = e.ID
	}
	list, err := s.ListEvents(ctx, "a1", 0, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListEvents = %d, %v; want 2", len(list), err)
	}
	durSame(t, "newest event", list[0], bare2)
	durSame(t, "older event", list[1], full)
	if list, err := s.ListEvents(ctx, "", 0, 10); err != nil || len(list) != 1 || list[0].ID != bare.ID {
		t.Fatalf("events about no account = %+v, %v", list, err)
	}
	if list, err := s.ListEvents(ctx, "nobody", 0, 10); err != nil || len(list) != 0 {
		t.Fatalf("events of an unknown account = %d, %v", len(list), err)
	}
}

func durAuditPaging(t *testing.T, s Durable) {
	ctx := t.Context()
	const total = 25
	for i := range total {
		for _, acct := range []string{"a1", "other"} {
			e := &audit.Event{AccountID: acct, Type: "login.failure", Data: map[string]string{"n": fmt.Sprint(i)}, At: durNow}
			if err := s.AppendEvent(ctx, e); err != nil {
				t.Fatalf("AppendEvent: %v", err)
			}
		}
	}
	var sizes []int
	var all []*audit.Event
	for before := int64(0); ; {
		page, err := s.ListEvents(ctx, "a1", before, 10)
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		if len(page) == 0 {
			break
		}
		sizes = append(sizes, len(page))
		all = append(all, page...)
		before = page[len(page)-1].ID
	}
	if fmt.Sprint(sizes) != "[10 10 5]" {
		t.Fatalf("page sizes %v, want [10 10 5]", sizes)
	}
	for i, e := range all {
		if want := fmt.Sprint(total - 1 - i); e.AccountID != "a1" || e.Data["n"] != want {
			t.Fatalf("event %d: account %q n=%q; want a1, n=%s (newest first)", i, e.AccountID, e.Data["n"], want)
		}
	}
	// beforeID need not be an ID of this account.
	if page, err := s.ListEvents(ctx, "a1", all[0].ID+1, 1); err != nil || len(page) != 1 || page[0].ID != all[0].ID {
		t.Fatalf("ListEvents before an ID of another account = %+v, %v", page, err)
	}
}

// durConsentConcurrent: consents given at once (two tabs, two services'
// scopes) each add their scope; none is lost, and an updater that fails
// writes nothing.
func durConsentConcurrent(t *testing.T, s Durable) {
	ctx := t.Context()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scope := fmt.Sprintf("scope%02d", i)
			errs <- s.UpdateConsent(ctx, "a1", "c1", durNow, func(g *consent.Grant) error {
				if !slices.Contains(g.Scopes, scope) {
					g.Scopes = append(g.Scopes, scope)
				}
				g.UpdatedAt = durNow
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("UpdateConsent: %v", err)
		}
	}
	g, err := s.GetConsent(ctx, "a1", "c1")
	if err != nil {
		t.Fatalf("GetConsent: %v", err)
	}
	if len(g.Scopes) != n || !g.GrantedAt.Equal(durNow) {
		t.Fatalf("after %d concurrent updates the consent holds %d scopes (%v), granted %v", n, len(g.Scopes), g.Scopes, g.GrantedAt)
	}
	boom := errors.New("refused")
	if err := s.UpdateConsent(ctx, "a1", "c2", durNow, func(*consent.Grant) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateConsent with a failing updater = %v", err)
	}
	_, err = s.GetConsent(ctx, "a1", "c2")
	durWant(t, "a consent whose updater failed", err, storage.ErrNotFound)
}
