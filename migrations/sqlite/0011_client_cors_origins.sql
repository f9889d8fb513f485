-- Issue #11: web origins, besides those of its redirect URIs, from which a
-- browser-based client may call the token, userinfo, revocation and PAR
-- endpoints (CORS). Existing clients add none.
ALTER TABLE clients ADD COLUMN allowed_cors_origins TEXT NOT NULL DEFAULT '[]';
