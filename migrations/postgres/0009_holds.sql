-- Holds are the security decisions that must outlive the short-lived store
-- (#10 defect 5): revoked grants and access tokens, locked logins. Each is
-- a key with an end (Unix milliseconds, as kv); the deny-list and the
-- lockout counters in Redis are rebuilt or checked from here when Redis
-- comes back empty.
CREATE TABLE holds (
    key      TEXT PRIMARY KEY,
    until_ms BIGINT NOT NULL
);
CREATE INDEX holds_until ON holds (until_ms);
