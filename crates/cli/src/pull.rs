//! `hallmark pull owner/name [--revision R] DIR`: download a revision (checking every
//! file's SHA-256 as it arrives) and verify its signature before reporting success.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use aws_lc_rs::digest::{Context, SHA256};
use hallmark_crypto::PublicKey;
use hallmark_signing::keyless::KeylessVerifier;
use hallmark_signing::verify::{EnvelopeVerifier, KeyVerifier};
use hallmark_signing::{VerifyOptions, verify_model};
use hallmark_sigstore::{IdentityPolicy, TrustedRoot};
use indicatif::ProgressBar;
use serde_json::Value;

use crate::args::remote::PullArgs;
use crate::hubclient::{Client, bar, encode_path, parallel, split_repo};
use crate::util::{Failure, OrExit as _, Outcome, read_input};

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
    std::fs::create_dir_all(&a.dir)
        .with_context(|| format!("cannot create {}", a.dir.display()))
        .or_input()?;
    let tmp = a.dir.join(".hallmark-pull");
    std::fs::create_dir_all(&tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))
        .or_input()?;
    let total = files.iter().map(|f| f.size).sum();
    let pb = bar(a.hub.quiet, total, "downloading");
    let job = Fetch {
        client: &client,
        base: format!("/{owner}/{name}/resolve/{commit}"),
        dir: &a.dir,
        tmp: &tmp,
        pb: &pb,
    };
    let res = parallel(files.len(), a.hub.jobs, |i| fetch(&job, &files[i], i));
    pb.finish_and_clear();
    let _ = std::fs::remove_dir_all(&tmp);
    res.or_failed()?;
    println!(
        "{owner}/{name}: downloaded {} files at revision {commit} into {}",
        files.len(),
        a.dir.display()
    );

    let sig = info
        .pointer("/hallmark/signature")
        .cloned()
        .unwrap_or(Value::Null);
    let sig_path = a.dir.join("model.sig");
    if !files.iter().any(|f| f.path == "model.sig") {
        if a.allow_unsigned {
            println!("warning: revision {commit} is NOT signed");
            return Ok(0);
        }
        return Err(Failure::failed(anyhow!(
            "revision {commit} is not signed (use --allow-unsigned to accept it)"
        )));
    }
    let hub_identity = sig
        .get("identity")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let issuer = sig
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some(want) = &a.identity
        && *want != hub_identity
    {
        return Err(Failure::failed(anyhow!(
            "signer identity is {hub_identity:?}, not the required {want:?}"
        )));
    }
    let verifier: Box<dyn EnvelopeVerifier> = match sig.get("method").and_then(Value::as_str) {
        Some("sigstore") => {
            let url = sig
                .get("trust_config_url")
                .and_then(Value::as_str)
                .context("no trust_config_url")
                .or_failed()?;
            // Published as `{public URL}/trust-config.json`; a replica reached at its own
            // address (not the load balancer's) serves the same document at the same path.
            let path = url
                .strip_prefix(&client.base)
                .unwrap_or_else(|| url_path(url));
            let tc = client.get_json(path).or_failed()?;
            let trust = TrustedRoot::from_client_trust_config_json(tc.to_string().as_bytes())
                .or_failed()?;
            Box::new(KeylessVerifier {
                trust,
                policy: IdentityPolicy {
                    identity: Some(hub_identity.clone()),
                    identity_regex: None,
                    issuer: issuer.clone(),
                },
            })
        }
        _ => {
            let pem = match &a.public_key {
                Some(p) => read_input("public key", p).or_input()?,
                None => client_get_bytes(&client, "/api/signing-key.pem").or_failed()?,
            };
            let key = PublicKey::from_pem(&pem)
                .context("hub public key")
                .or_failed()?;
            if a.public_key.is_none() {
                eprintln!(
                    "note: trusting the hub's published key {} (pin it with --public-key)",
                    key.fingerprint()
                );
            }
            Box::new(KeyVerifier { key })
        }
    };
    let bundle = std::fs::read(&sig_path)
        .with_context(|| format!("cannot read {}", sig_path.display()))
        .or_input()?;
    let opts = VerifyOptions {
        signature_path: Some(sig_path.clone()),
        ..VerifyOptions::default()
    };
    match verify_model(&a.dir, &bundle, verifier.as_ref(), &opts) {
        Ok(v) => {
            println!(
                "Verified: {} files match the signature ({} method), signed by {hub_identity} (issuer {issuer})",
                v.resources, v.method
            );
            Ok(0)
        }
        Err(e) => Err(Failure::failed(anyhow::Error::new(e).context(format!(
            "verification FAILED, do not use the files in {}",
            a.dir.display()
        )))),
    }
}

fn client_get_bytes(client: &Client, path: &str) -> anyhow::Result<Vec<u8>> {
    let url = client.url(path);
    let mut resp = client
        .agent
        .get(&url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    if !resp.status().is_success() {
        bail!("GET {url}: {}", resp.status());
    }
    resp.body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .with_context(|| format!("GET {url}"))
}

/// The path (and query) of an absolute `http(s)://host/path` URL; a relative one as is.
fn url_path(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    }
}

#[cfg(test)]
mod url_tests {
    use super::url_path;

    #[test]
    fn trust_config_path_of_a_public_url() {
        assert_eq!(
            url_path("https://hub.example.com/trust-config.json"),
            "/trust-config.json"
        );
        assert_eq!(url_path("http://127.0.0.1:8080"), "/");
        assert_eq!(url_path("/trust-config.json"), "/trust-config.json");
    }
}
