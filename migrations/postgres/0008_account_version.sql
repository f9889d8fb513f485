-- Whole-row account updates carry a version (#9); the sign-in notice
-- setting lives only in the notification preferences (the "login" event),
-- so the old column's value moves there where the preferences have none.
ALTER TABLE accounts ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

UPDATE accounts
SET notify_prefs = (COALESCE(NULLIF(notify_prefs, ''), '{}')::jsonb || jsonb_build_object('login',
    CASE login_notice
        WHEN 'phone' THEN '["sms"]'::jsonb
        WHEN 'email' THEN '["email"]'::jsonb
        ELSE '[]'::jsonb
    END))::text
WHERE login_notice IN ('phone', 'email', 'none')
  AND NOT (COALESCE(NULLIF(notify_prefs, ''), '{}')::jsonb ? 'login');

ALTER TABLE accounts DROP COLUMN login_notice;
