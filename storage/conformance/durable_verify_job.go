package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/registry"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/verify"
	"github.com/riverqueue/river"
)

// The identity check's outcome spans three tables (profile, account,
// audit). These cases run the verify service on the adapter, with a failure
// injected between its steps, as a job killed half-way would leave it.
var durVerifyJobCases = []durCase{
	{"FailureAfterProfileWrite", durVerifyFailAfterProfile},
	{"FailureAfterEveryWrite", durVerifyFailAfterAll},
	{"DeletedAccountLeftAlone", durVerifyDeletedAccount},
	{"SubmitWithoutItsJob", durVerifySubmitJobFails},
}

var errDurKilled = errors.New("job killed")

// durFaulty passes everything to the adapter, failing PutProfile or an
// audit event of the given type once the write was made.
type durFaulty struct {
	Durable
	afterProfile bool
	afterEvent   string
}

func (f *durFaulty) PutProfile(ctx context.Context, r *verify.Record, expect *string) (bool, error) {
	ok, err := f.Durable.PutProfile(ctx, r, expect)
	if err == nil && f.afterProfile && r.Status == verify.StatusVerified {
		return false, errDurKilled
	}
	return ok, err
}

func (f *durFaulty) AppendEvent(ctx context.Context, e *audit.Event) error {
	if err := f.Durable.AppendEvent(ctx, e); err != nil || e.Type != f.afterEvent {
		return err
	}
	return errDurKilled
}

// durCipher seals nothing: the store only sees bytes.
type durCipher struct{}

func (durCipher) Encrypt(p, _ []byte) ([]byte, error) { return append([]byte(nil), p...), nil }
func (durCipher) Decrypt(_ context.Context, ct, _ []byte) ([]byte, error) {
	return append([]byte(nil), ct...), nil
}
func (durCipher) BlindIndex(kind, v string) string { return kind + ":" + v }

// durRegistry confirms everything.
type durRegistry struct{}

func (durRegistry) CheckPassport(context.Context, registry.PassportQuery) (registry.Result, error) {
	return registry.Result{Outcome: registry.Match, Registry: "MVD"}, nil
}
func (durRegistry) CheckSNILS(context.Context, registry.SNILSQuery) (registry.Result, error) {
	return registry.Result{Outcome: registry.Match, Registry: "SFR"}, nil
}
func (durRegistry) CheckINN(context.Context, registry.INNQuery) (registry.Result, error) {
	return registry.Result{Outcome: registry.Match, Registry: "FNS"}, nil
}

// durJobs is the job queue of durSubmitted: it keeps the submission a
// check job was committed for, or fails when fail is set.
type durJobs struct {
	submission *string
	fail       error
}

func (j durJobs) Insert(_ context.Context, args river.JobArgs, _ *river.InsertOpts) error {
	if j.fail != nil {
		return j.fail
	}
	*j.submission = args.(verify.CheckArgs).Submission
	return nil
}

// durSubmitted creates account a1 and submits its data; it returns the
// service (over f) and the submission the job checks.
func durSubmitted(t *testing.T, f *durFaulty) (*verify.Service, string) {
	t.Helper()
	durCreateAccounts(t, f.Durable, durAccount("a1", "+79000000001", ""))
	var submission string
	svc := verify.New(verify.Options{Store: f, Accounts: f, Audit: f, Tx: f, Cipher: durCipher{}, Registry: durRegistry{},
		Now: func() time.Time { return durNow }}, durJobs{submission: &submission})
	d := &verify.Data{FamilyName: "Петров", GivenName: "Пётр", BirthDate: "1990-01-02", SNILS: "11223344595",
		Passport: verify.Passport{Series: "4510", Number: "123456", IssueDate: "2010-01-02", IssuedBy: "ОВД", DeptCode: "770-001"}}
	if err := svc.Submit(t.Context(), "a1", d, "citizen"); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return svc, submission
}

// durWantUnverified checks the state before the check's outcome: the
// profile awaiting its check, the account as created.
func durWantUnverified(t *testing.T, s Durable, submission string) {
	t.Helper()
	r := durGetProfile(t, s, "a1")
	if r.Status != verify.StatusVerifying || r.Submission != submission || r.Verified != nil || r.SNILSIndex != "" {
		t.Fatalf("profile after a failed outcome: %+v; want still verifying %s", r, submission)
	}
	a, err := s.GetAccount(t.Context(), "a1")
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	durSame(t, "account after a failed outcome", a, durAccount("a1", "+79000000001", ""))
}

func durVerifyKilled(t *testing.T, f *durFaulty) {
	svc, submission := durSubmitted(t, f)
	err := svc.Check(t.Context(), "a1", submission)
	durWant(t, "Check with a failure injected", err, errDurKilled)
	durWantUnverified(t, f.Durable, submission)
	// The job is retried: it finds the check undone and completes it.
	f.afterProfile, f.afterEvent = false, ""
	if err := svc.Check(t.Context(), "a1", submission); err != nil {
		t.Fatalf("Check retried: %v", err)
	}
	if r := durGetProfile(t, f.Durable, "a1"); r.Status != verify.StatusVerified {
		t.Fatalf("profile after the retry: %s", r.Status)
	}
	a, err := f.GetAccount(t.Context(), "a1")
	if err != nil || a.Level != account.LevelStandard || a.FamilyName != "Петров" {
		t.Fatalf("account after the retry: %+v, %v; want standard, Петров", a, err)
	}
}

func durVerifyFailAfterProfile(t *testing.T, s Durable) {
	durVerifyKilled(t, &durFaulty{Durable: s, afterProfile: true})
}

func durVerifyFailAfterAll(t *testing.T, s Durable) {
	durVerifyKilled(t, &durFaulty{Durable: s, afterEvent: "verification.verified"})
}

// durVerifyDeletedAccount: an account deleted (anonymised) while its check
// ran does not get the verified name back.
func durVerifyDeletedAccount(t *testing.T, s Durable) {
	f := &durFaulty{Durable: s}
	svc, submission := durSubmitted(t, f)
	deleted, err := s.UpdateAccount(t.Context(), "a1", func(a *account.Account) error {
		a.Phone, a.FamilyName, a.GivenName, a.MiddleName, a.Status = "", "", "", "", account.StatusDeleted
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	if err := svc.Check(t.Context(), "a1", submission); err != nil {
		t.Fatalf("Check of a deleted account: %v", err)
	}
	a, err := s.GetAccount(t.Context(), "a1")
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	durSame(t, "deleted account after its check", a, deleted)
	if r := durGetProfile(t, s, "a1"); r.Status == verify.StatusVerified {
		t.Fatal("a deleted account's profile was verified")
	}
}

// durVerifySubmitJobFails: data submitted for a check whose job cannot be
// committed is not stored either; before, the profile stayed "verifying"
// with no check to finish it, and every later submission was refused as
// busy.
func durVerifySubmitJobFails(t *testing.T, s Durable) {
	durCreateAccounts(t, s, durAccount("a1", "+79000000001", ""))
	var submission string
	svc := verify.New(verify.Options{Store: s, Accounts: s, Audit: s, Tx: s, Cipher: durCipher{}, Registry: durRegistry{},
		Now: func() time.Time { return durNow }}, durJobs{submission: &submission, fail: errDurKilled})
	d := &verify.Data{FamilyName: "Петров", GivenName: "Пётр", BirthDate: "1990-01-02", SNILS: "11223344595",
		Passport: verify.Passport{Series: "4510", Number: "123456", IssueDate: "2010-01-02", IssuedBy: "ОВД", DeptCode: "770-001"}}
	if err := svc.Submit(t.Context(), "a1", d, "citizen"); err == nil {
		t.Fatal("Submit succeeded although its check could not be queued")
	}
	if _, err := s.GetProfile(t.Context(), "a1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("profile after a submission whose job failed: %v; want none stored", err)
	}
	// The citizen can submit again: nothing is stuck "verifying".
	svc = verify.New(verify.Options{Store: s, Accounts: s, Audit: s, Tx: s, Cipher: durCipher{}, Registry: durRegistry{},
		Now: func() time.Time { return durNow }}, durJobs{submission: &submission})
	if err := svc.Submit(t.Context(), "a1", d, "citizen"); err != nil {
		t.Fatalf("Submit again: %v", err)
	}
	if r := durGetProfile(t, s, "a1"); r.Status != verify.StatusVerifying || r.Submission != submission {
		t.Fatalf("profile after the second submission: %+v", r)
	}
}
