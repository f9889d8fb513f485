package registry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/gosid/gosid/registry"
	"github.com/gosid/gosid/registry/sim"
)

func ExampleHTTP_CheckSNILS() {
	s, err := sim.New(sim.Default())
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	reg, err := registry.NewHTTP(registry.HTTPOptions{BaseURL: srv.URL, Timeout: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	ctx := registry.WithRequestID(context.Background(), "verify-1-snils")
	q := registry.SNILSQuery{
		FamilyName: "Семенова", GivenName: "Алена", MiddleName: "Петровна",
		BirthDate: time.Date(1990, 7, 21, 0, 0, 0, 0, time.UTC), SNILS: "13579246894",
	}
	r, err := reg.CheckSNILS(ctx, q)
	fmt.Println(r.Registry, r.Outcome, err)

	q.BirthDate = time.Date(1990, 7, 12, 0, 0, 0, 0, time.UTC)
	r, err = reg.CheckSNILS(ctx, q)
	fmt.Println(r.Outcome, r.Fields, err)

	s.SetDown(true)
	_, err = reg.CheckSNILS(ctx, q)
	var e *registry.Error
	if errors.Is(err, registry.ErrTemporary) && errors.As(err, &e) {
		fmt.Println("retry in", e.RetryAfter)
	}
	// Output:
	// sfr match <nil>
	// mismatch [birth_date] <nil>
	// retry in 1s
}
