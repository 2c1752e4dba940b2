//! Borrowed, serializable views of an OMS statement, fields in the reference's key
//! order, so [`super::build_statement`] can print a manifest through serde_json's
//! pretty printer without building a `Value` tree first.

use std::fmt;

use serde::ser::{SerializeSeq as _, SerializeStruct as _};
use serde::{Serialize, Serializer};

use crate::manifest::ResourceDigest;

#[derive(Serialize)]
pub(super) struct Statement<'a> {
    #[serde(rename = "_type")]
    pub(super) ty: &'static str,
    pub(super) subject: [Subject<'a>; 1],
    #[serde(rename = "predicateType")]
    pub(super) predicate_type: &'static str,
    pub(super) predicate: Predicate<'a>,
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
pub(super) struct Predicate<'a> {
    pub(super) serialization: Serialization<'a>,
    pub(super) resources: Resources<'a>,
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

pub(super) struct Resources<'a>(pub(super) &'a [ResourceDigest]);

impl Serialize for Resources<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for r in self.0 {
            seq.serialize_element(&Resource(r))?;
        }
        seq.end()
    }
}

struct Resource<'a>(&'a ResourceDigest);

impl Serialize for Resource<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Resource", 3)?;
        m.serialize_field("name", &Display(&self.0.name))?;
        m.serialize_field("algorithm", &self.0.algorithm)?;
        m.serialize_field("digest", &Hex(&self.0.digest))?;
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
