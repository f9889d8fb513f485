-- Issue #15: logout channels and subject identifiers of a client.
-- OpenID Connect Back-Channel Logout 1.0 and Front-Channel Logout 1.0: the
-- client's logout URIs and whether they need the sid; Core §8: the
-- client's subject type (public or pairwise) and its sector (the host of
-- its sector_identifier_uri, or a configured name). Existing clients keep
-- public subjects and no logout channel.
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN frontchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN frontchannel_logout_session_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN subject_type TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN sector_identifier_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN sector TEXT NOT NULL DEFAULT '';

-- The clients that received tokens in a sign-in session (sid), with the
-- sub each of them knows: whom to tell when the session ends. expires_ms
-- (Unix milliseconds) is the session's end; the janitor removes older rows.
CREATE TABLE session_clients (
    session_id TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    account_id TEXT NOT NULL,
    subject    TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (session_id, client_id)
);
CREATE INDEX session_clients_expires ON session_clients (expires_ms);
