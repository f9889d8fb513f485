-- Personal data and documents, encrypted (#5).
CREATE TABLE profiles (
    account_id     TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    pending        BLOB,
    verified       BLOB,
    status         TEXT NOT NULL DEFAULT 'none',
    rejections     TEXT NOT NULL DEFAULT '[]',
    submission     TEXT NOT NULL DEFAULT '',
    snils_index    TEXT,
    passport_index TEXT,
    updated_at     TIMESTAMP NOT NULL,
    verified_at    TIMESTAMP
);
-- One SNILS, one passport backs one verified account.
CREATE UNIQUE INDEX profiles_snils ON profiles (snils_index) WHERE snils_index IS NOT NULL;
CREATE UNIQUE INDEX profiles_passport ON profiles (passport_index) WHERE passport_index IS NOT NULL;
