-- ESIA-compatible interface (#16). An ESIA-style client is a registered
-- client (clients) with its certificate, the redirect domains ESIA
-- whitelists and the token signing algorithm.
CREATE TABLE esia_clients (
    client_id        TEXT PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    certificate      TEXT NOT NULL,
    redirect_domains TEXT NOT NULL,
    signing_alg      TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);
-- The citizen's oid: numeric, unique and never reused (an identity column
-- never hands out a number again, and a row outlives its account: no
-- foreign key).
CREATE TABLE esia_oids (
    oid        BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 1000000001) PRIMARY KEY,
    account_id TEXT NOT NULL UNIQUE
);
