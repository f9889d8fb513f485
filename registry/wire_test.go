package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosid/gosid/registry"
)

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// recorded is one request as a registry saw it.
type recorded struct {
	path   string
	header http.Header
	body   map[string]any
}

// fakeRegistry answers every request with handler and records it.
func fakeRegistry(t *testing.T, handler http.HandlerFunc) (*httptest.Server, func() []recorded) {
	t.Helper()
	var mu sync.Mutex
	var seen []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := recorded{path: r.URL.Path, header: r.Header.Clone()}
		_ = json.Unmarshal(b, &rec.body)
		mu.Lock()
		seen = append(seen, rec)
		mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []recorded {
		mu.Lock()
		defer mu.Unlock()
		return append([]recorded(nil), seen...)
	}
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

var sampleSNILS = registry.SNILSQuery{
	FamilyName: "Иванов", GivenName: "Иван", MiddleName: "Иванович",
	BirthDate: time.Date(1985, 3, 14, 0, 0, 0, 0, time.UTC), SNILS: "12345678964",
}

// The request is the documented wire format, to the byte names.
func TestWireRequests(t *testing.T) {
	srv, seen := fakeRegistry(t, answer(200, `{"outcome":"match","fields":[],"reference":"r1"}`))
	h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL + "/"})
	ctx := context.Background()
	msk := time.FixedZone("MSK", 3*3600)
	if _, err := h.CheckPassport(ctx, registry.PassportQuery{
		FamilyName: "Семёнова", GivenName: "Алёна", BirthDate: time.Date(1990, 7, 21, 0, 0, 0, 0, msk),
		Series: "4010", Number: "234567", IssuedAt: time.Date(2010, 8, 5, 0, 0, 0, 0, msk),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CheckSNILS(ctx, sampleSNILS); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CheckINN(ctx, registry.INNQuery{
		FamilyName: "Иванов", GivenName: "Иван", BirthDate: sampleSNILS.BirthDate, INN: "770112345695",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CheckINN(ctx, registry.INNQuery{
		FamilyName: "Иванов", GivenName: "Иван", BirthDate: sampleSNILS.BirthDate, INN: "770112345695",
		PassportSeries: "4505", PassportNumber: "123456",
	}); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		path string
		body string
	}{
		{"/v1/passport/check", `{"birth_date":"1990-07-21","family_name":"Семёнова","given_name":"Алёна","issued_at":"2010-08-05","middle_name":"","number":"234567","series":"4010"}`},
		{"/v1/snils/check", `{"birth_date":"1985-03-14","family_name":"Иванов","given_name":"Иван","middle_name":"Иванович","snils":"12345678964"}`},
		{"/v1/inn/check", `{"birth_date":"1985-03-14","family_name":"Иванов","given_name":"Иван","inn":"770112345695","middle_name":""}`},
		{"/v1/inn/check", `{"birth_date":"1985-03-14","family_name":"Иванов","given_name":"Иван","inn":"770112345695","middle_name":"","passport_number":"123456","passport_series":"4505"}`},
	}
	got := seen()
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d", len(got), len(want))
	}
	ids := map[string]bool{}
	for i, w := range want {
		body, _ := json.Marshal(got[i].body) // map keys come out sorted
		if got[i].path != w.path || string(body) != w.body {
			t.Errorf("request %d: %s %s\nwant %s %s", i, got[i].path, body, w.path, w.body)
		}
		hd := got[i].header
		if hd.Get("Content-Type") != "application/json" || hd.Get("Accept") != "application/json" {
			t.Errorf("request %d: headers %v", i, hd)
		}
		id := hd.Get("Idempotency-Key")
		if id == "" || hd.Get("X-Request-ID") != id {
			t.Errorf("request %d: Idempotency-Key %q, X-Request-ID %q", i, id, hd.Get("X-Request-ID"))
		}
		ids[id] = true
	}
	if len(ids) != len(want) {
		t.Errorf("request ids repeat without WithRequestID: %v", ids)
	}
}

// A job passes its own id so that every attempt of one check carries the
// same Idempotency-Key.
func TestWithRequestID(t *testing.T) {
	srv, seen := fakeRegistry(t, answer(503, `{"error":"unavailable"}`))
	h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
	ctx := registry.WithRequestID(context.Background(), "verify-42-snils")
	for range 2 {
		if _, err := h.CheckSNILS(ctx, sampleSNILS); !errors.Is(err, registry.ErrTemporary) {
			t.Fatal(err)
		}
	}
	for _, r := range seen() {
		if r.header.Get("Idempotency-Key") != "verify-42-snils" || r.header.Get("X-Request-ID") != "verify-42-snils" {
			t.Errorf("headers %v", r.header)
		}
	}
}

func TestStatusClassification(t *testing.T) {
	for _, tc := range []struct {
		status    int
		temporary bool
	}{
		{400, false}, {401, false}, {403, false}, {404, false}, {405, false}, {409, false}, {413, false},
		{415, false}, {422, false},
		{408, true}, {425, true}, {429, true},
		{500, true}, {501, true}, {502, true}, {503, true}, {504, true},
		{201, true}, {204, true},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			srv, _ := fakeRegistry(t, answer(tc.status, `{"error":"some_code","error_description":"Иванов 12345678964"}`))
			h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
			r, err := h.CheckSNILS(context.Background(), sampleSNILS)
			var e *registry.Error
			if tc.temporary {
				e = wantTemporary(t)(r, err)
			} else {
				e = wantPermanent(t)(r, err)
			}
			if e.Status != tc.status {
				t.Errorf("status %d", e.Status)
			}
			if tc.status >= 400 && !strings.Contains(err.Error(), "some_code") {
				t.Errorf("%q does not name the registry's error code", err)
			}
			if strings.Contains(err.Error(), "12345678964") {
				t.Errorf("%q repeats the registry's description", err)
			}
		})
	}
}

// A redirect would re-post a citizen's data elsewhere: it is not followed.
func TestRedirectNotFollowed(t *testing.T) {
	target, seenTarget := fakeRegistry(t, answer(200, `{"outcome":"match"}`))
	for _, status := range []int{301, 302, 307, 308} {
		srv, _ := fakeRegistry(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+r.URL.Path, status)
		})
		h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
		if e := wantPermanent(t)(h.CheckSNILS(context.Background(), sampleSNILS)); e.Status != status {
			t.Errorf("%d: %+v", status, e)
		}
	}
	if n := len(seenTarget()); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		header string
		min    time.Duration
		max    time.Duration
	}{
		{"", 0, 0},
		{"7", 7 * time.Second, 7 * time.Second},
		{"0", 0, 0},
		{"-3", 0, 0},
		{"99999999999999999999", time.Hour, time.Hour},
		{"99999999999", time.Hour, time.Hour},
		{"soon", 0, 0},
		{now.Add(-time.Hour).UTC().Format(http.TimeFormat), 0, 0},
		{now.Add(48 * time.Hour).UTC().Format(http.TimeFormat), time.Hour, time.Hour},
		// An HTTP date has whole seconds: anything up to two minutes is right.
		{now.Add(2 * time.Minute).UTC().Format(http.TimeFormat), time.Second, 2 * time.Minute},
	} {
		t.Run(tc.header, func(t *testing.T) {
			srv, _ := fakeRegistry(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				w.WriteHeader(http.StatusTooManyRequests)
			})
			h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
			e := wantTemporary(t)(h.CheckSNILS(context.Background(), sampleSNILS))
			if e.RetryAfter < tc.min || e.RetryAfter > tc.max {
				t.Errorf("RetryAfter %v, want %v..%v", e.RetryAfter, tc.min, tc.max)
			}
		})
	}
}

func TestBadAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"empty":                    ``,
		"truncated":                `{"outcome":"match"`,
		"not an object":            `["match"]`,
		"unknown outcome":          `{"outcome":"probably","fields":[]}`,
		"no outcome":               `{"fields":[],"reference":"r"}`,
		"outcome in capitals":      `{"outcome":"MATCH"}`,
		"field name with a space":  `{"outcome":"mismatch","fields":["family name"]}`,
		"field not a string":       `{"outcome":"mismatch","fields":[1]}`,
		"too many fields":          `{"outcome":"mismatch","fields":[` + strings.Repeat(`"a",`, 40) + `"a"]}`,
		"reference with a newline": `{"outcome":"match","reference":"a\nb"}`,
		"long reference":           `{"outcome":"match","reference":"` + strings.Repeat("r", 200) + `"}`,
		"bad checked_at":           `{"outcome":"match","checked_at":"yesterday"}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv, _ := fakeRegistry(t, answer(200, body))
			h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
			_, err := h.CheckSNILS(context.Background(), sampleSNILS)
			if wantTemporary(t)(registry.Result{}, err); !errors.Is(err, registry.ErrBadResponse) {
				t.Errorf("%v is not ErrBadResponse", err)
			}
		})
	}
}

func TestGoodAnswers(t *testing.T) {
	at := "2026-01-02T03:04:05+03:00"
	for _, tc := range []struct {
		body   string
		want   registry.Result
		exact  bool
		fields []string
	}{
		{body: `{"outcome":"mismatch","fields":["family_name","snils_status_x"],"reference":"R-1","checked_at":"` + at + `"}`,
			want: registry.Result{Outcome: registry.Mismatch, Reference: "R-1"}, exact: true, fields: []string{"family_name", "snils_status_x"}},
		{body: `{"outcome":"match","extra":"ignored"}`, want: registry.Result{Outcome: registry.Match}},
		// Fields mean something for a mismatch only.
		{body: `{"outcome":"not_found","fields":["family_name"]}`, want: registry.Result{Outcome: registry.NotFound}},
		{body: `{"outcome":"suspended","fields":null,"reference":""}`, want: registry.Result{Outcome: registry.Suspended}},
	} {
		t.Run(tc.body, func(t *testing.T) {
			srv, _ := fakeRegistry(t, answer(200, tc.body))
			h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL})
			r, err := h.CheckSNILS(context.Background(), sampleSNILS)
			if err != nil {
				t.Fatal(err)
			}
			if r.Outcome != tc.want.Outcome || r.Reference != tc.want.Reference || r.Registry != registry.SFR ||
				fmt.Sprint(r.Fields) != fmt.Sprint(tc.fields) {
				t.Errorf("got %+v", r)
			}
			if want, _ := time.Parse(time.RFC3339, at); tc.exact && !r.CheckedAt.Equal(want) {
				t.Errorf("checked at %v, want the registry's %v", r.CheckedAt, want)
			}
			if r.CheckedAt.IsZero() {
				t.Error("no CheckedAt")
			}
		})
	}
}

func TestResponseSizeBound(t *testing.T) {
	const limit = 1024
	valid := `{"outcome":"match","reference":"r"}`
	padded := func(n int) string { return valid[:len(valid)-1] + strings.Repeat(" ", n-len(valid)) + "}" }
	for _, tc := range []struct {
		name          string
		body          string
		contentLength bool
		ok            bool
	}{
		{"exactly the limit", padded(limit), true, true},
		{"exactly the limit, chunked", padded(limit), false, true},
		{"one byte over", padded(limit + 1), true, false},
		{"one byte over, chunked", padded(limit + 1), false, false},
		{"a megabyte, chunked", padded(1 << 20), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fakeRegistry(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.contentLength {
					w.Header().Set("Content-Length", strconv.Itoa(len(tc.body)))
				}
				w.WriteHeader(200)
				if !tc.contentLength {
					w.(http.Flusher).Flush() // no Content-Length: the body is chunked
				}
				_, _ = io.WriteString(w, tc.body)
			})
			h := newAdapter(t, registry.HTTPOptions{BaseURL: srv.URL, MaxBodyBytes: limit})
			r, err := h.CheckSNILS(context.Background(), sampleSNILS)
			if tc.ok {
				if err != nil || r.Outcome != registry.Match {
					t.Fatalf("%+v %v", r, err)
				}
				return
			}
			if wantTemporary(t)(r, err); !errors.Is(err, registry.ErrResponseTooLarge) {
				t.Errorf("%v is not ErrResponseTooLarge", err)
			}
		})
	}
}

func TestNewHTTPRefuses(t *testing.T) {
	for _, base := range []string{"", "registry.internal", "ftp://registry.internal", "https://", "https://r.internal?x=1", "https://r.internal#f", "://"} {
		if _, err := registry.NewHTTP(registry.HTTPOptions{BaseURL: base}); err == nil {
			t.Errorf("accepted base url %q", base)
		}
	}
}
