//! The login page's list: the enabled providers as buttons, in sort order.

use super::Registry;
use crate::error::Error;

/// One entry of the login page's provider list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderButton {
    /// Provider id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Icon name.
    pub icon: Option<String>,
    /// Sort order.
    pub sort_order: i32,
    /// Where the button goes.
    pub login_url: String,
}

impl Registry {
    /// The enabled providers, sorted for a login page (by sort order, then name);
    /// `login_url(id)` is where each button goes.
    pub(crate) async fn buttons(
        &self,
        login_url: impl Fn(&str) -> String,
    ) -> Result<Vec<ProviderButton>, Error> {
        let mut out: Vec<ProviderButton> = self
            .all()
            .await?
            .into_iter()
            .filter(|(_, s)| s.enabled)
            .map(|(spec, s)| ProviderButton {
                login_url: login_url(&spec.id),
                sort_order: s.sort_order.unwrap_or(spec.sort_order),
                icon: s.icon.clone().or(spec.icon.clone()),
                name: spec.name.clone(),
                id: spec.id.clone(),
            })
            .collect();
        out.sort_by(|a, b| (a.sort_order, &a.name).cmp(&(b.sort_order, &b.name)));
        Ok(out)
    }
}
