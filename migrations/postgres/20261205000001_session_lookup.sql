-- Sessions you can find (SessionStore::find_sessions / end_sessions): by user (sign out
-- everywhere), by the provider session (provider, issuer, sid: back- and front-channel logout)
-- and by the provider account (provider, issuer, subject). Copied out of the record, indexed.
ALTER TABLE tower_oidc_sessions ADD COLUMN user_id TEXT;
ALTER TABLE tower_oidc_sessions ADD COLUMN provider TEXT;
ALTER TABLE tower_oidc_sessions ADD COLUMN idp_issuer TEXT;
ALTER TABLE tower_oidc_sessions ADD COLUMN idp_subject TEXT;
ALTER TABLE tower_oidc_sessions ADD COLUMN idp_sid TEXT;
UPDATE tower_oidc_sessions SET
    user_id = (record_json::json) -> 'user' ->> 'id',
    provider = (record_json::json) ->> 'provider',
    idp_issuer = (record_json::json) -> 'idp' ->> 'issuer',
    idp_subject = (record_json::json) -> 'idp' ->> 'subject',
    idp_sid = (record_json::json) -> 'idp' ->> 'sid';
CREATE INDEX IF NOT EXISTS tower_oidc_sessions_user ON tower_oidc_sessions (user_id);
CREATE INDEX IF NOT EXISTS tower_oidc_sessions_idp_sid
    ON tower_oidc_sessions (provider, idp_issuer, idp_sid);
CREATE INDEX IF NOT EXISTS tower_oidc_sessions_idp_subject
    ON tower_oidc_sessions (provider, idp_issuer, idp_subject);
