//! Checks of what people type, with messages that say how to fix it.

use fanlic_formats::{Date, Expiry, Version};

use crate::Error;

/// The applications a license may be for, in their exact spelling: the
/// closed list of SPEC.md §3.3, the same the product compares against.
pub const APPS: [&str; 2] = fanlic_formats::APP_NAMES;

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

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt,
/// Unicode 16.0.0), as inclusive ranges in ascending order: characters a
/// display shows as nothing, so a name with one looks like the name without
/// it. SPEC.md §3.3: issuers refuse them in text fields (verifiers do not, so
/// licenses already issued keep verifying). A test checks the table against
/// regex-syntax's copy of the Unicode data.
pub const DEFAULT_IGNORABLE: [(char, char); 17] = [
    ('\u{00AD}', '\u{00AD}'),   // soft hyphen
    ('\u{034F}', '\u{034F}'),   // combining grapheme joiner
    ('\u{061C}', '\u{061C}'),   // Arabic letter mark
    ('\u{115F}', '\u{1160}'),   // Hangul choseong and jungseong fillers
    ('\u{17B4}', '\u{17B5}'),   // Khmer inherent vowels
    ('\u{180B}', '\u{180F}'),   // Mongolian free variation selectors, vowel separator
    ('\u{200B}', '\u{200F}'),   // zero width space, ZWNJ, ZWJ, LRM, RLM
    ('\u{202A}', '\u{202E}'),   // bidirectional embeddings and overrides
    ('\u{2060}', '\u{206F}'),   // word joiner, invisible operators, bidi isolates, deprecated formats
    ('\u{3164}', '\u{3164}'),   // Hangul filler
    ('\u{FE00}', '\u{FE0F}'),   // variation selectors 1 to 16
    ('\u{FEFF}', '\u{FEFF}'),   // zero width no-break space (byte order mark)
    ('\u{FFA0}', '\u{FFA0}'),   // halfwidth Hangul filler
    ('\u{FFF0}', '\u{FFF8}'),   // unassigned, reserved default-ignorable
    ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls
    ('\u{1D173}', '\u{1D17A}'), // musical symbol formatting
    ('\u{E0000}', '\u{E0FFF}'), // tags, variation selectors 17 to 256, reserved
];

/// Whether `c` is a default-ignorable code point ([`DEFAULT_IGNORABLE`]).
pub fn is_default_ignorable(c: char) -> bool {
    DEFAULT_IGNORABLE.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// A company or project name as the product shows it: 1 to 256 bytes, no
/// control characters (General_Category Cc), no default-ignorable code
/// points, no leading or trailing white space (White_Space): SPEC.md §3.3.
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
    if let Some(c) = s.chars().find(|&c| is_default_ignorable(c)) {
        return Err(Error::input(
            option,
            s,
            format!(
                "contains U+{:04X}, an invisible character (it would make two names look the same); remove it",
                u32::from(c)
            ),
        ));
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
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code
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
        for invisible in
            ["\u{200B}", "\u{2060}", "\u{FEFF}", "\u{00AD}", "\u{180E}", "\u{FE0F}", "\u{E0041}", "\u{202E}"]
        {
            let e = name("--company", &format!("Ac{invisible}me")).unwrap_err().to_string();
            assert!(e.contains("invisible character"), "{invisible:?}: {e}");
        }
        assert!(authserv_id("mx.example.com").is_ok());
        assert!(authserv_id("mx example").is_err());
    }

    /// The table is Unicode's Default_Ignorable_Code_Point exactly: compared
    /// with regex-syntax's Unicode tables (Unicode 16.0.0), code point by
    /// code point over all of Unicode.
    #[test]
    fn default_ignorable_table_is_unicodes() {
        use regex_syntax::hir::{Class, HirKind};
        let hir = regex_syntax::Parser::new().parse(r"\p{Default_Ignorable_Code_Point}").unwrap();
        let HirKind::Class(Class::Unicode(class)) = hir.kind() else { panic!("not a Unicode class: {hir:?}") };
        let theirs: Vec<(char, char)> = class.ranges().iter().map(|r| (r.start(), r.end())).collect();
        assert_eq!(theirs, DEFAULT_IGNORABLE.to_vec());
        assert!(DEFAULT_IGNORABLE.windows(2).all(|w| w[0].1 < w[1].0), "ascending, disjoint");
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            assert_eq!(is_default_ignorable(c), theirs.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)), "{c:?}");
        }
        // The bidirectional formatting characters the verifier refuses
        // (SPEC.md §3.3) are all default-ignorable: the issuer refuses them too.
        for c in ['\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            assert!(is_default_ignorable(c), "{c:?}");
        }
    }
}
