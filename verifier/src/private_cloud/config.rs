//! Checking a `privateConfig` file (SPEC.md §7.4), for the vendor and the
//! authorization server (needs `alloc`).

use core::fmt;

use fanlic_formats::{
    DecodeError, KeyId, LicenseId,
    private_cloud::{InstanceCertificate, PrivateConfig, PrivateConfigEnvelope},
};

use super::signature_holds;
use crate::Verified;

/// Why a `privateConfig` file was refused (SPEC.md §7.4, "saying which
/// check failed"). The first failing check, along the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrivateConfigError {
    /// The file, the certificate or the state does not decode.
    Decode(DecodeError),
    /// The instance certificate's signature under the image key, or the
    /// state's under the certified instance key, does not hold.
    /// Deliberately says no more.
    BadSignature,
    /// The instance certificate is for another license.
    ForeignLicense {
        /// The license id expected.
        expected: LicenseId,
        /// The certificate's.
        certificate: LicenseId,
    },
    /// The certificate names another image key than the one given.
    ImageKeyIdMismatch {
        /// The id the certificate names.
        certificate: KeyId,
        /// The id of the image key given.
        image_key: KeyId,
    },
    /// The state's `license_id` is not the certificate's.
    StateLicenseMismatch {
        /// The certificate's license id.
        certificate: LicenseId,
        /// The state's.
        state: LicenseId,
    },
    /// The state's `instance_public_key` is not the certificate's.
    InstanceKeyMismatch {
        /// Key id of the certified instance key.
        certificate: KeyId,
        /// Key id of the key the state names.
        state: KeyId,
    },
}

impl PrivateConfigError {
    /// A stable snake_case name for the reason, for JSON and logs.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::Decode(DecodeError::UnknownMagic) => "unknown_format",
            Self::Decode(_) => "bad_encoding",
            Self::BadSignature => "bad_signature",
            Self::ForeignLicense { .. } => "foreign_license",
            Self::ImageKeyIdMismatch { .. } => "image_key_id_mismatch",
            Self::StateLicenseMismatch { .. } => "state_license_mismatch",
            Self::InstanceKeyMismatch { .. } => "instance_key_mismatch",
        }
    }
}

impl fmt::Display for PrivateConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("privateConfig refused: ")?;
        match self {
            Self::Decode(e) => e.fmt(f),
            Self::BadSignature => f.write_str("a signature does not hold"),
            Self::ForeignLicense { expected, certificate } => {
                write!(f, "it belongs to license {certificate}, not {expected}")
            }
            Self::ImageKeyIdMismatch { certificate, image_key } => {
                write!(f, "its instance certificate names image key {certificate}, not {image_key}")
            }
            Self::StateLicenseMismatch { certificate, state } => {
                write!(f, "its state is for license {state}, but its certificate for {certificate}")
            }
            Self::InstanceKeyMismatch { certificate, state } => {
                write!(f, "its state names instance key {state}, but its certificate certifies {certificate}")
            }
        }
    }
}

impl core::error::Error for PrivateConfigError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for PrivateConfigError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

/// Checks a `privateConfig` file (SPEC.md §7.4) along image key →
/// instance certificate → instance key → state: the certificate's
/// signature with `image_public_key`, its `license_id` equal to
/// `license_id` and its `image_key_id` the id of `image_public_key`; the
/// state's signature with the certified instance key, its `license_id`
/// and `instance_public_key` equal to the certificate's. Nothing is
/// decoded before its signature holds.
///
/// The vendor's migration check and the authorization server's start-up
/// both use it. The server also compares
/// [`PrivateConfig::instance_public_key`] with the key of its
/// `instance.key`; the vendor compares [`PrivateConfig::generation`]
/// with the highest it recorded (`stale_private_config`, §7.1).
pub fn verify_private_config(
    file: &[u8],
    image_public_key: &[u8; 32],
    license_id: &LicenseId,
) -> Result<Verified<PrivateConfig>, PrivateConfigError> {
    let envelope = PrivateConfigEnvelope::decode(file)?;
    let cert = envelope.instance_certificate;
    if !signature_holds(image_public_key, cert.message, &cert.signature) {
        return Err(PrivateConfigError::BadSignature);
    }
    let certificate = InstanceCertificate::decode(cert.message)?;
    if certificate.license_id != *license_id {
        return Err(PrivateConfigError::ForeignLicense { expected: *license_id, certificate: certificate.license_id });
    }
    let image_key_id = KeyId::of(image_public_key);
    if certificate.image_key_id != image_key_id {
        return Err(PrivateConfigError::ImageKeyIdMismatch {
            certificate: certificate.image_key_id,
            image_key: image_key_id,
        });
    }
    let state = envelope.state;
    if !signature_holds(&certificate.instance_public_key, state.message, &state.signature) {
        return Err(PrivateConfigError::BadSignature);
    }
    let config = PrivateConfig::decode(state.message)?;
    if config.license_id() != certificate.license_id {
        return Err(PrivateConfigError::StateLicenseMismatch {
            certificate: certificate.license_id,
            state: config.license_id(),
        });
    }
    if *config.instance_public_key() != certificate.instance_public_key {
        return Err(PrivateConfigError::InstanceKeyMismatch {
            certificate: KeyId::of(&certificate.instance_public_key),
            state: KeyId::of(config.instance_public_key()),
        });
    }
    Ok(Verified(config))
}
