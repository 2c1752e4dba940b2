//! Signing a manifest straight into a writer, for models of any file count.
//!
//! [`crate::sign_manifest`] holds the statement (~160 bytes a resource) and the
//! bundle with its base64 (4/3 of that again) in memory at once: 380 MB for a
//! million files. Here the statement is never held: it is written three times from the
//! manifest, which is deterministic, into a byte counter (the PAE starts with the
//! payload's length), into the hash of the key's curve (then the key signs that
//! digest: aws-lc's `sign_digest`, or a PKCS#11 token, which signs a digest anyway),
//! and base64-encoded into the bundle as it is written out. The bytes are those
//! [`crate::sign_manifest`] returns.
//!
//! A manifest of up to [`IN_MEMORY_RESOURCES`] resources (a statement of a few MiB)
//! is serialized once instead, into memory: the two extra passes cost more than the
//! rest of an incremental re-sign of 20,000 files.
//!
//! Keyless signers take the whole payload (a certificate authority and a log are
//! asked over it): they keep the in-memory path.

use std::cell::Cell;
use std::io::{self, BufWriter, Write};

use hallmark_format::Manifest;
use hallmark_format::dsse::{IN_TOTO_PAYLOAD_TYPE, pae_prefix};
use hallmark_format::statement::{build_statement, write_statement};
use hallmark_hash::timing;

use crate::error::SignError;
use crate::sign::{Signer, key_bundle, key_of, material_of, root_digest, sign_in_toto_payload};

/// Manifests of at most this many resources have their statement (~160 bytes a
/// resource: 6 MiB here) serialized once into memory and hashed and written from there;
/// larger ones are written three times from the manifest, so memory stays flat.
const IN_MEMORY_RESOURCES: usize = 40_000;

/// Buffer between the statement writer's many small writes and a hash or base64 encoder.
const STATEMENT_BUFFER: usize = 64 << 10;

/// Signs `manifest` (resources in reference order) and writes the bundle to `out`:
/// the bytes of [`crate::sign_manifest`]`(manifest, signer).bundle_json`, with memory
/// that does not grow with the manifest beyond the manifest itself (except for keyless
/// signers, see the module notes). Returns the root digest. `out` gets many small
/// writes: give it a buffer.
///
/// # Errors
/// As [`crate::sign_manifest`], and [`SignError::Write`] when `out` fails.
pub fn write_signed_manifest(
    manifest: &Manifest,
    signer: &Signer,
    out: &mut dyn Write,
) -> Result<[u8; 32], SignError> {
    let root = root_digest(manifest);
    let Ok((key, cert)) = key_of(signer) else {
        let bundle = sign_in_toto_payload(build_statement(manifest, &root), signer)?;
        out.write_all(&bundle).map_err(SignError::Write)?;
        return Ok(root);
    };
    let material = material_of(key, cert)?;
    // Small enough to hold: serialized once, then hashed and written from memory;
    // otherwise written from the manifest on each pass.
    let built =
        (manifest.resources.len() <= IN_MEMORY_RESOURCES).then(|| build_statement(manifest, &root));
    let statement = |w: &mut dyn Write| match &built {
        Some(payload) => w.write_all(payload),
        None => {
            let mut w = BufWriter::with_capacity(STATEMENT_BUFFER, w);
            write_statement(manifest, &root, &mut w)?;
            w.flush()
        }
    };
    let len = match &built {
        Some(payload) => payload.len(),
        None => {
            let mut counted = Counter(0);
            // Counting cannot fail.
            let _ = statement(&mut counted);
            counted.0
        }
    };
    timing::mark("sign: statement");
    let mut hasher = key.digest_alg().hasher();
    hasher.update(&pae_prefix(IN_TOTO_PAYLOAD_TYPE, len));
    let hashed = Cell::new(0);
    // Hashing cannot fail.
    let _ = statement(&mut Tee(&mut hasher, &hashed));
    same_length(len, hashed.get())?;
    let sig = key.sign_digest(&hasher.finish())?;
    timing::mark("sign: signature");
    let bundle = key_bundle(material, sig, Vec::new());
    let written = Cell::new(0);
    bundle
        .write_json_with_payload(out, &|w| statement(&mut Tee(w, &written)))
        .map_err(SignError::Write)?;
    same_length(len, written.get())?;
    timing::mark("sign: bundle written");
    Ok(root)
}

/// The statement is written from the manifest each time: a length that differs
/// between passes would make a signature over other bytes than those written.
fn same_length(counted: usize, written: usize) -> Result<(), SignError> {
    if counted == written {
        return Ok(());
    }
    Err(SignError::Write(io::Error::other(format!(
        "the statement was {counted} bytes when counted and {written} bytes when written"
    ))))
}

/// Counts the bytes written to it.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes to a writer and counts what it took.
struct Tee<'a>(&'a mut dyn Write, &'a Cell<usize>);

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.0.write(buf)?;
        self.1.set(self.1.get() + n);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}
