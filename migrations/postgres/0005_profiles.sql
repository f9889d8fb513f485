-- Personal data and documents, encrypted (#5).
CREATE TABLE profiles (
    account_id     TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    pending        BYTEA,
    verified       BYTEA,
    status         TEXT NOT NULL DEFAULT 'none',
    rejections     JSONB NOT NULL DEFAULT '[]',
    submission     TEXT NOT NULL DEFAULT '',
    snils_index    TEXT,
    passport_index TEXT,
    updated_at     TIMESTAMPTZ NOT NULL,
    verified_at    TIMESTAMPTZ
);
-- One SNILS, one passport backs one verified account.
CREATE UNIQUE INDEX profiles_snils ON profiles (snils_index) WHERE snils_index IS NOT NULL;
CREATE UNIQUE INDEX profiles_passport ON profiles (passport_index) WHERE passport_index IS NOT NULL;
