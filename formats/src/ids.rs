//! License ids and key ids, and their one text form: lowercase hex.

use core::{fmt, str::FromStr};
use sha2::{Digest, Sha256};

use crate::KEY_ID_LABEL;

/// A license's id: 128 random bits chosen by the issuer. Its text form is 32
/// lowercase hex digits everywhere (CLI, JSON, image tag): SPEC.md §3.3.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LicenseId(pub [u8; 16]);

/// A key's id: the first 8 bytes of SHA-256(`"fanlic/1/key-id\n"` || public
/// key), SPEC.md §3.2. Text form: 16 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// The id of an Ed25519 public key.
    pub fn of(public_key: &[u8; 32]) -> Self {
        let digest = Sha256::new().chain_update(KEY_ID_LABEL).chain_update(public_key).finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
        Self(id)
    }
}

/// Why a hex id did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseIdError {
    /// Not the expected number of hex digits.
    Length {
        /// Digits expected.
        expected: usize,
        /// Characters found.
        found: usize,
    },
    /// A character that is not a hex digit.
    NotHex,
}

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length { expected, found } => {
                write!(f, "expected {expected} hex digits, found {found} characters")
            }
            Self::NotHex => f.write_str("not a hex digit (use 0-9 and a-f)"),
        }
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], ParseIdError> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return Err(ParseIdError::Length { expected: 2 * N, found: s.chars().count() });
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        // Accepted when typed, never written: ids are printed lowercase.
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(ParseIdError::NotHex),
    };
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        if let [hi, lo] = *pair {
            *o = (nibble(hi)? << 4) | nibble(lo)?;
        }
    }
    Ok(out)
}

macro_rules! hex_id {
    ($t:ident, $n:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({})"), self)
            }
        }
        impl FromStr for $t {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex::<$n>(s).map(Self)
            }
        }
    };
}
hex_id!(LicenseId, 16);
hex_id!(KeyId, 8);

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn hex_round_trip() {
        let id = LicenseId([0xab; 16]);
        let s = id.to_string();
        assert_eq!(s, "abababababababababababababababab");
        assert_eq!(s.parse::<LicenseId>(), Ok(id));
        assert_eq!("ABABABABABABABABABABABABABABABAB".parse::<LicenseId>(), Ok(id));
        assert_eq!("abc".parse::<LicenseId>(), Err(ParseIdError::Length { expected: 32, found: 3 }));
        assert_eq!("zz".repeat(8).parse::<KeyId>(), Err(ParseIdError::NotHex));
    }

    #[test]
    fn key_id_is_labelled_sha256() {
        // SHA-256("fanlic/1/key-id\n" || 32 zero bytes), first 8 bytes; checked
        // against `printf 'fanlic/1/key-id\n'; head -c32 /dev/zero` | sha256sum.
        assert_eq!(KeyId::of(&[0; 32]).to_string(), KEY_ID_OF_ZERO);
    }
    const KEY_ID_OF_ZERO: &str = include_str!("../tests/key_id_of_zero.txt").trim_ascii_end();
}
