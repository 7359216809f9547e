//! The outer license file: magic, then two signed bodies (SPEC.md §3.1).

use crate::{DecodeError, LICENSE_FILE_MAGIC, MAX_LICENSE_FILE_LEN, canonical, wire};
#[cfg(feature = "alloc")]
use alloc::vec::Vec;

/// A signed message and its signature, not yet checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedBody<'a> {
    /// The exact bytes the signature covers: purpose label || postcard body.
    pub message: &'a [u8],
    /// The Ed25519 signature over `message`.
    pub signature: [u8; 64],
}

/// A raw license file split into its two signed bodies. Nothing in it is
/// trusted yet: a verifier checks both signatures before reading either body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The issuing-key certificate (signed by a root key).
    pub certificate: SignedBody<'a>,
    /// The license payload (signed by the issuing key).
    pub license: SignedBody<'a>,
}

impl<'a> Envelope<'a> {
    /// Decodes a raw license file (SPEC.md §3.1): the magic, then at most
    /// 2048 bytes in all, one canonical postcard `LicenseFile`, and nothing
    /// after it.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let rest = strip_magic(bytes, LICENSE_FILE_MAGIC, MAX_LICENSE_FILE_LEN)?;
        let file: wire::LicenseFile<'a> = canonical::decode(rest)?;
        Ok(Self {
            certificate: SignedBody { message: file.certificate.message, signature: file.certificate.signature.0 },
            license: SignedBody { message: file.license.message, signature: file.license.signature.0 },
        })
    }
}

/// The bytes after `magic`, for a file of at most `max` bytes. The magic is
/// checked first, then the length (SPEC.md §2, "Files"): the limit belongs
/// to the format version the magic names, so a file of another version is
/// `UnknownMagic` whatever its length, the same cause for every reader.
pub(crate) fn strip_magic<'a>(bytes: &'a [u8], magic: &[u8], max: usize) -> Result<&'a [u8], DecodeError> {
    let rest = bytes.strip_prefix(magic).ok_or(DecodeError::UnknownMagic)?;
    if bytes.len() > max {
        return Err(DecodeError::TooLong { len: bytes.len(), max });
    }
    Ok(rest)
}

/// Strips `label` from a signed message and decodes the canonical body.
pub(crate) fn decode_labelled<'a, T>(message: &'a [u8], label: &[u8], field: &'static str) -> Result<T, DecodeError>
where
    T: serde::Deserialize<'a> + serde::Serialize,
{
    let body = message
        .strip_prefix(label)
        .ok_or(DecodeError::Invalid { field, rule: "does not start with its purpose label" })?;
    canonical::decode(body)
}

#[cfg(feature = "alloc")]
/// `label` || the postcard encoding of `value`: the message a key signs.
pub(crate) fn labelled<T: serde::Serialize>(label: &[u8], value: &T) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::from(label);
    let body = postcard::to_allocvec(value).map_err(|_| DecodeError::Malformed)?;
    out.extend_from_slice(&body);
    Ok(out)
}

#[cfg(feature = "alloc")]
/// A raw license file: magic, then the two signed bodies.
pub fn encode_license_file(
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    license_message: &[u8],
    license_signature: &[u8; 64],
) -> Result<Vec<u8>, DecodeError> {
    let file = wire::LicenseFile {
        certificate: crate::wire::SignedBody {
            message: certificate_message,
            signature: crate::wire::Signature(*certificate_signature),
        },
        license: crate::wire::SignedBody {
            message: license_message,
            signature: crate::wire::Signature(*license_signature),
        },
    };
    let mut out = Vec::from(LICENSE_FILE_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    Envelope::decode(&out)?;
    Ok(out)
}
