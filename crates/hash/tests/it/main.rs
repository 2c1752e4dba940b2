//! Integration tests of hallmark-hash: reference fixtures, engine properties,
//! enumeration edge cases.
#![allow(clippy::unwrap_used, missing_docs)]

mod engine;
mod fixtures;
mod incremental;
mod walk;

use std::path::Path;

/// Writes `len` deterministic bytes at `root/rel`, creating parents.
pub(crate) fn write(root: &Path, rel: &str, len: usize) {
    let data: Vec<u8> = (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8)
        .collect();
    hallmark_testkit::write_file(root, rel, data);
}

pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}
