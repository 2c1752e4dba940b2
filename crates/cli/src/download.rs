//! Downloading one file of a revision into a [`Stage`](crate::stage::Stage): hashed as the
//! bytes arrive (SHA-256 for the hub's listing and, when the signature hashes otherwise,
//! its own serialization too), resumed with an HTTP `Range` request from what an earlier
//! interrupted run left in `parts/`, and moved to `files/` once complete and matching.
//!
//! A resumed part is hashed once from disk to rebuild the hash state (only the bytes that
//! are already here); a server that answers the range with a whole `200` restarts the
//! file from its first byte. A new part reserves the file's whole size on disk before the
//! first byte arrives ([`preallocate`]): a disk too small for it fails the pull at once
//! rather than after the bytes that fit, and the writes that follow skip the filesystem's
//! block allocation. Errors say whether the bytes on disk are worth keeping:
//! [`Failed::Interrupted`] (network, server, disk) keeps them for the next run,
//! [`Failed::Corrupt`] (wrong size or digest) deletes them.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use aws_lc_rs::digest::{Context, SHA256, digest};
use hallmark_format::{HashAlgorithm, ResourceDigest, Serialization};
use hallmark_hash::StreamHasher;
use indicatif::ProgressBar;

use crate::hubclient::{Client, encode_path};

/// Read (and hash) buffer per transfer.
const BUF: usize = 1 << 20;

/// One file of the revision as the hub lists it.
pub(crate) struct Remote {
    pub(crate) path: String,
    pub(crate) size: u64,
    /// Lowercase hex, checked to be 64 hex digits by [`Remote::part_name`]'s callers.
    pub(crate) sha256: String,
}

impl Remote {
    /// The file's partial download in `parts/`: named by its path and content, so a later
    /// pull of another revision never resumes it as something else.
    pub(crate) fn part_name(&self) -> String {
        let path = hex::encode(digest(&SHA256, self.path.as_bytes()));
        format!("{}-{}.part", &path[..16], self.sha256)
    }
}

/// Why a download stopped.
#[derive(Debug)]
pub(crate) enum Failed {
    /// Transport, server or local I/O trouble: the bytes on disk are kept for a resume.
    Interrupted(anyhow::Error),
    /// The bytes are wrong (size or digest): they are deleted.
    Corrupt(anyhow::Error),
}

impl Failed {
    pub(crate) fn into_error(self) -> anyhow::Error {
        match self {
            Self::Interrupted(e) | Self::Corrupt(e) => e,
        }
    }
}

/// What every download of one pull shares.
pub(crate) struct Fetch<'a> {
    pub(crate) client: &'a Client,
    /// `/{owner}/{name}/resolve/{commit}`
    pub(crate) base: String,
    /// The stage's `files/` and `parts/`.
    pub(crate) files: &'a Path,
    pub(crate) parts: &'a Path,
    /// The serialization the signature declares (`files`/SHA-256 when unsigned).
    pub(crate) method: Serialization,
    pub(crate) hash: HashAlgorithm,
    pub(crate) bytes: &'a ProgressBar,
}

/// The hashes of one file being downloaded: the signature's serialization, plus SHA-256
/// of the whole file when that is not already it.
struct Hashes {
    signed: StreamHasher,
    sha256: Option<Context>,
}

impl Hashes {
    fn new(job: &Fetch<'_>, f: &Remote) -> Result<Self, Failed> {
        let signed = StreamHasher::new(&f.path, f.size, job.method, job.hash)
            .map_err(|e| Failed::Corrupt(e.into()))?;
        let same = job.method == Serialization::Files && job.hash == HashAlgorithm::Sha256;
        Ok(Self {
            signed,
            sha256: (!same).then(|| Context::new(&SHA256)),
        })
    }

    fn update(&mut self, data: &[u8]) -> Result<(), Failed> {
        if let Some(c) = &mut self.sha256 {
            c.update(data);
        }
        self.signed
            .update(data)
            .map_err(|e| Failed::Corrupt(e.into()))
    }

    /// The file's digests, once its SHA-256 is `f.sha256`.
    fn finish(self, f: &Remote) -> Result<Vec<ResourceDigest>, Failed> {
        let got = self.signed.position();
        let sha = self.sha256.map(|c| hex::encode(c.finish()));
        let digests = self
            .signed
            .finish()
            .map_err(|e| Failed::Corrupt(e.into()))?;
        let sha = sha
            .or_else(|| digests.first().map(|d| hex::encode(&d.digest)))
            .unwrap_or_default();
        if got != f.size || sha != f.sha256 {
            return Err(Failed::Corrupt(anyhow!(
                "{} arrived corrupted (sha256:{sha}, {got} bytes; expected sha256:{}, {} bytes)",
                f.path,
                f.sha256,
                f.size
            )));
        }
        Ok(digests)
    }
}

/// Reserves `len` bytes of disk for `file` without changing its length
/// (`fallocate(FALLOC_FL_KEEP_SIZE)`: a part's length stays the count of bytes that
/// arrived, which is what a resume goes by). Returns whether the space was reserved:
/// `false` on a filesystem without `fallocate`, where the writes allocate as they go.
///
/// # Errors
/// The filesystem cannot hold `len` more bytes: no space left (`ENOSPC`), over quota
/// (`EDQUOT`), or larger than its largest file (`EFBIG`).
pub(crate) fn preallocate(file: &File, len: u64) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd as _;
    let Ok(len) = libc::off_t::try_from(len) else {
        return Err(std::io::Error::from_raw_os_error(libc::EFBIG));
    };
    if len == 0 {
        return Ok(false);
    }
    // SAFETY: the descriptor belongs to `file`, open for writing for the whole call; the
    // kernel only reads the integer arguments.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::fallocate(file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, len) };
    if rc == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENOSPC | libc::EDQUOT | libc::EFBIG) => Err(e),
        _ => Ok(false),
    }
}

fn io(what: &Path, e: std::io::Error) -> Failed {
    Failed::Interrupted(anyhow::Error::new(e).context(format!("cannot write {}", what.display())))
}

/// Feeds the first `len` bytes of `file` to `h` (a resumed part, or a file finished by an
/// earlier run).
fn rehash(path: &Path, len: u64, h: &mut Hashes, bytes: &ProgressBar) -> Result<(), Failed> {
    let mut file = File::open(path).map_err(|e| io(path, e))?;
    let mut buf = vec![0u8; BUF];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(BUF).min(BUF);
        let n = file.read(&mut buf[..want]).map_err(|e| io(path, e))?;
        if n == 0 {
            return Err(Failed::Corrupt(anyhow!(
                "{} shrank while being read",
                path.display()
            )));
        }
        h.update(&buf[..n])?;
        bytes.inc(n as u64);
        left -= n as u64;
    }
    Ok(())
}

/// Downloads `f` (or finishes an earlier run's download of it) and returns its digests in
/// the signature's serialization.
pub(crate) fn fetch(job: &Fetch<'_>, f: &Remote) -> Result<Vec<ResourceDigest>, Failed> {
    let dest = job.files.join(&f.path);
    let part = job.parts.join(f.part_name());
    // finished by an earlier run: its digests, from the bytes on disk
    // (another revision's file of the same name and size is downloaded again)
    if std::fs::symlink_metadata(&dest).is_ok_and(|m| m.is_file() && m.len() == f.size) {
        let mut h = Hashes::new(job, f)?;
        rehash(&dest, f.size, &mut h, job.bytes)?;
        match h.finish(f) {
            Err(Failed::Corrupt(_)) => {
                std::fs::remove_file(&dest).map_err(|e| io(&dest, e))?;
                job.bytes.dec(f.size);
            }
            done => return done,
        }
    }
    let res = download(job, f, &part);
    if matches!(res, Err(Failed::Corrupt(_))) {
        let _ = std::fs::remove_file(&part);
    }
    let digests = res?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    std::fs::rename(&part, &dest).map_err(|e| io(&dest, e))?;
    Ok(digests)
}

/// Brings `part` to `f.size` bytes, resuming it when it holds some already.
fn download(job: &Fetch<'_>, f: &Remote, part: &PathBuf) -> Result<Vec<ResourceDigest>, Failed> {
    let mut h = Hashes::new(job, f)?;
    let have = std::fs::symlink_metadata(part)
        .ok()
        .filter(|m| m.is_file() && m.len() <= f.size)
        .map_or(0, |m| m.len());
    if have > 0 {
        rehash(part, have, &mut h, job.bytes)?;
        if have == f.size {
            return h.finish(f);
        }
    }
    let url = job
        .client
        .url(&format!("{}/{}", job.base, encode_path(&f.path)));
    let mut req = job.client.auth(job.client.agent.get(&url));
    if have > 0 {
        req = req.header("Range", &format!("bytes={have}-"));
    }
    let mut resp = req
        .call()
        .with_context(|| format!("GET {url}"))
        .map_err(Failed::Interrupted)?;
    let status = resp.status().as_u16();
    let resumed = have > 0 && status == 206 && {
        let want = format!("bytes {have}-{}/{}", f.size - 1, f.size);
        let got = resp
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok());
        if got != Some(want.as_str()) {
            return Err(Failed::Interrupted(anyhow!(
                "GET {url}: the server answered the range {have}- with {got:?} (wanted {want})"
            )));
        }
        true
    };
    if !resumed && status != 200 {
        return Err(Failed::Interrupted(anyhow!("GET {url}: {}", resp.status())));
    }
    let mut out = if resumed {
        OpenOptions::new()
            .append(true)
            .open(part)
            .map_err(|e| io(part, e))?
    } else {
        if have > 0 {
            // the server sent the whole file: start over
            h = Hashes::new(job, f)?;
            job.bytes.dec(have);
        }
        let file = File::create(part).map_err(|e| io(part, e))?;
        preallocate(&file, f.size).map_err(|e| {
            Failed::Interrupted(anyhow::Error::new(e).context(format!(
                "no room on disk for {} ({} bytes) in {}",
                f.path,
                f.size,
                job.parts.display()
            )))
        })?;
        file
    };
    let mut reader = resp.body_mut().as_reader();
    let mut buf = vec![0u8; BUF];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                return Err(Failed::Interrupted(
                    anyhow::Error::new(e).context(format!("downloading {}", f.path)),
                ));
            }
        };
        h.update(&buf[..n])?;
        out.write_all(&buf[..n]).map_err(|e| io(part, e))?;
        job.bytes.inc(n as u64);
    }
    if h.signed.position() < f.size {
        return Err(Failed::Interrupted(anyhow!(
            "downloading {}: the connection ended after {} of {} bytes",
            f.path,
            h.signed.position(),
            f.size
        )));
    }
    h.finish(f)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt as _;

    use super::*;

    #[test]
    fn a_new_part_reserves_its_size_and_keeps_the_length_that_arrived() {
        let dir = tempfile::tempdir().unwrap();
        let part = File::create(dir.path().join("a.part")).unwrap();
        let reserved = preallocate(&part, 4 << 20).unwrap();
        let m = part.metadata().unwrap();
        assert_eq!(
            m.len(),
            0,
            "a resume goes by the length: nothing arrived yet"
        );
        if reserved {
            assert!(
                m.blocks() * 512 >= 4 << 20,
                "{} blocks reserved",
                m.blocks()
            );
        }
    }

    #[test]
    fn a_file_the_disk_cannot_hold_is_refused_before_a_byte_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let part = File::create(dir.path().join("huge.part")).unwrap();
        // 4 EiB: more than any disk (and any ext4 or XFS file) holds
        match preallocate(&part, 1 << 62) {
            Err(e) => assert!(
                matches!(
                    e.raw_os_error(),
                    Some(libc::ENOSPC | libc::EFBIG | libc::EDQUOT)
                ),
                "{e}"
            ),
            Ok(reserved) => assert!(!reserved, "only a filesystem without fallocate says yes"),
        }
        assert_eq!(part.metadata().unwrap().len(), 0);
    }
}
