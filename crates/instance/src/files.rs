//! Files of the data directory: the error for a path, private (0600) atomic writes, log
//! keys (a leaf of the crate's import graph).

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use hallmark_tlog::{LogKey, LogKeyType};

use crate::error::InstanceError;

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstanceError + '_ {
    move |source| InstanceError::Io {
        path: path.to_owned(),
        source,
    }
}

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), InstanceError> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// The log key in `path`, whatever its type; a new `kind` key written there if there is
/// none (a log keeps the key it was created with).
pub(crate) fn load_or_create_log_key(
    path: &Path,
    kind: LogKeyType,
) -> Result<LogKey, InstanceError> {
    if path.exists() {
        return Ok(LogKey::from_pem(&fs::read(path).map_err(io(path))?)?);
    }
    let key = LogKey::generate(kind)?;
    write_private(path, key.private_pem().as_bytes())?;
    Ok(key)
}
