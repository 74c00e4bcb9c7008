// Included by `shared.rs`: `SettingsStore` for the SQL stores (client secrets sealed).

#[async_trait]
impl SettingsStore for This {
    async fn get(&self, provider: &str) -> Result<Option<ProviderSettings>, StoreError> {
        let op = "load settings";
        self.run(op, async {
            let row = sqlx::query(concat!(
                "SELECT ",
                settings_cols!(),
                " FROM tower_oidc_provider_settings WHERE provider = $1"
            ))
            .bind(provider)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            match row {
                Some(row) => Ok(Some(self.settings_from_row(&row)?.1)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn list(&self) -> Result<Vec<(String, ProviderSettings)>, StoreError> {
        let op = "list settings";
        self.run(op, async {
            let rows = sqlx::query(concat!(
                "SELECT ",
                settings_cols!(),
                " FROM tower_oidc_provider_settings"
            ))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            let mut all = rows
                .iter()
                .map(|r| self.settings_from_row(r))
                .collect::<Result<Vec<_>, _>>()?;
            all.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(all)
        })
        .await
    }

    async fn put(&self, provider: &str, settings: &ProviderSettings) -> Result<(), StoreError> {
        let op = "store settings";
        let secret = settings
            .client_secret
            .as_ref()
            .map(|s| secret_box::seal(self.key.as_deref(), provider, s.expose()))
            .transpose()?;
        let scopes = settings
            .scopes
            .as_ref()
            .map(|s| to_json(op, s))
            .transpose()?;
        let groups = to_json(op, &settings.admin_rules.groups)?;
        let domains = to_json(op, &settings.admin_rules.email_domains)?;
        let params = to_json(op, &settings.params)?;
        let tenants = to_json(op, &settings.allowed_tenants)?;
        self.run(op, async {
            sqlx::query(
                "INSERT INTO tower_oidc_provider_settings (provider, enabled, url, client_id, \
                 client_secret, scopes_json, auto_register, sort_order, icon, email_trust, \
                 admin_groups_json, admin_domains_json, slug, params_json, updated_at, \
                 refresh_tokens, internal_url, allowed_tenants_json, par) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, $18, $19) \
                 ON CONFLICT (provider) DO UPDATE SET enabled = excluded.enabled, \
                 url = excluded.url, client_id = excluded.client_id, \
                 client_secret = excluded.client_secret, scopes_json = excluded.scopes_json, \
                 auto_register = excluded.auto_register, sort_order = excluded.sort_order, \
                 icon = excluded.icon, email_trust = excluded.email_trust, \
                 admin_groups_json = excluded.admin_groups_json, \
                 admin_domains_json = excluded.admin_domains_json, slug = excluded.slug, \
                 params_json = excluded.params_json, updated_at = excluded.updated_at, \
                 refresh_tokens = excluded.refresh_tokens, \
                 internal_url = excluded.internal_url, \
                 allowed_tenants_json = excluded.allowed_tenants_json, par = excluded.par",
            )
            .bind(provider)
            .bind(settings.enabled)
            .bind(&settings.url)
            .bind(&settings.client_id)
            .bind(&secret)
            .bind(&scopes)
            .bind(settings.auto_register)
            .bind(settings.sort_order)
            .bind(&settings.icon)
            .bind(settings.email_trust.map(email_trust_str))
            .bind(&groups)
            .bind(&domains)
            .bind(&settings.slug)
            .bind(&params)
            .bind(now_secs())
            .bind(settings.refresh_tokens)
            .bind(&settings.internal_url)
            .bind(&tenants)
            .bind(settings.par)
            .execute(&self.pool)
            .await
            .map_err(|e| map_err(op, e))?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, provider: &str) -> Result<(), StoreError> {
        let op = "delete settings";
        self.run(op, async {
            sqlx::query("DELETE FROM tower_oidc_provider_settings WHERE provider = $1")
                .bind(provider)
                .execute(&self.pool)
                .await
                .map_err(|e| map_err(op, e))?;
            Ok(())
        })
        .await
    }
}
