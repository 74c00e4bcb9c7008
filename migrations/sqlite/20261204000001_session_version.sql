-- The compare-and-set generation of a session record (SessionStore::compare_and_swap): refresh
-- once across instances, slide the expiry without losing a concurrent write.
ALTER TABLE tower_oidc_sessions ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
