-- Multi-tenant providers (Entra ID's `common`): the tenants whose users may sign in, a JSON
-- array of tenant ids.
ALTER TABLE tower_oidc_provider_settings ADD COLUMN allowed_tenants_json TEXT NOT NULL DEFAULT '[]';
