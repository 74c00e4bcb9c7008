//! The crate's shape, checked: dependencies between the top-level modules of `src/` point one
//! way (the layers of ARCHITECTURE.md), no library file grows past what one reader holds in
//! mind, and ARCHITECTURE.md names only paths that exist.
//!
//! The import graph is read from the source text: every `crate::<module>` path outside comments
//! is an edge from the module of the file it stands in.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, highest first. A module may use only modules of a strictly lower layer.
const LAYERS: &[&[&str]] = &[
    &["__bench"],
    &["adapters"],
    &["layer"],
    &["engine"],
    &["admin", "ui"],
    &["session"],
    &["flow"],
    &["identity"],
    &["provider", "testing"],
    &["store"],
    &["config", "web"],
    &["error", "util", "observe"],
];

/// Library files allowed past the line limit: test-only modules.
const LONG_FILES_ALLOWED: &[&str] = &[
    "src/config/tests.rs",
    "src/identity/tests.rs",
    "src/provider/fastkey/differential.rs",
];

/// Most lines in one library file.
const MAX_LINES: usize = 450;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for `lib.rs` and the binaries).
fn module_of(rel: &Path) -> Option<String> {
    let mut parts = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    let first = parts.next()?;
    match (first.as_str(), parts.next()) {
        ("lib.rs", None) | ("bin", _) => None,
        ("bench_api.rs", None) => Some("__bench".into()),
        (f, None) => Some(f.trim_end_matches(".rs").to_owned()),
        (dir, Some(_)) => Some(dir.to_owned()),
    }
}

/// The code of a file without its comments (line comments, doc comments and block comments),
/// keeping string literals as they are.
fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let (mut i, mut depth, mut in_str) = (0, 0usize, false);
    while i < b.len() {
        let c = b[i];
        if depth > 0 {
            if b[i..].starts_with(b"*/") {
                depth -= 1;
                i += 2;
            } else if b[i..].starts_with(b"/*") {
                depth += 1;
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        if in_str {
            out.push(c as char);
            if c == b'\\' && i + 1 < b.len() {
                out.push(b[i + 1] as char);
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            depth = 1;
            i += 2;
        } else {
            if c == b'"' {
                in_str = true;
            }
            out.push(c as char);
            i += 1;
        }
    }
    out
}

/// `crate::<name>` references in code.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `my_crate::`
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// Module → the modules it uses, with one file per edge as evidence.
fn import_graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap_or(&f).to_path_buf();
        let Some(module) = module_of(&rel) else {
            continue;
        };
        let code = strip_comments(&std::fs::read_to_string(&f).unwrap());
        let edges = graph.entry(module.clone()).or_default();
        for r in crate_refs(&code) {
            if r != module {
                edges
                    .entry(r)
                    .or_insert_with(|| format!("src/{}", rel.display()));
            }
        }
    }
    graph
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// A cycle in `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeMap<String, String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_owned(), 1);
        stack.push(n.to_owned());
        for next in graph
            .get(n)
            .map(|e| e.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            match state.get(&next).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|s| *s == next).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next);
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(&next, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n).copied().unwrap_or(0) == 0
            && let Some(c) = visit(n, graph, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let graph = import_graph();
    assert!(graph.len() >= 10, "the graph was not read: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import cycle between top-level modules: {}",
            cycle.join(" → ")
        );
    }
}

#[test]
fn every_dependency_points_down_the_layers_of_architecture_md() {
    let graph = import_graph();
    let mut wrong = Vec::new();
    for (from, edges) in &graph {
        let Some(lf) = layer_of(from) else {
            wrong.push(format!(
                "module `{from}` has no layer in tests/architecture.rs (and ARCHITECTURE.md)"
            ));
            continue;
        };
        for (to, file) in edges {
            match layer_of(to) {
                Some(lt) if lt > lf => {}
                Some(_) => wrong.push(format!("`{from}` uses `{to}` ({file}), which is not below it")),
                None => wrong.push(format!("`{from}` uses `crate::{to}` ({file}): not a module with a layer (use the module path, not a root re-export)")),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_graph_reader_sees_real_and_ignores_commented_imports() {
    let code = strip_comments(
        "use crate::store::User; // crate::engine\n/* crate::layer */ let s = \"crate::ui\"; a_crate::x; crate::web::escape(s);",
    );
    let refs = crate_refs(&code);
    // String contents are kept (a path in a string is rare and harmless to over-count).
    assert_eq!(
        refs,
        ["store", "ui", "web"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let mut g: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    g.entry("a".into())
        .or_default()
        .insert("b".into(), "x".into());
    g.entry("b".into())
        .or_default()
        .insert("c".into(), "x".into());
    assert_eq!(find_cycle(&g), None);
    g.entry("c".into())
        .or_default()
        .insert("a".into(), "x".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn no_library_file_is_longer_than_450_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut long = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let lines = std::fs::read_to_string(&f).unwrap().lines().count();
        if lines > MAX_LINES && !LONG_FILES_ALLOWED.contains(&rel.as_str()) {
            long.push(format!("{rel}: {lines} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "split these files (at most {MAX_LINES} lines):\n{}",
        long.join("\n")
    );
}

#[test]
fn architecture_md_names_only_paths_that_exist() {
    let doc =
        std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md exists");
    let mut checked = 0;
    let mut missing = Vec::new();
    for (i, piece) in doc.split('`').enumerate() {
        // Inside backticks: a repository path is a word with a slash or a known file ending,
        // starting at a top-level folder or file of the repository.
        if i % 2 == 0 || piece.contains(' ') || piece.contains('{') || piece.contains("::") {
            continue;
        }
        let p = piece.trim_end_matches('/');
        let top = p.split('/').next().unwrap_or("");
        let is_path = [
            "src",
            "tests",
            "examples",
            "benches",
            "docs",
            "fuzz",
            "migrations",
            ".ci",
        ]
        .contains(&top)
            || [
                "README.md",
                "SECURITY.md",
                "BENCHMARKS.md",
                "ARCHITECTURE.md",
                "providers.toml",
                "Cargo.toml",
            ]
            .contains(&p);
        if !is_path {
            continue;
        }
        checked += 1;
        if !root().join(p).exists() {
            missing.push(p.to_owned());
        }
    }
    assert!(checked >= 20, "ARCHITECTURE.md names only {checked} paths");
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}

#[test]
fn no_file_of_the_crate_refers_outside_the_repository() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "examples", "benches", "docs", "fuzz"] {
        rust_files(&root().join(dir), &mut files);
    }
    for md in [
        "README.md",
        "SECURITY.md",
        "BENCHMARKS.md",
        "ARCHITECTURE.md",
        "docs/providers-toml.md",
        "docs/security-matrix.md",
    ] {
        files.push(root().join(md));
    }
    let mut bad = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for needle in ["../shared", "DESIGN.md", "reference/security-matrix.md"] {
            if text.contains(needle) && !f.ends_with("tests/architecture.rs") {
                bad.push(format!("{} mentions `{needle}`", f.display()));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
