//! Activation receipts (SPEC.md §6.4): checking the vendor's signed word
//! that it activated this license for this challenge, at its own time.
//!
//! Who calls what:
//! - a product (local container) or an authorization server that made a
//!   challenge calls [`verify_receipt`] with [`Expect::challenge_sha256`]
//!   set to [`crate::activation::PreparedChallenge::token_sha256`] of the
//!   challenge it holds, then marks that challenge used: a receipt answers
//!   one challenge, once (§6.4 rule 4);
//! - an application checking an answer of its authorization server under
//!   receipt policy does so through
//!   [`crate::private_cloud::verify_server_answer`] (§7.2 rule 6).
//!
//! Every cause that can be known is reported together. A signature that
//! fails hides what it signs: a bad certificate signature hides the
//! certificate's and the receipt's claims, a bad receipt signature the
//! receipt's.

use core::fmt;

use ed25519_dalek::VerifyingKey;
use fanlic_formats::{
    DecodeError, IssuingKeyCertificate, KeyId, License, LicenseId, RevocationList, Timestamp, armor,
    receipt::{CHALLENGE_KEY_LABEL, MAX_RECEIPT_KEY_WINDOW_SECS, Receipt, ReceiptEnvelope, receipt_id},
};
use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};

use crate::{Revocation, RootKey, Verified, check_signature, revocation::verify_revocations};

/// The challenge key of a receipt-policy license (SPEC.md §3.3):
/// `HMAC-SHA256(activation_key, "fanlic/1/challenge-key\n")`. The vendor's
/// service derives it from the activation key; the license carries it in
/// place of the activation key.
pub fn challenge_key(activation_key: &[u8; 32]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(activation_key)
        .unwrap_or_else(|_| <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()));
    m.update(CHALLENGE_KEY_LABEL);
    m.finalize().into_bytes().into()
}

/// SHA-256 of bytes: of a raw license file for [`Expect::license_sha256`],
/// of a raw token for [`Expect::challenge_sha256`].
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// What the acceptor knows and expects of a receipt (SPEC.md §6.4, rules 3
/// to 6).
#[derive(Clone, Copy, Debug)]
pub struct Expect<'l> {
    /// The acceptor's license, whose signatures it has verified.
    pub license: &'l License<'l>,
    /// SHA-256 of that license's raw file ([`sha256`]).
    pub license_sha256: [u8; 32],
    /// The key id of the issuing key that signed that license (its
    /// certificate's `key_id`): a delivered list that revokes it revokes the
    /// license (§5).
    pub issuing_key_id: KeyId,
    /// SHA-256 of the raw token of the challenge it holds unanswered, or
    /// `None` for an application checking its server's receipt (§7.2 rule 6),
    /// which made no challenge.
    pub challenge_sha256: Option<[u8; 32]>,
    /// Its instance key (an authorization server, or an application checking
    /// its server's answer: the answer's instance key); `None` for a product
    /// activating a local container, whose receipt MUST name none.
    pub instance_public_key: Option<[u8; 32]>,
    /// The id of the receipt an authorization server holds (`Some(None)`: it
    /// holds none), which the receipt MUST name as its predecessor; `None`:
    /// not checked (a product, or an application).
    pub previous_receipt: Option<Option<[u8; 32]>>,
    /// The acceptor's clock, for `lease_until`.
    pub now: Timestamp,
}

/// One reason a receipt is refused. The order of the variants is the order
/// they are reported in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceiptCause {
    /// `receipt_malformed`: the file does not decode (nothing else is
    /// evaluated), or a signed part does not after its signature held.
    Malformed(DecodeError),
    /// `receipt_unknown_root_key`: the receipt key's certificate names a root
    /// key this product does not embed.
    UnknownRootKey {
        /// The root key id the certificate names.
        root_key_id: KeyId,
    },
    /// `receipt_bad_signature`: the certificate's or the receipt's signature
    /// does not hold. Deliberately says no more.
    BadSignature,
    /// `receipt_key_not_certified`: the signing key is not a receipt key
    /// (purposes other than receipts alone, or a window over 31 days).
    NotReceiptKey {
        /// The key.
        key_id: KeyId,
        /// Its certified purposes.
        purposes: u32,
        /// Its window, in seconds.
        window_secs: u64,
    },
    /// `receipt_key_outside_window`: `vendor_time` is outside the receipt
    /// key's window.
    KeyOutsideWindow {
        /// The key.
        key_id: KeyId,
        /// The receipt's vendor time.
        vendor_time: Timestamp,
        /// Window start.
        not_before: Timestamp,
        /// Window end.
        not_after: Timestamp,
    },
    /// `receipt_license_mismatch`: the receipt is for another license, or
    /// for other bytes of it (`license_sha256`), or other terms (`max_nodes`).
    LicenseMismatch {
        /// The receipt's license id.
        receipt: LicenseId,
        /// The acceptor's license id.
        license: LicenseId,
    },
    /// `receipt_challenge_mismatch`: the receipt answers another challenge
    /// than the one this acceptor holds (or one already answered).
    ChallengeMismatch,
    /// `receipt_instance_mismatch`: the receipt binds another instance key,
    /// or one where none may be, or none where one must be.
    InstanceMismatch,
    /// `receipt_previous_mismatch`: the receipt follows another receipt than
    /// the one this server holds.
    PreviousMismatch,
    /// `lease_expired`: the acceptor's clock is at or past `lease_until`.
    LeaseExpired {
        /// End of the lease.
        lease_until: Timestamp,
        /// The acceptor's time.
        now: Timestamp,
    },
    /// `revoked`: the revocation list the receipt delivers revokes the
    /// license, or the issuing key that signed it.
    Revoked {
        /// What the list revokes.
        revocation: Revocation,
        /// The list's sequence.
        sequence: u64,
    },
}

const SLOTS: usize = 11;

impl ReceiptCause {
    /// The stable snake_case code.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "receipt_malformed",
            Self::UnknownRootKey { .. } => "receipt_unknown_root_key",
            Self::BadSignature => "receipt_bad_signature",
            Self::NotReceiptKey { .. } => "receipt_key_not_certified",
            Self::KeyOutsideWindow { .. } => "receipt_key_outside_window",
            Self::LicenseMismatch { .. } => "receipt_license_mismatch",
            Self::ChallengeMismatch => "receipt_challenge_mismatch",
            Self::InstanceMismatch => "receipt_instance_mismatch",
            Self::PreviousMismatch => "receipt_previous_mismatch",
            Self::LeaseExpired { .. } => "lease_expired",
            Self::Revoked { .. } => "revoked",
        }
    }

    const fn slot(&self) -> usize {
        match self {
            Self::Malformed(_) => 0,
            Self::UnknownRootKey { .. } => 1,
            Self::BadSignature => 2,
            Self::NotReceiptKey { .. } => 3,
            Self::KeyOutsideWindow { .. } => 4,
            Self::LicenseMismatch { .. } => 5,
            Self::ChallengeMismatch => 6,
            Self::InstanceMismatch => 7,
            Self::PreviousMismatch => 8,
            Self::LeaseExpired { .. } => 9,
            Self::Revoked { .. } => 10,
        }
    }
}

impl fmt::Display for ReceiptCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "the activation receipt is malformed: {e}"),
            Self::UnknownRootKey { root_key_id } => {
                write!(f, "the activation receipt is certified by root key {root_key_id}, which this product does not trust")
            }
            Self::BadSignature => f.write_str("a signature of the activation receipt does not hold"),
            Self::NotReceiptKey { key_id, .. } => {
                write!(f, "key {key_id} that signed the activation receipt is not certified for receipts alone")
            }
            Self::KeyOutsideWindow { key_id, vendor_time, .. } => {
                write!(f, "receipt key {key_id} was not valid at the receipt's time {vendor_time}")
            }
            Self::LicenseMismatch { receipt, license } => {
                write!(f, "the activation receipt is for license {receipt} as issued, not for this license {license}")
            }
            Self::ChallengeMismatch => f.write_str(
                "the activation receipt answers another QR code, or one already used: activate again with the one shown",
            ),
            Self::InstanceMismatch => f.write_str("the activation receipt is for another authorization server instance"),
            Self::PreviousMismatch => f.write_str(
                "the activation receipt follows another receipt than the one this server holds: is another copy of the \
                 server running?",
            ),
            Self::LeaseExpired { lease_until, now } => write!(
                f,
                "the activation lease ended at {lease_until} (now {now}): the authorization server must be activated \
                 again"
            ),
            Self::Revoked { revocation, sequence } => {
                write!(f, "the revocation list delivered with the receipt (sequence {sequence}) revokes {revocation}")
            }
        }
    }
}

/// A refused receipt: every cause that could be known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptRejection {
    slots: [Option<ReceiptCause>; SLOTS],
}

impl ReceiptRejection {
    const fn new() -> Self {
        Self { slots: [None; SLOTS] }
    }

    fn push(&mut self, cause: ReceiptCause) {
        if let Some(slot) = self.slots.get_mut(cause.slot()) {
            *slot = Some(cause);
        }
    }

    fn single(cause: ReceiptCause) -> Self {
        let mut r = Self::new();
        r.push(cause);
        r
    }

    /// Every cause, in order.
    pub fn causes(&self) -> impl Iterator<Item = ReceiptCause> + '_ {
        self.slots.iter().flatten().copied()
    }

    /// The first cause.
    pub fn first(&self) -> Option<ReceiptCause> {
        self.causes().next()
    }
}

impl fmt::Display for ReceiptRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("activation receipt refused: ")?;
        for (i, c) in self.causes().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            c.fmt(f)?;
        }
        Ok(())
    }
}

impl core::error::Error for ReceiptRejection {}

/// A receipt that passed every rule asked of it. Only this module makes one,
/// wrapped in [`Verified`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AcceptedReceipt<'a> {
    /// The receipt.
    pub receipt: Receipt,
    /// Its id (SPEC.md §6.4): what the next challenge names as `previous_receipt`.
    pub id: [u8; 32],
    /// The receipt key that signed it.
    pub key_id: KeyId,
    /// The raw file (without armor).
    pub raw: &'a [u8],
    /// The revocation list it delivers, verified, when it carries one whose
    /// sequence is the receipt's `revocation_sequence` (§6.4: otherwise the
    /// list is ignored, never the receipt).
    pub revocations: Option<Verified<RevocationList<'a>>>,
}

/// Checks a receipt file, armored or raw, against `roots` and `expect`
/// (SPEC.md §6.4, "Accepting a receipt", rules 1 to 6). `buf` receives the
/// armor's body; [`fanlic_formats::receipt::MAX_RECEIPT_FILE_LEN`] bytes
/// hold any receipt.
#[allow(clippy::result_large_err, reason = "no allocator to box into: the rejection is returned on the stack")]
pub fn verify_receipt<'a>(
    input: &'a [u8],
    buf: &'a mut [u8],
    roots: &[RootKey],
    expect: &Expect<'_>,
) -> Result<Verified<AcceptedReceipt<'a>>, ReceiptRejection> {
    let raw = armor::decode_receipt(input, buf).map_err(|e| ReceiptRejection::single(ReceiptCause::Malformed(e)))?;
    verify_raw_receipt(raw, roots, expect)
}

/// [`verify_receipt`] of a raw receipt file (what an answer carries, §7.2).
#[allow(clippy::result_large_err, reason = "no allocator to box into: the rejection is returned on the stack")]
pub fn verify_raw_receipt<'a>(
    raw: &'a [u8],
    roots: &[RootKey],
    expect: &Expect<'_>,
) -> Result<Verified<AcceptedReceipt<'a>>, ReceiptRejection> {
    let envelope = ReceiptEnvelope::decode(raw).map_err(|e| ReceiptRejection::single(ReceiptCause::Malformed(e)))?;
    let mut r = ReceiptRejection::new();

    // Rule 1: root key → receipt key certificate.
    let certificate = IssuingKeyCertificate::decode(envelope.certificate.message)
        .map_err(|e| ReceiptRejection::single(ReceiptCause::Malformed(e)))?;
    let root = roots
        .iter()
        .find(|k| k.id == certificate.root_key_id)
        .ok_or(ReceiptRejection::single(ReceiptCause::UnknownRootKey { root_key_id: certificate.root_key_id }))?;
    if check_signature(&root.key, envelope.certificate.message, &envelope.certificate.signature).is_err() {
        return Err(ReceiptRejection::single(ReceiptCause::BadSignature));
    }
    let window_secs = certificate.not_after.0.saturating_sub(certificate.not_before.0);
    if !certificate.purposes.is_receipt_only() || window_secs > MAX_RECEIPT_KEY_WINDOW_SECS {
        r.push(ReceiptCause::NotReceiptKey {
            key_id: certificate.key_id,
            purposes: certificate.purposes.0,
            window_secs,
        });
    }

    // Rule 2: receipt key → receipt.
    let key = VerifyingKey::from_bytes(&certificate.public_key)
        .map_err(|_| ReceiptRejection::single(ReceiptCause::BadSignature))?;
    if check_signature(&key, envelope.receipt.message, &envelope.receipt.signature).is_err() {
        r.push(ReceiptCause::BadSignature);
        return Err(r);
    }
    let receipt = match Receipt::decode(envelope.receipt.message) {
        Ok(receipt) => receipt,
        Err(e) => {
            r.push(ReceiptCause::Malformed(e));
            return Err(r);
        }
    };
    if !certificate.may_sign_at(receipt.vendor_time) {
        r.push(ReceiptCause::KeyOutsideWindow {
            key_id: certificate.key_id,
            vendor_time: receipt.vendor_time,
            not_before: certificate.not_before,
            not_after: certificate.not_after,
        });
    }

    // Rule 3: this license, as issued.
    let license = expect.license;
    if receipt.license_id != license.id
        || receipt.license_sha256 != expect.license_sha256
        || receipt.max_nodes != license.max_nodes
    {
        r.push(ReceiptCause::LicenseMismatch { receipt: receipt.license_id, license: license.id });
    }
    // Rule 4: the challenge held.
    if let Some(challenge) = expect.challenge_sha256
        && receipt.challenge_sha256 != challenge
    {
        r.push(ReceiptCause::ChallengeMismatch);
    }
    // Rule 5: this instance, after this receipt.
    if receipt.instance_public_key != expect.instance_public_key {
        r.push(ReceiptCause::InstanceMismatch);
    }
    if let Some(previous) = expect.previous_receipt
        && receipt.previous_receipt != previous
    {
        r.push(ReceiptCause::PreviousMismatch);
    }
    // Rule 6: the lease, on the acceptor's clock.
    if let Some(lease_until) = receipt.lease_until
        && expect.now >= lease_until
    {
        r.push(ReceiptCause::LeaseExpired { lease_until, now: expect.now });
    }

    // The delivered list: one that does not verify, or is not the one the
    // receipt names, is ignored, never the receipt.
    let revocations = envelope
        .revocation_list
        .and_then(|bytes| verify_revocations(bytes, roots, None).ok())
        .filter(|list| list.sequence() == receipt.revocation_sequence);
    if let Some(list) = &revocations
        && let Some(revocation) = Revocation::by(list, license.id, expect.issuing_key_id)
    {
        r.push(ReceiptCause::Revoked { revocation, sequence: list.sequence() });
    }

    if r.causes().next().is_some() {
        return Err(r);
    }
    Ok(Verified(AcceptedReceipt {
        receipt,
        id: receipt_id(envelope.receipt.message),
        key_id: certificate.key_id,
        raw,
        revocations,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
    use std::{vec, vec::Vec};

    use ed25519_dalek::{Signer as _, SigningKey};
    use fanlic_formats::{
        ActivationPolicy, LicenseKind, SignedBody, encode_certificate_body, encode_instance_certificate,
        encode_license_file, encode_license_payload_with_policy, encode_receipt_body, encode_receipt_file,
        encode_revocation_file, encode_revocation_list_body, encode_server_answer,
        encode_server_answer_file_with_receipt,
        private_cloud::{AnswerKind, InstanceCertificate, ServerAnswer},
        receipt::MAX_RECEIPT_FILE_LEN,
        wire,
    };

    use super::*;
    use crate::{
        Environment,
        activation::{Activation, ActivationKey, ChallengeInput, CodeError, make_challenge_after},
        authenticate_raw,
        private_cloud::{Request, verify_server_answer},
    };

    const T0: u64 = 1_790_000_000;
    const LICENSE: LicenseId = LicenseId([7; 16]);
    const ACTIVATION_KEY: [u8; 32] = [0x42; 32];

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }
    fn public(k: &SigningKey) -> [u8; 32] {
        k.verifying_key().to_bytes()
    }
    fn sign(k: &SigningKey, m: &[u8]) -> [u8; 64] {
        k.sign(m).to_bytes()
    }

    fn certificate(root: &SigningKey, signer: &SigningKey, purposes: u32, days: u64) -> (Vec<u8>, [u8; 64]) {
        let msg = encode_certificate_body(&wire::CertificateBody {
            root_key_id: KeyId::of(&public(root)).0,
            key_id: KeyId::of(&public(signer)).0,
            public_key: public(signer),
            not_before: T0 - 86_400,
            not_after: T0 - 86_400 + days * 86_400,
            purposes,
        })
        .unwrap();
        let sig = sign(root, &msg);
        (msg, sig)
    }

    /// A receipt-policy license (root 1, issuing key 2, image key 3).
    fn license_file(kind: wire::Kind) -> Vec<u8> {
        let (root, issuing) = (key(1), key(2));
        let (cert, cert_sig) = certificate(&root, &issuing, 0x7, 365);
        let payload = encode_license_payload_with_policy(
            &wire::LicensePayload {
                license_id: LICENSE.0,
                kind,
                app_name: "FineBI",
                company: "Example Co.",
                project: "webroot",
                contract_signed: wire::Date { year: 2026, month: 1, day: 1 },
                issued_at: T0 - 3600,
                not_before: T0 - 3600,
                expiry: wire::Expiry::Never,
                version: wire::Version { major: 6, minor: 1 },
                max_nodes: 3,
                activation_key: Some(challenge_key(&ACTIVATION_KEY)),
                activation_base_url: Some("https://vendor.example/a"),
                image_public_key: Some(public(&key(3))),
                supersedes: None,
                request_email_sha256: None,
            },
            ActivationPolicy::Receipt,
        )
        .unwrap();
        encode_license_file(&cert, &cert_sig, &payload, &sign(&issuing, &payload)).unwrap()
    }

    struct Vendor {
        root: SigningKey,
        receipt_key: SigningKey,
        purposes: u32,
        days: u64,
        list: Option<Vec<u8>>,
    }

    impl Vendor {
        fn new() -> Self {
            Self { root: key(1), receipt_key: key(8), purposes: 0x8, days: 30, list: None }
        }

        fn roots(&self) -> [RootKey; 1] {
            [RootKey::from_bytes(&public(&self.root)).unwrap()]
        }

        fn sign_receipt(&self, receipt: &Receipt) -> Vec<u8> {
            let (cert, cert_sig) = certificate(&self.root, &self.receipt_key, self.purposes, self.days);
            let msg = encode_receipt_body(receipt).unwrap();
            encode_receipt_file(
                SignedBody { message: &cert, signature: cert_sig },
                SignedBody { message: &msg, signature: sign(&self.receipt_key, &msg) },
                self.list.as_deref(),
            )
            .unwrap()
        }

        /// A revocation list of `sequence` by issuing key 2 (purpose 0x4 granted above).
        fn with_list(mut self, sequence: u64, revoked: &[LicenseId]) -> Self {
            let issuing = key(2);
            let (cert, cert_sig) = certificate(&self.root, &issuing, 0x7, 365);
            let body = encode_revocation_list_body(sequence, Timestamp(T0), revoked, &[]).unwrap();
            self.list = Some(encode_revocation_file(&cert, &cert_sig, &body, &sign(&issuing, &body)).unwrap());
            self
        }
    }

    fn receipt(
        challenge: [u8; 32],
        instance: Option<[u8; 32]>,
        previous: Option<[u8; 32]>,
        lease: Option<u64>,
    ) -> Receipt {
        Receipt::new(
            LICENSE,
            sha256(&license_file(wire::Kind::LocalContainer)),
            challenge,
            instance,
            previous,
            Timestamp(T0),
            lease.map(Timestamp),
            3,
            0,
        )
        .unwrap()
    }

    fn check(
        vendor: &Vendor,
        file: &[u8],
        expect_challenge: [u8; 32],
        instance: Option<[u8; 32]>,
    ) -> Vec<&'static str> {
        let raw = license_file(wire::Kind::LocalContainer);
        let signed = authenticate_raw(&raw, &vendor.roots()).unwrap();
        let expect = Expect {
            license: &signed.license,
            license_sha256: sha256(&raw),
            issuing_key_id: signed.certificate.key_id,
            challenge_sha256: Some(expect_challenge),
            instance_public_key: instance,
            previous_receipt: None,
            now: Timestamp(T0 + 10),
        };
        let mut buf = vec![0u8; MAX_RECEIPT_FILE_LEN];
        match verify_receipt(file, &mut buf, &vendor.roots(), &expect) {
            Ok(_) => vec![],
            Err(r) => r.causes().map(|c| c.code()).collect(),
        }
    }

    #[test]
    fn challenge_key_is_hmac_of_the_label() {
        // Recomputed with OpenSSL: printf 'fanlic/1/challenge-key\n' | openssl mac -digest SHA256
        // -macopt hexkey:4242…42 HMAC (the vectors in fixtures/vectors/receipts/ are checked in CI).
        let k = challenge_key(&ACTIVATION_KEY);
        assert_ne!(k, ACTIVATION_KEY);
        assert_eq!(k, challenge_key(&ACTIVATION_KEY));
    }

    #[test]
    fn a_receipt_for_the_challenge_is_accepted_armored_or_raw() {
        let v = Vendor::new();
        let file = v.sign_receipt(&receipt([5; 32], None, None, None));
        assert_eq!(check(&v, &file, [5; 32], None), Vec::<&str>::new());
        let armored = armor::encode_receipt(&file, &["# receipt"]).unwrap();
        assert_eq!(check(&v, armored.as_bytes(), [5; 32], None), Vec::<&str>::new());
    }

    #[test]
    fn every_binding_is_checked_and_reported_together() {
        let v = Vendor::new();
        let file = v.sign_receipt(&receipt([6; 32], Some([1; 32]), Some([2; 32]), Some(T0 + 5)));
        assert_eq!(
            check(&v, &file, [5; 32], None),
            ["receipt_challenge_mismatch", "receipt_instance_mismatch", "lease_expired"]
        );
    }

    #[test]
    fn only_a_short_lived_receipts_only_key_signs_receipts() {
        let mut v = Vendor::new();
        v.purposes = 0x8 | 0x1; // also local-container licenses
        let file = v.sign_receipt(&receipt([5; 32], None, None, None));
        assert_eq!(check(&v, &file, [5; 32], None), ["receipt_key_not_certified"]);
        let mut v = Vendor::new();
        v.days = 40;
        let file = v.sign_receipt(&receipt([5; 32], None, None, None));
        assert_eq!(check(&v, &file, [5; 32], None), ["receipt_key_not_certified"]);
        let mut v = Vendor::new();
        v.purposes = 0x8 | (1 << 30); // reserved bits grant nothing and take nothing away
        let file = v.sign_receipt(&receipt([5; 32], None, None, None));
        assert_eq!(check(&v, &file, [5; 32], None), Vec::<&str>::new());
    }

    #[test]
    fn signatures_and_roots_hide_the_rest() {
        let v = Vendor::new();
        let mut file = v.sign_receipt(&receipt([6; 32], Some([1; 32]), None, None));
        let last = file.len() - 1 - 1; // inside the receipt's signature (the list tag 0x00 ends the file)
        file[last] ^= 1;
        assert_eq!(check(&v, &file, [5; 32], None), ["receipt_bad_signature"]);
        let stranger = Vendor { root: key(9), ..Vendor::new() };
        let file = stranger.sign_receipt(&receipt([5; 32], None, None, None));
        assert_eq!(check(&v, &file, [5; 32], None), ["receipt_unknown_root_key"]);
        assert_eq!(check(&v, b"FANLIC-RECEIPT/1\n", [5; 32], None), ["receipt_malformed"]);
    }

    #[test]
    fn the_delivered_list_revokes_or_is_ignored() {
        let v = Vendor::new().with_list(4, &[LICENSE]);
        let mut r = receipt([5; 32], None, None, None).to_wire();
        r.revocation_sequence = 4;
        let file = v.sign_receipt(&Receipt::from_wire(&r).unwrap());
        assert_eq!(check(&v, &file, [5; 32], None), ["revoked"]);
        // A list that is not the one the receipt names is ignored, not the receipt.
        r.revocation_sequence = 5;
        let file = v.sign_receipt(&Receipt::from_wire(&r).unwrap());
        assert_eq!(check(&v, &file, [5; 32], None), Vec::<&str>::new());
    }

    #[test]
    fn a_product_accepts_a_receipt_once_and_never_a_code() {
        let raw = license_file(wire::Kind::LocalContainer);
        let v = Vendor::new();
        let signed = authenticate_raw(&raw, &v.roots()).unwrap();
        let input = ChallengeInput {
            nonce: [1; 16],
            node_id: [2; 16],
            project_fingerprint: [3; 32],
            nodes: 1,
            app_version: "6.1.3",
            now: Timestamp(T0),
            server: None,
        };
        let key = ActivationKey::from_bytes(signed.license.activation_key.unwrap());
        let challenge = make_challenge_after(LICENSE, &key, &input, None).unwrap();
        let mut a = Activation::new();
        a.set_receipt_challenge(&challenge);
        // The holder can compute the MAC's "code", but a code is never accepted.
        let code = std::format!("{:06}", challenge.code().value());
        assert_eq!(a.enter(&code, Timestamp(T0 + 1)), Err(CodeError::ReceiptRequired));
        let now = Timestamp(T0 + 10);
        let sha = a.pending_challenge_sha256(now).unwrap();
        assert_eq!(sha, challenge.token_sha256());
        let file = v.sign_receipt(&receipt(sha, None, None, None));
        let expect = Expect {
            license: &signed.license,
            license_sha256: sha256(&raw),
            issuing_key_id: signed.certificate.key_id,
            challenge_sha256: Some(sha),
            instance_public_key: None,
            previous_receipt: None,
            now,
        };
        let mut buf = vec![0u8; MAX_RECEIPT_FILE_LEN];
        let accepted = verify_receipt(&file, &mut buf, &v.roots(), &expect).unwrap();
        assert_eq!(a.accept_receipt(&accepted, now), Ok(now));
        // Once: the challenge is used up.
        assert_eq!(a.accept_receipt(&accepted, now), Err(CodeError::NoChallenge));
        assert_eq!(a.pending_challenge_sha256(now), None);
        // Also across a save and a restore: the restored state has nothing pending.
        let mut restored = Activation::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(restored.accept_receipt(&accepted, now), Err(CodeError::NoChallenge));
        assert!(matches!(restored.status(now), crate::activation::Status::Activated { .. }));
    }

    #[test]
    fn an_application_accepts_only_a_receipted_instance_within_its_lease() {
        let raw = license_file(wire::Kind::PrivateCloud);
        let (image, instance, other) = (key(3), key(4), key(5));
        let v = Vendor::new();
        let cert = InstanceCertificate::from_wire(&fanlic_formats::private_cloud::wire::InstanceCertificateBody {
            license_id: LICENSE.0,
            image_key_id: KeyId::of(&public(&image)).0,
            instance_public_key: public(&instance),
            created_at: T0 - 3600,
        })
        .unwrap();
        let cert_msg = encode_instance_certificate(&cert).unwrap();
        let request = Request { kind: AnswerKind::Heartbeat, node_id: [9; 16], nonce: [1; 16] };
        let answer = ServerAnswer::from_wire(&fanlic_formats::private_cloud::wire::ServerAnswerBody {
            license_id: LICENSE.0,
            kind: AnswerKind::Heartbeat,
            node_id: [9; 16],
            nonce: [1; 16],
            at: T0 + 100,
            valid_until: T0 + 100 + 86_400,
            nodes: 1,
        })
        .unwrap();
        let answer_msg = encode_server_answer(&answer).unwrap();
        let file_with = |receipt: Option<&[u8]>| {
            encode_server_answer_file_with_receipt(
                &raw,
                &cert_msg,
                &sign(&image, &cert_msg),
                &answer_msg,
                &sign(&instance, &answer_msg),
                receipt,
            )
            .unwrap()
        };
        let env = Environment {
            app_name: "FineBI",
            version: "6.1.3",
            project: "webroot",
            nodes: 1,
            method: LicenseKind::PrivateCloud,
            now: Timestamp(T0 + 200),
            last_seen: None,
        };
        let codes = |file: &[u8], now: u64| -> Vec<&'static str> {
            match verify_server_answer(file, &v.roots(), &Environment { now: Timestamp(now), ..env }, &request, None) {
                Ok(_) => vec![],
                Err(r) => r.causes().map(|c| c.code()).collect(),
            }
        };
        let receipted = |instance_key: [u8; 32], lease: u64| {
            let mut r = receipt([5; 32], Some(instance_key), None, Some(lease)).to_wire();
            r.license_sha256 = sha256(&raw);
            v.sign_receipt(&Receipt::from_wire(&r).unwrap())
        };
        assert_eq!(codes(&file_with(None), T0 + 200), ["receipt_missing"]);
        let good = file_with(Some(&receipted(public(&instance), T0 + 10_000)));
        assert_eq!(codes(&good, T0 + 200), Vec::<&str>::new());
        let accepted = verify_server_answer(&good, &v.roots(), &env, &request, None).unwrap();
        assert_eq!(accepted.lease_until, Some(Timestamp(T0 + 10_000)));
        // The lease is judged on the application's clock, whatever the server's.
        assert_eq!(codes(&good, T0 + 10_000), ["lease_expired"]);
        // A receipt for another instance (a clone that copied the receipt) is refused.
        let copied = file_with(Some(&receipted(public(&other), T0 + 10_000)));
        assert_eq!(codes(&copied, T0 + 200), ["receipt_instance_mismatch"]);

        // The node's registration ends with the lease, not 24 hours after
        // the last answer (regression: an answer accepted just before the
        // lease ended carried the node a day past it).
        let mut client = crate::private_cloud::Client::new([9; 16]);
        let _ = client.request(AnswerKind::Heartbeat, [1; 16], Timestamp(T0 + 200));
        let status = client.on_answer(&good, &v.roots(), &env).unwrap();
        assert_eq!(status, crate::private_cloud::Status::Registered { valid_until: Timestamp(T0 + 10_000), nodes: 1 });
        assert_eq!(client.status(Timestamp(T0 + 9_999)), status);
        assert_eq!(
            client.status(Timestamp(T0 + 10_000)),
            crate::private_cloud::Status::Failed { since: Timestamp(T0 + 10_000) }
        );
    }
}
