//! The in-toto Statement v1 that OMS signs, with the `https://model_signing/signature/v1.0`
//! predicate, and a reader for the legacy `https://model_signing/Digests/v0.1` layout
//! (`docs/oms-spec.md` §1.3–§1.6, §4.1).
//!
//! Parsing always starts from the exact payload bytes that were signed; nothing is
//! re-serialized before it is checked.

use serde_json::Value;

use crate::digest::HashAlgorithm;
use crate::error::{FieldRefusal, FormatError};
use crate::json::{Obj, parse_hex};
use crate::limits::Limits;
use crate::manifest::{Manifest, ResourceDigest, Serialization, SerializationParams};
use crate::resource::{ResourceName, check_path};
use crate::resources::Resources;

use types::DOC;
pub use types::{
    PREDICATE_TYPE_LEGACY, PREDICATE_TYPE_V1, ParsedStatement, STATEMENT_TYPE, StatementVersion,
};

/// Parses and checks a DSSE payload as an OMS statement.
///
/// Checks `_type`, `predicateType`, exactly one subject with a 32-byte `sha256`
/// digest, the `serialization` block, and every resource (safe name, hex digest of the
/// right length, algorithm consistent with the serialization, no duplicates). Unknown
/// predicate keys are ignored, as OMS v1.0 reserves them for extensions.
pub fn parse_statement(payload: &[u8], limits: &Limits) -> Result<ParsedStatement, FormatError> {
    // A well-formed v1 statement (what verification nearly always sees) is read without
    // a `Value` per resource; anything else, including every error, takes the path below.
    if let Some(parsed) = parse_fast(payload, limits) {
        return Ok(parsed);
    }
    let value: Value = serde_json::from_slice(payload)
        .map_err(|source| FormatError::Json { what: DOC, source })?;
    let st = Obj::new(DOC, "", &value)?;
    let ty = st.req_str("_type")?;
    if ty != STATEMENT_TYPE {
        return Err(FormatError::StatementType {
            found: ty.to_owned(),
        });
    }
    let predicate_type = st.req_str("predicateType")?;
    let subjects = st.req_array("subject")?;
    match predicate_type {
        PREDICATE_TYPE_V1 => parse_v1(&st, subjects, limits, None),
        PREDICATE_TYPE_LEGACY => parse_legacy(&st, subjects, limits),
        other => Err(FormatError::PredicateType {
            found: other.to_owned(),
        }),
    }
}

/// The statement if [`fast::read`] could read it and it passes every check; `None`
/// sends the caller down the `Value` path, which names what is wrong.
fn parse_fast(payload: &[u8], limits: &Limits) -> Option<ParsedStatement> {
    let read = fast::read(payload)?;
    let st = Obj::new(DOC, "", &read.top).ok()?;
    let subjects = st.req_array("subject").ok()?;
    parse_v1(&st, subjects, limits, Some(&read.resources)).ok()
}

/// Checks a v1 statement. `raw` carries the resources when [`fast::read`] read them
/// (then `predicate` holds no `resources` and any error only means "take the slow path").
fn parse_v1(
    st: &Obj<'_>,
    subjects: &[Value],
    limits: &Limits,
    raw: Option<&[fast::RawResource<'_>]>,
) -> Result<ParsedStatement, FormatError> {
    if subjects.len() != 1 {
        return Err(st.bad(
            "subject",
            FieldRefusal::NotExactlyOne {
                found: subjects.len(),
            },
        ));
    }
    let subject = Obj::new(DOC, "subject[0]", &subjects[0])?;
    let model_name = subject.opt_str("name")?.unwrap_or_default().to_owned();
    let digest = subject.req_obj("digest")?;
    let root = parse_hex(DOC, &digest.field_path("sha256"), digest.req_str("sha256")?)?;
    if root.len() != 32 {
        return Err(digest.bad(
            "sha256",
            FieldRefusal::DigestLength {
                expected: 32,
                found: root.len(),
            },
        ));
    }
    let predicate = st.req_obj("predicate")?;
    let params = parse_serialization(&predicate.req_obj("serialization")?)?;
    let resources = match raw {
        Some(raw) => raw_resources(raw, &params, limits)?,
        None => value_resources(&predicate, &params, limits)?,
    };
    let manifest = Manifest {
        model_name,
        params,
        resources,
    };
    manifest.check_unique()?;
    Ok(ParsedStatement {
        version: StatementVersion::V1,
        root_digest: Some(root),
        manifest,
    })
}

/// Resources read by [`fast::read`], if every one passes the checks.
fn raw_resources(
    raw: &[fast::RawResource<'_>],
    params: &SerializationParams,
    limits: &Limits,
) -> Result<Resources, FormatError> {
    let not_fast = || FormatError::BadField {
        what: DOC,
        field: "predicate.resources".into(),
        reason: FieldRefusal::NeedsDetailedChecks,
    };
    if raw.len() > limits.max_resources {
        return Err(not_fast());
    }
    let expected = Expected::new(params);
    let mut resources = Resources::new();
    for r in raw {
        let r = expected
            .check(&r.name, &r.algorithm, &r.digest)
            .ok_or_else(not_fast)?;
        resources.push(r.as_resource())?;
    }
    Ok(resources)
}

/// Resources from the `Value` tree, each checked with errors naming the field.
fn value_resources(
    predicate: &Obj<'_>,
    params: &SerializationParams,
    limits: &Limits,
) -> Result<Resources, FormatError> {
    let list = predicate.req_array("resources")?;
    if list.len() > limits.max_resources {
        return Err(FormatError::TooManyResources {
            count: list.len(),
            limit: limits.max_resources,
        });
    }
    let mut resources = Resources::new();
    let expected = Expected::new(params);
    for (i, r) in list.iter().enumerate() {
        if let Some(parsed) = expected.resource(r) {
            resources.push(parsed.as_resource())?;
            continue;
        }
        // Something is wrong with this resource: the checks below name it.
        let r = Obj::new(DOC, &format!("predicate.resources[{i}]"), r)?;
        let raw_name = r.req_str("name")?;
        let name = match params.method {
            Serialization::Files => ResourceName::parse_file(raw_name)?,
            Serialization::Shards { .. } => ResourceName::parse_shard(raw_name)?,
        };
        let algorithm = r.req_str("algorithm")?;
        if !params.accepts_algorithm(algorithm) {
            return Err(r.bad(
                "algorithm",
                FieldRefusal::AlgorithmMismatch {
                    found: algorithm.into(),
                    expected: params.resource_algorithm().into(),
                    resource: raw_name.into(),
                },
            ));
        }
        let digest = parse_hex(DOC, &r.field_path("digest"), r.req_str("digest")?)?;
        if digest.len() != params.hash.digest_len() {
            return Err(r.bad(
                "digest",
                FieldRefusal::ResourceDigestLength {
                    resource: raw_name.to_owned(),
                    found: digest.len(),
                    hash: params.hash,
                    expected: params.hash.digest_len(),
                },
            ));
        }
        let r = ResourceDigest {
            name,
            algorithm: algorithm.to_owned(),
            digest,
        };
        resources.push(r.as_resource())?;
    }
    Ok(resources)
}

/// What every resource of a statement must look like, for the common case of a
/// well-formed resource: checked without building the field paths that errors name.
struct Expected<'p> {
    params: &'p SerializationParams,
    algorithm: String,
    digest_len: usize,
}

impl<'p> Expected<'p> {
    fn new(params: &'p SerializationParams) -> Self {
        Self {
            params,
            algorithm: params.resource_algorithm(),
            digest_len: params.hash.digest_len(),
        }
    }

    /// The resource, if it passes every check of [`value_resources`]'s loop; `None`
    /// sends it through those checks to find out what is wrong.
    fn resource(&self, r: &Value) -> Option<ResourceDigest> {
        let m = r.as_object()?;
        let field = |k: &str| m.get(k).filter(|v| !v.is_null())?.as_str();
        self.check(field("name")?, field("algorithm")?, field("digest")?)
    }

    /// The resource with these fields, if it passes every check.
    fn check(&self, raw_name: &str, algorithm: &str, digest: &str) -> Option<ResourceDigest> {
        let name = match self.params.method {
            Serialization::Files => ResourceName::parse_file(raw_name).ok()?,
            Serialization::Shards { .. } => ResourceName::parse_shard(raw_name).ok()?,
        };
        if algorithm != self.algorithm && !self.params.accepts_algorithm(algorithm) {
            return None;
        }
        let digest = decode_hex(digest)?;
        if digest.len() != self.digest_len {
            return None;
        }
        Some(ResourceDigest {
            name,
            algorithm: algorithm.to_owned(),
            digest,
        })
    }
}

/// Hex (either case) to bytes, or `None` if it is not hex.
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let s = s.as_bytes();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 2);
    for p in s.chunks_exact(2) {
        out.push(nibble(p[0])? << 4 | nibble(p[1])?);
    }
    Some(out)
}

fn parse_serialization(ser: &Obj<'_>) -> Result<SerializationParams, FormatError> {
    let hash_name = ser.req_str("hash_type")?;
    let hash = HashAlgorithm::from_name(hash_name).ok_or_else(|| {
        ser.bad(
            "hash_type",
            FieldRefusal::UnknownHash {
                found: hash_name.to_owned(),
            },
        )
    })?;
    let method = match ser.req_str("method")? {
        "files" => Serialization::Files,
        "shards" => {
            let n = ser.req("shard_size")?;
            let shard_size = n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 1.8e19)
                        .map(|f| f as u64)
                })
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    ser.bad(
                        "shard_size",
                        FieldRefusal::NotPositiveInteger {
                            found: n.to_string(),
                        },
                    )
                })?;
            Serialization::Shards { shard_size }
        }
        other => {
            return Err(ser.bad(
                "method",
                FieldRefusal::UnknownMethod {
                    found: other.to_owned(),
                },
            ));
        }
    };
    let allow_symlinks = match ser.get("allow_symlinks") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| ser.bad("allow_symlinks", FieldRefusal::NotBoolean))?,
    };
    let mut ignore_paths = Vec::new();
    if let Some(v) = ser.get("ignore_paths") {
        let list = v
            .as_array()
            .ok_or_else(|| ser.bad("ignore_paths", FieldRefusal::NotStringArray))?;
        for (i, p) in list.iter().enumerate() {
            let p = p
                .as_str()
                .ok_or_else(|| ser.bad(&format!("ignore_paths[{i}]"), FieldRefusal::NotString))?;
            // Windows-made reference bundles carry `\` separators here.
            let p = p.replace('\\', "/");
            let norm = check_path(&p).map_err(|reason| {
                ser.bad(
                    &format!("ignore_paths[{i}]"),
                    FieldRefusal::UnsafePath {
                        name: p.clone(),
                        reason,
                    },
                )
            })?;
            ignore_paths.push(norm);
        }
    }
    ignore_paths.sort();
    ignore_paths.dedup();
    Ok(SerializationParams {
        method,
        hash,
        allow_symlinks,
        ignore_paths,
    })
}

fn parse_legacy(
    _st: &Obj<'_>,
    subjects: &[Value],
    limits: &Limits,
) -> Result<ParsedStatement, FormatError> {
    if subjects.len() > limits.max_resources {
        return Err(FormatError::TooManyResources {
            count: subjects.len(),
            limit: limits.max_resources,
        });
    }
    let mut resources = Resources::new();
    for (i, s) in subjects.iter().enumerate() {
        let s = Obj::new(DOC, &format!("subject[{i}]"), s)?;
        let name = ResourceName::parse_file(s.req_str("name")?)?;
        let d = s.req_obj("digest")?;
        let digest = parse_hex(DOC, &d.field_path("sha256"), d.req_str("sha256")?)?;
        if digest.len() != 32 {
            return Err(d.bad(
                "sha256",
                FieldRefusal::DigestLength {
                    expected: 32,
                    found: digest.len(),
                },
            ));
        }
        let r = ResourceDigest {
            name,
            algorithm: HashAlgorithm::Sha256.name().to_owned(),
            digest,
        };
        resources.push(r.as_resource())?;
    }
    let params = SerializationParams {
        method: Serialization::Files,
        hash: HashAlgorithm::Sha256,
        allow_symlinks: false,
        ignore_paths: Vec::new(),
    };
    let manifest = Manifest {
        model_name: String::new(),
        params,
        resources,
    };
    manifest.check_unique()?;
    Ok(ParsedStatement {
        version: StatementVersion::LegacyDigestsV01,
        root_digest: None,
        manifest,
    })
}

/// Serializes a manifest as the payload to sign: deterministic, 2-space indented UTF-8
/// JSON with a fixed key order, `shard_size` as an integer, no trailing newline.
///
/// `root_digest` is SHA-256 over [`Manifest::root_digest_input`].
///
/// Written straight from borrowed views of the manifest through serde_json's pretty
/// printer (no intermediate `Value` tree: with tens of thousands of resources that
/// tree, its maps and its strings cost more than hashing the files).
#[must_use]
pub fn build_statement(manifest: &Manifest, root_digest: &[u8; 32]) -> Vec<u8> {
    // ~120 bytes per resource; one allocation for typical manifests.
    let mut buf = Vec::with_capacity(512 + 160 * manifest.resources.len());
    // Serializing strings, booleans and integers into a Vec cannot fail.
    let _ = write_statement(manifest, root_digest, &mut buf);
    buf
}

/// [`build_statement`] written to `w` instead of into memory, byte for byte the same:
/// the statement of a million-file model (~160 bytes a resource) is counted, hashed
/// and base64-encoded into the bundle as it is written, never held whole. `w` gets
/// many small writes: give it a buffer if writes are costly.
///
/// # Errors
/// Only those of `w`.
pub fn write_statement<W: std::io::Write>(
    manifest: &Manifest,
    root_digest: &[u8; 32],
    w: W,
) -> std::io::Result<()> {
    let resources = out::Resources(&manifest.resources);
    write_framed(
        &manifest.model_name,
        &manifest.params,
        root_digest,
        resources,
        w,
    )
}

/// [`write_statement`] of a manifest whose resources are not held but handed out in
/// order by `resources` (it calls its argument with each one and stops early when that
/// returns false): byte for byte the statement of the manifest they make up. For
/// comparing a statement with resources read from a file as a stream (the stat cache
/// of incremental signing), in memory that does not grow with the manifest.
///
/// # Errors
/// Only those of `w`.
pub fn write_statement_pulling<W: std::io::Write>(
    model_name: &str,
    params: &SerializationParams,
    root_digest: &[u8; 32],
    resources: &mut Pull<'_>,
    w: W,
) -> std::io::Result<()> {
    let pulled = out::Pulled(std::cell::RefCell::new(resources));
    write_framed(model_name, params, root_digest, pulled, w)
}

fn write_framed<R: serde::Serialize, W: std::io::Write>(
    model_name: &str,
    p: &SerializationParams,
    root_digest: &[u8; 32],
    resources: R,
    w: W,
) -> std::io::Result<()> {
    let statement = out::Statement {
        ty: STATEMENT_TYPE,
        subject: [out::Subject {
            name: model_name,
            digest: out::RootDigest {
                sha256: out::Hex(root_digest),
            },
        }],
        predicate_type: PREDICATE_TYPE_V1,
        predicate: out::Predicate {
            serialization: out::Serialization {
                method: p.method.method(),
                hash_type: p.hash.name(),
                shard_size: match p.method {
                    Serialization::Shards { shard_size } => Some(shard_size),
                    Serialization::Files => None,
                },
                allow_symlinks: p.allow_symlinks,
                ignore_paths: &p.ignore_paths,
            },
            resources,
        },
    };
    serde_json::to_writer_pretty(w, &statement).map_err(std::io::Error::from)
}

mod fast;
mod out;
mod types;

pub use out::{Emit, Pull};

#[cfg(test)]
mod tests;
