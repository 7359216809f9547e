//! Checks a signed revocation list (SPEC.md §5), with no allocation.
//!
//! The product supplies the list file (raw: revocation lists have no armor),
//! the root keys it embeds and the highest sequence it has accepted before.
//! [`verify_revocations`] returns the list only when the chain root key →
//! issuing-key certificate (with purpose bit 2, revocation lists) → list holds
//! and the list is not older than one already seen; the product then passes
//! it to [`crate::verify_with_revocations`] or
//! [`crate::check_with_revocations`], and persists [`RevocationList::sequence`]
//! as its new highest ("A product that accepts a list MUST persist its
//! `sequence` as the highest accepted", SPEC.md §5).

use core::fmt;

use ed25519_dalek::VerifyingKey;
use fanlic_formats::{
    DecodeError, IssuingKeyCertificate, KeyId, Purposes, RevocationEnvelope, RevocationList, Timestamp,
};

use crate::{RootKey, Verified, check_signature};

/// Why a revocation list was refused. The product then keeps the list it had
/// (if any): a refused list revokes nothing and changes no sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationError {
    /// The file, the certificate or the list does not decode (SPEC.md §5).
    Decode(DecodeError),
    /// The certificate names a root key this product does not embed.
    UnknownRootKey {
        /// The root key id the certificate names.
        root_key_id: KeyId,
    },
    /// A signature does not hold. Deliberately says no more.
    BadSignature,
    /// The issuing key is not certified to sign revocation lists (purpose
    /// bit 2, `0x4`, SPEC.md §3.2).
    NotCertified {
        /// The issuing key.
        key_id: KeyId,
        /// Its certified purposes.
        purposes: u32,
    },
    /// The issuing key signed the list outside its certified window.
    IssuingKeyOutsideWindow {
        /// The issuing key.
        key_id: KeyId,
        /// When the list says it was signed.
        issued_at: Timestamp,
        /// Window start.
        not_before: Timestamp,
        /// Window end.
        not_after: Timestamp,
    },
    /// Anti-rollback, SPEC.md §5 step 7: "If a highest accepted sequence is
    /// given and `sequence` is lower than it, refuse the list: an old list
    /// replayed would un-revoke what a later one revoked."
    Rollback {
        /// The refused list's sequence.
        sequence: u64,
        /// The highest sequence accepted before.
        highest_seen: u64,
    },
}

impl RevocationError {
    /// A stable snake_case name for the reason, for JSON and logs.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::Decode(DecodeError::UnknownMagic) => "unknown_format",
            Self::Decode(_) => "bad_encoding",
            Self::UnknownRootKey { .. } => "unknown_root_key",
            Self::BadSignature => "bad_signature",
            Self::NotCertified { .. } => "not_certified",
            Self::IssuingKeyOutsideWindow { .. } => "issuing_key_outside_window",
            Self::Rollback { .. } => "rollback",
        }
    }
}

impl fmt::Display for RevocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("revocation list refused: ")?;
        match self {
            Self::Decode(e) => e.fmt(f),
            Self::UnknownRootKey { root_key_id } => {
                write!(f, "signed under root key {root_key_id}, which this product does not trust")
            }
            Self::BadSignature => f.write_str("the signature does not hold"),
            Self::NotCertified { key_id, purposes } => write!(
                f,
                "issuing key {key_id} is not certified to sign revocation lists (purposes {purposes:#x}, bit 0x4 unset)"
            ),
            Self::IssuingKeyOutsideWindow { key_id, issued_at, not_before, not_after } => write!(
                f,
                "issuing key {key_id} may sign from {not_before} to {not_after}, but the list says it was issued at {issued_at}"
            ),
            Self::Rollback { sequence, highest_seen } => write!(
                f,
                "list {sequence} is older than list {highest_seen}, already accepted; an old list cannot un-revoke"
            ),
        }
    }
}

impl core::error::Error for RevocationError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for RevocationError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

/// Checks a raw revocation list file against the root keys and the highest
/// sequence accepted before (SPEC.md §5, "Verification"):
///
/// 1. decode the file: known magic, at most 65536 bytes, canonical, nothing
///    left over;
/// 2. decode the certificate and check its rules (§3.2);
/// 3. find the root key named by `root_key_id` and verify the certificate
///    with `verify_strict`;
/// 4. check that the certificate's `purposes` has bit 2 (`0x4`);
/// 5. verify the list signature with the certified key, with `verify_strict`;
/// 6. only then decode the list and check its rules, then that
///    `not_before <= issued_at <= not_after` of the certificate;
/// 7. refuse it if `sequence < highest_seen` (anti-rollback); an equal
///    sequence is the same list again and is accepted.
pub fn verify_revocations<'a>(
    input: &'a [u8],
    roots: &[RootKey],
    highest_seen: Option<u64>,
) -> Result<Verified<RevocationList<'a>>, RevocationError> {
    let envelope = RevocationEnvelope::decode(input)?;
    let certificate = IssuingKeyCertificate::decode(envelope.certificate.message)?;
    let root = roots
        .iter()
        .find(|r| r.id == certificate.root_key_id)
        .ok_or(RevocationError::UnknownRootKey { root_key_id: certificate.root_key_id })?;
    check_signature(&root.key, envelope.certificate.message, &envelope.certificate.signature)
        .map_err(|_| RevocationError::BadSignature)?;
    if certificate.purposes.0 & Purposes::REVOCATION_LIST == 0 {
        return Err(RevocationError::NotCertified { key_id: certificate.key_id, purposes: certificate.purposes.0 });
    }
    let issuing_key = VerifyingKey::from_bytes(&certificate.public_key).map_err(|_| RevocationError::BadSignature)?;
    check_signature(&issuing_key, envelope.list.message, &envelope.list.signature)
        .map_err(|_| RevocationError::BadSignature)?;
    let list = RevocationList::decode(envelope.list.message)?;
    if !certificate.may_sign_at(list.issued_at()) {
        return Err(RevocationError::IssuingKeyOutsideWindow {
            key_id: certificate.key_id,
            issued_at: list.issued_at(),
            not_before: certificate.not_before,
            not_after: certificate.not_after,
        });
    }
    if let Some(highest_seen) = highest_seen
        && list.sequence() < highest_seen
    {
        return Err(RevocationError::Rollback { sequence: list.sequence(), highest_seen });
    }
    Ok(Verified(list))
}
