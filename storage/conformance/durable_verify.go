package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/verify"
)

var durProfileCases = []durCase{
	{"RoundTrip", durProfileRoundTrip},
	{"CompareAndSwap", durProfileCompareAndSwap},
	{"ConcurrentSwaps", durProfileConcurrentSwaps},
	{"IndexesBackOneAccount", durProfileIndexes},
	{"Delete", durProfileDelete},
}

var durScanCases = []durCase{
	{"RoundTrip", durScanRoundTrip},
	{"Delete", durScanDelete},
}

var durInboxCases = []durCase{
	{"ListAndMarkRead", durInboxList},
}

func durProfile(accountID, submission string) *verify.Record {
	return &verify.Record{AccountID: accountID, Pending: []byte("sealed pending"), Status: verify.StatusVerifying,
		Submission: submission, UpdatedAt: durNow}
}

func durVerified(accountID, submission, snils, passport string) *verify.Record {
	return &verify.Record{AccountID: accountID, Pending: []byte("sealed pending"), Verified: []byte("sealed verified"),
		Status: verify.StatusVerified, Submission: submission, SNILSIndex: snils, PassportIndex: passport,
		UpdatedAt: durNow, VerifiedAt: durNow.Add(time.Second)}
}

func durPutProfile(t *testing.T, s Durable, r *verify.Record, expect *string) bool {
	t.Helper()
	ok, err := s.PutProfile(t.Context(), r, expect)
	if err != nil {
		t.Fatalf("PutProfile %s: %v", r.AccountID, err)
	}
	return ok
}

func durGetProfile(t *testing.T, s Durable, accountID string) *verify.Record {
	t.Helper()
	r, err := s.GetProfile(t.Context(), accountID)
	if err != nil {
		t.Fatalf("GetProfile %s: %v", accountID, err)
	}
	return r
}

func durProfileRoundTrip(t *testing.T, s Durable) {
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""), durAccount("a2", "+79000000002", ""))
	_, err := s.GetProfile(t.Context(), "a1")
	durWant(t, "GetProfile before any", err, storage.ErrNotFound)
	pending := durProfile("a1", "s1")
	if !durPutProfile(t, s, pending, nil) {
		t.Fatal("PutProfile of a new profile: not written")
	}
	durSame(t, "pending profile", durGetProfile(t, s, "a1"), pending)
	rejected := durProfile("a2", "s2")
	rejected.Status, rejected.Rejections = verify.StatusRejected, []verify.Rejection{
		{Registry: "mvd", Outcome: "mismatch", Fields: []string{"passport_number"}}, {Registry: "sfr", Outcome: "not_found"}}
	durPutProfile(t, s, rejected, nil)
	durSame(t, "rejected profile", durGetProfile(t, s, "a2"), rejected)
	verified := durVerified("a1", "s1", "snils-1", "passport-1")
	durPutProfile(t, s, verified, nil)
	durSame(t, "verified profile", durGetProfile(t, s, "a1"), verified)
}

// durProfileCompareAndSwap: a write that expects a submission happens only
// while the stored one is still it; on a missing profile it expects "".
func durProfileCompareAndSwap(t *testing.T, s Durable) {
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""))
	none, stale := "", "s0"
	if !durPutProfile(t, s, durProfile("a1", "s1"), &none) {
		t.Fatal("PutProfile expecting no submission on a missing profile: not written")
	}
	if durPutProfile(t, s, durProfile("a1", "s9"), &stale) {
		t.Fatal("PutProfile expecting a stale submission: written")
	}
	if durPutProfile(t, s, durProfile("a1", "s9"), &none) {
		t.Fatal("PutProfile expecting no submission on an existing profile: written")
	}
	durSame(t, "profile after refused swaps", durGetProfile(t, s, "a1"), durProfile("a1", "s1"))
	cur := "s1"
	next := durVerified("a1", "s1", "snils-1", "passport-1")
	if !durPutProfile(t, s, next, &cur) {
		t.Fatal("PutProfile expecting the current submission: not written")
	}
	durSame(t, "profile after the swap", durGetProfile(t, s, "a1"), next)
}

// durProfileConcurrentSwaps: of many writers expecting the same
// submission, exactly one wins.
func durProfileConcurrentSwaps(t *testing.T, s Durable) {
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""))
	durPutProfile(t, s, durProfile("a1", "s0"), nil)
	wins := durRace(t, durContenders, errLost, func(i int) error {
		expect := "s0"
		ok, err := s.PutProfile(t.Context(), durProfile("a1", fmt.Sprintf("s%d", i+1)), &expect)
		if err == nil && !ok {
			return errLost
		}
		return err
	})
	if wins != 1 {
		t.Fatalf("%d writers won the swap, want 1", wins)
	}
	if got := durGetProfile(t, s, "a1"); got.Submission == "s0" {
		t.Fatal("the winner's submission is not stored")
	}
}

// durProfileIndexes: a SNILS or passport backs one verified account only;
// the index finds it.
func durProfileIndexes(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""), durAccount("a2", "+79000000002", ""))
	durPutProfile(t, s, durVerified("a1", "s1", "snils-1", "passport-1"), nil)
	for _, tc := range []struct{ what, snils, passport string }{
		{"a taken SNILS", "snils-1", "passport-2"},
		{"a taken passport", "snils-2", "passport-1"},
	} {
		expect := ""
		_, err := s.PutProfile(ctx, durVerified("a2", "s2", tc.snils, tc.passport), &expect)
		durWant(t, "PutProfile with "+tc.what, err, storage.ErrConflict)
	}
	_, err := s.GetProfile(ctx, "a2")
	durWant(t, "GetProfile after refused writes", err, storage.ErrNotFound)
	if id, err := s.FindBySNILSIndex(ctx, "snils-1"); err != nil || id != "a1" {
		t.Fatalf("FindBySNILSIndex = %q, %v; want a1", id, err)
	}
	_, err = s.FindBySNILSIndex(ctx, "snils-2")
	durWant(t, "FindBySNILSIndex of an unknown index", err, storage.ErrNotFound)
	// Profiles without indexes (not verified) do not collide.
	durPutProfile(t, s, durProfile("a2", "s2"), nil)
}

func durProfileDelete(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""), durAccount("a2", "+79000000002", ""))
	durPutProfile(t, s, durVerified("a1", "s1", "snils-1", "passport-1"), nil)
	if err := s.DeleteProfile(ctx, "a1"); err != nil {
		t.Fatalf("DeleteProfile: %v", err)
	}
	_, err := s.GetProfile(ctx, "a1")
	durWant(t, "GetProfile after DeleteProfile", err, storage.ErrNotFound)
	_, err = s.FindBySNILSIndex(ctx, "snils-1")
	durWant(t, "FindBySNILSIndex after DeleteProfile", err, storage.ErrNotFound)
	if err := s.DeleteProfile(ctx, "a1"); err != nil {
		t.Fatalf("DeleteProfile of a missing profile: %v", err)
	}
	// The documents can back another account now.
	durPutProfile(t, s, durVerified("a2", "s2", "snils-1", "passport-1"), nil)
}

func durScan(accountID, id, kind string, at time.Time) *verify.Scan {
	return &verify.Scan{ID: id, AccountID: accountID, Kind: kind, ContentType: "image/png", Size: 4,
		Data: []byte("seal" + id), CreatedAt: at}
}

func durScanRoundTrip(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""), durAccount("a2", "+79000000002", ""))
	scans := []*verify.Scan{durScan("a1", "sc2", "snils", durNow.Add(time.Second)), durScan("a1", "sc1", "passport", durNow),
		durScan("a2", "sc3", "inn", durNow)}
	for _, sc := range scans {
		if err := s.AddScan(ctx, sc); err != nil {
			t.Fatalf("AddScan: %v", err)
		}
	}
	durWant(t, "AddScan with a taken id", s.AddScan(ctx, durScan("a1", "sc1", "other", durNow)), storage.ErrConflict)
	list, err := s.ListScans(ctx, "a1")
	if err != nil || len(list) != 2 {
		t.Fatalf("ListScans = %d, %v; want 2", len(list), err)
	}
	for i, want := range []*verify.Scan{scans[1], scans[0]} {
		w := *want
		w.Data = nil // listed without the file
		durSame(t, "listed scan (oldest first)", list[i], &w)
	}
	got, err := s.GetScan(ctx, "a1", "sc1")
	if err != nil {
		t.Fatalf("GetScan: %v", err)
	}
	durSame(t, "scan with its file", got, scans[1])
	_, err = s.GetScan(ctx, "a2", "sc1")
	durWant(t, "GetScan of another account's scan", err, storage.ErrNotFound)
}

func durScanDelete(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""), durAccount("a2", "+79000000002", ""))
	for _, sc := range []*verify.Scan{durScan("a1", "sc1", "passport", durNow), durScan("a1", "sc2", "snils", durNow),
		durScan("a2", "sc3", "inn", durNow)} {
		if err := s.AddScan(ctx, sc); err != nil {
			t.Fatalf("AddScan: %v", err)
		}
	}
	durWant(t, "DeleteScan of another account's scan", s.DeleteScan(ctx, "a2", "sc1"), storage.ErrNotFound)
	if err := s.DeleteScan(ctx, "a1", "sc1"); err != nil {
		t.Fatalf("DeleteScan: %v", err)
	}
	durWant(t, "DeleteScan again", s.DeleteScan(ctx, "a1", "sc1"), storage.ErrNotFound)
	if err := s.DeleteScans(ctx, "a1"); err != nil {
		t.Fatalf("DeleteScans: %v", err)
	}
	if list, err := s.ListScans(ctx, "a1"); err != nil || len(list) != 0 {
		t.Fatalf("ListScans after DeleteScans = %d, %v", len(list), err)
	}
	if list, err := s.ListScans(ctx, "a2"); err != nil || len(list) != 1 {
		t.Fatalf("another account's scans after DeleteScans = %d, %v; want 1", len(list), err)
	}
}

func durInboxList(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""), durAccount("a2", "+79000000002", ""))
	msgs := []*account.InboxMessage{
		{ID: "m1", AccountID: "a1", Template: "login_new_device", Data: map[string]string{"ip": "192.0.2.1"}, CreatedAt: durNow},
		{ID: "m2", AccountID: "a1", Template: "password_changed", CreatedAt: durNow.Add(time.Minute)},
		{ID: "m3", AccountID: "a1", Template: "verification_done", CreatedAt: durNow.Add(2 * time.Minute),
			ReadAt: durNow.Add(3 * time.Minute)},
		{ID: "m4", AccountID: "a2", Template: "password_changed", CreatedAt: durNow},
	}
	for _, m := range msgs {
		if err := s.AddInboxMessage(ctx, m); err != nil {
			t.Fatalf("AddInboxMessage: %v", err)
		}
	}
	list, err := s.ListInbox(ctx, "a1", 2)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListInbox limit 2 = %d, %v", len(list), err)
	}
	durSame(t, "newest message", list[0], msgs[2])
	durSame(t, "second newest message", list[1], msgs[1])
	read := durNow.Add(time.Hour)
	if err := s.MarkInboxRead(ctx, "a1", read); err != nil {
		t.Fatalf("MarkInboxRead: %v", err)
	}
	list, err = s.ListInbox(ctx, "a1", 10)
	if err != nil || len(list) != 3 {
		t.Fatalf("ListInbox = %d, %v", len(list), err)
	}
	for _, m := range list {
		want := read
		if m.ID == "m3" {
			want = msgs[2].ReadAt // already read: keeps when
		}
		if !durSameTime(m.ReadAt, want) {
			t.Fatalf("message %s read at %v, want %v", m.ID, m.ReadAt, want)
		}
	}
	durSame(t, "message data", list[2], &account.InboxMessage{ID: "m1", AccountID: "a1", Template: "login_new_device",
		Data: map[string]string{"ip": "192.0.2.1"}, CreatedAt: durNow, ReadAt: read})
	if other, err := s.ListInbox(ctx, "a2", 10); err != nil || len(other) != 1 || !other[0].ReadAt.IsZero() {
		t.Fatalf("another account's inbox after MarkInboxRead: %+v, %v", other, err)
	}
}
