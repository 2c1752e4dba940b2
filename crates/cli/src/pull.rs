//! `hallmark pull owner/name [--revision R] DIR`: download a revision into a staging
//! directory beside DIR (checking every file's SHA-256 as it arrives), verify its signature
//! against what the user pinned (`pulltrust`), and only then move the files into DIR. A
//! failed pull leaves nothing behind: no DIR, or DIR as it was.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use aws_lc_rs::digest::{Context, SHA256};
use hallmark_signing::verify::SignerInfo;
use hallmark_signing::{VerifyOptions, verify_model};
use indicatif::ProgressBar;
use serde_json::{Value, json};

use crate::args::remote::PullArgs;
use crate::hubclient::{Client, bar, encode_path, parallel, split_repo};
use crate::pins::{Pins, repo_key};
use crate::pulltrust::decide;
use crate::require::{self, Subject};
use crate::revoked;
use crate::stage::Stage;
use crate::util::{Failure, OrExit as _, Outcome};
use crate::witnessed::WitnessPolicy;

/// How a refusal of the pull ends.
const NOTHING_WRITTEN: &str = "; nothing was written";

struct Remote {
    path: String,
    size: u64,
    sha256: String,
}

fn safe_rel(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && !p.chars().any(char::is_control)
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// What every download shares.
struct Fetch<'a> {
    client: &'a Client,
    /// `/{owner}/{name}/resolve/{commit}`
    base: String,
    dir: &'a Path,
    tmp: &'a Path,
    pb: &'a ProgressBar,
}

fn fetch(job: &Fetch<'_>, f: &Remote, i: usize) -> anyhow::Result<()> {
    let (client, dir, tmp, pb) = (job.client, job.dir, job.tmp, job.pb);
    let url = client.url(&format!("{}/{}", job.base, encode_path(&f.path)));
    let mut resp = client
        .auth(client.agent.get(&url))
        .call()
        .with_context(|| format!("GET {url}"))?;
    if !resp.status().is_success() {
        bail!("GET {url}: {}", resp.status());
    }
    let part = tmp.join(i.to_string());
    let mut out =
        std::fs::File::create(&part).with_context(|| format!("cannot write {}", part.display()))?;
    let mut reader = resp.body_mut().as_reader();
    let mut ctx = Context::new(&SHA256);
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("downloading {}", f.path))?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
        out.write_all(&buf[..n])
            .with_context(|| format!("cannot write {}", part.display()))?;
        got += n as u64;
        pb.inc(n as u64);
    }
    let digest = hex::encode(ctx.finish());
    if got != f.size || digest != f.sha256 {
        bail!(
            "{} arrived corrupted (sha256:{digest}, {got} bytes; expected sha256:{}, {} bytes)",
            f.path,
            f.sha256,
            f.size
        );
    }
    let dest = dir.join(&f.path);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::rename(&part, &dest).with_context(|| format!("cannot write {}", dest.display()))
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
    let rev = encode_path(&a.revision).replace('/', "%2F");
    let info = client
        .get_json(&format!("/api/models/{owner}/{name}/revision/{rev}"))
        .or_failed()?;
    let commit = info
        .get("sha")
        .and_then(Value::as_str)
        .context("the hub sent no commit id")
        .or_failed()?
        .to_owned();
    let what = format!("{owner}/{name} at {commit}");
    revoked::check(&info, a.allow_revoked, &what, NOTHING_WRITTEN)?;
    let files = remote_files(&info)?;
    let stage = Stage::beside(&a.dir).or_input()?;
    let total = files.iter().map(|f| f.size).sum();
    let pb = bar(a.hub.quiet, total, "downloading");
    let job = Fetch {
        client: &client,
        base: format!("/{owner}/{name}/resolve/{commit}"),
        dir: stage.files(),
        tmp: stage.parts(),
        pb: &pb,
    };
    let res = parallel(files.len(), a.hub.jobs, |i| fetch(&job, &files[i], i));
    pb.finish_and_clear();
    res.with_context(|| {
        format!("download of {owner}/{name} at {commit} failed; nothing was written")
    })
    .or_failed()?;

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
            eprintln!("warning: {what} is REVOKED by {r}; pulled because of --allow-revoked");
        }
        stage.commit(&a.dir).or_failed()?;
        if a.json {
            return Ok(());
        }
        println!(
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
                println!("{out}");
            } else {
                println!("warning: revision {commit} is NOT signed");
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
    let v =
        verify_model(stage.files(), &bundle, decision.verifier.as_ref(), &opts).map_err(|e| {
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
        eprintln!(
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
        println!("{out}");
        return Ok(0);
    }
    println!(
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
        files.push(Remote { path, size, sha256 });
    }
    Ok(files)
}
