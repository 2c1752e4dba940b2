//! An opt-in timing log of the phases of signing and verifying, for finding where
//! the time goes outside the hashing engine (issue 3).
//!
//! Off unless the environment variable `HALLMARK_TIMINGS` is set (to anything):
//! then every [`mark`] prints one line to standard error,
//!
//! ```text
//! hallmark timing:   12.345 ms (+  3.210 ms) enumerate
//! ```
//!
//! the time since the first mark of the process and since the previous one. Each
//! mark when disabled costs one relaxed atomic load after the first, which reads
//! the environment once.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Instant;

/// Name of the environment variable that turns the log on.
pub const TIMINGS_ENV: &str = "HALLMARK_TIMINGS";

/// `(first mark, previous mark)`, or `None` when disabled.
static STATE: OnceLock<Option<Mutex<(Instant, Instant)>>> = OnceLock::new();

fn state() -> Option<&'static Mutex<(Instant, Instant)>> {
    STATE
        .get_or_init(|| {
            std::env::var_os(TIMINGS_ENV).map(|_| {
                let now = Instant::now();
                Mutex::new((now, now))
            })
        })
        .as_ref()
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
    let mut guard = state()?.lock().ok()?;
    let now = Instant::now();
    let (first, prev) = *guard;
    *guard = (first, now);
    Some(format_line(
        now.duration_since(first).as_secs_f64(),
        now.duration_since(prev).as_secs_f64(),
        phase,
    ))
}

fn format_line(total_s: f64, step_s: f64, phase: &str) -> String {
    format!(
        "hallmark timing: {:>9.3} ms (+{:>8.3} ms) {phase}",
        total_s * 1e3,
        step_s * 1e3
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format() {
        assert_eq!(
            format_line(0.012_345, 0.003_21, "enumerate"),
            "hallmark timing:    12.345 ms (+   3.210 ms) enumerate"
        );
    }

    #[test]
    fn marks_never_panic_whatever_the_environment() {
        mark("a");
        mark("b");
        assert_eq!(enabled(), lap("c").is_some());
    }
}
