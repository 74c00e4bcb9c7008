use std::collections::BTreeMap;

use super::*;

/// The keys `other` lacks and the keys it has that English lacks.
fn key_differences(
    en: &BTreeMap<String, String>,
    other: &BTreeMap<String, String>,
) -> (Vec<String>, Vec<String>) {
    let missing = en
        .keys()
        .filter(|k| !other.contains_key(*k))
        .cloned()
        .collect();
    let extra = other
        .keys()
        .filter(|k| !en.contains_key(*k))
        .cloned()
        .collect();
    (missing, extra)
}

/// The `{placeholders}` of a message.
fn placeholders(s: &str) -> Vec<&str> {
    let mut out: Vec<&str> = s
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    out.sort_unstable();
    out
}

#[test]
fn every_catalog_parses() {
    for (src, tag) in SOURCES.iter().zip(LANGUAGES) {
        if let Err(e) = toml::from_str::<toml::Table>(src) {
            panic!("src/ui/i18n/{tag}.toml: {e}");
        }
    }
}

#[test]
fn every_catalog_has_exactly_the_english_keys() {
    let all = catalogs();
    let en = &all[0].flat;
    assert!(en.len() > 50, "the English catalog is nearly empty");
    for c in &all[1..] {
        let (missing, extra) = key_differences(en, &c.flat);
        assert!(missing.is_empty(), "{}.toml lacks {missing:?}", c.tag);
        assert!(
            extra.is_empty(),
            "{}.toml has keys English lacks: {extra:?}",
            c.tag
        );
        for (k, v) in &c.flat {
            assert!(!v.trim().is_empty(), "{}.toml: {k} is empty", c.tag);
            assert_eq!(placeholders(v), placeholders(&en[k]), "{}.toml: {k}", c.tag);
        }
    }
}

#[test]
fn the_completeness_check_catches_a_missing_and_an_extra_key() {
    let en: BTreeMap<String, String> = [("a", "A"), ("b", "B")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let other: BTreeMap<String, String> = [("a", "A"), ("c", "C")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(
        key_differences(&en, &other),
        (vec!["b".to_owned()], vec!["c".to_owned()])
    );
}

#[test]
fn accept_language_picks_by_quality_and_falls_back() {
    let tag = |h: &str| negotiate(h).tag;
    assert_eq!(tag("de"), "de");
    assert_eq!(tag("fr-CA"), "fr");
    assert_eq!(tag("fr-CA,fr;q=0.9,en;q=0.8"), "fr");
    assert_eq!(tag("pt"), "pt-BR");
    assert_eq!(tag("pt-PT"), "pt-BR");
    assert_eq!(tag("PT-br"), "pt-BR");
    assert_eq!(tag("zh"), "zh-CN");
    assert_eq!(tag("zh-Hans-CN"), "zh-CN");
    assert_eq!(tag("ja-JP"), "ja");
    assert_eq!(tag("es-419"), "es");
    // Traditional Chinese has no catalog: the next language the browser accepts.
    assert_eq!(tag("zh-TW,ja;q=0.5"), "ja");
    // Quality decides, not order; q=0 means "not this one".
    assert_eq!(tag("en;q=0.3, de;q=0.9"), "de");
    assert_eq!(tag("de;q=0, fr;q=0.1"), "fr");
    // Unknown, empty, a wildcard or garbage: English.
    assert_eq!(tag("xx-YY"), "en");
    assert_eq!(tag(""), "en");
    assert_eq!(tag("*"), "en");
    assert_eq!(tag(";;;,q=,de;q=abc"), "en");
    assert_eq!(tag("de;q=2"), "en");
}

#[test]
fn the_app_can_fix_or_choose_the_language() {
    let mut h = HeaderMap::new();
    h.insert("accept-language", "fr".parse().unwrap());
    let fixed = Chooser::new(PageLanguage::Fixed("ja".into())).unwrap();
    assert_eq!(fixed.choose(&h).tag, "ja");
    assert!(Chooser::new(PageLanguage::Fixed("tlh".into())).is_err());
    let per = Chooser::new(PageLanguage::PerRequest(Arc::new(|h: &HeaderMap| {
        h.get("x-lang").map(|v| v.to_str().unwrap_or("").to_owned())
    })))
    .unwrap();
    assert_eq!(per.choose(&h).tag, "fr", "no choice: Accept-Language");
    h.insert("x-lang", "es-MX".parse().unwrap());
    assert_eq!(per.choose(&h).tag, "es");
    h.insert("x-lang", "tlh".parse().unwrap());
    assert_eq!(per.choose(&h).tag, "fr", "no catalog: Accept-Language");
}
