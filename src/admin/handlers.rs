//! The admin API's handlers: list, get, update, enable/disable, create, delete, reorder and
//! test; each change validated, stored, its provider's caches dropped, and audited.

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::AdminApi;
use super::check;
use super::errors::{AdminError, FieldError, invalid};
use super::patch::{apply_patch, sort_order_of};
use super::routes::object_body;
use super::sources::{Row, SettingsSource, find};
use super::validate::{check_duplicate_client, validate_settings};
use crate::config::{Origin, ProviderSettings, ProviderSpec};
use crate::error::Error;
use crate::store::UserId;
use crate::web::json_response;

impl AdminApi {
    pub(super) async fn admin_list(&self) -> Result<Response<Bytes>, AdminError> {
        let list = self.views().await?;
        Ok(json_response(StatusCode::OK, &Value::Array(list)))
    }

    pub(super) async fn admin_get(&self, id: &str) -> Result<Response<Bytes>, AdminError> {
        let row = self.row(id).await?;
        Ok(json_response(StatusCode::OK, &self.view(&row)))
    }

    /// Refuses a change that would leave no provider enabled, when the app asked for that.
    fn keep_one(&self, rows: &[Row], id: &str, after: &ProviderSettings) -> Result<(), FieldError> {
        if !self.keep_one_sign_in_method {
            return Ok(());
        }
        let before = rows.iter().filter(|r| r.settings.enabled).count();
        let after_count = rows
            .iter()
            .filter(|r| {
                if r.spec.id == id {
                    after.enabled
                } else {
                    r.settings.enabled
                }
            })
            .count();
        if before > 0 && after_count == 0 {
            return Err(FieldError {
                status: StatusCode::CONFLICT,
                error: "last_sign_in_method",
                field: "enabled".into(),
                message: "This is the last enabled sign-in method: enable another one first, or nobody could sign in.".into(),
            });
        }
        Ok(())
    }

    /// Validates and stores new settings for `id`, drops its caches, and audits the change.
    async fn save(
        &self,
        by: &UserId,
        rows: &[Row],
        row: &Row,
        new: ProviderSettings,
        changed: &[&'static str],
        action: &'static str,
    ) -> Result<Response<Bytes>, AdminError> {
        validate_settings(&row.spec, &new)?;
        let all: Vec<(ProviderSpec, ProviderSettings)> = rows
            .iter()
            .map(|r| (r.spec.clone(), r.settings.clone()))
            .collect();
        check_duplicate_client(&row.spec.id, &row.spec, &new, &all)?;
        self.keep_one(rows, &row.spec.id, &new)?;
        let reg = &self.registry;
        reg.settings
            .put(&row.spec.id, &new)
            .await
            .map_err(|e| AdminError::Engine(e.into()))?;
        reg.invalidate(Some(&row.spec.id));
        audit_change(by, &row.spec.id, action, changed);
        let saved = Row {
            spec: row.spec.clone(),
            settings: new,
            source: SettingsSource::Store,
        };
        Ok(json_response(StatusCode::OK, &self.view(&saved)))
    }

    pub(super) async fn admin_update(
        &self,
        by: &UserId,
        id: &str,
        body: Option<Value>,
    ) -> Result<Response<Bytes>, AdminError> {
        let body = object_body(body)?;
        let _guard = self.write_lock.lock().await;
        let rows = self.rows().await?;
        let row = find(&rows, id)?;
        let mut new = row.settings.clone();
        let changed = apply_patch(&row.spec, &mut new, &body, false)?;
        self.save(by, &rows, row, new, &changed, "update").await
    }

    pub(super) async fn admin_set_enabled(
        &self,
        by: &UserId,
        id: &str,
        enabled: bool,
    ) -> Result<Response<Bytes>, AdminError> {
        let _guard = self.write_lock.lock().await;
        let rows = self.rows().await?;
        let row = find(&rows, id)?;
        let mut new = row.settings.clone();
        new.enabled = enabled;
        let changed: &[&'static str] = if row.settings.enabled == enabled {
            &[]
        } else {
            &["enabled"]
        };
        self.save(
            by,
            &rows,
            row,
            new,
            changed,
            if enabled { "enable" } else { "disable" },
        )
        .await
    }

    pub(super) async fn admin_create(
        &self,
        by: &UserId,
        body: Option<Value>,
    ) -> Result<Response<Bytes>, AdminError> {
        let body = object_body(body)?;
        let id = match body.get("id") {
            Some(Value::String(s)) if crate::config::is_valid_provider_id(s) => s.clone(),
            Some(Value::String(_)) => {
                return Err(invalid(
                    "id",
                    "a provider id is 1-64 characters of a-z, 0-9, `-` and `_`",
                )
                .into());
            }
            _ => return Err(invalid("id", "the provider id is required").into()),
        };
        let _guard = self.write_lock.lock().await;
        let rows = self.rows().await?;
        let Some(row) = rows.iter().find(|r| r.spec.id == id) else {
            return Err(invalid(
                "id",
                format!(
                    "no provider `{id}` is defined: a custom provider's endpoints and claims are defined in providers.toml ([providers.{id}]), and its settings are then created here"
                ),
            )
            .into());
        };
        if !matches!(self.registry.providers().origin(&id), Some(Origin::File(_))) {
            return Err(invalid(
                "id",
                format!("`{id}` is a built-in provider: change its settings with PUT /admin/providers/{id}"),
            )
            .into());
        }
        if row.source == SettingsSource::Store {
            return Err(FieldError {
                status: StatusCode::CONFLICT,
                error: "already_exists",
                field: "id".into(),
                message: format!("provider `{id}` already has settings: change them with PUT"),
            }
            .into());
        }
        let mut new = row.settings.clone();
        let mut changed = apply_patch(&row.spec, &mut new, &body, true)?;
        if !changed.contains(&"enabled") {
            changed.insert(0, "enabled");
        }
        let mut r = self.save(by, &rows, row, new, &changed, "create").await?;
        *r.status_mut() = StatusCode::CREATED;
        Ok(r)
    }

    pub(super) async fn admin_delete(
        &self,
        by: &UserId,
        id: &str,
    ) -> Result<Response<Bytes>, AdminError> {
        let _guard = self.write_lock.lock().await;
        let rows = self.rows().await?;
        let row = find(&rows, id)?;
        if !matches!(self.registry.providers().origin(id), Some(Origin::File(_))) {
            return Err(invalid(
                "id",
                "Built-in providers cannot be deleted: disable it instead.",
            )
            .into());
        }
        if row.source != SettingsSource::Store {
            return Err(AdminError::Engine(Error::new(
                crate::error::ErrorCode::ProviderUnknown,
                "the provider has no stored settings to delete",
            )));
        }
        let after = self
            .registry
            .providers()
            .seeded_settings()
            .get(id)
            .cloned()
            .unwrap_or_default();
        self.keep_one(&rows, id, &after)?;
        let reg = &self.registry;
        reg.settings
            .delete(id)
            .await
            .map_err(|e| AdminError::Engine(e.into()))?;
        reg.invalidate(Some(id));
        audit_change(by, id, "delete", &[]);
        Ok(json_response(
            StatusCode::OK,
            &json!({"deleted": id, "message": "The stored settings were removed; the provider is back to its providers.toml settings (or disabled)."}),
        ))
    }

    pub(super) async fn admin_reorder(
        &self,
        by: &UserId,
        body: Option<Value>,
    ) -> Result<Response<Bytes>, AdminError> {
        let items = match body {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(invalid(
                    "",
                    "send a JSON list: [{\"id\": \"authentik\", \"sort_order\": 1}, ...]",
                )
                .into());
            }
        };
        if items.len() > 256 {
            return Err(invalid("", "at most 256 entries").into());
        }
        let _guard = self.write_lock.lock().await;
        let rows = self.rows().await?;
        // Validate everything before writing anything.
        let mut wanted: Vec<(usize, i32)> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::Object(m) = item else {
                return Err(invalid(
                    format!("[{i}]"),
                    "must be an object {\"id\", \"sort_order\"}",
                )
                .into());
            };
            if let Some(k) = m.keys().find(|k| *k != "id" && *k != "sort_order") {
                let name: String = k.chars().filter(|c| !c.is_control()).take(64).collect();
                return Err(invalid(
                    format!("[{i}].{name}"),
                    format!("unknown field `{name}`; each entry has id and sort_order"),
                )
                .into());
            }
            let id = m.get("id").and_then(Value::as_str).unwrap_or("");
            let Some(idx) = rows.iter().position(|r| r.spec.id == id) else {
                return Err(invalid(format!("[{i}].id"), "no provider with that id").into());
            };
            if wanted.iter().any(|(j, _)| *j == idx) {
                return Err(invalid(format!("[{i}].id"), "the provider is listed twice").into());
            }
            let order = sort_order_of(
                &format!("[{i}].sort_order"),
                m.get("sort_order").unwrap_or(&Value::Null),
            )?;
            wanted.push((idx, order));
        }
        let reg = &self.registry;
        let mut written: Vec<usize> = Vec::new();
        let mut changed_ids = Vec::new();
        for (idx, order) in &wanted {
            let row = &rows[*idx];
            if row.settings.sort_order == Some(*order) && row.source == SettingsSource::Store {
                continue;
            }
            let mut new = row.settings.clone();
            new.sort_order = Some(*order);
            if let Err(e) = reg.settings.put(&row.spec.id, &new).await {
                // Put back what was there, so the API's view stays all-or-nothing.
                for j in written {
                    let r = &rows[j];
                    let undo = match r.source {
                        SettingsSource::Store => reg.settings.put(&r.spec.id, &r.settings).await,
                        _ => reg.settings.delete(&r.spec.id).await,
                    };
                    if let Err(u) = undo {
                        tracing::error!(provider = %r.spec.id, error = %u, "could not undo a partial reorder");
                    }
                    reg.invalidate(Some(&r.spec.id));
                }
                return Err(AdminError::Engine(e.into()));
            }
            written.push(*idx);
            reg.invalidate(Some(&row.spec.id));
            changed_ids.push(row.spec.id.clone());
        }
        if !changed_ids.is_empty() {
            tracing::info!(
                target: "tower_oidc::audit",
                event = "settings_changed",
                action = "reorder",
                by = %by,
                providers = ?changed_ids,
                fields = ?["sort_order"],
                "provider order changed"
            );
        }
        drop(_guard);
        self.admin_list().await
    }

    pub(super) async fn admin_test(
        &self,
        id: &str,
        body: Option<Value>,
    ) -> Result<Response<Bytes>, AdminError> {
        let row = self.row(id).await?;
        let mut settings = row.settings.clone();
        // A body tests candidate settings before they are saved.
        if let Some(Value::Object(m)) = &body {
            apply_patch(&row.spec, &mut settings, m, false)?;
        } else if body.is_some() {
            return Err(invalid("", "the body must be a JSON object (or empty)").into());
        }
        let report = check::run(
            &self.registry.http.for_provider(id),
            &row.spec,
            &settings,
            &self.redirect_uri(id),
        )
        .await;
        Ok(json_response(StatusCode::OK, &report.to_json()))
    }
}

/// The audit event of a settings change: who, which provider, which fields — never values.
fn audit_change(by: &UserId, provider: &str, action: &'static str, fields: &[&'static str]) {
    tracing::info!(
        target: "tower_oidc::audit",
        event = "settings_changed",
        action,
        by = %by,
        provider,
        fields = ?fields,
        "provider settings changed"
    );
}
