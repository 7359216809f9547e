//! Why bytes did not decode. One variant per rule of SPEC.md that can fail;
//! the armor's messages are written in `armor`, next to the lines they name.

use core::fmt;

/// Why the armor did not decode. Line numbers count from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArmorError {
    /// No BEGIN line.
    MissingBegin,
    /// No END line after BEGIN.
    MissingEnd,
    /// Nothing between BEGIN and END.
    EmptyBody,
    /// A body line of the wrong length: 64 characters, the last 4 to 64 and a
    /// multiple of 4.
    LineLength {
        /// Line number.
        line: usize,
        /// Its length in bytes.
        len: usize,
    },
    /// Not canonical base64 (alphabet, padding, or non-zero trailing bits).
    Base64 {
        /// Line number.
        line: usize,
    },
    /// Something other than empty lines after END.
    TrailingText {
        /// Line number.
        line: usize,
    },
    /// The body decodes to more than the caller's buffer holds.
    /// ([`unarmor`](crate::armor::unarmor) reports a body longer than a license file may be as
    /// the raw file would be: `TooLong` or `UnknownMagic`.)
    TooLong,
}

/// Why a license file, certificate or payload did not decode.
///
/// All of these surface to users as the one cause `content_incorrect`
/// ("License content is incorrect"); the variant says which rule failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The armor around the base64 body is wrong.
    Armor(ArmorError),
    /// Larger than [`crate::MAX_LICENSE_FILE_LEN`].
    TooLong {
        /// Bytes found.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The file does not start with a magic this decoder knows; a newer format
    /// version has a new magic (SPEC.md §3.1).
    UnknownMagic,
    /// The postcard encoding is malformed or truncated.
    Malformed,
    /// Bytes were left over after the value.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// Well-formed but not the canonical encoding (e.g. an overlong varint).
    NonCanonical,
    /// A field breaks a rule of the spec.
    Invalid {
        /// The field, by its SPEC.md name.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Armor(e) => write!(f, "bad armor: {e}"),
            Self::TooLong { len, max } => write!(f, "{len} bytes, more than the {max} a license may have"),
            Self::UnknownMagic => f.write_str("not a fanlic license, or a format version this build does not know"),
            Self::Malformed => f.write_str("malformed or truncated encoding"),
            Self::TrailingBytes { count } => write!(f, "{count} unexpected bytes after the end"),
            Self::NonCanonical => f.write_str("not the canonical encoding"),
            Self::Invalid { field, rule } => write!(f, "field `{field}` {rule}"),
        }
    }
}

impl From<ArmorError> for DecodeError {
    fn from(e: ArmorError) -> Self {
        Self::Armor(e)
    }
}

impl core::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Armor(e) => Some(e),
            _ => None,
        }
    }
}

impl core::error::Error for ArmorError {}
