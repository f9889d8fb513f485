package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunLoadCountsAndErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			http.Error(w, "boom", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	defer srv.Close()
	f := fixedRequest{name: "t", method: http.MethodGet, path: "/", want: []byte(`"keys"`)}
	tr := newTransport(4)
	defer tr.CloseIdleConnections()
	res, err := runLoad(context.Background(), loadSpec{concurrency: 4, warmup: 50 * time.Millisecond, duration: 300 * time.Millisecond}, f.newOp(tr, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if res.ops == 0 || res.errors == 0 {
		t.Fatalf("ops %d, errors %d: want both", res.ops, res.errors)
	}
	if len(res.errorSamples) == 0 || !strings.Contains(res.errorSamples[0].Message, "status 503: boom") {
		t.Errorf("error samples %+v", res.errorSamples)
	}
	if res.hist.n != res.ops {
		t.Errorf("histogram has %d values for %d ops", res.hist.n, res.ops)
	}
}

func TestFixedRequestChecksBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != basicAuth("id:1", "s&2") || r.FormValue("token") != "tok" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"active":false}`))
	}))
	defer srv.Close()
	f := fixedScenarios(srv.URL, registeredClient{ClientID: "id:1", ClientSecret: "s&2"}, "tok")[3]
	err := f.once(context.Background(), newTransport(1), srv.URL)
	if err == nil || !strings.Contains(err.Error(), `without "active":true`) {
		t.Fatalf("err = %v, want a missing-marker error", err)
	}
}

// BenchmarkFixedOp shows what the generator itself costs a request, against
// a server that does nothing.
func BenchmarkFixedOp(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"access_token":"x"}`))
	}))
	defer srv.Close()
	f := fixedRequest{method: http.MethodPost, path: "/", body: []byte("grant_type=client_credentials&scope=api"),
		auth: basicAuth("a", "b"), want: []byte(`"access_token"`)}
	tr := newTransport(1)
	defer tr.CloseIdleConnections()
	run, err := f.newOp(tr, srv.URL)(context.Background(), 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
}
