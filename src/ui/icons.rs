//! Inline SVG icons for the react-icons names the built-in providers use (simple shapes drawn
//! here, in each brand's colour; monochrome marks take the text colour, so they follow dark
//! mode), and a generic key for any other name. Decorative: hidden from assistive technology,
//! since the button's text names the provider.

macro_rules! svg {
    ($inner:literal) => {
        concat!(
            r#"<svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24">"#,
            $inner,
            "</svg>"
        )
    };
}

/// The inline SVG for an icon name.
pub(crate) fn svg(name: Option<&str>) -> &'static str {
    match name {
        // Authentik.
        Some("FaShieldAlt") => svg!(
            r##"<path fill="#fd4b2d" d="M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5z"/><path fill="#fff" d="M12 5v14c-3-1.2-5-4.6-5-8V7z" opacity=".45"/>"##
        ),
        // ZITADEL.
        Some("FaShield") => svg!(
            r##"<path fill="none" stroke="#6c5ce7" stroke-width="2.2" stroke-linejoin="round" d="M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5z"/>"##
        ),
        Some("FcGoogle") => svg!(
            r##"<path fill="none" stroke="#ea4335" stroke-width="3.2" d="M18.4 6.6A8.5 8.5 0 0 0 4.4 8.2"/><path fill="none" stroke="#fbbc05" stroke-width="3.2" d="M4.4 8.2a8.5 8.5 0 0 0 0 7.6"/><path fill="none" stroke="#34a853" stroke-width="3.2" d="M4.4 15.8a8.5 8.5 0 0 0 14.4 1.8"/><path fill="none" stroke="#4285f4" stroke-width="3.2" d="M18.8 17.6A8.5 8.5 0 0 0 20.5 12H12"/>"##
        ),
        Some("FaDiscord") => svg!(
            r##"<path fill="#5865f2" d="M5 5.5C7 4.3 9 4 9.5 4l.6 1.2c1.3-.2 2.5-.2 3.8 0L14.5 4c.5 0 2.5.3 4.5 1.5 2 3 3 6.5 2.8 11-1.7 1.3-3.4 2-5 2.5l-1.1-1.8c.7-.3 1.3-.6 1.9-1-3.6 1.7-7.6 1.7-11.2 0 .6.4 1.2.7 1.9 1l-1.1 1.8c-1.6-.5-3.3-1.2-5-2.5C2 12 3 8.5 5 5.5z"/><circle cx="9" cy="12.5" r="1.7" fill="#fff"/><circle cx="15" cy="12.5" r="1.7" fill="#fff"/>"##
        ),
        Some("SiGithub" | "FaGithub") => svg!(
            r##"<path fill="currentColor" d="M12 2a10 10 0 0 0-3.2 19.5c.5.1.7-.2.7-.5v-1.8c-2.8.6-3.4-1.3-3.4-1.3-.5-1.2-1.1-1.5-1.1-1.5-.9-.6.1-.6.1-.6 1 .1 1.5 1 1.5 1 .9 1.5 2.3 1.1 2.9.8.1-.6.3-1.1.6-1.3-2.2-.3-4.6-1.1-4.6-5 0-1.1.4-2 1-2.7-.1-.3-.4-1.3.1-2.7 0 0 .8-.3 2.8 1a9.6 9.6 0 0 1 5 0c1.9-1.3 2.8-1 2.8-1 .5 1.4.2 2.4.1 2.7.6.7 1 1.6 1 2.7 0 3.9-2.3 4.7-4.6 5 .4.3.7.9.7 1.9V21c0 .3.2.6.7.5A10 10 0 0 0 12 2z"/>"##
        ),
        Some("SiAuth0") => svg!(
            r##"<path fill="currentColor" d="m17.6 20.5-2-6.2 5.3-3.8h-6.5L12.4 4.3h6.5l2 6.2c1.2 3.6-.1 7.7-3.3 10zm-11.2 0 5.6 4-5.6-4zm0 0 5.6-4.1 5.2 4.1-5.2 3.9zm-3.3-10c-1.2 3.6.1 7.7 3.3 10l2-6.2-5.3-3.8h6.5l2-6.2H6.4l-3.3 6.2z"/>"##
        ),
        // Kinde, and any key.
        Some("FaKey") => svg!(
            r##"<circle cx="8" cy="12" r="4.5" fill="none" stroke="currentColor" stroke-width="2.5"/><path d="M12.5 12H22m-3 0v4m-3.5-4v3" stroke="currentColor" stroke-width="2.5" fill="none"/>"##
        ),
        // Frontegg.
        Some("FaEgg") => svg!(
            r##"<path fill="#5b5ff6" d="M12 2c3.6 0 7 6.3 7 11.2A7 7 0 0 1 12 22a7 7 0 0 1-7-8.8C5 8.3 8.4 2 12 2z"/>"##
        ),
        // Pocket ID.
        Some("BsFillPSquareFill") => svg!(
            r##"<rect x="2" y="2" width="20" height="20" rx="4" fill="currentColor"/><path fill="none" style="stroke:var(--card,#fff)" stroke-width="2.4" d="M9.5 18V6.5h3.5a3.3 3.3 0 0 1 0 6.6H9.5"/>"##
        ),
        Some("SiKeycloak") => svg!(
            r##"<path fill="#4d4d4d" d="M7 3h10l5 9-5 9H7l-5-9z"/><path fill="none" stroke="#33c6f4" stroke-width="2" d="m10 7-3 5 3 5m4-10 3 5-3 5"/>"##
        ),
        // Microsoft (Entra ID).
        Some("FaMicrosoft") => svg!(
            r##"<path fill="#f25022" d="M3 3h8.5v8.5H3z"/><path fill="#7fba00" d="M12.5 3H21v8.5h-8.5z"/><path fill="#00a4ef" d="M3 12.5h8.5V21H3z"/><path fill="#ffb900" d="M12.5 12.5H21V21h-8.5z"/>"##
        ),
        Some("SiGitlab") => svg!(
            r##"<path fill="#e24329" d="m12 21.5 3.7-11.3H8.3z"/><path fill="#fc6d26" d="M12 21.5 8.3 10.2H3.1zm0 0 3.7-11.3h5.2z"/><path fill="#fca326" d="m3.1 10.2-1.1 3.5c-.1.3 0 .7.3.9L12 21.5zm17.8 0 1.1 3.5c.1.3 0 .7-.3.9L12 21.5z"/><path fill="#e24329" d="M3.1 10.2h5.2L6.1 3.3c-.1-.4-.6-.4-.7 0zm17.8 0h-5.2l2.2-6.9c.1-.4.6-.4.7 0z"/>"##
        ),
        Some("SiOkta") => svg!(
            r##"<circle cx="12" cy="12" r="7.5" fill="none" stroke="currentColor" stroke-width="4"/>"##
        ),
        // Authelia.
        Some("FaUserShield") => svg!(
            r##"<path fill="#1976d2" d="M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5z"/><circle cx="12" cy="9.5" r="2.6" fill="#fff"/><path fill="#fff" d="M7.5 16.5c.6-2.3 2.4-3.6 4.5-3.6s3.9 1.3 4.5 3.6c-1.2 1.3-2.7 2.2-4.5 2.8-1.8-.6-3.3-1.5-4.5-2.8z"/>"##
        ),
        // Apple: a monochrome apple, in the text colour (Apple's marks are black or white).
        Some("FaApple") => svg!(
            r##"<path fill="currentColor" d="M16.4 12.6c0-2.3 1.9-3.4 2-3.5-1.1-1.6-2.8-1.8-3.4-1.8-1.4-.2-2.8.8-3.5.8-.7 0-1.8-.8-3-.8-1.6 0-3 .9-3.8 2.3-1.6 2.8-.4 7 1.2 9.2.8 1.1 1.7 2.3 2.9 2.3 1.1 0 1.6-.7 3-.7s1.8.7 3 .7c1.2 0 2-1.1 2.8-2.2.9-1.3 1.2-2.5 1.3-2.6-.1 0-2.5-1-2.5-3.7zM14.1 5.8c.6-.8 1.1-1.8 1-2.8-.9 0-2 .6-2.7 1.4-.6.7-1.1 1.7-1 2.7 1 .1 2-.5 2.7-1.3z"/>"##
        ),
        // Generic OpenID Connect.
        Some("FaOpenid") => svg!(
            r##"<path fill="#f78c40" d="M11 3.5 14 2v19l-3 1.5z"/><path fill="none" stroke="currentColor" stroke-width="1.8" d="M10 8.3C5.6 9 3 11 3 13.5c0 2.9 3.6 5.3 8 5.8m4.5-11c2 .3 3.7.9 5 1.8l-1.2-2.6m1.2 2.6-2.8.6"/>"##
        ),
        _ => svg!(
            r##"<circle cx="8" cy="12" r="4" fill="none" stroke="currentColor" stroke-width="2"/><path d="M12 12h9m-3 0v3" stroke="currentColor" stroke-width="2" fill="none"/>"##
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_provider_has_its_own_icon() {
        let generic = super::svg(Some("no such icon"));
        for spec in crate::config::Providers::builtin().iter() {
            let icon = spec.icon.as_deref();
            assert!(icon.is_some(), "{} has no icon", spec.id);
            assert_ne!(
                super::svg(icon),
                generic,
                "{}: {icon:?} draws the generic key",
                spec.id
            );
        }
    }
}
