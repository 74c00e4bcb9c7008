-- Pushed authorization requests (RFC 9126) as the admin set them for this provider: NULL follows
-- the provider spec's `par`; a provider that requires PAR gets it whatever this says.
ALTER TABLE tower_oidc_provider_settings ADD COLUMN par BOOLEAN;
