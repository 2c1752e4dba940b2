//! Verification with digests computed elsewhere: a downloader hashes each file as its bytes
//! arrive ([`hallmark_hash::StreamHasher`], in the serialization [`signed_params`] reads
//! from the signature) and hands the digests to [`verify_hashed`], which runs exactly the
//! checks of [`crate::verify_model`] (authentication, statement, root digest, ignore rules,
//! comparison as a map) without reading the files again.

use std::path::Path;

use hallmark_format::bundle::Bundle;
use hallmark_format::limits::Limits;
use hallmark_format::statement::parse_statement;
use hallmark_format::{ResourceDigest, Resources, SerializationParams};
use hallmark_hash::HashError;

use crate::compare::compare;
use crate::error::VerifyError;
use crate::paths::resolve;
use crate::sign::ignore_set;
use crate::verify::{EnvelopeVerifier, Verified, VerifyOptions, authenticate_statement, conclude};

/// How the signature in `bundle_bytes` says the model was hashed. The bundle is NOT
/// authenticated here: use the answer only to choose how to hash, then call
/// [`verify_hashed`], which authenticates it.
///
/// # Errors
/// A bundle or statement that does not parse within `limits`.
pub fn signed_params(
    bundle_bytes: &[u8],
    limits: &Limits,
) -> Result<SerializationParams, VerifyError> {
    let bundle = Bundle::parse(bundle_bytes, limits)?;
    Ok(parse_statement(&bundle.envelope.payload, limits)?
        .manifest
        .params)
}

/// Verifies a model directory `model` whose files were hashed by the caller: `hashed`
/// holds the digests of every regular file of the directory (model-relative names), in
/// the serialization [`signed_params`] returned. The ignore rules of `opts` and of the
/// signature (git paths, ignore paths, the signature file) apply as in
/// [`crate::verify_model`]; a single-file model is not supported here.
///
/// # Errors
/// As [`crate::verify_model`]: authentication, statement and root-digest errors, and
/// [`VerifyError::Mismatch`] listing every missing, extra or modified resource.
pub fn verify_hashed(
    model: &Path,
    hashed: Vec<ResourceDigest>,
    bundle_bytes: &[u8],
    verifier: &dyn EnvelopeVerifier,
    opts: &VerifyOptions,
) -> Result<Verified, VerifyError> {
    let signed = authenticate_statement(bundle_bytes, verifier, &opts.limits)?;
    let manifest = &signed.manifest;
    if opts.ignore_unsigned_files && manifest.resources.is_empty() {
        return Err(VerifyError::NothingSigned);
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = resolve(model, &cwd);
    let ignore = ignore_set(
        &root,
        &opts.ignore_paths,
        opts.ignore_git_paths,
        opts.signature_path.as_deref(),
        &manifest.params.ignore_paths,
    );
    let mut actual = Resources::new();
    for r in hashed.iter().filter(|r| !ignore.is_ignored(r.name.path())) {
        actual.push(r.as_resource()).map_err(HashError::from)?;
    }
    let diffs = compare(&manifest.resources, &actual, opts.ignore_unsigned_files);
    conclude(verifier, signed, diffs, ignore.paths())
}

#[cfg(test)]
mod tests {
    use hallmark_crypto::{Curve, SigningKey};
    use hallmark_format::ResourceName;
    use hallmark_hash::{EngineOptions, WalkOptions, enumerate, hash_files};

    use super::*;
    use crate::verify::KeyVerifier;
    use crate::{SignOptions, Signer, sign_model, verify_model};

    /// Everything in `dir` hashed the way a downloader would: every file, no rules.
    fn all_files(dir: &Path, params: &SerializationParams) -> Vec<ResourceDigest> {
        let files = enumerate(dir, &WalkOptions::default()).unwrap();
        hash_files(
            &files,
            params.method,
            params.hash,
            &EngineOptions::default(),
        )
        .unwrap()
        .to_vec()
    }

    #[test]
    fn precomputed_digests_verify_like_the_files_without_reading_them_and_a_changed_digest_is_named()
     {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path();
        std::fs::write(m.join("w.bin"), vec![7u8; 5000]).unwrap();
        std::fs::create_dir(m.join(".git")).unwrap();
        std::fs::write(m.join(".git/HEAD"), b"ref").unwrap();
        let key = SigningKey::generate(Curve::P256).unwrap();
        let verifier = KeyVerifier {
            key: key.public_key(),
        };
        let signed = sign_model(m, &Signer::Key(key), &SignOptions::default()).unwrap();
        let sig = m.join("model.sig");
        std::fs::write(&sig, &signed.bundle_json).unwrap();
        let opts = VerifyOptions {
            signature_path: Some(sig),
            ..VerifyOptions::default()
        };
        let params = signed_params(&signed.bundle_json, &opts.limits).unwrap();
        let mut hashed = all_files(m, &params);
        let want = verify_model(m, &signed.bundle_json, &verifier, &opts).unwrap();
        // no second pass: the bytes on disk are not read again (other bytes of the same
        // size there now change nothing; verify_model would name w.bin)
        std::fs::write(m.join("w.bin"), vec![8u8; 5000]).unwrap();
        let got = verify_hashed(m, hashed.clone(), &signed.bundle_json, &verifier, &opts).unwrap();
        assert_eq!(
            (got.model_digest, got.resources, got.ignored_paths),
            (want.model_digest, want.resources, want.ignored_paths)
        );
        let w = hashed
            .iter_mut()
            .find(|r| r.name == ResourceName::File("w.bin".into()))
            .unwrap();
        w.digest[0] ^= 1;
        let e = verify_hashed(m, hashed, &signed.bundle_json, &verifier, &opts).unwrap_err();
        assert!(
            matches!(&e, VerifyError::Mismatch(d) if d.len() == 1 && d[0].name() == "w.bin"),
            "{e}"
        );
    }
}
