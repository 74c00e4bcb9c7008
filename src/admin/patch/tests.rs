//! Unit tests of the admin API's settings patches.
use super::*;
use crate::config::Providers;
use serde_json::json;

fn authentik() -> ProviderSpec {
    Providers::builtin().get("authentik").cloned().unwrap()
}

fn patch(v: Value) -> Result<(ProviderSettings, Vec<&'static str>), FieldError> {
    let mut s = ProviderSettings::default();
    let m = v.as_object().cloned().unwrap();
    apply_patch(&authentik(), &mut s, &m, false).map(|c| (s, c))
}

#[test]
fn every_field_is_validated_and_named() {
    for (body, field) in [
        (json!({"url": "ftp://x"}), "url"),
        (json!({"url": "http://auth.example.com"}), "url"),
        (json!({"scopes": ["profile"]}), "scopes"),
        (json!({"sort_order": 100000}), "sort_order"),
        (json!({"icon": "<b>"}), "icon"),
        (json!({"email_trust": "sometimes"}), "email_trust"),
        (json!({"par": "on"}), "par"),
        (
            json!({"admin_rules": {"groups": [""]}}),
            "admin_rules.groups[0]",
        ),
        (json!({"admin_rules": {"roles": []}}), "admin_rules.roles"),
        (
            json!({"admin_rules": {"email_domains": ["not a domain"]}}),
            "admin_rules.email_domains[0]",
        ),
        (json!({"slug": "token"}), "slug"),
        (json!({"enabled": "yes"}), "enabled"),
        (json!({"client_secret": ""}), "client_secret"),
        (json!({"name": "x"}), "name"),
        (json!({"issuerUrl": "https://x"}), "issuerUrl"),
        (json!({"params": {"url": "x"}}), "params.url"),
    ] {
        let e = patch(body.clone()).unwrap_err();
        assert_eq!(e.field, field, "{body}: {}", e.message);
    }
    let (s, changed) = patch(json!({
        "url": "https://auth.example.com", "sort_order": 3, "icon": "FaKey",
        "admin_rules": {"email_domains": ["@Example.COM"]}, "client_secret": "x"
    }))
    .unwrap();
    assert_eq!(s.admin_rules.email_domains, vec!["example.com"]);
    assert_eq!(changed.len(), 5);
}
