-- Whole-row account updates carry a version (#9); the sign-in notice
-- setting lives only in the notification preferences (the "login" event),
-- so the old column's value moves there where the preferences have none.
ALTER TABLE accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

UPDATE accounts
SET notify_prefs = json_set(COALESCE(NULLIF(notify_prefs, ''), '{}'), '$.login', json(
    CASE login_notice
        WHEN 'phone' THEN '["sms"]'
        WHEN 'email' THEN '["email"]'
        ELSE '[]'
    END))
WHERE login_notice IN ('phone', 'email', 'none')
  AND json_type(COALESCE(NULLIF(notify_prefs, ''), '{}'), '$.login') IS NULL;

ALTER TABLE accounts DROP COLUMN login_notice;
