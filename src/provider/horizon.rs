//! Split horizon: a provider the server reaches at another address (`internal_url`, e.g.
//! `http://authentik-server:9000` in docker-compose) than the one browsers use (`url`). Every
//! server-side request to the public origin — discovery, JWKS, token, userinfo, revocation, the
//! spec's extra requests — goes to the internal origin instead, with `X-Forwarded-Host` and
//! `X-Forwarded-Proto` naming the public one: Authentik builds its issuer (and every URL in its
//! discovery document) from the request's host, and trusts these headers from private
//! addresses, so it answers as it would to a browser. Browser-facing URLs (authorize,
//! end-session) never pass through the server's HTTP client, so they stay public.

use std::sync::{Arc, RwLock};

/// One provider's two origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Horizon {
    /// `scheme://host[:port]` browsers use, as `url::Origin` serializes it.
    public: String,
    /// Where the server goes instead (scheme, host, port).
    internal: url::Url,
    /// `X-Forwarded-Host`: the public host (with a non-default port).
    forwarded_host: String,
    /// `X-Forwarded-Proto`: the public scheme.
    forwarded_proto: String,
}

impl Horizon {
    /// The horizon of a provider whose public URL is `url` and internal URL `internal`, when
    /// both parse and differ.
    pub fn of(url: &str, internal: &str) -> Option<Horizon> {
        let public = url::Url::parse(url).ok()?;
        let internal = url::Url::parse(internal).ok()?;
        let origin = public.origin();
        if !origin.is_tuple() || origin == internal.origin() {
            return None;
        }
        let host = public.host_str()?;
        let forwarded_host = match public.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        Some(Horizon {
            public: origin.ascii_serialization(),
            internal,
            forwarded_host,
            forwarded_proto: public.scheme().to_owned(),
        })
    }
}

/// A server-side request's target: the URL to send to, and the forwarded headers to add.
pub(crate) struct Routed {
    pub url: String,
    pub forwarded: Option<(String, String)>,
}

/// The horizons of the providers, by provider id (replaced when settings change).
#[derive(Default, Clone)]
pub(crate) struct Horizons(Arc<RwLock<Vec<(String, Horizon)>>>);

impl Horizons {
    /// Sets (or with `None` removes) the horizon of provider `id`.
    pub fn set(&self, id: &str, horizon: Option<Horizon>) {
        let mut all = self.0.write().unwrap_or_else(|p| p.into_inner());
        all.retain(|(p, _)| p != id);
        if let Some(h) = horizon {
            all.push((id.to_owned(), h));
        }
    }

    /// Where the server sends a request for `url`.
    pub fn route(&self, url: &str) -> Routed {
        let plain = || Routed {
            url: url.to_owned(),
            forwarded: None,
        };
        let all = self.0.read().unwrap_or_else(|p| p.into_inner());
        if all.is_empty() {
            return plain();
        }
        let Ok(mut parsed) = url::Url::parse(url) else {
            return plain();
        };
        let origin = parsed.origin().ascii_serialization();
        let Some((_, h)) = all.iter().find(|(_, h)| h.public == origin) else {
            return plain();
        };
        let moved = parsed.set_scheme(h.internal.scheme()).is_ok()
            && parsed.set_host(h.internal.host_str()).is_ok()
            && parsed.set_port(h.internal.port()).is_ok();
        if !moved {
            return plain();
        }
        Routed {
            url: parsed.to_string(),
            forwarded: Some((h.forwarded_host.clone(), h.forwarded_proto.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_go_to_the_internal_origin_with_forwarded_headers() {
        let hs = Horizons::default();
        hs.set(
            "authentik",
            Horizon::of("https://auth.example.com", "http://authentik-server:9000"),
        );
        let r = hs.route("https://auth.example.com/application/o/token/?x=1");
        assert_eq!(
            r.url,
            "http://authentik-server:9000/application/o/token/?x=1"
        );
        assert_eq!(
            r.forwarded,
            Some(("auth.example.com".into(), "https".into()))
        );
        // Another origin, or the same host on another port, is left alone.
        for other in [
            "https://other.example.com/x",
            "https://auth.example.com:8443/x",
            "http://auth.example.com/x",
        ] {
            let r = hs.route(other);
            assert_eq!(r.url, other);
            assert!(r.forwarded.is_none());
        }
        // A public URL with a port keeps it in X-Forwarded-Host.
        hs.set(
            "authentik",
            Horizon::of("http://127.0.0.1:9443", "http://127.0.0.1:9000"),
        );
        let r = hs.route("http://127.0.0.1:9443/a/");
        assert_eq!(r.url, "http://127.0.0.1:9000/a/");
        assert_eq!(r.forwarded.unwrap().0, "127.0.0.1:9443");
        hs.set("authentik", None);
        assert_eq!(
            hs.route("http://127.0.0.1:9443/a/").url,
            "http://127.0.0.1:9443/a/"
        );
        assert!(Horizon::of("https://a.example", "https://a.example").is_none());
    }
}
