package registry

import (
	"errors"
	"fmt"
	"time"
)

// Every error a Registry returns matches exactly one of ErrTemporary and
// ErrPermanent under errors.Is.
var (
	// ErrTemporary: the registry gave no usable answer this time (it was
	// unreachable, timed out, answered 5xx, 408, 425 or 429, refused the
	// TLS handshake, or sent an unreadable or oversized body). The query
	// itself may be fine: retry later, with backoff, and never read it as
	// a mismatch.
	ErrTemporary = errors.New("registry: temporary failure")
	// ErrPermanent: the registry refused the query itself (4xx other than
	// 408, 425 and 429, or a redirect), or the query was invalid before it
	// was sent. Sending the same query again cannot succeed.
	ErrPermanent = errors.New("registry: permanent failure")
)

// Finer causes, wrapped by an *Error together with its class.
var (
	// ErrInvalidQuery: the query failed the format checks made before
	// sending (a missing name or date, a SNILS that is not 11 digits...).
	// It is permanent.
	ErrInvalidQuery = errors.New("registry: invalid query")
	// ErrBadResponse: the registry answered 200 with a body that is not
	// the wire format. It is temporary.
	ErrBadResponse = errors.New("registry: unreadable response")
	// ErrResponseTooLarge: the answer exceeded HTTPOptions.MaxBodyBytes.
	// It is temporary.
	ErrResponseTooLarge = errors.New("registry: response too large")
)

// Error is the error every Registry method of this package returns. Use
// errors.Is with ErrTemporary or ErrPermanent to decide whether to retry,
// and errors.As to read RetryAfter.
//
// The message names the registry, the HTTP status and the registry's error
// code, never the query: a citizen's name or document number must not
// reach logs or stored job errors.
type Error struct {
	Registry string // MVD, SFR or FNS
	// Status is the HTTP status of the answer, 0 when none arrived.
	Status int
	// RetryAfter is the registry's Retry-After (with 429 or 503), 0 when
	// it sent none. A job should wait at least this long.
	RetryAfter time.Duration
	Temporary  bool
	Err        error
}

func (e *Error) Error() string {
	class := "permanent"
	if e.Temporary {
		class = "temporary"
	}
	return fmt.Sprintf("registry %s: %s failure: %v", e.Registry, class, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrTemporary) and errors.Is(err, ErrPermanent)
// follow e.Temporary.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrTemporary:
		return e.Temporary
	case ErrPermanent:
		return !e.Temporary
	}
	return false
}
