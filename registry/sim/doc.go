// Package sim is a reference implementation of the registry side of gosid's
// registry wire format (see package registry): the passport, SNILS and INN
// registries, simulated from a dataset of fictional persons, for
// development and for tests that need a real connection.
//
// The embedded dataset (dataset.json, described person by person in
// README.md) holds persons for every outcome, and persons whose checks
// misbehave (Behaviour): slow, 503 a few times, 500, 429 with Retry-After,
// malformed JSON, an oversized answer. Tests find them with
// Default().Person(id) and build matching queries with its PassportQuery,
// SNILSQuery and INNQuery methods.
//
// Misbehaviour can also be switched at run time (SetDown, FailNext,
// SetSlowDelay, Reset), for tests that take a registry down and bring it
// back. Start serves the simulator on a TCP address, with TLS and client
// certificate verification when asked, as a SMEV gateway would; New gives
// the bare http.Handler for httptest.
//
// The simulator is strict about requests (unknown members, wrong check
// digits and a missing Idempotency-Key are refused with 400) so that a
// mistake in an adapter shows up as a refusal rather than a lucky match. It
// does not replay answers by Idempotency-Key: every request is checked
// afresh.
package sim
