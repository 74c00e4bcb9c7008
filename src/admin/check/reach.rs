//! Network failures in an administrator's words: DNS, TLS, refused, timeout.

pub(super) fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_owned())
}

/// Why a provider could not be reached, in words: DNS, TLS, refused, timeout.
pub(crate) fn unreachable(url: &str, detail: &str) -> String {
    let u = url::Url::parse(url).ok();
    let host = u
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let port = u
        .as_ref()
        .and_then(|u| u.port_or_known_default())
        .map(|p| p.to_string())
        .unwrap_or_default();
    let d = detail.to_ascii_lowercase();
    let why = if d.contains("timed out") || d.contains("timeout") || d.contains("deadline") {
        format!(
            "The instance at {} did not answer in time (timed out): check that it is running and that no firewall silently drops connections from this server.",
            origin(url)
        )
    } else if d.contains("dns error")
        || d.contains("failed to lookup address")
        || d.contains("name or service not known")
        || d.contains("no such host")
        || d.contains("nodename nor servname")
        || d.contains("name resolution")
    {
        format!(
            "The host name `{host}` could not be resolved (DNS): check the spelling of the URL and that this server's DNS knows the name."
        )
    } else if d.contains("certificate")
        || d.contains("tls")
        || d.contains("ssl")
        || d.contains("handshake")
        || d.contains("corrupt message")
        || d.contains("invalidcontenttype")
    {
        format!(
            "The secure connection to {host} failed (TLS): check that its certificate is valid for this host name, not expired, and trusted by this server (one signed by a private CA is trusted once that CA is: the app's `.tls_trust(…)`, `tower-oidc doctor --ca-file ca.pem` or `--native-roots`), and that the port speaks HTTPS."
        )
    } else if d.contains("connection refused") || d.contains("refused") {
        format!(
            "The connection to {host}:{port} was refused: nothing listens there. Check the port in the URL and that the instance is running."
        )
    } else {
        format!("The instance at {} could not be reached.", origin(url))
    };
    format!("Instance not reachable. {why} (Detail: {detail})")
}
