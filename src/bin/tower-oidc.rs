//! The `tower-oidc` command line tool.
//!
//! ```text
//! tower-oidc check FILE    validate a providers.toml on top of the built-in providers
//! tower-oidc doctor ID --url URL   check a provider against the live identity provider
//! tower-oidc explain FILE [ID]      what the library does with each provider of FILE
//! tower-oidc init ID                a commented skeleton for a provider
//! tower-oidc schema                 the JSON Schema of providers.toml
//! tower-oidc --help        usage
//! ```
//!
//! `check` exits 0 and prints a summary of every resolved provider (never a secret value, only
//! `client_secret: set`), or exits 1 and prints every error as `file:line:column: path: message`
//! on stderr. Usage errors exit 2.
//!
//! Arguments are parsed by hand from [`std::env::args_os`]: a few subcommands do not justify a
//! dependency.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use tower_oidc::config::{BUILTIN_SOURCE, ProviderSettings, ProviderSpec, Providers};

const USAGE: &str = "\
tower-oidc: checks for tower-oidc configurations

Usage:
  tower-oidc check FILE   Load FILE (a providers.toml) on top of the built-in providers and
                          print the resolved providers, or every error as
                          `file:line:column: path: message`.
                          `${VAR}` references in [settings.<id>] are read from the environment.
  tower-oidc doctor PROVIDER --url URL [--client-id ID] [--file providers.toml]
                          Check a provider against the live identity provider
                          (reachability, discovery, issuer, keys, algorithm, redirect URI).
  tower-oidc explain FILE [PROVIDER] [--app-url URL] [--prefix /api/auth] [--all] [--discover]
                          What the library does with each provider FILE defines, overrides
                          or seeds (--all: every provider; PROVIDER: that one): endpoints,
                          client auth, PKCE, scopes, the source of every profile field, the
                          email-trust policy, and the redirect and logout URIs to register.
                          --discover completes the endpoints from the discovery document.
  tower-oidc init PROVIDER | generic-oidc NAME | generic-oauth2 NAME
                          Print a commented skeleton: [settings.PROVIDER] for a built-in
                          provider, or a [providers.NAME] spec and its settings.
  tower-oidc schema      Print the JSON Schema of providers.toml (the repository's
                          schema/providers.schema.json), for editors such as Taplo.
  tower-oidc --help       Print this help.

Exit status: 0 valid, 1 the file has errors, 2 wrong usage.
";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let first = args.first().and_then(|a| a.to_str());
    match first {
        None => usage_error("no command given"),
        Some("-h" | "--help" | "help") => {
            let _ = std::io::stdout().write_all(USAGE.as_bytes());
            ExitCode::SUCCESS
        }
        Some("check") => check::run(&args[1..]),
        // `doctor` talks to the live provider; it lives apart so that `check` stays offline.
        Some("doctor") => doctor::run(&args[1..]),
        Some("explain") => explain::run(&args[1..]),
        Some("init") => explain::init(&args[1..]),
        Some("schema") if args.len() == 1 => {
            let schema = tower_oidc::config::json_schema_string();
            let _ = std::io::stdout().write_all(schema.as_bytes());
            ExitCode::SUCCESS
        }
        Some("schema") => usage_error("`schema` takes no arguments"),
        Some(other) => usage_error(&format!("unknown command `{other}`")),
    }
}

/// Prints `message` and the usage on stderr; exit status 2.
fn usage_error(message: &str) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "tower-oidc: {message}\n");
    let _ = err.write_all(USAGE.as_bytes());
    ExitCode::from(2)
}

mod check {
    //! `tower-oidc check FILE`.

    use super::*;

    /// Runs `check` with the arguments after the subcommand.
    pub fn run(args: &[OsString]) -> ExitCode {
        let mut file = None;
        for a in args {
            match a.to_str() {
                Some("-h" | "--help") => {
                    let _ = std::io::stdout().write_all(USAGE.as_bytes());
                    return ExitCode::SUCCESS;
                }
                Some(s) if s.starts_with('-') && s != "-" => {
                    return usage_error(&format!("unknown option `{s}` for `check`"));
                }
                _ if file.is_some() => return usage_error("`check` takes one FILE"),
                _ => file = Some(a),
            }
        }
        let Some(file) = file else {
            return usage_error("`check` needs a FILE");
        };
        match Providers::from_toml_file(file) {
            Ok(providers) => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(summary(&providers, &file.to_string_lossy()).as_bytes());
                ExitCode::SUCCESS
            }
            Err(errors) => {
                let _ = writeln!(std::io::stderr(), "{errors}");
                ExitCode::FAILURE
            }
        }
    }

    /// The summary of every provider, in id order.
    pub fn summary(providers: &Providers, file: &str) -> String {
        let mut s = String::new();
        let seeded = providers.seeded_settings();
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        s.push_str(&format!(
            "{file}: OK ({}, {} seeded)\n",
            plural(providers.len(), "provider"),
            plural(seeded.len(), "setting")
        ));
        for spec in providers.iter() {
            s.push('\n');
            provider(&mut s, providers, spec, seeded.get(&spec.id));
        }
        s
    }

    fn provider(
        s: &mut String,
        providers: &Providers,
        spec: &ProviderSpec,
        settings: Option<&ProviderSettings>,
    ) {
        let sources = providers.sources(&spec.id);
        let defined = match sources.split_first() {
            Some((first, rest)) => {
                let first = if first == BUILTIN_SOURCE {
                    "built-in".to_owned()
                } else {
                    first.clone()
                };
                if rest.is_empty() {
                    first
                } else {
                    format!("{first}, overridden in {}", rest.join(", "))
                }
            }
            None => "?".to_owned(),
        };
        s.push_str(&format!(
            "[{}] {} ({})\n",
            spec.id,
            spec.name,
            name_of(&spec.protocol)
        ));
        let mut line = |key: &str, value: &str| s.push_str(&format!("  {key:<22}{value}\n"));
        line("defined in:", &defined);
        line("sort order:", &spec.sort_order.to_string());
        line("scopes:", &spec.scopes.join(" "));
        line(
            "client auth:",
            &format!(
                "{}, pkce {}, email trust {}",
                name_of(&spec.token_auth),
                name_of(&spec.pkce),
                name_of(&spec.email_trust)
            ),
        );
        let endpoints = [
            ("issuer:", &spec.issuer),
            ("discovery:", &spec.discovery),
            ("authorization:", &spec.authorization_endpoint),
            ("token:", &spec.token_endpoint),
            ("userinfo:", &spec.userinfo_endpoint),
            ("jwks_uri:", &spec.jwks_uri),
            ("end_session:", &spec.end_session_endpoint),
            ("revocation:", &spec.revocation_endpoint),
        ];
        for (key, t) in endpoints {
            match t {
                Some(t) => line(key, t.as_str()),
                None if key == "discovery:" && spec.issuer.is_some() => {
                    line(key, "(issuer + /.well-known/openid-configuration)")
                }
                None => line(key, "(from discovery)"),
            }
        }
        if let Some(algs) = &spec.signing_algs {
            line("signing_algs:", &algs.join(", "));
        }
        if let Some(u) = &spec.default_url {
            line("default url:", u);
        }
        for (i, (field, source)) in spec.claims.fields().iter().enumerate() {
            let key = if i == 0 { "claims:" } else { "" };
            line(key, &format!("{field:<15}= {source}"));
        }
        match settings {
            None => line(
                "settings:",
                "not seeded (set them through the SettingsStore)",
            ),
            Some(st) => {
                line(
                    "settings:",
                    &format!(
                        "seeded, {}",
                        if st.enabled { "enabled" } else { "disabled" }
                    ),
                );
                if let Some(u) = &st.url {
                    line("  url:", u);
                }
                if let Some(slug) = &st.slug {
                    line("  slug:", slug);
                }
                line(
                    "  client_id:",
                    st.client_id.as_deref().unwrap_or("(not set)"),
                );
                line(
                    "  client_secret:",
                    if st.client_secret.is_some() {
                        "set"
                    } else {
                        "not set"
                    },
                );
                if let Some(scopes) = &st.scopes {
                    line("  scopes:", &scopes.join(" "));
                }
                if !st.params.is_empty() {
                    let p: Vec<String> = st.params.keys().map(|k| format!("{k}=…")).collect();
                    line("  params:", &p.join(" "));
                }
                if !st.admin_rules.is_empty() {
                    line(
                        "  admin rules:",
                        &format!(
                            "groups [{}], email domains [{}]",
                            st.admin_rules.groups.join(", "),
                            st.admin_rules.email_domains.join(", ")
                        ),
                    );
                }
            }
        }
    }

    /// The TOML spelling of an enum value (`client_secret_basic`), through its serde name.
    fn name_of<T: serde::Serialize + std::fmt::Debug>(v: &T) -> String {
        match serde_json::to_value(v) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{v:?}"),
        }
    }
}

mod doctor {
    //! `tower-oidc doctor PROVIDER --url URL`: checks a provider against the live identity
    //! provider (discovery, issuer, keys, algorithm, redirect URI), sharing the admin API's
    //! provider check ([`tower_oidc::admin::doctor`]).

    use super::*;

    /// Runs `doctor` with the arguments after the subcommand.
    pub fn run(args: &[OsString]) -> ExitCode {
        tower_oidc::admin::doctor::run(args)
    }
}

mod explain {
    //! `tower-oidc explain FILE [PROVIDER]` and `tower-oidc init PROVIDER`, over
    //! [`tower_oidc::admin::explain`] and [`tower_oidc::admin::init`].

    use super::*;
    use tower_oidc::admin::explain::{ExplainOptions, discover, explain};

    /// Runs `explain` with the arguments after the subcommand.
    pub fn run(args: &[OsString]) -> ExitCode {
        let mut opts = ExplainOptions::default();
        let (mut file, mut provider, mut all, mut discovery) = (None, None, false, false);
        let mut it = args.iter().map(|a| a.to_str());
        while let Some(a) = it.next() {
            match a {
                None => return usage_error("arguments must be UTF-8"),
                Some("-h" | "--help") => {
                    let _ = std::io::stdout().write_all(USAGE.as_bytes());
                    return ExitCode::SUCCESS;
                }
                Some(flag @ ("--app-url" | "--prefix")) => {
                    let Some(Some(v)) = it.next() else {
                        return usage_error(&format!("`{flag}` needs a value"));
                    };
                    if flag == "--prefix" {
                        opts.prefix = v.to_owned();
                    } else {
                        opts.app_url = Some(v.to_owned());
                    }
                }
                Some("--all") => all = true,
                Some("--discover") => discovery = true,
                Some(s) if s.starts_with('-') => {
                    return usage_error(&format!("unknown option `{s}` for `explain`"));
                }
                Some(s) if file.is_none() => file = Some(s.to_owned()),
                Some(s) if provider.is_none() => provider = Some(s.to_owned()),
                Some(_) => return usage_error("`explain` takes FILE and at most one PROVIDER"),
            }
        }
        let Some(file) = file else {
            return usage_error("`explain` needs a FILE");
        };
        let providers = match Providers::from_toml_file(&file) {
            Ok(p) => p,
            Err(errors) => {
                // One error per line, each with its file:line:col.
                let _ = writeln!(std::io::stderr(), "{errors}");
                return ExitCode::FAILURE;
            }
        };
        let ids: Vec<String> = match provider {
            Some(id) if providers.get(&id).is_some() => vec![id],
            Some(id) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "tower-oidc: no provider `{id}` in {file}"
                );
                return ExitCode::FAILURE;
            }
            None => providers
                .iter()
                .map(|s| s.id.clone())
                .filter(|id| {
                    all || providers.seeded_settings().contains_key(id)
                        || providers.sources(id).contains(&file)
                })
                .collect(),
        };
        let runtime = match discovery {
            true => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok(),
            false => None,
        };
        let mut out = String::new();
        for (i, id) in ids.iter().enumerate() {
            let found =
                runtime
                    .as_ref()
                    .and_then(|rt| match rt.block_on(discover(&providers, id)) {
                        Ok(d) => Some(d),
                        Err(e) => {
                            let _ =
                                writeln!(std::io::stderr(), "tower-oidc: [{id}] no discovery: {e}");
                            None
                        }
                    });
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&explain(&providers, id, &opts, &found).unwrap_or_default());
        }
        if ids.is_empty() {
            out.push_str("FILE defines, overrides and seeds no provider (--all shows every one)\n");
        }
        let _ = std::io::stdout().write_all(out.as_bytes());
        ExitCode::SUCCESS
    }

    /// Runs `init` with the arguments after the subcommand.
    pub fn init(args: &[OsString]) -> ExitCode {
        let args: Option<Vec<&str>> = args.iter().map(|a| a.to_str()).collect();
        match tower_oidc::admin::init::skeleton(&args.unwrap_or_default()) {
            Ok(text) => {
                let _ = std::io::stdout().write_all(text.as_bytes());
                ExitCode::SUCCESS
            }
            Err(m) => usage_error(&m),
        }
    }
}
