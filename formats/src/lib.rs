//! Wire formats of fanlic, as specified byte for byte in `formats/SPEC.md`.
//!
//! This crate only encodes and decodes; it checks no signature (that is the
//! `fanlic-verifier` crate's job, and signing is the issuer's). Decoding never
//! allocates and never panics: every decoder takes `&[u8]`, borrows from it,
//! and rejects anything that is not the one canonical encoding (SPEC.md §2).
//!
//! Two layers are kept apart, as the spec's types are:
//! - [`wire`]: the serde structs exactly as postcard puts them on the wire;
//! - [`License`], [`IssuingKeyCertificate`]: validated domain values, which can
//!   only be made from wire structs that pass every rule of the spec.
//!
//! Encoding (feature `alloc`, the issuer's side) sits next to each type's
//! decoder, and every encoder decodes its output again, so the issuer can
//! never write bytes a verifier would refuse. The encoders are re-exported
//! here as `encode_*`.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod activation;
pub mod armor;
mod canonical;
mod certificate;
mod date;
mod envelope;
mod error;
mod ids;
mod license;
pub mod private_cloud;
pub mod receipt;
pub mod revocation;
pub mod wire;

#[cfg(feature = "alloc")]
pub use certificate::encode_certificate_body;
pub use certificate::{IssuingKeyCertificate, Purposes};
pub use date::{Date, Timestamp};
#[cfg(feature = "alloc")]
pub use envelope::encode_license_file;
pub use envelope::{Envelope, SignedBody};
pub use error::DecodeError;
pub use ids::{KeyId, LicenseId, ParseIdError};
pub use license::{APP_NAMES, ActivationPolicy, Expiry, License, LicenseKind, ParseVersionError, Version};
#[cfg(feature = "alloc")]
pub use license::{encode_license_payload, encode_license_payload_with_policy};
#[cfg(feature = "alloc")]
pub use private_cloud::{
    encode_instance_certificate, encode_private_config_body, encode_private_config_file, encode_server_answer,
    encode_server_answer_file, encode_server_answer_file_with_receipt, encode_tls_binding, encode_tls_binding_file,
};
#[cfg(feature = "alloc")]
pub use receipt::{encode_receipt_body, encode_receipt_file};
pub use revocation::{
    MAX_REVOCATION_FILE_LEN, REVOCATION_FILE_MAGIC, REVOCATION_LIST_SIGNATURE_LABEL, RevocationEnvelope, RevocationList,
};
#[cfg(feature = "alloc")]
pub use revocation::{encode_revocation_file, encode_revocation_list_body};

/// Magic at the start of a raw (unarmored) license file: SPEC.md §3.1.
/// "The version is part of the magic: a new format is a new magic."
pub const LICENSE_FILE_MAGIC: &[u8; 17] = b"FANLIC-LICENSE/1\n";

/// Purpose label prefixed to the payload before the issuing key signs it:
/// SPEC.md §3.3, "signed message = label || payload bytes".
pub const LICENSE_SIGNATURE_LABEL: &[u8] = b"fanlic/1/license\n";

/// Purpose label prefixed to a certificate body before a root key signs it:
/// SPEC.md §3.2.
pub const CERTIFICATE_SIGNATURE_LABEL: &[u8] = b"fanlic/1/issuing-key-certificate\n";

/// Purpose label hashed before a public key to make its key id: SPEC.md §3.2.
pub const KEY_ID_LABEL: &[u8] = b"fanlic/1/key-id\n";

/// The largest raw license file a decoder accepts (SPEC.md §3.1). Typical
/// licenses are under 600 bytes; the limit keeps stack buffers small.
pub const MAX_LICENSE_FILE_LEN: usize = 2048;

/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Length of an Ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
