//! The builder's page options (feature `ui`): the app's templates for the login, error and
//! admin pages, and how their language is chosen.

use std::sync::Arc;

use http::HeaderMap;

use super::{BuildError, OidcLayerBuilder};
use crate::ui::{PageLanguage, PageTemplates, Pages, PagesError};

/// What the builder knows of the pages until `build()` compiles them.
#[derive(Debug, Default)]
pub(super) struct PageOptions {
    templates: PageTemplates,
    language: PageLanguage,
}

impl PageOptions {
    /// The templates compiled (and rendered with sample data) and the language checked.
    pub(super) fn compile(self) -> Result<Pages, BuildError> {
        Pages::compile(&self.templates, self.language).map_err(|e| match e {
            PagesError::Template(t) => BuildError::Template(t),
            PagesError::Language(l) => BuildError::UnknownLanguage(l),
        })
    }
}

impl OidcLayerBuilder {
    /// The app's templates for the login, error and admin pages (default: the built-in ones).
    /// They are compiled by [`build`](Self::build), which fails with
    /// [`BuildError::Template`] naming the file and line of a broken one. The context each
    /// page receives is documented in [`crate::ui`].
    ///
    /// ```
    /// use tower_oidc::{OidcLayer, layer::BuildError, ui::PageTemplates};
    /// let err = OidcLayer::builder()
    ///     .base_url("http://127.0.0.1:3000")
    ///     .page_templates(PageTemplates::new().template("login.html", "<h1>{{ t.login.title }</h1>"))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, BuildError::Template(ref t) if t.file == "login.html" && t.line == Some(1)));
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "ui")))]
    pub fn page_templates(mut self, templates: PageTemplates) -> Self {
        self.pages.templates = templates;
        self
    }

    /// Shows the pages in one language whatever the browser asks for: a tag of
    /// [`LANGUAGES`](crate::ui::LANGUAGES), or one that maps to it (`de-AT` → `de`). A tag
    /// without a catalog fails [`build`](Self::build) with [`BuildError::UnknownLanguage`].
    /// Default: the browser's `Accept-Language`.
    ///
    /// ```
    /// let layer = tower_oidc::OidcLayer::builder()
    ///     .base_url("http://127.0.0.1:3000")
    ///     .page_language("de")
    ///     .build()
    ///     .unwrap();
    /// # let _ = layer;
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "ui")))]
    pub fn page_language(mut self, tag: impl Into<String>) -> Self {
        self.pages.language = PageLanguage::Fixed(tag.into());
        self
    }

    /// Lets the app pick the pages' language per request, from the request's headers (its own
    /// cookie, a user's setting): `Some(tag)` shows that language (mapped like an
    /// `Accept-Language` tag), `None` or a tag without a catalog falls back to the browser's
    /// `Accept-Language`.
    ///
    /// ```
    /// let layer = tower_oidc::OidcLayer::builder()
    ///     .base_url("http://127.0.0.1:3000")
    ///     .page_language_with(|headers| {
    ///         let cookie = headers.get("cookie")?.to_str().ok()?;
    ///         cookie.split("; ").find_map(|c| c.strip_prefix("lang=")).map(str::to_owned)
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # let _ = layer;
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "ui")))]
    pub fn page_language_with(
        mut self,
        choose: impl Fn(&HeaderMap) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.pages.language = PageLanguage::PerRequest(Arc::new(choose));
        self
    }
}
