//! Where each provider's settings come from: the settings store, a `[settings.<id>]` table (a
//! literal value, or the environment through `"${VAR}"`), or the defaults; and the spec's origin
//! (built in or a file).

use std::collections::HashMap;

use super::AdminApi;
use super::errors::AdminError;
use crate::config::{Origin, ProviderSettings, ProviderSpec, Providers, SeedSource};
use crate::error::Error;

/// Where a provider's spec comes from, as the API names it.
pub(super) fn origin_name(o: Option<&Origin>) -> &'static str {
    match o {
        Some(Origin::File(_)) => "file",
        _ => "builtin",
    }
}

/// What a provider's settings are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SettingsSource {
    /// Stored by the admin API (or the app) in the settings store.
    Store,
    /// Seeded from a `[settings.<id>]` table.
    File,
    /// Neither: the defaults (disabled).
    Default,
}

impl SettingsSource {
    pub(super) fn name(self) -> &'static str {
        match self {
            SettingsSource::Store => "store",
            SettingsSource::File => "file",
            SettingsSource::Default => "default",
        }
    }
}

/// One provider as the admin API shows it.
pub(super) struct Row {
    pub(super) spec: ProviderSpec,
    pub(super) settings: ProviderSettings,
    pub(super) source: SettingsSource,
}

impl Row {
    /// Where the value of one settings `field` comes from, as the API names it: `store`,
    /// `default`, or for seeded settings `environment` when the `[settings.<id>]` table wrote it
    /// as `"${VAR}"` and `file` when literally.
    pub(super) fn source_of(&self, providers: &Providers, field: &str) -> &'static str {
        match self.source {
            SettingsSource::File => match providers.seed_source(&self.spec.id, field) {
                Some(SeedSource::Environment) => "environment",
                _ => SettingsSource::File.name(),
            },
            other => other.name(),
        }
    }
}

impl AdminApi {
    pub(super) async fn rows(&self) -> Result<Vec<Row>, Error> {
        let reg = &self.registry;
        let stored: HashMap<String, ProviderSettings> =
            reg.settings.list().await?.into_iter().collect();
        let providers = reg.providers();
        let seeds = providers.seeded_settings();
        Ok(providers
            .iter()
            .map(|spec| {
                let (settings, source) = match (stored.get(&spec.id), seeds.get(&spec.id)) {
                    (Some(s), _) => (s.clone(), SettingsSource::Store),
                    (None, Some(s)) => (s.clone(), SettingsSource::File),
                    (None, None) => (ProviderSettings::default(), SettingsSource::Default),
                };
                Row {
                    spec: spec.clone(),
                    settings,
                    source,
                }
            })
            .collect())
    }

    pub(super) async fn row(&self, id: &str) -> Result<Row, AdminError> {
        self.rows()
            .await?
            .into_iter()
            .find(|r| r.spec.id == id)
            .ok_or_else(|| {
                AdminError::Engine(Error::new(
                    crate::error::ErrorCode::ProviderUnknown,
                    "no provider with that id",
                ))
            })
    }
}

pub(super) fn find<'a>(rows: &'a [Row], id: &str) -> Result<&'a Row, AdminError> {
    rows.iter().find(|r| r.spec.id == id).ok_or_else(|| {
        AdminError::Engine(Error::new(
            crate::error::ErrorCode::ProviderUnknown,
            "no provider with that id",
        ))
    })
}
