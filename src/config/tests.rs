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
