//! The JSON Schema of `providers.toml` (feature `schema`), for editors: Taplo and Even Better
//! TOML read it through the `#:schema` directive or a `.taplo.toml` association.
//!
//! The schema is derived with `schemars` from the very types the parser deserializes into
//! ([`super::raw`]): the tables, their keys, the closed sets (protocols, client authentication,
//! PKCE, email trust) and the refusal of unknown keys (`deny_unknown_fields` becomes
//! `additionalProperties: false`) cannot drift from the parser. The descriptions are those
//! types' doc comments; the examples and the patterns of values the parser checks itself
//! (templates, ids, algorithms) are added here, key by key. The repository commits the result
//! as `schema/providers.schema.json`; a test compares the two.

use serde_json::{Map, Value, json};

use super::raw::{OneOrMany, RawFile};

mod extras;
use extras::extras;

impl schemars::JsonSchema for OneOrMany {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ClaimRules".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let rule = json!({
            "type": "string",
            "minLength": 1,
            "description": "A claim name, a dotted path (`address.country`), a path through an array filter (`emails[verified=true].email`), or a template with `{path}` placeholders (`{given_name} {family_name}`)."
        });
        schemars::json_schema!({
            "description": "A rule, or a list of rules tried in order (the first that yields a value wins); `[]` leaves the field unmapped.",
            "anyOf": [rule, {"type": "array", "items": rule}]
        })
    }
}

/// `extra`'s members over `base`'s (objects merged one level deep, e.g. `items`).
fn merge(mut base: Value, extra: &Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        for (k, v) in e {
            match (b.get_mut(k), v) {
                (Some(Value::Object(bo)), Value::Object(eo)) => {
                    bo.extend(eo.clone());
                }
                _ => {
                    b.insert(k.clone(), v.clone());
                }
            }
        }
    }
    base
}

/// TOML has no null: `Option` is an absent key, so a `null` alternative is dropped.
fn drop_null(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(types)) = m.get_mut("type") {
                types.retain(|t| t != "null");
                if let [one] = types.as_slice() {
                    let one = one.clone();
                    m.insert("type".into(), one);
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(alts)) = m.get_mut(key) {
                    alts.retain(|a| a.get("type").and_then(Value::as_str) != Some("null"));
                    if let [one] = alts.as_slice() {
                        let one = one.clone();
                        m.remove(key);
                        if let Value::Object(o) = one {
                            m.extend(o);
                        }
                    }
                }
            }
            m.values_mut().for_each(drop_null);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_null),
        _ => {}
    }
}

/// In draft-07 the keywords beside a `$ref` are ignored: the reference moves into an `allOf`, so
/// a key's description and examples stay in force.
fn wrap_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.len() > 1
                && let Some(r) = m.remove("$ref")
            {
                m.insert("allOf".into(), json!([{"$ref": r}]));
            }
            m.values_mut().for_each(wrap_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(wrap_refs),
        _ => {}
    }
}

/// A closed set of `const` alternatives also gets an `enum` (editors complete from either).
fn add_enums(v: &mut Value) {
    if let Value::Object(m) = v {
        let consts: Option<Vec<Value>> = m.get("oneOf").and_then(Value::as_array).map(|alts| {
            alts.iter()
                .filter_map(|a| a.get("const").cloned())
                .collect()
        });
        if let Some(c) = consts.filter(|c| {
            !c.is_empty() && Some(c.len()) == m.get("oneOf").and_then(Value::as_array).map(Vec::len)
        }) {
            m.insert("enum".into(), Value::Array(c));
        }
        m.values_mut().for_each(add_enums);
    }
}

/// The same value with every object's keys in order, whatever `serde_json`'s map is, and each
/// description's lines (wrapped in the doc comments) joined into paragraphs.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) if m.get("description").is_some_and(Value::is_string) => {
            let mut m = m;
            if let Some(Value::String(d)) = m.get_mut("description") {
                *d = d
                    .split("\n\n")
                    .map(|p| p.replace('\n', " "))
                    .collect::<Vec<_>>()
                    .join("\n\n");
            }
            sorted_object(m)
        }
        Value::Object(m) => sorted_object(m),
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn sorted_object(m: Map<String, Value>) -> Value {
    let mut pairs: Vec<(String, Value)> = m.into_iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(pairs.into_iter().map(|(k, v)| (k, sorted(v))).collect())
}

/// The JSON Schema (draft-07, which Taplo and most editors read) of a `providers.toml` file.
///
/// ```
/// let schema = tower_oidc::config::json_schema();
/// assert_eq!(schema["additionalProperties"], false);
/// assert!(schema["definitions"]["Provider"]["properties"]["issuer"]["pattern"].is_string());
/// ```
pub fn json_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<RawFile>().to_value();
    drop_null(&mut schema);
    wrap_refs(&mut schema);
    add_enums(&mut schema);
    if let Value::Object(root) = &mut schema {
        root.insert(
            "description".into(),
            json!("A tower-oidc providers.toml: `[providers.<id>]` provider specs and `[settings.<id>]` seeded settings. Reference: docs/providers-toml.md. Generated by `tower-oidc schema`."),
        );
    }
    for (def, key, extra) in extras() {
        let props = if def.is_empty() {
            &mut schema["properties"]
        } else {
            &mut schema["definitions"][def]["properties"]
        };
        if let Some(p) = props.get_mut(key) {
            *p = merge(p.take(), &extra);
        }
    }
    sorted(schema)
}

/// [`json_schema`] as the committed `schema/providers.schema.json` holds it: pretty-printed,
/// with a final newline.
pub fn json_schema_string() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    s.push('\n');
    s
}
