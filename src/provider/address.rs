//! Which addresses identity-provider endpoints may live at (security matrix case N3).
//!
//! A discovery document is data from the network: a compromised or hostile provider (or a
//! typo'd provider URL pointing at the wrong host) can advertise a `jwks_uri`, token or userinfo
//! endpoint on `169.254.169.254`, and the app would then send requests — with the client secret,
//! for the token endpoint — to its cloud's metadata service. No real identity provider lives at
//! a link-local or metadata address, so those are refused by default; the strict policy also
//! refuses private, shared (CGNAT) and loopback addresses, for apps whose providers are all on
//! the public internet.
//!
//! The check runs on every URL the layer would use for a provider — the discovery URL and the
//! endpoints of the spec's templates, every endpoint a discovery document advertises, and again
//! on every request ([`super::http::IdpClient`]) — and, for host names, on the addresses DNS
//! resolves them to (a custom resolver in the same client drops refused addresses, so a name
//! that resolves only to refused addresses is refused, and one with a mix connects only to the
//! allowed ones).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Which addresses identity-provider endpoints are refused at, set with
/// [`OidcLayerBuilder::endpoint_policy`](crate::OidcLayerBuilder::endpoint_policy).
///
/// The check covers IP literals in endpoint URLs (from discovery and from the spec's templates)
/// and the addresses host names resolve to. A refused endpoint ends the sign-in with
/// `provider_misconfigured`, and the log names the endpoint.
///
/// ```
/// use tower_oidc::provider::EndpointPolicy;
/// let metadata = "169.254.169.254".parse().unwrap();
/// let private = "10.0.0.7".parse().unwrap();
/// let loopback = "127.0.0.1".parse().unwrap();
/// assert!(EndpointPolicy::default().refuses(metadata).is_some());
/// assert!(EndpointPolicy::default().refuses(private).is_none());
/// assert!(EndpointPolicy::default().refuses(loopback).is_none());
/// assert!(EndpointPolicy::Strict.refuses(private).is_some());
/// assert!(EndpointPolicy::Strict.refuses(loopback).is_some());
/// assert!(EndpointPolicy::AllowAll.refuses(metadata).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EndpointPolicy {
    /// Refuse nothing by address (only the https-or-loopback rule applies). For the rare
    /// network where a provider really is reached over a link-local address.
    AllowAll,
    /// The default: refuse link-local addresses (`169.254.0.0/16`, `fe80::/10`) and the cloud
    /// metadata addresses outside them (`fd00:ec2::254` on AWS, `100.100.100.200` on Alibaba
    /// Cloud, `168.63.129.16` on Azure). Private and loopback addresses stay allowed: providers
    /// on the company network, and local fakes in tests and the quickstart.
    #[default]
    DenyLinkLocal,
    /// Also refuse loopback (`127.0.0.0/8`, `::1`), the unspecified addresses (`0.0.0.0/8`,
    /// `::`), private ranges (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `fc00::/7`) and
    /// shared address space (`100.64.0.0/10`): for apps whose providers are all on the public
    /// internet.
    Strict,
}

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusedAddress {
    /// A cloud metadata service address.
    Metadata,
    /// Link-local (`169.254.0.0/16`, `fe80::/10`).
    LinkLocal,
    /// Loopback or unspecified (strict policy).
    Loopback,
    /// Private or shared address space (strict policy).
    Private,
}

impl fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RefusedAddress::Metadata => "a cloud metadata service address",
            RefusedAddress::LinkLocal => "a link-local address",
            RefusedAddress::Loopback => {
                "a loopback address (refused by the strict endpoint policy)"
            }
            RefusedAddress::Private => "a private address (refused by the strict endpoint policy)",
        })
    }
}

/// The IPv4 address an IPv6 address stands for, when it is IPv4-mapped (`::ffff:a.b.c.d`) or
/// in the NAT64 well-known prefix (`64:ff9b::a.b.c.d`), so neither form slips past the IPv4
/// rules.
fn embedded_v4(ip: &Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return Some(Ipv4Addr::new(a, b, c, d));
    }
    None
}

fn classify_v4(ip: Ipv4Addr) -> Option<RefusedAddress> {
    const METADATA: [Ipv4Addr; 4] = [
        Ipv4Addr::new(169, 254, 169, 254),
        Ipv4Addr::new(169, 254, 170, 2),
        Ipv4Addr::new(100, 100, 100, 200),
        Ipv4Addr::new(168, 63, 129, 16),
    ];
    let o = ip.octets();
    if METADATA.contains(&ip) {
        Some(RefusedAddress::Metadata)
    } else if ip.is_link_local() {
        Some(RefusedAddress::LinkLocal)
    } else if ip.is_loopback() || o[0] == 0 {
        Some(RefusedAddress::Loopback)
    } else if ip.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
        Some(RefusedAddress::Private)
    } else {
        None
    }
}

fn classify(ip: IpAddr) -> Option<RefusedAddress> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(&v6) {
                return classify_v4(v4);
            }
            let s = v6.segments();
            if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
                Some(RefusedAddress::Metadata)
            } else if (s[0] & 0xffc0) == 0xfe80 {
                Some(RefusedAddress::LinkLocal)
            } else if v6.is_loopback() || v6.is_unspecified() {
                Some(RefusedAddress::Loopback)
            } else if (s[0] & 0xfe00) == 0xfc00 {
                Some(RefusedAddress::Private)
            } else {
                None
            }
        }
    }
}

impl EndpointPolicy {
    /// Why this policy refuses `ip`, or `None` when it is allowed.
    pub fn refuses(self, ip: IpAddr) -> Option<RefusedAddress> {
        let why = classify(ip)?;
        match (self, why) {
            (EndpointPolicy::AllowAll, _) => None,
            (EndpointPolicy::DenyLinkLocal, RefusedAddress::Loopback | RefusedAddress::Private) => {
                None
            }
            _ => Some(why),
        }
    }

    /// Checks the host of `url` when it is an IP literal (host names are checked when they are
    /// resolved). The error says which address and why, for the caller to prefix with the
    /// endpoint's name; a URL that does not parse is left to the URL checks.
    pub(crate) fn check_url(self, url: &str) -> Result<(), String> {
        match url::Url::parse(url) {
            Ok(u) => self.check_parsed(&u, url),
            Err(_) => Ok(()),
        }
    }

    /// [`check_url`](Self::check_url) of a URL already parsed (`url` is its text, for the
    /// message).
    pub(crate) fn check_parsed(self, u: &url::Url, url: &str) -> Result<(), String> {
        let ip = match u.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        match self.refuses(ip) {
            Some(why) => Err(format!(
                "`{}` is on {ip}, {why}; no identity provider is expected there (endpoint policy {self:?})",
                super::http::redact_url(url)
            )),
            None => Ok(()),
        }
    }
}

/// The error a resolver returns when every address of a name is refused; the HTTP client finds
/// it in the error's source chain and reports `provider_misconfigured`.
#[derive(Debug)]
pub(crate) struct RefusedName {
    pub name: String,
    pub refused: Vec<(IpAddr, RefusedAddress)>,
}

impl fmt::Display for RefusedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` resolves only to refused addresses:", self.name)?;
        for (i, (ip, why)) in self.refused.iter().enumerate() {
            write!(f, "{} {ip} ({why})", if i == 0 { "" } else { "," })?;
        }
        f.write_str("; no identity provider is expected there")
    }
}

impl std::error::Error for RefusedName {}

/// A DNS resolver (the system's, through `getaddrinfo`) that drops the addresses the policy
/// refuses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PolicyResolver(pub EndpointPolicy);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = addrs
                .into_iter()
                .partition(|a| policy.refuses(a.ip()).is_none());
            if allowed.is_empty() && !refused.is_empty() {
                let refused = refused
                    .iter()
                    .filter_map(|a| policy.refuses(a.ip()).map(|why| (a.ip(), why)))
                    .collect();
                return Err(Box::new(RefusedName {
                    name: host,
                    refused,
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            if !refused.is_empty() {
                tracing::warn!(
                    host = %host,
                    refused = refused.len(),
                    "identity provider host resolves to refused addresses too; using only the allowed ones"
                );
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether `e` (or an error in its source chain) is a [`RefusedName`]; its text if so.
pub(crate) fn refused_name_in(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut depth = 0;
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<RefusedName>() {
            return Some(r.to_string());
        }
        cur = err.source();
        depth += 1;
        if depth > 8 {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn default_refuses_link_local_and_metadata_only() {
        let p = EndpointPolicy::default();
        for s in [
            "169.254.169.254",
            "169.254.170.2",
            "169.254.0.1",
            "169.254.255.255",
            "fe80::1",
            "febf::1",
            "fd00:ec2::254",
            "100.100.100.200",
            "168.63.129.16",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(p.refuses(ip(s)).is_some(), "{s}");
        }
        for s in [
            "127.0.0.1",
            "::1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "fd12::1",
            "8.8.8.8",
            "2001:db8::1",
            "169.253.255.255",
            "169.255.0.0",
            "fec0::1",
        ] {
            assert!(p.refuses(ip(s)).is_none(), "{s}");
        }
    }

    #[test]
    fn strict_also_refuses_private_loopback_and_shared() {
        let p = EndpointPolicy::Strict;
        for s in [
            "127.0.0.1",
            "127.255.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "fc00::1",
            "fdff::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "169.254.169.254",
        ] {
            assert!(p.refuses(ip(s)).is_some(), "{s}");
        }
        for s in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1",
            "1.1.1.1",
        ] {
            assert!(p.refuses(ip(s)).is_none(), "{s}");
        }
    }

    #[test]
    fn urls_with_ip_literals_in_any_spelling() {
        let p = EndpointPolicy::default();
        for u in [
            "http://169.254.169.254/latest/meta-data/",
            "https://169.254.169.254:8443/x",
            "https://[fe80::1]/jwks",
            "https://[::ffff:169.254.169.254]/",
            "https://[::ffff:a9fe:a9fe]/",
            // WHATWG host parsing: hex, octal and short forms are IPv4 literals too.
            "http://0xa9fea9fe/",
            "http://0251.0376.0251.0376/",
            "http://169.254.43518/",
            "http://2852039166/",
        ] {
            let e = p.check_url(u).unwrap_err();
            assert!(
                e.contains("169.254.169.254") || e.contains("fe80::1"),
                "{u}: {e}"
            );
        }
        for u in [
            "https://auth.example.com/token",
            "http://127.0.0.1:9000/x",
            "http://localhost/x",
            "not a url",
        ] {
            assert!(p.check_url(u).is_ok(), "{u}");
        }
        assert!(
            EndpointPolicy::Strict
                .check_url("http://127.0.0.1:9/")
                .is_err()
        );
        assert!(
            EndpointPolicy::AllowAll
                .check_url("http://169.254.169.254/")
                .is_ok()
        );
    }

    #[test]
    fn the_refused_query_and_credentials_are_not_in_the_message() {
        let e = EndpointPolicy::default()
            .check_url("https://user:pw@169.254.1.1/cb?code=secret")
            .unwrap_err();
        assert!(!e.contains("secret") && !e.contains("pw"), "{e}");
    }

    #[tokio::test]
    async fn resolver_refuses_names_with_only_refused_addresses() {
        use reqwest::dns::Resolve as _;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let err = match PolicyResolver(EndpointPolicy::Strict).resolve(name).await {
            Ok(_) => panic!("localhost resolved under the strict policy"),
            Err(e) => e,
        };
        assert!(refused_name_in(err.as_ref()).is_some(), "{err}");
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let addrs: Vec<SocketAddr> = PolicyResolver(EndpointPolicy::default())
            .resolve(name)
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
