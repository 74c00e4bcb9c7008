-- Every instance caches sessions in memory; a change or end of one is announced to all of them
-- on the channel `tower_oidc_session_changes` (LISTEN/NOTIFY), by the database itself, in the
-- transaction that makes it: no write can go unannounced. The payload is the session's id hash.
CREATE OR REPLACE FUNCTION tower_oidc_session_changed() RETURNS trigger AS $$
BEGIN
    -- A session deleted after it expired needs no announcement: caches check the expiry.
    IF TG_OP = 'DELETE' AND OLD.expires_at <= EXTRACT(EPOCH FROM now()) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('tower_oidc_session_changes', OLD.id_hash);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tower_oidc_session_changed
    AFTER UPDATE OR DELETE ON tower_oidc_sessions
    FOR EACH ROW EXECUTE FUNCTION tower_oidc_session_changed();
