//! The opt-in memory-mapped read path ([`crate::MmapChoice::always`]).
//!
//! Mapping saves the copy `pread` makes (about 10 % of one SHA-256 stream), but a
//! file truncated by someone else while it is mapped raises SIGBUS and kills the
//! process, and a file modified while mapped is hashed in an unspecified mix of
//! old and new bytes. The engine checks the size just before mapping; that
//! narrows, but cannot close, the window. Hence off by default, for trusted
//! local trees only.
#![allow(unsafe_code)]

use memmap2::{Advice, MmapOptions};

use crate::error::{FoundSize, HashError};
use crate::hasher::ContentHasher;
use crate::model::ModelFile;
use crate::shared::{Shared, changed, open, report};

/// Bytes hashed between two cancellation checks.
const STEP: usize = 4 << 20;

/// Hashes `[start, end)` of `file` through a read-only shared mapping.
pub(crate) fn hash_mapped<H: ContentHasher>(
    file: &ModelFile,
    start: u64,
    end: u64,
    s: &Shared<'_>,
    pending: &mut u64,
) -> Result<Vec<u8>, HashError> {
    let f = open(file)?;
    let now = f
        .metadata()
        .map_err(|e| HashError::io(&file.path, e))?
        .len();
    if now != file.size {
        return Err(changed(&file.path, file.size, FoundSize::Bytes(now)));
    }
    let mut h = H::start();
    let len = usize::try_from(end - start).map_err(|_| {
        HashError::io(
            &file.path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "range too large to map"),
        )
    })?;
    if len == 0 {
        return Ok(h.finish());
    }
    // SAFETY: the mapping is read-only and private to this function; it is only
    // read through the returned slice while `map` lives. The remaining hazard is
    // external (another process truncating or writing the file while it is
    // mapped); the caller took it on by calling the `unsafe` `MmapChoice::always`,
    // whose contract excludes it. The size was checked just above.
    let map = unsafe { MmapOptions::new().offset(start).len(len).map(&f) }
        .map_err(|e| HashError::io(&file.path, e))?;
    // Advice is only a hint; failure to apply it changes nothing.
    let _ = map.advise(Advice::Sequential);
    for chunk in map.chunks(STEP) {
        h.update(chunk);
        report(s, pending, chunk.len() as u64, false);
        s.should_stop()?;
    }
    Ok(h.finish())
}
