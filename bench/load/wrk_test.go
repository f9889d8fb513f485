package main

import (
	"testing"
	"time"
)

const wrkSample = `Running 10s test @ http://127.0.0.1:41234/oauth2/token
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     8.12ms    2.31ms  41.50ms   78.12%
    Req/Sec     3.95k   210.11     4.30k    70.00%
  Latency Distribution
     50%    7.80ms
     75%    9.10ms
     90%   10.95ms
     99%   16.20ms
  39321 requests in 10.01s, 30.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:   3928.27
Transfer/sec:      3.01MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk([]byte(wrkSample))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"requests", r.requests, uint64(39321)},
		{"elapsed", r.elapsed, 10010 * time.Millisecond},
		{"rate", r.rate, 3928.27},
		{"p50", r.p50, 7800 * time.Microsecond},
		{"p90", r.p90, 10950 * time.Microsecond},
		{"p99", r.p99, 16200 * time.Microsecond},
		{"max", r.max, 41500 * time.Microsecond},
		{"errors", r.errors, uint64(8)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseWrkDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"512.00us", 512 * time.Microsecond},
		{"1.50ms", 1500 * time.Microsecond},
		{"2.00s", 2 * time.Second},
		{"1.00m", time.Minute},
	}
	for _, tt := range tests {
		got, err := parseWrkDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseWrkRejectsGarbage(t *testing.T) {
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused\n")); err == nil {
		t.Error("no error for output without totals")
	}
}
