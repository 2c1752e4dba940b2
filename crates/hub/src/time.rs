//! Unix-seconds helpers: now, RFC 3339 (`lastModified`) and UI dates, through `jiff`.

use jiff::Timestamp;

/// Seconds since the Unix epoch.
#[must_use]
pub fn now() -> i64 {
    Timestamp::now().as_second()
}

/// `secs` as a timestamp, clamped to the years -9999..=9999 `jiff` represents.
fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap_or(if secs < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// `2026-08-01T12:00:00.000Z`, as the HF hub writes dates.
#[must_use]
pub fn rfc3339(secs: i64) -> String {
    at(secs).strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

/// `2026-08-01 12:00 UTC`, for the UI.
#[must_use]
pub fn human(secs: i64) -> String {
    at(secs).strftime("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_785_585_600), "2026-08-01T12:00:00.000Z");
        assert_eq!(human(1_785_585_600), "2026-08-01 12:00 UTC");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.000Z");
    }
}
