package app_test

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

// The timing half of the enumeration checks (issue 10): two paths that
// must not tell which one ran (a login with an account and one without, a
// registered contact and an unknown one) are timed against each other on
// the same running server, as an attacker would time them.
//
// The checks must hold on a busy two-core CI machine that other tests load
// at the same time, so they never compare a duration with a constant:
//   - the paths alternate in pairs A B, B A, A B, ... so that load, garbage
//     collection and the background jobs one path leaves behind fall on
//     both alike;
//   - each path runs a few times unmeasured first (connections, caches);
//   - the medians of paceSamples answers are compared, and only a gross
//     difference fails: one median more than paceRatio times the other and
//     more than paceSlack apart. The leaks found were of that class: 2 ms
//     against 42 ms (argon2 skipped for a login with no account) and 1.1 ms
//     against 4.8 ms (recovery wrote and queued only for a real contact);
//   - a difference is measured again with fresh samples, and fails only
//     when it shows again, the same way round.
const (
	paceSamples = 41
	paceWarmup  = 4
	paceRatio   = 3.0
	paceSlack   = 2 * time.Millisecond
)

// samePace fails the test when a and b take grossly different times. Each
// call of a or b makes one attempt (on a fresh subject where the path
// needs one) and returns how long its answer took; what names the pair in
// the log, which shows both medians.
func samePace(t *testing.T, what string, a, b func() time.Duration) {
	t.Helper()
	first := 0
	for round := 1; round <= 2; round++ {
		ma, mb := paceRound(a, b)
		gross := grossDifference(ma, mb)
		t.Logf("%s: median %v against %v (%d samples each, round %d)", what, ma.Round(time.Microsecond),
			mb.Round(time.Microsecond), paceSamples, round)
		switch {
		case gross == 0:
			return
		case round == 1:
			first = gross
		case gross == first:
			t.Errorf("%s: the answers take different times: median %v against %v, twice", what, ma, mb)
		}
	}
}

// paceRound warms both paths up, then times them alternately and returns
// their medians.
func paceRound(a, b func() time.Duration) (time.Duration, time.Duration) {
	for i := 0; i < paceWarmup; i++ {
		a()
		b()
	}
	runtime.GC()
	as, bs := make([]time.Duration, 0, paceSamples), make([]time.Duration, 0, paceSamples)
	for i := 0; i < paceSamples; i++ {
		if i%2 == 0 {
			as = append(as, a())
			bs = append(bs, b())
		} else {
			bs = append(bs, b())
			as = append(as, a())
		}
	}
	return median(as), median(bs)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// grossDifference is 1 when a is grossly slower than b, -1 when b is
// grossly slower than a, 0 otherwise.
func grossDifference(a, b time.Duration) int {
	switch {
	case float64(a) > paceRatio*float64(b) && a-b > paceSlack:
		return 1
	case float64(b) > paceRatio*float64(a) && b-a > paceSlack:
		return -1
	}
	return 0
}

// TestGrossDifference pins the rule the timing checks apply: it catches
// the leaks the outside test measured and lets ordinary noise pass.
func TestGrossDifference(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	for _, c := range []struct {
		name string
		a, b time.Duration
		want int
	}{
		{"argon2 skipped for an unknown login", ms(42), ms(2), 1},
		{"recovery work only for a real contact", ms(1.1), ms(4.8), -1},
		{"the same work under load", ms(45), ms(38), 0},
		{"twice as slow", ms(8), ms(4), 0},
		{"fast paths, a large ratio of little", ms(0.4), ms(1.6), 0},
		{"equal", ms(3), ms(3), 0},
	} {
		if got := grossDifference(c.a, c.b); got != c.want {
			t.Errorf("%s: grossDifference(%v, %v) = %d, want %d", c.name, c.a, c.b, got, c.want)
		}
	}
}
