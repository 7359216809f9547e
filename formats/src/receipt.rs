//! Activation receipts (SPEC.md §6.4): the vendor's signed word that it
//! activated one license for one challenge, at its own time.
//!
//! A receipt is signed by a **receipt key**, an issuing-key certificate
//! (§3.2) that grants receipts and nothing else, so a key kept online by the
//! activation service can never sign a license. This module only encodes and
//! decodes; the verifier checks the signatures and the bindings.

use sha2::{Digest, Sha256};

#[cfg(feature = "alloc")]
use crate::envelope::labelled;
use crate::{DecodeError, LicenseId, SignedBody, Timestamp, canonical, envelope::decode_labelled};
#[cfg(feature = "alloc")]
use alloc::vec::Vec;

/// Magic at the start of a raw receipt file (SPEC.md §6.4).
pub const RECEIPT_FILE_MAGIC: &[u8; 17] = b"FANLIC-RECEIPT/1\n";

/// Purpose label of a receipt's signed message (SPEC.md §3.1, §6.4).
pub const RECEIPT_LABEL: &[u8] = b"fanlic/1/activation-receipt\n";

/// Label of the challenge key's derivation (SPEC.md §3.3):
/// `challenge_key = HMAC-SHA256(activation_key, "fanlic/1/challenge-key\n")`.
pub const CHALLENGE_KEY_LABEL: &[u8] = b"fanlic/1/challenge-key\n";

/// The largest raw receipt file a decoder accepts: a revocation list of at
/// most 64 KiB (§5) and 8 KiB for the rest.
pub const MAX_RECEIPT_FILE_LEN: usize = 73_728;

/// The longest window a receipt key's certificate may have: 31 days. A key
/// that lives online signs for a short time, so a stolen one expires soon.
pub const MAX_RECEIPT_KEY_WINDOW_SECS: u64 = 31 * 86_400;

/// The serde structs exactly as postcard lays them out.
pub mod wire {
    use serde::{Deserialize, Serialize};

    use crate::wire::SignedBody;

    /// A receipt's body, after its label (SPEC.md §6.4).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ReceiptBody {
        /// The license activated.
        pub license_id: [u8; 16],
        /// SHA-256 of the raw license file (§3.1, without armor).
        pub license_sha256: [u8; 32],
        /// SHA-256 of the raw token `0x01 || body || tag` (§6.1).
        pub challenge_sha256: [u8; 32],
        /// Private cloud: the authorization server's instance public key.
        pub instance_public_key: Option<[u8; 32]>,
        /// Private cloud: the receipt id the challenge named as its predecessor.
        pub previous_receipt: Option<[u8; 32]>,
        /// The vendor service's clock when it signed (Unix seconds).
        pub vendor_time: u64,
        /// End of the re-activation lease (Unix seconds), if the contract has one.
        pub lease_until: Option<u64>,
        /// The license's `max_nodes`.
        pub max_nodes: u32,
        /// Sequence of the newest revocation list the vendor had; 0: none.
        pub revocation_sequence: u64,
    }

    /// A receipt file after its magic (SPEC.md §6.4).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ReceiptFile<'a> {
        /// The receipt key's certificate, signed by a root key.
        #[serde(borrow)]
        pub certificate: SignedBody<'a>,
        /// The receipt, signed by the receipt key.
        #[serde(borrow)]
        pub receipt: SignedBody<'a>,
        /// A revocation file (§5) whose sequence is `revocation_sequence`.
        #[serde(borrow)]
        pub revocation_list: Option<&'a [u8]>,
    }
}

/// A validated receipt body. Says nothing about its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// The license activated.
    pub license_id: LicenseId,
    /// SHA-256 of the raw license file.
    pub license_sha256: [u8; 32],
    /// SHA-256 of the raw token it answers.
    pub challenge_sha256: [u8; 32],
    /// Private cloud: the instance key it binds.
    pub instance_public_key: Option<[u8; 32]>,
    /// Private cloud: the receipt id it follows.
    pub previous_receipt: Option<[u8; 32]>,
    /// The vendor's time.
    pub vendor_time: Timestamp,
    /// End of the re-activation lease, if any.
    pub lease_until: Option<Timestamp>,
    /// The license's `max_nodes`.
    pub max_nodes: u32,
    /// Sequence of the newest revocation list the vendor had (0: none).
    pub revocation_sequence: u64,
}

impl Receipt {
    /// Decodes a receipt's signed message (label || canonical body) and
    /// applies SPEC.md §6.4's rules.
    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let w: wire::ReceiptBody = decode_labelled(message, RECEIPT_LABEL, "receipt")?;
        Self::from_wire(&w)
    }

    /// Validates a wire body.
    pub fn from_wire(w: &wire::ReceiptBody) -> Result<Self, DecodeError> {
        if w.license_id == [0; 16] {
            return Err(DecodeError::Invalid { field: "license_id", rule: "is all zero" });
        }
        if w.max_nodes == 0 {
            return Err(DecodeError::Invalid { field: "max_nodes", rule: "is zero" });
        }
        if w.lease_until.is_some_and(|l| l <= w.vendor_time) {
            return Err(DecodeError::Invalid { field: "lease_until", rule: "is not after vendor_time" });
        }
        if w.previous_receipt.is_some() && w.instance_public_key.is_none() {
            return Err(DecodeError::Invalid {
                field: "previous_receipt",
                rule: "is present without an instance_public_key",
            });
        }
        Ok(Self {
            license_id: LicenseId(w.license_id),
            license_sha256: w.license_sha256,
            challenge_sha256: w.challenge_sha256,
            instance_public_key: w.instance_public_key,
            previous_receipt: w.previous_receipt,
            vendor_time: Timestamp(w.vendor_time),
            lease_until: w.lease_until.map(Timestamp),
            max_nodes: w.max_nodes,
            revocation_sequence: w.revocation_sequence,
        })
    }

    /// A receipt from its parts, checked as a decoder would check them.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        license_id: LicenseId,
        license_sha256: [u8; 32],
        challenge_sha256: [u8; 32],
        instance_public_key: Option<[u8; 32]>,
        previous_receipt: Option<[u8; 32]>,
        vendor_time: Timestamp,
        lease_until: Option<Timestamp>,
        max_nodes: u32,
        revocation_sequence: u64,
    ) -> Result<Self, DecodeError> {
        Self::from_wire(&wire::ReceiptBody {
            license_id: license_id.0,
            license_sha256,
            challenge_sha256,
            instance_public_key,
            previous_receipt,
            vendor_time: vendor_time.0,
            lease_until: lease_until.map(|t| t.0),
            max_nodes,
            revocation_sequence,
        })
    }

    /// Its wire form.
    pub fn to_wire(&self) -> wire::ReceiptBody {
        wire::ReceiptBody {
            license_id: self.license_id.0,
            license_sha256: self.license_sha256,
            challenge_sha256: self.challenge_sha256,
            instance_public_key: self.instance_public_key,
            previous_receipt: self.previous_receipt,
            vendor_time: self.vendor_time.0,
            lease_until: self.lease_until.map(|t| t.0),
            max_nodes: self.max_nodes,
            revocation_sequence: self.revocation_sequence,
        }
    }
}

/// A receipt's id: `SHA-256(receipt.message)`, over its signed message with
/// the label (SPEC.md §6.4). It names the receipt whatever carries it, with
/// or without its revocation list.
pub fn receipt_id(message: &[u8]) -> [u8; 32] {
    Sha256::digest(message).into()
}

/// A receipt file split into its parts. Nothing in it is trusted yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptEnvelope<'a> {
    /// The receipt key's certificate (signed by a root key).
    pub certificate: SignedBody<'a>,
    /// The receipt (signed by the receipt key).
    pub receipt: SignedBody<'a>,
    /// The revocation file it delivers, if any.
    pub revocation_list: Option<&'a [u8]>,
}

impl<'a> ReceiptEnvelope<'a> {
    /// Decodes a raw receipt file: the magic, then at most
    /// [`MAX_RECEIPT_FILE_LEN`] bytes in all, one canonical `ReceiptFile`,
    /// nothing after it.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let rest = crate::envelope::strip_magic(bytes, RECEIPT_FILE_MAGIC, MAX_RECEIPT_FILE_LEN)?;
        let f: wire::ReceiptFile<'a> = canonical::decode(rest)?;
        Ok(Self {
            certificate: SignedBody { message: f.certificate.message, signature: f.certificate.signature.0 },
            receipt: SignedBody { message: f.receipt.message, signature: f.receipt.signature.0 },
            revocation_list: f.revocation_list,
        })
    }

    /// This receipt's id (see [`receipt_id`]).
    pub fn id(&self) -> [u8; 32] {
        receipt_id(self.receipt.message)
    }
}

#[cfg(feature = "alloc")]
/// The message a receipt key signs for a receipt (SPEC.md §6.4): label || body.
pub fn encode_receipt_body(receipt: &Receipt) -> Result<Vec<u8>, DecodeError> {
    let msg = labelled(RECEIPT_LABEL, &receipt.to_wire())?;
    Receipt::decode(&msg)?;
    Ok(msg)
}

#[cfg(feature = "alloc")]
/// A raw receipt file (SPEC.md §6.4): magic, the receipt key's certificate,
/// the receipt, and the revocation file it delivers, if any.
pub fn encode_receipt_file(
    certificate: SignedBody<'_>,
    receipt: SignedBody<'_>,
    revocation_list: Option<&[u8]>,
) -> Result<Vec<u8>, DecodeError> {
    use wire::ReceiptFile;
    let file = ReceiptFile {
        certificate: crate::wire::SignedBody {
            message: certificate.message,
            signature: crate::wire::Signature(certificate.signature),
        },
        receipt: crate::wire::SignedBody {
            message: receipt.message,
            signature: crate::wire::Signature(receipt.signature),
        },
        revocation_list,
    };
    let mut out = Vec::from(RECEIPT_FILE_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    ReceiptEnvelope::decode(&out)?;
    Ok(out)
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn receipt() -> Receipt {
        Receipt::new(
            LicenseId([7; 16]),
            [1; 32],
            [2; 32],
            Some([3; 32]),
            Some([4; 32]),
            Timestamp(1_790_000_000),
            Some(Timestamp(1_790_000_000 + 90 * 86_400)),
            3,
            5,
        )
        .unwrap()
    }

    #[test]
    fn body_round_trips_and_rules_hold() {
        let r = receipt();
        let msg = crate::encode_receipt_body(&r).unwrap();
        assert!(msg.starts_with(RECEIPT_LABEL));
        assert_eq!(Receipt::decode(&msg).unwrap(), r);
        let mut w = r.to_wire();
        w.lease_until = Some(w.vendor_time);
        assert!(Receipt::from_wire(&w).is_err());
        let mut w = r.to_wire();
        w.instance_public_key = None;
        assert!(Receipt::from_wire(&w).is_err());
        let mut w = r.to_wire();
        w.max_nodes = 0;
        assert!(Receipt::from_wire(&w).is_err());
    }

    #[test]
    fn file_round_trips_with_and_without_list() {
        let msg = crate::encode_receipt_body(&receipt()).unwrap();
        let cert = [9u8; 20];
        for list in [None, Some(&b"FANLIC-REVOCATIONS/1\nxyz"[..])] {
            let file = crate::encode_receipt_file(
                SignedBody { message: &cert, signature: [5; 64] },
                SignedBody { message: &msg, signature: [6; 64] },
                list,
            )
            .unwrap();
            let env = ReceiptEnvelope::decode(&file).unwrap();
            assert_eq!(env.receipt.message, &msg[..]);
            assert_eq!(env.revocation_list, list);
            assert_eq!(env.id(), receipt_id(&msg));
            let armored = crate::armor::encode_receipt(&file, &["# a receipt"]).unwrap();
            let mut buf = std::vec![0u8; MAX_RECEIPT_FILE_LEN];
            assert_eq!(crate::armor::decode_receipt(armored.as_bytes(), &mut buf).unwrap(), &file[..]);
        }
    }

    proptest::proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = Receipt::decode(&bytes);
            let _ = ReceiptEnvelope::decode(&bytes);
            let mut buf = [0u8; 512];
            let _ = crate::armor::decode_receipt(&bytes, &mut buf);
        }
    }
}
