//! Encoding, for the issuer (needs `alloc`). Every encoder decodes its output
//! again, so the issuer can never write bytes a verifier would refuse.

use alloc::vec::Vec;

use crate::{
    CERTIFICATE_SIGNATURE_LABEL, DecodeError, Envelope, IssuingKeyCertificate, LICENSE_FILE_MAGIC,
    LICENSE_SIGNATURE_LABEL, License, wire,
};

fn labelled<T: serde::Serialize>(label: &[u8], value: &T) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::from(label);
    let body = postcard::to_allocvec(value).map_err(|_| DecodeError::Malformed)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// The message a root key signs for an issuing key: label || body.
pub fn encode_certificate_body(body: &wire::CertificateBody) -> Result<Vec<u8>, DecodeError> {
    let msg = labelled(CERTIFICATE_SIGNATURE_LABEL, body)?;
    IssuingKeyCertificate::decode(&msg)?;
    Ok(msg)
}

/// The message an issuing key signs for a license: label || payload.
pub fn encode_license_payload(payload: &wire::LicensePayload<'_>) -> Result<Vec<u8>, DecodeError> {
    let msg = labelled(LICENSE_SIGNATURE_LABEL, payload)?;
    License::decode(&msg)?;
    Ok(msg)
}

/// A raw license file: magic, then the two signed bodies.
pub fn encode_license_file(
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    license_message: &[u8],
    license_signature: &[u8; 64],
) -> Result<Vec<u8>, DecodeError> {
    let file = wire::LicenseFile {
        certificate: wire::SignedBody {
            message: certificate_message,
            signature: wire::Signature(*certificate_signature),
        },
        license: wire::SignedBody { message: license_message, signature: wire::Signature(*license_signature) },
    };
    let mut out = Vec::from(LICENSE_FILE_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    Envelope::decode(&out)?;
    Ok(out)
}
