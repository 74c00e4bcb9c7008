//! `tower-oidc explain` and `tower-oidc init`, run as the built binary, against golden files:
//! the output must equal `tests/golden/<name>.txt` byte for byte. After an intended change,
//! regenerate them with `UPDATE_GOLDEN=1 cargo test --test cli_explain` and review the diff.
//! The skeletons `init` writes must load with the parser and validate against the schema.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use tower_oidc::config::Providers;

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{name}: the output differs from {} (regenerate with UPDATE_GOLDEN=1 cargo test --test \
         cli_explain if the change is intended).\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// Runs `tower-oidc ARGS` in a directory holding `app.toml` = `file`; its stdout.
fn run(file: Option<&str>, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    if let Some(text) = file {
        std::fs::write(dir.path().join("app.toml"), text).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tower-oidc"))
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    assert!(out.stderr.is_empty(), "{args:?}: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

const APP_URL: [&str; 2] = ["--app-url", "https://app.example.com"];

fn explain(file: &str) -> String {
    let out = run(Some(file), &["explain", "app.toml", APP_URL[0], APP_URL[1]]);
    assert!(!out.contains("s3cr3t"), "a secret was printed:\n{out}");
    out
}

#[test]
fn explain_authentik_with_the_instance_url() {
    let out = explain(
        "[settings.authentik]\nenabled = true\nurl = \"https://auth.example.com\"\n\
         client_id = \"palmr\"\nclient_secret = \"s3cr3t\"\n",
    );
    golden("explain-authentik-instance-url", &out);
}

#[test]
fn explain_authentik_with_the_issuer_url() {
    let out = explain(
        "[settings.authentik]\nenabled = true\n\
         url = \"https://auth.example.com/application/o/palmr/\"\n\
         client_id = \"palmr\"\nclient_secret = \"s3cr3t\"\nemail_trust = \"never\"\n\
         [settings.authentik.admin]\ngroups = [\"authentik Admins\"]\n",
    );
    golden("explain-authentik-issuer-url", &out);
}

#[test]
fn explain_github_plain_oauth2_with_fetch() {
    let out = explain(
        "[settings.github]\nenabled = true\nclient_id = \"Iv1.abc\"\nclient_secret = \"s3cr3t\"\n",
    );
    golden("explain-github", &out);
}

#[test]
fn explain_a_custom_oidc_provider() {
    let out = explain(
        r#"[providers.corp]
name = "Corp SSO"
issuer = "{url}/realms/{realm}"
token_auth = "client_secret_post"
signing_algs = ["RS256"]

[providers.corp.claims]
name = ["name", "{given_name} {family_name}"]
groups = "realm_access.roles"
email = ["emails[primary=true].value", "email"]

[providers.corp.claims.extra]
tenant = ["tenant_id", "tid"]

[settings.corp]
enabled = true
url = "https://sso.corp.example"
client_id = "app"
scopes = ["openid", "email"]

[settings.corp.params]
realm = "staff"
"#,
    );
    golden("explain-custom-oidc", &out);
}

#[test]
fn explain_says_where_par_comes_from() {
    let par_line = |file: &str| {
        let out = explain(file);
        out.lines()
            .find(|l| l.trim_start().starts_with("PAR:"))
            .map(|l| l["  PAR:".len()..].trim().to_owned())
            .unwrap_or_else(|| panic!("no PAR line:\n{out}"))
    };
    let on = par_line("[providers.authentik]\npar = true\n");
    assert!(on.starts_with("on (the spec's par)"), "{on}");
    let off = par_line("[providers.authentik]\npar = true\n[settings.authentik]\npar = false\n");
    assert!(
        off.starts_with("off ([settings] par), unless the provider requires it"),
        "{off}"
    );
    let on = par_line("[settings.authentik]\npar = true\n");
    assert!(on.starts_with("on ([settings] par)"), "{on}");
    // A plain OAuth 2.0 provider has no PAR line (no discovery to advertise it).
    let out = explain("[settings.github]\nclient_id = \"x\"\n");
    assert!(!out.contains("PAR:"), "{out}");
}

#[test]
fn explain_one_provider_with_a_prefix_and_without_an_app_url() {
    let file = "[providers.authentik]\nsort_order = 1\n";
    let out = run(
        Some(file),
        &["explain", "app.toml", "authentik", "--prefix", "/auth"],
    );
    assert!(out.starts_with("[authentik] Authentik"), "{out}");
    assert!(
        out.contains("{APP_URL}/auth/providers/authentik/callback"),
        "{out}"
    );
    assert!(out.contains("{url}/application/o/token/"), "{out}");
}

#[test]
fn init_golden_outputs() {
    golden("init-authentik", &run(None, &["init", "authentik"]));
    golden("init-github", &run(None, &["init", "github"]));
    golden(
        "init-generic-oidc",
        &run(None, &["init", "generic-oidc", "corp"]),
    );
}

/// A stand-in environment: `*_URL` variables are URLs, the others plain names.
fn env(name: &str) -> Option<String> {
    Some(if name.ends_with("_URL") {
        "https://idp.example.com".into()
    } else {
        "value".into()
    })
}

#[test]
fn every_init_skeleton_loads_and_validates_against_the_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/providers.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("file:///s.json", schema).unwrap();
    let idx = compiler.compile("file:///s.json", &mut schemas).unwrap();
    let mut args: Vec<Vec<String>> = Providers::builtin()
        .iter()
        .map(|s| vec![s.id.clone()])
        .collect();
    args.push(vec!["generic-oidc".into(), "corp".into()]);
    args.push(vec!["generic-oauth2".into(), "forge".into()]);
    for a in args {
        let argv: Vec<&str> = a.iter().map(String::as_str).collect();
        let text = tower_oidc::admin::init::skeleton(&argv).unwrap();
        let id = argv.last().unwrap();
        let p = Providers::builtin()
            .with_toml_str_env("init.toml", &text, &env)
            .unwrap_or_else(|e| panic!("init {argv:?} does not load:\n{e}\n{text}"));
        assert!(p.seeded_settings()[*id].enabled, "{argv:?}");
        let json: Value = toml::from_str(&text).unwrap();
        if let Err(e) = schemas.validate(&json, idx) {
            panic!("init {argv:?} does not validate: {e:#}");
        }
    }
}

#[test]
fn init_refuses_unknown_and_clashing_names() {
    for args in [
        vec!["saml"],
        vec!["generic-oidc"],
        vec!["generic-oidc", "Corp"],
        vec!["generic-oidc", "authentik"],
        vec![],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_tower-oidc"))
            .arg("init")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
