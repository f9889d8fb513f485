-- At most one active and one next signing key per algorithm, guaranteed by
-- the database (a stalled node re-inserting a swept generation cannot create
-- a second active key).
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE state = 'active';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE state = 'next';
