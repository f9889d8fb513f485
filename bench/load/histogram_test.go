package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPercentileExact(t *testing.T) {
	// Values below 2^subBits ns land in exact buckets, so nearest-rank
	// percentiles come out exactly.
	tests := []struct {
		name   string
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", []time.Duration{7}, 50, 7},
		{"one value p100", []time.Duration{7}, 100, 7},
		{"median of 1..10", seq(1, 10), 50, 5},
		{"p90 of 1..10", seq(1, 10), 90, 9},
		{"p91 of 1..10 rounds up", seq(1, 10), 91, 10},
		{"p99 of 1..100", seq(1, 100), 99, 99},
		{"p100 is max", seq(1, 100), 100, 100},
		{"tiny p is min", seq(5, 50), 0.001, 5},
		{"negative recorded as zero", []time.Duration{-3, 4}, 50, 0},
		{"order does not matter", []time.Duration{9, 1, 5, 3, 7}, 50, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, v := range tt.values {
				h.record(v)
			}
			if got := h.percentile(tt.p); got != tt.want {
				t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func seq(from, to int) []time.Duration {
	var s []time.Duration
	for i := from; i <= to; i++ {
		s = append(s, time.Duration(i))
	}
	return s
}

func TestPercentileWithinBucketError(t *testing.T) {
	// Against the exact nearest-rank percentile of sorted values, the
	// histogram is off by at most one bucket width: 1/2^subBits relative.
	dists := map[string]func(r *rand.Rand) time.Duration{
		"uniform 0-10ms":   func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(10 * time.Millisecond))) },
		"exponential 2ms":  func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * float64(2*time.Millisecond)) },
		"bimodal µs and s": bimodal,
	}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var h histogram
			vals := make([]time.Duration, 20000)
			for i := range vals {
				vals[i] = gen(r)
				h.record(vals[i])
			}
			slices.Sort(vals)
			for _, p := range []float64{1, 50, 90, 99, 99.9, 100} {
				want := vals[nearestRank(p, len(vals))-1]
				got := h.percentile(p)
				if diff := (got - want).Abs(); float64(diff) > float64(want)/subBuckets+1 {
					t.Errorf("p%v = %v, exact %v (off by %v)", p, got, want, diff)
				}
			}
			if time.Duration(h.max) != vals[len(vals)-1] || time.Duration(h.min) != vals[0] {
				t.Errorf("min/max = %v/%v, want %v/%v", time.Duration(h.min), time.Duration(h.max), vals[0], vals[len(vals)-1])
			}
		})
	}
}

func bimodal(r *rand.Rand) time.Duration {
	if r.IntN(10) == 0 {
		return time.Second + time.Duration(r.Int64N(int64(time.Second)))
	}
	return 100*time.Microsecond + time.Duration(r.Int64N(int64(50*time.Microsecond)))
}

func nearestRank(p float64, n int) int {
	k := int(p / 100 * float64(n))
	if float64(k) < p/100*float64(n) {
		k++
	}
	return max(1, min(k, n))
}

func TestMergeEqualsRecordingTogether(t *testing.T) {
	var a, b, all histogram
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i*i) * time.Microsecond
		all.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	var m histogram
	m.merge(&a)
	m.merge(&b)
	m.merge(&histogram{})
	for _, p := range []float64{10, 50, 90, 99, 100} {
		if m.percentile(p) != all.percentile(p) {
			t.Errorf("p%v: merged %v, together %v", p, m.percentile(p), all.percentile(p))
		}
	}
	if m.n != all.n || m.min != all.min || m.max != all.max || m.mean() != all.mean() {
		t.Errorf("merged n/min/max/mean differ")
	}
}

func TestBucketsCoverEveryValue(t *testing.T) {
	// Every value falls in a bucket whose range holds it, and bucket ranges
	// are contiguous and increasing.
	var prevHi uint64
	for i := 0; i < nBuckets-1; i++ {
		lo, hi := bucketRange(i)
		if i > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		for _, v := range []uint64{lo, hi, lo + (hi-lo)/2} {
			if got := bucketOf(v); got != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", v, got, i)
			}
		}
		prevHi = hi
	}
	if got := bucketOf(1 << 62); got != nBuckets-1 {
		t.Errorf("huge value in bucket %d, want the last", got)
	}
}
