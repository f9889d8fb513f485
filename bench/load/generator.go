package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// op performs one unit of work (one request, or one whole sign-in flow) and
// returns nil when it succeeded and its response was checked.
type op func() error

// newOp makes the op one worker runs in a loop; whatever the op reuses from
// one call to the next (a request, a buffer) belongs to that worker alone.
type newOp func(ctx context.Context, worker int) (op, error)

// loadSpec shapes one closed-loop run: concurrency workers each run their op
// back to back, for warmup and then for duration.
type loadSpec struct {
	concurrency int
	warmup      time.Duration
	duration    time.Duration
	// maxOps bounds each worker's loop whatever the clock does.
	maxOps int
	// probe, if set, is read at both ends of the measured window.
	probe func() cpuSnapshot
}

// loadResult is what a run measured. Ops, latencies and errors cover ops that
// completed inside the measured window; warm-up errors are kept apart but
// still make the run a failure.
type loadResult struct {
	ops          uint64
	errors       uint64
	warmupErrors uint64
	elapsed      time.Duration
	hist         histogram
	errorSamples []errorSample
	cpu          *cpuShare
}

type errorSample struct {
	Message string `json:"message"`
	Count   uint64 `json:"count"`
}

func (r *loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ops) / r.elapsed.Seconds()
}

// Distinct error messages kept per worker, and their length: enough to say
// what went wrong without letting a flood of errors eat memory.
const (
	maxErrorKinds  = 8
	maxErrorLength = 300
)

type workerStats struct {
	hist         histogram
	ops          uint64
	errors       uint64
	warmupErrors uint64
	samples      map[string]uint64
}

func (w *workerStats) fail(err error) {
	msg := err.Error()
	if len(msg) > maxErrorLength {
		msg = msg[:maxErrorLength] + "..."
	}
	if _, ok := w.samples[msg]; ok || len(w.samples) < maxErrorKinds {
		w.samples[msg]++
	}
}

// runLoad runs the closed loop. Every op completing in
// [start+warmup, start+warmup+duration] is counted; a worker stops starting
// ops at the end of the window, and ops still in flight then are abandoned
// to the context, which ends a grace period later.
func runLoad(ctx context.Context, spec loadSpec, mk newOp) (*loadResult, error) {
	if spec.concurrency < 1 {
		return nil, fmt.Errorf("concurrency must be at least 1")
	}
	if spec.maxOps <= 0 {
		spec.maxOps = 10_000_000
	}
	start := time.Now()
	from := start.Add(spec.warmup)
	to := from.Add(spec.duration)
	ctx, cancel := context.WithDeadline(ctx, to.Add(30*time.Second))
	defer cancel()

	ops := make([]op, spec.concurrency)
	for i := range ops {
		o, err := mk(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("worker %d: %w", i, err)
		}
		ops[i] = o
	}
	var (
		cpuFrom, cpuTo cpuSnapshot
		probeDone      = make(chan struct{})
	)
	go func() {
		defer close(probeDone)
		if spec.probe == nil || !sleepUntil(ctx, from) {
			return
		}
		cpuFrom = spec.probe()
		if sleepUntil(ctx, to) {
			cpuTo = spec.probe()
		}
	}()
	stats := make([]*workerStats, spec.concurrency)
	var wg sync.WaitGroup
	for i := range ops {
		st := &workerStats{samples: map[string]uint64{}}
		stats[i] = st
		wg.Add(1)
		go func(run op) {
			defer wg.Done()
			for n := 0; n < spec.maxOps && ctx.Err() == nil; n++ {
				t0 := time.Now()
				if !t0.Before(to) {
					return
				}
				err := run()
				t1 := time.Now()
				inWindow := !t1.Before(from) && !t1.After(to)
				switch {
				case err != nil && inWindow:
					st.errors++
					st.fail(err)
				case err != nil:
					st.warmupErrors++
					st.fail(fmt.Errorf("warm-up: %w", err))
				case inWindow:
					st.ops++
					st.hist.record(t1.Sub(t0))
				}
			}
		}(ops[i])
	}
	wg.Wait()
	<-probeDone
	if err := context.Cause(ctx); err != nil && time.Now().Before(to) {
		return nil, err
	}
	res := &loadResult{elapsed: spec.duration, cpu: share(cpuFrom, cpuTo, 0)}
	merged := map[string]uint64{}
	for _, st := range stats {
		res.hist.merge(&st.hist)
		res.ops += st.ops
		res.errors += st.errors
		res.warmupErrors += st.warmupErrors
		for m, c := range st.samples {
			merged[m] += c
		}
	}
	for m, c := range merged {
		res.errorSamples = append(res.errorSamples, errorSample{Message: m, Count: c})
	}
	sort.Slice(res.errorSamples, func(i, j int) bool { return res.errorSamples[i].Count > res.errorSamples[j].Count })
	if len(res.errorSamples) > maxErrorKinds {
		res.errorSamples = res.errorSamples[:maxErrorKinds]
	}
	return res, nil
}

// sleepUntil waits for t and reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
