//! Borrowed, serializable views of an OMS statement, fields in the reference's key
//! order, so [`super::build_statement`] can print a manifest through serde_json's
//! pretty printer without building a `Value` tree first.

use std::fmt;

use serde::ser::{SerializeSeq as _, SerializeStruct as _};
use serde::{Serialize, Serializer};

use crate::resources::{Resource as Entry, Resources as List};

#[derive(Serialize)]
pub(super) struct Statement<'a, R: Serialize> {
    #[serde(rename = "_type")]
    pub(super) ty: &'static str,
    pub(super) subject: [Subject<'a>; 1],
    #[serde(rename = "predicateType")]
    pub(super) predicate_type: &'static str,
    pub(super) predicate: Predicate<'a, R>,
}

#[derive(Serialize)]
pub(super) struct Subject<'a> {
    pub(super) name: &'a str,
    pub(super) digest: RootDigest<'a>,
}

#[derive(Serialize)]
pub(super) struct RootDigest<'a> {
    pub(super) sha256: Hex<'a>,
}

#[derive(Serialize)]
pub(super) struct Predicate<'a, R: Serialize> {
    pub(super) serialization: Serialization<'a>,
    pub(super) resources: R,
}

#[derive(Serialize)]
pub(super) struct Serialization<'a> {
    pub(super) method: &'static str,
    pub(super) hash_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) shard_size: Option<u64>,
    pub(super) allow_symlinks: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub(super) ignore_paths: &'a [String],
}

pub(super) struct Resources<'a>(pub(super) &'a List);

impl Serialize for Resources<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for r in self.0 {
            seq.serialize_element(&Resource(r))?;
        }
        seq.end()
    }
}

/// Resources handed out one at a time by a function (read from a file as a stream): it
/// calls its argument with each resource in order, and stops when that returns false.
/// Hands one resource to a statement being written; false: stop.
pub type Emit<'a> = dyn FnMut(Entry<'_>) -> bool + 'a;

/// Calls its argument with each resource in order (see
/// [`super::write_statement_pulling`]).
pub type Pull<'a> = dyn FnMut(&mut Emit<'_>) + 'a;

pub(super) struct Pulled<'f, 'p>(pub(super) std::cell::RefCell<&'f mut Pull<'p>>);

impl Serialize for Pulled<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let mut failed = None;
        let mut pull = self.0.borrow_mut();
        pull(&mut |r| match seq.serialize_element(&Resource(r)) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        });
        match failed {
            Some(e) => Err(e),
            None => seq.end(),
        }
    }
}

struct Resource<'a>(Entry<'a>);

impl Serialize for Resource<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Resource", 3)?;
        match self.0.range {
            None => m.serialize_field("name", self.0.path)?,
            Some(_) => m.serialize_field("name", &Display(&self.0))?,
        }
        m.serialize_field("algorithm", self.0.algorithm)?;
        m.serialize_field("digest", &Hex(self.0.digest))?;
        m.end()
    }
}

/// Serializes a `Display` value as a JSON string, without an intermediate `String`.
struct Display<'a, T: fmt::Display>(&'a T);

impl<T: fmt::Display> Serialize for Display<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

/// Lower-case hex of bytes, as a JSON string.
pub(super) struct Hex<'a>(pub(super) &'a [u8]);

impl Serialize for Hex<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        // Digests are at most 64 bytes; longer input takes the allocating path.
        let mut stack = [0u8; 128];
        if let Some(out) = stack.get_mut(..self.0.len() * 2) {
            for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
                pair[0] = DIGITS[usize::from(b >> 4)];
                pair[1] = DIGITS[usize::from(b & 15)];
            }
            // Only ASCII hex digits were written.
            s.serialize_str(std::str::from_utf8(out).unwrap_or_default())
        } else {
            s.serialize_str(&hex::encode(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::digest::HashAlgorithm;
    use crate::manifest::{Manifest, ResourceDigest, Serialization, SerializationParams};
    use crate::resource::ResourceName;
    use crate::resources::Resources;
    use crate::statement::{PREDICATE_TYPE_V1, STATEMENT_TYPE, build_statement};

    /// The builder before it wrote directly: a `serde_json::Value` tree printed pretty.
    fn build_statement_via_value(manifest: &Manifest, root_digest: &[u8; 32]) -> Vec<u8> {
        use serde_json::{Map, json};
        let p = &manifest.params;
        let mut ser = Map::new();
        ser.insert("method".into(), json!(p.method.method()));
        ser.insert("hash_type".into(), json!(p.hash.name()));
        if let Serialization::Shards { shard_size } = p.method {
            ser.insert("shard_size".into(), json!(shard_size));
        }
        ser.insert("allow_symlinks".into(), json!(p.allow_symlinks));
        if !p.ignore_paths.is_empty() {
            ser.insert("ignore_paths".into(), json!(p.ignore_paths));
        }
        let resources: Vec<Value> = manifest
            .resources
            .iter()
            .map(|r| {
                json!({
                    "name": r.to_string(),
                    "algorithm": r.algorithm,
                    "digest": hex::encode(r.digest),
                })
            })
            .collect();
        let st = json!({
            "_type": STATEMENT_TYPE,
            "subject": [{ "name": manifest.model_name, "digest": { "sha256": hex::encode(root_digest) } }],
            "predicateType": PREDICATE_TYPE_V1,
            "predicate": { "serialization": Value::Object(ser), "resources": resources },
        });
        serde_json::to_vec_pretty(&st).unwrap()
    }

    #[test]
    fn direct_writer_is_byte_identical_to_the_value_tree() {
        let names = [
            "a.bin",
            "dir/sub/w.safetensors",
            "quote\"and\\backslash",
            "ctl\u{1}\n\t\u{7f}",
            "ünïcödé/日本語/😀.bin",
            "</script>&<>",
        ];
        let mut cases = Vec::new();
        for (method, hash) in [
            (Serialization::Files, HashAlgorithm::Sha256),
            (Serialization::Files, HashAlgorithm::Blake2b),
            (
                Serialization::Shards {
                    shard_size: 1_000_000_000,
                },
                HashAlgorithm::Sha256,
            ),
            (
                Serialization::Shards { shard_size: 8 },
                HashAlgorithm::Blake3,
            ),
        ] {
            for (ignore, symlinks) in [
                (vec![], false),
                (vec![".git".to_owned(), "x \"y\"".to_owned()], true),
            ] {
                let params = SerializationParams {
                    method,
                    hash,
                    allow_symlinks: symlinks,
                    ignore_paths: ignore,
                };
                let algorithm = params.resource_algorithm();
                let resources = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| ResourceDigest {
                        name: match method {
                            Serialization::Files => ResourceName::File((*n).to_owned()),
                            Serialization::Shards { .. } => ResourceName::Shard {
                                path: (*n).to_owned(),
                                start: 8 * i as u64,
                                end: 8 * i as u64 + 8,
                            },
                        },
                        algorithm: algorithm.clone(),
                        digest: (0..hash.digest_len()).map(|b| (b * 37 + i) as u8).collect(),
                    })
                    .collect::<Vec<_>>();
                let resources = Resources::try_from(resources).unwrap();
                cases.push(Manifest {
                    model_name: "model \"name\" ü".into(),
                    params,
                    resources,
                });
            }
        }
        cases.push(Manifest {
            model_name: String::new(),
            params: SerializationParams {
                method: Serialization::Files,
                hash: HashAlgorithm::Sha256,
                allow_symlinks: false,
                ignore_paths: Vec::new(),
            },
            resources: Resources::new(),
        });
        for m in &cases {
            let root = [0xa5; 32];
            let direct = build_statement(m, &root);
            let tree = build_statement_via_value(m, &root);
            assert_eq!(
                String::from_utf8(direct).unwrap(),
                String::from_utf8(tree).unwrap()
            );
        }
    }
}
