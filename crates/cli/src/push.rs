//! `hallmark push DIR owner/name`: upload a model directory as a new revision; the hub
//! signs it on upload. Files stream from disk (hashed on the way, and checked against
//! the digest the hub computed), in parallel, with a progress bar.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use aws_lc_rs::digest::{Context, SHA256};
use hallmark_format::manifest::DEFAULT_GIT_IGNORES;
use indicatif::ProgressBar;
use serde_json::{Value, json};

use crate::args::remote::PushArgs;
use crate::claimattach::attach_all;
use crate::hubclient::{Client, bar, encode_path, json_answer, parallel, split_repo};
use crate::util::{Failure, OrExit as _, Outcome};

struct LocalFile {
    rel: String,
    path: PathBuf,
    size: u64,
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<LocalFile>,
    notes: &mut Vec<String>,
) -> anyhow::Result<()> {
    let cannot_read = || format!("cannot read {}", dir.display());
    for entry in std::fs::read_dir(dir).with_context(cannot_read)? {
        let entry = entry.with_context(cannot_read)?;
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .ok()
            .and_then(|p| p.to_str())
            .map(|s| s.replace(std::path::MAIN_SEPARATOR, "/"))
            .with_context(|| format!("file name is not UTF-8: {}", path.display()))?;
        let ft = entry
            .file_type()
            .with_context(|| format!("cannot stat {}", path.display()))?;
        if rel == ".git" {
            continue;
        }
        if DEFAULT_GIT_IGNORES.contains(&rel.as_str()) {
            notes.push(format!(
                "skipped {rel}: model_signing leaves top-level git files out of every signature, so the hub does not take them"
            ));
            continue;
        }
        if rel == ".cache" {
            notes.push("skipped .cache: download tools keep their metadata there".into());
            continue;
        }
        if ft.is_symlink() {
            notes.push(format!("skipped symbolic link {rel}"));
        } else if ft.is_dir() {
            walk(root, &path, out, notes)?;
        } else {
            if rel == "model.sig" {
                notes.push(
                    "model.sig goes with the files as the publisher's signature: the hub \
                     checks it against them and keeps it as a claim beside its own"
                        .into(),
                );
            }
            let size = entry
                .metadata()
                .with_context(|| format!("cannot stat {}", path.display()))?
                .len();
            out.push(LocalFile { rel, path, size });
        }
    }
    Ok(())
}

/// Hashes what it reads and advances the progress bar.
struct Tee<'a> {
    inner: std::fs::File,
    ctx: &'a mut Context,
    bar: &'a ProgressBar,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.ctx.update(&buf[..n]);
        self.bar.inc(n as u64);
        Ok(n)
    }
}

fn put_file(client: &Client, base: &str, f: &LocalFile, bar: &ProgressBar) -> anyhow::Result<()> {
    let url = client.url(&format!("{base}/files/{}", encode_path(&f.rel)));
    let file = std::fs::File::open(&f.path)
        .with_context(|| format!("cannot read {}", f.path.display()))?;
    let mut ctx = Context::new(&SHA256);
    let mut tee = Tee {
        inner: file,
        ctx: &mut ctx,
        bar,
    };
    let resp = client
        .auth(client.agent.put(&url))
        .header("Content-Type", "application/octet-stream")
        .header("Content-Length", &f.size.to_string())
        .send(ureq::SendBody::from_reader(&mut tee))
        .with_context(|| format!("uploading {}", f.rel))?;
    let answer = json_answer("PUT", &url, resp)?;
    let local = hex::encode(ctx.finish());
    if answer.get("sha256").and_then(Value::as_str) != Some(local.as_str()) {
        bail!(
            "{} changed while uploading or was corrupted in transit (sent sha256:{local}, hub stored {})",
            f.rel,
            answer.get("sha256").and_then(Value::as_str).unwrap_or("?")
        );
    }
    Ok(())
}

/// The bytes a path takes as a JSON string, without the quotes (what the hub's
/// statement-size check counts).
fn json_len(path: &str) -> u64 {
    serde_json::to_string(path).map_or(path.len(), |s| s.len() - 2) as u64
}

pub(crate) fn run(a: &PushArgs) -> Outcome {
    let (owner, name) = split_repo(&a.repo).or_input()?;
    if !a.dir.is_dir() {
        return Err(Failure::input(anyhow!(
            "{} is not a directory",
            a.dir.display()
        )));
    }
    let mut files = Vec::new();
    let mut notes = Vec::new();
    walk(&a.dir, &a.dir, &mut files, &mut notes).or_input()?;
    for n in &notes {
        errln!("note: {n}");
    }
    if files.is_empty() {
        return Err(Failure::input(anyhow!(
            "{} has no files to push",
            a.dir.display()
        )));
    }
    let client = Client::new(&a.hub);
    if client.token.is_none() {
        return Err(Failure::input(anyhow!(
            "a write token is needed: --token, HALLMARK_TOKEN, HF_TOKEN or `hallmark login --hub {}`",
            a.hub.hub
        )));
    }
    let path_bytes: u64 = files.iter().map(|f| json_len(&f.rel)).sum();
    // Without --private the repo's visibility is left as it is (new repos are public).
    let mut open_body = json!({ "files": files.len(), "path_bytes": path_bytes });
    if a.private {
        open_body["private"] = Value::Bool(true);
    }
    let open = client
        .post_json(&format!("/api/models/{owner}/{name}/uploads"), &open_body)
        .or_failed()?;
    let id = open
        .get("upload_id")
        .and_then(Value::as_str)
        .context("the hub sent no upload id")
        .or_failed()?;
    let base = format!("/api/models/{owner}/{name}/uploads/{id}");
    // A hub that ignores the requested visibility must not receive the files.
    if a.private && open.get("private").and_then(Value::as_bool) != Some(true) {
        let _ = client.auth(client.agent.delete(&client.url(&base))).call();
        return Err(Failure::failed(anyhow!(
            "{owner}/{name} is public on the hub and --private was given: nothing was pushed \
             (make it private first, e.g. in the repo's settings)"
        )));
    }
    let total: u64 = files.iter().map(|f| f.size).sum();
    let pb = bar(a.hub.quiet, total, "uploading");
    // Big files first so the parallel tail is short.
    files.sort_by_key(|f| std::cmp::Reverse(f.size));
    let uploaded = parallel(files.len(), a.hub.jobs, |i| {
        put_file(&client, &base, &files[i], &pb)
    });
    pb.finish_and_clear();
    if let Err(e) = uploaded {
        let _ = client.auth(client.agent.delete(&client.url(&base))).call();
        return Err(Failure::failed(e));
    }
    let c = client
        .post_json(&format!("{base}/commit"), &json!({ "summary": a.message }))
        .or_failed()?;
    let commit = c.get("commit").and_then(Value::as_str).unwrap_or("?");
    let sig = c.get("signature").cloned().unwrap_or(Value::Null);
    let attached = attach_all(&client, owner, name, commit, &a.attach).or_failed()?;
    let status = sig
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    if a.json {
        let out = json!({
            "repo": format!("{owner}/{name}"),
            "revision": commit,
            "unchanged": c.get("unchanged").and_then(Value::as_bool).unwrap_or(false),
            "file_count": files.len(),
            "bytes": total,
            "signature": sig,
            "attached": attached,
        });
        outln!("{out}");
    } else if c.get("unchanged").and_then(Value::as_bool) == Some(true) {
        outln!("{owner}/{name}: unchanged, still at {commit}");
    } else {
        outln!(
            "{owner}/{name}: pushed {} files ({total} bytes) as revision {commit}",
            files.len()
        );
    }
    if !a.json {
        outln!(
            "signature: {status}, signed by {} (issuer {}){}",
            sig.get("identity").and_then(Value::as_str).unwrap_or("-"),
            sig.get("issuer").and_then(Value::as_str).unwrap_or("-"),
            sig.get("log_index")
                .and_then(Value::as_i64)
                .map(|i| format!(", log index {i}"))
                .unwrap_or_default()
        );
    }
    if !a.json {
        for (f, c) in a.attach.iter().zip(&attached) {
            let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
            outln!(
                "attached {}: {} claim, {}, signed by {}",
                f.display(),
                field("kind"),
                field("status"),
                field("signer")
            );
        }
    }
    if let Some(prev) = sig.get("identity_changed_from").and_then(Value::as_str) {
        errln!("warning: the signer identity changed; the previous revision was signed by {prev}");
    }
    if status != "verified" {
        return Err(Failure::failed(anyhow!(
            "the hub could not verify the revision's signature: {}",
            sig.get("detail")
                .and_then(Value::as_str)
                .unwrap_or("no detail")
        )));
    }
    Ok(0)
}
