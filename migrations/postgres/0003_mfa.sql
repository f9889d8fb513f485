-- Second factors, recovery codes and the index of sign-in sessions (#4).

CREATE TABLE mfa_factors (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    secret       BYTEA,
    credential_id TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX mfa_factors_account ON mfa_factors (account_id);
-- One SMS and one e-mail factor per account; a security key once.
CREATE UNIQUE INDEX mfa_factors_contact ON mfa_factors (account_id, kind) WHERE kind IN ('sms', 'email', 'totp');
CREATE UNIQUE INDEX mfa_factors_credential ON mfa_factors (credential_id) WHERE credential_id <> '';

CREATE TABLE mfa_recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (account_id, hash)
);

CREATE TABLE login_sessions (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    amr          JSONB NOT NULL DEFAULT '[]',
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    location     TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_sessions_account ON login_sessions (account_id, last_seen_at DESC);
CREATE INDEX login_sessions_expires ON login_sessions (expires_at);

ALTER TABLE accounts ADD COLUMN login_notice TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN mfa_declined_at TIMESTAMPTZ;
