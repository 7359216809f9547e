//! Canonical postcard decoding (SPEC.md §2).
//!
//! postcard on its own accepts trailing bytes and overlong varints, so a value
//! would have many encodings. We decode with `take_from_bytes`, require that
//! nothing is left over, then re-encode the value and compare the bytes. The
//! re-encoding goes to a comparing "flavor" rather than a stack buffer: the
//! same check, byte for byte, with no buffer to size on a small device.

use postcard::ser_flavors::Flavor;
use serde::{Deserialize, Serialize};

use crate::DecodeError;

/// A postcard output that stores nothing: it checks each byte against the
/// input it should reproduce.
struct Compare<'a> {
    expected: &'a [u8],
    pos: usize,
    equal: bool,
}

impl Flavor for Compare<'_> {
    type Output = bool;

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        if self.expected.get(self.pos) != Some(&byte) {
            self.equal = false;
        }
        self.pos = self.pos.saturating_add(1);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<bool> {
        Ok(self.equal && self.pos == self.expected.len())
    }
}

/// Decodes `bytes` as exactly one canonical `T`.
pub(crate) fn decode<'a, T>(bytes: &'a [u8]) -> Result<T, DecodeError>
where
    T: Deserialize<'a> + Serialize,
{
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).map_err(|_| DecodeError::Malformed)?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes { count: rest.len() });
    }
    let same = postcard::serialize_with_flavor(&value, Compare { expected: bytes, pos: 0, equal: true })
        .map_err(|_| DecodeError::NonCanonical)?;
    if same { Ok(value) } else { Err(DecodeError::NonCanonical) }
}

/// Decodes `bytes` as one canonical `T` followed, optionally, by one
/// canonical trailing field `E` (SPEC.md §2, "Trailing optional fields"):
/// the input ends after `T` (absent), or `E` takes exactly the rest.
pub(crate) fn decode_trailing<'a, T, E>(bytes: &'a [u8]) -> Result<(T, Option<E>), DecodeError>
where
    T: Deserialize<'a> + Serialize,
    E: Deserialize<'a> + Serialize,
{
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).map_err(|_| DecodeError::Malformed)?;
    let head = bytes.get(..bytes.len().saturating_sub(rest.len())).ok_or(DecodeError::Malformed)?;
    let same = postcard::serialize_with_flavor(&value, Compare { expected: head, pos: 0, equal: true })
        .map_err(|_| DecodeError::NonCanonical)?;
    if !same {
        return Err(DecodeError::NonCanonical);
    }
    if rest.is_empty() {
        return Ok((value, None));
    }
    Ok((value, Some(decode::<E>(rest)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct T {
        a: u32,
        b: bool,
    }

    #[test]
    fn accepts_canonical() {
        assert_eq!(decode::<T>(&[0x7f, 1]), Ok(T { a: 127, b: true }));
    }

    #[test]
    fn rejects_overlong_varint() {
        // 0x7f written in two bytes: postcard reads it, we refuse it.
        assert_eq!(decode::<T>(&[0xff, 0x00, 1]), Err(DecodeError::NonCanonical));
    }

    #[test]
    fn trailing_field_absent_or_exact() {
        assert_eq!(decode_trailing::<T, u8>(&[1, 1]), Ok((T { a: 1, b: true }, None)));
        assert_eq!(decode_trailing::<T, u8>(&[1, 1, 7]), Ok((T { a: 1, b: true }, Some(7))));
        assert_eq!(decode_trailing::<T, u8>(&[1, 1, 7, 0]), Err(DecodeError::TrailingBytes { count: 1 }));
        assert_eq!(decode_trailing::<T, u32>(&[1, 1, 0x81, 0]), Err(DecodeError::NonCanonical));
        assert_eq!(decode_trailing::<T, u8>(&[0xff, 0x00, 1]), Err(DecodeError::NonCanonical));
    }

    #[test]
    fn rejects_trailing_bytes() {
        assert_eq!(decode::<T>(&[1, 1, 0]), Err(DecodeError::TrailingBytes { count: 1 }));
    }

    #[test]
    fn rejects_bad_bool() {
        assert_eq!(decode::<T>(&[1, 2]), Err(DecodeError::Malformed));
    }
}
