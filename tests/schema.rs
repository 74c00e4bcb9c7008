//! The JSON Schema of `providers.toml` (`schema/providers.schema.json`): it is the one the
//! parser's types generate, every example of the repository validates against it, and it refuses
//! what the parser refuses (unknown keys, values outside a closed set, malformed templates).
//!
//! Regenerate the committed file with `UPDATE_SCHEMA=1 cargo test --test schema` (or
//! `tower-oidc schema > schema/providers.schema.json`).

use std::path::{Path, PathBuf};

use serde_json::Value;
use tower_oidc::config::{Providers, json_schema, json_schema_string};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The committed schema, compiled.
fn validator() -> (boon::Schemas, boon::SchemaIndex) {
    let text = std::fs::read_to_string(root().join("schema/providers.schema.json"))
        .expect("schema/providers.schema.json exists");
    let schema: Value = serde_json::from_str(&text).expect("the committed schema is JSON");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let loc = "file:///providers.schema.json";
    compiler.add_resource(loc, schema).unwrap();
    let idx = compiler
        .compile(loc, &mut schemas)
        .unwrap_or_else(|e| panic!("the schema is not a valid draft-07 schema: {e:#}"));
    (schemas, idx)
}

/// `Ok` when the TOML text validates against the committed schema, else the validator's words.
fn schema_check(text: &str) -> Result<(), String> {
    let instance: Value = toml::from_str(text).map_err(|e| format!("not TOML: {e}"))?;
    let (schemas, idx) = validator();
    schemas
        .validate(&instance, idx)
        .map_err(|e| format!("{e:#}"))
}

/// The parser's verdict, with `${VAR}` references resolved to a placeholder.
fn parser_check(name: &str, text: &str) -> Result<Providers, String> {
    let env = |_: &str| Some("from-env".to_owned());
    Providers::builtin()
        .with_toml_str_env(name, text, &env)
        .map_err(|e| e.to_string())
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let path = root().join("schema/providers.schema.json");
    let generated = json_schema_string();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/providers.schema.json is not what the parser's types generate (a key, a doc \
         comment or an example changed). Regenerate it with `UPDATE_SCHEMA=1 cargo test --test \
         schema` (or `tower-oidc schema > schema/providers.schema.json`) and commit it."
    );
}

#[test]
fn every_key_has_a_description_and_an_example() {
    let schema = json_schema();
    let mut tables = vec![("(top level)".to_owned(), &schema)];
    for (name, def) in schema["definitions"].as_object().unwrap() {
        tables.push((name.clone(), def));
    }
    let mut keys = 0;
    for (table, def) in tables {
        let Some(props) = def.get("properties").and_then(Value::as_object) else {
            continue;
        };
        assert_eq!(
            def["additionalProperties"], false,
            "{table}: unknown keys must be refused"
        );
        for (key, p) in props {
            keys += 1;
            let desc = p["description"].as_str().unwrap_or("");
            assert!(desc.len() > 10, "{table}.{key} has no description");
            assert!(
                p["examples"].as_array().is_some_and(|e| !e.is_empty()),
                "{table}.{key} has no example"
            );
        }
    }
    assert!(keys >= 50, "only {keys} keys");
}

#[test]
fn closed_sets_are_enums_and_templates_have_a_pattern() {
    let s = json_schema();
    let d = &s["definitions"];
    assert_eq!(d["Protocol"]["enum"], serde_json::json!(["oidc", "oauth2"]));
    assert_eq!(
        d["TokenAuth"]["enum"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "apple_client_secret_jwt"
        ])
    );
    assert_eq!(
        d["ResponseMode"]["enum"],
        serde_json::json!(["query", "form_post"])
    );
    assert_eq!(d["Pkce"]["enum"], serde_json::json!(["S256", "none"]));
    assert_eq!(
        d["EmailTrust"]["enum"],
        serde_json::json!(["verified_claim", "always", "never"])
    );
    for key in ["issuer", "discovery", "token_endpoint", "jwks_uri"] {
        assert!(
            d["Provider"]["properties"][key]["pattern"].is_string(),
            "{key}"
        );
    }
}

#[test]
fn the_builtin_providers_toml_validates() {
    let text = std::fs::read_to_string(root().join("providers.toml")).unwrap();
    assert!(
        text.starts_with("#:schema ./schema/providers.schema.json\n"),
        "the built-in providers.toml names its schema for editors"
    );
    schema_check(&text).unwrap();
}

/// The ```toml blocks of a Markdown file that are `providers.toml` text (not a Cargo.toml).
fn toml_examples(file: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = Vec::new();
    let mut block: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut block {
            None if line.trim_start().starts_with("```toml") => {
                block = Some((i + 1, String::new()))
            }
            None => {}
            Some(_) if line.trim_start().starts_with("```") => {
                let (at, body) = block.take().unwrap();
                if !body.contains("[dependencies]") {
                    out.push((at, body));
                }
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    out
}

#[test]
fn the_examples_of_the_readme_and_the_reference_validate() {
    let mut checked = 0;
    for doc in ["README.md", "docs/providers-toml.md"] {
        for (line, body) in toml_examples(&root().join(doc)) {
            // A fragment of keys without a table (the reference quotes Authentik's templates) is
            // read as the body of `[providers.authentik]`.
            let text = if body.lines().any(|l| l.trim_start().starts_with('[')) {
                body
            } else {
                format!("[providers.authentik]\n{body}")
            };
            let at = format!("{doc}:{line}");
            schema_check(&text).unwrap_or_else(|e| panic!("{at}: the schema refuses it: {e}"));
            parser_check(&at, &text).unwrap_or_else(|e| panic!("{at}: the parser refuses it: {e}"));
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} examples found");
}

#[test]
fn what_the_parser_refuses_the_schema_refuses() {
    let refused = [
        (
            "an unknown top-level table",
            "[provider.corp]\nname = \"Corp\"\n",
        ),
        (
            "an unknown key of a provider",
            "[providers.authentik]\nisuer = \"https://auth.example.com/\"\n",
        ),
        (
            "an unknown claim",
            "[providers.authentik.claims]\nmail = \"email\"\n",
        ),
        (
            "an unknown key of a fetch",
            "[providers.github.fetch.orgs]\nurl = \"{api}/user/orgs\"\nmethod = \"GET\"\n",
        ),
        (
            "an unknown settings key",
            "[settings.authentik]\nclient_secert = \"x\"\n",
        ),
        (
            "an unknown admin-rule key",
            "[settings.authentik.admin]\nroles = [\"admin\"]\n",
        ),
        (
            "a protocol outside the set",
            "[providers.authentik]\nprotocol = \"saml\"\n",
        ),
        (
            "a client auth method outside the set",
            "[providers.authentik]\ntoken_auth = \"client_secret_jwt\"\n",
        ),
        (
            "a PKCE mode outside the set",
            "[providers.authentik]\npkce = \"plain\"\n",
        ),
        (
            "an email trust outside the set",
            "[settings.authentik]\nemail_trust = \"sometimes\"\n",
        ),
        (
            "an upper-case placeholder",
            "[providers.authentik]\ntoken_endpoint = \"{URL}/token\"\n",
        ),
        (
            "adjacent placeholders",
            "[providers.authentik]\ntoken_endpoint = \"{url}{path}\"\n",
        ),
        (
            "an unclosed placeholder",
            "[providers.authentik]\nissuer = \"{url\"\n",
        ),
        (
            "an upper-case provider id",
            "[providers.Corp]\nname = \"Corp\"\nissuer = \"https://sso.corp.example\"\n",
        ),
        (
            "an unknown signing algorithm",
            "[providers.authentik]\nsigning_algs = [\"none\"]\n",
        ),
        (
            "a wrong type",
            "[providers.authentik]\nsort_order = \"first\"\n",
        ),
        (
            "a scope with a space",
            "[settings.authentik]\nscopes = [\"openid email\"]\n",
        ),
    ];
    for (what, text) in refused {
        assert!(
            parser_check("bad.toml", text).is_err(),
            "the parser accepts {what}"
        );
        assert!(
            schema_check(text).is_err(),
            "the schema accepts {what}:\n{text}"
        );
    }
    let accepted = "[providers.corp]\nname = \"Corp\"\nissuer = \"{url}/realms/{realm}\"\n\
                    [providers.corp.claims]\nname = [\"name\", \"{given_name} {family_name}\"]\n\
                    [settings.corp]\nurl = \"https://sso.corp.example\"\nparams = { realm = \"staff\" }\n";
    parser_check("good.toml", accepted).unwrap();
    schema_check(accepted).unwrap();
}
