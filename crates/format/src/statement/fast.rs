//! Reading a well-formed v1 statement without a `serde_json::Value` per resource.
//!
//! A statement of 20,000 resources parsed into a `Value` tree is 20,000 small maps
//! of owned strings: building and dropping them costs more than hashing the files.
//! Here the top level and the predicate are still read into `Value`s (they are
//! small), but `predicate.resources` is read straight into borrowed strings.
//!
//! This is only a fast path. Whenever anything is not exactly the common shape
//! (a key repeated, a field null or not a string, a resource that fails a check, a
//! legacy statement, invalid JSON), [`read`] returns `None` (or the checks the caller
//! then runs fail) and the caller parses
//! the `Value` tree as before, which accepts or rejects with the error naming the
//! field. So whenever it returns `Some`, the result is what that path gives.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::types::{DOC, PREDICATE_TYPE_V1, STATEMENT_TYPE};
use crate::json::Obj;

/// One resource's three fields, borrowed from the payload unless they held escapes.
pub(super) struct RawResource<'a> {
    pub(super) name: Cow<'a, str>,
    pub(super) algorithm: Cow<'a, str>,
    pub(super) digest: Cow<'a, str>,
}

/// A v1 statement read with its resources borrowed: the top level as a `Value`
/// (without `predicate.resources`) and the resources beside it.
pub(super) struct FastRead<'a> {
    pub(super) top: Value,
    pub(super) resources: Vec<RawResource<'a>>,
}

/// The statement's parts if it has the common v1 shape (`_type` and `predicateType`
/// already compared); `None` for anything else.
pub(super) fn read(payload: &[u8]) -> Option<FastRead<'_>> {
    let mut de = serde_json::Deserializer::from_slice(payload);
    let (top, resources) = de.deserialize_map(TopVisitor).ok()?;
    de.end().ok()?;
    let top = Value::Object(top);
    let st = Obj::new(DOC, "", &top).ok()?;
    if st.req_str("_type").ok()? != STATEMENT_TYPE
        || st.req_str("predicateType").ok()? != PREDICATE_TYPE_V1
    {
        return None;
    }
    Some(FastRead { top, resources })
}

/// A string, borrowed when the JSON held no escapes; any other JSON type is an error.
struct Str<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Str<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Puts `value` under `key` unless the key was seen before (the `Value` path lets the
/// last one win; here a repeated key just means "not the common shape").
fn insert_once<E: serde::de::Error>(
    map: &mut Map<String, Value>,
    key: String,
    value: Value,
) -> Result<(), E> {
    if map.contains_key(&key) {
        return Err(E::custom("repeated key"));
    }
    map.insert(key, value);
    Ok(())
}

/// The top-level object; `predicate` through [`PredicateVisitor`].
struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = (Map<String, Value>, Vec<RawResource<'de>>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an in-toto statement object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut top = Map::new();
        let mut resources = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "predicate" {
                if resources.is_some() {
                    return Err(A::Error::custom("repeated key"));
                }
                let (predicate, list) = map.next_value_seed(PredicateSeed)?;
                resources = Some(list);
                insert_once(&mut top, key, Value::Object(predicate))?;
            } else {
                let value = map.next_value::<Value>()?;
                insert_once(&mut top, key, value)?;
            }
        }
        let resources = resources.ok_or_else(|| A::Error::custom("no predicate"))?;
        Ok((top, resources))
    }
}

/// The predicate object without its `resources`, and the resources.
struct PredicateSeed;

impl<'de> DeserializeSeed<'de> for PredicateSeed {
    type Value = (Map<String, Value>, Vec<RawResource<'de>>);

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PredicateSeed {
    type Value = (Map<String, Value>, Vec<RawResource<'de>>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a predicate object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut predicate = Map::new();
        let mut resources = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "resources" {
                if resources.is_some() {
                    return Err(A::Error::custom("repeated key"));
                }
                resources = Some(map.next_value_seed(ResourcesSeed)?);
            } else {
                let value = map.next_value::<Value>()?;
                insert_once(&mut predicate, key, value)?;
            }
        }
        let resources = resources.ok_or_else(|| A::Error::custom("no resources"))?;
        Ok((predicate, resources))
    }
}

/// `predicate.resources`: an array of [`RawResource`] objects.
struct ResourcesSeed;

impl<'de> DeserializeSeed<'de> for ResourcesSeed {
    type Value = Vec<RawResource<'de>>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ResourcesSeed {
    type Value = Vec<RawResource<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of resources")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(r) = seq.next_element::<RawResource<'de>>()? {
            out.push(r);
        }
        Ok(out)
    }
}

impl<'de> serde::Deserialize<'de> for RawResource<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawResource<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a resource object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut name, mut algorithm, mut digest) = (None, None, None);
                while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
                    let slot = match key.as_ref() {
                        "name" => &mut name,
                        "algorithm" => &mut algorithm,
                        "digest" => &mut digest,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    if slot.is_some() {
                        return Err(A::Error::custom("repeated key"));
                    }
                    *slot = Some(map.next_value::<Str<'de>>()?.0);
                }
                match (name, algorithm, digest) {
                    (Some(name), Some(algorithm), Some(digest)) => Ok(RawResource {
                        name,
                        algorithm,
                        digest,
                    }),
                    _ => Err(A::Error::custom("a field is missing")),
                }
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use crate::limits::Limits;
    use crate::statement::parse_fast as parse;
    use crate::statement::parse_statement;

    const GOOD: &str = r#"{
  "_type": "https://in-toto.io/Statement/v1",
  "subject": [{"name": "m", "digest": {"sha256": "0101010101010101010101010101010101010101010101010101010101010101"}}],
  "predicateType": "https://model_signing/signature/v1.0",
  "predicate": {
    "serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false},
    "resources": [
      {"name": "a\u00e9/b.bin", "algorithm": "sha256", "digest": "0707070707070707070707070707070707070707070707070707070707070707", "extra": [1, {"x": null}]},
      {"digest": "08080808080808080808080808080808080808080808080808080808080808AA", "name": "./c", "algorithm": "sha256"}
    ],
    "future": {"k": 1}
  }
}"#;

    #[test]
    fn the_fast_path_agrees_with_the_value_path() {
        let limits = Limits::default();
        let fast = parse(GOOD.as_bytes(), &limits).expect("common shape");
        // Force the Value path by making the payload not the common shape, harmlessly.
        let slow_input = GOOD.replacen("\"future\"", "\"future\": 0, \"future\"", 1);
        assert!(parse(slow_input.as_bytes(), &limits).is_none());
        let slow = parse_statement(slow_input.as_bytes(), &limits).unwrap();
        assert_eq!(fast, slow);
        assert_eq!(fast.manifest.resources.get(0).unwrap().path, "aé/b.bin");
        assert_eq!(fast.manifest.resources.get(1).unwrap().path, "c");
    }

    #[test]
    fn anything_unusual_takes_the_value_path() {
        let limits = Limits::default();
        for bad in [
            GOOD.replace("\"name\": \"./c\"", "\"name\": null"),
            GOOD.replace("\"name\": \"./c\"", "\"name\": 7"),
            GOOD.replace("\"name\": \"./c\"", "\"name\": \"../c\""),
            GOOD.replace("\"name\": \"./c\"", "\"name\": \"a\u{e9}/b.bin\""),
            GOOD.replace("\"name\": \"./c\"", "\"name\": \"c\", \"name\": \"d\""),
            GOOD.replace(
                "\"algorithm\": \"sha256\", \"digest\"",
                "\"algorithm\": \"blake3\", \"digest\"",
            ),
            GOOD.replace("AA\"", "A\""),
            GOOD.replace("AA\"", "AG\""),
            GOOD.replace("signature/v1.0", "Digests/v0.1"),
            GOOD.replace("\"predicate\": {", "\"predicate\": null, \"predicate\": {"),
            GOOD.replace("\"resources\": [", "\"resources\": 1, \"resources\": ["),
            format!("{GOOD} x"),
            "[]".to_owned(),
        ] {
            assert!(parse(bad.as_bytes(), &limits).is_none(), "{bad}");
        }
        let few = Limits {
            max_resources: 1,
            ..Limits::default()
        };
        assert!(parse(GOOD.as_bytes(), &few).is_none());
    }
}
