package main

import (
	"os"
	"testing"
	"time"
)

func TestShare(t *testing.T) {
	t0 := time.Unix(0, 0)
	snap := func(at, busy, total, server, gen time.Duration) cpuSnapshot {
		return cpuSnapshot{at: t0.Add(at), busy: busy, total: total, server: server, generator: gen, stores: busy / 9, ok: true}
	}
	tests := []struct {
		name     string
		a, b     cpuSnapshot
		override time.Duration
		want     *cpuShare
	}{
		{
			name: "two cores, server and generator",
			a:    snap(0, 0, 0, 0, 0),
			b:    snap(10*time.Second, 18*time.Second, 20*time.Second, 12*time.Second, 4*time.Second),
			want: &cpuShare{Server: 1.2, Generator: 0.4, Stores: 0.2, Other: 0, Idle: 0.2},
		},
		{
			name:     "wrk's time replaces the generator's",
			a:        snap(0, 0, 0, 0, 0),
			b:        snap(10*time.Second, 20*time.Second, 20*time.Second, 15*time.Second, time.Second),
			override: 3 * time.Second,
			want:     &cpuShare{Server: 1.5, Generator: 0.3, Stores: 20.0 / 9 / 10, Other: 0, Idle: 0}, // other clamped at 0,
		},
		{
			name: "not measured",
			a:    cpuSnapshot{},
			b:    snap(time.Second, 0, 0, 0, 0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := share(tt.a, tt.b, tt.override)
			if (got == nil) != (tt.want == nil) {
				t.Fatalf("share = %v, want %v", got, tt.want)
			}
			if got == nil {
				return
			}
			near := func(x, y float64) bool { return x-y < 1e-9 && y-x < 1e-9 }
			if !near(got.Server, tt.want.Server) || !near(got.Generator, tt.want.Generator) ||
				!near(got.Stores, tt.want.Stores) || !near(got.Other, tt.want.Other) || !near(got.Idle, tt.want.Idle) {
				t.Errorf("share = %+v, want %+v", *got, *tt.want)
			}
		})
	}
}

func TestTakeCPUReadsThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	a := takeCPU(os.Getpid(), 0)
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	b := takeCPU(os.Getpid(), 0)
	if !a.ok || !b.ok || b.total <= a.total || b.generator < a.generator {
		t.Errorf("snapshots %+v then %+v", a, b)
	}
}
