//! The one canonical form of an email address, used for linking and uniqueness.

/// The canonical form of an email: trimmed and lower-cased, or `None` when the address is not a
/// plain `local@domain` that can safely be compared.
///
/// Refused (so they never link or collide): anything but printable ASCII (this excludes the
/// full-width `＠` and other look-alikes, IDN in Unicode form — punycode `xn--` domains pass —,
/// NUL, CR and LF), more or fewer than one `@`, an empty part, a domain that ends in `.` or has
/// empty labels, and addresses longer than 254 characters.
///
/// ```
/// use tower_oidc::identity::canonical_email;
/// assert_eq!(canonical_email(" Victim@Corp.com ").as_deref(), Some("victim@corp.com"));
/// assert_eq!(canonical_email("victim＠corp.com"), None);
/// assert_eq!(canonical_email("a@evil.com@corp.com"), None);
/// assert_eq!(canonical_email("victim@corp.com."), None);
/// ```
pub fn canonical_email(raw: &str) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 254 {
        return None;
    }
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let (local, domain) = s.split_once('@')?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') || local.len() > 64 {
        return None;
    }
    if domain.split('.').any(|l| l.is_empty()) || !domain.contains('.') && domain != "localhost" {
        return None;
    }
    if !domain
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return None;
    }
    Some(s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::canonical_email;

    #[test]
    fn hostile_addresses_are_refused() {
        for bad in [
            "victim＠corp.com",
            "a@evil.com@corp.com",
            "victim@corp.com.",
            "victim@corp..com",
            "victim@",
            "@corp.com",
            "vic\0tim@corp.com",
            "victim@corp.com\r\nBcc: x",
            "victim@cörp.com",
            "victim@corp_com.com",
            "no-at-sign",
        ] {
            assert_eq!(canonical_email(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn one_canonical_form() {
        assert_eq!(
            canonical_email("Victim@Corp.COM").as_deref(),
            Some("victim@corp.com")
        );
        assert_eq!(
            canonical_email("x@xn--crp-qoa.com").as_deref(),
            Some("x@xn--crp-qoa.com")
        );
    }
}
