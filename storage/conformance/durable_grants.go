package conformance

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/gosid/gosid/grants"
	"github.com/gosid/gosid/storage"
)

var durRefreshCases = []durCase{
	{"RoundTrip", durRefreshRoundTrip},
	{"UseOutsideGrace", durRefreshUseOutsideGrace},
	{"UseInsideGrace", durRefreshUseInsideGrace},
	{"UseConcurrentOutsideGrace", durRefreshUseConcurrent},
	{"UseConcurrentInsideGrace", durRefreshUseConcurrentGrace},
	{"RotateInTxConcurrent", durRefreshRotateTxConcurrent},
	{"RotateInTxConcurrentGrace", durRefreshRotateTxConcurrentGrace},
	{"RotateInTxFailureLeavesNeither", durRefreshRotateTxFailure},
	{"RevokeGrant", durRefreshRevokeGrant},
	{"RevokeSubjectGrants", durRefreshRevokeSubject},
	{"DeleteExpired", durRefreshDeleteExpired},
}

func durToken(sig, req, client, subject string) *grants.RefreshToken {
	return &grants.RefreshToken{Signature: sig, RequestID: req, ClientID: client, Subject: subject,
		Request: []byte(`{"id":"` + req + `","scopes":["openid"]}`), CreatedAt: durNow, ExpiresAt: durNow.Add(720 * time.Hour)}
}

func durCreateTokens(t *testing.T, s Durable, toks ...*grants.RefreshToken) {
	t.Helper()
	for _, tok := range toks {
		if err := s.CreateRefreshToken(t.Context(), tok); err != nil {
			t.Fatalf("CreateRefreshToken %s: %v", tok.Signature, err)
		}
	}
}

func durGetToken(t *testing.T, s Durable, sig string) *grants.RefreshToken {
	t.Helper()
	tok, err := s.GetRefreshToken(t.Context(), sig)
	if err != nil {
		t.Fatalf("GetRefreshToken %s: %v", sig, err)
	}
	return tok
}

func durRefreshRoundTrip(t *testing.T, s Durable) {
	ctx := t.Context()
	fresh := durToken("s1", "r1", "c1", "a1")
	// A token may be stored already used or revoked (e.g. when migrated).
	old := durToken("s2", "r1", "c1", "a1")
	old.UsedAt, old.RevokedAt = durNow.Add(time.Minute), durNow.Add(time.Hour)
	durCreateTokens(t, s, fresh, old)
	durSame(t, "fresh token", durGetToken(t, s, "s1"), fresh)
	durSame(t, "used and revoked token", durGetToken(t, s, "s2"), old)
	durWant(t, "CreateRefreshToken with a taken signature", s.CreateRefreshToken(ctx, durToken("s1", "r9", "c9", "a9")), storage.ErrConflict)
	durSame(t, "token after a refused duplicate", durGetToken(t, s, "s1"), fresh)
	_, err := s.GetRefreshToken(ctx, "nope")
	durWant(t, "GetRefreshToken of an unknown signature", err, storage.ErrNotFound)
	durWant(t, "UseRefreshToken of an unknown signature", s.UseRefreshToken(ctx, "nope", durNow, durNow), storage.ErrNotFound)
}

func durRefreshUseOutsideGrace(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateTokens(t, s, durToken("s1", "r1", "c1", "a1"))
	now := durNow.Add(time.Hour)
	if err := s.UseRefreshToken(ctx, "s1", now, now.Add(-10*time.Second)); err != nil {
		t.Fatalf("first UseRefreshToken: %v", err)
	}
	if got := durGetToken(t, s, "s1"); !durSameTime(got.UsedAt, now) {
		t.Fatalf("UsedAt = %v, want %v", got.UsedAt, now)
	}
	// The second use comes after the window closed: the first use is older
	// than the cutoff.
	later := now.Add(time.Minute)
	durWant(t, "UseRefreshToken outside the grace window", s.UseRefreshToken(ctx, "s1", later, later.Add(-10*time.Second)), grants.ErrTokenInactive)
	if got := durGetToken(t, s, "s1"); !durSameTime(got.UsedAt, now) {
		t.Fatalf("a refused use moved UsedAt to %v; want %v", got.UsedAt, now)
	}
}

func durRefreshUseInsideGrace(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateTokens(t, s, durToken("s1", "r1", "c1", "a1"))
	now := durNow.Add(time.Hour)
	if err := s.UseRefreshToken(ctx, "s1", now, now.Add(-10*time.Second)); err != nil {
		t.Fatalf("first UseRefreshToken: %v", err)
	}
	// 300 ms later, with a 10 s window: a concurrent refresh of the same
	// token, which must succeed and keep the time of the first use.
	later := now.Add(300 * time.Millisecond)
	if err := s.UseRefreshToken(ctx, "s1", later, later.Add(-10*time.Second)); err != nil {
		t.Fatalf("UseRefreshToken inside the grace window: %v", err)
	}
	if got := durGetToken(t, s, "s1"); !durSameTime(got.UsedAt, now) {
		t.Fatalf("UsedAt = %v after a use inside the window; want the first use %v", got.UsedAt, now)
	}
	// The window is measured from the first use, to the millisecond.
	edge := now.Add(10*time.Second + 5*time.Millisecond)
	durWant(t, "UseRefreshToken just after the window", s.UseRefreshToken(ctx, "s1", edge, edge.Add(-10*time.Second)), grants.ErrTokenInactive)
}

func durRefreshUseConcurrent(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateTokens(t, s, durToken("s1", "r1", "c1", "a1"))
	now := durNow.Add(time.Hour)
	wins := durRace(t, durContenders, grants.ErrTokenInactive, func(int) error {
		return s.UseRefreshToken(ctx, "s1", now, now) // no grace at all
	})
	if wins != 1 {
		t.Fatalf("%d of %d concurrent uses outside the grace window succeeded; want exactly 1", wins, durContenders)
	}
}

func durRefreshUseConcurrentGrace(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateTokens(t, s, durToken("s1", "r1", "c1", "a1"))
	now := durNow.Add(time.Hour)
	wins := durRace(t, 10, nil, func(int) error {
		return s.UseRefreshToken(ctx, "s1", now, now.Add(-10*time.Second))
	})
	if wins != 10 {
		t.Fatalf("%d of 10 concurrent uses inside the grace window succeeded; want all", wins)
	}
}

func durRefreshRevokeGrant(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateTokens(t, s, durToken("s1", "r1", "c1", "a1"), durToken("s2", "r1", "c1", "a1"), durToken("s3", "r2", "c1", "a1"))
	if err := s.UseRefreshToken(ctx, "s1", durNow, durNow.Add(-time.Minute)); err != nil {
		t.Fatalf("UseRefreshToken: %v", err)
	}
	revokedAt := durNow.Add(time.Second)
	if err := s.RevokeGrant(ctx, "r1", revokedAt); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	for _, sig := range []string{"s1", "s2"} {
		if got := durGetToken(t, s, sig); !durSameTime(got.RevokedAt, revokedAt) {
			t.Fatalf("token %s: RevokedAt = %v, want %v", sig, got.RevokedAt, revokedAt)
		}
		// Revoked means inactive, even inside a grace window.
		durWant(t, "UseRefreshToken of a revoked token", s.UseRefreshToken(ctx, sig, durNow, durNow.Add(-time.Hour)), grants.ErrTokenInactive)
	}
	if got := durGetToken(t, s, "s3"); !got.RevokedAt.IsZero() {
		t.Fatal("RevokeGrant revoked a token of another grant")
	}
	if err := s.RevokeGrant(ctx, "unknown", durNow); err != nil {
		t.Fatalf("RevokeGrant of an unknown grant: %v; want nil", err)
	}
}

func durRefreshRevokeSubject(t *testing.T, s Durable) {
	ctx := t.Context()
	durCreateTokens(t, s, durToken("x1", "g1", "c1", "a9"), durToken("x2", "g1", "c1", "a9"),
		durToken("x3", "g2", "c2", "a9"), durToken("x4", "g3", "c1", "a9"), durToken("x5", "g4", "c2", "other"))
	sorted := func(ids []string) []string { sort.Strings(ids); return ids }
	if got, err := s.SubjectClients(ctx, "a9", durNow.Add(-time.Hour)); err != nil || !reflect.DeepEqual(got, []string{"c1", "c2"}) {
		t.Fatalf("SubjectClients = %v, %v; want [c1 c2]", got, err)
	}
	ids, err := s.RevokeSubjectGrants(ctx, "a9", "c2", durNow)
	if err != nil || !reflect.DeepEqual(ids, []string{"g2"}) {
		t.Fatalf("RevokeSubjectGrants for c2 = %v, %v; want [g2]", ids, err)
	}
	// Already revoked grants are not reported again; each grant once.
	ids, err = s.RevokeSubjectGrants(ctx, "a9", "", durNow)
	if err != nil || !reflect.DeepEqual(sorted(ids), []string{"g1", "g3"}) {
		t.Fatalf("RevokeSubjectGrants for every client = %v, %v; want [g1 g3]", ids, err)
	}
	for _, sig := range []string{"x1", "x2", "x3", "x4"} {
		if durGetToken(t, s, sig).RevokedAt.IsZero() {
			t.Fatalf("token %s is not revoked", sig)
		}
	}
	if !durGetToken(t, s, "x5").RevokedAt.IsZero() {
		t.Fatal("another subject's token was revoked")
	}
	if got, err := s.SubjectClients(ctx, "a9", durNow.Add(-time.Hour)); err != nil || len(got) != 0 {
		t.Fatalf("SubjectClients after revoking all = %v, %v; want none", got, err)
	}
	if ids, err := s.RevokeSubjectGrants(ctx, "a9", "", durNow); err != nil || len(ids) != 0 {
		t.Fatalf("RevokeSubjectGrants with nothing left = %v, %v; want none", ids, err)
	}
}

func durRefreshDeleteExpired(t *testing.T, s Durable) {
	ctx := t.Context()
	expired, live := durToken("s1", "r1", "c1", "a1"), durToken("s2", "r1", "c1", "a1")
	expired.ExpiresAt = durNow.Add(-time.Second)
	live.ExpiresAt = durNow.Add(time.Second)
	durCreateTokens(t, s, expired, live)
	if n, err := s.DeleteExpiredRefreshTokens(ctx, durNow); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredRefreshTokens = %d, %v; want 1", n, err)
	}
	_, err := s.GetRefreshToken(ctx, "s1")
	durWant(t, "GetRefreshToken of a deleted token", err, storage.ErrNotFound)
	durGetToken(t, s, "s2")
	if n, err := s.DeleteExpiredRefreshTokens(ctx, durNow); err != nil || n != 0 {
		t.Fatalf("second DeleteExpiredRefreshTokens = %d, %v; want 0", n, err)
	}
}

// durRotate is a refresh as the provider runs it: in one transaction, mark
// the presented token used and store its successor. A successor already
// stored by a concurrent refresh of the same token (the same derived
// signature) is accepted when it belongs to the grant and is live, as the
// provider does; reading it must work inside the transaction that just hit
// the conflict.
func durRotate(s Durable, old, next string, now, cutoff time.Time) error {
	ctx := context.Background()
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.UseRefreshToken(ctx, old, now, cutoff); err != nil {
			return err
		}
		err := s.CreateRefreshToken(ctx, durToken(next, "r1", "c1", "a1"))
		if !errors.Is(err, storage.ErrConflict) {
			return err
		}
		prev, err := s.GetRefreshToken(ctx, next)
		if err != nil {
			return fmt.Errorf("read the successor after a conflict, in the transaction: %w", err)
		}
		if prev.RequestID != "r1" || !prev.UsedAt.IsZero() || !prev.RevokedAt.IsZero() {
			return errors.New("the successor is taken or used")
		}
		return nil
	})
}

// durLiveSuccessors counts the stored successors among sigs.
func durLiveSuccessors(t *testing.T, s Durable, sigs []string) int {
	t.Helper()
	n := 0
	for _, sig := range sigs {
		_, err := s.GetRefreshToken(t.Context(), sig)
		switch {
		case err == nil:
			n++
		case !errors.Is(err, storage.ErrNotFound):
			t.Fatalf("GetRefreshToken %s: %v", sig, err)
		}
	}
	return n
}

// durRefreshRotateTxConcurrent: outside the grace window, of ten parallel
// refreshes of one token, each with a successor of its own, exactly one
// commits: one chain goes on, and the losers leave no successor behind.
func durRefreshRotateTxConcurrent(t *testing.T, s Durable) {
	durCreateTokens(t, s, durToken("s1", "r1", "c1", "a1"))
	now := durNow.Add(time.Hour)
	var sigs []string
	for i := range 10 {
		sigs = append(sigs, fmt.Sprintf("s2-%d", i))
	}
	wins := durRace(t, 10, grants.ErrTokenInactive, func(i int) error {
		return durRotate(s, "s1", sigs[i], now, now)
	})
	if wins != 1 {
		t.Fatalf("%d of 10 parallel refreshes committed; want exactly 1", wins)
	}
	if n := durLiveSuccessors(t, s, sigs); n != 1 {
		t.Fatalf("%d successors stored; want 1 (one chain, no half-written refresh)", n)
	}
	if durGetToken(t, s, "s1").UsedAt.IsZero() {
		t.Fatal("the refreshed token is not marked used")
	}
}

// durRefreshRotateTxConcurrentGrace: inside the grace window parallel
// refreshes derive the same successor: all of them commit and there is
// still exactly one successor row.
func durRefreshRotateTxConcurrentGrace(t *testing.T, s Durable) {
	durCreateTokens(t, s, durToken("s1", "r1", "c1", "a1"))
	now := durNow.Add(time.Hour)
	wins := durRace(t, 10, nil, func(int) error {
		return durRotate(s, "s1", "s2", now, now.Add(-10*time.Second))
	})
	if wins != 10 {
		t.Fatalf("%d of 10 parallel refreshes inside the grace window committed; want all", wins)
	}
	if n := durLiveSuccessors(t, s, []string{"s2"}); n != 1 {
		t.Fatalf("%d successors; want 1", n)
	}
}

// durRefreshRotateTxFailure: a refresh that fails after marking the token
// used (the successor could not be stored) leaves the token unused: the
// client may try again, and is not locked out of its grant.
func durRefreshRotateTxFailure(t *testing.T, s Durable) {
	durCreateTokens(t, s, durToken("s1", "r1", "c1", "a1"))
	now := durNow.Add(time.Hour)
	err := s.InTx(t.Context(), func(ctx context.Context) error {
		if err := s.UseRefreshToken(ctx, "s1", now, now); err != nil {
			return err
		}
		return errDurAbort
	})
	durWant(t, "the failed refresh", err, errDurAbort)
	if got := durGetToken(t, s, "s1"); !got.UsedAt.IsZero() {
		t.Fatalf("a refresh that failed left the token used at %v", got.UsedAt)
	}
	if err := durRotate(s, "s1", "s2", now, now); err != nil {
		t.Fatalf("retrying the refresh: %v", err)
	}
}
