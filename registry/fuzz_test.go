package registry

import (
	"testing"
	"time"
	"unicode/utf8"
)

// decodeResult reads what a remote registry sends: it must never panic,
// and whatever it accepts must be a well-formed Result.
func FuzzDecodeResult(f *testing.F) {
	for _, s := range []string{
		`{"outcome":"match","fields":[],"reference":"sim-sfr-000001","checked_at":"2026-01-02T03:04:05Z"}`,
		`{"outcome":"mismatch","fields":["family_name","issued_at"]}`,
		`{"outcome":"not_found"}`, `{"outcome":"suspended","fields":null}`,
		`{"outcome":"match"`, `[]`, `null`, ``, `{"outcome":"match","reference":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeResult(body, SFR, now)
		if err != nil {
			return
		}
		if !r.Outcome.Valid() || r.Registry != SFR || r.CheckedAt.IsZero() {
			t.Fatalf("accepted %+v", r)
		}
		if r.Outcome != Mismatch && len(r.Fields) > 0 {
			t.Fatalf("fields with %s", r.Outcome)
		}
		for _, fl := range r.Fields {
			if !isToken(fl) {
				t.Fatalf("field %q", fl)
			}
		}
		if len(r.Reference) > maxReferenceLen || !utf8.ValidString(r.Reference) {
			t.Fatalf("reference %q", r.Reference)
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "1", "-1", "99999999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "soon"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("retryAfter(%q) = %v", v, d)
		}
	})
}
