package selfservice_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gosid/gosid/selfservice"
)

// FuzzReadInput feeds flow bodies (the JSON the flow API takes) to
// ReadInput. Whatever it accepts is a map of strings without the action,
// and writing that map and the action back as JSON reads back the same.
func FuzzReadInput(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"action":"submit","phone":"+79001234567","password":"x"}`,
		`{"consent":true}`, `{"a":1}`, `[]`, `{"a":"b"}{"c":"d"}`, `{"a":"\u0000"}`,
		`{"a":"b","a":"c"}`, `{"action":null}`, `{"x":"\ud800"}`, ``, `null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		in, action, err := selfservice.ReadInput(jsonRequest(body))
		if err != nil {
			return
		}
		if _, ok := in["action"]; ok {
			t.Fatalf("the action stayed in the input: %q", in)
		}
		again := map[string]string{}
		for k, v := range in {
			again[k] = v
		}
		if action != "" {
			again["action"] = action
		}
		b, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		in2, action2, err := selfservice.ReadInput(jsonRequest(string(b)))
		if err != nil {
			t.Fatalf("re-reading %s: %v", b, err)
		}
		if action2 != action || len(in2) != len(in) {
			t.Fatalf("re-read %q %q, want %q %q", in2, action2, in, action)
		}
		for k, v := range in {
			if in2[k] != v {
				t.Fatalf("field %q re-read as %q, want %q", k, in2[k], v)
			}
		}
	})
}

func jsonRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/flows/x", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// FuzzFormInput feeds posted form bodies to the parser and FormInput: the
// CSRF token and the flow id never reach a step, and every field a step
// gets is the first value the citizen sent for it.
func FuzzFormInput(f *testing.F) {
	for _, s := range []string{
		"csrf_token=x&flow=y&phone=%2B79001234567", "a=1&a=2", "a", "=&=", "%zz=1", "a=%00",
		"flow=1&flow=2&csrf_token=", strings.Repeat("k=v&", 50),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/form", bytes.NewReader([]byte(body)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			return
		}
		in := selfservice.FormInput(r.PostForm)
		if _, ok := in["csrf_token"]; ok {
			t.Fatal("the CSRF token reached the step")
		}
		if _, ok := in["flow"]; ok {
			t.Fatal("the flow id reached the step")
		}
		for k, v := range in {
			if vs := r.PostForm[k]; len(vs) == 0 || vs[0] != v {
				t.Fatalf("field %q = %q, want the first of %q", k, v, vs)
			}
		}
		for k, vs := range r.PostForm {
			if _, ok := in[k]; !ok && len(vs) > 0 && k != "csrf_token" && k != "flow" {
				t.Fatalf("field %q was dropped", k)
			}
		}
	})
}
