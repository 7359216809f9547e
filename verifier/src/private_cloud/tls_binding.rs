//! Checking a TLS binding (SPEC.md §7.7) before anything is sent on a new
//! TLS connection: the first check that fails.

use core::fmt;

use fanlic_formats::{
    DecodeError, KeyId, LicenseId, LicenseKind,
    private_cloud::{InstanceCertificate, TlsBinding, TlsBindingEnvelope},
};

use super::{Hex, signature_holds};
use crate::{ContentError, RootKey, Verified, authenticate_raw};

/// A TLS key that a TLS binding (SPEC.md §7.7) ties to an instance key. Only
/// [`verify_tls_binding`] makes one, wrapped in [`Verified`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BoundTlsKey {
    /// The server license.
    pub license_id: LicenseId,
    /// The instance key that signed the binding (the one to pin).
    pub instance_public_key: [u8; 32],
    /// SHA-256 of the bound TLS key's DER SubjectPublicKeyInfo.
    pub spki_sha256: [u8; 32],
}

/// Why a TLS connection is refused by its binding (SPEC.md §7.7): the first
/// check that fails, along root key → issuing key → server license → image
/// key → instance key → TLS key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsBindingError {
    /// The file, the instance certificate or the binding does not decode
    /// (the last two only once their signature held).
    Malformed {
        /// Which part.
        part: TlsBindingPart,
        /// Why.
        error: DecodeError,
    },
    /// The server license is not authentic under the product's root keys.
    License(ContentError),
    /// The server license is not a private-cloud license.
    NotPrivateCloud {
        /// Its kind.
        kind: LicenseKind,
    },
    /// The server license has no `image_public_key`.
    NoImageKey {
        /// The license.
        license_id: LicenseId,
    },
    /// The instance certificate's signature under the image key, or the
    /// binding's under the instance key, does not hold. Deliberately says
    /// no more.
    BadSignature,
    /// The certificate's `license_id` is not the license's.
    CertificateLicenseMismatch {
        /// In the certificate.
        certificate: LicenseId,
        /// The license's.
        license: LicenseId,
    },
    /// `image_key_id` is not the key id of the image key.
    ImageKeyIdMismatch {
        /// In the certificate.
        certificate: KeyId,
        /// Of the license's image key.
        image_key: KeyId,
    },
    /// The certified instance key is not the pinned one: another server.
    InstanceKeyChanged {
        /// The pinned key.
        pinned: KeyId,
        /// The one the binding comes from.
        presented: KeyId,
    },
    /// The binding's `license_id` is not the license's.
    BindingLicenseMismatch {
        /// In the binding.
        binding: LicenseId,
        /// The license's.
        license: LicenseId,
    },
    /// The binding names another TLS key than the connection's: a machine in
    /// the middle, or a certificate the server does not serve.
    TlsKeyNotBound {
        /// SHA-256 of the SubjectPublicKeyInfo the binding names.
        bound: [u8; 32],
        /// SHA-256 of the connection's SubjectPublicKeyInfo.
        presented: [u8; 32],
    },
}

/// Which part of a TLS binding file did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsBindingPart {
    /// The file itself: length, magic, encoding.
    File,
    /// The instance certificate's body, after its signature held.
    InstanceCertificate,
    /// The binding's body, after its signature held.
    Binding,
}

impl TlsBindingError {
    /// A stable snake_case code, for JSON and logs.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "malformed_binding",
            Self::License(_) => "content_incorrect",
            Self::NotPrivateCloud { .. } => "license_type_mismatch",
            Self::NoImageKey { .. } => "no_image_key",
            Self::BadSignature => "bad_signature",
            Self::CertificateLicenseMismatch { .. } => "certificate_license_mismatch",
            Self::ImageKeyIdMismatch { .. } => "image_key_id_mismatch",
            Self::InstanceKeyChanged { .. } => "instance_key_changed",
            Self::BindingLicenseMismatch { .. } => "binding_license_mismatch",
            Self::TlsKeyNotBound { .. } => "tls_key_not_bound",
        }
    }
}

impl fmt::Display for TlsBindingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { part, error } => {
                let part = match part {
                    TlsBindingPart::File => "the TLS binding file",
                    TlsBindingPart::InstanceCertificate => "the instance certificate",
                    TlsBindingPart::Binding => "the TLS binding",
                };
                write!(f, "{part} does not decode: {error}")
            }
            Self::License(e) => write!(f, "the server license is not authentic: {e}"),
            Self::NotPrivateCloud { kind } => write!(f, "the server license is a {kind} license, not private-cloud"),
            Self::NoImageKey { license_id } => write!(f, "the server license {license_id} has no image key"),
            Self::BadSignature => f.write_str("a signature of the TLS binding's chain does not hold"),
            Self::CertificateLicenseMismatch { certificate, license } => {
                write!(f, "the instance certificate is for license {certificate}, not {license}")
            }
            Self::ImageKeyIdMismatch { certificate, image_key } => {
                write!(f, "the instance certificate names image key {certificate}, not {image_key}")
            }
            Self::InstanceKeyChanged { pinned, presented } => write!(
                f,
                "the TLS binding comes from instance key {presented}, not the pinned {pinned}: another copy of the \
                 authorization server"
            ),
            Self::BindingLicenseMismatch { binding, license } => {
                write!(f, "the TLS binding is for license {binding}, not {license}")
            }
            Self::TlsKeyNotBound { bound, presented } => write!(
                f,
                "the connection's TLS key (SPKI SHA-256 {}) is not the one the instance key binds ({}): a machine in \
                 the middle, or a certificate the authorization server does not serve",
                Hex(presented),
                Hex(bound)
            ),
        }
    }
}

impl core::error::Error for TlsBindingError {}

/// Checks a TLS binding file against the TLS connection it came over
/// (SPEC.md §7.7), before anything is sent on it: the server license is
/// authentic under `roots` (signatures only: its terms are checked on every
/// answer), private-cloud, with an image key; the instance certificate holds
/// under that image key; its instance key is `pinned_instance_key` when one
/// is given; the binding holds under the instance key, names the license,
/// and names `spki_sha256`, the SHA-256 of the DER SubjectPublicKeyInfo of
/// the certificate the connection's handshake proved. Reports the first
/// check that fails, alone.
pub fn verify_tls_binding(
    file: &[u8],
    roots: &[RootKey],
    pinned_instance_key: Option<&[u8; 32]>,
    spki_sha256: &[u8; 32],
) -> Result<Verified<BoundTlsKey>, TlsBindingError> {
    let malformed = |part, error| TlsBindingError::Malformed { part, error };
    let envelope = TlsBindingEnvelope::decode(file).map_err(|e| malformed(TlsBindingPart::File, e))?;
    let license = authenticate_raw(envelope.license, roots).map_err(TlsBindingError::License)?.license;
    if license.kind != LicenseKind::PrivateCloud {
        return Err(TlsBindingError::NotPrivateCloud { kind: license.kind });
    }
    let image_key = license.image_public_key.ok_or(TlsBindingError::NoImageKey { license_id: license.id })?;
    let cert = envelope.instance_certificate;
    if !signature_holds(&image_key, cert.message, &cert.signature) {
        return Err(TlsBindingError::BadSignature);
    }
    let certificate =
        InstanceCertificate::decode(cert.message).map_err(|e| malformed(TlsBindingPart::InstanceCertificate, e))?;
    if certificate.license_id != license.id {
        return Err(TlsBindingError::CertificateLicenseMismatch {
            certificate: certificate.license_id,
            license: license.id,
        });
    }
    let image_key_id = KeyId::of(&image_key);
    if certificate.image_key_id != image_key_id {
        return Err(TlsBindingError::ImageKeyIdMismatch {
            certificate: certificate.image_key_id,
            image_key: image_key_id,
        });
    }
    let instance_key = certificate.instance_public_key;
    if let Some(pinned) = pinned_instance_key
        && *pinned != instance_key
    {
        return Err(TlsBindingError::InstanceKeyChanged {
            pinned: KeyId::of(pinned),
            presented: KeyId::of(&instance_key),
        });
    }
    let signed = envelope.binding;
    if !signature_holds(&instance_key, signed.message, &signed.signature) {
        return Err(TlsBindingError::BadSignature);
    }
    let binding = TlsBinding::decode(signed.message).map_err(|e| malformed(TlsBindingPart::Binding, e))?;
    if binding.license_id != license.id {
        return Err(TlsBindingError::BindingLicenseMismatch { binding: binding.license_id, license: license.id });
    }
    if binding.spki_sha256 != *spki_sha256 {
        return Err(TlsBindingError::TlsKeyNotBound { bound: binding.spki_sha256, presented: *spki_sha256 });
    }
    Ok(Verified(BoundTlsKey { license_id: license.id, instance_public_key: instance_key, spki_sha256: *spki_sha256 }))
}
