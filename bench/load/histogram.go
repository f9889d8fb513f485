package main

import (
	"math"
	"math/bits"
	"time"
)

// The latency histogram is log-linear, in the manner of HdrHistogram: values
// below 2^subBits nanoseconds are exact, and above that every power of two is
// split into 2^subBits equal buckets, so a recorded value is known within
// 1/2^subBits (0.8%) of itself. Recording is a few bit operations into a
// fixed array: no allocation, nothing to sort, and the per-worker histograms
// merge by adding counts.
const (
	subBits    = 7
	subBuckets = 1 << subBits
	// maxExp covers up to 2^(maxExp+subBits) ns, about 9 hours; anything
	// longer is clamped into the last bucket (and still counted in max).
	maxExp   = 38
	nBuckets = (maxExp + 1) * subBuckets
)

// histogram records durations. The zero value is empty and ready to use.
type histogram struct {
	counts [nBuckets]uint64
	n      uint64
	sum    uint64
	min    uint64
	max    uint64
}

func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	// e is how far v must be shifted right to leave subBits+1 significant bits.
	e := bits.Len64(v) - subBits - 1
	if e >= maxExp {
		return nBuckets - 1
	}
	return (e+1)*subBuckets + int(v>>uint(e)) - subBuckets
}

// bucketRange returns the smallest and largest value that fall in bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < subBuckets {
		return uint64(i), uint64(i)
	}
	e := i/subBuckets - 1
	lo = uint64(i%subBuckets+subBuckets) << uint(e)
	return lo, lo + (uint64(1) << uint(e)) - 1
}

func (h *histogram) record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += v
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100): the
// smallest recorded value such that at least p% of the values are at or
// below it, as the middle of its bucket, kept within the recorded min and
// max. An empty histogram yields 0.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	if rank >= h.n {
		return time.Duration(h.max)
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := lo + (hi-lo)/2
			v = max(v, h.min)
			v = min(v, h.max)
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}
