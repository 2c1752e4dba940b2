//! Argon2id passwords behind one process-wide gate. Each computation holds 19 MiB and one
//! core for tens of milliseconds; unbounded, 300 concurrent bad logins took the hub to
//! 6.6 GiB (issue 15 finding 3). At most [`hash_cap`] computations run at once (one per
//! core); further requests wait up to [`HASH_QUEUE_WAIT`] for a slot, holding nothing but
//! their task, and are then refused with [`HubError::Busy`]. The slot is released when the
//! computation ends, not when the request is dropped, so disconnecting clients cannot
//! stack work behind the gate. Every path that hashes or checks a password goes through
//! here (login, `hub admin user add`, password changes).
//!
//! Checking a login against an account without a password (or no account) runs one real
//! verification against a dummy hash, so the answer takes as long as a wrong password and
//! does not tell which names exist.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::HubError;

/// How long a password check waits for a free slot before it is refused as busy.
pub const HASH_QUEUE_WAIT: Duration = Duration::from_secs(10);

struct Gate {
    slots: Semaphore,
    cap: usize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    runs: AtomicU64,
    dummy_runs: AtomicU64,
}

static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let cap = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    Gate {
        slots: Semaphore::new(cap),
        cap,
        in_flight: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
        runs: AtomicU64::new(0),
        dummy_runs: AtomicU64::new(0),
    }
});

/// How many password computations may run at once: the number of cores.
#[must_use]
pub fn hash_cap() -> usize {
    GATE.cap
}

/// Counters of the gate since the process started (for monitoring and tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashingStats {
    /// Most computations ever running at once (never above [`hash_cap`]).
    pub peak_in_flight: usize,
    /// Argon2 computations run (hashes and verifications, dummy ones included).
    pub runs: u64,
    /// Verifications against the dummy hash (unknown or passwordless accounts).
    pub dummy_runs: u64,
}

/// The gate's counters.
#[must_use]
pub fn hashing_stats() -> HashingStats {
    HashingStats {
        peak_in_flight: GATE.peak.load(Ordering::Relaxed),
        runs: GATE.runs.load(Ordering::Relaxed),
        dummy_runs: GATE.dummy_runs.load(Ordering::Relaxed),
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads: [`hash_cap`] of them, started on first use. Argon2 runs only on
/// these, so at most that many threads ever hold its 19 MiB (on the shared blocking pool,
/// each new thread's allocator arena kept its own copy: +270 MiB after 64 logins).
fn workers() -> &'static std::sync::mpsc::SyncSender<Job> {
    static WORKERS: OnceLock<std::sync::mpsc::SyncSender<Job>> = OnceLock::new();
    WORKERS.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(GATE.cap);
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..GATE.cap {
            let rx = std::sync::Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("hallmark-hash-{i}"))
                .spawn(move || {
                    loop {
                        let job = rx
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if spawned.is_err() {
                break;
            }
        }
        tx
    })
}

/// Runs one Argon2 computation on a hashing thread once a slot is free.
async fn gated<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, HubError> {
    let busy = HubError::Busy {
        waited: HASH_QUEUE_WAIT,
    };
    let Some(slot) = tokio::time::timeout(HASH_QUEUE_WAIT, GATE.slots.acquire())
        .await
        .ok()
        .and_then(Result::ok)
    else {
        return Err(busy);
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        // The slot is held until the computation ends, even if the request is gone.
        let _slot = slot;
        let now = GATE.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        GATE.peak.fetch_max(now, Ordering::SeqCst);
        GATE.runs.fetch_add(1, Ordering::Relaxed);
        let out = f();
        GATE.in_flight.fetch_sub(1, Ordering::SeqCst);
        let _ = tx.send(out);
    });
    // One slot per thread: the channel always has room.
    workers().try_send(job).map_err(|_| HubError::Busy {
        waited: Duration::ZERO,
    })?;
    rx.await.map_err(|_| busy)
}

fn hash_now(password: &[u8]) -> Result<String, HubError> {
    Argon2::default()
        .hash_password(password)
        .map(|h| h.to_string())
        .map_err(HubError::PasswordHash)
}

fn verify_now(password: &[u8], phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password, &h).is_ok())
}

/// A hash of a random password with the default parameters, made once.
fn dummy_phc() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut random = [0u8; 32];
        let _ = hallmark_crypto::random_fill(&mut random);
        hash_now(&random).unwrap_or_default()
    })
}

/// Argon2id hash (PHC string) of a password.
///
/// # Errors
/// Hashing failed, or no slot was free within [`HASH_QUEUE_WAIT`].
pub async fn hash_password(password: String) -> Result<String, HubError> {
    gated(move || hash_now(password.as_bytes())).await?
}

/// Checks a password against a stored PHC string (`false` for a malformed one).
///
/// # Errors
/// No slot was free within [`HASH_QUEUE_WAIT`], or the task failed.
pub async fn verify_password(password: String, phc: String) -> Result<bool, HubError> {
    gated(move || verify_now(password.as_bytes(), &phc)).await
}

/// Checks a login: against the stored hash, or (no account, or no password) against the
/// dummy hash at the same cost, answering `false`.
///
/// # Errors
/// As [`verify_password`].
pub async fn check_login(password: String, stored: Option<String>) -> Result<bool, HubError> {
    gated(move || match stored {
        Some(phc) => verify_now(password.as_bytes(), &phc),
        None => {
            let phc = dummy_phc();
            GATE.dummy_runs.fetch_add(1, Ordering::Relaxed);
            let _ = verify_now(password.as_bytes(), phc);
            false
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords() {
        let h = hash_password("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong".into(), h.clone()).await.unwrap());
        assert!(
            !verify_password("x".into(), "not a phc".into())
                .await
                .unwrap()
        );
        assert!(check_login("correct horse".into(), Some(h)).await.unwrap());
        let before = hashing_stats();
        assert!(!check_login("correct horse".into(), None).await.unwrap());
        let after = hashing_stats();
        assert_eq!(after.dummy_runs, before.dummy_runs + 1);
        assert!(
            PasswordHash::new(dummy_phc()).is_ok(),
            "the dummy hash parses"
        );
        assert!(after.peak_in_flight <= hash_cap());
    }
}
