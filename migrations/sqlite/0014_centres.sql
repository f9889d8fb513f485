-- Service centres, their operators and journal; letters with a confirmation
-- code sent by Russian Post (#13).
CREATE TABLE centres (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    address    TEXT NOT NULL DEFAULT '',
    hours      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE operators (
    id            TEXT PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret   BLOB NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT 0,
    created_at    TIMESTAMP NOT NULL
);
CREATE TABLE operator_centres (
    operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    centre_id   TEXT NOT NULL REFERENCES centres (id) ON DELETE CASCADE,
    PRIMARY KEY (operator_id, centre_id)
);
-- The centres' journal: every operator action, append-only.
CREATE TABLE operator_journal (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    centre_id   TEXT NOT NULL,
    operator_id TEXT NOT NULL,
    role        TEXT NOT NULL,
    action      TEXT NOT NULL,
    account_id  TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    at          TIMESTAMP NOT NULL
);
CREATE INDEX operator_journal_centre ON operator_journal (centre_id, id DESC);
CREATE TRIGGER operator_journal_no_update BEFORE UPDATE ON operator_journal
BEGIN SELECT RAISE(ABORT, 'operator_journal is append-only'); END;
CREATE TRIGGER operator_journal_no_delete BEFORE DELETE ON operator_journal
BEGIN SELECT RAISE(ABORT, 'operator_journal is append-only'); END;

CREATE TABLE post_letters (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    -- The letter's recipient, address and code, sealed; wiped once printed.
    letter      BLOB,
    attempts    INTEGER NOT NULL DEFAULT 0,
    ordered_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    printed_at  TIMESTAMP,
    used_at     TIMESTAMP
);
CREATE INDEX post_letters_account ON post_letters (account_id, ordered_at);
CREATE INDEX post_letters_status ON post_letters (status, ordered_at);
