//! `tower-oidc init PROVIDER` (feature `cli`): a commented `providers.toml` skeleton to start
//! from. For a built-in provider only its `[settings.<id>]` (the spec is built in); for
//! `generic-oidc NAME` or `generic-oauth2 NAME` a `[providers.NAME]` spec too. Secrets are
//! `"${VAR}"` references, never values; the output parses as it is once those are set.

use std::fmt::Write as _;

use crate::config::{Protocol, ProviderSpec, Providers, is_valid_provider_id};

/// The environment variable prefix of a provider: `AUTHENTIK`, `MY_SSO`.
fn env_prefix(id: &str) -> String {
    id.to_ascii_uppercase().replace('-', "_")
}

/// The template variables a spec's endpoints use besides `{url}`, `{slug}` and `{issuer}`.
fn params_of(spec: &ProviderSpec) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in spec.url_templates() {
        for v in t.vars() {
            if !matches!(v, "url" | "slug" | "issuer") && !out.iter().any(|o| o == v) {
                out.push(v.to_owned());
            }
        }
    }
    out
}

/// What the admin enters as `url` for this spec, in words.
fn url_hint(spec: &ProviderSpec) -> Option<String> {
    let uses_url = [
        &spec.issuer,
        &spec.authorization_endpoint,
        &spec.token_endpoint,
    ]
    .iter()
    .any(|t| t.as_ref().is_some_and(|t| t.vars().any(|v| v == "url")));
    if !uses_url {
        return None;
    }
    Some(match &spec.issuer {
        Some(t) if t.vars().any(|v| v == "slug") => format!(
            "The instance URL (https://auth.example.com), or the application's issuer URL\n# ({}) with `{{slug}}` filled in, as the provider shows it.",
            t.as_str()
        ),
        Some(t) if t.as_str() == "{url}" => {
            "The issuer URL, exactly as the provider's discovery document states it\n# (a trailing `/` matters).".to_owned()
        }
        Some(t) => format!("The URL that `{{url}}` stands for in the issuer `{}`.", t.as_str()),
        None => "The provider's base URL (`{url}` in its endpoints).".to_owned(),
    })
}

/// The `[settings.<id>]` skeleton for a spec.
fn settings_skeleton(out: &mut String, spec: &ProviderSpec) {
    let id = &spec.id;
    let env = env_prefix(id);
    let _ = writeln!(out, "[settings.{id}]");
    out.push_str("enabled = true\n");
    match (&spec.default_url, url_hint(spec)) {
        (Some(u), _) => {
            let _ = writeln!(out, "# url = \"{u}\"   # the spec's default");
        }
        (None, Some(hint)) => {
            let _ = writeln!(out, "# {hint}\nurl = \"${{{env}_URL}}\"");
        }
        (None, None) => {}
    }
    let _ = writeln!(
        out,
        "# The client registered at the provider, with the redirect URI\n\
         # {{APP_URL}}/api/auth/providers/{id}/callback (`tower-oidc explain` prints it).\n\
         client_id = \"${{{env}_CLIENT_ID}}\"\n\
         # Leave it out for a public client; never write the secret itself here.\n\
         client_secret = \"${{{env}_CLIENT_SECRET}}\""
    );
    let _ = writeln!(
        out,
        "# scopes = [{}]   # the spec's",
        spec.scopes
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out.push_str("# auto_register = true   # an unknown identity gets a new account\n");
    if let Some(r) = &spec.refresh_scope {
        let _ = writeln!(
            out,
            "# refresh_tokens = true   # ask for `{r}` (a refresh token)"
        );
    }
    out.push_str(
        "# email_trust = \"verified_claim\"   # or \"always\" / \"never\": when an email links accounts\n",
    );
    if spec.protocol == Protocol::Oidc {
        let _ = writeln!(
            out,
            "# par = {}   # the spec's: push authorization requests (RFC 9126) when the provider offers it",
            spec.par
        );
    }
    if spec
        .issuer
        .as_ref()
        .is_some_and(|t| t.vars().any(|v| v == "slug"))
    {
        out.push_str("# slug = \"my-app\"   # pins the application slug instead of learning it\n");
    }
    if let Some(mt) = &spec.multi_tenant {
        let _ = writeln!(
            out,
            "# allowed_tenants = [\"<tenant id>\"]   # with {} = {}: the tenants whose users may sign in (none: nobody)",
            mt.param,
            mt.values.join(" / ")
        );
    }
    let params = params_of(spec);
    if !params.is_empty() {
        let all_default = params.iter().all(|p| spec.params.contains_key(p));
        let comment = if all_default { "# " } else { "" };
        let _ = writeln!(
            out,
            "\n# Parameters of the provider's endpoints.\n{comment}[settings.{id}.params]"
        );
        for p in params {
            match spec.params.get(&p) {
                Some(default) => {
                    let _ = writeln!(out, "# {p} = \"{default}\"   # the spec's default");
                }
                None => {
                    let _ = writeln!(out, "{p} = \"${{{env}_{}}}\"", p.to_ascii_uppercase());
                }
            }
        }
    }
    if spec.token_auth == crate::config::TokenAuth::AppleClientSecretJwt {
        let _ = writeln!(
            out,
            "\n# Sign in with Apple: the client secret above is the .p8 key (the file's PEM, or its\n\
             # base64 body on one line); tower-oidc signs the ES256 client secret with it and these.\n\
             [settings.{id}.params]\n\
             team_id = \"${{{env}_TEAM_ID}}\"\n\
             key_id = \"${{{env}_KEY_ID}}\""
        );
    }
    let _ = writeln!(
        out,
        "\n# Who becomes an administrator of the app at sign-in.\n\
         # [settings.{id}.admin]\n\
         # groups = [\"admins\"]\n\
         # email_domains = [\"example.com\"]"
    );
}

/// A custom provider's spec, commented.
fn custom_spec(id: &str, protocol: Protocol) -> String {
    let mut o = format!(
        "# A custom {} provider. Every key is documented in docs/providers-toml.md.\n\
         [providers.{id}]\nname = \"{id}\"   # shown as \"Sign in with {id}\"\n",
        match protocol {
            Protocol::Oidc => "OpenID Connect",
            Protocol::Oauth2 => "plain OAuth 2.0",
        }
    );
    match protocol {
        Protocol::Oidc => o.push_str(
            "protocol = \"oidc\"\n\
             # The issuer, compared verbatim with the ID token's `iss` (a trailing `/` matters);\n\
             # `{url}` is the settings' url. Endpoints and keys come from discovery.\n\
             issuer = \"{url}\"\n\
             # discovery = \"{url}/.well-known/openid-configuration\"\n\
             scopes = [\"openid\", \"profile\", \"email\"]\n\
             # refresh_scope = \"offline_access\"\n\
             # signing_algs = [\"RS256\"]\n",
        ),
        Protocol::Oauth2 => o.push_str(
            "protocol = \"oauth2\"\n\
             # No discovery: the three endpoints are required.\n\
             authorization_endpoint = \"{url}/oauth/authorize\"\n\
             token_endpoint = \"{url}/oauth/token\"\n\
             userinfo_endpoint = \"{url}/api/user\"\n\
             scopes = [\"profile\", \"email\"]\n",
        ),
    }
    o.push_str(
        "token_auth = \"client_secret_basic\"   # or \"client_secret_post\"\n\
         pkce = \"S256\"   # or \"none\" for a provider that rejects PKCE\n\
         email_trust = \"verified_claim\"\n\
         # icon = \"FaBuilding\"\n\
         # sort_order = 100\n\n\
         # Where each profile field comes from: a claim, a dotted path, a filter\n\
         # (`emails[verified=true].email`) or a template (`{given_name} {family_name}`).\n",
    );
    let _ = writeln!(o, "[providers.{id}.claims]");
    if protocol == Protocol::Oauth2 {
        o.push_str(
            "subject = \"id\"\nemail_verified = []   # no verified flag: never links by email\n",
        );
    } else {
        o.push_str("# email_verified = \"email_verified\"\n");
    }
    o.push_str(
        "# email = \"email\"\n\
         # name = [\"name\", \"{given_name} {family_name}\"]\n\
         # username = \"preferred_username\"\n\
         # groups = \"groups\"\n\n",
    );
    o
}

/// The skeleton for `tower-oidc init ARGS`: `PROVIDER` (a built-in id), or `generic-oidc NAME`
/// / `generic-oauth2 NAME`.
///
/// ```
/// let text = tower_oidc::admin::init::skeleton(&["authentik"]).unwrap();
/// assert!(text.contains("[settings.authentik]"));
/// assert!(tower_oidc::admin::init::skeleton(&["saml"]).is_err());
/// ```
pub fn skeleton(args: &[&str]) -> Result<String, String> {
    let builtin = Providers::builtin();
    let (head, spec) = match args {
        [kind @ ("generic-oidc" | "generic-oauth2"), name] => {
            if !is_valid_provider_id(name) {
                return Err(format!(
                    "`{name}` is not a provider id: 1-64 characters of a-z, 0-9, `-` and `_`"
                ));
            }
            if builtin.get(name).is_some() {
                return Err(format!(
                    "`{name}` is a built-in provider: `tower-oidc init {name}` writes its settings"
                ));
            }
            let protocol = if *kind == "generic-oidc" {
                Protocol::Oidc
            } else {
                Protocol::Oauth2
            };
            let text = custom_spec(name, protocol);
            let spec = builtin
                .with_toml_str("init", &text)
                .map_err(|e| e.to_string())?
                .get(name)
                .cloned()
                .ok_or("the skeleton defines no provider")?;
            (text, spec)
        }
        [kind @ ("generic-oidc" | "generic-oauth2")] => {
            return Err(format!("`init {kind}` needs a NAME (the provider's id)"));
        }
        [id] => {
            let spec = builtin.get(id).cloned().ok_or_else(|| {
                let ids: Vec<&str> = builtin.iter().map(|s| s.id.as_str()).collect();
                format!(
                    "no built-in provider `{id}` (one of {}, or generic-oidc NAME / generic-oauth2 NAME)",
                    ids.join(", ")
                )
            })?;
            let head = format!(
                "# {name}: the spec (endpoints, claims, client authentication) is built in;\n\
                 # override a key of it in a [providers.{id}] table, see docs/providers-toml.md.\n",
                name = spec.name
            );
            (head, spec)
        }
        _ => {
            return Err("`init` takes PROVIDER, or generic-oidc NAME / generic-oauth2 NAME".into());
        }
    };
    let mut out = format!(
        "# tower-oidc providers.toml, written by `tower-oidc init`. Check it with\n\
         # `tower-oidc check FILE`, see what it does with `tower-oidc explain FILE`.\n\n{head}"
    );
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    settings_skeleton(&mut out, &spec);
    Ok(out)
}
