//! `hallmark sign key|certificate|sigstore`.

use std::io::BufRead as _;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use hallmark_crypto::{Certificate, SigningKey, load_certificates_pem_with_source};
use hallmark_format::{HashAlgorithm, Serialization};
use hallmark_hash::{HashError, timing};
use hallmark_signing::paths::resolve_ignore_paths;
use hallmark_signing::{SignError, SignOptions, Signer, hash_model, write_signed_manifest};
use zeroize::Zeroizing;

#[cfg(feature = "client")]
use crate::args::sign::SignSigstoreArgs;
use crate::args::sign::{CertificateArgs, KeyMaterialArgs, SignCommon, SignMethod};
use crate::incremental::Incremental;
#[cfg(feature = "pkcs11")]
use crate::pkcs11;
use crate::progress::Engine;
#[cfg(feature = "client")]
use crate::trustsrc::TrustSource;
use crate::util::{
    EXIT_INTERRUPTED, Failure, OrExit as _, Outcome, read_input, write_atomically_with,
};
#[cfg(feature = "client")]
use crate::{idtoken, keyless};

pub(crate) fn run(method: SignMethod) -> Outcome {
    let (common, signer) = match method {
        SignMethod::Key(a) => (a.common, Signer::Key(load_key(&a.key).or_input()?)),
        SignMethod::Certificate(a) => {
            let key = load_key(&a.key).or_input()?;
            let (leaf, chain) = load_leaf_and_chain(&a.cert)?;
            (a.common, Signer::Certificate { key, leaf, chain })
        }
        #[cfg(feature = "pkcs11")]
        SignMethod::Pkcs11Key(a) => {
            let key = pkcs11::open(&a.token.pkcs11_uri.0).or_input()?;
            (a.common, Signer::ExternalKey(Box::new(key)))
        }
        #[cfg(feature = "pkcs11")]
        SignMethod::Pkcs11Certificate(a) => {
            let (leaf, chain) = load_leaf_and_chain(&a.cert)?;
            let key = Box::new(pkcs11::open(&a.token.pkcs11_uri.0).or_input()?);
            (a.common, Signer::ExternalCertificate { key, leaf, chain })
        }
        #[cfg(feature = "client")]
        SignMethod::Sigstore(a) => {
            let signer = keyless_signer(&a).or_input()?;
            (a.common, Signer::Keyless(Box::new(signer)))
        }
    };
    sign(&common, &signer)
}

/// The instance (`--use-staging`, `--trust-config`, else public good), the identity token
/// (explicit, ambient, or the OAuth login at the instance's issuer), and a signer for both.
#[cfg(feature = "client")]
fn keyless_signer(a: &SignSigstoreArgs) -> anyhow::Result<keyless::HttpKeylessSigner> {
    let doc = TrustSource::from_flags(a.trust_config.as_deref(), a.use_staging).load()?;
    let tc: serde_json::Value =
        serde_json::from_slice(&doc.bytes).map_err(|e| anyhow!("{}: {e}", doc.origin))?;
    let token = idtoken::obtain(
        &idtoken::TokenOptions {
            identity_token: a.identity_token.as_deref(),
            identity_token_file: a.identity_token_file.as_deref(),
            use_ambient: a.use_ambient_credentials,
            force_oob: a.oauth_force_oob,
            client_id: a.client_id.as_deref().unwrap_or(idtoken::DEFAULT_CLIENT_ID),
            client_secret: a.client_secret.as_deref().unwrap_or_default(),
        },
        &tc,
        &doc.origin,
    )?;
    keyless::HttpKeylessSigner::from_trust_config_json(&tc, &doc.origin, token.jwt().to_owned())
}

fn load_key(args: &KeyMaterialArgs) -> anyhow::Result<SigningKey> {
    let pem = Zeroizing::new(read_input("private key", &args.private_key)?);
    let password = if args.password_stdin {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Some(Zeroizing::new(
            line.trim_end_matches(['\r', '\n']).as_bytes().to_vec(),
        ))
    } else {
        args.password
            .as_ref()
            .map(|p| Zeroizing::new(p.as_bytes().to_vec()))
    };
    let source = args.private_key.display().to_string();
    Ok(SigningKey::from_pem_with_source(
        &pem,
        password.as_ref().map(|p| p.as_slice()),
        &source,
    )?)
}

/// The signing certificate (the first in its file) and the chain to embed.
fn load_leaf_and_chain(a: &CertificateArgs) -> Result<(Certificate, Vec<Certificate>), Failure> {
    let (leaf_path, chain_paths) = (&a.signing_certificate, &a.certificate_chain);
    let mut leaf = load_certs("signing certificate", leaf_path).or_input()?;
    if leaf.is_empty() {
        return Err(Failure::input(anyhow!(
            "signing certificate file {} holds no certificate",
            leaf_path.display()
        )));
    }
    let leaf = leaf.remove(0);
    let mut chain = Vec::new();
    for p in chain_paths {
        chain.extend(load_certs("certificate chain", p).or_input()?);
    }
    Ok((leaf, chain))
}

fn load_certs(what: &str, path: &Path) -> anyhow::Result<Vec<Certificate>> {
    let pem = read_input(what, path)?;
    load_certificates_pem_with_source(&pem, &path.display().to_string())
        .with_context(|| format!("{what} {}", path.display()))
}

fn sign(common: &SignCommon, signer: &Signer) -> Outcome {
    let (serialization, hash) = common.hashing.params().or_input()?;
    if serialization != Serialization::Files || hash != HashAlgorithm::Sha256 {
        errln!(
            "note: {}/{} signatures verify with hallmark and the model_signing library API, but not with the model_signing 1.1.1 CLI (files/sha256 only)",
            serialization.method(),
            hash
        );
    }
    let cwd = std::env::current_dir()
        .context("cannot determine the current directory")
        .or_input()?;
    let (ignore_paths, outside) =
        resolve_ignore_paths(&common.model, &cwd, &common.selection.ignore_paths);
    for p in outside {
        errln!(
            "warning: --ignore-paths {} is outside the model and has no effect",
            p.display()
        );
    }
    let engine = Engine::new(&common.engine, common.json);
    let incremental = if common.incremental {
        Some(
            Incremental::for_sign(&common.model, serialization, hash, &common.signature)
                .or_input()?,
        )
    } else {
        None
    };
    timing::mark("sign: load key, set up");
    let opts = SignOptions {
        serialization,
        hash,
        allow_symlinks: common.selection.allow_symlinks,
        ignore_paths,
        ignore_git_paths: !common.selection.no_ignore_git_paths,
        signature_path: Some(common.signature.clone()),
        allow_empty: common.allow_empty,
        engine: incremental
            .as_ref()
            .map_or_else(|| engine.options.clone(), |i| i.attach(&engine.options)),
    };
    let hashed = hash_model(&common.model, &opts);
    engine.finish();
    let result = match hashed {
        // The bundle is written as it is made: the statement of a million-file model
        // (and its base64) would take hundreds of megabytes in memory.
        Ok(m) if !engine.cancelled() => {
            write_atomically_with(&common.signature, |w| write_signed_manifest(&m, signer, w))
                .or_input()?
                .map(|root| (m, root))
        }
        Ok(_) => return Ok(interrupted()),
        Err(e) => Err(e),
    };
    let (m, root_digest) = match result {
        Ok(s) => s,
        Err(SignError::Hash(HashError::Cancelled)) => return Ok(interrupted()),
        // A keyless failure (certificate authority or log unreachable or refusing, the
        // token refused) is an input error too: exit 2, nothing written.
        Err(
            e @ (SignError::ModelPath { .. }
            | SignError::Crypto(_)
            | SignError::ExternalKey(_)
            | SignError::CertificateKeyMismatch { .. }
            | SignError::Keyless(_)
            | SignError::Write(_)),
        ) => return Err(Failure::input(e)),
        Err(e) => return Err(Failure::failed(e)),
    };
    timing::mark("sign: write signature");
    let m = &m;
    let incremental = incremental.as_ref().map(|i| i.save_signed(m, root_digest));
    if common.json {
        let mut out = serde_json::json!({
            "signed": true,
            "signature": common.signature.display().to_string(),
            "model": common.model.display().to_string(),
            "model_name": m.model_name,
            "model_digest": format!("sha256:{}", hex::encode(root_digest)),
            "serialization": m.params.method.method(),
            "hash": m.params.hash.to_string(),
            "resource_count": m.resources.len(),
        });
        if let Some((summary, counts)) = &incremental {
            out["incremental"] = counts.clone();
            errln!("incremental: {summary}");
        }
        outln!("{out}");
        return Ok(0);
    }
    outln!("Signing succeeded");
    outln!(
        "  model:     {} ({} resource{}, {}/{})",
        common.model.display(),
        m.resources.len(),
        if m.resources.len() == 1 { "" } else { "s" },
        m.params.method.method(),
        m.params.hash
    );
    outln!("  digest:    sha256:{}", hex::encode(root_digest));
    outln!("  signature: {}", common.signature.display());
    if let Some((summary, _)) = &incremental {
        outln!("  incremental: {summary}");
    }
    Ok(0)
}

fn interrupted() -> u8 {
    errln!("Signing interrupted; no signature was written");
    EXIT_INTERRUPTED
}
