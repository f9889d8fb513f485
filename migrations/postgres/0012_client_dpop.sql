-- Issue #11: a client may require DPoP-bound tokens (RFC 9449
-- dpop_bound_access_tokens) and signed userinfo responses (OpenID Connect
-- Registration userinfo_signed_response_alg). Existing clients require
-- neither.
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN userinfo_signed_response_alg TEXT NOT NULL DEFAULT '';
