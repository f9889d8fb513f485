-- Keys of the personal-data encryption (package pii): random keys, each
-- stored wrapped under a key-encryption key derived from a master key; kek_id
-- names which. The database guarantees at most one active key per purpose, so
-- nodes starting together on an empty database agree on one.
CREATE TABLE pii_data_keys (
    id         TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('data', 'index')),
    state      TEXT NOT NULL CHECK (state IN ('active', 'retired')),
    wrapped    BLOB NOT NULL,
    kek_id     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);
CREATE UNIQUE INDEX pii_data_keys_one_active ON pii_data_keys (purpose) WHERE state = 'active';
