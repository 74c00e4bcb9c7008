-- Split horizon: the address the server uses to reach the provider, beside the one browsers use.
ALTER TABLE tower_oidc_provider_settings ADD COLUMN internal_url TEXT;
