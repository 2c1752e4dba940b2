//! The witness's durable files in its data directory:
//!
//! * `witness.key` (mode 0600): the cosigning key's private text, made on first start;
//!   `witness.vkey`: its public vkey, for policies.
//! * `state/<hex SHA-256(origin)>`: the latest cosigned checkpoint body of that log
//!   (origin, size, root). Written ahead of every cosignature: temporary file, fsync,
//!   atomic rename, fsync of the directory; so after any crash the file holds a size at
//!   least as large as every cosignature ever returned, and the state never rolls back.
//! * `witness.lock`: an exclusive lock held while serving, so two processes never share
//!   one state (the compare-and-swap is in one process's memory).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use hallmark_tlog::merkle::sha256;
use hallmark_tlog::note::Checkpoint;

use crate::cosig::Cosigner;

/// Errors reading or writing the data directory, naming the path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A file operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A state or key file does not parse.
    #[error("{}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Another process holds the data directory.
    #[error("{} is in use by another witness process", path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StateError + 'a {
    move |source| StateError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

/// Writes `data` to `path` durably: a temporary file (mode `mode`), fsync, rename, fsync
/// of the directory.
fn write_durable(path: &Path, data: &[u8], mode: u32) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io("create", &tmp))?;
    f.write_all(data).map_err(io("write", &tmp))?;
    f.sync_all().map_err(io("fsync", &tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io("rename into", path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("fsync", dir))
}

/// The data directory, locked for this process.
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Opens (creating) `root` and takes its lock.
    ///
    /// # Errors
    /// I/O, or [`StateError::Locked`] if another process serves it.
    pub fn open(root: &Path) -> Result<Self, StateError> {
        fs::create_dir_all(root.join("state")).map_err(io("create", root))?;
        let lock_path = root.join("witness.lock");
        let lock = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io("open", &lock_path))?;
        lock.try_lock()
            .map_err(|_| StateError::Locked { path: lock_path })?;
        Ok(Self {
            root: root.to_owned(),
            _lock: lock,
        })
    }

    /// Loads the cosigning key, or makes one named `name` (mode 0600) on first start and
    /// writes its vkey beside it.
    ///
    /// # Errors
    /// I/O or an unparseable key file (the message never contains the key).
    pub fn key(&self, name: &str) -> Result<Cosigner, StateError> {
        let path = self.root.join("witness.key");
        let key = match fs::read_to_string(&path) {
            Ok(text) => Cosigner::from_skey(&zeroize::Zeroizing::new(text)).map_err(|e| {
                StateError::Corrupt {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Cosigner::generate(name).map_err(|e| StateError::Corrupt {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                write_durable(&path, key.skey().as_bytes(), 0o600)?;
                key
            }
            Err(e) => return Err(io("read", &path)(e)),
        };
        let vkey = self.root.join("witness.vkey");
        write_durable(&vkey, format!("{}\n", key.verifier()).as_bytes(), 0o644)?;
        Ok(key)
    }

    fn state_path(&self, origin: &str) -> PathBuf {
        self.root
            .join("state")
            .join(hex::encode(sha256(origin.as_bytes())))
    }

    /// Every log's latest cosigned checkpoint.
    ///
    /// # Errors
    /// I/O, or a state file that does not parse or sits under the wrong name.
    pub fn load(&self) -> Result<HashMap<String, Checkpoint>, StateError> {
        let dir = self.root.join("state");
        let mut out = HashMap::new();
        for e in fs::read_dir(&dir).map_err(io("list", &dir))? {
            let path = e.map_err(io("list", &dir))?.path();
            if path.extension().is_some() {
                // A temporary file from a write that did not finish: never cosigned.
                continue;
            }
            let text = fs::read_to_string(&path).map_err(io("read", &path))?;
            let cp = Checkpoint::parse_body(&text).map_err(|e| StateError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            if self.state_path(&cp.origin) != path {
                return Err(StateError::Corrupt {
                    path,
                    reason: format!("holds origin {:?}", cp.origin),
                });
            }
            out.insert(cp.origin.clone(), cp);
        }
        Ok(out)
    }

    /// Durably records `cp` as its log's latest cosigned checkpoint.
    ///
    /// # Errors
    /// I/O: the caller must not cosign.
    pub fn save(&self, cp: &Checkpoint) -> Result<(), StateError> {
        write_durable(&self.state_path(&cp.origin), cp.body().as_bytes(), 0o644)
    }
}
