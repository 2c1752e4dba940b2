//! Incident-response queries (issue 20): signatures by signer and time, revisions by
//! what their claims name, by file digest, by scanner rule. Every answer is an index
//! lookup (migration 0011) joined to the claim it cites, limited to what the caller may
//! see, bounded by a row limit.

use sqlx::AssertSqlSafe;

use super::backend::{Arg, Backend, Col, Q, all};
use crate::error::Result;
use crate::response::{ClaimRef, ClaimRefKind, QueryHit, SignatureQuery, Visibility};

/// Most rows any query returns.
pub(super) const MAX_ROWS: u32 = 10_000;

/// Values bound in one `IN (…)` list (SQLite allows 32,766 parameters, PostgreSQL 65,535).
const CHUNK: usize = 500;

/// The columns of a [`QueryHit`]; `t` is the table holding repo_id / commit_id, `c` the
/// claim cited, `r` / `a` the repo and its owner.
fn hit_columns(t: &str, matched: &str) -> String {
    format!(
        "{t}.repo_id AS repo_id, a.name AS owner, r.name AS repo_name, r.owner_id AS owner_id, \
         r.private AS private, {t}.commit_id AS revision, c.kind AS claim, c.signer AS identity, \
         c.issuer AS issuer, c.log_index AS log_index, c.integrated_time AS integrated_time, \
         {matched} AS matched, (SELECT MIN(h.log_index) FROM revision_claims h \
         WHERE h.repo_id = {t}.repo_id AND h.commit_id = {t}.commit_id \
         AND h.kind = 'hub-signature') AS revision_log_index"
    )
}

const REPO_JOIN: &str = "JOIN repos r ON r.id = t.repo_id JOIN accounts a ON a.id = r.owner_id";

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
    fn limit(&mut self, limit: u32) {
        let l = self.int(i64::from(limit.clamp(1, MAX_ROWS)));
        self.push(&format!(" LIMIT {l}"));
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
        let cols = hit_columns("t", "t.signer");
        let mut s = Sql::new(format!(
            "SELECT {cols} FROM revision_claims t JOIN revision_claims c ON c.id = t.id {REPO_JOIN} WHERE 1 = 1"
        ));
        if let Some(ids) = ids {
            let list = s.list(ids);
            s.push(&format!(" AND t.signer IN ({list})"));
        }
        if let Some(iss) = &q.issuer {
            let p = s.str(iss);
            s.push(&format!(" AND t.issuer = {p}"));
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
        s.visible(vis);
        s.push(" ORDER BY t.integrated_time DESC, t.id DESC");
        s.limit(q.limit);
        out.extend(s.hits::<DB>(c).await?);
    }
    if out.len() > q.limit as usize {
        out.sort_by_key(|h| std::cmp::Reverse(h.integrated_time));
        out.truncate(q.limit as usize);
    }
    Ok(out)
}

pub(super) async fn signers<DB: Backend>(
    c: &mut DB::Connection,
    issuer: Option<&str>,
    limit: u32,
) -> Result<Vec<String>> {
    let lim = i64::from(limit.max(1));
    let q = match issuer {
        Some(i) => sqlx::query(
            "SELECT DISTINCT signer FROM revision_claims WHERE issuer = $1 ORDER BY signer LIMIT $2",
        )
        .arg(i)
        .arg(lim),
        None => sqlx::query("SELECT DISTINCT signer FROM revision_claims ORDER BY signer LIMIT $1")
            .arg(lim),
    };
    all::<DB, _>(c, q, |r| Ok(r.col("signer")?)).await
}

pub(super) async fn refs<DB: Backend>(
    c: &mut DB::Connection,
    kind: ClaimRefKind,
    values: &[String],
    vis: Visibility,
    limit: u32,
) -> Result<Vec<QueryHit>> {
    let mut out = Vec::new();
    for chunk in values.chunks(CHUNK) {
        let cols = hit_columns("t", "t.value");
        let mut s = Sql::new(format!(
            "SELECT {cols} FROM claim_refs t JOIN revision_claims c ON c.id = t.claim_id {REPO_JOIN} WHERE t.kind = "
        ));
        let k = s.str(kind.as_str());
        let list = s.list(chunk);
        s.push(&format!("{k} AND t.value IN ({list})"));
        s.visible(vis);
        s.push(" ORDER BY t.repo_id, t.commit_id");
        s.limit(limit);
        out.extend(s.hits::<DB>(c).await?);
        if out.len() >= limit as usize {
            out.truncate(limit as usize);
            break;
        }
    }
    Ok(out)
}

pub(super) async fn model_refs<DB: Backend>(
    c: &mut DB::Connection,
    revisions: &[(i64, String)],
) -> Result<Vec<(i64, String, String)>> {
    let mut out = Vec::new();
    for chunk in revisions.chunks(CHUNK / 2) {
        let mut s = Sql::new(String::new());
        let conds: Vec<String> = chunk
            .iter()
            .map(|(repo, commit)| {
                let (r, c) = (s.int(*repo), s.str(commit));
                format!("(repo_id = {r} AND commit_id = {c})")
            })
            .collect();
        let sql = format!(
            "SELECT repo_id, commit_id, value FROM claim_refs WHERE kind = 'model' AND ({})",
            conds.join(" OR ")
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
    let cols = hit_columns("t", matched);
    let mut s = Sql::new(format!(
        "SELECT {cols} FROM {table} t {REPO_JOIN} LEFT JOIN revision_claims c \
         ON c.repo_id = t.repo_id AND c.commit_id = t.commit_id AND c.kind = '{claim}' WHERE t.{column} = "
    ));
    let p = s.str(value);
    s.push(&p);
    s.visible(vis);
    s.push(" ORDER BY t.repo_id, t.commit_id");
    s.limit(limit);
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
