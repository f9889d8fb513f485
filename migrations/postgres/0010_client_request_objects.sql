-- Issue #11: a client's application type (a public native app may receive
-- its redirect on any loopback port, RFC 8252 §7.3; web clients match
-- exactly) and what it registered about request objects (RFC 9101): that
-- it sends every authorization request as a signed one, and with which
-- algorithm. Existing clients are web clients that require nothing.
ALTER TABLE clients ADD COLUMN application_type TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN require_signed_request_object BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN request_object_signing_alg TEXT NOT NULL DEFAULT '';
