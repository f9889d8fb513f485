package storage

import (
	"context"
	"errors"
	"sync/atomic"
)

// ErrUnavailable is returned when a backing store cannot be reached: the
// network refused or timed out, or a circuit breaker stopped trying for a
// moment after repeated failures. It is temporary: the caller should answer
// "try again shortly" (HTTP 503 with Retry-After), never "not found" or a
// decision.
var ErrUnavailable = errors.New("storage: unavailable")

// Outage records, for one request, that a store it used was unavailable, so
// that whatever answers the request can say so (503) even when the error
// passed through code that only knows "internal error".
type Outage struct{ seen atomic.Bool }

type outageKey struct{}

// WithOutage returns a context that records store outages, and the record.
func WithOutage(ctx context.Context) (context.Context, *Outage) {
	o := &Outage{}
	return context.WithValue(ctx, outageKey{}, o), o
}

// Seen reports whether a store was unavailable during the request.
func (o *Outage) Seen() bool { return o.seen.Load() }

// Unavailable wraps err as ErrUnavailable and notes the outage in ctx's
// record, if any. Adapters call it for connection failures.
func Unavailable(ctx context.Context, op string, err error) error {
	if o, ok := ctx.Value(outageKey{}).(*Outage); ok {
		o.seen.Store(true)
	}
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return &unavailableError{op: op, err: err}
}

type unavailableError struct {
	op  string
	err error
}

func (e *unavailableError) Error() string {
	return e.op + ": " + ErrUnavailable.Error() + ": " + e.err.Error()
}

func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }
