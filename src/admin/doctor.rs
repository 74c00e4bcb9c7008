//! `tower-oidc doctor PROVIDER --url URL [--client-id ID] [--file providers.toml]`: the provider
//! check ([`super::check`]) from the command line (feature `cli`).

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use crate::config::{ProviderSettings, Providers, Secret};
use crate::provider::{HttpLimits, TlsTrust};

/// Usage of the `doctor` command.
pub const USAGE: &str = "\
Usage:
  tower-oidc doctor PROVIDER [--url URL] [--client-id ID] [--file providers.toml]
                             [--base-url URL] [--prefix /api/auth]
                             [--ca-file ca.pem] [--native-roots]

Checks a provider as a sign-in would use it: the instance is reachable (DNS, TLS, refused,
timeout), the discovery document exists, the issuer matches exactly, the signing algorithm and
keys, and (with a client secret) that the token endpoint accepts the client. Settings come from
the file's [settings.PROVIDER] table, then the options; the client secret from the file or the
TOWER_OIDC_CLIENT_SECRET environment variable. --base-url prints the redirect URI to register.
--ca-file trusts the CA certificates of a PEM file, --native-roots the OS store, besides the
web PKI roots (as the app's `.tls_trust(...)` does): a refused certificate is named with its
cause (unknown CA, expired, wrong host name) and the setting that fixes it.

Exit status: 0 all checks passed, 1 a check failed, 2 wrong usage.
";

/// Parsed `doctor` arguments.
#[derive(Debug, Default, PartialEq, Eq)]
struct Args {
    provider: String,
    url: Option<String>,
    client_id: Option<String>,
    file: Option<OsString>,
    base_url: Option<String>,
    prefix: Option<String>,
    ca_file: Option<OsString>,
    native_roots: bool,
}

fn parse(args: &[OsString]) -> Result<Option<Args>, String> {
    let mut out = Args::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = a
            .to_str()
            .ok_or_else(|| "arguments must be UTF-8".to_owned())?;
        let mut value = |name: &str| -> Result<String, String> {
            it.next()
                .and_then(|v| v.to_str())
                .map(str::to_owned)
                .ok_or_else(|| format!("`{name}` needs a value"))
        };
        match a {
            "-h" | "--help" => return Ok(None),
            "--url" => out.url = Some(value(a)?),
            "--client-id" => out.client_id = Some(value(a)?),
            "--file" => out.file = Some(OsString::from(value(a)?)),
            "--base-url" => out.base_url = Some(value(a)?),
            "--prefix" => out.prefix = Some(value(a)?),
            "--ca-file" => out.ca_file = Some(OsString::from(value(a)?)),
            "--native-roots" => out.native_roots = true,
            s if s.starts_with('-') => return Err(format!("unknown option `{s}` for `doctor`")),
            s if out.provider.is_empty() => out.provider = s.to_owned(),
            _ => return Err("`doctor` takes one PROVIDER".into()),
        }
    }
    if out.provider.is_empty() {
        return Err("`doctor` needs a PROVIDER (e.g. authentik)".into());
    }
    Ok(Some(out))
}

/// Runs `doctor` with the arguments after the subcommand; prints the report on stdout.
pub fn run(args: &[OsString]) -> ExitCode {
    let args = match parse(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            let _ = std::io::stdout().write_all(USAGE.as_bytes());
            return ExitCode::SUCCESS;
        }
        Err(m) => {
            let _ = writeln!(std::io::stderr(), "tower-oidc: {m}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let providers = match &args.file {
        Some(f) => match Providers::from_toml_file(f) {
            Ok(p) => p,
            Err(errors) => {
                // One error per line, each with its file:line:col.
                let _ = writeln!(std::io::stderr(), "{errors}");
                return ExitCode::FAILURE;
            }
        },
        None => Providers::builtin(),
    };
    let Some(spec) = providers.get(&args.provider).cloned() else {
        let ids: Vec<&str> = providers.iter().map(|s| s.id.as_str()).collect();
        let _ = writeln!(
            std::io::stderr(),
            "tower-oidc: no provider `{}`; known: {}",
            args.provider,
            ids.join(", ")
        );
        return ExitCode::from(2);
    };
    let mut settings: ProviderSettings = providers
        .seeded_settings()
        .get(&spec.id)
        .cloned()
        .unwrap_or_default();
    if args.url.is_some() {
        settings.url = args.url.clone();
    }
    if args.client_id.is_some() {
        settings.client_id = args.client_id.clone();
    }
    if settings.client_id.is_none() {
        // The checks up to the keys need no client id; the client check needs a secret too.
        settings.client_id = Some("tower-oidc-doctor".into());
    }
    if let Ok(secret) = std::env::var("TOWER_OIDC_CLIENT_SECRET")
        && !secret.is_empty()
    {
        settings.client_secret = Some(Secret::new(secret));
    }
    let prefix = args.prefix.as_deref().unwrap_or("/api/auth");
    let redirect_uri = match &args.base_url {
        Some(b) => format!(
            "{}{prefix}/providers/{}/callback",
            b.trim_end_matches('/'),
            spec.id
        ),
        None => format!(
            "<your app's base URL>{prefix}/providers/{}/callback",
            spec.id
        ),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "tower-oidc: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut trust = TlsTrust::web_pki().with_native_roots(args.native_roots);
    if let Some(f) = &args.ca_file {
        trust = match trust.with_pem_file(f) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "tower-oidc: {}", e.detail());
                return ExitCode::from(2);
            }
        };
    }
    let report = rt.block_on(super::check::check_provider_with(
        &spec,
        &settings,
        &redirect_uri,
        HttpLimits::default(),
        &trust,
    ));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "tower-oidc doctor: {} ({})",
        spec.id,
        settings.url.as_deref().unwrap_or("no URL")
    );
    for c in &report.checks {
        let mark = match (c.ok, c.warning) {
            (false, _) => "FAIL",
            (true, true) => "warn",
            (true, false) => "ok  ",
        };
        let _ = writeln!(out, "  {mark} {}: {}", c.name, c.message);
    }
    let _ = writeln!(
        out,
        "{}",
        if report.ok {
            "All checks passed."
        } else {
            "Some checks failed."
        }
    );
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn arguments() {
        let a = parse(&os(&[
            "authentik",
            "--url",
            "https://a",
            "--client-id",
            "c",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(a.provider, "authentik");
        assert_eq!(a.url.as_deref(), Some("https://a"));
        assert!(parse(&os(&[])).is_err());
        assert!(parse(&os(&["a", "b"])).is_err());
        assert!(parse(&os(&["a", "--url"])).is_err());
        assert!(parse(&os(&["a", "--bogus"])).is_err());
        assert_eq!(parse(&os(&["--help"])).unwrap(), None);
    }
}
