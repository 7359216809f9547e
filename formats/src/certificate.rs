//! Issuing-key certificates (SPEC.md §3.2).

#[cfg(feature = "alloc")]
use crate::envelope::labelled;
use crate::{CERTIFICATE_SIGNATURE_LABEL, DecodeError, KeyId, LicenseKind, Timestamp, envelope::decode_labelled, wire};
#[cfg(feature = "alloc")]
use alloc::vec::Vec;

/// What an issuing key may sign: a bit set (SPEC.md §3.2, `purposes`).
/// Bits this version does not define grant nothing and are ignored, so a
/// later purpose does not invalidate licenses in older products.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Purposes(pub u32);

impl Purposes {
    /// Bit 0: `local-container` licenses (`Container.lic`).
    pub const LOCAL_CONTAINER: u32 = 1 << 0;
    /// Bit 1: `private-cloud` licenses.
    pub const PRIVATE_CLOUD: u32 = 1 << 1;
    /// Bit 2: revocation lists.
    pub const REVOCATION_LIST: u32 = 1 << 2;
    /// Bit 3: activation receipts (SPEC.md §6.4). A receipt key's certificate
    /// grants this bit alone: a key that signs receipts signs nothing else.
    pub const RECEIPT: u32 = 1 << 3;
    /// Every purpose an issuing key may have (receipts are a key of their own).
    pub const ALL: u32 = Self::LOCAL_CONTAINER | Self::PRIVATE_CLOUD | Self::REVOCATION_LIST;

    /// Whether this is a receipt key's grant: bit 3 and none of bits 0 to 2
    /// (SPEC.md §3.2; other reserved bits are ignored, as everywhere).
    pub const fn is_receipt_only(self) -> bool {
        self.0 & Self::RECEIPT != 0 && self.0 & Self::ALL == 0
    }

    /// Whether licenses of `kind` may be signed.
    pub const fn allows(self, kind: LicenseKind) -> bool {
        let bit = match kind {
            LicenseKind::LocalContainer => Self::LOCAL_CONTAINER,
            LicenseKind::PrivateCloud => Self::PRIVATE_CLOUD,
        };
        self.0 & bit != 0
    }
}

/// A decoded certificate: a root key vouches that `public_key` may sign
/// `purposes` from `not_before` to `not_after` (inclusive). Decoding does not
/// check the root's signature; only a verifier makes this trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuingKeyCertificate {
    /// Id of the root key that signed this certificate.
    pub root_key_id: KeyId,
    /// Id of the issuing key (checked to match `public_key`).
    pub key_id: KeyId,
    /// The issuing key's Ed25519 public key (not yet checked to be a point).
    pub public_key: [u8; 32],
    /// First second at which the key may sign.
    pub not_before: Timestamp,
    /// Last second at which the key may sign.
    pub not_after: Timestamp,
    /// What the key may sign.
    pub purposes: Purposes,
}

impl IssuingKeyCertificate {
    /// Decodes a certificate's signed message (label || canonical body) and
    /// applies SPEC.md §3.2's rules.
    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let w: wire::CertificateBody = decode_labelled(message, CERTIFICATE_SIGNATURE_LABEL, "certificate")?;
        Self::from_wire(&w)
    }

    /// Validates a wire certificate body.
    pub fn from_wire(w: &wire::CertificateBody) -> Result<Self, DecodeError> {
        if KeyId::of(&w.public_key).0 != w.key_id {
            return Err(DecodeError::Invalid { field: "key_id", rule: "is not the id of public_key" });
        }
        if w.not_before > w.not_after {
            return Err(DecodeError::Invalid { field: "not_after", rule: "is before not_before" });
        }
        Ok(Self {
            root_key_id: KeyId(w.root_key_id),
            key_id: KeyId(w.key_id),
            public_key: w.public_key,
            not_before: Timestamp(w.not_before),
            not_after: Timestamp(w.not_after),
            purposes: Purposes(w.purposes),
        })
    }

    /// The wire form of this certificate body.
    pub fn to_wire(&self) -> wire::CertificateBody {
        wire::CertificateBody {
            root_key_id: self.root_key_id.0,
            key_id: self.key_id.0,
            public_key: self.public_key,
            not_before: self.not_before.0,
            not_after: self.not_after.0,
            purposes: self.purposes.0,
        }
    }

    /// Whether the key could sign at `t` (the license's `issued_at`).
    pub fn may_sign_at(&self, t: Timestamp) -> bool {
        self.not_before <= t && t <= self.not_after
    }
}

#[cfg(feature = "alloc")]
/// The message a root key signs for an issuing key: label || body.
pub fn encode_certificate_body(body: &wire::CertificateBody) -> Result<Vec<u8>, DecodeError> {
    let msg = labelled(CERTIFICATE_SIGNATURE_LABEL, body)?;
    IssuingKeyCertificate::decode(&msg)?;
    Ok(msg)
}
