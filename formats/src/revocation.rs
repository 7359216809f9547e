//! Signed revocation lists (SPEC.md §5).
//!
//! "A revocation list file is `"FANLIC-REVOCATIONS/1\n" ||
//! postcard(RevocationFile)`": the certificate of the issuing key that signed
//! it (§3.2) and the signed list. The list's ids are stored as concatenated
//! fixed-size ids in strictly ascending order, so a decoded list borrows them
//! from the input as they are and looks one up by binary search: no
//! allocation, no copy.
//!
//! Like the rest of this crate, nothing here checks a signature: decoding a
//! list says nothing about who made it. The verifier checks the chain first.

use core::fmt;

#[cfg(feature = "alloc")]
use crate::envelope::labelled;
use crate::{DecodeError, KeyId, LicenseId, SignedBody, Timestamp, canonical, envelope::decode_labelled};
#[cfg(feature = "alloc")]
use alloc::vec::Vec;

/// Magic at the start of a revocation list file: SPEC.md §5. As for
/// licenses, "the version is part of the magic".
pub const REVOCATION_FILE_MAGIC: &[u8; 21] = b"FANLIC-REVOCATIONS/1\n";

/// Purpose label prefixed to a revocation list body before the issuing key
/// signs it: SPEC.md §5, "`fanlic/1/revocation-list\n`".
pub const REVOCATION_LIST_SIGNATURE_LABEL: &[u8] = b"fanlic/1/revocation-list\n";

/// "A decoder MUST reject a revocation list file longer than 65536 bytes"
/// (SPEC.md §5): about 4000 revoked licenses.
pub const MAX_REVOCATION_FILE_LEN: usize = 65_536;

/// Length of one entry of `licenses`: a license id.
pub const LICENSE_ID_LEN: usize = 16;
/// Length of one entry of `issuing_keys`: a key id.
pub const KEY_ID_LEN: usize = 8;

/// The serde structs of SPEC.md §5 exactly as postcard lays them out. Not
/// validated: decode them through [`RevocationEnvelope`] and
/// [`RevocationList`].
pub mod wire {
    use serde::{Deserialize, Serialize};

    use crate::wire::SignedBody;

    /// A revocation list file after its magic (SPEC.md §5).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RevocationFile<'a> {
        /// The issuing key's certificate, signed by a root key (§3.2).
        #[serde(borrow)]
        pub certificate: SignedBody<'a>,
        /// The revocation list, signed by the issuing key.
        #[serde(borrow)]
        pub list: SignedBody<'a>,
    }

    /// A revocation list's body, after its label (SPEC.md §5).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RevocationListBody<'a> {
        /// Grows with every list the vendor publishes; at least 1.
        pub sequence: u64,
        /// When the issuing key signed (Unix seconds).
        pub issued_at: u64,
        /// Revoked license ids: 16 bytes each, strictly ascending.
        #[serde(borrow)]
        pub licenses: &'a [u8],
        /// Revoked issuing-key ids: 8 bytes each, strictly ascending.
        #[serde(borrow)]
        pub issuing_keys: &'a [u8],
    }
}

/// A raw revocation list file split into its two signed bodies. Nothing in it
/// is trusted yet: a verifier checks both signatures before reading the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevocationEnvelope<'a> {
    /// The issuing-key certificate (signed by a root key).
    pub certificate: SignedBody<'a>,
    /// The revocation list (signed by the issuing key).
    pub list: SignedBody<'a>,
}

impl<'a> RevocationEnvelope<'a> {
    /// Decodes a revocation list file (SPEC.md §5): the magic, then at most
    /// [`MAX_REVOCATION_FILE_LEN`] bytes in all, one canonical
    /// postcard `RevocationFile`, and nothing after it. There is no armor.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let rest = crate::envelope::strip_magic(bytes, REVOCATION_FILE_MAGIC, MAX_REVOCATION_FILE_LEN)?;
        let file: wire::RevocationFile<'a> = canonical::decode(rest)?;
        Ok(Self {
            certificate: SignedBody { message: file.certificate.message, signature: file.certificate.signature.0 },
            list: SignedBody { message: file.list.message, signature: file.list.signature.0 },
        })
    }
}

/// A validated revocation list (SPEC.md §5): only [`RevocationList::decode`]
/// and [`RevocationList::from_wire`] make one, and both apply every rule, so
/// its ids are known to be sorted and can be searched. It says nothing about
/// signatures: a verifier wraps it in `Verified`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RevocationList<'a> {
    sequence: u64,
    issued_at: Timestamp,
    licenses: &'a [[u8; LICENSE_ID_LEN]],
    issuing_keys: &'a [[u8; KEY_ID_LEN]],
}

impl fmt::Debug for RevocationList<'_> {
    // Counts, not ids: a list may hold thousands.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationList")
            .field("sequence", &self.sequence)
            .field("issued_at", &self.issued_at)
            .field("licenses", &self.licenses.len())
            .field("issuing_keys", &self.issuing_keys.len())
            .finish()
    }
}

/// Splits concatenated ids and checks SPEC.md §5's rules: the length is a
/// multiple of the id length, and "the ids in each MUST be in strictly
/// ascending order, compared as byte strings (so no id appears twice)".
fn ids<'a, const N: usize>(field: &'static str, bytes: &'a [u8]) -> Result<&'a [[u8; N]], DecodeError> {
    let (ids, rest) = bytes.as_chunks::<N>();
    if !rest.is_empty() {
        return Err(DecodeError::Invalid { field, rule: "is not a whole number of ids" });
    }
    if ids.iter().zip(ids.iter().skip(1)).any(|(a, b)| a >= b) {
        return Err(DecodeError::Invalid { field, rule: "is not in strictly ascending order" });
    }
    Ok(ids)
}

impl<'a> RevocationList<'a> {
    /// Decodes a revocation list's signed message (label || canonical body)
    /// and applies SPEC.md §5's rules.
    pub fn decode(message: &'a [u8]) -> Result<Self, DecodeError> {
        let w: wire::RevocationListBody<'a> =
            decode_labelled(message, REVOCATION_LIST_SIGNATURE_LABEL, "revocation list")?;
        Self::from_wire(&w)
    }

    /// Validates a wire body (SPEC.md §5): `sequence` "MUST be >= 1";
    /// `licenses` and `issuing_keys` are whole numbers of ids in strictly
    /// ascending order; "no license id MAY be all zero".
    pub fn from_wire(w: &wire::RevocationListBody<'a>) -> Result<Self, DecodeError> {
        if w.sequence == 0 {
            return Err(DecodeError::Invalid { field: "sequence", rule: "is zero" });
        }
        let licenses = ids::<LICENSE_ID_LEN>("licenses", w.licenses)?;
        if licenses.first() == Some(&[0; LICENSE_ID_LEN]) {
            // Sorted: an all-zero id can only be the first.
            return Err(DecodeError::Invalid { field: "licenses", rule: "contains the all-zero license id" });
        }
        let issuing_keys = ids::<KEY_ID_LEN>("issuing_keys", w.issuing_keys)?;
        Ok(Self { sequence: w.sequence, issued_at: Timestamp(w.issued_at), licenses, issuing_keys })
    }

    /// The wire form of this list.
    pub fn to_wire(&self) -> wire::RevocationListBody<'a> {
        wire::RevocationListBody {
            sequence: self.sequence,
            issued_at: self.issued_at.0,
            licenses: self.licenses.as_flattened(),
            issuing_keys: self.issuing_keys.as_flattened(),
        }
    }

    /// The list's sequence number (at least 1). "A product that accepts a
    /// list MUST persist its `sequence` as the highest accepted" (SPEC.md
    /// §5).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// When the issuing key signed the list.
    pub fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// Whether the list revokes the license `id` (binary search).
    pub fn revokes_license(&self, id: &LicenseId) -> bool {
        self.licenses.binary_search(&id.0).is_ok()
    }

    /// Whether the list revokes the issuing key `id` (binary search).
    pub fn revokes_key(&self, id: &KeyId) -> bool {
        self.issuing_keys.binary_search(&id.0).is_ok()
    }

    /// The revoked license ids, in ascending order.
    pub fn licenses(&self) -> impl ExactSizeIterator<Item = LicenseId> + 'a {
        self.licenses.iter().map(|id| LicenseId(*id))
    }

    /// The revoked issuing-key ids, in ascending order.
    pub fn issuing_keys(&self) -> impl ExactSizeIterator<Item = KeyId> + 'a {
        self.issuing_keys.iter().map(|id| KeyId(*id))
    }
}

#[cfg(feature = "alloc")]
/// The message an issuing key signs for a revocation list (SPEC.md §5):
/// label || body. The ids are sorted and deduplicated here, as the spec's
/// canonical form requires ("strictly ascending"), so the caller may pass
/// them in any order.
pub fn encode_revocation_list_body(
    sequence: u64,
    issued_at: crate::Timestamp,
    licenses: &[crate::LicenseId],
    issuing_keys: &[crate::KeyId],
) -> Result<Vec<u8>, DecodeError> {
    use wire::RevocationListBody;

    let mut l: Vec<[u8; 16]> = licenses.iter().map(|id| id.0).collect();
    l.sort_unstable();
    l.dedup();
    let mut k: Vec<[u8; 8]> = issuing_keys.iter().map(|id| id.0).collect();
    k.sort_unstable();
    k.dedup();
    let body = RevocationListBody {
        sequence,
        issued_at: issued_at.0,
        licenses: l.as_flattened(),
        issuing_keys: k.as_flattened(),
    };
    let msg = labelled(REVOCATION_LIST_SIGNATURE_LABEL, &body)?;
    RevocationList::decode(&msg)?;
    Ok(msg)
}

#[cfg(feature = "alloc")]
/// A raw revocation list file (SPEC.md §5): magic, then the certificate
/// and the list, each with its signature. There is no armored form.
pub fn encode_revocation_file(
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    list_message: &[u8],
    list_signature: &[u8; 64],
) -> Result<Vec<u8>, DecodeError> {
    use wire::RevocationFile;

    let file = RevocationFile {
        certificate: crate::wire::SignedBody {
            message: certificate_message,
            signature: crate::wire::Signature(*certificate_signature),
        },
        list: crate::wire::SignedBody { message: list_message, signature: crate::wire::Signature(*list_signature) },
    };
    let mut out = Vec::from(REVOCATION_FILE_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    RevocationEnvelope::decode(&out)?;
    Ok(out)
}

#[cfg(all(test, feature = "alloc"))]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
mod tests {
    use proptest::prelude::*;
    use std::vec::Vec;

    use super::*;
    use crate::{encode_revocation_file, encode_revocation_list_body};

    fn lid(b: u8) -> LicenseId {
        LicenseId([b; 16])
    }

    fn kid(b: u8) -> KeyId {
        KeyId([b; 8])
    }

    fn body(sequence: u64, licenses: &[u8], issuing_keys: &[u8]) -> Vec<u8> {
        let w = wire::RevocationListBody { sequence, issued_at: 1_767_225_600, licenses, issuing_keys };
        [REVOCATION_LIST_SIGNATURE_LABEL, &postcard::to_allocvec(&w).unwrap()].concat()
    }

    #[test]
    fn round_trips_byte_for_byte() {
        // Unsorted, with a duplicate: the encoder sorts and deduplicates.
        let msg =
            encode_revocation_list_body(3, Timestamp(1_767_225_600), &[lid(9), lid(2), lid(9)], &[kid(7), kid(1)])
                .unwrap();
        let list = RevocationList::decode(&msg).unwrap();
        assert_eq!(list.sequence(), 3);
        assert_eq!(list.issued_at(), Timestamp(1_767_225_600));
        assert_eq!(list.licenses().collect::<Vec<_>>(), [lid(2), lid(9)]);
        assert_eq!(list.issuing_keys().collect::<Vec<_>>(), [kid(1), kid(7)]);
        assert!(list.revokes_license(&lid(9)) && list.revokes_license(&lid(2)));
        assert!(!list.revokes_license(&lid(3)));
        assert!(list.revokes_key(&kid(7)) && !list.revokes_key(&kid(2)));
        assert_eq!(RevocationList::from_wire(&list.to_wire()), Ok(list));
        assert_eq!(body(3, &[[2; 16], [9; 16]].concat(), &[[1; 8], [7; 8]].concat()), msg);

        let file = encode_revocation_file(&[1, 2, 3], &[4; 64], &msg, &[5; 64]).unwrap();
        assert!(file.starts_with(REVOCATION_FILE_MAGIC));
        let env = RevocationEnvelope::decode(&file).unwrap();
        assert_eq!((env.certificate.message, env.certificate.signature), (&[1u8, 2, 3][..], [4; 64]));
        assert_eq!((env.list.message, env.list.signature), (msg.as_slice(), [5; 64]));
    }

    #[test]
    fn an_empty_list_is_valid() {
        let msg = encode_revocation_list_body(1, Timestamp(0), &[], &[]).unwrap();
        let list = RevocationList::decode(&msg).unwrap();
        assert_eq!((list.licenses().len(), list.issuing_keys().len()), (0, 0));
        assert!(!list.revokes_license(&lid(1)));
    }

    #[test]
    fn rejects_what_is_not_canonical() {
        let invalid = |field, rule| Err(DecodeError::Invalid { field, rule });
        let unsorted = "is not in strictly ascending order";
        assert_eq!(RevocationList::decode(&body(0, &[], &[])), invalid("sequence", "is zero"));
        assert_eq!(RevocationList::decode(&body(1, &[[9; 16], [2; 16]].concat(), &[])), invalid("licenses", unsorted));
        assert_eq!(RevocationList::decode(&body(1, &[[2; 16], [2; 16]].concat(), &[])), invalid("licenses", unsorted));
        assert_eq!(
            RevocationList::decode(&body(1, &[], &[[3; 8], [1; 8]].concat())),
            invalid("issuing_keys", unsorted)
        );
        assert_eq!(
            RevocationList::decode(&body(1, &[2; 17], &[])),
            invalid("licenses", "is not a whole number of ids")
        );
        assert_eq!(
            RevocationList::decode(&body(1, &[], &[2; 7])),
            invalid("issuing_keys", "is not a whole number of ids")
        );
        assert_eq!(
            RevocationList::decode(&body(1, &[[0; 16], [1; 16]].concat(), &[])),
            invalid("licenses", "contains the all-zero license id")
        );
        assert!(encode_revocation_list_body(1, Timestamp(0), &[LicenseId([0; 16])], &[]).is_err());
        assert!(encode_revocation_list_body(0, Timestamp(0), &[], &[]).is_err());

        let good = body(1, &[1; 16], &[]);
        let trailing = [good.as_slice(), &[0]].concat();
        assert_eq!(RevocationList::decode(&trailing), Err(DecodeError::TrailingBytes { count: 1 }));
        // sequence 1 as the overlong varint 0x81 0x00.
        let mut overlong = REVOCATION_LIST_SIGNATURE_LABEL.to_vec();
        overlong.extend_from_slice(&[0x81, 0x00]);
        overlong.extend_from_slice(good.get(REVOCATION_LIST_SIGNATURE_LABEL.len() + 1..).unwrap());
        assert_eq!(RevocationList::decode(&overlong), Err(DecodeError::NonCanonical));
        let unlabelled = good.get(REVOCATION_LIST_SIGNATURE_LABEL.len()..).unwrap();
        assert!(matches!(
            RevocationList::decode(unlabelled),
            Err(DecodeError::Invalid { field: "revocation list", .. })
        ));
        // A license payload's label is not a revocation list's.
        let relabelled = [crate::LICENSE_SIGNATURE_LABEL, unlabelled].concat();
        assert!(RevocationList::decode(&relabelled).is_err());

        let file = encode_revocation_file(&[1], &[0; 64], &good, &[0; 64]).unwrap();
        let with_trailing = [file.as_slice(), &[0]].concat();
        assert_eq!(RevocationEnvelope::decode(&with_trailing), Err(DecodeError::TrailingBytes { count: 1 }));
        assert_eq!(RevocationEnvelope::decode(file.get(..file.len() - 1).unwrap()), Err(DecodeError::Malformed));
        let license_magic = [crate::LICENSE_FILE_MAGIC.as_slice(), file.get(21..).unwrap()].concat();
        assert_eq!(RevocationEnvelope::decode(&license_magic), Err(DecodeError::UnknownMagic));
        let mut long = file.clone();
        long.resize(MAX_REVOCATION_FILE_LEN + 1, 0);
        assert_eq!(
            RevocationEnvelope::decode(&long),
            Err(DecodeError::TooLong { len: MAX_REVOCATION_FILE_LEN + 1, max: MAX_REVOCATION_FILE_LEN })
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = RevocationEnvelope::decode(&bytes);
            let _ = RevocationList::decode(&bytes);
            let labelled = [REVOCATION_LIST_SIGNATURE_LABEL, &bytes].concat();
            let _ = RevocationList::decode(&labelled);
            let filed = [REVOCATION_FILE_MAGIC.as_slice(), &bytes].concat();
            let _ = RevocationEnvelope::decode(&filed);
        }

        #[test]
        fn encoded_lists_decode_to_the_sorted_set(
            sequence in 1u64..,
            issued_at in any::<u64>(),
            licenses in proptest::collection::vec(any::<[u8; 16]>(), 0..40),
            keys in proptest::collection::vec(any::<[u8; 8]>(), 0..40),
        ) {
            let licenses: Vec<LicenseId> = licenses.into_iter().filter(|l| *l != [0; 16]).map(LicenseId).collect();
            let keys: Vec<KeyId> = keys.into_iter().map(KeyId).collect();
            let msg = encode_revocation_list_body(sequence, Timestamp(issued_at), &licenses, &keys).unwrap();
            let list = RevocationList::decode(&msg).unwrap();
            prop_assert_eq!(list.sequence(), sequence);
            let mut sorted = licenses.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(list.licenses().collect::<Vec<_>>(), sorted);
            for l in &licenses {
                prop_assert!(list.revokes_license(l));
            }
            for k in &keys {
                prop_assert!(list.revokes_key(k));
            }
            // Decoding then encoding gives the same bytes.
            let again = encode_revocation_list_body(
                list.sequence(), list.issued_at(), &list.licenses().collect::<Vec<_>>(),
                &list.issuing_keys().collect::<Vec<_>>(),
            ).unwrap();
            prop_assert_eq!(again, msg);
        }
    }
}
