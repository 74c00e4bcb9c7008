//! Configuration errors, each naming the file, line, column and key path.

use std::fmt;

/// One configuration error.
///
/// ```
/// use tower_oidc::config::Providers;
/// let err = Providers::builtin()
///     .with_toml_str("my.toml", "[providers.authentik]\nisuer = \"x\"\n")
///     .unwrap_err();
/// let e = &err.errors()[0];
/// assert_eq!((e.file.as_str(), e.line, e.column), ("my.toml", 2, 1));
/// assert!(e.to_string().contains("isuer"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or source name) the error is in.
    pub file: String,
    /// 1-based line (0 when the error has no position, e.g. a missing file).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The key path, e.g. `providers.authentik.issuer`.
    pub path: String,
    /// What is wrong, and what was expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        } else {
            write!(f, "{}: ", self.file)?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Every error found in a configuration (loading does not stop at the first one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub(crate) Vec<ConfigError>);

impl ConfigErrors {
    /// The one error of a file that could not be read (no position).
    pub(crate) fn unreadable(file: &str, e: &std::io::Error) -> ConfigErrors {
        ConfigErrors::unplaced(file, format!("cannot read: {e}"))
    }

    /// One error about `file` as a whole (no position).
    pub(crate) fn unplaced(file: &str, message: String) -> ConfigErrors {
        ConfigErrors(vec![ConfigError {
            file: file.to_owned(),
            line: 0,
            column: 0,
            path: String::new(),
            message,
        }])
    }

    /// The errors, in file order.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Line and column (1-based, column in characters) of byte offset `pos` in `text`.
pub(crate) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(text.len());
    let before = text.get(..pos).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// Collects errors with positions in one file.
pub(super) struct Errs<'a> {
    pub(super) file: String,
    pub(super) text: &'a str,
    pub(super) list: Vec<ConfigError>,
}

impl<'a> Errs<'a> {
    pub(super) fn new(file: &str, text: &'a str) -> Self {
        Errs {
            file: file.to_owned(),
            text,
            list: Vec::new(),
        }
    }
    pub(super) fn at(&mut self, span: std::ops::Range<usize>, path: &str, msg: impl Into<String>) {
        let (line, column) = line_col(self.text, span.start);
        self.list.push(ConfigError {
            file: self.file.clone(),
            line,
            column,
            path: path.to_owned(),
            message: msg.into(),
        });
    }
    /// An error in another file (or this one) at an already computed position.
    pub(super) fn at_pos(
        &mut self,
        file: &str,
        pos: (usize, usize),
        path: &str,
        msg: impl Into<String>,
    ) {
        self.list.push(ConfigError {
            file: file.to_owned(),
            line: pos.0,
            column: pos.1,
            path: path.to_owned(),
            message: msg.into(),
        });
    }
    /// `isuer = …` makes `issuer` missing too; the unknown-key error already says "did you
    /// mean `issuer`?", so the "missing required key `issuer`" one is noise.
    pub(super) fn drop_missing_explained_by_typos(&mut self) {
        let hints: Vec<(String, String)> = self
            .list
            .iter()
            .filter_map(|e| {
                let (_, rest) = e.message.split_once("did you mean `")?;
                let (key, _) = rest.split_once('`')?;
                let (table, _) = e.path.rsplit_once('.')?;
                Some((table.to_owned(), key.to_owned()))
            })
            .collect();
        self.list.retain(|e| {
            !hints.iter().any(|(table, key)| {
                e.path == *table
                    && e.message
                        .starts_with(&format!("missing required key `{key}`"))
            })
        });
    }
    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    pub(super) fn into_errors(mut self) -> ConfigErrors {
        self.list
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        self.list.dedup();
        ConfigErrors(self.list)
    }
}

#[cfg(test)]
mod tests {
    use super::line_col;

    #[test]
    fn positions() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 3), (2, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
    }
}
