//! Checks of what people type, with messages that say how to fix it.

use fanlic_formats::{Date, Expiry, Version};

use crate::Error;

/// The applications a license may be for, in their exact spelling.
pub const APPS: [&str; 2] = ["FineReport", "FineBI"];

/// Longest company or project name, in bytes (SPEC.md §3.3).
pub const MAX_NAME_LEN: usize = 256;

/// The application name in its exact spelling; any letter case is accepted.
pub fn app(s: &str) -> Result<&'static str, Error> {
    APPS.iter()
        .find(|a| a.eq_ignore_ascii_case(s.trim()))
        .copied()
        .ok_or_else(|| Error::input("--app", s, "must be FineReport or FineBI"))
}

/// A licensed version: exactly `MAJOR.MINOR`.
pub fn version(s: &str) -> Result<Version, Error> {
    if let Ok(v) = s.parse::<Version>() {
        return Ok(v);
    }
    let fix = match Version::of_local(s) {
        Some(v) => format!("licenses are for major.minor; use --version {v}"),
        None => "expected MAJOR.MINOR, such as 11.0 or 6.1".to_owned(),
    };
    Err(Error::input("--version", s, fix))
}

/// A calendar date: `YYYY-MM-DD` or `YYYY/MM/DD`.
pub fn date(option: &'static str, s: &str) -> Result<Date, Error> {
    Date::parse(s.trim()).ok_or_else(|| {
        Error::input(option, s, "expected a date YYYY-MM-DD or YYYY/MM/DD (such as 2027-12-31), from 1970 to 9999")
    })
}

/// `never` or a date.
pub fn expiry(s: &str) -> Result<Expiry, Error> {
    if s.trim().eq_ignore_ascii_case("never") {
        return Ok(Expiry::Never);
    }
    Date::parse(s.trim()).map(Expiry::On).ok_or_else(|| {
        Error::input("--expires", s, "expected `never` or a date YYYY-MM-DD or YYYY/MM/DD (such as 2027-12-31)")
    })
}

/// A company or project name as the product shows it: 1 to 256 bytes, no
/// control characters, no leading or trailing white space.
pub fn name(option: &'static str, s: &str) -> Result<String, Error> {
    if s.is_empty() {
        return Err(Error::input(option, s, "must not be empty"));
    }
    if s.len() > MAX_NAME_LEN {
        return Err(Error::input(option, s, format!("is {} bytes; at most {MAX_NAME_LEN} are allowed", s.len())));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::input(option, s, "contains a control character (tab, line break, ...); remove it"));
    }
    if s.trim() != s {
        return Err(Error::input(
            option,
            s,
            format!("has leading or trailing white space; the product compares it exactly, so use {:?}", s.trim()),
        ));
    }
    Ok(s.to_owned())
}

/// An authserv-id (RFC 8601): the name a receiving mail server writes in
/// the `Authentication-Results` headers it adds, such as `mx.example.com`.
pub fn authserv_id(s: &str) -> Result<String, Error> {
    let ok = !s.is_empty()
        && s.len() <= 255
        && s.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b'(' | b')' | b'"' | b'\\'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Error::input(
            "--authserv-id",
            s,
            "expected the host name your mail server writes in Authentication-Results headers, such as mx.example.com",
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn apps_and_versions() {
        assert_eq!(app("finebi").unwrap(), "FineBI");
        assert!(app("Excel").unwrap_err().to_string().contains("must be FineReport or FineBI"));
        assert_eq!(version("11.0").unwrap(), Version { major: 11, minor: 0 });
        assert!(version("11.0.3").unwrap_err().to_string().contains("use --version 11.0"));
        assert!(version("eleven").is_err());
    }

    #[test]
    fn dates_and_names() {
        assert!(matches!(expiry("never").unwrap(), Expiry::Never));
        assert!(expiry("2027/02/30").is_err());
        assert!(date("--signed", "2026/11/20").is_ok());
        assert!(name("--company", " Acme").unwrap_err().to_string().contains("\"Acme\""));
        assert!(name("--company", "").is_err());
        assert!(name("--company", "a\tb").is_err());
        assert_eq!(name("--company", "帆软 Ltd").unwrap(), "帆软 Ltd");
        assert!(authserv_id("mx.example.com").is_ok());
        assert!(authserv_id("mx example").is_err());
    }
}
