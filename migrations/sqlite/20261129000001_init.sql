-- tower-oidc: users, linked identities, provider settings, sessions, consumed login transactions.
-- Every table is prefixed `tower_oidc_` so the app can share the database.

CREATE TABLE IF NOT EXISTS tower_oidc_users (
    id             TEXT    NOT NULL PRIMARY KEY,
    -- Canonical (trimmed, lower-cased) email; unique when present.
    email          TEXT    UNIQUE,
    email_verified INTEGER NOT NULL DEFAULT 0,
    name           TEXT,
    given_name     TEXT,
    family_name    TEXT,
    picture        TEXT,
    username       TEXT,
    groups_json    TEXT    NOT NULL DEFAULT '[]',
    is_admin       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- One row per external identity: the primary key makes an identity belong to at most one user.
CREATE TABLE IF NOT EXISTS tower_oidc_identities (
    provider   TEXT    NOT NULL,
    issuer     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    user_id    TEXT    NOT NULL REFERENCES tower_oidc_users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, issuer, subject)
);
CREATE INDEX IF NOT EXISTS tower_oidc_identities_user ON tower_oidc_identities (user_id);

CREATE TABLE IF NOT EXISTS tower_oidc_provider_settings (
    provider            TEXT    NOT NULL PRIMARY KEY,
    enabled             INTEGER NOT NULL,
    url                 TEXT,
    client_id           TEXT,
    -- `v1:` + base64(nonce || AES-256-GCM ciphertext); never the plain secret.
    client_secret       TEXT,
    scopes_json         TEXT,
    auto_register       INTEGER NOT NULL,
    sort_order          INTEGER,
    icon                TEXT,
    email_trust         TEXT,
    admin_groups_json   TEXT    NOT NULL DEFAULT '[]',
    admin_domains_json  TEXT    NOT NULL DEFAULT '[]',
    slug                TEXT,
    params_json         TEXT    NOT NULL DEFAULT '{}',
    updated_at          INTEGER NOT NULL
);

-- Sessions are keyed by the SHA-256 of the session id: the table never holds a usable id.
CREATE TABLE IF NOT EXISTS tower_oidc_sessions (
    id_hash     TEXT    NOT NULL PRIMARY KEY,
    record_json TEXT    NOT NULL,
    -- Seconds since the Unix epoch.
    expires_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tower_oidc_sessions_expiry ON tower_oidc_sessions (expires_at);

CREATE TABLE IF NOT EXISTS tower_oidc_consumed_transactions (
    id_hash    TEXT    NOT NULL PRIMARY KEY,
    -- Milliseconds since the Unix epoch.
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tower_oidc_consumed_expiry ON tower_oidc_consumed_transactions (expires_at);
