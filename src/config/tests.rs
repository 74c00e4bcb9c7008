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
