//! The product's side of the container private cloud (SPEC.md §7): checking
//! the authorization server's answers, and the client that registers and
//! sends heartbeats, no_std and allocation-free; and, with feature `alloc`,
//! checking a `privateConfig` file.
//!
//! "A product MUST accept an answer only if all of these hold, along root key
//! → issuing key → server license → image key → instance key" (SPEC.md
//! §7.2): [`verify_server_answer`] checks the five rules and reports every
//! failing cause that can be known together; a signature that fails ends the
//! evaluation of everything signed by that key. [`Client`] is the state
//! machine of SPEC.md §7.3 and §7.5: register at start, a heartbeat every
//! 7200 seconds, and "the product's registration **fails** when `now >=
//! valid_until` of its last accepted answer". Time is always given by the
//! caller.
//!
//! ```
//! # use fanlic_verifier::{Environment, RootKey, private_cloud::{Client, Next}};
//! # use fanlic_formats::{LicenseKind, Timestamp, private_cloud::AnswerKind};
//! # use fanlic_verifier::private_cloud::RequestKey;
//! # fn send(_: &fanlic_verifier::private_cloud::Request, _: &[u8], _auth: &str) -> Option<Vec<u8>> { None }
//! # fn demo(roots: &[RootKey], env: &Environment<'_>, node_id: [u8; 16], nonce: [u8; 16], key: &RequestKey) {
//! let mut client = Client::new(node_id);
//! let kind = match client.next(env.now) {
//!     Next::Register => AnswerKind::Registered,
//!     Next::Heartbeat => AnswerKind::Heartbeat,
//!     Next::RegistrationFailed { since } => return println!("no feedback within 24 hours (since {since})"),
//!     Next::Wait { until } => return println!("nothing to do before {until}"),
//!     _ => return,
//! };
//! let request = client.request(kind, nonce, env.now);
//! // The JSON body (SPEC.md §7.3) is the product's; the join secret's MAC
//! // covers its exact bytes.
//! let body = br#"{"node_id":"...","nonce":"..."}"#;
//! let auth = request.authorization(key, body, env.now);
//! match send(&request, body, auth.as_str()) {
//!     Some(answer_file) => match client.on_answer(&answer_file, roots, env) {
//!         Ok(status) => println!("{status:?}"),
//!         Err(rejection) => println!("{rejection}"),
//!     },
//!     None => client.on_failure(env.now),
//! }
//! # }
//! ```

use core::fmt;

use ed25519_dalek::VerifyingKey;
use fanlic_formats::{
    ActivationPolicy, DecodeError, KeyId, License, LicenseId, LicenseKind, RevocationList, Timestamp,
    private_cloud::{
        AnswerKind, HEARTBEAT_INTERVAL_SECS, InstanceCertificate, ServerAnswer, ServerAnswerEnvelope, TlsBinding,
        TlsBindingEnvelope,
    },
};

pub use crate::node_auth::{AuthHeader, JoinSecret, RequestKey};
use crate::{
    CLOCK_TOLERANCE_SECS, Cause, Causes, ContentError, Environment, RootKey, Verified, authenticate_raw,
    check_signature, check_with_revocations,
    receipt::{Expect, ReceiptCause, sha256, verify_raw_receipt},
};

/// How long after a failed attempt (no answer, a connection error, or an
/// answer refused) the client tries again: SPEC.md §7.5, "it SHOULD retry
/// every 300 seconds".
pub const RETRY_SECS: u64 = 300;

/// What the product asked the server: SPEC.md §7.2 rule 4, "`node_id` and
/// `nonce` are those of the product's request, and `kind` is what it asked
/// for".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// What was asked: `Registered` for `/api/v1/register`, `Heartbeat` for
    /// `/api/v1/heartbeat`, `Deregistered` for `/api/v1/deregister`.
    pub kind: AnswerKind,
    /// This node's id.
    pub node_id: [u8; 16],
    /// "a fresh 16-byte random nonce per request, so an answer cannot be
    /// replayed".
    pub nonce: [u8; 16],
}

impl Request {
    /// The request's path (SPEC.md §7.3).
    pub const fn path(&self) -> &'static str {
        match self.kind {
            AnswerKind::Registered => "/api/v1/register",
            AnswerKind::Heartbeat => "/api/v1/heartbeat",
            AnswerKind::Deregistered => "/api/v1/deregister",
        }
    }

    /// The `Authorization` value of this request with `body` (the exact
    /// bytes sent) at `now` (SPEC.md §7.3, "Authentication"): a MAC under
    /// the key of the cluster's join secret; the secret never travels.
    pub fn authorization(&self, key: &RequestKey, body: &[u8], now: Timestamp) -> AuthHeader {
        key.authorization(self.path(), now.0, body)
    }
}

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
    /// The answer's receipt fails SPEC.md §6.5 (rule 6): its first cause
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

struct Hex<'b>(&'b [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
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

    fn single(cause: AnswerCause<'a>) -> Self {
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

fn signature_holds(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    VerifyingKey::from_bytes(key).is_ok_and(|k| check_signature(&k, message, signature).is_ok())
}

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
/// verified revocation list (cause `revoked`, SPEC.md §6.1).
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

/// What the client should do now (SPEC.md §7.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Next {
    /// Send a registration (`POST /api/v1/register`) now.
    Register,
    /// Send a heartbeat (`POST /api/v1/heartbeat`) now.
    Heartbeat,
    /// Nothing to send before `until`; call [`Client::next`] again then.
    Wait {
        /// When to ask again.
        until: Timestamp,
    },
    /// The registration has just failed: "no feedback within 24 hours"
    /// (`now >= valid_until` of the last accepted answer). Reported once;
    /// the next call says to register again.
    RegistrationFailed {
        /// The `valid_until` that passed.
        since: Timestamp,
    },
}

/// Where the node's registration stands (SPEC.md §7.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// No answer accepted yet.
    NotRegistered,
    /// Registered: the last accepted answer holds until `valid_until`.
    Registered {
        /// First instant at which the registration fails without another answer.
        valid_until: Timestamp,
        /// Nodes registered with the server, by the last answer.
        nodes: u32,
    },
    /// The registration failed: no feedback within 24 hours.
    Failed {
        /// The `valid_until` that passed.
        since: Timestamp,
    },
    /// The server confirmed this node's deregistration.
    Deregistered,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    NotRegistered,
    Registered { valid_until: Timestamp, nodes: u32 },
    Failed { since: Timestamp, reported: bool },
    Deregistered,
}

/// The product's client of the authorization server (SPEC.md §7.3, §7.5): a
/// state machine with no clock, no I/O and no allocation.
///
/// - It registers at start and sends a heartbeat 7200 seconds after each
///   accepted answer.
/// - After a failed attempt (no answer, a connection error, a refused
///   answer) it tries again 300 seconds later.
/// - The registration fails when `now >= valid_until` of the last accepted
///   answer: no feedback within 24 hours; under a lease, at `lease_until`
///   of that answer's receipt if that is sooner.
/// - It remembers the nonce of the one outstanding request: an answer to
///   another request, or one replayed, is refused.
/// - It pins the instance key of its first accepted TLS binding or answer:
///   an answer or binding signed by another instance (a copy of the server)
///   is refused, for the life of the client.
/// - [`Client::on_tls_binding`] checks, before anything is sent on a new TLS
///   connection, that the pinned instance key binds the connection's TLS key
///   (SPEC.md §7.7).
#[derive(Clone, Debug)]
pub struct Client {
    node_id: [u8; 16],
    state: State,
    pinned: Option<[u8; 32]>,
    outstanding: Option<Request>,
    due: Timestamp,
}

impl Client {
    /// A node that has not registered yet; its first [`Client::next`] says
    /// [`Next::Register`].
    pub const fn new(node_id: [u8; 16]) -> Self {
        Self { node_id, state: State::NotRegistered, pinned: None, outstanding: None, due: Timestamp(0) }
    }

    /// A node whose product pinned an instance key before (persisted from an
    /// earlier run): only answers and TLS bindings signed by it are accepted.
    pub const fn with_pinned_instance_key(node_id: [u8; 16], instance_public_key: [u8; 32]) -> Self {
        let mut c = Self::new(node_id);
        c.pinned = Some(instance_public_key);
        c
    }

    /// This node's id.
    pub const fn node_id(&self) -> [u8; 16] {
        self.node_id
    }

    /// The pinned instance key, once an answer was accepted.
    pub const fn pinned_instance_key(&self) -> Option<&[u8; 32]> {
        self.pinned.as_ref()
    }

    /// The request waiting for its answer, if any.
    pub const fn outstanding(&self) -> Option<&Request> {
        self.outstanding.as_ref()
    }

    fn lapse(&mut self, now: Timestamp) {
        if let State::Registered { valid_until, .. } = self.state
            && now >= valid_until
        {
            self.state = State::Failed { since: valid_until, reported: false };
            // Register again at once.
            self.due = now;
        }
    }

    /// What to do at `now`.
    pub fn next(&mut self, now: Timestamp) -> Next {
        self.lapse(now);
        match self.state {
            State::Failed { since, reported: false } => {
                self.state = State::Failed { since, reported: true };
                Next::RegistrationFailed { since }
            }
            State::Deregistered => Next::Wait { until: Timestamp(u64::MAX) },
            State::Registered { valid_until, .. } if now < self.due => {
                Next::Wait { until: Timestamp(self.due.0.min(valid_until.0)) }
            }
            State::Registered { .. } => Next::Heartbeat,
            State::NotRegistered | State::Failed { .. } if now < self.due => Next::Wait { until: self.due },
            State::NotRegistered | State::Failed { .. } => Next::Register,
        }
    }

    /// Makes the request to send at `now`, with a fresh random `nonce` from
    /// the product's RNG, and remembers it as the one outstanding (a later
    /// request replaces it). Until its answer or [`Client::on_failure`],
    /// [`Client::next`] waits [`RETRY_SECS`] (the request's time-out).
    pub fn request(&mut self, kind: AnswerKind, nonce: [u8; 16], now: Timestamp) -> Request {
        let request = Request { kind, node_id: self.node_id, nonce };
        self.outstanding = Some(request);
        self.due = Timestamp(now.0.saturating_add(RETRY_SECS));
        if kind == AnswerKind::Registered && self.state == State::Deregistered {
            self.state = State::NotRegistered;
        }
        request
    }

    /// Checks the answer to the outstanding request ([`verify_server_answer`]
    /// with it and the pinned instance key) at `env.now`. Accepted, it
    /// consumes the request, pins the instance key if none is, and moves the
    /// registration on; refused, it changes nothing but the time of the next
    /// attempt ([`RETRY_SECS`]), and the outstanding request may still get
    /// its genuine answer.
    #[allow(clippy::result_large_err, reason = "no allocator to box into: the rejection is returned on the stack")]
    pub fn on_answer<'a>(
        &mut self,
        file: &'a [u8],
        roots: &[RootKey],
        env: &Environment<'a>,
    ) -> Result<Status, AnswerRejection<'a>> {
        self.on_answer_with_revocations(file, roots, env, None)
    }

    /// [`Client::on_answer`], with the server license also checked against a
    /// verified revocation list.
    #[allow(clippy::result_large_err, reason = "no allocator to box into: the rejection is returned on the stack")]
    pub fn on_answer_with_revocations<'a>(
        &mut self,
        file: &'a [u8],
        roots: &[RootKey],
        env: &Environment<'a>,
        revocations: Option<&Verified<RevocationList<'_>>>,
    ) -> Result<Status, AnswerRejection<'a>> {
        let now = env.now;
        self.lapse(now);
        let Some(request) = self.outstanding else {
            return Err(AnswerRejection::single(AnswerCause::Unrequested));
        };
        let accepted = match verify_server_answer_with_revocations(
            file,
            roots,
            env,
            &request,
            self.pinned.as_ref(),
            revocations,
        ) {
            Ok(a) => a.into_inner(),
            Err(e) => {
                self.due = Timestamp(now.0.saturating_add(RETRY_SECS));
                return Err(e);
            }
        };
        self.outstanding = None;
        self.pinned = Some(self.pinned.unwrap_or(accepted.instance_public_key));
        match accepted.kind {
            AnswerKind::Registered | AnswerKind::Heartbeat => {
                // Under a lease the registration holds until the lease ends
                // at the latest, on this product's clock: an answer accepted
                // just before the end does not carry the node past it.
                let valid_until = accepted.lease_until.map_or(accepted.valid_until, |l| l.min(accepted.valid_until));
                self.state = State::Registered { valid_until, nodes: accepted.nodes };
                // A heartbeat 7200 s on, and at least 300 s before the answer lapses.
                let heartbeat = now.0.saturating_add(HEARTBEAT_INTERVAL_SECS);
                let before_lapse = valid_until.0.saturating_sub(RETRY_SECS);
                self.due = Timestamp(heartbeat.min(before_lapse).max(now.0));
            }
            AnswerKind::Deregistered => {
                self.state = State::Deregistered;
                self.due = Timestamp(u64::MAX);
            }
        }
        Ok(self.status(now))
    }

    /// Checks the TLS binding fetched over a new connection whose
    /// certificate's SubjectPublicKeyInfo hashes to `spki_sha256`
    /// ([`verify_tls_binding`] with the pinned instance key), before any
    /// request is sent on it (SPEC.md §7.7). Accepted, it pins the instance
    /// key if none is (trust on first use, here along the vendor's chain);
    /// refused, it changes nothing: send nothing on that connection.
    pub fn on_tls_binding(
        &mut self,
        file: &[u8],
        roots: &[RootKey],
        spki_sha256: &[u8; 32],
    ) -> Result<Verified<BoundTlsKey>, TlsBindingError> {
        let bound = verify_tls_binding(file, roots, self.pinned.as_ref(), spki_sha256)?;
        self.pinned = Some(self.pinned.unwrap_or(bound.instance_public_key));
        Ok(bound)
    }

    /// The request got no answer (time-out, connection error, or a refusal
    /// by the server): the outstanding request is dropped and the next
    /// attempt is [`RETRY_SECS`] after `now`.
    pub fn on_failure(&mut self, now: Timestamp) {
        self.lapse(now);
        self.outstanding = None;
        self.due = Timestamp(now.0.saturating_add(RETRY_SECS));
    }

    /// Where the registration stands at `now` ("fails when `now >=
    /// valid_until`", whether or not [`Client::next`] was called).
    pub fn status(&self, now: Timestamp) -> Status {
        match self.state {
            State::NotRegistered => Status::NotRegistered,
            State::Registered { valid_until, .. } if now >= valid_until => Status::Failed { since: valid_until },
            State::Registered { valid_until, nodes } => Status::Registered { valid_until, nodes },
            State::Failed { since, .. } => Status::Failed { since },
            State::Deregistered => Status::Deregistered,
        }
    }
}

// Also in the crate's own tests, which enable fanlic-formats' `alloc` as a
// dev-dependency whatever the features.
#[cfg(any(feature = "alloc", test))]
pub use config::{PrivateConfigError, verify_private_config};

#[cfg(any(feature = "alloc", test))]
mod config {
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
            return Err(PrivateConfigError::ForeignLicense {
                expected: *license_id,
                certificate: certificate.license_id,
            });
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
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
    use std::{string::ToString as _, vec, vec::Vec};

    use ed25519_dalek::{Signer as _, SigningKey};
    use fanlic_formats::{
        encode_certificate_body, encode_instance_certificate, encode_license_file, encode_license_payload,
        encode_private_config_body, encode_private_config_file, encode_server_answer, encode_server_answer_file,
        private_cloud::{Event, EventKind, NodeRecord, wire::PrivateConfigBody},
        wire,
    };
    use proptest::prelude::*;

    use super::*;

    const T0: u64 = 1_790_000_000;
    const LICENSE: LicenseId = LicenseId([7; 16]);
    const NODE: [u8; 16] = [9; 16];

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn public(k: &SigningKey) -> [u8; 32] {
        k.verifying_key().to_bytes()
    }

    fn sign(k: &SigningKey, m: &[u8]) -> [u8; 64] {
        k.sign(m).to_bytes()
    }

    /// A vendor and one authorization server (image key 3, instance key 4).
    struct World {
        root: SigningKey,
        license: Vec<u8>,
        image: SigningKey,
        instance: SigningKey,
        cert_msg: Vec<u8>,
        cert_sig: [u8; 64],
    }

    fn license_file(kind: wire::Kind, image_public_key: Option<[u8; 32]>) -> Vec<u8> {
        let (root, issuing) = (key(1), key(2));
        let cert = encode_certificate_body(&wire::CertificateBody {
            root_key_id: KeyId::of(&public(&root)).0,
            key_id: KeyId::of(&public(&issuing)).0,
            public_key: public(&issuing),
            not_before: T0 - 86_400 * 365,
            not_after: T0 + 86_400 * 365,
            purposes: 0x3,
        })
        .unwrap();
        let payload = encode_license_payload(&wire::LicensePayload {
            license_id: LICENSE.0,
            kind,
            app_name: "FineBI",
            company: "Example Co.",
            project: "webroot",
            contract_signed: wire::Date { year: 2026, month: 1, day: 1 },
            issued_at: T0 - 86_400,
            not_before: T0 - 86_400,
            expiry: wire::Expiry::Never,
            version: wire::Version { major: 6, minor: 1 },
            max_nodes: 3,
            activation_key: None,
            activation_base_url: None,
            image_public_key,
            supersedes: None,
            request_email_sha256: None,
        })
        .unwrap();
        encode_license_file(&cert, &sign(&root, &cert), &payload, &sign(&issuing, &payload)).unwrap()
    }

    fn certificate(image: &SigningKey, instance: &[u8; 32]) -> (Vec<u8>, [u8; 64]) {
        let cert = InstanceCertificate::from_wire(&fanlic_formats::private_cloud::wire::InstanceCertificateBody {
            license_id: LICENSE.0,
            image_key_id: KeyId::of(&public(image)).0,
            instance_public_key: *instance,
            created_at: T0 - 3600,
        })
        .unwrap();
        let msg = encode_instance_certificate(&cert).unwrap();
        let sig = sign(image, &msg);
        (msg, sig)
    }

    impl World {
        fn new() -> Self {
            let image = key(3);
            let instance = key(4);
            let license = license_file(wire::Kind::PrivateCloud, Some(public(&image)));
            let (cert_msg, cert_sig) = certificate(&image, &public(&instance));
            Self { root: key(1), license, image, instance, cert_msg, cert_sig }
        }

        fn roots(&self) -> [RootKey; 1] {
            [RootKey::from_bytes(&public(&self.root)).unwrap()]
        }

        fn answer_with(&self, signer: &SigningKey, a: ServerAnswer) -> Vec<u8> {
            let msg = encode_server_answer(&a).unwrap();
            encode_server_answer_file(&self.license, &self.cert_msg, &self.cert_sig, &msg, &sign(signer, &msg)).unwrap()
        }

        /// The server's answer to `r` at server time `at`.
        fn answer(&self, r: &Request, at: u64) -> Vec<u8> {
            self.answer_with(&self.instance, body(r, at))
        }

        /// A copy of the server: the same image, another instance key.
        fn clone_server(&self) -> Self {
            let instance = key(5);
            let (cert_msg, cert_sig) = certificate(&self.image, &public(&instance));
            Self { root: key(1), license: self.license.clone(), image: key(3), instance, cert_msg, cert_sig }
        }
    }

    fn body(r: &Request, at: u64) -> ServerAnswer {
        ServerAnswer::from_wire(&fanlic_formats::private_cloud::wire::ServerAnswerBody {
            license_id: LICENSE.0,
            kind: r.kind,
            node_id: r.node_id,
            nonce: r.nonce,
            at,
            valid_until: at + fanlic_formats::private_cloud::SILENCE_LIMIT_SECS,
            nodes: 1,
        })
        .unwrap()
    }

    fn env(now: u64) -> Environment<'static> {
        Environment {
            app_name: "FineBI",
            version: "6.1.3",
            project: "webroot",
            nodes: 1,
            method: LicenseKind::PrivateCloud,
            now: Timestamp(now),
            last_seen: None,
        }
    }

    fn nonce(i: u64) -> [u8; 16] {
        let mut n = [0xa5; 16];
        n[..8].copy_from_slice(&i.to_le_bytes());
        n
    }

    fn codes(r: &AnswerRejection<'_>) -> Vec<&'static str> {
        r.causes().map(|c| c.code()).collect()
    }

    fn heartbeat(n: u64) -> Request {
        Request { kind: AnswerKind::Heartbeat, node_id: NODE, nonce: nonce(n) }
    }

    #[test]
    fn a_good_answer_is_accepted() {
        let w = World::new();
        for kind in [AnswerKind::Registered, AnswerKind::Heartbeat, AnswerKind::Deregistered] {
            let r = Request { kind, node_id: NODE, nonce: nonce(1) };
            let file = w.answer(&r, T0);
            let a = verify_server_answer(&file, &w.roots(), &env(T0 + 1), &r, None).unwrap();
            assert_eq!(a.license_id, LICENSE);
            assert_eq!(a.instance_public_key, public(&w.instance));
            assert_eq!((a.kind, a.node_id, a.nodes), (kind, NODE, 1));
            assert_eq!((a.at, a.valid_until), (Timestamp(T0), Timestamp(T0 + 86_400)));
            let pinned = public(&w.instance);
            assert!(verify_server_answer(&file, &w.roots(), &env(T0 + 1), &r, Some(&pinned)).is_ok());
        }
        // The method the product selected does not matter: the answer's license is checked as private-cloud.
        let r = heartbeat(1);
        let local = Environment { method: LicenseKind::LocalContainer, ..env(T0) };
        assert!(verify_server_answer(&w.answer(&r, T0), &w.roots(), &local, &r, None).is_ok());
    }

    #[test]
    fn every_cause_that_can_be_known_is_reported() {
        let w = World::new();
        let r = heartbeat(1);
        let asked = Request { kind: AnswerKind::Registered, node_id: [1; 16], nonce: nonce(2) };
        let now = T0 + 86_400;
        let e = Environment { app_name: "FineReport", ..env(now) };
        let file = w.answer(&r, T0);
        let err = verify_server_answer(&file, &w.roots(), &e, &asked, Some(&[8; 32])).unwrap_err();
        assert_eq!(
            codes(&err),
            [
                "app_name_mismatch",
                "instance_key_changed",
                "kind_mismatch",
                "node_mismatch",
                "nonce_mismatch",
                "answer_expired"
            ]
        );
        assert!(err.license().is_some());
        assert!(err.to_string().contains("App Name Mismatch"));
        // From the future: more than 300 s ahead.
        let ahead = w.answer(&r, T0 + 301);
        let err = verify_server_answer(&ahead, &w.roots(), &env(T0), &r, None).unwrap_err();
        assert_eq!(codes(&err), ["answer_from_future"]);
        assert!(verify_server_answer(&w.answer(&r, T0 + 300), &w.roots(), &env(T0), &r, None).is_ok());
    }

    #[test]
    fn a_bad_signature_hides_what_that_key_signed() {
        let w = World::new();
        let r = heartbeat(1);
        // The answer signed by another key, for another node: only bad_signature.
        let forged = w.answer_with(&key(6), body(&Request { node_id: [1; 16], ..r }, T0));
        let err = verify_server_answer(&forged, &w.roots(), &env(T0), &r, None).unwrap_err();
        assert_eq!(codes(&err), ["bad_signature"]);
        // A certificate signed by another image key: the answer is not looked at.
        let other = World { cert_msg: certificate(&key(6), &public(&key(4))).0, ..World::new() };
        let mut other = other;
        other.cert_sig = sign(&key(6), &other.cert_msg);
        let file = other.answer(&Request { nonce: nonce(9), ..r }, T0);
        let err = verify_server_answer(&file, &w.roots(), &env(T0), &r, None).unwrap_err();
        assert_eq!(codes(&err), ["bad_signature"]);
        // A license under an unknown root: content_incorrect alone.
        let file = w.answer(&r, T0);
        let err = verify_server_answer(&file, &[RootKey::from_bytes(&public(&key(6))).unwrap()], &env(T0), &r, None)
            .unwrap_err();
        assert_eq!(codes(&err), ["content_incorrect"]);
        assert!(err.license().is_none());
    }

    #[test]
    fn a_license_without_an_image_key_or_of_the_wrong_kind_is_refused() {
        let r = heartbeat(1);
        let mut w = World::new();
        w.license = license_file(wire::Kind::PrivateCloud, None);
        let file = w.answer(&r, T0);
        let err = verify_server_answer(&file, &w.roots(), &env(T0), &r, None).unwrap_err();
        assert_eq!(codes(&err), ["no_image_key"]);
        w.license = license_file(wire::Kind::LocalContainer, Some(public(&w.image)));
        let file = w.answer(&r, T0);
        let err = verify_server_answer(&file, &w.roots(), &env(T0), &r, None).unwrap_err();
        assert_eq!(codes(&err), ["license_type_mismatch"]);
    }

    #[test]
    fn two_hour_heartbeats_keep_the_registration() {
        let w = World::new();
        let mut c = Client::new(NODE);
        assert_eq!(c.status(Timestamp(T0)), Status::NotRegistered);
        assert_eq!(c.next(Timestamp(T0)), Next::Register);
        let r = c.request(AnswerKind::Registered, nonce(0), Timestamp(T0));
        assert_eq!(r.path(), "/api/v1/register");
        assert_eq!(c.next(Timestamp(T0 + 1)), Next::Wait { until: Timestamp(T0 + RETRY_SECS) });
        let s = c.on_answer(&w.answer(&r, T0 + 1), &w.roots(), &env(T0 + 2)).unwrap();
        assert_eq!(s, Status::Registered { valid_until: Timestamp(T0 + 1 + 86_400), nodes: 1 });
        assert_eq!(c.pinned_instance_key(), Some(&public(&w.instance)));
        let mut t = T0 + 2;
        for i in 1..=36 {
            assert_eq!(c.next(Timestamp(t + 7199)), Next::Wait { until: Timestamp(t + 7200) }, "step {i}");
            t += 7200;
            assert_eq!(c.next(Timestamp(t)), Next::Heartbeat, "step {i}");
            let r = c.request(AnswerKind::Heartbeat, nonce(i), Timestamp(t));
            let s = c.on_answer(&w.answer(&r, t), &w.roots(), &env(t)).unwrap();
            assert_eq!(s, Status::Registered { valid_until: Timestamp(t + 86_400), nodes: 1 }, "step {i}");
        }
    }

    #[test]
    fn a_24_hour_outage_fails_exactly_at_valid_until() {
        let w = World::new();
        let mut c = Client::new(NODE);
        let r = c.request(AnswerKind::Registered, nonce(0), Timestamp(T0));
        c.on_answer(&w.answer(&r, T0), &w.roots(), &env(T0)).unwrap();
        let valid_until = Timestamp(T0 + 86_400);
        // The server goes away: every attempt fails, and is retried every 300 s.
        let mut t = T0 + 7200;
        let mut attempts = 0;
        while t < valid_until.0 {
            match c.next(Timestamp(t)) {
                Next::Heartbeat => {
                    c.request(AnswerKind::Heartbeat, nonce(t), Timestamp(t));
                    c.on_failure(Timestamp(t));
                    attempts += 1;
                    assert_eq!(c.next(Timestamp(t)), Next::Wait { until: Timestamp(t + RETRY_SECS) });
                    assert_eq!(c.status(Timestamp(t)), Status::Registered { valid_until, nodes: 1 });
                }
                Next::Wait { until } => t = until.0,
                other => panic!("at {t}: {other:?}"),
            }
        }
        assert_eq!(attempts, (86_400 - 7200) / 300);
        assert_eq!(c.status(Timestamp(valid_until.0 - 1)), Status::Registered { valid_until, nodes: 1 });
        assert_eq!(c.status(valid_until), Status::Failed { since: valid_until });
        assert_eq!(c.next(valid_until), Next::RegistrationFailed { since: valid_until });
        // Reported once; then it registers again, every 300 s while the server is away.
        assert_eq!(c.next(valid_until), Next::Register);
        c.request(AnswerKind::Registered, nonce(1), valid_until);
        c.on_failure(valid_until);
        assert_eq!(c.next(Timestamp(valid_until.0 + 1)), Next::Wait { until: Timestamp(valid_until.0 + 300) });
        // The server is back: registered again, with the same instance.
        let back = Timestamp(valid_until.0 + 300);
        assert_eq!(c.next(back), Next::Register);
        let r = c.request(AnswerKind::Registered, nonce(2), back);
        let s = c.on_answer(&w.answer(&r, back.0), &w.roots(), &env(back.0)).unwrap();
        assert_eq!(s, Status::Registered { valid_until: Timestamp(back.0 + 86_400), nodes: 1 });
    }

    #[test]
    fn a_replayed_answer_is_refused() {
        let w = World::new();
        let mut c = Client::new(NODE);
        let r = c.request(AnswerKind::Registered, nonce(0), Timestamp(T0));
        let first = w.answer(&r, T0);
        c.on_answer(&first, &w.roots(), &env(T0)).unwrap();
        // The same answer again: nothing is outstanding.
        let err = c.on_answer(&first, &w.roots(), &env(T0 + 1)).unwrap_err();
        assert_eq!(codes(&err), ["unrequested"]);
        // An old heartbeat answer, replayed to a new request.
        let r1 = c.request(AnswerKind::Heartbeat, nonce(1), Timestamp(T0 + 7200));
        let old = w.answer(&r1, T0 + 7200);
        c.on_answer(&old, &w.roots(), &env(T0 + 7200)).unwrap();
        let r2 = c.request(AnswerKind::Heartbeat, nonce(2), Timestamp(T0 + 14_400));
        let err = c.on_answer(&old, &w.roots(), &env(T0 + 14_400)).unwrap_err();
        assert_eq!(codes(&err), ["nonce_mismatch"]);
        // The genuine answer still counts.
        assert!(c.on_answer(&w.answer(&r2, T0 + 14_400), &w.roots(), &env(T0 + 14_401)).is_ok());
    }

    #[test]
    fn a_cloned_server_is_refused() {
        let w = World::new();
        let clone = w.clone_server();
        let mut c = Client::new(NODE);
        let r = c.request(AnswerKind::Registered, nonce(0), Timestamp(T0));
        c.on_answer(&w.answer(&r, T0), &w.roots(), &env(T0)).unwrap();
        let r = c.request(AnswerKind::Heartbeat, nonce(1), Timestamp(T0 + 7200));
        // The copy's answer is valid on its own, but not for this product.
        assert!(verify_server_answer(&clone.answer(&r, T0 + 7200), &w.roots(), &env(T0 + 7200), &r, None).is_ok());
        let copy = clone.answer(&r, T0 + 7200);
        let err = c.on_answer(&copy, &w.roots(), &env(T0 + 7200)).unwrap_err();
        assert_eq!(codes(&err), ["instance_key_changed"]);
        assert!(matches!(
            err.causes().next(),
            Some(AnswerCause::InstanceKeyChanged { pinned, presented })
                if pinned == KeyId::of(&public(&w.instance)) && presented == KeyId::of(&public(&clone.instance))
        ));
        assert_eq!(c.pinned_instance_key(), Some(&public(&w.instance)));
        // A client pinned in advance refuses the copy's first answer too.
        let mut d = Client::with_pinned_instance_key(NODE, public(&w.instance));
        let r = d.request(AnswerKind::Registered, nonce(3), Timestamp(T0));
        assert!(d.on_answer(&clone.answer(&r, T0), &w.roots(), &env(T0)).is_err());
        assert!(d.on_answer(&w.answer(&r, T0), &w.roots(), &env(T0)).is_ok());
    }

    #[test]
    fn deregistration_ends_the_heartbeats() {
        let w = World::new();
        let mut c = Client::new(NODE);
        let r = c.request(AnswerKind::Registered, nonce(0), Timestamp(T0));
        c.on_answer(&w.answer(&r, T0), &w.roots(), &env(T0)).unwrap();
        let r = c.request(AnswerKind::Deregistered, nonce(1), Timestamp(T0 + 5));
        assert_eq!(r.path(), "/api/v1/deregister");
        assert_eq!(c.on_answer(&w.answer(&r, T0 + 5), &w.roots(), &env(T0 + 5)), Ok(Status::Deregistered));
        assert_eq!(c.next(Timestamp(T0 + 200_000)), Next::Wait { until: Timestamp(u64::MAX) });
        c.request(AnswerKind::Registered, nonce(2), Timestamp(T0 + 200_000));
        assert_eq!(c.status(Timestamp(T0 + 200_000)), Status::NotRegistered);
    }

    fn config(w: &World, body: &PrivateConfigBody, signer: &SigningKey) -> Vec<u8> {
        let msg = encode_private_config_body(body).unwrap();
        encode_private_config_file(&w.cert_msg, &w.cert_sig, &msg, &sign(signer, &msg)).unwrap()
    }

    fn state(w: &World) -> PrivateConfigBody {
        PrivateConfigBody {
            license_id: LICENSE.0,
            instance_public_key: public(&w.instance),
            generation: 4,
            time_high_water: T0,
            activated_at: Some(T0 - 60),
            nodes: vec![NodeRecord { node_id: NODE, registered_at: T0 - 30, last_seen: T0 }],
            log_base: [0; 32],
            events: vec![Event { at: T0 - 3600, kind: EventKind::Created, node_id: [0; 16] }],
        }
    }

    #[test]
    fn private_config_chain() {
        let w = World::new();
        let image = public(&w.image);
        let good = config(&w, &state(&w), &w.instance);
        let c = verify_private_config(&good, &image, &LICENSE).unwrap();
        assert_eq!((c.generation(), c.nodes().len()), (4, 1));
        let err = |f: &[u8], image: &[u8; 32], l: &LicenseId| verify_private_config(f, image, l).unwrap_err();
        assert_eq!(err(&good, &public(&key(6)), &LICENSE), PrivateConfigError::BadSignature);
        assert!(matches!(err(&good, &image, &LicenseId([8; 16])), PrivateConfigError::ForeignLicense { .. }));
        assert_eq!(err(&config(&w, &state(&w), &key(6)), &image, &LICENSE), PrivateConfigError::BadSignature);
        let s = PrivateConfigBody { license_id: [8; 16], ..state(&w) };
        assert_eq!(err(&config(&w, &s, &w.instance), &image, &LICENSE).reason(), "state_license_mismatch");
        let s = PrivateConfigBody { instance_public_key: public(&key(6)), ..state(&w) };
        assert_eq!(err(&config(&w, &s, &w.instance), &image, &LICENSE).reason(), "instance_key_mismatch");
        let mut tampered = good.clone();
        let last = tampered.len() - 70;
        tampered[last] ^= 1;
        assert!(verify_private_config(&tampered, &image, &LICENSE).is_err());
        assert_eq!(err(b"FANLIC-PRIVATECONFIG/2\n", &image, &LICENSE).reason(), "unknown_format");
    }

    struct Fixture {
        world: World,
        answer: Vec<u8>,
        config: Vec<u8>,
    }

    fn fixture() -> &'static Fixture {
        static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
        F.get_or_init(|| {
            let world = World::new();
            let answer = world.answer(&heartbeat(1), T0);
            let config = config(&world, &state(&world), &world.instance);
            Fixture { world, answer, config }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..700), flip in any::<usize>(), bit in 0u8..8) {
            let f = fixture();
            let w = &f.world;
            let roots = w.roots();
            let r = heartbeat(1);
            let _ = verify_server_answer(&bytes, &roots, &env(T0), &r, None);
            let _ = verify_private_config(&bytes, &public(&w.image), &LICENSE);
            let mut c = Client::new(NODE);
            c.request(AnswerKind::Heartbeat, nonce(1), Timestamp(T0));
            let _ = c.on_answer(&bytes, &roots, &env(T0));
            // One bit flipped anywhere in a good answer: refused, never accepted.
            let mut file = f.answer.clone();
            let i = flip % file.len();
            file[i] ^= 1 << bit;
            prop_assert!(verify_server_answer(&file, &roots, &env(T0), &r, None).is_err());
            let mut cfg = f.config.clone();
            let i = flip % cfg.len();
            cfg[i] ^= 1 << bit;
            prop_assert!(verify_private_config(&cfg, &public(&w.image), &LICENSE).is_err());
        }
    }
}
