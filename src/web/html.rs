//! HTML escaping and the shell of the built-in pages.

/// Escapes text for HTML (element content and quoted attribute values).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// A minimal, self-contained HTML page (no external resources). `body` is trusted HTML; the
/// title is escaped.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}}a.button,button{{display:block;width:100%;box-sizing:border-box;padding:.7rem 1rem;margin:.5rem 0;border:1px solid #888;border-radius:.4rem;background:#fff;font-size:1rem;text-align:left;text-decoration:none;color:inherit;cursor:pointer}}.error{{border-left:4px solid #c62828;background:#fdecea;padding:.6rem 1rem}}.muted{{color:#555}}</style></head><body>{}</body></html>",
        escape(title),
        body
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            super::escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
        assert!(super::page("<t>", "<p>b</p>").contains("<title>&lt;t&gt;</title>"));
    }
}
