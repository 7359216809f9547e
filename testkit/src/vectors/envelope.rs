//! The `content_incorrect` vectors of the file around the signed parts:
//! trailing bytes, lengths, the magic, the size limit and the armor (SPEC.md
//! §4.1), judged the same way whatever the form.

use fanlic_formats::{LICENSE_FILE_MAGIC, armor};

use crate::{Error, Result};

use super::{
    generator::{A, Base, Gen, body_lines, content},
    overlong_varint, varint,
};

/// Adds the vectors of a broken envelope or armor.
pub(super) fn cases(g: &mut Gen, b: &Base<'_>) -> Result<()> {
    let Base { basic: _, basic_raw, basic_armored, .. } = b;
    let basic_parts = g.parts.get(b.basic_file).ok_or_else(|| Error("basic parts".into()))?;
    let (cert_msg, cert_sig) = (basic_parts.cert_msg.clone(), basic_parts.cert_sig);
    let (lic_msg, lic_sig) = (basic_parts.license_msg.clone(), basic_parts.license_sig);

    let with_trailing = [basic_raw.as_slice(), &[0]].concat();
    g.file("trailing-byte-after-envelope.lic", armor::encode(&with_trailing, &[])?.into_bytes())?;
    g.vector(
        "trailing-byte-after-envelope",
        "trailing-byte-after-envelope.lic",
        "The basic license file with one 0x00 byte after the envelope (armored).",
        A,
        g.env(),
        content("bad_encoding", Some("TrailingBytes { count: 1 }")),
    );

    let len_overlong = [
        LICENSE_FILE_MAGIC.as_slice(),
        &overlong_varint(cert_msg.len() as u64),
        &cert_msg,
        &cert_sig,
        &varint(lic_msg.len() as u64),
        &lic_msg,
        &lic_sig,
    ]
    .concat();
    g.file("overlong-varint-envelope-length.lic", armor::encode(&len_overlong, &[])?.into_bytes())?;
    g.vector(
        "overlong-varint-envelope-length",
        "overlong-varint-envelope-length.lic",
        "The basic license file with the certificate message's length written as an overlong varint; both signed \
         messages are intact.",
        A,
        g.env(),
        content("bad_encoding", Some("NonCanonical")),
    );

    let magic2 =
        [b"FANLIC-LICENSE/2\n".as_slice(), basic_raw.get(LICENSE_FILE_MAGIC.len()..).unwrap_or_default()].concat();
    g.file("unknown-magic.lic", armor::encode(&magic2, &[])?.into_bytes())?;
    g.vector(
        "unknown-magic",
        "unknown-magic.lic",
        "The basic license with the magic FANLIC-LICENSE/2 (a format this version does not know), armored.",
        A,
        g.env(),
        content("unknown_format", None),
    );
    g.file("unknown-magic-raw.bin", magic2)?;
    g.vector(
        "unknown-magic-raw",
        "unknown-magic-raw.bin",
        "The same as unknown-magic, raw. Input that starts with `FANLIC-LICENSE/` is a raw file of some \
         version (SPEC.md §4.1 step 1), so a newer version is reported as unknown_format, not as bad armor.",
        A,
        g.env(),
        content("unknown_format", Some("UnknownMagic")),
    );

    let mut oversized = basic_raw.clone();
    oversized.resize(fanlic_formats::MAX_LICENSE_FILE_LEN + 1, 0);
    g.file("oversized.bin", oversized.clone())?;
    g.vector(
        "oversized",
        "oversized.bin",
        "The raw basic license padded with zero bytes to 2049 bytes, one more than a license file may have.",
        A,
        g.env(),
        content("bad_encoding", Some("TooLong")),
    );

    // SPEC.md §4.1 step 2: the magic is checked first, then the length, and
    // an armored file is judged by the bytes its body decodes to: the same
    // cause for the same bytes, whatever the form.
    let oversized_armored = armor::encode(&oversized, &[])?;
    g.file("oversized-armored.lic", oversized_armored.into_bytes())?;
    g.vector(
        "oversized-armored",
        "oversized-armored.lic",
        "oversized.bin armored: the body decodes to 2049 bytes that start with the known magic. The length limit \
         applies to the decoded bytes, so this is bad_encoding (too long) as for the raw file, not bad_armor.",
        A,
        g.env(),
        content("bad_encoding", Some("TooLong")),
    );
    let mut oversized_magic2 =
        [b"FANLIC-LICENSE/2\n".as_slice(), basic_raw.get(LICENSE_FILE_MAGIC.len()..).unwrap_or_default()].concat();
    oversized_magic2.resize(fanlic_formats::MAX_LICENSE_FILE_LEN + 1, 0);
    g.file("oversized-unknown-magic.lic", armor::encode(&oversized_magic2, &[])?.into_bytes())?;
    g.vector(
        "oversized-unknown-magic-armored",
        "oversized-unknown-magic.lic",
        "unknown-magic.lic's bytes padded to 2049 bytes, armored: the magic is checked before the length (the \
         limit is version 1's), so this is unknown_format, not too long.",
        A,
        g.env(),
        content("unknown_format", Some("UnknownMagic")),
    );
    g.file("oversized-unknown-magic.bin", oversized_magic2)?;
    g.vector(
        "oversized-unknown-magic-raw",
        "oversized-unknown-magic.bin",
        "The same 2049 bytes raw (FANLIC-LICENSE/2, then zero bytes): unknown_format, not too long.",
        A,
        g.env(),
        content("unknown_format", Some("UnknownMagic")),
    );

    // Non-canonical base64: the last character before `=` with non-zero unused
    // bits. The first valid file whose length is not a multiple of 3 has padding.
    let (nz_from, nz) = ["valid-local-container.lic", "valid-all-optional-fields.lic", "valid-perpetual.lic"]
        .iter()
        .find_map(|f| {
            let text = String::from_utf8(g.files.get(&format!("vectors/{f}"))?.clone()).ok()?;
            Some((*f, nonzero_trailing_bits(&text)?))
        })
        .ok_or_else(|| Error("no padded armor to make non-canonical".into()))?;
    g.file("base64-nonzero-trailing-bits.lic", nz.into_bytes())?;
    g.vector(
        "base64-nonzero-trailing-bits",
        "base64-nonzero-trailing-bits.lic",
        &format!(
            "{nz_from} with a non-zero unused bit in the last base64 character before the `=` padding \
             (non-canonical base64)."
        ),
        A,
        g.env(),
        content("bad_armor", Some("Base64")),
    );

    let body: String = body_lines(basic_armored).concat();
    let mut rewrapped = format!("{}\n", armor::BEGIN);
    for chunk in body.as_bytes().chunks(76) {
        rewrapped.push_str(&String::from_utf8_lossy(chunk));
        rewrapped.push('\n');
    }
    rewrapped.push_str(armor::END);
    rewrapped.push('\n');
    g.file("rewrapped-76-columns.lic", rewrapped.into_bytes())?;
    g.vector(
        "rewrapped-76-columns",
        "rewrapped-76-columns.lic",
        "The basic license's base64 body re-wrapped at 76 columns, as some mailers do.",
        A,
        g.env(),
        content("bad_armor", Some("LineLength")),
    );

    let after = format!("{basic_armored}Sent from my phone\n");
    g.file("text-after-end.lic", after.into_bytes())?;
    g.vector(
        "text-after-end",
        "text-after-end.lic",
        "The basic license followed by a line of text after the END line.",
        A,
        g.env(),
        content("bad_armor", Some("TrailingText")),
    );

    let spaced: Vec<String> =
        basic_armored.lines().enumerate().map(|(i, l)| if i == 2 { format!("{l} ") } else { l.to_owned() }).collect();
    g.file("trailing-space-in-body.lic", format!("{}\n", spaced.join("\n")).into_bytes())?;
    g.vector(
        "trailing-space-in-body",
        "trailing-space-in-body.lic",
        "The basic license with a space at the end of the second base64 line.",
        A,
        g.env(),
        content("bad_armor", Some("LineLength")),
    );

    // Cut just before the LF that ends the third base64 line. (With that LF
    // kept, the empty "line" after it is reported as a 0-character body line.)
    let truncated: String = basic_armored.lines().take(4).collect::<Vec<_>>().join("\n");
    g.file("truncated.lic", truncated.into_bytes())?;
    g.vector(
        "truncated",
        "truncated.lic",
        "The basic armored license cut at the end of its third base64 line: no END line.",
        A,
        g.env(),
        content("bad_armor", Some("MissingEnd")),
    );

    let cut = basic_raw.get(..basic_raw.len().saturating_sub(10)).unwrap_or_default().to_vec();
    g.file("truncated-raw.bin", cut)?;
    g.vector(
        "truncated-raw",
        "truncated-raw.bin",
        "The raw basic license without its last 10 bytes.",
        A,
        g.env(),
        content("bad_encoding", Some("Malformed")),
    );

    g.file("empty.lic", Vec::new())?;
    g.vector("empty", "empty.lic", "An empty file.", A, g.env(), content("bad_armor", Some("MissingBegin")));
    Ok(())
}

/// The armored text with the last base64 character before `=` given a
/// non-zero unused bit, or `None` if the body has no padding.
fn nonzero_trailing_bits(armored: &str) -> Option<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let end = armored.find(&format!("\n{}", armor::END))?;
    let body = armored.get(..end)?;
    let data_end = body.trim_end_matches('=').len();
    if data_end == body.len() {
        return None;
    }
    let last = *body.as_bytes().get(data_end.checked_sub(1)?)?;
    let idx = ALPHABET.iter().position(|&c| c == last)?;
    let replaced = *ALPHABET.get(idx | 1)?;
    if replaced == last {
        return None; // already non-zero: cannot happen for canonical input
    }
    let mut out = armored.as_bytes().to_vec();
    *out.get_mut(data_end - 1)? = replaced;
    String::from_utf8(out).ok()
}
