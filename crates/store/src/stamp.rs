//! What a blob's stored object looked like at one moment ([`BlobStamp`]), the key of the
//! cache of blobs verified since their last write ([`crate::VerifiedBlobs`]), and git's
//! racy-clean rule for it.
//!
//! A stamp is the object's identity and clocks (local: inode, size, modification and
//! status-change times; object stores: size, modification time, entity tag), so a later
//! rewrite of the object gives another stamp, **unless the rewrite lands in the same tick
//! of the storage's clock as the object's last change**: then size and times are all
//! unchanged (an in-place write of the same length with the modification time set back;
//! the status-change time cannot be set back, but it only moves to the next tick). Ticks
//! are a few ms for Linux file systems before 6.13 (the kernel's coarse clock), 1 s for
//! ext3, HFS+ and S3's `Last-Modified`, 2 s for FAT's modification time; NFS and
//! WebDAV stores show their server's.
//!
//! Git's index has the same problem ("racy git") and solves it by not trusting an entry
//! whose modification time is not older than the index itself. Likewise a stamp records
//! when it was taken (before the storage was asked), and is [`BlobStamp::settled`] only
//! if the object's last change (the later of its modification and status-change times,
//! or its `Last-Modified`) is at least [`RACY_MARGIN`] older than that. A write after a
//! settled stamp was taken falls in a later tick than the change the stamp recorded
//! (ticks up to the margin), so it changes the stamp. Only settled stamps are remembered
//! as verified; a blob changed less than the margin before its verification began is
//! verified again at its next use (a range request re-hashes it whole).
//!
//! Limits: the margin also absorbs clock skew between the hub and a storage server of at
//! most the margin minus its tick; a single write system call still copying into the
//! file while the stamp is taken (its times were updated when it began), writes through
//! a shared memory mapping (whose times the kernel updates late) and damage below the
//! file system keep the stamp. The background scrubber re-hashes every blob and catches
//! those.

use std::time::{Duration, SystemTime};

use object_store::ObjectStoreExt;

use crate::blob::BlobStore;
use crate::error::{Result, StoreError};

/// How much older than the verification the last change of a blob must be for the
/// verification to be remembered: 2 s covers every storage clock tick listed in the
/// module documentation (a few ms to FAT's 2 s).
pub const RACY_MARGIN: Duration = Duration::from_secs(2);

/// A blob's stored object at one moment; see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobStamp {
    token: String,
    changed: SystemTime,
    taken: SystemTime,
}

impl BlobStamp {
    /// The object's identity and clocks: equal tokens, unchanged object (outside the
    /// racy window, see [`BlobStamp::settled`]).
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether the object's last change was at least `margin` before the stamp was
    /// taken, so that any later write changes the token.
    #[must_use]
    pub fn settled(&self, margin: Duration) -> bool {
        self.changed
            .checked_add(margin)
            .is_some_and(|t| t <= self.taken)
    }
}

fn since_epoch(secs: i64, nanos: i64) -> SystemTime {
    let nanos = u32::try_from(nanos).unwrap_or(0);
    match u64::try_from(secs) {
        Ok(s) => SystemTime::UNIX_EPOCH + Duration::new(s, nanos),
        // before 1970: as old as it gets, the token still tells rewrites apart
        Err(_) => SystemTime::UNIX_EPOCH,
    }
}

impl BlobStore {
    /// A [`BlobStamp`] of the blob as stored now.
    ///
    /// # Errors
    /// The blob is absent or storage fails.
    pub async fn stamp(&self, sha256_hex: &str) -> Result<BlobStamp> {
        // before the storage is asked: a write after this moment is after the stamp
        let taken = SystemTime::now();
        #[cfg(unix)]
        if let Some(path) = self.local_path(sha256_hex) {
            // inode, size and both clocks: the status-change time moves with every write
            // and every reset of the modification time, and cannot be set back
            use std::os::unix::fs::MetadataExt as _;
            let m = tokio::fs::metadata(&path)
                .await
                .map_err(|source| StoreError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
            let changed =
                since_epoch(m.mtime(), m.mtime_nsec()).max(since_epoch(m.ctime(), m.ctime_nsec()));
            let token = format!(
                "{}:{}:{}.{}:{}.{}",
                m.ino(),
                m.size(),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec()
            );
            return Ok(BlobStamp {
                token,
                changed,
                taken,
            });
        }
        let m = self.store.head(&Self::key(sha256_hex)).await?;
        let changed = since_epoch(
            m.last_modified.timestamp(),
            i64::from(m.last_modified.timestamp_subsec_nanos()),
        );
        Ok(BlobStamp {
            token: format!(
                "{}:{}:{}",
                m.size,
                m.last_modified.to_rfc3339(),
                m.e_tag.unwrap_or_default()
            ),
            changed,
            taken,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(changed_ago: Duration) -> BlobStamp {
        let taken = SystemTime::now();
        BlobStamp {
            token: "t".into(),
            changed: taken - changed_ago,
            taken,
        }
    }

    #[test]
    fn a_stamp_is_settled_only_past_the_margin() {
        assert!(!stamp(Duration::ZERO).settled(RACY_MARGIN));
        assert!(!stamp(Duration::from_millis(1999)).settled(RACY_MARGIN));
        assert!(stamp(RACY_MARGIN).settled(RACY_MARGIN));
        assert!(stamp(Duration::from_secs(3600)).settled(RACY_MARGIN));
        // a modification time in the future (set by hand) is never settled
        let taken = SystemTime::now();
        let future = BlobStamp {
            token: "t".into(),
            changed: taken + Duration::from_secs(60),
            taken,
        };
        assert!(!future.settled(RACY_MARGIN));
    }

    #[tokio::test]
    async fn a_blob_just_written_is_not_settled() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::local(dir.path(), false).unwrap();
        let b = blobs.put_bytes("fresh".into()).await.unwrap();
        let s = blobs.stamp(&b.sha256).await.unwrap();
        assert!(!s.settled(RACY_MARGIN), "{s:?}");
        assert_eq!(
            s,
            BlobStamp {
                taken: s.taken,
                ..blobs.stamp(&b.sha256).await.unwrap()
            }
        );
    }
}
