-- Whether sign-ins with this provider ask for a refresh token (its refresh scope); an admin can
-- turn it off per provider.
ALTER TABLE tower_oidc_provider_settings ADD COLUMN refresh_tokens BOOLEAN NOT NULL DEFAULT TRUE;
