// Package registry checks a citizen's documents against the state
// registries: the passport against MVD (the Interior Ministry), the SNILS
// against SFR (the Social Fund, formerly the Pension Fund), the INN against
// FNS (the tax service). A check answers Match, Mismatch (naming the
// fields), NotFound or Suspended (a SNILS suspended or annulled, a passport
// invalid, an INN declared invalid).
//
// The package defines the Registry interface, one method per check, and
// ships one implementation, HTTP, which speaks the wire format below. The
// format is gosid's own: the real registries are reached through SMEV (the
// interagency electronic interaction system), with its own envelopes,
// signatures and asynchronous queues, and gosid reaches them through an
// adapter that speaks this format on one side and SMEV on the other. The
// reference simulator in registry/sim speaks it too, for development and
// tests.
//
// # Failures are not answers
//
// Checks are asynchronous (a verification shows "awaiting data
// verification" meanwhile) and run as durable jobs. Every error wraps
// exactly one of two classes, tested with errors.Is:
//
//   - ErrTemporary: no usable answer this time: the registry was
//     unreachable, refused the TLS handshake, timed out, answered 5xx, 408,
//     425 or 429, or sent an unreadable or oversized body; also a cancelled
//     or expired context. Retry with backoff, waiting at least
//     Error.RetryAfter when the registry sent Retry-After.
//   - ErrPermanent: the query itself was refused: it failed the adapter's
//     format checks (ErrInvalidQuery, nothing was sent), or the registry
//     answered 4xx (other than 408, 425, 429) or redirected. Retrying the
//     same query cannot help; the verification needs a person to look.
//
// Neither is an outcome. An outage must never reach a citizen as "your data
// do not match"; only a Result says that.
//
// The adapter does not retry by itself: the job that owns the verification
// does, so that its attempts, backoff and give-up are recorded in one place.
// To let a registry recognise a retry, the job passes one id for all
// attempts of a check with WithRequestID.
//
// # Wire format
//
// Three endpoints under the base URL, each taking a POST with a JSON body
// (Content-Type: application/json) and these headers:
//
//	Idempotency-Key: <id>    1 to 128 visible ASCII characters; the same on
//	X-Request-ID:    <id>    every attempt of one check when the caller says so
//
// POST {base}/v1/passport/check (MVD):
//
//	{"family_name": "Иванов", "given_name": "Иван", "middle_name": "Иванович",
//	 "birth_date": "1985-03-14", "series": "4505", "number": "123456",
//	 "issued_at": "2005-04-01"}
//
// POST {base}/v1/snils/check (SFR):
//
//	{"family_name": "Иванов", "given_name": "Иван", "middle_name": "Иванович",
//	 "birth_date": "1985-03-14", "snils": "12345678964"}
//
// POST {base}/v1/inn/check (FNS); the passport pair is optional, both or
// neither:
//
//	{"family_name": "Иванов", "given_name": "Иван", "middle_name": "Иванович",
//	 "birth_date": "1985-03-14", "inn": "770112345695",
//	 "passport_series": "4505", "passport_number": "123456"}
//
// Names are UTF-8 as the citizen wrote them; middle_name is "" for a person
// without a patronymic. The registry compares them ignoring case and
// treating ё as е. Dates are YYYY-MM-DD. Series is 4 digits, number 6,
// SNILS 11 and INN 12, without separators.
//
// An answer about the document is 200 with a JSON body:
//
//	{"outcome": "mismatch", "fields": ["family_name", "issued_at"],
//	 "reference": "MVD-2026-000123", "checked_at": "2026-05-04T10:11:12+03:00"}
//
// outcome is match, mismatch, not_found or suspended. fields names what did
// not match, for mismatch: family_name, given_name, middle_name,
// birth_date, issued_at, passport_series, passport_number (a registry may
// name others, as lower-case snake_case). reference is the registry's id of
// the check (at most 128 visible ASCII characters), kept with the
// verification. checked_at (RFC 3339) is optional; without it the time of
// the answer is used. Unknown members are ignored.
//
// Any other answer is a failure, classified by its status as above. Its
// body may be {"error": "<code>", "error_description": "<text>"}; the code
// goes into the error message, the description does not, as a registry may
// echo the query in it. Retry-After (seconds or an HTTP date) is honoured
// with any status, capped at an hour. A 200 answer that is not this format,
// or is longer than HTTPOptions.MaxBodyBytes (64 KiB by default), is a
// temporary failure.
//
// # Transport and privacy
//
// The adapter requires TLS 1.2 or later, presents HTTPOptions.ClientCert
// when the gateway asks for one (mutual TLS), does not follow redirects (a
// 307 would re-post a citizen's data to another host), and honours the
// usual proxy environment variables. Error messages name the registry, the
// status and the registry's error code, never a name or a document number.
package registry
