package verify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/gosid/gosid/claimsreq"

	"github.com/riverqueue/river"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/pii"
	"github.com/gosid/gosid/registry"
	"github.com/gosid/gosid/storage"
)

// Cipher is what the service needs of pii.Cipher.
type Cipher interface {
	Encrypt(plaintext, aad []byte) ([]byte, error)
	Decrypt(ctx context.Context, ct, aad []byte) ([]byte, error)
	BlindIndex(kind, normalizedValue string) string
}

// Options configure the service.
type Options struct {
	Store    Store
	Accounts Accounts
	Cipher   Cipher
	Registry registry.Registry
	Audit    audit.Store
	// Tx makes a check's outcome (profile, account level, audit) one
	// change; nil runs the steps one by one (for stores without
	// transactions).
	Tx Transactor
	// Notify tells the citizen the outcome ("verification_done" or
	// "verification_failed").
	Notify func(ctx context.Context, a *account.Account, template string, data map[string]string)
	Logger *slog.Logger
	Now    func() time.Time
}

// Jobs is what the service needs of the durable queue: committing a job.
// The queue's side is Worker, which needs nothing of the service's queue.
type Jobs interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}

// Service keeps profiles and starts their checks.
type Service struct {
	checker
	jobs Jobs
}

// checker reads and decides profiles: everything a check job needs,
// without the queue it came from.
type checker struct{ o Options }

// New returns the service; its checks are committed to jobs.
func New(o Options, jobs Jobs) *Service {
	return &Service{checker: newChecker(o), jobs: jobs}
}

func newChecker(o Options) checker {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Notify == nil {
		o.Notify = func(context.Context, *account.Account, string, map[string]string) {}
	}
	if o.Tx == nil {
		o.Tx = noTx{}
	}
	return checker{o: o}
}

// noTx runs fn as it is.
type noTx struct{}

func (noTx) InTx(ctx context.Context, fn func(ctx context.Context) error) error { return fn(ctx) }

// Reasons a check's outcome is not written; none of them is an error of the
// job.
var (
	errSuperseded = errors.New("verify: the submission was superseded")
	errInactive   = errors.New("verify: the account is no longer active")
	errTaken      = errors.New("verify: the document backs another account")
	errUnchanged  = errors.New("verify: nothing to change")
)

// ErrBusy means a check is already running for the profile.
var ErrBusy = errors.New("verify: a check is in progress")

func aad(accountID, part string) []byte { return pii.AAD("profile", accountID, part) }

func (s *checker) seal(accountID, part string, d *Data) ([]byte, error) {
	if d == nil {
		return nil, nil
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return s.o.Cipher.Encrypt(raw, aad(accountID, part))
}

func (s *checker) open(ctx context.Context, accountID, part string, ct []byte) (*Data, error) {
	if len(ct) == 0 {
		return nil, nil
	}
	raw, err := s.o.Cipher.Decrypt(ctx, ct, aad(accountID, part))
	if err != nil {
		return nil, fmt.Errorf("verify: open %s data: %w", part, err)
	}
	var d Data
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Get returns the account's profile (an empty one when there is none).
func (s *checker) Get(ctx context.Context, accountID string) (*Profile, *Record, error) {
	r, err := s.o.Store.GetProfile(ctx, accountID)
	if errors.Is(err, storage.ErrNotFound) {
		return &Profile{AccountID: accountID, Status: StatusNone}, &Record{AccountID: accountID, Status: StatusNone}, nil
	} else if err != nil {
		return nil, nil, err
	}
	p := &Profile{AccountID: accountID, Status: r.Status, Rejections: r.Rejections, Submission: r.Submission,
		UpdatedAt: r.UpdatedAt, VerifiedAt: r.VerifiedAt}
	if p.Pending, err = s.open(ctx, accountID, "pending", r.Pending); err != nil {
		return nil, nil, err
	}
	if p.Verified, err = s.open(ctx, accountID, "verified", r.Verified); err != nil {
		return nil, nil, err
	}
	return p, r, nil
}

// Validate checks every field of a submission and returns the normalised
// data or every error, each naming its field.
func Validate(in map[string]string, now time.Time) (*Data, []*account.FieldError) {
	var errs []*account.FieldError
	keep := func(v string, fe *account.FieldError) string {
		if fe != nil {
			errs = append(errs, fe)
		}
		return v
	}
	d := &Data{}
	d.FamilyName = keep(account.NormalizeName("family_name", in["family_name"]))
	d.GivenName = keep(account.NormalizeName("given_name", in["given_name"]))
	if in["middle_name"] != "" {
		d.MiddleName = keep(account.NormalizeName("middle_name", in["middle_name"]))
	}
	birth, fe := account.ParseBirthDate("birth_date", in["birth_date"], now)
	if fe != nil {
		errs = append(errs, fe)
	} else {
		d.BirthDate = birth.Format(time.DateOnly)
	}
	if in["sex"] != "" {
		d.Sex = keep(account.NormalizeSex("sex", in["sex"]))
	}
	if in["birthplace"] != "" {
		d.Birthplace = keep(account.NormalizeBirthplace("birthplace", in["birthplace"]))
	}
	d.Citizenship = keep(account.NormalizeCitizenship("citizenship", in["citizenship"]))
	pass, perrs := account.CheckPassport(account.PassportInput{
		Series: in["passport_series"], Number: in["passport_number"], IssueDate: in["passport_issue_date"],
		IssuedBy: in["passport_issued_by"], DeptCode: in["passport_dept_code"],
	}, birth, now)
	errs = append(errs, perrs...)
	if len(perrs) == 0 {
		d.Passport = Passport{Series: pass.Series, Number: pass.Number, IssueDate: pass.IssueDate.Format(time.DateOnly),
			IssuedBy: pass.IssuedBy, DeptCode: pass.DeptCode}
	}
	d.SNILS = keep(account.NormalizeSNILS("snils", in["snils"]))
	if in["inn"] != "" {
		d.INN = keep(account.NormalizeINN("inn", in["inn"]))
	}
	if in["licence_number"] != "" || in["licence_issue_date"] != "" || in["licence_expiry_date"] != "" {
		l, lerrs := account.CheckDriverLicence(account.DriverLicenceInput{Number: in["licence_number"],
			IssueDate: in["licence_issue_date"], ExpiryDate: in["licence_expiry_date"]}, birth, now)
		errs = append(errs, lerrs...)
		if len(lerrs) == 0 {
			d.DriverLicence = &Document{Number: l.Number, IssueDate: l.IssueDate.Format(time.DateOnly), ExpiryDate: l.ExpiryDate.Format(time.DateOnly)}
		}
	}
	if in["foreign_passport_number"] != "" || in["foreign_passport_issue_date"] != "" || in["foreign_passport_expiry_date"] != "" {
		f, ferrs := account.CheckForeignPassport(account.ForeignPassportInput{Number: in["foreign_passport_number"],
			IssueDate: in["foreign_passport_issue_date"], ExpiryDate: in["foreign_passport_expiry_date"]}, birth, now)
		errs = append(errs, ferrs...)
		if len(ferrs) == 0 {
			d.ForeignPassport = &Document{Number: f.Number, IssueDate: f.IssueDate.Format(time.DateOnly), ExpiryDate: f.ExpiryDate.Format(time.DateOnly)}
		}
	}
	for _, prefix := range []string{"registration", "residence"} {
		raw := account.Address{PostalIndex: in[prefix+"_postal_index"], Region: in[prefix+"_region"], City: in[prefix+"_city"],
			Street: in[prefix+"_street"], House: in[prefix+"_house"], Flat: in[prefix+"_flat"]}
		if raw == (account.Address{}) {
			continue
		}
		a, aerrs := account.NormalizeAddress(prefix, raw)
		errs = append(errs, aerrs...)
		if len(aerrs) == 0 {
			addr := &Address{PostalIndex: a.PostalIndex, Region: a.Region, City: a.City, Street: a.Street, House: a.House, Flat: a.Flat}
			if prefix == "registration" {
				d.Registration = addr
			} else {
				d.Residence = addr
			}
		}
	}
	return d, errs
}

func newSubmission() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Submit stores the data and starts its check. The verified values, if
// any, stay in force for relying services until the new ones are
// confirmed; a change of a verified document or name drops the account's
// level back to simplified meanwhile.
func (s *Service) Submit(ctx context.Context, accountID string, d *Data, by string) error {
	p, r, err := s.Get(ctx, accountID)
	if err != nil {
		return err
	}
	if p.Status == StatusVerifying {
		return ErrBusy
	}
	prev := r.Submission
	now := s.o.Now().UTC()
	if r.Pending, err = s.seal(accountID, "pending", d); err != nil {
		return err
	}
	r.Status, r.Rejections, r.Submission, r.UpdatedAt = StatusVerifying, nil, newSubmission(), now
	// The new data and the level it leaves the account at are one change.
	err = s.o.Tx.InTx(ctx, func(ctx context.Context) error {
		// The account row first: the lock order of every change spanning
		// tables.
		if p.Verified != nil && ChangesVerified(p.Verified, d) {
			if err := s.setLevel(ctx, accountID, account.LevelSimplified, "data_changed", by); err != nil {
				return err
			}
		}
		ok, err := s.o.Store.PutProfile(ctx, r, &prev)
		if err != nil {
			return err
		}
		if !ok {
			return ErrBusy
		}
		if err := s.recordTx(ctx, accountID, "verification.submitted", map[string]string{"by": by}); err != nil {
			return err
		}
		// The check's job commits with the data it checks: a crash can
		// leave neither or both, never a profile waiting for a check that
		// nobody will run.
		return s.jobs.Insert(ctx, CheckArgs{AccountID: accountID, Submission: r.Submission}, nil)
	})
	if errors.Is(err, ErrBusy) {
		return ErrBusy
	} else if err != nil {
		return fmt.Errorf("verify: submit: %w", err)
	}
	return nil
}

// ChangesVerified reports whether d changes a name or document that was
// verified.
func ChangesVerified(v, d *Data) bool {
	return v.FamilyName != d.FamilyName || v.GivenName != d.GivenName || v.MiddleName != d.MiddleName ||
		v.BirthDate != d.BirthDate || v.Passport != d.Passport || v.SNILS != d.SNILS || v.INN != d.INN
}

// setLevel changes the account's level (only within simplified/standard:
// confirmed is granted elsewhere and is never taken here unless the data
// changed) and records who or what caused it.
func (s *checker) setLevel(ctx context.Context, accountID string, to account.Level, cause, by string) error {
	var from account.Level
	_, err := s.o.Accounts.UpdateAccount(ctx, accountID, func(a *account.Account) error {
		if a.Level == to {
			return errUnchanged
		}
		from, a.Level, a.UpdatedAt = a.Level, to, s.o.Now().UTC()
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	} else if err != nil {
		return fmt.Errorf("verify: set level: %w", err)
	}
	return s.recordTx(ctx, accountID, "level.changed", map[string]string{"from": string(from), "to": string(to), "cause": cause, "by": by})
}

// record appends an audit event; a failure is logged, not returned.
func (s *checker) record(ctx context.Context, accountID, typ string, data map[string]string) {
	if err := s.recordTx(ctx, accountID, typ, data); err != nil {
		s.o.Logger.Error("verify: audit", "type", typ, "err", err)
	}
}

// recordTx appends an audit event that is part of a change: its failure
// fails the change.
func (s *checker) recordTx(ctx context.Context, accountID, typ string, data map[string]string) error {
	if s.o.Audit == nil {
		return nil
	}
	err := s.o.Audit.AppendEvent(ctx, &audit.Event{AccountID: accountID, Type: typ, Data: data, At: s.o.Now().UTC()})
	if err != nil {
		return fmt.Errorf("verify: audit %s: %w", typ, err)
	}
	return nil
}

// Check runs the registry checks of a submission: the job's work. A
// temporary registry failure returns an error (the job is retried with
// backoff; nothing is decided); every other answer decides. A job for a
// superseded submission does nothing.
func (s *checker) Check(ctx context.Context, accountID, submission string) error {
	p, r, err := s.Get(ctx, accountID)
	if err != nil {
		return err
	}
	if p.Status != StatusVerifying || p.Submission != submission || p.Pending == nil {
		return nil
	}
	d := p.Pending
	birth, _ := time.Parse(time.DateOnly, d.BirthDate)
	issued, _ := time.Parse(time.DateOnly, d.Passport.IssueDate)
	var rejections []Rejection
	add := func(res registry.Result) {
		if res.Outcome != registry.Match {
			rejections = append(rejections, Rejection{Registry: res.Registry, Outcome: string(res.Outcome), Fields: res.Fields})
		}
	}
	rctx := registry.WithRequestID(ctx, submission+"-mvd")
	res, err := s.o.Registry.CheckPassport(rctx, registry.PassportQuery{FamilyName: d.FamilyName, GivenName: d.GivenName,
		MiddleName: d.MiddleName, BirthDate: birth, Series: d.Passport.Series, Number: d.Passport.Number, IssuedAt: issued})
	if done, err := s.outcome(ctx, r, err); done {
		return err
	}
	add(res)
	res, err = s.o.Registry.CheckSNILS(registry.WithRequestID(ctx, submission+"-sfr"), registry.SNILSQuery{
		FamilyName: d.FamilyName, GivenName: d.GivenName, MiddleName: d.MiddleName, BirthDate: birth, SNILS: d.SNILS})
	if done, err := s.outcome(ctx, r, err); done {
		return err
	}
	add(res)
	if d.INN != "" {
		res, err = s.o.Registry.CheckINN(registry.WithRequestID(ctx, submission+"-fns"), registry.INNQuery{
			FamilyName: d.FamilyName, GivenName: d.GivenName, MiddleName: d.MiddleName, BirthDate: birth, INN: d.INN,
			PassportSeries: d.Passport.Series, PassportNumber: d.Passport.Number})
		if done, err := s.outcome(ctx, r, err); done {
			return err
		}
		add(res)
	}
	if len(rejections) > 0 {
		return s.reject(ctx, r, rejections)
	}
	return s.accept(ctx, r, d)
}

// outcome turns a registry error into the job's result: temporary errors
// retry the job (done, err); a permanent one rejects the submission (our
// request was refused: the data cannot be checked as entered).
func (s *checker) outcome(ctx context.Context, r *Record, err error) (bool, error) {
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, registry.ErrTemporary), ctx.Err() != nil:
		s.o.Logger.Warn("verify: registry unavailable; the check will be retried", "account", r.AccountID, "err", err)
		return true, err
	}
	s.o.Logger.Error("verify: registry refused the request", "account", r.AccountID, "err", err)
	var re *registry.Error
	reg := "registry"
	if errors.As(err, &re) {
		reg = re.Registry
	}
	return true, s.reject(ctx, r, []Rejection{{Registry: reg, Outcome: "refused"}})
}

func (s *checker) reject(ctx context.Context, r *Record, rejections []Rejection) error {
	expect := r.Submission
	r.Status, r.Rejections, r.UpdatedAt = StatusRejected, rejections, s.o.Now().UTC()
	ok, err := s.o.Store.PutProfile(ctx, r, &expect)
	if err != nil || !ok {
		return err
	}
	raw, _ := json.Marshal(rejections)
	s.record(ctx, r.AccountID, "verification.rejected", map[string]string{"result": string(raw)})
	if a, err := s.o.Accounts.GetAccount(ctx, r.AccountID); err == nil {
		s.o.Notify(ctx, a, "verification_failed", map[string]string{})
	}
	return nil
}

// accept writes the verified data, the account's name and level and their
// audit events as one change: a job stopped half-way leaves the check
// undecided (and retried), never a verified profile on an unraised account.
// An account deleted or blocked meanwhile is left alone. The account row is
// locked first, as in every change spanning tables (see login's deletion),
// so that a deletion racing the job waits rather than deadlocks.
func (s *checker) accept(ctx context.Context, r *Record, d *Data) error {
	expect := r.Submission
	orig := *r
	var err error
	if r.Verified, err = s.seal(r.AccountID, "verified", d); err != nil {
		return err
	}
	now := s.o.Now().UTC()
	r.Status, r.Rejections, r.UpdatedAt, r.VerifiedAt = StatusVerified, nil, now, now
	r.SNILSIndex = s.o.Cipher.BlindIndex(pii.KindSNILS, d.SNILS)
	r.PassportIndex = s.o.Cipher.BlindIndex(pii.KindPassport, d.Passport.Series+d.Passport.Number)
	var a *account.Account
	err = s.o.Tx.InTx(ctx, func(ctx context.Context) error {
		raised := false
		a, err = s.o.Accounts.UpdateAccount(ctx, r.AccountID, func(a *account.Account) error {
			if a.Status != account.StatusActive {
				return errInactive
			}
			// The verified name is the account's name.
			a.FamilyName, a.GivenName, a.MiddleName = d.FamilyName, d.GivenName, d.MiddleName
			if a.Level.Rank() < account.LevelStandard.Rank() {
				a.Level, raised = account.LevelStandard, true
			}
			a.UpdatedAt = now
			return nil
		})
		if err != nil {
			return err
		}
		ok, err := s.o.Store.PutProfile(ctx, r, &expect)
		if errors.Is(err, storage.ErrConflict) {
			return errTaken
		} else if err != nil {
			return err
		}
		if !ok {
			return errSuperseded
		}
		if raised {
			err := s.recordTx(ctx, r.AccountID, "level.changed", map[string]string{"from": string(account.LevelSimplified),
				"to": string(account.LevelStandard), "cause": CauseRegistry, "by": "mvd,sfr"})
			if err != nil {
				return err
			}
		}
		return s.recordTx(ctx, r.AccountID, "verification.verified", nil)
	})
	switch {
	case errors.Is(err, errTaken):
		// The document backs another verified account: never two.
		return s.reject(ctx, &orig, []Rejection{{Registry: "gosid", Outcome: "taken"}})
	case errors.Is(err, errSuperseded):
		return nil
	case errors.Is(err, errInactive):
		s.o.Logger.Info("verify: account no longer active; check dropped", "account", r.AccountID)
		return nil
	case err != nil:
		return fmt.Errorf("verify: accept: %w", err)
	}
	s.o.Notify(ctx, a, "verification_done", map[string]string{})
	return nil
}

// AccountBySNILS returns the account whose verified SNILS is snils (11
// digits), for signing in with SNILS; storage.ErrNotFound otherwise.
func (s *Service) AccountBySNILS(ctx context.Context, snils string) (string, error) {
	return s.o.Store.FindBySNILSIndex(ctx, s.o.Cipher.BlindIndex(pii.KindSNILS, snils))
}

// ScopeVerifiedClaims is the scope that releases verified personal data.
const ScopeVerifiedClaims = "verified_claims"

// Claims is the claim source of the verified_claims scope: the verified
// personal data (VerifiedClaims) when the scope was granted and something
// is verified, no claims otherwise.
func (s *Service) Claims(ctx context.Context, subject string, scopes []string) (map[string]any, error) {
	if !slices.Contains(scopes, ScopeVerifiedClaims) {
		return nil, nil
	}
	vc, err := s.VerifiedClaims(ctx, subject)
	if err != nil || vc == nil {
		return nil, err
	}
	return map[string]any{"verified_claims": vc}, nil
}

// VerifiedClaims returns the citizen's verified personal data in the shape
// of OpenID Connect for Identity Assurance (verified_claims: how it was
// verified, and the claims). Only values the registries confirmed are
// returned; data entered but not (yet) verified never is. nil when nothing
// is verified.
func (s *Service) VerifiedClaims(ctx context.Context, accountID string) (map[string]any, error) {
	p, _, err := s.Get(ctx, accountID)
	if err != nil || p.Verified == nil {
		return nil, err
	}
	d := p.Verified
	claims := map[string]any{
		"family_name": d.FamilyName, "given_name": d.GivenName, "birthdate": d.BirthDate, "snils": d.SNILS,
		"document": map[string]any{"type": "ru_passport", "number": d.Passport.Series + d.Passport.Number,
			"date_of_issuance": d.Passport.IssueDate, "issuer": map[string]any{"name": d.Passport.IssuedBy,
				"code": d.Passport.DeptCode}},
	}
	if d.MiddleName != "" {
		claims["middle_name"] = d.MiddleName
	}
	if d.INN != "" {
		claims["inn"] = d.INN
	}
	evidence := []map[string]any{{"type": "electronic_record", "record": map[string]any{"type": "ru_passport", "source": map[string]any{"name": "MVD"}}},
		{"type": "electronic_record", "record": map[string]any{"type": "ru_snils", "source": map[string]any{"name": "SFR"}}}}
	if d.INN != "" {
		evidence = append(evidence, map[string]any{"type": "electronic_record", "record": map[string]any{"type": "ru_inn", "source": map[string]any{"name": "FNS"}}})
	}
	return map[string]any{
		"verification": map[string]any{"trust_framework": claimsreq.TrustFramework, "time": p.VerifiedAt.UTC().Format(time.RFC3339),
			"evidence": evidence},
		"claims": claims,
	}, nil
}

// Delete removes the citizen's personal data and documents (the account is
// being deleted); their blind indexes go with them, so the documents can
// back another account afterwards.
func (s *Service) Delete(ctx context.Context, accountID string) error {
	if err := s.o.Store.DeleteProfile(ctx, accountID); err != nil {
		return err
	}
	s.record(ctx, accountID, "profile.deleted", nil)
	return nil
}
