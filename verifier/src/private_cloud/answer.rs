//! Checking a server answer (SPEC.md §7.2): every failing cause that can
//! be known, along root key → issuing key → server license → image key →
//! instance key.

use core::fmt;

use fanlic_formats::{
    ActivationPolicy, DecodeError, KeyId, License, LicenseId, LicenseKind, RevocationList, Timestamp,
    private_cloud::{AnswerKind, InstanceCertificate, ServerAnswer, ServerAnswerEnvelope},
};

use super::{Hex, Request, signature_holds};
use crate::{
    CLOCK_TOLERANCE_SECS, Cause, Causes, Environment, RootKey, Verified, authenticate_raw, check_with_revocations,
    receipt::{Expect, ReceiptCause, sha256, verify_raw_receipt},
};

/// An answer that passed every rule of SPEC.md §7.2. Only this module makes
/// one, wrapped in [`Verified`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AcceptedAnswer {
    /// The server license.
    pub license_id: LicenseId,
    /// The instance key that signed the answer (the one to pin).
    pub instance_public_key: [u8; 32],
    /// What happened.
    pub kind: AnswerKind,
    /// The node that asked.
    pub node_id: [u8; 16],
    /// The server's time when it answered.
    pub at: Timestamp,
    /// Until when the registration holds without another answer.
    pub valid_until: Timestamp,
    /// Nodes registered with the server now.
    pub nodes: u32,
    /// Under receipt policy: the end of the re-activation lease the server's
    /// receipt names, if any (SPEC.md §7.2 rule 6).
    pub lease_until: Option<Timestamp>,
}

/// Which part of a server answer file did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnswerPart {
    /// The file itself: length, magic, encoding (SPEC.md §7.2).
    File,
    /// The instance certificate's body, after its signature held (§7.1).
    InstanceCertificate,
    /// The answer's body, after its signature held (§7.2).
    Answer,
}

impl AnswerPart {
    const fn as_str(self) -> &'static str {
        match self {
            Self::File => "the server answer file",
            Self::InstanceCertificate => "the instance certificate",
            Self::Answer => "the answer",
        }
    }
}

/// One reason an answer is refused (SPEC.md §7.2, §7.5). The order of the
/// variants is the order they are reported in: along the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnswerCause<'a> {
    /// `malformed_answer`: a part does not decode. For the file, nothing else
    /// is evaluated; for a signed part, nothing it says.
    Malformed {
        /// Which part.
        part: AnswerPart,
        /// Which rule it breaks.
        error: DecodeError,
    },
    /// Rule 1: the server license fails SPEC.md §4 with the product's root
    /// keys and environment and `method` = private-cloud. One of its causes
    /// (§4.2), with its own code; `content_incorrect` is alone, and then
    /// nothing below the license is evaluated.
    License(Cause<'a>),
    /// `no_image_key`: the server license has no `image_public_key` ("whose
    /// `image_public_key` MUST be present", §7.1), so nothing can certify an
    /// instance key.
    NoImageKey {
        /// The server license.
        license_id: LicenseId,
    },
    /// `bad_signature`: the instance certificate's signature does not hold
    /// under the license's image key, or the answer's under the certified
    /// instance key. Deliberately says no more.
    BadSignature,
    /// `certificate_license_mismatch`: the instance certificate is for
    /// another license (§7.1, "`license_id` is the server license's id").
    CertificateLicenseMismatch {
        /// The certificate's license id.
        certificate: LicenseId,
        /// The server license's id.
        license: LicenseId,
    },
    /// `image_key_id_mismatch`: the certificate's `image_key_id` is not the
    /// key id of the license's `image_public_key` (§7.1).
    ImageKeyIdMismatch {
        /// The id the certificate names.
        certificate: KeyId,
        /// The id of the license's image key.
        image_key: KeyId,
    },
    /// `instance_key_changed`: another instance key than the one pinned
    /// (rule 3): a copy of the server, or a new instance.
    InstanceKeyChanged {
        /// Key id of the pinned instance key.
        pinned: KeyId,
        /// Key id of the key this answer's certificate names.
        presented: KeyId,
    },
    /// `answer_license_mismatch`: the answer names another license than the
    /// server license it carries (rule 4).
    AnswerLicenseMismatch {
        /// The answer's license id.
        answer: LicenseId,
        /// The server license's id.
        license: LicenseId,
    },
    /// `kind_mismatch`: the answer is not what was asked for (rule 4).
    KindMismatch {
        /// What the request asked.
        asked: AnswerKind,
        /// What the answer says.
        answered: AnswerKind,
    },
    /// `node_mismatch`: the answer is for another node (rule 4).
    NodeMismatch {
        /// This node.
        asked: [u8; 16],
        /// The node the answer names.
        answered: [u8; 16],
    },
    /// `nonce_mismatch`: the answer echoes another nonce than the request's
    /// (rule 4): an old answer replayed, or one for another request.
    NonceMismatch,
    /// `answer_expired`: `now >= valid_until` (rule 5).
    Expired {
        /// Until when the answer held.
        valid_until: Timestamp,
        /// The product's time.
        now: Timestamp,
    },
    /// `answer_from_future`: `at > now + 300` (rule 5): the server's clock,
    /// or this one, is wrong.
    FromTheFuture {
        /// The server's time in the answer.
        at: Timestamp,
        /// The product's time.
        now: Timestamp,
        /// Allowed difference.
        tolerance_secs: u64,
    },
    /// `receipt_missing`: the server license is under receipt policy and the
    /// answer carries no receipt (rule 6): the server was never activated by
    /// the vendor, or is a copy that was not.
    ReceiptMissing,
    /// The answer's receipt fails SPEC.md §6.4 (rule 6): its first cause
    /// other than `lease_expired`, with that cause's own code.
    Receipt(ReceiptCause),
    /// `lease_expired`: the receipt's `lease_until` has passed on this
    /// product's clock (rule 6): the server must be activated again.
    LeaseExpired {
        /// End of the lease.
        lease_until: Timestamp,
        /// The product's time.
        now: Timestamp,
    },
    /// `unrequested`: the client has no request outstanding (§7.5), so the
    /// answer cannot be one: it is not evaluated.
    Unrequested,
}

/// Slots of [`AnswerCause`]s other than the license's.
const SLOTS: usize = 16;

impl AnswerCause<'_> {
    /// The stable snake_case code; for [`AnswerCause::License`], the
    /// license cause's own code (§4.2).
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "malformed_answer",
            Self::License(c) => c.code(),
            Self::NoImageKey { .. } => "no_image_key",
            Self::BadSignature => "bad_signature",
            Self::CertificateLicenseMismatch { .. } => "certificate_license_mismatch",
            Self::ImageKeyIdMismatch { .. } => "image_key_id_mismatch",
            Self::InstanceKeyChanged { .. } => "instance_key_changed",
            Self::AnswerLicenseMismatch { .. } => "answer_license_mismatch",
            Self::KindMismatch { .. } => "kind_mismatch",
            Self::NodeMismatch { .. } => "node_mismatch",
            Self::NonceMismatch => "nonce_mismatch",
            Self::Expired { .. } => "answer_expired",
            Self::FromTheFuture { .. } => "answer_from_future",
            Self::ReceiptMissing => "receipt_missing",
            Self::Receipt(c) => c.code(),
            Self::LeaseExpired { .. } => "lease_expired",
            Self::Unrequested => "unrequested",
        }
    }

    /// `None` for [`AnswerCause::License`], which has its own slots.
    const fn slot(&self) -> Option<usize> {
        Some(match self {
            Self::Malformed { .. } => 0,
            Self::License(_) => return None,
            Self::NoImageKey { .. } => 1,
            Self::BadSignature => 2,
            Self::CertificateLicenseMismatch { .. } => 3,
            Self::ImageKeyIdMismatch { .. } => 4,
            Self::InstanceKeyChanged { .. } => 5,
            Self::AnswerLicenseMismatch { .. } => 6,
            Self::KindMismatch { .. } => 7,
            Self::NodeMismatch { .. } => 8,
            Self::NonceMismatch => 9,
            Self::Expired { .. } => 10,
            Self::FromTheFuture { .. } => 11,
            Self::ReceiptMissing => 12,
            Self::Receipt(_) => 13,
            Self::LeaseExpired { .. } => 14,
            Self::Unrequested => 15,
        })
    }
}

const fn kind_str(kind: AnswerKind) -> &'static str {
    match kind {
        AnswerKind::Registered => "registered",
        AnswerKind::Heartbeat => "heartbeat",
        AnswerKind::Deregistered => "deregistered",
    }
}

impl fmt::Display for AnswerCause<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { part, error } => write!(f, "{} is malformed: {error}", part.as_str()),
            Self::License(c) => write!(f, "The server license: {c}"),
            Self::NoImageKey { license_id } => {
                write!(f, "the server license {license_id} has no image key: it cannot run an authorization server")
            }
            Self::BadSignature => f.write_str("a signature of the authorization server does not hold"),
            Self::CertificateLicenseMismatch { certificate, license } => {
                write!(f, "the instance certificate is for license {certificate}, but the server license is {license}")
            }
            Self::ImageKeyIdMismatch { certificate, image_key } => write!(
                f,
                "the instance certificate names image key {certificate}, but the license's image key is {image_key}"
            ),
            Self::InstanceKeyChanged { pinned, presented } => write!(
                f,
                "answered by instance key {presented}, but this product is bound to instance {pinned}: another copy of \
                 the authorization server?"
            ),
            Self::AnswerLicenseMismatch { answer, license } => {
                write!(f, "the answer is for license {answer}, but the server license is {license}")
            }
            Self::KindMismatch { asked, answered } => {
                write!(f, "asked for {}, but the answer says {}", kind_str(*asked), kind_str(*answered))
            }
            Self::NodeMismatch { asked, answered } => {
                write!(f, "the answer is for node {}, not this node {}", Hex(answered), Hex(asked))
            }
            Self::NonceMismatch => {
                f.write_str("the answer is not for this request (another nonce): an old answer replayed?")
            }
            Self::Expired { valid_until, now } => {
                write!(f, "the answer held until {valid_until}; it is now {now}")
            }
            Self::FromTheFuture { at, now, .. } => write!(
                f,
                "the server's time {at} is ahead of this node's {now} by more than 300 seconds: check the clocks"
            ),
            Self::ReceiptMissing => f.write_str(
                "the server license needs a receipt from the vendor and the authorization server has none: activate \
                 it through the vendor's service",
            ),
            Self::Receipt(c) => c.fmt(f),
            Self::LeaseExpired { lease_until, now } => write!(
                f,
                "the authorization server's activation lease ended at {lease_until} (now {now}): activate it again"
            ),
            Self::Unrequested => f.write_str("no request is outstanding: an answer nobody asked for"),
        }
    }
}

/// A refused answer: every cause that could be known, along the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnswerRejection<'a> {
    license: Option<License<'a>>,
    license_causes: Causes<'a>,
    slots: [Option<AnswerCause<'a>>; SLOTS],
}

impl<'a> AnswerRejection<'a> {
    const fn new() -> Self {
        Self { license: None, license_causes: Causes::new(), slots: [None; SLOTS] }
    }

    fn push(&mut self, cause: AnswerCause<'a>) {
        match (cause, cause.slot()) {
            (AnswerCause::License(c), _) => self.license_causes.push(c),
            (_, Some(i)) => {
                if let Some(slot) = self.slots.get_mut(i) {
                    *slot = Some(cause);
                }
            }
            (_, None) => {}
        }
    }

    pub(super) fn single(cause: AnswerCause<'a>) -> Self {
        let mut r = Self::new();
        r.push(cause);
        r
    }

    fn is_empty(&self) -> bool {
        self.license_causes.is_empty() && self.slots.iter().all(Option::is_none)
    }

    /// The server license, when its signatures held (its claims are the
    /// vendor's even if it fails the product's environment).
    pub fn license(&self) -> Option<&License<'a>> {
        self.license.as_ref()
    }

    /// Every cause, in order: the file, the license's causes (§4.2 order),
    /// then along the chain image key → instance certificate → answer.
    pub fn causes(&self) -> impl Iterator<Item = AnswerCause<'a>> + '_ {
        let (head, tail) = self.slots.split_at(1);
        head.iter()
            .flatten()
            .copied()
            .chain(self.license_causes.iter().copied().map(AnswerCause::License))
            .chain(tail.iter().flatten().copied())
    }
}

impl fmt::Display for AnswerRejection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("answer of the authorization server refused: ")?;
        for (i, c) in self.causes().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            c.fmt(f)?;
        }
        Ok(())
    }
}

impl core::error::Error for AnswerRejection<'_> {}

/// Checks a server answer file against what the product asked (SPEC.md
/// §7.2). "A product MUST accept an answer only if all of these hold":
///
/// 1. the server license verifies (§4) with `roots` and `env`, with `method`
///    = private-cloud (whatever `env.method` says), and has an
///    `image_public_key`;
/// 2. the instance certificate verifies as in §7.1 (signature by the image
///    key, `license_id` and `image_key_id` match);
/// 3. the answer's signature verifies with the instance key, and that key is
///    `pinned_instance_key` when one is given;
/// 4. the answer's `license_id` is the server license's, and `node_id`,
///    `nonce` and `kind` are those of `request`;
/// 5. `now < valid_until` and `at <= now + 300` (`now` is `env.now`).
///
/// Every failing cause that can be known is reported together. A signature
/// that fails ends the evaluation of what that key signs: a license whose
/// signatures fail is `content_incorrect` alone; a bad instance certificate
/// signature hides the certificate and the answer; a bad answer signature
/// hides the answer.
#[allow(clippy::result_large_err, reason = "no allocator to box into: the rejection is returned on the stack")]
pub fn verify_server_answer<'a>(
    file: &'a [u8],
    roots: &[RootKey],
    env: &Environment<'a>,
    request: &Request,
    pinned_instance_key: Option<&[u8; 32]>,
) -> Result<Verified<AcceptedAnswer>, AnswerRejection<'a>> {
    verify_server_answer_with_revocations(file, roots, env, request, pinned_instance_key, None)
}

/// [`verify_server_answer`], with the server license also checked against a
/// verified revocation list (cause `revoked`, SPEC.md §5).
#[allow(clippy::result_large_err, reason = "no allocator to box into: the rejection is returned on the stack")]
pub fn verify_server_answer_with_revocations<'a>(
    file: &'a [u8],
    roots: &[RootKey],
    env: &Environment<'a>,
    request: &Request,
    pinned_instance_key: Option<&[u8; 32]>,
    revocations: Option<&Verified<RevocationList<'_>>>,
) -> Result<Verified<AcceptedAnswer>, AnswerRejection<'a>> {
    let mut r = AnswerRejection::new();
    let envelope = ServerAnswerEnvelope::decode(file)
        .map_err(|error| AnswerRejection::single(AnswerCause::Malformed { part: AnswerPart::File, error }))?;

    // Rule 1: root key → issuing key → server license.
    let signed = authenticate_raw(envelope.license, roots)
        .map_err(|e| AnswerRejection::single(AnswerCause::License(Cause::ContentIncorrect(e))))?;
    let license = signed.license;
    let issuing_key_id = signed.certificate.key_id;
    r.license = Some(license);
    let env = Environment { method: LicenseKind::PrivateCloud, ..*env };
    if let Err(rejection) = check_with_revocations(signed, &env, revocations) {
        rejection.causes().for_each(|c| r.push(AnswerCause::License(*c)));
    }

    // Rule 2: server license → image key → instance certificate.
    let Some(image_key) = license.image_public_key else {
        r.push(AnswerCause::NoImageKey { license_id: license.id });
        return Err(r);
    };
    let cert = envelope.instance_certificate;
    if !signature_holds(&image_key, cert.message, &cert.signature) {
        r.push(AnswerCause::BadSignature);
        return Err(r);
    }
    let certificate = match InstanceCertificate::decode(cert.message) {
        Ok(c) => c,
        Err(error) => {
            r.push(AnswerCause::Malformed { part: AnswerPart::InstanceCertificate, error });
            return Err(r);
        }
    };
    if certificate.license_id != license.id {
        r.push(AnswerCause::CertificateLicenseMismatch { certificate: certificate.license_id, license: license.id });
    }
    let image_key_id = KeyId::of(&image_key);
    if certificate.image_key_id != image_key_id {
        r.push(AnswerCause::ImageKeyIdMismatch { certificate: certificate.image_key_id, image_key: image_key_id });
    }

    // Rule 3: instance key → answer.
    let instance_key = certificate.instance_public_key;
    if let Some(pinned) = pinned_instance_key
        && *pinned != instance_key
    {
        r.push(AnswerCause::InstanceKeyChanged { pinned: KeyId::of(pinned), presented: KeyId::of(&instance_key) });
    }
    let signed_answer = envelope.answer;
    if !signature_holds(&instance_key, signed_answer.message, &signed_answer.signature) {
        r.push(AnswerCause::BadSignature);
        return Err(r);
    }
    let answer = match ServerAnswer::decode(signed_answer.message) {
        Ok(a) => a,
        Err(error) => {
            r.push(AnswerCause::Malformed { part: AnswerPart::Answer, error });
            return Err(r);
        }
    };

    // Rule 4: the answer is to this request.
    if answer.license_id != license.id {
        r.push(AnswerCause::AnswerLicenseMismatch { answer: answer.license_id, license: license.id });
    }
    if answer.kind != request.kind {
        r.push(AnswerCause::KindMismatch { asked: request.kind, answered: answer.kind });
    }
    if answer.node_id != request.node_id {
        r.push(AnswerCause::NodeMismatch { asked: request.node_id, answered: answer.node_id });
    }
    if answer.nonce != request.nonce {
        r.push(AnswerCause::NonceMismatch);
    }

    // Rule 5: fresh.
    if env.now >= answer.valid_until {
        r.push(AnswerCause::Expired { valid_until: answer.valid_until, now: env.now });
    }
    if answer.at.0 > env.now.0.saturating_add(CLOCK_TOLERANCE_SECS) {
        r.push(AnswerCause::FromTheFuture { at: answer.at, now: env.now, tolerance_secs: CLOCK_TOLERANCE_SECS });
    }

    // Rule 6: under receipt policy, an instance key the vendor receipted,
    // within its lease on this product's clock.
    let mut lease_until = None;
    if license.activation_policy == ActivationPolicy::Receipt {
        match envelope.receipt {
            None => r.push(AnswerCause::ReceiptMissing),
            Some(raw) => {
                let expect = Expect {
                    license: &license,
                    license_sha256: sha256(envelope.license),
                    issuing_key_id,
                    challenge_sha256: None,
                    instance_public_key: Some(instance_key),
                    previous_receipt: None,
                    now: env.now,
                };
                match verify_raw_receipt(raw, roots, &expect) {
                    Ok(accepted) => lease_until = accepted.receipt.lease_until,
                    Err(rejection) => {
                        for cause in rejection.causes() {
                            match cause {
                                ReceiptCause::LeaseExpired { lease_until, now } => {
                                    r.push(AnswerCause::LeaseExpired { lease_until, now });
                                }
                                other if !r.slots.iter().any(|s| matches!(s, Some(AnswerCause::Receipt(_)))) => {
                                    r.push(AnswerCause::Receipt(other));
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
    }

    if !r.is_empty() {
        return Err(r);
    }
    Ok(Verified(AcceptedAnswer {
        lease_until,
        license_id: license.id,
        instance_public_key: instance_key,
        kind: answer.kind,
        node_id: answer.node_id,
        at: answer.at,
        valid_until: answer.valid_until,
        nodes: answer.nodes,
    }))
}
