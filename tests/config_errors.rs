//! Issue 2 acceptance: every class of `providers.toml` error, pinned to its file, line, column
//! (1-based, in characters), key path and a fragment of its message; plus merging, defaults,
//! `${ENV}` settings and secret redaction. Security-matrix cases are named in the comments (T1…).

use std::io::Write;

use tower_oidc::config::{
    ConfigError, ConfigErrors, MAX_CONFIG_BYTES, Origin, ProviderSettings, Providers,
};
use tower_oidc::provider::ResolvedProvider;

const FILE: &str = "app.toml";

/// The environment the tests see: only these variables are set.
fn env(name: &str) -> Option<String> {
    match name {
        "AUTHENTIK_CLIENT_SECRET" => Some("env-secret-7f3a9c".into()),
        "EMPTY_SECRET" => Some(String::new()),
        "AUTHENTIK_URL" => Some("https://auth.example.com".into()),
        _ => None,
    }
}

fn load(text: &str) -> Result<Providers, ConfigErrors> {
    Providers::builtin().with_toml_str_env(FILE, text, &env)
}

fn errors(text: &str) -> Vec<ConfigError> {
    match load(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.errors().to_vec(),
    }
}

/// Asserts that `text` fails with exactly one error, at `(line, column, path)`, whose message
/// contains `fragment`.
#[track_caller]
fn one_error(text: &str, line: usize, column: usize, path: &str, fragment: &str) -> ConfigError {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "expected one error, got: {errs:#?}");
    let e = errs.into_iter().next().unwrap();
    assert_pinned(&e, line, column, path, fragment);
    e
}

#[track_caller]
fn assert_pinned(e: &ConfigError, line: usize, column: usize, path: &str, fragment: &str) {
    assert_eq!(
        (e.file.as_str(), e.line, e.column, e.path.as_str()),
        (FILE, line, column, path),
        "position of {e:?}"
    );
    assert!(
        e.message.contains(fragment),
        "message `{}` lacks `{fragment}`",
        e.message
    );
}

const X: &str = "[providers.x]\nname = \"X\"\n";

// ---------------------------------------------------------------------------------------------
// T1: syntax, BOM, encoding, size

#[test]
fn syntax_error_unclosed_table_header() {
    one_error("[providers.x\nname = 1\n", 1, 13, "", "unclosed table");
}

#[test]
fn syntax_error_unquoted_string() {
    one_error(
        "[providers.authentik]\nname = Authentik\n",
        2,
        8,
        "",
        "string values must be quoted",
    );
}

#[test]
fn syntax_error_after_bom_counts_columns_without_the_bom() {
    one_error("\u{feff}[providers.x\n", 1, 13, "", "unclosed table");
}

#[test]
fn bom_prefixed_file_loads_and_positions_ignore_the_bom() {
    let p = load("\u{feff}[providers.authentik]\nsort_order = 3\n").unwrap();
    assert_eq!(p.get("authentik").unwrap().sort_order, 3);
    one_error(
        "\u{feff}[providers.authentik]\nisuer = \"x\"\n",
        2,
        1,
        "providers.authentik.isuer",
        "unknown key `isuer`",
    );
}

#[test]
fn bom_prefixed_file_on_disk_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bom.toml");
    std::fs::write(&path, "\u{feff}[providers.authentik]\nsort_order = 2\n").unwrap();
    let p = Providers::from_toml_file(&path).unwrap();
    assert_eq!(p.get("authentik").unwrap().sort_order, 2);
}

#[test]
fn non_utf8_file_is_rejected_at_the_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"[providers.authentik]\nname = \"Authentik \xe9\"\n").unwrap();
    let err = Providers::from_toml_file(&path).unwrap_err();
    let e = &err.errors()[0];
    assert_eq!(err.errors().len(), 1);
    assert_eq!((e.line, e.column), (2, 19));
    assert_eq!(e.file, path.display().to_string());
    assert!(e.message.contains("not valid UTF-8"), "{}", e.message);
    assert!(e.message.contains("0xe9"), "{}", e.message);
}

#[test]
fn file_larger_than_one_mib_hits_the_size_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.toml");
    let mut f = std::fs::File::create(&path).unwrap();
    let line = format!("# {}\n", "x".repeat(1000));
    for _ in 0..(10 * 1024) {
        f.write_all(line.as_bytes()).unwrap(); // 10 MB of comments
    }
    drop(f);
    let err = Providers::from_toml_file(&path).unwrap_err();
    assert_eq!(err.errors().len(), 1);
    assert!(err.errors()[0].message.contains("1048576-byte limit"));

    // The same cap applies to text handed over directly.
    let text = "#".repeat(MAX_CONFIG_BYTES + 1);
    let e = one_error(&text, 1, 1, "", "1048576-byte limit");
    assert_eq!(e.file, FILE);
}

#[test]
fn missing_file_names_the_file() {
    let err = Providers::from_toml_file("/nonexistent/providers.toml").unwrap_err();
    let e = &err.errors()[0];
    assert_eq!(e.file, "/nonexistent/providers.toml");
    assert!(e.message.contains("cannot read"), "{}", e.message);
}

// ---------------------------------------------------------------------------------------------
// T2: unknown keys and typos point at the key, with its table's path

#[test]
fn unknown_key_isuer_in_provider_points_at_the_key() {
    one_error(
        "[providers.authentik]\nname = \"A\"\n  isuer = \"https://a.example/\"\n",
        3,
        3,
        "providers.authentik.isuer",
        "unknown key `isuer`; did you mean `issuer`?",
    );
}

#[test]
fn unknown_key_client_secert_in_settings_points_at_the_key() {
    one_error(
        "[settings.authentik]\nurl = \"https://auth.example.com\"\n    client_secert = \"x\"\n",
        3,
        5,
        "settings.authentik.client_secert",
        "unknown key `client_secert`; did you mean `client_secret`?",
    );
}

#[test]
fn unknown_key_in_claims_table() {
    one_error(
        "[providers.authentik.claims]\nusername = \"sub\"\nemial = \"mail\"\n",
        3,
        1,
        "providers.authentik.claims.emial",
        "did you mean `email`?",
    );
}

#[test]
fn unknown_key_in_inline_claims_table_counts_characters() {
    // `ñ` and `é` are two bytes each; the column counts characters.
    one_error(
        "[providers.authentik]\nclaims = { name = \"ñamé\", emial = \"x\" }\n",
        2,
        27,
        "providers.authentik.claims.emial",
        "unknown key `emial`",
    );
}

#[test]
fn unknown_key_in_admin_table() {
    one_error(
        "[settings.authentik.admin]\ngroup = [\"admins\"]\n",
        2,
        1,
        "settings.authentik.admin.group",
        "did you mean `groups`?",
    );
}

#[test]
fn unknown_top_level_table() {
    one_error(
        "[provider.authentik]\nname = \"A\"\n",
        1,
        2,
        "provider",
        "did you mean `providers`?",
    );
}

#[test]
fn every_unknown_key_in_a_file_is_reported() {
    let errs = errors(
        "[providers.authentik]\nisuer = \"x\"\nicn = \"y\"\n[settings.authentik]\nclient_secert = \"z\"\n",
    );
    let got: Vec<(usize, usize, &str)> = errs
        .iter()
        .map(|e| (e.line, e.column, e.path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, 1, "providers.authentik.isuer"),
            (3, 1, "providers.authentik.icn"),
            (5, 1, "settings.authentik.client_secert"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Wrong types

#[test]
fn wrong_type_sort_order_string() {
    one_error(
        "[providers.authentik]\nsort_order = \"x\"\n",
        2,
        14,
        "providers.authentik.sort_order",
        "expected an integer",
    );
}

#[test]
fn wrong_type_enum_value() {
    one_error(
        "[providers.authentik]\nprotocol = \"saml\"\n",
        2,
        12,
        "providers.authentik.protocol",
        "unknown variant `saml`, expected `oidc` or `oauth2`",
    );
}

#[test]
fn wrong_type_claim_mapping() {
    one_error(
        "[providers.authentik.claims]\nemail = 3\n",
        2,
        9,
        "providers.authentik.claims.email",
        "expected a claim name or a list of claim names",
    );
}

#[test]
fn wrong_type_provider_is_not_a_table() {
    one_error(
        "[providers]\nauthentik = 3\n",
        2,
        13,
        "providers.authentik",
        "expected a table",
    );
}

#[test]
fn wrong_type_in_two_tables_both_reported() {
    let errs = errors(
        "[providers.authentik]\nsort_order = \"x\"\n[settings.authentik]\nenabled = \"yes\"\n",
    );
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert_pinned(
        &errs[0],
        2,
        14,
        "providers.authentik.sort_order",
        "expected an integer",
    );
    assert_pinned(
        &errs[1],
        4,
        11,
        "settings.authentik.enabled",
        "expected a boolean",
    );
}

// ---------------------------------------------------------------------------------------------
// T3: missing required keys point at the provider's table header

#[test]
fn missing_name_points_at_the_table_header() {
    one_error(
        "[providers.corp]\nissuer = \"https://sso.corp.example/\"\n",
        1,
        12,
        "providers.corp",
        "missing required key `name`",
    );
}

#[test]
fn empty_name_points_at_the_value() {
    one_error(
        "[providers.corp]\nname = \" \"\nissuer = \"https://sso.corp.example/\"\n",
        2,
        8,
        "providers.corp.name",
        "must not be empty",
    );
}

#[test]
fn missing_issuer_for_oidc() {
    one_error(
        "\n[providers.corp]\nname = \"Corp\"\n",
        2,
        12,
        "providers.corp",
        "missing required key `issuer`",
    );
}

#[test]
fn missing_endpoints_for_oauth2() {
    let errs = errors(
        "[providers.gh]\nname = \"GitHub\"\nprotocol = \"oauth2\"\ntoken_endpoint = \"https://gh.example/token\"\n",
    );
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert_pinned(
        &errs[0],
        1,
        12,
        "providers.gh",
        "missing required key `authorization_endpoint`",
    );
    assert_pinned(
        &errs[1],
        1,
        12,
        "providers.gh",
        "missing required key `userinfo_endpoint`",
    );
}

#[test]
fn enabled_settings_without_client_id() {
    one_error(
        "[settings.authentik]\nenabled = true\nurl = \"https://auth.example.com\"\n",
        1,
        11,
        "settings.authentik",
        "missing required key `client_id`",
    );
}

#[test]
fn enabled_settings_without_url_when_the_spec_needs_one() {
    one_error(
        "[settings.authentik]\nenabled = true\nclient_id = \"app\"\n",
        1,
        11,
        "settings.authentik",
        "missing required key `url`",
    );
}

// ---------------------------------------------------------------------------------------------
// Bad templates

#[test]
fn bad_template_unclosed_brace() {
    one_error(
        &format!("{X}issuer = \"{{url\"\n"),
        3,
        10,
        "providers.x.issuer",
        "bad template: a `{` is never closed",
    );
}

#[test]
fn bad_template_upper_case_placeholder() {
    one_error(
        &format!("{X}issuer = \"{{URL}}/\"\n"),
        3,
        10,
        "providers.x.issuer",
        "placeholder `{URL}` must be a lower-case name",
    );
}

#[test]
fn bad_template_adjacent_placeholders() {
    one_error(
        &format!("{X}issuer = \"{{a}}{{b}}\"\n"),
        3,
        10,
        "providers.x.issuer",
        "two placeholders must be separated",
    );
}

#[test]
fn bad_template_in_an_endpoint() {
    one_error(
        "[providers.authentik]\ntoken_endpoint = \"{url}/token}\"\n",
        2,
        18,
        "providers.authentik.token_endpoint",
        "a `}` has no matching `{`",
    );
}

// ---------------------------------------------------------------------------------------------
// T4: duplicate and path-unsafe provider ids

#[test]
fn duplicate_provider_table_says_duplicate_provider() {
    let text = "[providers.corp]\nname = \"A\"\nissuer = \"https://a.example/\"\n\n[providers.corp]\nname = \"B\"\n";
    one_error(text, 5, 12, "providers.corp", "duplicate provider `corp`");
}

#[test]
fn duplicate_settings_table() {
    let text = "[settings.authentik]\nenabled = false\n[settings.authentik]\nenabled = true\n";
    one_error(
        text,
        3,
        11,
        "settings.authentik",
        "duplicate settings for provider `authentik`",
    );
}

#[test]
fn duplicate_key_in_a_table_names_its_path() {
    one_error(
        "[providers.authentik]\nsort_order = 1\nsort_order = 2\n",
        3,
        1,
        "providers.authentik.sort_order",
        "duplicate key",
    );
}

#[track_caller]
fn unsafe_id(header_key: &str, path: &str) {
    let text = format!("[providers.{header_key}]\nname = \"X\"\nissuer = \"https://a.example/\"\n");
    one_error(&text, 1, 12, path, "provider id must be 1-64 characters");
}

#[test]
fn unsafe_id_dot_dot_slash() {
    unsafe_id("\"../x\"", "providers.\"../x\"");
}

#[test]
fn unsafe_id_slash() {
    unsafe_id("\"a/b\"", "providers.\"a/b\"");
}

#[test]
fn unsafe_id_percent_encoded_slash() {
    unsafe_id("\"%2f\"", "providers.\"%2f\"");
}

#[test]
fn unsafe_id_empty() {
    unsafe_id("\"\"", "providers.\"\"");
}

#[test]
fn unsafe_id_longer_than_64() {
    let long = "a".repeat(65);
    unsafe_id(&long, &format!("providers.{long}"));
    // 64 is fine.
    let ok = "a".repeat(64);
    load(&format!(
        "[providers.{ok}]\nname = \"X\"\nissuer = \"https://a.example/\"\n"
    ))
    .unwrap();
}

#[test]
fn unsafe_id_upper_case_and_dotted_quoted_key() {
    unsafe_id("Corp", "providers.Corp");
    unsafe_id("\"a.b\"", "providers.\"a.b\"");
}

// ---------------------------------------------------------------------------------------------
// T6: issuer URLs

#[test]
fn issuer_plain_http_on_a_public_host() {
    one_error(
        &format!("{X}issuer = \"http://sso.example.com/\"\n"),
        3,
        10,
        "providers.x.issuer",
        "must use https",
    );
}

#[test]
fn issuer_plain_http_on_loopback_is_allowed() {
    for (i, host) in ["127.0.0.1:9000", "[::1]", "localhost:8080"]
        .iter()
        .enumerate()
    {
        let text = format!("[providers.l{i}]\nname = \"L\"\nissuer = \"http://{host}/\"\n");
        load(&text).unwrap_or_else(|e| panic!("{host}: {e}"));
    }
}

#[test]
fn issuer_with_query() {
    one_error(
        &format!("{X}issuer = \"https://a.example/?tenant=1\"\n"),
        3,
        10,
        "providers.x.issuer",
        "must not have a query",
    );
}

#[test]
fn issuer_with_fragment() {
    one_error(
        &format!("{X}issuer = \"https://a.example/#top\"\n"),
        3,
        10,
        "providers.x.issuer",
        "must not have a fragment",
    );
    one_error(
        &format!("{X}issuer = \"{{url}}/o/#top\"\n"),
        3,
        10,
        "providers.x.issuer",
        "must not have a fragment",
    );
}

#[test]
fn issuer_not_absolute() {
    one_error(
        &format!("{X}issuer = \"sso.example.com/\"\n"),
        3,
        10,
        "providers.x.issuer",
        "is not an absolute URL",
    );
}

#[test]
fn settings_url_plain_http() {
    one_error(
        "[settings.authentik]\nurl = \"http://auth.example.com\"\n",
        2,
        7,
        "settings.authentik.url",
        "must use https",
    );
}

// ---------------------------------------------------------------------------------------------
// T8: `${ENV}` and secrets

#[test]
fn unknown_env_variable_in_settings() {
    one_error(
        "[settings.authentik]\nclient_secret = \"${NOT_SET_ANYWHERE}\"\n",
        2,
        17,
        "settings.authentik.client_secret",
        "environment variable `NOT_SET_ANYWHERE` is not set",
    );
}

#[test]
fn malformed_env_reference_unclosed() {
    one_error(
        "[settings.authentik]\nurl = \"${AUTHENTIK_URL\"\n",
        2,
        7,
        "settings.authentik.url",
        "`${` is never closed",
    );
}

#[test]
fn malformed_env_reference_bad_name() {
    one_error(
        "[settings.authentik]\nclient_id = \"${A-B}\"\n",
        2,
        13,
        "settings.authentik.client_id",
        "must name an environment variable",
    );
}

#[test]
fn env_reference_in_params() {
    one_error(
        "[settings.authentik.params]\ntenant = \"${NO_TENANT}\"\n",
        2,
        10,
        "settings.authentik.params.tenant",
        "environment variable `NO_TENANT` is not set",
    );
}

#[test]
fn dollar_dollar_brace_is_a_literal() {
    let p = load("[settings.authentik]\nclient_secret = \"a$${b}\"\n").unwrap();
    let s = &p.seeded_settings()["authentik"];
    assert_eq!(s.client_secret.as_ref().unwrap().expose(), "a${b}");
}

#[test]
fn empty_client_secret() {
    one_error(
        "[settings.authentik]\nclient_secret = \"\"\n",
        2,
        17,
        "settings.authentik.client_secret",
        "must not be empty",
    );
}

#[test]
fn empty_client_secret_from_env() {
    one_error(
        "[settings.authentik]\nclient_secret = \"${EMPTY_SECRET}\"\n",
        2,
        17,
        "settings.authentik.client_secret",
        "must not be empty",
    );
}

// ---------------------------------------------------------------------------------------------
// T10: signing algorithms

#[test]
fn signing_algs_none() {
    one_error(
        "[providers.authentik]\nsigning_algs = [\"RS256\", \"none\"]\n",
        2,
        16,
        "providers.authentik.signing_algs",
        "`none` is never accepted",
    );
}

#[test]
fn signing_algs_mixing_hs_and_rs() {
    one_error(
        "[providers.authentik]\nsigning_algs = [\"HS256\", \"RS256\"]\n",
        2,
        16,
        "providers.authentik.signing_algs",
        "mixing HS* with RS*/ES*/PS*",
    );
}

#[test]
fn signing_algs_unknown() {
    one_error(
        "[providers.authentik]\nsigning_algs = [\"RS257\"]\n",
        2,
        16,
        "providers.authentik.signing_algs",
        "unknown algorithm `RS257`",
    );
}

// ---------------------------------------------------------------------------------------------
// T9: scopes

#[test]
fn scopes_without_openid_in_a_spec() {
    one_error(
        "[providers.authentik]\nscopes = [\"profile\", \"email\"]\n",
        2,
        10,
        "providers.authentik.scopes",
        "must include `openid`",
    );
}

#[test]
fn scopes_without_openid_in_settings() {
    one_error(
        "[settings.authentik]\nscopes = [\"email\"]\n",
        2,
        10,
        "settings.authentik.scopes",
        "must include `openid`",
    );
}

#[test]
fn oauth2_provider_needs_no_openid() {
    load(
        "[providers.gh]\nname = \"GitHub\"\nprotocol = \"oauth2\"\nscopes = [\"read:user\"]\n\
         authorization_endpoint = \"https://gh.example/authorize\"\n\
         token_endpoint = \"https://gh.example/token\"\n\
         userinfo_endpoint = \"https://api.gh.example/user\"\n",
    )
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Settings for a provider that does not exist

#[test]
fn settings_for_an_undefined_provider() {
    one_error(
        "[settings.nowhere]\nenabled = false\n",
        1,
        11,
        "settings.nowhere",
        "no provider `nowhere` is defined",
    );
}

#[test]
fn settings_for_an_unreadable_provider_are_not_reported_twice() {
    one_error(
        "[providers.corp]\nname = \"Corp\"\nsort_order = \"first\"\n[settings.corp]\nenabled = false\n",
        3,
        14,
        "providers.corp.sort_order",
        "expected an integer",
    );
}

// ---------------------------------------------------------------------------------------------
// T5 and several errors at once

#[test]
fn same_issuer_and_client_id_twice() {
    let text = "[providers.corp]\nname = \"Corp\"\nissuer = \"{url}/application/o/{slug}/\"\n\
                [settings.authentik]\nurl = \"https://auth.example.com\"\nclient_id = \"app\"\n\
                [settings.corp]\nurl = \"https://auth.example.com\"\nclient_id = \"app\"\n";
    one_error(
        text,
        7,
        11,
        "settings.corp",
        "same issuer URL and client id as `settings.authentik`",
    );
}

#[test]
fn every_error_in_a_file_is_reported_in_file_order() {
    let text = "[providers.a]\nname = \"A\"\nissuer = \"http://a.example/\"\n\
                [providers.b]\nname = \"\"\nissuer = \"{url\"\n\
                [settings.nope]\n\
                [settings.authentik]\nclient_secret = \"${NOPE}\"\n";
    let errs = errors(text);
    let got: Vec<(usize, usize, &str)> = errs
        .iter()
        .map(|e| (e.line, e.column, e.path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (3, 10, "providers.a.issuer"),
            (5, 8, "providers.b.name"),
            (6, 10, "providers.b.issuer"),
            (7, 11, "settings.nope"),
            (9, 17, "settings.authentik.client_secret"),
        ]
    );
}

#[test]
fn display_is_file_line_column_path_message() {
    let err = errors("[providers.authentik]\nisuer = \"x\"\n");
    assert!(
        err[0]
            .to_string()
            .starts_with("app.toml:2:1: providers.authentik.isuer: unknown key `isuer`"),
        "{}",
        err[0]
    );
}

// ---------------------------------------------------------------------------------------------
// Merging, defaults, `${ENV}`

#[test]
fn user_file_overrides_builtin_fields_one_by_one() {
    let builtin = Providers::builtin();
    let base = builtin.get("authentik").unwrap().clone();
    let p = load(
        "[providers.authentik]\nsort_order = 1\n\n[providers.authentik.claims]\nusername = \"email\"\n",
    )
    .unwrap();
    let a = p.get("authentik").unwrap();
    assert_eq!(a.sort_order, 1);
    assert_eq!(a.claims.username.to_string(), "email");
    // Everything else stays as built in, claim by claim.
    assert_eq!(a.name, base.name);
    assert_eq!(a.issuer, base.issuer);
    assert_eq!(a.token_endpoint, base.token_endpoint);
    assert_eq!(a.scopes, base.scopes);
    assert_eq!(a.claims.name, base.claims.name);
    assert_eq!(a.claims.given_name, base.claims.given_name);
    assert_eq!(a.claims.groups, base.claims.groups);
    assert_eq!(p.origin("authentik"), Some(&Origin::Builtin));
    assert_eq!(p.sources("authentik")[1], FILE);
}

#[test]
fn override_that_breaks_a_builtin_is_reported_in_the_user_file() {
    one_error(
        "[providers.authentik]\nissuer = \"http://auth.example.com/\"\n",
        2,
        10,
        "providers.authentik.issuer",
        "must use https",
    );
}

#[test]
fn custom_provider_with_name_and_issuer_gets_default_claims() {
    let p = load("[providers.corp]\nname = \"Corp SSO\"\nissuer = \"https://sso.corp.example/\"\n")
        .unwrap();
    let c = p.get("corp").unwrap();
    assert_eq!(p.origin("corp"), Some(&Origin::File(FILE.into())));
    assert_eq!(c.scopes, ["openid", "profile", "email"]);
    assert_eq!(c.sort_order, 100);
    let m = &c.claims;
    let got = [
        &m.subject,
        &m.email,
        &m.email_verified,
        &m.name,
        &m.given_name,
        &m.family_name,
        &m.picture,
        &m.username,
        &m.groups,
    ]
    .map(|s| s.to_string());
    assert_eq!(
        got,
        [
            "sub",
            "email",
            "email_verified",
            "name",
            "given_name",
            "family_name",
            "picture",
            "preferred_username",
            "groups"
        ]
    );
    let settings = ProviderSettings {
        client_id: Some("app".into()),
        ..ProviderSettings::default()
    };
    let r = ResolvedProvider::resolve(c, &settings).unwrap();
    assert_eq!(
        r.endpoints.issuer.as_deref(),
        Some("https://sso.corp.example/")
    );
    assert_eq!(
        r.endpoints.discovery.as_deref(),
        Some("https://sso.corp.example/.well-known/openid-configuration")
    );
}

#[test]
fn settings_secret_resolves_from_env() {
    let p = load(
        "[settings.authentik]\nenabled = true\nurl = \"${AUTHENTIK_URL}\"\nclient_id = \"app\"\n\
         client_secret = \"${AUTHENTIK_CLIENT_SECRET}\"\n\n[settings.authentik.admin]\n\
         groups = [\"authentik Admins\"]\n",
    )
    .unwrap();
    let s = &p.seeded_settings()["authentik"];
    assert!(s.enabled);
    assert_eq!(s.url.as_deref(), Some("https://auth.example.com"));
    assert_eq!(
        s.client_secret.as_ref().unwrap().expose(),
        "env-secret-7f3a9c"
    );
    assert_eq!(s.admin_rules.groups, ["authentik Admins"]);
}

// ---------------------------------------------------------------------------------------------
// T8: no secret in Debug, Display or error messages

const SECRET: &str = "lit3ral-s3cret-Qx9";

#[test]
fn no_secret_in_debug_of_providers_and_settings() {
    let text = format!(
        "[settings.authentik]\nenabled = true\nurl = \"https://auth.example.com\"\nclient_id = \"app\"\nclient_secret = \"{SECRET}\"\n"
    );
    let p = load(&text).unwrap();
    let s = &p.seeded_settings()["authentik"];
    assert_eq!(s.client_secret.as_ref().unwrap().expose(), SECRET);
    for shown in [
        format!("{p:?}"),
        format!("{p:#?}"),
        format!("{s:?}"),
        format!("{s:#?}"),
    ] {
        assert!(!shown.contains(SECRET), "secret in Debug: {shown}");
    }
    // From the environment too.
    let p = load("[settings.authentik]\nclient_secret = \"${AUTHENTIK_CLIENT_SECRET}\"\n").unwrap();
    assert!(!format!("{p:?}").contains("env-secret-7f3a9c"));
}

#[track_caller]
fn assert_no_secret(text: &str) {
    let err = load(text).unwrap_err();
    for shown in [format!("{err:?}"), format!("{err:#?}"), err.to_string()] {
        assert!(!shown.contains(SECRET), "secret in error output: {shown}");
    }
}

#[test]
fn no_secret_in_errors_of_a_file_that_holds_one() {
    // A file with a literal secret and an unrelated error.
    assert_no_secret(&format!(
        "[settings.authentik]\nclient_secret = \"{SECRET}\"\nisuer = 1\n"
    ));
}

#[test]
fn no_secret_in_a_syntax_error_on_the_secret_line() {
    // Unterminated string, unquoted value, and a stray token after the value.
    for line in [
        format!("client_secret = \"{SECRET}"),
        format!("client_secret = {SECRET}"),
        format!("client_secret = \"{SECRET}\" {SECRET}"),
        format!("client_secret = \"{SECRET}\\q\""),
    ] {
        let text = format!("[settings.authentik]\n{line}\nurl = \"https://a.example\"\n");
        let err = load(&text).unwrap_err();
        assert_eq!(err.errors()[0].line, 2, "{err}");
        assert_no_secret(&text);
    }
}

#[test]
fn no_secret_in_a_type_error_on_the_secret() {
    let text = "[settings.authentik]\nclient_secret = 8675309123\n";
    let e = one_error(
        text,
        2,
        17,
        "settings.authentik.client_secret",
        "expected a string",
    );
    assert!(!e.message.contains("8675309123"), "{}", e.message);
    assert!(!format!("{e:?}").contains("8675309123"));
}

#[test]
fn typo_of_a_required_key_is_reported_once() {
    one_error(
        "[providers.corp]\nname = \"Corp\"\nisuer = \"https://sso.corp.example/\"\n",
        3,
        1,
        "providers.corp.isuer",
        "did you mean `issuer`?",
    );
}

/// The worked example of `docs/providers-toml.md`, so the reference cannot drift.
fn docs_example() -> String {
    let doc = include_str!("../docs/providers-toml.md");
    let start = doc.find("```toml\n# app.toml\n").expect("example in docs") + "```toml\n".len();
    let len = doc[start..].find("```").unwrap();
    doc[start..start + len].to_owned()
}

#[test]
fn docs_worked_example_loads() {
    let env = |n: &str| {
        n.ends_with("_CLIENT_SECRET")
            .then(|| format!("secret-of-{n}"))
    };
    let p = Providers::builtin()
        .with_toml_str_env("app.toml", &docs_example(), &env)
        .unwrap();
    assert_eq!(p.get("authentik").unwrap().sort_order, 1);
    let corp = p.get("corp").unwrap();
    let settings = &p.seeded_settings()["corp"];
    let r = ResolvedProvider::resolve(corp, settings).unwrap();
    assert_eq!(
        r.endpoints.issuer.as_deref(),
        Some("https://sso.corp.example/realms/staff")
    );
    assert_eq!(corp.claims.groups.to_string(), "realm_access.roles");
}

#[test]
fn docs_worked_example_typo_is_at_the_documented_position() {
    let text = docs_example().replacen("client_secret =", "client_secert =", 1);
    let env = |_: &str| Some("x".to_owned());
    let err = Providers::builtin()
        .with_toml_str_env("app.toml", &text, &env)
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        include_str!("../docs/providers-toml.md").contains(&shown[..60]),
        "docs show another position than {shown}"
    );
    assert_eq!((err.errors()[0].line, err.errors()[0].column), (25, 1));
}

// ---------------------------------------------------------------------------------------------
// Claim rules, parameters and extra user-API requests (issue 10)

#[test]
fn claim_rule_with_an_unclosed_filter_points_at_the_value() {
    one_error(
        &format!(
            "{X}issuer = \"https://x.example\"\n[providers.x.claims]\nemail = \"emails[verified=true.email\"\n"
        ),
        5,
        9,
        "providers.x.claims.email",
        "emails[verified=true].email",
    );
}

#[test]
fn claim_template_without_a_placeholder_is_refused() {
    one_error(
        &format!(
            "{X}issuer = \"https://x.example\"\n[providers.x.claims]\npicture = [\"picture\", \"https://cdn/x}}.png\"]\n"
        ),
        5,
        11,
        "providers.x.claims.picture",
        "template",
    );
}

#[test]
fn claim_rules_filters_and_templates_load() {
    let p = load(&format!(
        "{X}issuer = \"https://x.example\"\n[providers.x.claims]\nemail = [\"emails[primary=true,verified=true].email\", \"email\"]\nname = [\"name\", \"{{given_name}} {{family_name}}\"]\n"
    ))
    .unwrap();
    let claims = &p.get("x").unwrap().claims;
    assert_eq!(
        claims.email.to_string(),
        "emails[primary=true,verified=true].email | email"
    );
    assert_eq!(claims.name.to_string(), "name | {given_name} {family_name}");
}

#[test]
fn fetch_needs_a_claim_name_and_a_url() {
    one_error(
        &format!(
            "{X}protocol = \"oauth2\"\nauthorization_endpoint = \"https://x.example/a\"\ntoken_endpoint = \"https://x.example/t\"\nuserinfo_endpoint = \"https://x.example/u\"\n[providers.x.fetch.\"my-emails\"]\nurl = \"https://x.example/e\"\n"
        ),
        8,
        7,
        "providers.x.fetch.my-emails",
        "claim name",
    );
    one_error(
        &format!(
            "{X}issuer = \"https://x.example\"\n[providers.x.fetch.emails]\nurl = \"http://x.example/e\"\n"
        ),
        5,
        7,
        "providers.x.fetch.emails.url",
        "https",
    );
    let e = errors(&format!(
        "{X}issuer = \"https://x.example\"\n[providers.x.fetch.emails]\nuri = \"https://x.example/e\"\n"
    ));
    assert!(e.iter().any(|e| e.path.contains("fetch.emails")), "{e:#?}");
}

#[test]
fn params_may_not_shadow_url_slug_or_issuer() {
    one_error(
        &format!("{X}issuer = \"https://x.example\"\nparams = {{ url = \"https://y.example\" }}\n"),
        4,
        18,
        "providers.x.params.url",
        "not a parameter",
    );
}

/// Security round two: an OpenID Connect identity is the verified `sub`; a spec that keys it on
/// another claim (here the email) is refused at the provider's table, with its position.
#[test]
fn oidc_subject_mapped_to_another_claim_is_refused() {
    let text = "[providers.x]\nname = \"X\"\nissuer = \"https://idp.example.com\"\n\n[providers.x.claims]\nsubject = \"email\"\n";
    one_error(text, 1, 12, "providers.x.claims.subject", "verified `sub`");
    // `sub` itself, and any rule for a plain OAuth 2.0 provider, stay allowed.
    let ok = "[providers.x]\nname = \"X\"\nissuer = \"https://idp.example.com\"\n\n[providers.x.claims]\nsubject = \"sub\"\n";
    assert!(load(ok).is_ok());
    let oauth2 = "[providers.y]\nname = \"Y\"\nprotocol = \"oauth2\"\nauthorization_endpoint = \"https://y.example.com/a\"\ntoken_endpoint = \"https://y.example.com/t\"\nuserinfo_endpoint = \"https://y.example.com/u\"\n\n[providers.y.claims]\nsubject = \"id\"\n";
    assert!(load(oauth2).is_ok(), "{:?}", load(oauth2).err());
}

/// `[claims.extra]`: a name the app cannot read by, an empty or malformed rule, and a
/// `refresh_scope` that is not one scope are each pinned; a valid table loads into the spec.
#[test]
fn extra_claims_and_refresh_scope_are_checked() {
    one_error(
        "[providers.authentik.claims.extra]\n\"bad name\" = \"x\"\n",
        2,
        14,
        "providers.authentik.claims.extra.bad name",
        "letters, digits and `_`",
    );
    one_error(
        "[providers.authentik.claims.extra]\ntenant = []\n",
        2,
        10,
        "providers.authentik.claims.extra.tenant",
        "non-empty list",
    );
    one_error(
        "[providers.authentik.claims.extra]\ntenant = \"a[\"\n",
        2,
        10,
        "providers.authentik.claims.extra.tenant",
        "expected a claim name",
    );
    one_error(
        "[providers.authentik]\nrefresh_scope = \"offline_access openid\"\n",
        2,
        17,
        "providers.authentik.refresh_scope",
        "one non-empty scope",
    );
    let p =
        load("[providers.authentik.claims.extra]\ntenant = [\"tenant_id\", \"tid\"]\n").unwrap();
    let spec = p.get("authentik").unwrap();
    assert_eq!(spec.claims.extra["tenant"].0.len(), 2);
    assert_eq!(spec.refresh_scope.as_deref(), Some("offline_access"));
    // The other built-in claims stay.
    assert_eq!(spec.claims.subject.0.len(), 1);
    // An admin's file turns refresh tokens off for a provider; by default they are on.
    let p = load("[settings.authentik]\nrefresh_tokens = false\n").unwrap();
    assert!(!p.seeded_settings()["authentik"].refresh_tokens);
    let p = load("[settings.authentik]\nauto_register = false\n").unwrap();
    assert!(p.seeded_settings()["authentik"].refresh_tokens);
}

// ---------------------------------------------------------------------------------------------
// `[providers.<id>.bearer]` (issue 20)

#[test]
fn bearer_audience_must_not_be_empty() {
    one_error(
        "[providers.authentik.bearer]\naudiences = [\"api\", \"\"]\n",
        2,
        13,
        "providers.authentik.bearer.audiences",
        "an audience must not be empty",
    );
}

#[test]
fn bearer_typ_must_be_a_media_type() {
    one_error(
        "[providers.authentik.bearer]\ntyp = \"at jwt\"\n",
        2,
        7,
        "providers.authentik.bearer.typ",
        "media type",
    );
}

#[test]
fn bearer_unknown_key() {
    one_error(
        "[providers.authentik.bearer]\naudience = [\"api\"]\n",
        2,
        1,
        "providers.authentik.bearer.audience",
        "did you mean `audiences`?",
    );
}

#[test]
fn bearer_table_is_read_and_merged_over_the_builtin_entry() {
    let p = load("[providers.authentik.bearer]\naudiences = [\"api\"]\nintrospection = true\n")
        .unwrap();
    let a = p.get("authentik").unwrap();
    assert_eq!(a.bearer.as_ref().unwrap().audiences, vec!["api".to_owned()]);
    assert!(a.bearer.as_ref().unwrap().introspection);
    assert_eq!(
        a.name, "Authentik",
        "the rest of the built-in entry is kept"
    );
    assert!(
        Providers::builtin()
            .get("authentik")
            .unwrap()
            .bearer
            .is_none()
    );
}
