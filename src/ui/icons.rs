//! Inline SVG icons for the react-icons names the built-in providers use (drawn here, simple
//! shapes), and a generic key for any other name.

/// The inline SVG for an icon name.
pub(crate) fn svg(name: Option<&str>) -> &'static str {
    match name {
        Some("FaShieldAlt" | "FaShield") => {
            r##"<svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" style="vertical-align:-3px"><path fill="#fd4b2d" d="M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5z"/></svg>"##
        }
        Some("FcGoogle") => {
            r##"<svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" style="vertical-align:-3px"><circle cx="12" cy="12" r="10" fill="none" stroke="#4285f4" stroke-width="4"/></svg>"##
        }
        Some("SiGithub" | "FaGithub") => {
            r##"<svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" style="vertical-align:-3px"><circle cx="12" cy="12" r="10" fill="#24292f"/></svg>"##
        }
        _ => {
            r##"<svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" style="vertical-align:-3px"><circle cx="8" cy="12" r="4" fill="none" stroke="#555" stroke-width="2"/><path d="M12 12h9m-3 0v3" stroke="#555" stroke-width="2"/></svg>"##
        }
    }
}
