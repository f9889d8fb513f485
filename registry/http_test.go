package registry_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/gosid/gosid/registry"
	"github.com/gosid/gosid/registry/sim"
)

func startSim(t *testing.T) *sim.Server {
	t.Helper()
	s, err := sim.Start("127.0.0.1:0", sim.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newAdapter(t *testing.T, o registry.HTTPOptions) *registry.HTTP {
	t.Helper()
	h, err := registry.NewHTTP(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.CloseIdleConnections)
	return h
}

func seeded(t *testing.T, id string) sim.Person {
	t.Helper()
	p, ok := sim.Default().Person(id)
	if !ok {
		t.Fatalf("no seeded person %q", id)
	}
	return p
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// call runs one check, so that tables can mix the three.
type call func(context.Context, registry.Registry) (registry.Result, error)

func passport(q registry.PassportQuery) call {
	return func(ctx context.Context, r registry.Registry) (registry.Result, error) {
		return r.CheckPassport(ctx, q)
	}
}

func snils(q registry.SNILSQuery) call {
	return func(ctx context.Context, r registry.Registry) (registry.Result, error) { return r.CheckSNILS(ctx, q) }
}

func inn(q registry.INNQuery) call {
	return func(ctx context.Context, r registry.Registry) (registry.Result, error) { return r.CheckINN(ctx, q) }
}

func TestOutcomes(t *testing.T) {
	srv := startSim(t)
	h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
	ivanov, semenova, kuznetsov := seeded(t, "ivanov"), seeded(t, "semenova"), seeded(t, "kuznetsov")
	smirnova, popov, li := seeded(t, "smirnova"), seeded(t, "popov"), seeded(t, "li")

	folded := semenova.PassportQuery()
	folded.FamilyName, folded.GivenName, folded.MiddleName = "СЕМЕНОВА", "алена", " Петровна "
	foldedSNILS := semenova.SNILSQuery()
	foldedSNILS.FamilyName, foldedSNILS.GivenName = "Семенова", "Алена"
	oldPassport := kuznetsov.PassportQuery()
	oldPassport.Series, oldPassport.Number, oldPassport.IssuedAt = "4502", "345678", day("2002-02-10")
	unknownPassport := ivanov.PassportQuery()
	unknownPassport.Series, unknownPassport.Number = "9999", "999999"
	unknownSNILS := ivanov.SNILSQuery()
	unknownSNILS.SNILS = "11223344595"
	unknownINN := ivanov.INNQuery()
	unknownINN.INN = "771034567234"
	innNoPassport := ivanov.INNQuery()
	innNoPassport.PassportSeries, innNoPassport.PassportNumber = "", ""

	for _, tc := range []struct {
		name     string
		call     call
		outcome  registry.Outcome
		registry string
	}{
		{"passport match", passport(ivanov.PassportQuery()), registry.Match, registry.MVD},
		{"snils match", snils(ivanov.SNILSQuery()), registry.Match, registry.SFR},
		{"inn match", inn(ivanov.INNQuery()), registry.Match, registry.FNS},
		{"inn match without passport", inn(innNoPassport), registry.Match, registry.FNS},
		{"passport ё, case and spaces", passport(folded), registry.Match, registry.MVD},
		{"snils ё", snils(foldedSNILS), registry.Match, registry.SFR},
		{"passport replaced: new", passport(kuznetsov.PassportQuery()), registry.Match, registry.MVD},
		{"passport replaced: old", passport(oldPassport), registry.Suspended, registry.MVD},
		{"snils suspended", snils(smirnova.SNILSQuery()), registry.Suspended, registry.SFR},
		{"snils annulled", snils(popov.SNILSQuery()), registry.Suspended, registry.SFR},
		{"inn invalid", inn(popov.INNQuery()), registry.Suspended, registry.FNS},
		{"passport of a suspended snils holder", passport(smirnova.PassportQuery()), registry.Match, registry.MVD},
		{"no patronymic", snils(li.SNILSQuery()), registry.Match, registry.SFR},
		{"passport not found", passport(unknownPassport), registry.NotFound, registry.MVD},
		{"snils not found", snils(unknownSNILS), registry.NotFound, registry.SFR},
		{"inn not found", inn(unknownINN), registry.NotFound, registry.FNS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			r, err := tc.call(context.Background(), h)
			if err != nil {
				t.Fatal(err)
			}
			if r.Outcome != tc.outcome || r.Registry != tc.registry || len(r.Fields) != 0 {
				t.Fatalf("got %+v, want %s from %s", r, tc.outcome, tc.registry)
			}
			if r.Reference == "" || r.CheckedAt.Before(before.Add(-time.Minute)) {
				t.Errorf("reference %q, checked at %v", r.Reference, r.CheckedAt)
			}
		})
	}
}

func TestMismatchFields(t *testing.T) {
	srv := startSim(t)
	h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
	ivanov, li, kuznetsov := seeded(t, "ivanov"), seeded(t, "li"), seeded(t, "kuznetsov")

	surnameAndIssue := ivanov.PassportQuery()
	surnameAndIssue.FamilyName, surnameAndIssue.IssuedAt = "Иванова", day("2005-04-02")
	everything := ivanov.PassportQuery()
	everything.FamilyName, everything.GivenName, everything.MiddleName = "Петров", "Пётр", "Петрович"
	everything.BirthDate, everything.IssuedAt = day("1985-03-15"), day("2010-01-01")
	birth := ivanov.SNILSQuery()
	birth.BirthDate = day("1958-03-14")
	middle := li.SNILSQuery()
	middle.MiddleName = "Сергеевич"
	noMiddle := ivanov.SNILSQuery()
	noMiddle.MiddleName = ""
	innPassport := ivanov.INNQuery()
	innPassport.GivenName, innPassport.PassportNumber = "Иоанн", "123457"
	oldPassport := kuznetsov.INNQuery()
	oldPassport.PassportSeries, oldPassport.PassportNumber = "4502", "345678"

	for _, tc := range []struct {
		name   string
		call   call
		fields []string
	}{
		{"passport surname and issue date", passport(surnameAndIssue), []string{"family_name", "issued_at"}},
		{"passport everything but the number", passport(everything),
			[]string{"family_name", "given_name", "middle_name", "birth_date", "issued_at"}},
		{"snils birth date", snils(birth), []string{"birth_date"}},
		{"snils patronymic for a person without one", snils(middle), []string{"middle_name"}},
		{"snils patronymic missing", snils(noMiddle), []string{"middle_name"}},
		{"inn given name and passport number", inn(innPassport), []string{"given_name", "passport_number"}},
		{"inn with the replaced passport", inn(oldPassport), []string{"passport_series", "passport_number"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.call(context.Background(), h)
			if err != nil {
				t.Fatal(err)
			}
			if r.Outcome != registry.Mismatch || !slices.Equal(r.Fields, tc.fields) {
				t.Fatalf("got %s %v, want mismatch %v", r.Outcome, r.Fields, tc.fields)
			}
		})
	}
}

// assertTemporary checks that err is a temporary failure and never an
// outcome: a durable job must retry it, not report a mismatch.
func wantTemporary(t *testing.T) func(registry.Result, error) *registry.Error {
	return func(r registry.Result, err error) *registry.Error {
		t.Helper()
		return assertTemporary(t, r, err)
	}
}

func wantPermanent(t *testing.T) func(registry.Result, error) *registry.Error {
	return func(r registry.Result, err error) *registry.Error {
		t.Helper()
		return assertPermanent(t, r, err)
	}
}

func assertTemporary(t *testing.T, r registry.Result, err error) *registry.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; result %+v", r)
	}
	if !errors.Is(err, registry.ErrTemporary) || errors.Is(err, registry.ErrPermanent) {
		t.Fatalf("%v: not temporary", err)
	}
	if r.Outcome != "" {
		t.Fatalf("an outcome came with the error: %+v", r)
	}
	var e *registry.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not a *registry.Error", err)
	}
	return e
}

func assertPermanent(t *testing.T, r registry.Result, err error) *registry.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; result %+v", r)
	}
	if !errors.Is(err, registry.ErrPermanent) || errors.Is(err, registry.ErrTemporary) {
		t.Fatalf("%v: not permanent", err)
	}
	if r.Outcome != "" {
		t.Fatalf("an outcome came with the error: %+v", r)
	}
	var e *registry.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not a *registry.Error", err)
	}
	return e
}

func TestTemporaryFailures(t *testing.T) {
	srv := startSim(t)
	h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
	ctx := context.Background()

	t.Run("503", func(t *testing.T) {
		e := wantTemporary(t)(h.CheckSNILS(ctx, seeded(t, "morozova").SNILSQuery()))
		if e.Status != 503 || e.RetryAfter != 0 || e.Registry != registry.SFR {
			t.Errorf("%+v", e)
		}
	})
	t.Run("500", func(t *testing.T) {
		for _, c := range []call{passport(seeded(t, "sokolov").PassportQuery()), inn(seeded(t, "sokolov").INNQuery())} {
			if e := wantTemporary(t)(c(ctx, h)); e.Status != 500 {
				t.Errorf("%+v", e)
			}
		}
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		e := wantTemporary(t)(h.CheckINN(ctx, seeded(t, "novikov").INNQuery()))
		if e.Status != 429 || e.RetryAfter != time.Second {
			t.Errorf("%+v", e)
		}
	})
	t.Run("malformed JSON", func(t *testing.T) {
		_, err := h.CheckPassport(ctx, seeded(t, "lebedeva").PassportQuery())
		if wantTemporary(t)(registry.Result{}, err); !errors.Is(err, registry.ErrBadResponse) {
			t.Errorf("%v is not ErrBadResponse", err)
		}
	})
	t.Run("oversize answer", func(t *testing.T) {
		_, err := h.CheckSNILS(ctx, seeded(t, "fedorov").SNILSQuery())
		if wantTemporary(t)(registry.Result{}, err); !errors.Is(err, registry.ErrResponseTooLarge) {
			t.Errorf("%v is not ErrResponseTooLarge", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv.SetSlowDelay(time.Hour)
		short := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL, Timeout: 50 * time.Millisecond})
		_, err := short.CheckPassport(ctx, seeded(t, "volkov").PassportQuery())
		if e := wantTemporary(t)(registry.Result{}, err); e.Status != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%+v", e)
		}
	})
	t.Run("down", func(t *testing.T) {
		srv.SetDown(true)
		defer srv.SetDown(false)
		e := wantTemporary(t)(h.CheckPassport(ctx, seeded(t, "ivanov").PassportQuery()))
		if e.Status != 503 || e.RetryAfter != time.Second || e.Registry != registry.MVD {
			t.Errorf("%+v", e)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		closed := newAdapter(t, registry.HTTPOptions{BaseURL: "http://" + addr})
		e := wantTemporary(t)(closed.CheckSNILS(ctx, seeded(t, "ivanov").SNILSQuery()))
		if e.Status != 0 {
			t.Errorf("%+v", e)
		}
	})
}

// A registry that fails and comes back: the same query succeeds once it is
// retried, which is what makes "temporary" safe to retry.
func TestRecovery(t *testing.T) {
	srv := startSim(t)
	h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
	ctx := context.Background()
	morozova := seeded(t, "morozova").PassportQuery()
	for range 2 {
		wantTemporary(t)(h.CheckPassport(ctx, morozova))
	}
	if r, err := h.CheckPassport(ctx, morozova); err != nil || r.Outcome != registry.Match {
		t.Fatalf("third try: %+v %v", r, err)
	}

	novikov := seeded(t, "novikov").SNILSQuery()
	wantTemporary(t)(h.CheckSNILS(ctx, novikov))
	if r, err := h.CheckSNILS(ctx, novikov); err != nil || r.Outcome != registry.Match {
		t.Fatalf("after 429: %+v %v", r, err)
	}

	ivanov := seeded(t, "ivanov").SNILSQuery()
	srv.SetDown(true)
	wantTemporary(t)(h.CheckSNILS(ctx, ivanov))
	srv.SetDown(false)
	if r, err := h.CheckSNILS(ctx, ivanov); err != nil || r.Outcome != registry.Match {
		t.Fatalf("back up: %+v %v", r, err)
	}

	srv.FailNext(1)
	wantTemporary(t)(h.CheckSNILS(ctx, ivanov))
	if r, err := h.CheckSNILS(ctx, ivanov); err != nil || r.Outcome != registry.Match {
		t.Fatalf("after FailNext: %+v %v", r, err)
	}

	srv.SetSlowDelay(time.Millisecond)
	if r, err := h.CheckINN(ctx, seeded(t, "volkov").INNQuery()); err != nil || r.Outcome != registry.Match {
		t.Fatalf("slow but in time: %+v %v", r, err)
	}
}

func TestPermanentFailures(t *testing.T) {
	srv := startSim(t)
	h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
	ctx := context.Background()
	ivanov := seeded(t, "ivanov")

	t.Run("refused by the registry", func(t *testing.T) {
		q := ivanov.SNILSQuery()
		q.SNILS = "12345678965" // wrong check digits: the registry refuses the query
		e := wantPermanent(t)(h.CheckSNILS(ctx, q))
		if e.Status != 400 || e.Registry != registry.SFR || errors.Is(e, registry.ErrInvalidQuery) {
			t.Errorf("%+v", e)
		}
		q2 := ivanov.INNQuery()
		q2.INN = "770112345694"
		if e := wantPermanent(t)(h.CheckINN(ctx, q2)); e.Status != 400 {
			t.Errorf("%+v", e)
		}
	})
	t.Run("unknown path", func(t *testing.T) {
		wrong := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL + "/smev"})
		if e := wantPermanent(t)(wrong.CheckPassport(ctx, ivanov.PassportQuery())); e.Status != 404 {
			t.Errorf("%+v", e)
		}
	})

	// Queries that fail the adapter's own format checks never leave gosid.
	noFamily := ivanov.PassportQuery()
	noFamily.FamilyName = " "
	noBirth := ivanov.SNILSQuery()
	noBirth.BirthDate = time.Time{}
	shortSNILS := ivanov.SNILSQuery()
	shortSNILS.SNILS = "1234567896"
	dashed := ivanov.SNILSQuery()
	dashed.SNILS = "123-456-789 64"
	noIssue := ivanov.PassportQuery()
	noIssue.IssuedAt = time.Time{}
	badSeries := ivanov.PassportQuery()
	badSeries.Series = "45 0"
	halfPassport := ivanov.INNQuery()
	halfPassport.PassportNumber = ""
	companyINN := ivanov.INNQuery()
	companyINN.INN = "7701123456"
	controlName := ivanov.SNILSQuery()
	controlName.GivenName = "Иван\n"
	for _, tc := range []struct {
		name string
		call call
		ctx  context.Context
	}{
		{"empty family name", passport(noFamily), ctx},
		{"no birth date", snils(noBirth), ctx},
		{"snils of 10 digits", snils(shortSNILS), ctx},
		{"snils with separators", snils(dashed), ctx},
		{"passport without issue date", passport(noIssue), ctx},
		{"passport series with a space", passport(badSeries), ctx},
		{"inn with half a passport", inn(halfPassport), ctx},
		{"inn of a company", inn(companyINN), ctx},
		{"control character in a name", snils(controlName), ctx},
		{"empty request id", snils(ivanov.SNILSQuery()), registry.WithRequestID(ctx, "")},
		{"request id with a space", snils(ivanov.SNILSQuery()), registry.WithRequestID(ctx, "job 1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.Requests()
			r, err := tc.call(tc.ctx, h)
			e := wantPermanent(t)(r, err)
			if !errors.Is(err, registry.ErrInvalidQuery) || e.Status != 0 {
				t.Errorf("%v: not ErrInvalidQuery", err)
			}
			if srv.Requests() != before {
				t.Error("the invalid query reached the registry")
			}
		})
	}
}

func TestContextCancellation(t *testing.T) {
	srv := startSim(t)
	srv.SetSlowDelay(time.Hour)
	h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
	volkov := seeded(t, "volkov").SNILSQuery()

	t.Run("before the check", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := h.CheckSNILS(ctx, volkov)
		if wantTemporary(t)(registry.Result{}, err); !errors.Is(err, context.Canceled) {
			t.Errorf("%v is not context.Canceled", err)
		}
	})
	t.Run("while the registry thinks", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		before := srv.Requests()
		done := make(chan error, 1)
		go func() {
			_, err := h.CheckSNILS(ctx, volkov)
			done <- err
		}()
		for srv.Requests() == before {
			time.Sleep(time.Millisecond)
		}
		cancel()
		err := <-done
		if wantTemporary(t)(registry.Result{}, err); !errors.Is(err, context.Canceled) {
			t.Errorf("%v is not context.Canceled", err)
		}
	})
}

func TestErrorMessagesHoldNoPersonalData(t *testing.T) {
	srv := startSim(t)
	h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
	q := seeded(t, "ivanov").SNILSQuery()
	q.SNILS = "12345678965"
	_, err := h.CheckSNILS(context.Background(), q)
	if err == nil {
		t.Fatal("no error")
	}
	for _, secret := range []string{q.SNILS, q.FamilyName, "check digits"} {
		if containsFold(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
	if !containsFold(err.Error(), "invalid_request") || !containsFold(err.Error(), "400") {
		t.Errorf("error %q does not say what the registry answered", err)
	}
}
