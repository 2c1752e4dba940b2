//! RFC 3339 UTC timestamps (`YYYY-MM-DDTHH:MM:SSZ`) through `jiff`.

use jiff::Timestamp;
use jiff::tz::Offset;

/// What [`rfc3339`] writes and [`parse_rfc3339`] reads.
const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic
/// Gregorian). Times past the year 9999 are written as its last second.
#[must_use]
pub fn rfc3339(secs: u64) -> String {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .unwrap_or(Timestamp::MAX);
    t.strftime(FORMAT).to_string()
}

/// Seconds since the Unix epoch now, or `SOURCE_DATE_EPOCH` when set (reproducible builds).
#[must_use]
pub fn now_or_source_date_epoch() -> u64 {
    if let Some(s) = std::env::var_os("SOURCE_DATE_EPOCH")
        && let Some(n) = s.to_str().and_then(|s| s.trim().parse::<u64>().ok())
    {
        return n;
    }
    u64::try_from(Timestamp::now().as_second()).unwrap_or(0)
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (exactly what [`rfc3339`] writes; fractional
/// seconds and offsets are refused). Returns seconds since the Unix epoch.
#[must_use]
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let dt = jiff::fmt::strtime::parse(FORMAT, s)
        .ok()?
        .to_datetime()
        .ok()?;
    let secs = u64::try_from(Offset::UTC.to_timestamp(dt).ok()?.as_second()).ok()?;
    // Only the canonical form: no unpadded fields, no leap second.
    (rfc3339(secs) == s).then_some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
        for t in [0, 951_782_400, 1_767_225_599, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
        assert_eq!(parse_rfc3339("2025-12-31T23:59:59+01:00"), None);
        assert_eq!(parse_rfc3339("2025-12-31T23:59:59.5Z"), None);
        assert_eq!(parse_rfc3339("2025-1-31T23:59:59Z"), None);
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), None);
    }
}
