use super::error::Errs;
use super::interpolate::interpolate;
use super::raw::S;
use super::syntax::{duplicate_key_path, secret_on_line};
use super::*;

#[test]
fn builtin_registry_loads() {
    let p = Providers::empty()
        .with_toml_str("providers.toml", BUILTIN_PROVIDERS_TOML)
        .unwrap();
    let a = p.get("authentik").unwrap();
    assert_eq!(a.name, "Authentik");
    assert_eq!(
        a.issuer.as_ref().unwrap().as_str(),
        "{url}/application/o/{slug}/"
    );
}

#[test]
fn duplicate_key_paths_come_from_the_header_and_the_line() {
    let text = "[providers.a]\nname = \"A\"\n[providers.a]\nname = \"B\"\n";
    let second_header = text.rfind("[providers.a]").unwrap() + "[providers.".len();
    assert_eq!(
        duplicate_key_path(text, second_header),
        Some(vec!["providers".to_owned(), "a".to_owned()])
    );
    let last_name = text.rfind("name").unwrap();
    assert_eq!(
        duplicate_key_path(text, last_name),
        Some(vec!["providers".into(), "a".into(), "name".into()])
    );
}

#[test]
fn secret_lines_are_recognised() {
    let text = "[settings.a]\nclient_secret = \"abcdef\"\nurl = \"x\"\n";
    assert_eq!(secret_on_line(text, 2), Some("abcdef"));
    assert_eq!(secret_on_line(text, 3), None);
    assert_eq!(secret_on_line(text, 0), None);
}

#[test]
fn env_interpolation() {
    let env = |n: &str| (n == "A").then(|| "1".to_owned());
    let v = |s: &str| S::new(0..0, s.to_owned());
    let mut errs = Errs::new("f", "");
    assert_eq!(
        interpolate(&v("x${A}y${A}"), "p", &env, &mut errs).as_deref(),
        Some("x1y1")
    );
    assert_eq!(
        interpolate(&v("$${A}"), "p", &env, &mut errs).as_deref(),
        Some("${A}")
    );
    assert!(errs.is_empty());
    assert_eq!(interpolate(&v("${B}"), "p", &env, &mut errs), None);
    assert_eq!(interpolate(&v("${A"), "p", &env, &mut errs), None);
    assert_eq!(interpolate(&v("${a b}"), "p", &env, &mut errs), None);
    assert_eq!(errs.list.len(), 3);
}

#[test]
fn providers_debug_keeps_no_source_text() {
    let p = Providers::builtin()
        .with_toml_str(
            "f.toml",
            "# a comment that Debug must not show\n[providers.authentik]\nsort_order = 1\n",
        )
        .unwrap();
    assert!(!format!("{p:?}").contains("a comment that Debug must not show"));
}

#[test]
fn seed_sources_tell_env_references_from_literals() {
    let env = |name: &str| (name == "SECRET").then(|| "s3cret".to_owned());
    let p = Providers::builtin()
        .with_toml_str_env(
            "app.toml",
            r#"
[settings.authentik]
url = "https://auth.example.com"
client_id = "app-$${literal}"
client_secret = "prefix-${SECRET}"
[settings.authentik.params]
tenant = "${SECRET}"
"#,
            &env,
        )
        .unwrap();
    let src = |f: &str| p.seed_source("authentik", f);
    assert_eq!(src("url"), Some(SeedSource::File));
    assert_eq!(
        src("client_id"),
        Some(SeedSource::File),
        "`$${{` is a literal"
    );
    assert_eq!(src("client_secret"), Some(SeedSource::Environment));
    assert_eq!(src("params"), Some(SeedSource::Environment));
    assert_eq!(src("icon"), Some(SeedSource::File));
    assert_eq!(
        p.seeded_settings()["authentik"].client_id.as_deref(),
        Some("app-${literal}")
    );
    // A later file's table replaces the seeds, and their sources with them.
    let p = p
        .with_toml_str(
            "more.toml",
            "[settings.authentik]\nclient_secret = \"plain\"\n",
        )
        .unwrap();
    assert_eq!(
        p.seed_source("authentik", "client_secret"),
        Some(SeedSource::File)
    );
    assert_eq!(p.seed_source("nope", "url"), None);
}
