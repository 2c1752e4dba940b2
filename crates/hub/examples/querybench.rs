//! Query latency at scale (issue 20 §1: "each query over 100,000 revisions answers in
//! under 100 ms"). Generates N revisions straight through the store API (no HTTP, no
//! blobs): 10 revisions per repo, one signer per owner, a hub signature per revision
//! (logged, at an increasing time), a provenance claim naming one of 200 datasets, a
//! training commit and one of 5 builders, every 10th revision fine-tuned from an
//! earlier repo, 1 % flagged by a scanner rule, 5 % of repos private. Then times each
//! query kind, as an anonymous caller, through the same functions the API calls
//! (`hallmark_hub::query::engine`, the store's file and rule queries), and prints
//! p50 / p99 and their ratio to the 100 ms bar, one JSON line per kind.
//!
//! ```text
//! cargo run --release -p hallmark-hub --example querybench -- [REVISIONS] [DB] [--postgres URL]
//! ```
//! An existing DB file is reused as it is (so a second run times again without
//! generating: delete it to regenerate).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hallmark_hub::query::engine;
use hallmark_hub::query::refs::claim_refs;
use hallmark_store::{
    ClaimKind, ClaimRefKind, ClaimStatus, FileEntry, MetaStore, NewClaim, NewRevision, PgStore,
    ScanFinding, ScanResult, ScanVerdict, SigStatus, SignatureQuery, SignatureState, SqliteStore,
    Visibility,
};
use serde_json::json;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const ISSUER: &str = "https://hub.bench";
const PER_REPO: u64 = 10;
const REPOS_PER_OWNER: u64 = 10;
const DATASETS: u64 = 200;
const BUILDERS: u64 = 5;
/// Samples per query kind (`QUERYBENCH_SAMPLES` overrides it).
const SAMPLES: usize = 60;
/// The bar, milliseconds.
const BAR_MS: f64 = 100.0;
/// Start of the generated signing times (2026-01-01), one minute apart.
const T0: i64 = 1_767_225_600;

fn api(e: hallmark_hub::error::ApiError) -> Box<dyn std::error::Error> {
    e.message.into()
}

fn hex64(seed: u64, salt: &str) -> String {
    hex::encode(hallmark_crypto::sha256(format!("{salt}:{seed}").as_bytes()))
}

fn owner(i: u64) -> String {
    format!("user{}", i / (PER_REPO * REPOS_PER_OWNER))
}

fn repo_name(i: u64) -> String {
    format!("model{}", (i / PER_REPO) % REPOS_PER_OWNER)
}

fn identity(i: u64) -> String {
    format!("{ISSUER}/{}", owner(i))
}

fn commit(i: u64) -> String {
    hex64(i, "commit")[..40].to_owned()
}

/// The revision whose repo revision `i` (every 10th from 1,009 on) is fine-tuned from.
fn base_of(i: u64) -> u64 {
    (i * 7919) % (i - 100)
}

/// The provenance statement of revision `i` about root digest `root`.
fn provenance(i: u64, root: &str) -> serde_json::Value {
    let mut deps = vec![
        json!({"uri": format!("pkg:generic/dataset{}@1", i % DATASETS), "annotations": {"role": "trainedOn"}}),
        json!({"digest": {"gitCommit": hex64(i / PER_REPO, "code")[..40].to_owned()}, "annotations": {"role": "code"}}),
    ];
    // Every 10th revision is fine-tuned from a repo generated before it.
    if i % 10 == 9 && i >= 1_000 {
        let base = base_of(i);
        deps.push(json!({"uri": format!("pkg:huggingface/{}/{}", owner(base), repo_name(base)), "annotations": {"role": "baseModel"}}));
    }
    json!({"_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "m", "digest": {"sha256": root}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"buildType": "x", "externalParameters": {}, "resolvedDependencies": deps},
            "runDetails": {"builder": {"id": format!("https://ci.bench/builder{}", i % BUILDERS)}}}})
}

/// The signing time of revision `i`.
fn at(i: u64) -> i64 {
    T0 + i64::try_from(i).unwrap_or(0) * 60
}

fn claim(kind: ClaimKind, i: u64, log_index: i64) -> NewClaim {
    NewClaim {
        kind,
        predicate_type: "https://model_signing/signature/v1.0".into(),
        signer: identity(i),
        issuer: Some(ISSUER.into()),
        status: ClaimStatus::Verified,
        log_index: Some(log_index),
        integrated_time: Some(at(i)),
        bundle_sha256: hex64(i, "bundle"),
        asserts: String::new(),
    }
}

async fn generate(meta: &dyn MetaStore, n: u64) -> Res<()> {
    let started = Instant::now();
    let (mut owner_id, mut repo_id) = (0, 0);
    for i in 0..n {
        if i % (PER_REPO * REPOS_PER_OWNER) == 0 {
            owner_id = meta.create_user(&owner(i), None, None, false).await?.id;
        }
        let parent = if i % PER_REPO == 0 {
            let private = (i / PER_REPO) % 20 == 7;
            repo_id = meta.create_repo(owner_id, &repo_name(i), private).await?.id;
            None
        } else {
            Some(commit(i - 1))
        };
        let files = vec![
            FileEntry {
                path: "config.json".into(),
                sha256: hex64(0, "config"),
                size: 2,
            },
            FileEntry {
                path: "model.safetensors".into(),
                sha256: hex64(i, "weights"),
                size: 1 << 20,
            },
            FileEntry {
                path: "model.sig".into(),
                sha256: hex64(i, "sig"),
                size: 4_000,
            },
        ];
        let flagged = i % 100 == 42;
        let scan = ScanResult {
            verdict: if flagged {
                ScanVerdict::Dangerous
            } else {
                ScanVerdict::Clean
            },
            policy_version: "bench".into(),
            findings: if flagged {
                vec![ScanFinding {
                    path: "model.safetensors".into(),
                    rule: format!("pickle.global.bench{}", i % 7),
                    severity: "dangerous".into(),
                    message: "bench".into(),
                }]
            } else {
                Vec::new()
            },
        };
        let log = i64::try_from(i)? * 2;
        let c = commit(i);
        meta.commit_revision(
            &NewRevision {
                repo_id,
                commit: c.clone(),
                parent,
                uploader_id: owner_id,
                summary: String::new(),
                files,
                signature: SignatureState {
                    status: SigStatus::Verified,
                    method: Some("sigstore".into()),
                    identity: Some(identity(i)),
                    issuer: Some(ISSUER.into()),
                    log_index: Some(log),
                    detail: None,
                    checked_at: None,
                },
                identity_changed_from: None,
                upload_id: None,
                scan: Some(scan),
                claims: vec![claim(ClaimKind::HubSignature, i, log)],
            },
            at(i),
        )
        .await?;
        let root = hex64(i, "root");
        meta.add_claim(repo_id, &c, &claim(ClaimKind::Provenance, i, log + 1))
            .await?;
        let added = meta.claims(repo_id, &c).await?;
        let id = added.last().ok_or("the claim just added is missing")?.id;
        let refs = claim_refs(&provenance(i, &root), &root);
        meta.add_claim_refs(repo_id, &c, id, &refs).await?;
        if (i + 1) % 10_000 == 0 {
            eprintln!("generated {} revisions in {:.0?}", i + 1, started.elapsed());
        }
    }
    Ok(())
}

/// A boxed future of a row count.
type Fut = std::pin::Pin<Box<dyn std::future::Future<Output = Res<usize>>>>;
/// The query of one kind for sample `k`.
type Query = Box<dyn Fn(Arc<dyn MetaStore>, u64) -> Fut>;

const ANON: Visibility = Visibility {
    viewer: None,
    admin: false,
};

fn signatures(m: Arc<dyn MetaStore>, q: SignatureQuery, re: Option<String>) -> Fut {
    Box::pin(async move {
        let re = match re {
            Some(r) => Some(engine::identity_pattern(&r).map_err(|e| e.to_string())?),
            None => None,
        };
        Ok(engine::signatures(&*m, q, re.as_ref(), ANON)
            .await
            .map_err(api)?
            .len())
    })
}

fn closure(m: Arc<dyn MetaStore>, kind: ClaimRefKind, v: String, direct: bool) -> Fut {
    Box::pin(async move {
        Ok(
            engine::closure(&*m, kind, &v, direct, ANON, engine::DEFAULT_LIMIT)
                .await
                .map_err(api)?
                .len(),
        )
    })
}

/// What the generator made, to check every answer's row count against: a query that
/// silently answered nothing (or too much) would time the wrong thing.
struct Model {
    n: u64,
    /// Revisions fine-tuned from each repo (global repo index `i / PER_REPO`).
    tuned_from: std::collections::HashMap<u64, Vec<u64>>,
}

impl Model {
    fn new(n: u64) -> Self {
        let mut tuned_from: std::collections::HashMap<u64, Vec<u64>> = Default::default();
        for i in (1_009..n).step_by(10) {
            tuned_from.entry(base_of(i) / PER_REPO).or_default().push(i);
        }
        Self { n, tuned_from }
    }
    /// Whether an anonymous caller sees revision `i` (5 % of repos are private).
    fn visible(i: u64) -> bool {
        (i / PER_REPO) % 20 != 7
    }
    /// Rows an answer of `per` rows per visible revision matching `pred` has.
    fn count(&self, per: usize, pred: impl Fn(u64) -> bool) -> usize {
        let m = (0..self.n).filter(|&i| Self::visible(i) && pred(i)).count();
        (m * per).min(engine::DEFAULT_LIMIT as usize)
    }
    /// The closure's size from the visible revisions matching `pred`: revisions
    /// fine-tuned from their repos, transitively ([`engine::MAX_DEPTH`] generations).
    fn closure(&self, pred: impl Fn(u64) -> bool) -> usize {
        let limit = engine::DEFAULT_LIMIT as usize;
        let mut frontier: Vec<u64> = (0..self.n)
            .filter(|&i| Self::visible(i) && pred(i))
            .collect();
        let mut seen: std::collections::HashSet<u64> = frontier.iter().copied().collect();
        for _ in 0..engine::MAX_DEPTH {
            if frontier.is_empty() || seen.len() >= limit {
                break;
            }
            let repos: std::collections::BTreeSet<u64> =
                frontier.iter().map(|i| i / PER_REPO).collect();
            frontier = repos
                .iter()
                .flat_map(|r| self.tuned_from.get(r).into_iter().flatten().copied())
                .filter(|&j| Self::visible(j) && seen.insert(j))
                .collect();
        }
        seen.len().min(limit)
    }
}

/// The rows the model says sample `k` of a kind answers.
type Expect = Box<dyn Fn(&Model, u64) -> usize>;

/// One query kind: its name, the query of sample `k`, and how many rows it must answer.
struct Kind {
    name: &'static str,
    query: Query,
    expect: Expect,
}

fn kind(
    name: &'static str,
    query: impl Fn(Arc<dyn MetaStore>, u64) -> Fut + 'static,
    expect: impl Fn(&Model, u64) -> usize + 'static,
) -> Kind {
    Kind {
        name,
        query: Box::new(query),
        expect: Box::new(expect),
    }
}

fn kinds(n: u64) -> Vec<Kind> {
    let owners = (n / (PER_REPO * REPOS_PER_OWNER)).max(1);
    let repos = (n / PER_REPO).max(1);
    // An owner (its signer), and a window of 5,000 revisions (minutes) in the span.
    let own = move |k: u64| k * 37 % owners;
    let signer = move |k: u64| identity(own(k) * PER_REPO * REPOS_PER_OWNER);
    let from = move |k: u64| k * 997 % n;
    let in_window = move |k: u64, i: u64| (from(k)..=from(k) + 5_000).contains(&i);
    let sig = move |identities: Option<Vec<String>>, window: bool, k: u64| SignatureQuery {
        identities,
        issuer: Some(ISSUER.into()),
        since: window.then(|| at(from(k))),
        until: window.then(|| at(from(k) + 5_000)),
        limit: engine::DEFAULT_LIMIT,
    };
    let of_owner = move |k: u64, i: u64| i / (PER_REPO * REPOS_PER_OWNER) == own(k);
    // The base of a fine-tuned revision (every 10th from 1,009 on).
    let base =
        move |k: u64| base_of(1_009 + 10 * (k * 131 % (n.saturating_sub(1_009) / 10).max(1)));
    let code = move |k: u64| k * 31 % repos;
    // A hub signature and a provenance claim per revision.
    vec![
        kind(
            "signatures by identity",
            move |m, k| signatures(m, sig(Some(vec![signer(k)]), false, k), None),
            move |x, k| x.count(2, |i| of_owner(k, i)),
        ),
        kind(
            "signatures by identity in a window",
            move |m, k| signatures(m, sig(Some(vec![signer(k)]), true, k), None),
            move |x, k| x.count(2, |i| of_owner(k, i) && in_window(k, i)),
        ),
        kind(
            "signatures by identity pattern",
            move |m, k| {
                let re = format!("{ISSUER}/user{}[0-9]", k % 9 + 1);
                signatures(m, sig(None, false, k), Some(re))
            },
            move |x, k| {
                let o = k % 9 + 1;
                x.count(2, |i| i / (PER_REPO * REPOS_PER_OWNER) / 10 == o)
            },
        ),
        kind(
            "signatures by issuer in a window",
            move |m, k| signatures(m, sig(None, true, k), None),
            move |x, k| x.count(2, |i| in_window(k, i)),
        ),
        kind(
            "revisions by dataset (transitive)",
            move |m, k| {
                let v = format!("pkg:generic/dataset{}", k % DATASETS);
                closure(m, ClaimRefKind::Dataset, v, false)
            },
            move |x, k| x.closure(|i| i % DATASETS == k % DATASETS),
        ),
        kind(
            "revisions by dataset (direct)",
            move |m, k| {
                let v = format!("pkg:generic/dataset{}@1", k % DATASETS);
                closure(m, ClaimRefKind::Dataset, v, true)
            },
            move |x, k| x.count(1, |i| i % DATASETS == k % DATASETS),
        ),
        kind(
            "revisions by base model (transitive)",
            move |m, k| {
                let b = base(k);
                let v = format!("pkg:huggingface/{}/{}", owner(b), repo_name(b));
                closure(m, ClaimRefKind::BaseModel, v, false)
            },
            // The revisions fine-tuned from b's repo, and theirs.
            move |x, k| {
                let r = base(k) / PER_REPO;
                let named: std::collections::HashSet<u64> = x
                    .tuned_from
                    .get(&r)
                    .into_iter()
                    .flatten()
                    .copied()
                    .collect();
                x.closure(|i| named.contains(&i))
            },
        ),
        kind(
            "revisions by training commit",
            move |m, k| {
                let v = hex64(code(k), "code")[..40].to_owned();
                closure(m, ClaimRefKind::TrainingCommit, v, false)
            },
            move |x, k| x.closure(|i| i / PER_REPO == code(k)),
        ),
        kind(
            "revisions by builder (direct)",
            move |m, k| {
                let v = format!("https://ci.bench/builder{}", k % BUILDERS);
                closure(m, ClaimRefKind::Builder, v, true)
            },
            move |x, k| x.count(1, |i| i % BUILDERS == k % BUILDERS),
        ),
        kind(
            "revisions by file sha256",
            move |m, k| {
                let v = hex64(k * 7 % n, "weights");
                Box::pin(
                    async move { Ok(m.query_file(&v, ANON, engine::DEFAULT_LIMIT).await?.len()) },
                )
            },
            move |x, k| x.count(1, |i| i == k * 7 % n),
        ),
        kind(
            "revisions by scanner rule",
            move |m, k| {
                let v = format!("pickle.global.bench{}", k % 7);
                Box::pin(
                    async move { Ok(m.query_rule(&v, ANON, engine::DEFAULT_LIMIT).await?.len()) },
                )
            },
            move |x, k| x.count(1, |i| i % 100 == 42 && i % 7 == k % 7),
        ),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1_000.0
}

/// Times every kind; (every p99 under the bar, every row count as the model says).
async fn run(meta: Arc<dyn MetaStore>, n: u64, backend: &str) -> Res<(bool, bool)> {
    let model = Model::new(n);
    let samples: usize = match std::env::var("QUERYBENCH_SAMPLES") {
        Ok(v) => v.parse()?,
        Err(_) => SAMPLES,
    };
    let (mut all_ok, mut all_right) = (true, true);
    for Kind {
        name,
        query,
        expect,
    } in kinds(n)
    {
        // One untimed warm-up, then SAMPLES timed runs with varying values, each answer's
        // row count checked against the generator's model.
        query(meta.clone(), 0).await?;
        let mut times = Vec::with_capacity(samples);
        let (mut rows, mut min_rows, mut wrong) = (0, usize::MAX, 0);
        for k in 1..=samples as u64 {
            let t = Instant::now();
            let got = query(meta.clone(), k).await?;
            times.push(t.elapsed());
            let want = expect(&model, k);
            if got != want {
                eprintln!("{name}, sample {k}: {got} rows, expected {want}");
                wrong += 1;
            }
            rows += got;
            min_rows = min_rows.min(got);
        }
        if rows == 0 {
            eprintln!("{name}: every sample answered no rows");
            wrong += 1;
        }
        all_right &= wrong == 0;
        times.sort();
        let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
        all_ok &= p99 < BAR_MS;
        println!(
            "{}",
            json!({"backend": backend, "revisions": n, "query": name, "samples": samples,
                "rows": rows, "min_rows": min_rows, "wrong_counts": wrong, "p50_ms": (p50 * 100.0).round() / 100.0,
                "p99_ms": (p99 * 100.0).round() / 100.0,
                "p50_ratio": (p50 / BAR_MS * 1000.0).round() / 1000.0,
                "p99_ratio": (p99 / BAR_MS * 1000.0).round() / 1000.0})
        );
    }
    Ok((all_ok, all_right))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: u64 = args.first().map_or(Ok(100_000), |a| a.parse())?;
    let pg = args
        .iter()
        .position(|a| a == "--postgres")
        .and_then(|i| args.get(i + 1));
    let (meta, backend, fresh): (Arc<dyn MetaStore>, &str, bool) = match pg {
        Some(url) => (
            Arc::new(PgStore::connect(url, 4).await?),
            "postgresql",
            true,
        ),
        None => {
            let path = std::path::PathBuf::from(
                args.get(1)
                    .cloned()
                    .unwrap_or_else(|| "querybench.db".into()),
            );
            let fresh = !path.exists();
            (Arc::new(SqliteStore::open(&path).await?), "sqlite", fresh)
        }
    };
    if fresh {
        generate(&*meta, n).await?;
    }
    let (ok, right) = run(meta, n, backend).await?;
    eprintln!(
        "{}",
        if ok {
            "every query kind: p99 under the 100 ms bar"
        } else {
            "SOME QUERY KIND MISSED THE 100 ms BAR"
        }
    );
    if !right {
        return Err("some answers had the wrong number of rows (above)".into());
    }
    if ok { Ok(()) } else { Err("bar missed".into()) }
}
