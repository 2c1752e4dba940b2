//! glibc's allocator, tuned for the commands that hold a model's file list (issue 21).
//!
//! glibc serves a large allocation with its own `mmap` (returned to the kernel on
//! `free`) only above a threshold that it raises, up to 32 MiB, each time such a block
//! is freed. Enumerating a model grows and frees lists of several MiB, so after the
//! first frees the next lists came from the heap, whose freed middle is never
//! returned: a million-file sign peaked 16 MiB higher than the lists it held.
//! A fixed threshold keeps every block of 128 KiB or more in its own mapping.

/// Blocks of this many bytes or more get their own mapping.
#[cfg(target_env = "gnu")]
const MMAP_THRESHOLD: libc::c_int = 128 << 10;

/// Fixes glibc's `mmap` threshold (see the module notes); elsewhere a no-op.
pub(crate) fn return_large_blocks() {
    #[cfg(target_env = "gnu")]
    #[allow(unsafe_code)]
    // SAFETY: `mallopt` only changes allocator parameters; it is called before this
    // process's work threads start, and any value is safe for glibc.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
