//! `hallmark sign key|certificate`.

use std::io::{BufRead as _, Write as _};
use std::path::Path;

use hallmark_crypto::{Certificate, SigningKey, load_certificates_pem_with_source};
use hallmark_format::{HashAlgorithm, Serialization};
use hallmark_hash::{HashError, timing};
use hallmark_signing::paths::resolve_ignore_paths;
use hallmark_signing::{SignError, SignOptions, Signer, sign_model};
use zeroize::Zeroizing;

use crate::args::{HashArg, KeyMaterialArgs, SerializationArg, SignCommon, SignMethod};
use crate::progress::Engine;
use crate::{EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED, read_input, report_error};

pub(crate) fn run(method: SignMethod) -> u8 {
    let (common, signer) = match method {
        SignMethod::Key(a) => match load_key(&a.key) {
            Ok(k) => (a.common, Signer::Key(k)),
            Err(e) => return input_error(&e),
        },
        SignMethod::Certificate(a) => {
            let key = match load_key(&a.key) {
                Ok(k) => k,
                Err(e) => return input_error(&e),
            };
            let leaf = match load_certs("signing certificate", &a.signing_certificate) {
                Ok(mut c) if !c.is_empty() => c.remove(0),
                Ok(_) => return input_error("signing certificate file holds no certificate"),
                Err(e) => return input_error(&e),
            };
            let mut chain = Vec::new();
            for p in &a.certificate_chain {
                match load_certs("certificate chain", p) {
                    Ok(c) => chain.extend(c),
                    Err(e) => return input_error(&e),
                }
            }
            (a.common, Signer::Certificate { key, leaf, chain })
        }
        SignMethod::Sigstore(a) => {
            let signer = crate::sigstore::identity_token(
                a.identity_token.as_deref(),
                a.identity_token_file.as_ref(),
            )
            .and_then(|token| {
                crate::sigstore::HttpKeylessSigner::from_trust_config(&a.trust_config, token)
            });
            match signer {
                Ok(s) => (a.common, Signer::Keyless(Box::new(s))),
                Err(e) => return input_error(&e),
            }
        }
    };
    sign(&common, &signer)
}

fn input_error(msg: &str) -> u8 {
    eprintln!("Signing failed: {msg}");
    EXIT_INPUT
}

fn load_key(args: &KeyMaterialArgs) -> Result<SigningKey, String> {
    let pem = Zeroizing::new(read_input("private key", &args.private_key)?);
    let password = if args.password_stdin {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        Some(Zeroizing::new(
            line.trim_end_matches(['\r', '\n']).as_bytes().to_vec(),
        ))
    } else {
        args.password
            .as_ref()
            .map(|p| Zeroizing::new(p.as_bytes().to_vec()))
    };
    let source = args.private_key.display().to_string();
    SigningKey::from_pem_with_source(&pem, password.as_ref().map(|p| p.as_slice()), &source)
        .map_err(|e| e.to_string())
}

fn load_certs(what: &str, path: &Path) -> Result<Vec<Certificate>, String> {
    let pem = read_input(what, path)?;
    load_certificates_pem_with_source(&pem, &path.display().to_string())
        .map_err(|e| format!("{what}: {e}"))
}

pub(crate) fn hash_of(h: HashArg) -> HashAlgorithm {
    match h {
        HashArg::Sha256 => HashAlgorithm::Sha256,
        HashArg::Blake2b => HashAlgorithm::Blake2b,
        HashArg::Blake3 => HashAlgorithm::Blake3,
    }
}

fn sign(common: &SignCommon, signer: &Signer) -> u8 {
    let serialization = match common.serialization {
        SerializationArg::Files => Serialization::Files,
        SerializationArg::Shards if common.shard_size == 0 => {
            return input_error("--shard-size must be greater than 0");
        }
        SerializationArg::Shards => Serialization::Shards {
            shard_size: common.shard_size,
        },
    };
    let hash = hash_of(common.hash);
    if serialization != Serialization::Files || hash != HashAlgorithm::Sha256 {
        eprintln!(
            "note: {}/{} signatures verify with hallmark and the model_signing library API, but not with the model_signing 1.1.1 CLI (files/sha256 only)",
            serialization.method(),
            hash
        );
    }
    let cwd = match std::env::current_dir() {
        Ok(c) => c,
        Err(e) => return input_error(&format!("cannot determine the current directory: {e}")),
    };
    let (ignore_paths, outside) =
        resolve_ignore_paths(&common.model, &cwd, &common.selection.ignore_paths);
    for p in outside {
        eprintln!(
            "warning: --ignore-paths {} is outside the model and has no effect",
            p.display()
        );
    }
    let engine = Engine::new(&common.engine, false);
    timing::mark("sign: load key, set up");
    let opts = SignOptions {
        serialization,
        hash,
        allow_symlinks: common.selection.allow_symlinks,
        ignore_paths,
        ignore_git_paths: !common.selection.no_ignore_git_paths,
        signature_path: Some(common.signature.clone()),
        allow_empty: common.allow_empty,
        engine: engine.options.clone(),
    };
    let result = sign_model(&common.model, signer, &opts);
    engine.finish();
    let signed = match result {
        Ok(s) => s,
        Err(SignError::Hash(HashError::Cancelled)) => {
            eprintln!("Signing interrupted; no signature was written");
            return EXIT_INTERRUPTED;
        }
        Err(
            e @ (SignError::ModelPath { .. }
            | SignError::Crypto(_)
            | SignError::CertificateKeyMismatch { .. }),
        ) => {
            report_error("Signing failed", &e);
            return EXIT_INPUT;
        }
        Err(e) => {
            report_error("Signing failed", &e);
            return EXIT_FAILED;
        }
    };
    if engine.cancelled() {
        eprintln!("Signing interrupted; no signature was written");
        return EXIT_INTERRUPTED;
    }
    if let Err(e) = write_atomically(&common.signature, &signed.bundle_json) {
        eprintln!(
            "Signing failed: cannot write {}: {e}",
            common.signature.display()
        );
        return EXIT_INPUT;
    }
    timing::mark("sign: write signature");
    let m = &signed.manifest;
    println!("Signing succeeded");
    println!(
        "  model:     {} ({} resource{}, {}/{})",
        common.model.display(),
        m.resources.len(),
        if m.resources.len() == 1 { "" } else { "s" },
        m.params.method.method(),
        m.params.hash
    );
    println!("  digest:    sha256:{}", hex::encode(signed.root_digest));
    println!("  signature: {}", common.signature.display());
    0
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a
/// rename, so an interrupted run never leaves a partial signature behind.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".hallmark-sig-")
        .tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
