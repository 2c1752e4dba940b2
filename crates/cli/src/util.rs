//! What every command shares: exit statuses, the error a failed command ends with,
//! reading inputs and writing outputs. A leaf: it imports nothing from this crate.

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Exit status for a verification that ran and failed (a verdict).
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit status for bad usage or unreadable inputs.
pub(crate) const EXIT_INPUT: u8 = 2;
/// Exit status of `scan` when some file could not be checked completely and none was flagged.
#[cfg(feature = "client")]
pub(crate) const EXIT_UNVERIFIED: u8 = 3;
/// Exit status after Ctrl-C.
pub(crate) const EXIT_INTERRUPTED: u8 = 130;
/// Exit status when stdout's reader went away (`hallmark … | head`): 128 + SIGPIPE, what
/// shells report for a process the signal killed, so pipelines (and `set -o pipefail`) see
/// what they see of any Unix tool. The process ignores SIGPIPE (a write to a closed socket
/// or pipe is an error to report, not a silent death) and ends with this status instead.
pub(crate) const EXIT_CLOSED_STDOUT: i32 = 141;

/// Writes command output to stdout (what [`outln!`](crate::outln) and
/// [`out!`](crate::out) expand to). A reader that went away ends the process quietly with
/// [`EXIT_CLOSED_STDOUT`], as the default SIGPIPE disposition would; any other write error
/// (a full disk) is reported and ends it with [`EXIT_INPUT`].
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(EXIT_CLOSED_STDOUT);
        }
        write_stderr(format_args!("hallmark: cannot write the output: {e}\n"));
        std::process::exit(i32::from(EXIT_INPUT));
    }
}

/// Writes a message to stderr (what [`errln!`](crate::errln) expands to), ignoring a
/// closed or failing stderr: the exit status still tells the outcome.
pub(crate) fn write_stderr(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// How a command ends: `Ok(status)` once it has printed its result (0, or a verdict such
/// as [`EXIT_FAILED`]), or a [`Failure`] that `main` prints under the command's prefix.
pub(crate) type Outcome = Result<u8, Failure>;

/// An error with the exit status it ends the process with.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The exit status.
    pub(crate) code: u8,
    /// What went wrong, with its context chain.
    pub(crate) error: anyhow::Error,
    /// Printed before the error instead of the command's usual prefix.
    prefix: Option<&'static str>,
}

impl Failure {
    /// Bad usage or an unreadable input: exit status [`EXIT_INPUT`].
    pub(crate) fn input(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: EXIT_INPUT,
            error: error.into(),
            prefix: None,
        }
    }

    /// A check that ran and failed: exit status [`EXIT_FAILED`].
    pub(crate) fn failed(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: EXIT_FAILED,
            error: error.into(),
            prefix: None,
        }
    }

    /// Prints `prefix` before the error instead of the command's usual one.
    #[cfg(feature = "client")]
    pub(crate) fn with_prefix(mut self, prefix: &'static str) -> Self {
        self.prefix = Some(prefix);
        self
    }

    /// Whether this is an input error (for `--json` output).
    pub(crate) fn is_input(&self) -> bool {
        self.code == EXIT_INPUT
    }

    /// The error and its causes on one line, for `--json` output.
    pub(crate) fn message(&self) -> String {
        chain(&*self.error).join(": ")
    }

    /// Prints the error (under its own prefix, else `prefix`) and returns its exit status.
    pub(crate) fn report(&self, prefix: &str) -> u8 {
        report(self.prefix.unwrap_or(prefix), &*self.error);
        self.code
    }
}

/// Turns any error into a [`Failure`] with the given exit status.
pub(crate) trait OrExit<T> {
    /// The error is an input error ([`EXIT_INPUT`]).
    fn or_input(self) -> Result<T, Failure>;
    /// The error is a failed check ([`EXIT_FAILED`]).
    fn or_failed(self) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> OrExit<T> for Result<T, E> {
    fn or_input(self) -> Result<T, Failure> {
        self.map_err(Failure::input)
    }

    fn or_failed(self) -> Result<T, Failure> {
        self.map_err(Failure::failed)
    }
}

/// Prints an error for the user: one line, plus an indented cause chain.
pub(crate) fn report(prefix: &str, err: &(dyn std::error::Error + 'static)) {
    let chain = chain(err);
    let mut lines = chain.iter();
    if let Some(first) = lines.next() {
        errln!("{prefix}: {first}");
    }
    for cause in lines {
        errln!("  caused by: {cause}");
    }
}

/// The messages of an error and its sources, leaving out a source whose message the one
/// before it already quotes (many errors print their cause inline).
fn chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.last().is_some_and(|last| last.contains(&text)) {
            out.push(text);
        }
        source = s.source();
    }
    out
}

/// Largest input file read whole (keys, certificates, trust configs, signatures): the
/// signature-bundle limit. Anything larger is refused before it is read.
const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Reads a user-supplied file, naming it in the error, refusing files over the input
/// limit without reading them (so `--signature /dev/zero` cannot exhaust memory).
pub(crate) fn read_input(what: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    let cannot_read = || format!("cannot read {what} {}", path.display());
    let too_large = || {
        anyhow::anyhow!(
            "{what} {} is larger than {MAX_INPUT_BYTES} bytes; refusing to read it",
            path.display()
        )
    };
    let file = std::fs::File::open(path).with_context(cannot_read)?;
    if file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() > MAX_INPUT_BYTES)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(cannot_read)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a
/// rename, so an interrupted run never leaves a partial file behind. The file gets the
/// mode any new file gets (0666 less the umask: 0644 under umask 022), as the reference
/// and `cp` do: signatures, BOMs and provenance are meant to be read by others. Files
/// only their owner may read use [`write_private_atomically`].
#[cfg(feature = "client")]
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_with_mode(path, bytes, 0o666)
}

/// [`write_atomically`] for a file only its owner may read or write (0600 whatever the
/// umask): trust pins, tokens.
#[cfg(feature = "client")]
pub(crate) fn write_private_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_with_mode(path, bytes, 0o600)
}

#[cfg(feature = "client")]
fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    write_streamed_with_mode(path, mode, |w| w.write_all(bytes))?
        .with_context(|| format!("cannot write {}", path.display()))
}

/// [`write_atomically`] of what `write` writes (through a buffer), for output too large
/// to assemble in memory first (the bundle of a million-file model). The file appears
/// only if `write` succeeds; else its error is returned inside and nothing is left.
///
/// # Errors
/// Outside: the temporary file could not be created, flushed or renamed.
pub(crate) fn write_atomically_with<T, E>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, E>,
) -> anyhow::Result<Result<T, E>> {
    write_streamed_with_mode(path, 0o666, write)
}

fn write_streamed_with_mode<T, E>(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut dyn Write) -> Result<T, E>,
) -> anyhow::Result<Result<T, E>> {
    let fail = |e: std::io::Error| {
        anyhow::Error::new(e).context(format!("cannot write {}", path.display()))
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".hallmark-sig-");
    // The mode is passed to open(2), which applies the umask.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(mode));
    #[cfg(not(unix))]
    let _ = mode;
    // Removed when dropped, on every early return.
    let mut tmp = builder.tempfile_in(&dir).map_err(fail)?;
    let mut buffered = std::io::BufWriter::with_capacity(256 << 10, tmp.as_file_mut());
    let value = match write(&mut buffered) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    buffered.flush().map_err(fail)?;
    drop(buffered);
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(Ok(value))
}

/// hallmark's configuration directory: `$XDG_CONFIG_HOME/hallmark`, else
/// `$HOME/.config/hallmark` (`what` names the file looked for, in the error).
pub(crate) fn config_dir(what: &str) -> anyhow::Result<PathBuf> {
    let abs = |k: &str| {
        std::env::var_os(k)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = abs("XDG_CONFIG_HOME")
        .or_else(|| abs("HOME").map(|h| h.join(".config")))
        .ok_or_else(|| {
            anyhow::anyhow!("cannot locate the {what}: neither XDG_CONFIG_HOME nor HOME is set")
        })?;
    Ok(base.join("hallmark"))
}
