//! Calendar dates and Unix timestamps, without std and without a clock:
//! callers always supply "now" (SPEC.md §1, "Time").

use core::fmt;

/// Seconds in a day; SPEC.md counts days in UTC.
const DAY: u64 = 86_400;

/// A time instant: seconds since 1970-01-01T00:00:00Z, leap seconds ignored
/// (SPEC.md §1). Shown as RFC 3339 in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The seconds since the Unix epoch.
    pub const fn unix(self) -> u64 {
        self.0
    }

    /// The UTC calendar day this instant falls on.
    pub fn date(self) -> Date {
        Date::from_days_since_epoch(self.0 / DAY)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.date();
        let s = self.0 % DAY;
        write!(f, "{d}T{:02}:{:02}:{:02}Z", s / 3600, (s / 60) % 60, s % 60)
    }
}

/// A calendar date in UTC, as written in the registration mail and shown on
/// the product's failure page ("Expiration date"). Always valid: the fields
/// are private and every constructor checks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Years a [`Date`] may have: SPEC.md §3.3 ("1970 to 9999").
const MIN_YEAR: u16 = 1970;
const MAX_YEAR: u16 = 9999;

const fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

const fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A date, if it exists and its year is in 1970..=9999.
    pub const fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        if year < MIN_YEAR || year > MAX_YEAR || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self { year, month, day })
    }

    /// The year.
    pub const fn year(self) -> u16 {
        self.year
    }
    /// The month, 1 to 12.
    pub const fn month(self) -> u8 {
        self.month
    }
    /// The day of the month, 1 to 31.
    pub const fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub const fn days_since_epoch(self) -> u64 {
        let y = if self.month <= 2 { self.year as u64 - 1 } else { self.year as u64 };
        let era = y / 400;
        let yoe = y - era * 400;
        let m = self.month as u64;
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + self.day as u64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        // 719_468 days from 0000-03-01 to 1970-01-01; years >= 1970 keep this positive.
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01, saturating at 9999-12-31.
    pub const fn from_days_since_epoch(days: u64) -> Self {
        // 9999-12-31 is day 2_932_896.
        let days = if days > 2_932_896 { 2_932_896 } else { days };
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + if month <= 2 { 1 } else { 0 }) as u16;
        Self { year, month, day }
    }

    /// The first second of this day, UTC.
    pub const fn start(self) -> Timestamp {
        Timestamp(self.days_since_epoch() * DAY)
    }

    /// The first second of the next day, UTC: a license that expires on this
    /// date is valid until just before this instant (SPEC.md §3.3).
    pub const fn end(self) -> Timestamp {
        Timestamp((self.days_since_epoch() + 1) * DAY)
    }

    /// Parses `YYYY-MM-DD` or `YYYY/MM/DD` (the registration mail's form).
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let [y0, y1, y2, y3, sep1, m0, m1, sep2, d0, d1] = *b else {
            return None;
        };
        if sep1 != sep2 || !(sep1 == b'-' || sep1 == b'/') {
            return None;
        }
        let digit = |c: u8| if c.is_ascii_digit() { Some(u16::from(c - b'0')) } else { None };
        let year = digit(y0)? * 1000 + digit(y1)? * 100 + digit(y2)? * 10 + digit(y3)?;
        let month = digit(m0)? * 10 + digit(m1)?;
        let day = digit(d0)? * 10 + digit(d1)?;
        Self::new(year, u8::try_from(month).ok()?, u8::try_from(day).ok()?)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn round_trips_every_day() {
        for days in 0..=2_932_896u64 {
            let d = Date::from_days_since_epoch(days);
            assert_eq!(d.days_since_epoch(), days);
            assert!(Date::new(d.year(), d.month(), d.day()).is_some());
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(Date::new(2019, 2, 22).map(|d| d.days_since_epoch()), Some(17_949));
        assert_eq!(Date::new(2024, 2, 29).map(|d| d.to_string()).as_deref(), Some("2024-02-29"));
        assert_eq!(Date::new(2023, 2, 29), None);
        assert_eq!(Date::new(1969, 12, 31), None);
        assert_eq!(Timestamp(1_700_000_000).to_string(), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn parse_forms() {
        assert_eq!(Date::parse("2024/01/31"), Date::new(2024, 1, 31));
        assert_eq!(Date::parse("2024-01-31"), Date::new(2024, 1, 31));
        assert_eq!(Date::parse("2024-01/31"), None);
        assert_eq!(Date::parse("2024-13-01"), None);
        assert_eq!(Date::parse("2024-1-01"), None);
    }
}
