-- Notification preferences and in-account messages (#5).
ALTER TABLE accounts ADD COLUMN notify_prefs TEXT NOT NULL DEFAULT '';

CREATE TABLE inbox_messages (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    template   TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    read_at    TIMESTAMP
);
CREATE INDEX inbox_messages_account ON inbox_messages (account_id, created_at DESC);
