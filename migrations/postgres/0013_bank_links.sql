-- Partner banks linked to accounts (#12): a bank identity is its stable
-- (bank, subject) pair and backs at most one account; one account may
-- link several banks. Nothing the bank said about the citizen is kept
-- here: what it confirmed lives in the (encrypted) verified profile.
CREATE TABLE bank_links (
    bank         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    linked_at    TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    PRIMARY KEY (bank, subject)
);
CREATE INDEX bank_links_account ON bank_links (account_id);
