//! Time: the system clock and RFC 3339 parsing.

use std::time::{SystemTime, UNIX_EPOCH};

use fanlic_formats::{Date, Timestamp};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::Error;

/// Seconds in a day.
pub const DAY: u64 = 86_400;

/// The system clock, as a [`Timestamp`].
pub fn now() -> Result<Timestamp, Error> {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| Timestamp(d.as_secs())).map_err(|_| Error::Clock)
}

/// Parses an RFC 3339 time such as `2027-01-31T12:00:00Z` or
/// `2027-01-31T20:00:00+08:00`, for `option`.
pub fn parse_rfc3339(option: &'static str, s: &str) -> Result<Timestamp, Error> {
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
        Error::input(option, s, format!("expected an RFC 3339 time such as 2027-01-31T12:00:00Z ({e})"))
    })?;
    u64::try_from(t.unix_timestamp())
        .map(Timestamp)
        .map_err(|_| Error::input(option, s, "times before 1970 are not supported"))
}

/// Parses a time for `option`: RFC 3339, or a date (`YYYY-MM-DD` or
/// `YYYY/MM/DD`) meaning the start of that UTC day.
pub fn parse_time_or_date(option: &'static str, s: &str) -> Result<Timestamp, Error> {
    match Date::parse(s) {
        Some(d) => Ok(d.start()),
        None => parse_rfc3339(option, s).map_err(|_| {
            Error::input(option, s, "expected an RFC 3339 time such as 2027-01-31T12:00:00Z, or a date YYYY-MM-DD")
        }),
    }
}

/// `t + days`, saturating.
pub fn add_days(t: Timestamp, days: u32) -> Timestamp {
    Timestamp(t.0.saturating_add(u64::from(days).saturating_mul(DAY)))
}

/// `t` plus `years` calendar years (29 February becomes 28 February).
pub fn add_years(t: Timestamp, years: u16) -> Timestamp {
    let Ok(secs) = i64::try_from(t.0) else { return t };
    let Ok(dt) = OffsetDateTime::from_unix_timestamp(secs) else { return t };
    let year = dt.year().saturating_add(i32::from(years));
    let moved = dt.replace_year(year).or_else(|_| dt.replace_day(28).and_then(|d| d.replace_year(year)));
    moved.ok().and_then(|d| u64::try_from(d.unix_timestamp()).ok()).map_or(t, Timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years() {
        // 2026-11-22T20:00:00Z + 2 years = 2028-11-22T20:00:00Z
        assert_eq!(add_years(Timestamp(1_795_377_600), 2).to_string(), "2028-11-22T20:00:00Z");
        // 2028-02-29 + 1 year = 2029-02-28
        assert_eq!(add_years(Timestamp(1_835_395_200), 1).to_string(), "2029-02-28T00:00:00Z");
    }
}
