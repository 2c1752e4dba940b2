//! Incident-response queries (issue 20): signatures by signer and time, revisions by
//! what their claims name, by file digest, by scanner rule. Every answer is an index
//! lookup (migrations 0011, 0012, 0014) joined to the claim it cites, limited to what
//! the caller may see, bounded by a row limit.
//!
//! Each runs in two phases ([`Sql::two_phase`]): the first picks the keys of at most
//! `limit` rows in order, joined only to the repo for visibility; the second reads the
//! cited claim, the names and the revision's log index for those rows alone. In one
//! phase the database computed every column (a correlated subquery among them) for each
//! matching row before sorting and cutting: 19,000 rows for a builder named by a fifth
//! of 100,000 revisions, where 1,000 are returned.

use sqlx::AssertSqlSafe;

use super::backend::{Arg, Backend, Col, Q, all};
use crate::error::Result;
use crate::response::{ClaimRef, ClaimRefKind, QueryHit, SignatureQuery, Visibility};

/// Most rows any query returns.
pub(super) const MAX_ROWS: u32 = 10_000;

/// Values bound in one `IN (…)` list (SQLite allows 32,766 parameters, PostgreSQL 65,535).
const CHUNK: usize = 500;

/// The columns of a [`QueryHit`] read in the second phase: `t` holds the first phase's
/// repo_id / commit_id, `c` is the claim cited, `r` / `a` the repo and its owner.
fn hit_columns(matched: &str) -> String {
    format!(
        "t.repo_id AS repo_id, a.name AS owner, r.name AS repo_name, r.owner_id AS owner_id, \
         r.private AS private, t.commit_id AS revision, c.kind AS claim, c.signer AS identity, \
         c.issuer AS issuer, c.log_index AS log_index, c.integrated_time AS integrated_time, \
         {matched} AS matched, (SELECT MIN(h.log_index) FROM revision_claims h \
         WHERE h.repo_id = t.repo_id AND h.commit_id = t.commit_id \
         AND h.kind = 'hub-signature') AS revision_log_index"
    )
}

const REPO_JOIN: &str = "JOIN repos r ON r.id = t.repo_id JOIN accounts a ON a.id = r.owner_id";

/// How a query's two phases read: the first phase's table (aliased `t`) and the keys it
/// selects, the order, how the second phase finds the cited claim `c`, what matched.
struct Shape<'a> {
    table: &'a str,
    keys: &'a str,
    order: &'a str,
    claim_join: &'a str,
    matched: &'a str,
}

fn read_hit<DB: Backend>(r: &DB::Row) -> Result<QueryHit> {
    Ok(QueryHit {
        repo_id: r.col("repo_id")?,
        repo: format!(
            "{}/{}",
            r.col::<String>("owner")?,
            r.col::<String>("repo_name")?
        ),
        owner_id: r.col("owner_id")?,
        private: r.col("private")?,
        revision: r.col("revision")?,
        claim: r.col("claim")?,
        identity: r.col("identity")?,
        issuer: r.col("issuer")?,
        log_index: r.col("log_index")?,
        integrated_time: r.col("integrated_time")?,
        matched: r.col("matched")?,
        revision_log_index: r.col("revision_log_index")?,
    })
}

/// A query's SQL with its numbered parameters, built together so the `$N` always match.
#[derive(Default)]
struct Sql {
    text: String,
    ints: Vec<(usize, i64)>,
    strs: Vec<(usize, String)>,
    n: usize,
}

impl Sql {
    fn new(text: String) -> Self {
        Self {
            text,
            ..Self::default()
        }
    }
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }
    fn int(&mut self, v: i64) -> String {
        self.n += 1;
        self.ints.push((self.n, v));
        format!("${}", self.n)
    }
    fn str(&mut self, v: &str) -> String {
        self.n += 1;
        self.strs.push((self.n, v.to_owned()));
        format!("${}", self.n)
    }
    fn list(&mut self, values: &[String]) -> String {
        let p: Vec<String> = values.iter().map(|v| self.str(v)).collect();
        p.join(", ")
    }
    /// `AND` what `vis` may see of repo `r`.
    fn visible(&mut self, vis: Visibility) {
        if !vis.admin {
            let v = self.int(vis.viewer.unwrap_or(-1));
            self.push(&format!(
                " AND (NOT r.private OR r.owner_id = {v} OR r.owner_id IN \
                 (SELECT org_id FROM memberships WHERE user_id = {v}))"
            ));
        }
    }
    /// The first phase's `SELECT … WHERE 1 = 1`; the caller adds its conditions and
    /// [`Sql::finish`] closes both phases.
    fn two_phase(shape: &Shape<'_>) -> Self {
        let Shape {
            table,
            keys,
            matched,
            ..
        } = shape;
        Self::new(format!(
            "SELECT {} FROM (SELECT {keys} FROM {table} t JOIN repos r ON r.id = t.repo_id \
             WHERE 1 = 1",
            hit_columns(matched)
        ))
    }
    /// Adds what `vis` may see, orders and limits the first phase, and joins its rows to
    /// their claim, repo and owner in the same order (limited again: a left-joined claim
    /// may repeat a row).
    fn finish(&mut self, shape: &Shape<'_>, vis: Visibility, limit: u32) {
        self.visible(vis);
        let l = self.int(i64::from(limit.clamp(1, MAX_ROWS)));
        let Shape {
            order, claim_join, ..
        } = shape;
        self.push(&format!(
            " ORDER BY {order} LIMIT {l}) t {claim_join} {REPO_JOIN} ORDER BY {order} LIMIT {l}"
        ));
    }
    async fn hits<DB: Backend>(self, c: &mut DB::Connection) -> Result<Vec<QueryHit>> {
        let Self {
            text,
            ints,
            strs,
            n,
        } = self;
        let mut q: Q<'_, DB> = sqlx::query(AssertSqlSafe(text));
        for k in 1..=n {
            if let Some((_, v)) = ints.iter().find(|(i, _)| *i == k) {
                q = q.arg(*v);
            } else if let Some((_, v)) = strs.iter().find(|(i, _)| *i == k) {
                q = q.arg(v.as_str());
            }
        }
        all::<DB, _>(c, q, read_hit::<DB>).await
    }
}

pub(super) async fn add_refs<DB: Backend>(
    c: &mut DB::Connection,
    repo_id: i64,
    commit: &str,
    claim_id: i64,
    refs: &[ClaimRef],
) -> Result<()> {
    for r in refs {
        sqlx::query(
            "INSERT INTO claim_refs (repo_id, commit_id, claim_id, kind, value) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .arg(repo_id)
        .arg(commit)
        .arg(claim_id)
        .arg(r.kind.as_str())
        .arg(r.value.as_str())
        .execute(DB::executor(c))
        .await?;
    }
    Ok(())
}

/// Signatures (claims) in time order, newest first.
const SIGNATURES: Shape<'static> = Shape {
    table: "revision_claims",
    keys: "t.id, t.repo_id, t.commit_id, t.signer, t.integrated_time",
    order: "t.integrated_time DESC, t.id DESC",
    claim_join: "JOIN revision_claims c ON c.id = t.id",
    matched: "t.signer",
};

pub(super) async fn signatures<DB: Backend>(
    c: &mut DB::Connection,
    q: &SignatureQuery,
    vis: Visibility,
) -> Result<Vec<QueryHit>> {
    let mut out = Vec::new();
    let groups: Vec<Option<&[String]>> = match &q.identities {
        Some(ids) if ids.is_empty() => return Ok(out),
        Some(ids) => ids.chunks(CHUNK).map(Some).collect(),
        None => vec![None],
    };
    for ids in groups {
        let mut s = Sql::two_phase(&SIGNATURES);
        if let Some(ids) = ids {
            let list = s.list(ids);
            s.push(&format!(" AND t.signer IN ({list})"));
        }
        if let Some(iss) = &q.issuer {
            let p = s.str(iss);
            // With signers named, they are what is selective: `|| ''` keeps the planner
            // (SQLite keeps no statistics) from walking every claim of the issuer in
            // time order through its index instead (80 ms at 200,000 claims).
            let issuer = if ids.is_some() {
                "t.issuer || ''"
            } else {
                "t.issuer"
            };
            s.push(&format!(" AND {issuer} = {p}"));
        }
        let when = "COALESCE(t.integrated_time, t.created_at)";
        if let Some(since) = q.since {
            let p = s.int(since);
            s.push(&format!(" AND {when} >= {p}"));
        }
        if let Some(until) = q.until {
            let p = s.int(until);
            s.push(&format!(" AND {when} <= {p}"));
        }
        s.finish(&SIGNATURES, vis, q.limit);
        out.extend(s.hits::<DB>(c).await?);
    }
    if out.len() > q.limit as usize {
        out.sort_by_key(|h| std::cmp::Reverse(h.integrated_time));
        out.truncate(q.limit as usize);
    }
    Ok(out)
}

/// The distinct signers (of `issuer`) in order, one index seek each (a loose index scan:
/// `DISTINCT` read every claim, 30 ms at 200,000).
pub(super) async fn signers<DB: Backend>(
    c: &mut DB::Connection,
    issuer: Option<&str>,
    limit: u32,
) -> Result<Vec<String>> {
    let lim = i64::from(limit.max(1));
    let of = if issuer.is_some() {
        "issuer = $1"
    } else {
        "$1 IS NULL"
    };
    let next = |after: &str| {
        format!("(SELECT signer FROM revision_claims WHERE {of}{after} ORDER BY signer LIMIT 1)")
    };
    let sql = format!(
        "WITH RECURSIVE s (signer, n) AS (SELECT {first}, 1 UNION ALL \
         SELECT {step}, s.n + 1 FROM s WHERE s.signer IS NOT NULL AND s.n < $2) \
         SELECT signer FROM s WHERE signer IS NOT NULL ORDER BY signer",
        first = next(""),
        step = next(" AND signer > s.signer"),
    );
    let q = sqlx::query(AssertSqlSafe(sql)).arg(issuer).arg(lim);
    all::<DB, _>(c, q, |r| Ok(r.col("signer")?)).await
}

/// What claims name, in revision order (migration 0014's index on
/// `(kind, value, repo_id, commit_id, claim_id)` gives one value's rows in that order, so
/// the first phase stops after `limit` of them).
const REFS: Shape<'static> = Shape {
    table: "claim_refs",
    keys: "t.repo_id, t.commit_id, t.claim_id, t.value",
    order: "t.repo_id, t.commit_id",
    claim_join: "JOIN revision_claims c ON c.id = t.claim_id",
    matched: "t.value",
};

pub(super) async fn refs<DB: Backend>(
    c: &mut DB::Connection,
    kind: ClaimRefKind,
    values: &[String],
    vis: Visibility,
    limit: u32,
) -> Result<Vec<QueryHit>> {
    let mut out = Vec::new();
    for chunk in values.chunks(CHUNK) {
        let mut s = Sql::two_phase(&REFS);
        let k = s.str(kind.as_str());
        let list = s.list(chunk);
        s.push(&format!(" AND t.kind = {k} AND t.value IN ({list})"));
        s.finish(&REFS, vis, limit);
        out.extend(s.hits::<DB>(c).await?);
        if out.len() >= limit as usize {
            out.truncate(limit as usize);
            break;
        }
    }
    Ok(out)
}

/// The `model` references of `revisions`: joined to them as a table of values, so each
/// is an index lookup by revision (a list of `OR`ed pairs made the planner read every
/// `model` reference instead: 2.4 s of CPU for one closure at 100,000 revisions).
/// `CROSS JOIN` makes SQLite (which keeps no statistics) loop over the values outside:
/// given the choice, SQLite 3.51 walked every `model` reference once per value.
pub(super) async fn model_refs<DB: Backend>(
    c: &mut DB::Connection,
    revisions: &[(i64, String)],
) -> Result<Vec<(i64, String, String)>> {
    let mut out = Vec::new();
    for chunk in revisions.chunks(CHUNK / 2) {
        let mut s = Sql::new(String::new());
        let rows: Vec<String> = chunk
            .iter()
            .map(|(repo, commit)| {
                let (r, c) = (s.int(*repo), s.str(commit));
                format!("({r}, {c})")
            })
            .collect();
        let sql = format!(
            "WITH v (repo_id, commit_id) AS (VALUES {}) \
             SELECT t.repo_id, t.commit_id, t.value FROM v CROSS JOIN claim_refs t \
             WHERE t.repo_id = v.repo_id AND t.commit_id = v.commit_id AND t.kind = 'model'",
            rows.join(", ")
        );
        let mut q: Q<'_, DB> = sqlx::query(AssertSqlSafe(sql));
        for (repo, commit) in chunk {
            q = q.arg(*repo).arg(commit.as_str());
        }
        let rows = all::<DB, _>(c, q, |r| {
            Ok((r.col("repo_id")?, r.col("commit_id")?, r.col("value")?))
        })
        .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Revisions whose rows in `table` have `column = value`, citing their `claim` claim.
async fn by_column<DB: Backend>(
    c: &mut DB::Connection,
    (table, column, matched, claim): (&str, &str, &str, &str),
    value: &str,
    vis: Visibility,
    limit: u32,
) -> Result<Vec<QueryHit>> {
    let claim_join = format!(
        "LEFT JOIN revision_claims c ON c.repo_id = t.repo_id AND c.commit_id = t.commit_id \
         AND c.kind = '{claim}'"
    );
    let keys = format!("t.repo_id, t.commit_id, {matched}");
    let shape = Shape {
        table,
        keys: &keys,
        order: "t.repo_id, t.commit_id",
        claim_join: &claim_join,
        matched,
    };
    let mut s = Sql::two_phase(&shape);
    let p = s.str(value);
    s.push(&format!(" AND t.{column} = {p}"));
    s.finish(&shape, vis, limit);
    s.hits::<DB>(c).await
}

pub(super) async fn file<DB: Backend>(
    c: &mut DB::Connection,
    sha256: &str,
    vis: Visibility,
    limit: u32,
) -> Result<Vec<QueryHit>> {
    let how = ("revision_files", "sha256", "t.path", "hub-signature");
    by_column::<DB>(c, how, sha256, vis, limit).await
}

pub(super) async fn rule<DB: Backend>(
    c: &mut DB::Connection,
    rule: &str,
    vis: Visibility,
    limit: u32,
) -> Result<Vec<QueryHit>> {
    let how = ("scan_findings", "rule", "t.path", "scan");
    by_column::<DB>(c, how, rule, vis, limit).await
}
