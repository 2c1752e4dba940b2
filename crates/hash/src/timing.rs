//! An opt-in timing log of the phases of signing and verifying, for finding where
//! the time goes outside the hashing engine (issue 3).
//!
//! Off unless the environment variable `HALLMARK_TIMINGS` is set (to anything):
//! then every [`mark`] prints one line to standard error,
//!
//! ```text
//! hallmark timing:   12.345 ms (+  3.210 ms wall,   6.020 ms cpu) rss   41 MiB (peak   57 MiB) enumerate
//! ```
//!
//! the wall time since the first mark of the process, the wall time and the CPU
//! time of the whole process (all threads, user + system) since the previous mark,
//! and the resident memory now and at its highest so far (Linux `VmRSS`, `VmHWM`):
//! which phase sets the peak.
//! CPU time is the steadier figure on a shared machine: a phase that runs on one
//! thread shows cpu ≈ wall when it gets a core to itself. A mark when disabled
//! costs one atomic load after the first, which reads the environment once.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Instant;

/// Name of the environment variable that turns the log on.
pub const TIMINGS_ENV: &str = "HALLMARK_TIMINGS";

/// Clocks at the first and at the previous mark.
struct Clocks {
    first: Instant,
    prev: Instant,
    prev_cpu_s: f64,
}

static STATE: OnceLock<Option<Mutex<Clocks>>> = OnceLock::new();

fn state() -> Option<&'static Mutex<Clocks>> {
    STATE
        .get_or_init(|| {
            std::env::var_os(TIMINGS_ENV).map(|_| {
                let now = Instant::now();
                Mutex::new(Clocks {
                    first: now,
                    prev: now,
                    prev_cpu_s: process_cpu_seconds(),
                })
            })
        })
        .as_ref()
}

/// CPU time consumed by the process so far (all threads), in seconds.
#[allow(unsafe_code)]
fn process_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the
    // kernel knows. On failure `ts` stays zero, which only makes the log wrong.
    unsafe {
        libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &raw mut ts);
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Whether the timing log is on.
#[must_use]
pub fn enabled() -> bool {
    state().is_some()
}

/// Records the end of a phase named `phase` (printed when the log is on).
pub fn mark(phase: &str) {
    if let Some(line) = lap(phase) {
        eprintln!("{line}");
    }
}

/// The line [`mark`] prints, and advances the clock; `None` when disabled.
fn lap(phase: &str) -> Option<String> {
    let mut clocks = state()?.lock().ok()?;
    let now = Instant::now();
    let cpu = process_cpu_seconds();
    let line = format_line(
        now.duration_since(clocks.first).as_secs_f64(),
        now.duration_since(clocks.prev).as_secs_f64(),
        cpu - clocks.prev_cpu_s,
        resident_kib(),
        phase,
    );
    clocks.prev = now;
    clocks.prev_cpu_s = cpu;
    Some(line)
}

/// Resident memory now and at its peak, in KiB (`VmRSS`, `VmHWM` of
/// `/proc/self/status`); `None` where there is no such file.
fn resident_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn format_line(
    total_s: f64,
    step_s: f64,
    cpu_s: f64,
    resident_kib: Option<(u64, u64)>,
    phase: &str,
) -> String {
    let memory = resident_kib.map_or_else(String::new, |(now, peak)| {
        format!("rss {:>4} MiB (peak {:>4} MiB) ", now >> 10, peak >> 10)
    });
    format!(
        "hallmark timing: {:>9.3} ms (+{:>8.3} ms wall, {:>8.3} ms cpu) {memory}{phase}",
        total_s * 1e3,
        step_s * 1e3,
        cpu_s * 1e3
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format() {
        assert_eq!(
            format_line(0.012_345, 0.003_21, 0.006_02, None, "enumerate"),
            "hallmark timing:    12.345 ms (+   3.210 ms wall,    6.020 ms cpu) enumerate"
        );
        assert_eq!(
            format_line(
                0.012_345,
                0.003_21,
                0.006_02,
                Some((42 << 10, 58_000)),
                "sign"
            ),
            "hallmark timing:    12.345 ms (+   3.210 ms wall,    6.020 ms cpu) rss   42 MiB (peak   56 MiB) sign"
        );
    }

    #[test]
    fn marks_never_panic_whatever_the_environment() {
        mark("a");
        mark("b");
        assert_eq!(enabled(), lap("c").is_some());
        assert!(process_cpu_seconds() > 0.0);
        let (now, peak) = resident_kib().unwrap();
        assert!(now > 0 && peak >= now, "{now} {peak}");
    }
}
