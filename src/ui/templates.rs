//! The pages' templates: the built-in ones, the app's replacements ([`PageTemplates`]), and
//! their compilation at build, where a template that does not compile, or fails to render
//! sample data, is a [`TemplateError`] naming its file and line.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

/// The built-in templates: the shell, then one per page.
pub(crate) const BUILTIN: [(&str, &str); 4] = [
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("error.html", include_str!("templates/error.html")),
    ("admin.html", include_str!("templates/admin.html")),
];

/// The app's replacements for the built-in page templates: from a directory, from strings, or
/// both (strings win). A template named like a built-in one (`base.html`, `login.html`,
/// `error.html`, `admin.html`) replaces it; other names are the app's own, to `{% include %}`
/// or `{% extends %}`. The templates are [MiniJinja](https://docs.rs/minijinja) (Jinja2)
/// with HTML autoescaping always on; the context each page receives is documented in
/// [`crate::ui`]. They are compiled, and rendered once with sample data, by
/// [`OidcLayerBuilder::build`](crate::OidcLayerBuilder::build): an error is a
/// [`BuildError::Template`](crate::layer::BuildError::Template) naming the file and line.
///
/// ```
/// use tower_oidc::{OidcLayer, ui::PageTemplates};
/// let layer = OidcLayer::builder()
///     .base_url("http://127.0.0.1:3000")
///     .page_templates(PageTemplates::new().template(
///         "login.html",
///         r#"{% extends "base.html" %}{% block body %}<h1>Acme</h1>
///            {% for p in providers %}<a href="{{ p.login_url }}">{{ p.name }}</a>{% endfor %}
///            {% endblock %}"#,
///     ))
///     .build()
///     .unwrap();
/// # let _ = layer;
/// ```
#[derive(Clone, Default)]
pub struct PageTemplates {
    dir: Option<PathBuf>,
    strings: Vec<(String, String)>,
}

impl fmt::Debug for PageTemplates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageTemplates")
            .field("dir", &self.dir)
            .field(
                "strings",
                &self.strings.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl PageTemplates {
    /// No replacements: the built-in templates.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every `*.html` file of `dir` (not its subdirectories), by file name.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// One template from a string: `name` is how pages and other templates refer to it.
    pub fn template(mut self, name: impl Into<String>, source: impl Into<String>) -> Self {
        self.strings.push((name.into(), source.into()));
        self
    }
}

/// A page template that could not be read, compiled, or rendered with sample data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {file}{}: {message}", .line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct TemplateError {
    /// The file (its path, for one of [`PageTemplates::dir`]), or the name of a template given
    /// as a string, or `built-in <name>`.
    pub file: String,
    /// The line, when the error has one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// An environment with the pages' rules: HTML autoescaping for every template whatever its
/// name, printing an undefined value is an error, `none` prints as nothing.
pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            return Ok(());
        }
        if value.is_safe() || matches!(state.auto_escape(), AutoEscape::None) {
            return minijinja::escape_formatter(out, state, value);
        }
        // The crate's own escaping (which leaves `/` alone, unlike MiniJinja's), so that URLs
        // read as written.
        let text = match value.as_str() {
            Some(s) => crate::web::escape(s),
            None => crate::web::escape(&value.to_string()),
        };
        out.write_str(&text).map_err(minijinja::Error::from)
    });
    env
}

/// The built-in templates, compiled.
pub(crate) fn builtin() -> Environment<'static> {
    let mut env = environment();
    for (name, src) in BUILTIN {
        if let Err(e) = env.add_template(name, src) {
            // A bug of this crate, caught by its tests: the page falls back to plain text.
            tracing::error!(template = name, error = %e, "built-in template does not compile");
        }
    }
    env
}

/// The built-in templates with the app's replacements, compiled, and each page rendered with
/// `samples` (page name → contexts).
pub(crate) fn compile(
    t: &PageTemplates,
    samples: &[(&str, Value)],
) -> Result<Environment<'static>, TemplateError> {
    let mut env = builtin();
    let mut files: BTreeMap<String, String> = BUILTIN
        .iter()
        .map(|(n, _)| (n.to_string(), format!("built-in {n}")))
        .collect();
    let mut sources: Vec<(String, String, String)> = Vec::new();
    if let Some(dir) = &t.dir {
        let read_err = |e: std::io::Error, file: String| TemplateError {
            file,
            line: None,
            message: e.to_string(),
        };
        let entries = std::fs::read_dir(dir).map_err(|e| read_err(e, dir.display().to_string()))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "html"))
            .collect();
        paths.sort();
        for path in paths {
            let file = path.display().to_string();
            let src = std::fs::read_to_string(&path).map_err(|e| read_err(e, file.clone()))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            sources.push((name, file, src));
        }
    }
    for (name, src) in &t.strings {
        sources.push((name.clone(), name.clone(), src.clone()));
    }
    for (name, file, src) in sources {
        files.insert(name.clone(), file);
        env.add_template_owned(name, src)
            .map_err(|e| template_error(&e, &files))?;
    }
    for (name, ctx) in samples {
        env.get_template(name)
            .and_then(|tpl| tpl.render(ctx))
            .map_err(|e| template_error(&e, &files))?;
    }
    Ok(env)
}

/// A MiniJinja error as a [`TemplateError`], with the template's file.
fn template_error(e: &minijinja::Error, files: &BTreeMap<String, String>) -> TemplateError {
    let name = e.name().unwrap_or("?");
    TemplateError {
        file: files.get(name).cloned().unwrap_or_else(|| name.to_owned()),
        line: e.line(),
        message: match e.detail() {
            Some(d) => format!("{}: {d}", e.kind()),
            None => e.kind().to_string(),
        },
    }
}
