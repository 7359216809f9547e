//! `Container.lic` armor (SPEC.md §3.4): optional comment lines for people,
//! a BEGIN line, the raw license file in base64 wrapped at 64 columns, an END
//! line. Lines end in LF or CRLF (mail rewrites them); everything else is
//! strict, so any change of one character of the body fails.

use core::fmt;

use base64::{Engine as _, engine::general_purpose::STANDARD};

pub use crate::error::ArmorError;
use crate::{DecodeError, LICENSE_FILE_MAGIC, MAX_LICENSE_FILE_LEN};

/// The line that opens the base64 body.
pub const BEGIN: &str = "-----BEGIN FANLIC LICENSE-----";
/// The line that closes it.
pub const END: &str = "-----END FANLIC LICENSE-----";
/// The line that opens an activation receipt's body (SPEC.md §6.4).
pub const RECEIPT_BEGIN: &str = "-----BEGIN FANLIC RECEIPT-----";
/// The line that closes it.
pub const RECEIPT_END: &str = "-----END FANLIC RECEIPT-----";
/// Base64 characters on every body line but the last.
pub const LINE_LEN: usize = 64;

// The messages name the BEGIN and END lines, so they live next to them.
impl fmt::Display for ArmorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingBegin => write!(f, "no `{BEGIN}` line"),
            Self::MissingEnd => write!(f, "no `{END}` line"),
            Self::EmptyBody => f.write_str("no base64 lines between BEGIN and END"),
            Self::LineLength { line, len } => {
                write!(f, "line {line} has {len} characters; body lines have 64, the last a multiple of 4")
            }
            Self::Base64 { line } => write!(f, "line {line} is not canonical base64"),
            Self::TrailingText { line } => write!(f, "line {line}: text after the END line"),
            Self::TooLong => f.write_str("the body is longer than the buffer it is decoded into"),
        }
    }
}

/// Lines with their 1-based numbers, each without its LF or CRLF.
fn lines(input: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    input.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).enumerate().map(|(i, l)| (i + 1, l))
}

/// The comment lines before BEGIN: unsigned text for people. Verifiers ignore
/// them; tools show them as untrusted. Yields raw bytes (may not be UTF-8).
pub fn comments(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    lines(input).map(|(_, l)| l).take_while(|l| *l != BEGIN.as_bytes())
}

/// Decodes an armored license into `buf` and returns the raw file bytes;
/// [`ArmorError::TooLong`] if they do not fit in `buf`.
pub fn decode<'b>(input: &[u8], buf: &'b mut [u8]) -> Result<&'b [u8], ArmorError> {
    let len = decode_counting(input, buf, BEGIN, END)?;
    buf.get(..len).ok_or(ArmorError::TooLong)
}

/// Returns the raw receipt file of `input` (SPEC.md §6.4): raw when it
/// starts with `FANLIC-RECEIPT/`, else decoded from its armor (the rules of
/// §3.4 with the receipt's BEGIN and END lines) into `buf`. A body longer
/// than `buf` is [`DecodeError::TooLong`].
pub fn decode_receipt<'a>(input: &'a [u8], buf: &'a mut [u8]) -> Result<&'a [u8], DecodeError> {
    if input.starts_with(b"FANLIC-RECEIPT/") {
        return Ok(input);
    }
    let max = buf.len();
    let len = decode_counting(input, buf, RECEIPT_BEGIN, RECEIPT_END)?;
    buf.get(..len).ok_or(DecodeError::TooLong { len, max })
}

/// Removes the armor, checking every rule of SPEC.md §3.4 whatever the
/// body's length. Writes the first `buf.len()` decoded bytes into `buf` and
/// returns how many bytes the body decodes to, which may be more: the caller
/// judges the length after the magic, as for a raw file (§4.1 step 2).
fn decode_counting(input: &[u8], buf: &mut [u8], begin: &str, end: &str) -> Result<usize, ArmorError> {
    let mut it = lines(input);
    it.by_ref().find(|(_, l)| *l == begin.as_bytes()).ok_or(ArmorError::MissingBegin)?;
    let mut len = 0usize;
    let mut last_short: Option<usize> = None; // a body line shorter than 64 ends the body
    let mut body_lines = 0usize;
    loop {
        let (n, line) = it.next().ok_or(ArmorError::MissingEnd)?;
        if line == end.as_bytes() {
            break;
        }
        if last_short.is_some() {
            // A short line was not the last one.
            return Err(ArmorError::LineLength { line: n - 1, len: last_short.unwrap_or(0) });
        }
        if line.is_empty() || line.len() > LINE_LEN || line.len() % 4 != 0 {
            return Err(ArmorError::LineLength { line: n, len: line.len() });
        }
        if line.len() < LINE_LEN {
            last_short = Some(line.len());
        }
        // Padding may only end the body: a full 64-character line with `=`
        // followed by more lines would be a second base64 stream.
        // Each line decodes on its own into at most 48 bytes; base64 sizes
        // its output by 3 bytes per 4 characters, padding included, so decode
        // into a line-sized scratch buffer and copy what was really written.
        let mut scratch = [0u8; LINE_LEN / 4 * 3];
        let wrote = STANDARD.decode_slice(line, &mut scratch).map_err(|_| ArmorError::Base64 { line: n })?;
        let decoded = scratch.get(..wrote).ok_or(ArmorError::Base64 { line: n })?;
        // Beyond `buf`, bytes are only counted: the armor is still checked to its end.
        for (dst, src) in buf.iter_mut().skip(len).zip(decoded) {
            *dst = *src;
        }
        if line.ends_with(b"=") {
            last_short = Some(line.len());
        }
        len = len.saturating_add(wrote);
        body_lines += 1;
    }
    if body_lines == 0 {
        return Err(ArmorError::EmptyBody);
    }
    if let Some((n, _)) = it.find(|(_, l)| !l.is_empty()) {
        return Err(ArmorError::TrailingText { line: n });
    }
    Ok(len)
}

/// What every license file magic starts with, whatever its version: input that
/// starts with it is a raw file, so that a newer version is reported as an
/// unknown format rather than as bad armor.
const RAW_PREFIX: &[u8] = b"FANLIC-LICENSE/";

/// Returns the raw license file bytes of `input`, armored or raw: raw when it
/// starts with a file magic (`FANLIC-LICENSE/`), else decoded from the armor
/// into `buf`.
///
/// A body that decodes to more than [`MAX_LICENSE_FILE_LEN`] bytes fails as
/// the same bytes given raw would (SPEC.md §4.1): `UnknownMagic` unless they
/// start with the known magic, else `TooLong`, never an armor error, so that
/// the cause does not depend on the form.
pub fn unarmor<'a>(input: &'a [u8], buf: &'a mut [u8; MAX_LICENSE_FILE_LEN]) -> Result<&'a [u8], DecodeError> {
    if input.starts_with(RAW_PREFIX) {
        return Ok(input);
    }
    let len = decode_counting(input, buf, BEGIN, END)?;
    if len > MAX_LICENSE_FILE_LEN {
        if !buf.starts_with(LICENSE_FILE_MAGIC) {
            return Err(DecodeError::UnknownMagic);
        }
        return Err(DecodeError::TooLong { len, max: MAX_LICENSE_FILE_LEN });
    }
    buf.get(..len).ok_or(DecodeError::TooLong { len, max: MAX_LICENSE_FILE_LEN })
}

/// Armors raw license bytes, with `comments` as unsigned lines before BEGIN.
/// Comment lines may not contain line breaks nor be the BEGIN line, and the
/// first may not start with `FANLIC-LICENSE/` (SPEC.md §3.4).
#[cfg(feature = "alloc")]
pub fn encode(raw: &[u8], comments: &[&str]) -> Result<alloc::string::String, DecodeError> {
    encode_with(raw, comments, BEGIN, END, RAW_PREFIX)
}

/// Armors a raw receipt file (SPEC.md §6.4), with `comments` as unsigned
/// lines before BEGIN, under the rules of [`encode`].
#[cfg(feature = "alloc")]
pub fn encode_receipt(raw: &[u8], comments: &[&str]) -> Result<alloc::string::String, DecodeError> {
    encode_with(raw, comments, RECEIPT_BEGIN, RECEIPT_END, b"FANLIC-RECEIPT/")
}

#[cfg(feature = "alloc")]
fn encode_with(
    raw: &[u8],
    comments: &[&str],
    begin: &str,
    end: &str,
    raw_prefix: &[u8],
) -> Result<alloc::string::String, DecodeError> {
    use alloc::string::String;
    let mut out = String::new();
    for (i, c) in comments.iter().enumerate() {
        if c.contains(['\n', '\r']) || *c == begin {
            return Err(DecodeError::Invalid { field: "comment", rule: "contains a line break or is the BEGIN line" });
        }
        // A file that starts with a magic's prefix is read as raw (`unarmor`).
        if i == 0 && c.as_bytes().starts_with(raw_prefix) {
            return Err(DecodeError::Invalid { field: "comment", rule: "starts the file with its raw magic" });
        }
        out.push_str(c);
        out.push('\n');
    }
    out.push_str(begin);
    out.push('\n');
    let b64 = STANDARD.encode(raw);
    for chunk in b64.as_bytes().chunks(LINE_LEN) {
        out.push_str(core::str::from_utf8(chunk).map_err(|_| DecodeError::Malformed)?);
        out.push('\n');
    }
    out.push_str(end);
    out.push('\n');
    Ok(out)
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use std::{string::String, vec::Vec};

    fn sample(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn round_trips_every_length() {
        for n in 1..300 {
            let raw = sample(n);
            let text = encode(&raw, &["# for people"]).unwrap_or_default();
            let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
            assert_eq!(decode(text.as_bytes(), &mut buf), Ok(raw.as_slice()), "length {n}");
            let crlf: String = text.replace('\n', "\r\n");
            assert_eq!(decode(crlf.as_bytes(), &mut buf), Ok(raw.as_slice()), "CRLF, length {n}");
        }
    }

    #[test]
    fn rejects_rewrapped_and_padded_lines() {
        let raw = sample(100);
        let text = encode(&raw, &[]).unwrap_or_default();
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        // Re-wrap at 76 columns, as some mailers do.
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        let rewrapped = [BEGIN, &body[..76], &body[76..], END].join("\n");
        assert!(matches!(decode(rewrapped.as_bytes(), &mut buf), Err(ArmorError::LineLength { .. })));
        // Trailing space on a line.
        let spaced = text.replacen('\n', " \n", 2);
        assert!(decode(spaced.as_bytes(), &mut buf).is_err());
        // Text after END.
        let trailing = std::format!("{text}\nsignature\n");
        assert_eq!(decode(trailing.as_bytes(), &mut buf), Err(ArmorError::TrailingText { line: 7 }));
        // Empty lines after END are fine.
        let blank = std::format!("{text}\n\r\n");
        assert!(decode(blank.as_bytes(), &mut buf).is_ok());
    }

    #[test]
    fn rejects_non_canonical_trailing_bits() {
        // "AQ==" is 0x01; "AR==" has non-zero trailing bits.
        let mut buf = [0u8; 16];
        let ok = [BEGIN, "AQ==", END].join("\n");
        assert_eq!(decode(ok.as_bytes(), &mut buf), Ok([1u8].as_slice()));
        let bad = [BEGIN, "AR==", END].join("\n");
        assert_eq!(decode(bad.as_bytes(), &mut buf), Err(ArmorError::Base64 { line: 2 }));
    }

    /// Regression (found by fuzzing): `encode` wrote a first comment starting
    /// with `FANLIC-LICENSE/`, which `unarmor` then reads as a raw file.
    #[test]
    fn refuses_a_first_comment_that_looks_raw() {
        assert!(encode(&sample(10), &["FANLIC-LICENSE/ for people"]).is_err());
        assert!(encode(&sample(10), &["# ok", "FANLIC-LICENSE/ second line is fine"]).is_ok());
    }

    /// SPEC.md §4.1: an armored body longer than a license file may be fails
    /// as the raw bytes would, magic first, and only after the whole armor
    /// was checked.
    #[test]
    fn oversized_armored_bodies_fail_like_raw_files() {
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let mut raw = LICENSE_FILE_MAGIC.to_vec();
        raw.resize(MAX_LICENSE_FILE_LEN + 1, 0);
        let text = encode(&raw, &[]).unwrap_or_default();
        let len = MAX_LICENSE_FILE_LEN + 1;
        assert_eq!(unarmor(text.as_bytes(), &mut buf), Err(DecodeError::TooLong { len, max: MAX_LICENSE_FILE_LEN }));
        let mut other = b"FANLIC-LICENSE/2\n".to_vec();
        other.resize(MAX_LICENSE_FILE_LEN * 2, 0);
        let text = encode(&other, &[]).unwrap_or_default();
        assert_eq!(unarmor(text.as_bytes(), &mut buf), Err(DecodeError::UnknownMagic));
        let trailing = std::format!("{text}after END\n");
        assert!(matches!(
            unarmor(trailing.as_bytes(), &mut buf),
            Err(DecodeError::Armor(ArmorError::TrailingText { .. }))
        ));
    }

    #[test]
    fn comments_are_lines_before_begin() {
        let text = encode(&sample(10), &["# a", "b"]).unwrap_or_default();
        let c: Vec<&[u8]> = comments(text.as_bytes()).collect();
        assert_eq!(c, [b"# a".as_slice(), b"b".as_slice()]);
    }
}
