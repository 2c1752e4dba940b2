//! The interface between the replicas of a shared log and the store that coordinates
//! them (PostgreSQL in production, [`crate::mem::MemCoordinator`] in tests): the
//! committed checkpoint, the fenced sequencer lease and the entry queue. The protocol
//! that uses it is in [`crate::shared`].

use std::time::Duration;

use crate::error::Error;
use crate::merkle::Hash;

/// The sequencer lease as granted by the coordinator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Who holds it (unique per process).
    pub holder: String,
    /// Fencing token: grows by one every time the lease is (re)acquired.
    pub epoch: i64,
}

/// What the coordinator holds for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The latest checkpoint note.
    pub note: String,
    /// Staging object of the batch that produced it (`None` for the empty log).
    pub staging: Option<String>,
}

/// A sequenced entry as the coordinator reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequenced {
    /// Leaf index.
    pub index: u64,
    /// Integrated time of its batch.
    pub integrated_time: i64,
    /// Inclusion proof against `note`.
    pub proof: Vec<Hash>,
    /// The checkpoint committed with the entry.
    pub note: String,
}

/// One batch to commit.
#[derive(Clone, Copy, Debug)]
pub struct BatchCommit<'a> {
    /// The lease under which the batch was sequenced.
    pub lease: &'a Lease,
    /// The checkpoint the batch extends.
    pub old_note: &'a str,
    /// The checkpoint after the batch.
    pub new_note: &'a str,
    /// Its staging object.
    pub staging: &'a str,
    /// Queue ids of the batch's entries, in leaf order.
    pub ids: &'a [i64],
    /// Index of the first entry.
    pub first_index: u64,
    /// Integrated time of every entry of the batch.
    pub integrated_time: i64,
    /// Each entry's inclusion proof against `new_note`.
    pub proofs: &'a [Vec<Hash>],
}

/// Shared state of one log across replicas: the committed checkpoint, the sequencer lease
/// and the queue of submitted entries. Implementations must make
/// [`Coordinator::commit`] one atomic transaction.
pub trait Coordinator: Send + Sync {
    /// Creates the log with `empty_note` unless it exists (idempotent).
    ///
    /// # Errors
    /// Storage failures.
    fn init(&self, empty_note: &str) -> Result<(), Error>;

    /// Takes the lease for `ttl` if it is free or expired (or already `holder`'s),
    /// bumping the epoch; `None` while another holder's lease runs.
    ///
    /// # Errors
    /// Storage failures.
    fn acquire(&self, holder: &str, ttl: Duration) -> Result<Option<(Lease, Committed)>, Error>;

    /// Extends the lease; `false` if it is no longer held with that epoch.
    ///
    /// # Errors
    /// Storage failures.
    fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, Error>;

    /// Gives the lease up (a clean shutdown), so another replica takes over at once.
    ///
    /// # Errors
    /// Storage failures.
    fn release(&self, lease: &Lease) -> Result<(), Error>;

    /// Queues an entry; returns its queue id.
    ///
    /// # Errors
    /// Storage failures.
    fn enqueue(&self, body: &[u8]) -> Result<i64, Error>;

    /// Up to `max` queued, unsequenced entries, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    fn pending(&self, max: usize) -> Result<Vec<(i64, Vec<u8>)>, Error>;

    /// Atomically: checkpoint `old → new` iff the lease is still held with its epoch
    /// ([`Error::LockConflict`] otherwise, nothing changed), and each entry's index,
    /// time, proof and checkpoint.
    ///
    /// # Errors
    /// Conflict or storage failures.
    fn commit(&self, batch: &BatchCommit<'_>) -> Result<(), Error>;

    /// A queued entry once sequenced.
    ///
    /// # Errors
    /// Storage failures.
    fn status(&self, id: i64) -> Result<Option<Sequenced>, Error>;

    /// The committed checkpoint note.
    ///
    /// # Errors
    /// Storage failures.
    fn latest(&self) -> Result<Option<String>, Error>;

    /// A counter of changes heard (commits, new entries); read it *before* looking, then
    /// [`Coordinator::wait_for_change`] from it, so a change in between is not missed.
    /// The default (no notifications) is constant: waits are short sleeps.
    fn changes(&self) -> u64 {
        0
    }

    /// Blocks until [`Coordinator::changes`] moves past `since`, or `timeout`.
    fn wait_for_change(&self, since: u64, timeout: Duration) {
        let _ = since;
        std::thread::sleep(timeout.min(Duration::from_millis(20)));
    }
}
