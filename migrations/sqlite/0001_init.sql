CREATE TABLE clients (
    id                          TEXT PRIMARY KEY,
    name                        TEXT NOT NULL,
    secret_hash                 BLOB,
    redirect_uris               TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris   TEXT NOT NULL DEFAULT '[]',
    grant_types                 TEXT NOT NULL DEFAULT '[]',
    response_types              TEXT NOT NULL DEFAULT '[]',
    scopes                      TEXT NOT NULL DEFAULT '[]',
    audience                    TEXT NOT NULL DEFAULT '[]',
    public                      BOOLEAN NOT NULL DEFAULT 0,
    token_endpoint_auth_method  TEXT NOT NULL,
    jwks                        BLOB,
    jwks_uri                    TEXT NOT NULL DEFAULT '',
    id_token_alg                TEXT NOT NULL DEFAULT '',
    first_party                 BOOLEAN NOT NULL DEFAULT 0,
    min_level                   TEXT NOT NULL DEFAULT '',
    require_mfa                 BOOLEAN NOT NULL DEFAULT 0,
    created_at                  TIMESTAMP NOT NULL,
    updated_at                  TIMESTAMP NOT NULL
);

CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,
    phone               TEXT NOT NULL DEFAULT '',
    phone_verified      BOOLEAN NOT NULL DEFAULT 0,
    email               TEXT NOT NULL DEFAULT '',
    email_verified      BOOLEAN NOT NULL DEFAULT 0,
    family_name         TEXT NOT NULL DEFAULT '',
    given_name          TEXT NOT NULL DEFAULT '',
    middle_name         TEXT NOT NULL DEFAULT '',
    password_hash       TEXT NOT NULL DEFAULT '',
    password_changed_at TIMESTAMP,
    level               TEXT NOT NULL,
    status              TEXT NOT NULL,
    locale              TEXT NOT NULL DEFAULT 'ru',
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX accounts_phone ON accounts (phone) WHERE phone <> '';
CREATE UNIQUE INDEX accounts_email ON accounts (email) WHERE email <> '';

CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    alg          TEXT NOT NULL,
    generation   BIGINT NOT NULL,
    state        TEXT NOT NULL,
    public_jwk   BLOB NOT NULL,
    sealed       BLOB NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    activated_at TIMESTAMP,
    retired_at   TIMESTAMP,
    expires_at   TIMESTAMP,
    UNIQUE (alg, generation)
);

CREATE TABLE consents (
    subject    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL DEFAULT '[]',
    granted_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (subject, client_id)
);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL DEFAULT '',
    type       TEXT NOT NULL,
    client_id  TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    data       TEXT,
    at         TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, id DESC);

CREATE TABLE refresh_tokens (
    signature  TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    request    BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_request ON refresh_tokens (request_id);
CREATE INDEX refresh_tokens_subject ON refresh_tokens (subject, client_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

-- Short-lived state when no Redis is configured. expires_at is Unix
-- milliseconds; expired rows are treated as absent and swept periodically.
CREATE TABLE kv (
    key        TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX kv_expires ON kv (expires_at);
