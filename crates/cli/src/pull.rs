//! `hallmark pull owner/name [--revision R] DIR`: download a revision into a staging
//! directory beside DIR, verify its signature against what the user pinned (`pulltrust`),
//! and only then move the files into DIR. A failed pull leaves nothing in DIR: no DIR, or
//! DIR as it was.
//!
//! `model.sig` comes first; the other files then download in parallel (`--jobs`), each
//! hashed as its bytes arrive in the serialization the signature declares
//! ([`crate::download`]), and the signature is checked against those digests when the
//! last byte lands ([`verify_hashed`]): the bytes are never read a second time. A
//! download interrupted by the network or the process being killed leaves its bytes in
//! the stage (under `~/.cache/hallmark/pull/`, or beside DIR when the cache is on another
//! filesystem: [`crate::stage`]); the same pull run again resumes each file with an HTTP `Range` request. Wrong bytes (a digest or a
//! signature that does not match) delete the stage.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context as _, anyhow};
use aws_lc_rs::digest::{SHA256, digest};
use hallmark_format::{HashAlgorithm, ResourceDigest, Serialization};
use hallmark_signing::verify::SignerInfo;
use hallmark_signing::{VerifyOptions, signed_params, verify_hashed};
use serde_json::{Value, json};

use crate::args::remote::PullArgs;
use crate::download::{Failed, Fetch, Remote, fetch};
use crate::hubclient::{Client, bar, parallel, split_repo};
use crate::pins::{Pins, repo_key};
use crate::pulltrust::decide;
use crate::require::{self, Subject};
use crate::revoked;
use crate::stage::{Stage, cache_base};
use crate::util::{Failure, OrExit as _, Outcome};
use crate::witnessed::WitnessPolicy;

/// How a refusal of the pull ends.
const NOTHING_WRITTEN: &str = "; nothing was written";

fn safe_rel(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && !p.chars().any(char::is_control)
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

pub(crate) fn run(a: &PullArgs) -> Outcome {
    let (owner, name) = split_repo(&a.repo).or_input()?;
    if a.dir.exists()
        && !a.force
        && std::fs::read_dir(&a.dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Failure::input(anyhow!(
            "{} is not empty (use --force to write into it)",
            a.dir.display()
        )));
    }
    let policy = match &a.policy {
        Some(p) => Some((p.as_path(), hallmark_policy::Policy::load(p).or_input()?)),
        None => None,
    };
    let witness_policy = match &a.witness_policy {
        Some(p) => Some(WitnessPolicy::load(p).or_input()?),
        None => None,
    };
    let mut pins = Pins::load().or_input()?;
    let client = Client::new(&a.hub);
    let revoked::RevisionInfo { info, commit, what } =
        revoked::revision_info(&client, owner, name, &a.revision)?;
    revoked::check(&info, a.allow_revoked, &what, NOTHING_WRITTEN)?;
    let files = remote_files(&info)?;
    let stage_id = stage_key(&client.base, &a.repo, &a.dir);
    let mut stage = Stage::beside(&a.dir, &stage_id, cache_base()).or_input()?;
    stage
        .retain(
            &files.iter().map(|f| f.path.as_str()).collect(),
            &files.iter().map(Remote::part_name).collect(),
        )
        .or_input()?;
    let hashed = match download_all(
        a,
        &client,
        &format!("/{owner}/{name}/resolve/{commit}"),
        &files,
        &stage,
    ) {
        Ok(d) => d,
        Err(Failed::Interrupted(e)) => {
            stage.keep();
            return Err(Failure::failed(e.context(format!(
                "download of {owner}/{name} at {commit} was interrupted; nothing was written to \
                 {}. What arrived is kept in {}: run the same pull again to resume",
                a.dir.display(),
                stage.dir().display()
            ))));
        }
        Err(Failed::Corrupt(e)) => {
            return Err(Failure::failed(e.context(format!(
                "download of {owner}/{name} at {commit} failed; nothing was written"
            ))));
        }
    };

    // What every `--json` result of a pull starts with.
    let pulled = json!({
        "repo": format!("{owner}/{name}"),
        "revision": commit,
        "dir": a.dir.display().to_string(),
        "file_count": files.len(),
    });
    // The last word before anything is written: the revision's status now (an incident
    // opened during the download revokes it too).
    let done = |stage: Stage| -> Result<(), Failure> {
        let now = client
            .get_json(&format!("/api/models/{owner}/{name}/revision/{commit}"))
            .or_failed()?;
        if let Some(r) = revoked::check(&now, a.allow_revoked, &what, NOTHING_WRITTEN)? {
            errln!("warning: {what} is REVOKED by {r}; pulled because of --allow-revoked");
        }
        stage.commit(&a.dir).or_failed()?;
        if a.json {
            return Ok(());
        }
        outln!(
            "{owner}/{name}: downloaded {} files at revision {commit} into {}",
            files.len(),
            a.dir.display()
        );
        Ok(())
    };
    let sig_path = stage.files().join("model.sig");
    if !files.iter().any(|f| f.path == "model.sig") {
        if a.allow_unsigned && (!a.require.is_empty() || policy.is_some()) {
            return Err(Failure::failed(anyhow!(
                "revision {commit} is not signed, so its claims cannot be tied to the files \
                 (--require and --policy need a signed revision); nothing was written"
            )));
        }
        if a.allow_unsigned {
            done(stage)?;
            if a.json {
                let mut out = pulled.clone();
                out["signed"] = json!(false);
                out["verified"] = json!(false);
                outln!("{out}");
            } else {
                outln!("warning: revision {commit} is NOT signed");
            }
            return Ok(0);
        }
        return Err(Failure::failed(anyhow!(
            "revision {commit} is not signed (use --allow-unsigned to accept it); nothing was written"
        )));
    }
    let bundle = std::fs::read(&sig_path)
        .with_context(|| format!("cannot read {}", sig_path.display()))
        .or_input()?;
    let key = repo_key(&client.base, owner, name);
    let sig = info
        .pointer("/hallmark/signature")
        .cloned()
        .unwrap_or(Value::Null);
    let decision = decide(a, &client, &pins, &key, &sig, &bundle)?;
    let opts = VerifyOptions {
        signature_path: Some(sig_path.clone()),
        ..VerifyOptions::default()
    };
    let v = verify_hashed(
        stage.files(),
        hashed,
        &bundle,
        decision.verifier.as_ref(),
        &opts,
    )
    .map_err(|e| {
        Failure::failed(anyhow::Error::new(e).context(format!(
            "verification of {owner}/{name} at {commit} FAILED; nothing was written"
        )))
    })?;
    if let Some(wp) = &witness_policy {
        wp.check_bundle(&bundle, Some(&client.base)).map_err(|e| {
            Failure::failed(anyhow::Error::new(e).context(format!(
                "{owner}/{name} at {commit}: its log entry is not witnessed under {}; nothing was written",
                a.witness_policy.as_deref().unwrap_or(Path::new("")).display()
            )))
        })?;
    }
    if !a.require.is_empty() || policy.is_some() {
        let root = v.model_digest.as_deref().unwrap_or_default();
        let subject = Subject {
            commit: &commit,
            root: root.strip_prefix("sha256:").unwrap_or(root),
            files: files.iter().map(|f| f.sha256.as_str()).collect(),
            hub: decision.hub.as_ref(),
            model_sig: decision.verifier.as_ref(),
        };
        let refused = |e: anyhow::Error| {
            Failure::failed(e.context(format!(
                "{owner}/{name} at {commit} does not meet the requirements; nothing was written"
            )))
        };
        require::check(&client, &info, &a.require, &subject)
            .map_err(|e| refused(anyhow::Error::new(e)))?;
        if let Some((path, p)) = &policy {
            require::policy(
                &client,
                &info,
                (path, p),
                stage.files(),
                stage.parts(),
                &subject,
            )
            .map_err(|f| refused(f.error))?;
        }
    }
    done(stage)?;
    if let Some(pin) = &decision.new_pin {
        pins.set(&key, pin).or_input()?;
        errln!(
            "note: pinned {key} to {} (in {})",
            describe(&v.signer),
            pins.path().display()
        );
    }
    if a.json {
        let mut out = pulled;
        let more = json!({
            "signed": true,
            "verified": true,
            "method": v.method,
            "signer": v.signer,
            "resource_count": v.resources,
            "model_digest": v.model_digest,
            "pinned": decision.new_pin.is_some(),
        });
        if let (Some(o), Value::Object(m)) = (out.as_object_mut(), more) {
            o.extend(m);
        }
        outln!("{out}");
        return Ok(0);
    }
    outln!(
        "Verified: {} files match the signature ({} method), signed by {}",
        v.resources,
        v.method,
        describe(&v.signer)
    );
    Ok(0)
}

/// Who signed, as verification established it.
fn describe(s: &SignerInfo) -> String {
    match s {
        SignerInfo::Keyless {
            identity, issuer, ..
        } => format!("{identity} (issuer {issuer})"),
        SignerInfo::Key { fingerprint, .. } => format!("key {fingerprint}"),
        SignerInfo::Certificate { subject, .. } => format!("certificate {subject}"),
    }
}

/// The revision's files as the hub lists them (names checked to stay inside the target).
fn remote_files(info: &Value) -> Result<Vec<Remote>, Failure> {
    let mut files = Vec::new();
    for s in info
        .get("siblings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let path = s
            .get("rfilename")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !safe_rel(&path) {
            return Err(Failure::failed(anyhow!(
                "the hub listed an unsafe file name {path:?}"
            )));
        }
        let size = s.get("size").and_then(Value::as_u64).unwrap_or(0);
        let sha256 = s
            .pointer("/lfs/sha256")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(Failure::failed(anyhow!(
                "the hub listed no SHA-256 for {path} (got {sha256:?})"
            )));
        }
        files.push(Remote { path, size, sha256 });
    }
    Ok(files)
}

/// The stage's name: which hub, repository and target directory (the same pull run again
/// finds it; another target or repository does not).
fn stage_key(hub: &str, repo: &str, dir: &Path) -> String {
    let target = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let id = format!("{hub}\n{repo}\n{}", target.display());
    hex::encode(digest(&SHA256, id.as_bytes()))[..16].to_owned()
}

/// Downloads `files` into the stage: `model.sig` first (its statement says how the others
/// are hashed), then the rest on `--jobs` threads. Returns every file's digests in the
/// signature's serialization (`files`/SHA-256 when unsigned). The first failure stops the
/// scheduling of new files; a corrupt one wins over an interruption.
fn download_all(
    a: &PullArgs,
    client: &Client,
    base: &str,
    files: &[Remote],
    stage: &Stage,
) -> Result<Vec<ResourceDigest>, Failed> {
    let total = files.iter().map(|f| f.size).sum();
    let pb = bar(a.hub.quiet, total, "downloading");
    let done = AtomicUsize::new(0);
    let count = |pb: &indicatif::ProgressBar| {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        pb.set_message(format!("{n}/{} files", files.len()));
    };
    pb.set_message(format!("0/{} files", files.len()));
    let mut job = Fetch {
        client,
        base: base.to_owned(),
        files: stage.files(),
        parts: stage.parts(),
        method: Serialization::Files,
        hash: HashAlgorithm::Sha256,
        bytes: &pb,
    };
    let mut out = Vec::new();
    let sig = files.iter().position(|f| f.path == "model.sig");
    if let Some(i) = sig {
        out.extend(fetch(&job, &files[i])?);
        count(&pb);
        let path = stage.files().join("model.sig");
        // unauthenticated: it only says how to hash; verify_hashed authenticates it
        if let Some(p) = std::fs::read(&path)
            .ok()
            .and_then(|b| signed_params(&b, &hallmark_format::limits::Limits::default()).ok())
        {
            (job.method, job.hash) = (p.method, p.hash);
        }
    }
    let rest: Vec<&Remote> = files
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != sig)
        .map(|(_, f)| f)
        .collect();
    let got = Mutex::new(out);
    let corrupt = AtomicBool::new(false);
    let res = parallel(rest.len(), a.hub.jobs, |i| match fetch(&job, rest[i]) {
        Ok(d) => {
            if let Ok(mut g) = got.lock() {
                g.extend(d);
            }
            count(&pb);
            Ok(())
        }
        Err(f) => {
            corrupt.fetch_or(matches!(f, Failed::Corrupt(_)), Ordering::SeqCst);
            Err(f.into_error())
        }
    });
    pb.finish_and_clear();
    match res {
        Ok(()) => Ok(got.into_inner().unwrap_or_default()),
        Err(e) if corrupt.load(Ordering::SeqCst) => Err(Failed::Corrupt(e)),
        Err(e) => Err(Failed::Interrupted(e)),
    }
}
