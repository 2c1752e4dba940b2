//! [`Coordinator`] on PostgreSQL: one row per log in `tlog_state` (checkpoint note, staging
//! key, lease holder, fencing epoch, lease expiry by the database's clock) and the queue
//! `tlog_queue`. Commits and queue inserts `NOTIFY hallmark_tlog`; every replica keeps one
//! `LISTEN` connection to wake its waiters instead of polling.
//!
//! The tables belong to the log, not to the hub's metadata schema (the log could live in
//! another database): [`PgCoordinator::connect`] creates them idempotently under an
//! advisory lock rather than through the hub's migrations.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use hallmark_tlog::shared::{BatchCommit, Committed, Lease, Sequenced};
use hallmark_tlog::{Coordinator, Error};
use sqlx::postgres::PgListener;
use sqlx::{PgPool, Row as _};
use tokio::runtime::Handle;

use super::bridge::{Bridge, storage_error};

const CHANNEL: &str = "hallmark_tlog";

/// Advisory lock key serialising the DDL of concurrently starting replicas.
const DDL_LOCK: i64 = 0x686d_746c_6f67; // "hmtlog"

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS tlog_state (
        origin TEXT PRIMARY KEY,
        note TEXT NOT NULL,
        staging TEXT,
        holder TEXT,
        epoch BIGINT NOT NULL DEFAULT 0,
        lease_until TIMESTAMPTZ
    )",
    "CREATE TABLE IF NOT EXISTS tlog_queue (
        id BIGSERIAL PRIMARY KEY,
        origin TEXT NOT NULL,
        body BYTEA NOT NULL,
        seq BIGINT,
        integrated_time BIGINT,
        queued_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )",
    "CREATE INDEX IF NOT EXISTS tlog_queue_pending ON tlog_queue (origin, id) WHERE seq IS NULL",
    // Each entry's inclusion proof (concatenated SHA-256 hashes) and the checkpoint note it
    // is against, written by the commit that sequenced it.
    "ALTER TABLE tlog_queue ADD COLUMN IF NOT EXISTS proof BYTEA",
    "ALTER TABLE tlog_queue ADD COLUMN IF NOT EXISTS note TEXT",
];

/// Wakes local waiters when the listener hears a notification.
#[derive(Default)]
struct Bell {
    ring: Mutex<u64>,
    cv: Condvar,
}

/// The log's shared state in PostgreSQL (see the module docs).
pub struct PgCoordinator {
    pool: PgPool,
    origin: String,
    rt: Bridge,
    bell: Arc<Bell>,
    last_sweep: Mutex<Option<Instant>>,
    listener: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for PgCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCoordinator")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Drop for PgCoordinator {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

fn db(op: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| storage_error(op, e)
}

impl PgCoordinator {
    /// The log `origin` in the database behind `pool`: creates its tables if needed and
    /// starts the `LISTEN` task on `rt`.
    ///
    /// # Errors
    /// The database refuses the schema or the listener connection.
    pub async fn connect(pool: PgPool, origin: &str, rt: Handle) -> Result<Self, Error> {
        let mut tx = pool.begin().await.map_err(db("begin schema"))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(DDL_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db("lock schema"))?;
        for ddl in SCHEMA {
            sqlx::query(*ddl)
                .execute(&mut *tx)
                .await
                .map_err(db("create log tables"))?;
        }
        tx.commit().await.map_err(db("commit schema"))?;
        let mut listener = PgListener::connect_with(&pool)
            .await
            .map_err(db("listen"))?;
        listener.listen(CHANNEL).await.map_err(db("listen"))?;
        let bell = Arc::new(Bell::default());
        let b2 = Arc::clone(&bell);
        let listener = rt.spawn(async move {
            loop {
                // Errors (a dropped connection) are retried by PgListener; waiters also
                // time out, so a missed notification only costs latency.
                let res = listener.recv().await;
                if let Ok(mut n) = b2.ring.lock() {
                    *n = n.wrapping_add(1);
                }
                b2.cv.notify_all();
                if res.is_err() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        });
        Ok(Self {
            pool,
            origin: origin.to_owned(),
            rt: Bridge::new(rt),
            bell,
            last_sweep: Mutex::new(None),
            listener,
        })
    }

    /// Origins of the logs already in this database (whether or not this one's is).
    ///
    /// # Errors
    /// The query fails.
    pub async fn existing_origins(&self) -> Result<Vec<String>, Error> {
        sqlx::query_scalar("SELECT origin FROM tlog_state ORDER BY origin")
            .fetch_all(&self.pool)
            .await
            .map_err(db("list logs"))
    }

    /// Wakes every replica's waiters (delivered at commit when `ex` is a transaction).
    async fn notify<'e>(&self, ex: impl sqlx::PgExecutor<'e>) -> Result<(), Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(&self.origin)
            .execute(ex)
            .await
            .map_err(db("notify"))?;
        Ok(())
    }

    /// Deletes sequenced entries older than an hour (their submitters read them once), at most once a minute.
    async fn sweep(&self) -> Result<(), Error> {
        {
            let mut last = self
                .last_sweep
                .lock()
                .map_err(|_| Error::Stopped("sweep lock poisoned".into()))?;
            if last.is_some_and(|t| t.elapsed() < Duration::from_secs(60)) {
                return Ok(());
            }
            *last = Some(Instant::now());
        }
        sqlx::query(
            "DELETE FROM tlog_queue WHERE origin = $1 AND seq IS NOT NULL AND queued_at < now() - interval '1 hour'",
        )
        .bind(&self.origin)
        .execute(&self.pool)
        .await
        .map_err(db("sweep the queue"))?;
        Ok(())
    }
}

impl crate::PgStore {
    /// The coordinator of log `origin` in this store's database (same pool).
    ///
    /// # Errors
    /// As [`PgCoordinator::connect`].
    pub async fn log_coordinator(&self, origin: &str, rt: Handle) -> Result<PgCoordinator, Error> {
        PgCoordinator::connect(self.pool().clone(), origin, rt).await
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn u64_of(v: i64, what: &str) -> Result<u64, Error> {
    u64::try_from(v).map_err(|_| Error::Corrupt(format!("negative {what} {v} in tlog_queue")))
}

impl Coordinator for PgCoordinator {
    fn init(&self, empty_note: &str) -> Result<(), Error> {
        self.rt.wait(async {
            sqlx::query(
                "INSERT INTO tlog_state (origin, note) VALUES ($1, $2) ON CONFLICT (origin) DO NOTHING",
            )
            .bind(&self.origin)
            .bind(empty_note)
            .execute(&self.pool)
            .await
            .map_err(db("create the log row"))?;
            Ok(())
        })
    }

    fn acquire(&self, holder: &str, ttl: Duration) -> Result<Option<(Lease, Committed)>, Error> {
        self.rt.wait(async {
            let row = sqlx::query(
                "UPDATE tlog_state SET holder = $2, epoch = epoch + 1,
                     lease_until = now() + make_interval(secs => $3)
                 WHERE origin = $1
                   AND (holder IS NULL OR holder = $2 OR lease_until IS NULL OR lease_until < now())
                 RETURNING epoch, note, staging",
            )
            .bind(&self.origin)
            .bind(holder)
            .bind(secs(ttl))
            .fetch_optional(&self.pool)
            .await
            .map_err(db("acquire the sequencer lease"))?;
            Ok(row.map(|r| {
                (
                    Lease {
                        holder: holder.to_owned(),
                        epoch: r.get(0),
                    },
                    Committed {
                        note: r.get(1),
                        staging: r.get(2),
                    },
                )
            }))
        })
    }

    fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, Error> {
        self.rt.wait(async {
            let n = sqlx::query(
                "UPDATE tlog_state SET lease_until = now() + make_interval(secs => $4)
                 WHERE origin = $1 AND holder = $2 AND epoch = $3",
            )
            .bind(&self.origin)
            .bind(&lease.holder)
            .bind(lease.epoch)
            .bind(secs(ttl))
            .execute(&self.pool)
            .await
            .map_err(db("renew the sequencer lease"))?
            .rows_affected();
            if n == 1 {
                self.sweep().await?;
            }
            Ok(n == 1)
        })
    }

    fn release(&self, lease: &Lease) -> Result<(), Error> {
        self.rt.wait(async {
            sqlx::query(
                "UPDATE tlog_state SET lease_until = NULL
                 WHERE origin = $1 AND holder = $2 AND epoch = $3",
            )
            .bind(&self.origin)
            .bind(&lease.holder)
            .bind(lease.epoch)
            .execute(&self.pool)
            .await
            .map_err(db("release the sequencer lease"))?;
            self.notify(&self.pool).await?;
            Ok(())
        })
    }

    fn enqueue(&self, body: &[u8]) -> Result<i64, Error> {
        self.rt.wait(async {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO tlog_queue (origin, body) VALUES ($1, $2) RETURNING id",
            )
            .bind(&self.origin)
            .bind(body)
            .fetch_one(&self.pool)
            .await
            .map_err(db("queue a log entry"))?;
            self.notify(&self.pool).await?;
            Ok(id)
        })
    }

    fn pending(&self, max: usize) -> Result<Vec<(i64, Vec<u8>)>, Error> {
        self.rt.wait(async {
            let rows = sqlx::query(
                "SELECT id, body FROM tlog_queue WHERE origin = $1 AND seq IS NULL ORDER BY id LIMIT $2",
            )
            .bind(&self.origin)
            .bind(i64::try_from(max).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(db("read the log queue"))?;
            Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn commit(&self, b: &BatchCommit<'_>) -> Result<(), Error> {
        let first = i64::try_from(b.first_index)
            .map_err(|_| Error::Corrupt(format!("index {} too large", b.first_index)))?;
        let seqs: Vec<i64> = (0..b.ids.len() as i64).map(|k| first + k).collect();
        let proofs: Vec<Vec<u8>> = b.proofs.iter().map(|p| p.concat()).collect();
        if proofs.len() != b.ids.len() {
            return Err(Error::InvalidEntry(format!(
                "{} proofs for {} entries",
                proofs.len(),
                b.ids.len()
            )));
        }
        self.rt.wait(async {
            let mut tx = self.pool.begin().await.map_err(db("begin commit"))?;
            let n = sqlx::query(
                "UPDATE tlog_state SET note = $5, staging = $6
                 WHERE origin = $1 AND note = $2 AND holder = $3 AND epoch = $4",
            )
            .bind(&self.origin)
            .bind(b.old_note)
            .bind(&b.lease.holder)
            .bind(b.lease.epoch)
            .bind(b.new_note)
            .bind(b.staging)
            .execute(&mut *tx)
            .await
            .map_err(db("swap the checkpoint"))?
            .rows_affected();
            if n != 1 {
                // Dropping the transaction rolls it back.
                return Err(Error::LockConflict {
                    log: format!(
                        "{} (lease epoch {} of {} no longer current)",
                        self.origin, b.lease.epoch, b.lease.holder
                    ),
                });
            }
            let assigned = sqlx::query(
                "UPDATE tlog_queue AS q
                 SET seq = v.seq, integrated_time = $2, note = $3, proof = v.proof
                 FROM unnest($4::bigint[], $5::bigint[], $6::bytea[]) AS v(id, seq, proof)
                 WHERE q.id = v.id AND q.origin = $1 AND q.seq IS NULL",
            )
            .bind(&self.origin)
            .bind(b.integrated_time)
            .bind(b.new_note)
            .bind(b.ids)
            .bind(&seqs)
            .bind(&proofs)
            .execute(&mut *tx)
            .await
            .map_err(db("assign log indexes"))?
            .rows_affected();
            if assigned != b.ids.len() as u64 {
                return Err(Error::Corrupt(format!(
                    "{} of {} queued entries were still unsequenced at commit",
                    assigned,
                    b.ids.len()
                )));
            }
            self.notify(&mut *tx).await?;
            tx.commit().await.map_err(db("commit the batch"))?;
            Ok(())
        })
    }

    fn status(&self, id: i64) -> Result<Option<Sequenced>, Error> {
        self.rt.wait(async {
            let row = sqlx::query(
                "SELECT seq, integrated_time, proof, note FROM tlog_queue WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("read an entry's status"))?;
            let Some(r) = row else {
                return Err(Error::Corrupt(format!("queued log entry {id} vanished")));
            };
            let (Some(seq), Some(t), Some(proof), Some(note)) = (
                r.get::<Option<i64>, _>(0),
                r.get::<Option<i64>, _>(1),
                r.get::<Option<Vec<u8>>, _>(2),
                r.get::<Option<String>, _>(3),
            ) else {
                return Ok(None);
            };
            if proof.len() % 32 != 0 || proof.len() > 64 * 32 {
                return Err(Error::Corrupt(format!(
                    "queued log entry {id}: a {}-byte proof",
                    proof.len()
                )));
            }
            Ok(Some(Sequenced {
                index: u64_of(seq, "index")?,
                integrated_time: t,
                proof: proof
                    .chunks_exact(32)
                    .map(|c| <[u8; 32]>::try_from(c).unwrap_or_default())
                    .collect(),
                note,
            }))
        })
    }

    fn latest(&self) -> Result<Option<String>, Error> {
        self.rt.wait(async {
            sqlx::query_scalar("SELECT note FROM tlog_state WHERE origin = $1")
                .bind(&self.origin)
                .fetch_optional(&self.pool)
                .await
                .map_err(db("read the checkpoint"))
        })
    }

    fn changes(&self) -> u64 {
        self.bell.ring.lock().map_or(0, |g| *g)
    }

    fn wait_for_change(&self, since: u64, timeout: Duration) {
        let Ok(g) = self.bell.ring.lock() else {
            std::thread::sleep(timeout);
            return;
        };
        let _ = self.bell.cv.wait_timeout_while(g, timeout, |n| *n == since);
    }
}
