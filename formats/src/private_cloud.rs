//! The private cloud's messages (SPEC.md §7): the authorization server's
//! instance certificate, its signed answers to the application, and its
//! `privateConfig` file.
//!
//! "The image key certifies the instance key; the instance key signs every
//! answer and `privateConfig`." A product checks an answer along root key →
//! issuing key → server license → image key → instance key; this module only
//! decodes, and checks no signature (the verifier does).

#[cfg(feature = "alloc")]
use crate::envelope::labelled;
use crate::{DecodeError, KeyId, LicenseId, SignedBody, Timestamp, canonical, envelope::decode_labelled};
#[cfg(feature = "alloc")]
use alloc::vec::Vec;

/// Purpose label of an instance certificate, signed by the image key:
/// SPEC.md §7.1, "`fanlic/1/instance-certificate\n`".
pub const INSTANCE_CERTIFICATE_LABEL: &[u8] = b"fanlic/1/instance-certificate\n";

/// Purpose label of an authorization server's answer, signed by its instance
/// key: SPEC.md §7.2, "`fanlic/1/server-answer\n`".
pub const SERVER_ANSWER_LABEL: &[u8] = b"fanlic/1/server-answer\n";

/// Purpose label of `privateConfig`'s state, signed by the instance key:
/// SPEC.md §7.4, "`fanlic/1/private-config\n`".
pub const PRIVATE_CONFIG_LABEL: &[u8] = b"fanlic/1/private-config\n";

/// Purpose label of one link of `privateConfig`'s event log hash chain:
/// SPEC.md §7.4, "`fanlic/1/private-config-event\n`".
pub const PRIVATE_CONFIG_EVENT_LABEL: &[u8] = b"fanlic/1/private-config-event\n";

/// HKDF salt of the image key: SPEC.md §7.1, "`fanlic/1/image-key\n`".
pub const IMAGE_KEY_SALT: &[u8] = b"fanlic/1/image-key\n";

/// Purpose label hashed before an instance public key to make its
/// fingerprint (the one the QR code carries): SPEC.md §7.1.
pub const INSTANCE_FINGERPRINT_LABEL: &[u8] = b"fanlic/1/instance-fingerprint\n";

/// Purpose label of a TLS binding, signed by the instance key: SPEC.md
/// §7.7, "`fanlic/1/tls-binding\n`".
pub const TLS_BINDING_LABEL: &[u8] = b"fanlic/1/tls-binding\n";

/// Magic of a TLS binding file: SPEC.md §7.7.
pub const TLS_BINDING_MAGIC: &[u8; 21] = b"FANLIC-TLS-BINDING/1\n";

/// "A decoder MUST reject a TLS binding file longer than 4096 bytes"
/// (SPEC.md §7.7).
pub const MAX_TLS_BINDING_LEN: usize = 4096;

/// Magic of a server answer file: SPEC.md §7.2. "The version is part of the
/// magic."
pub const SERVER_ANSWER_MAGIC: &[u8; 23] = b"FANLIC-SERVER-ANSWER/1\n";

/// Magic of a `privateConfig` file: SPEC.md §7.4.
pub const PRIVATE_CONFIG_MAGIC: &[u8; 23] = b"FANLIC-PRIVATECONFIG/1\n";

/// "A decoder MUST reject a server answer file longer than 4096 bytes"
/// (SPEC.md §7.2).
pub const MAX_SERVER_ANSWER_LEN: usize = 4096;

/// "A decoder MUST reject a `privateConfig` file longer than 1 MiB"
/// (SPEC.md §7.4).
pub const MAX_PRIVATE_CONFIG_LEN: usize = 1 << 20;

/// The application sends a heartbeat every 7200 seconds (SPEC.md §7.3).
pub const HEARTBEAT_INTERVAL_SECS: u64 = 2 * 3600;

/// An application's registration fails when it has had no accepted answer for
/// 86400 seconds, and the server drops a node it has not heard from for as
/// long (SPEC.md §7.3); also the longest
/// downtime after which the server resumes without a new QR activation.
pub const SILENCE_LIMIT_SECS: u64 = 24 * 3600;

/// Most events `privateConfig` keeps (older ones leave their hash in
/// `log_base`): SPEC.md §7.4.
pub const MAX_EVENTS: usize = 256;

/// Most nodes `privateConfig` records (SPEC.md §7.4); a license allows fewer.
pub const MAX_NODES: usize = 4096;

/// The serde structs of SPEC.md §7 exactly as postcard lays them out. Not
/// validated: decode them through the types of this module.
pub mod wire {
    use serde::{Deserialize, Serialize};

    use crate::wire::SignedBody;

    /// An instance certificate's body, after its label (SPEC.md §7.1).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct InstanceCertificateBody {
        /// The server license this instance runs.
        pub license_id: [u8; 16],
        /// Key id of the image key that signs this certificate.
        pub image_key_id: [u8; 8],
        /// The instance's Ed25519 public key (made at first start).
        pub instance_public_key: [u8; 32],
        /// When the instance key was made.
        pub created_at: u64,
    }

    /// What a server answer says (SPEC.md §7.2).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum AnswerKind {
        /// 0: the node is registered.
        Registered,
        /// 1: the heartbeat was heard; the registration holds.
        Heartbeat,
        /// 2: the node is deregistered.
        Deregistered,
    }

    /// A server answer's body, after its label (SPEC.md §7.2).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ServerAnswerBody {
        /// The server license.
        pub license_id: [u8; 16],
        /// What happened.
        pub kind: AnswerKind,
        /// The node that asked.
        pub node_id: [u8; 16],
        /// The request's nonce, echoed.
        pub nonce: [u8; 16],
        /// The server's time when it answered.
        pub at: u64,
        /// Until when the node's registration holds without another answer.
        pub valid_until: u64,
        /// Nodes registered with the server now.
        pub nodes: u32,
    }

    /// A server answer file after its magic (SPEC.md §7.2).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ServerAnswerFile<'a> {
        /// The server license, a raw license file (§3.1).
        #[serde(borrow)]
        pub license: &'a [u8],
        /// The instance certificate, signed by the image key.
        #[serde(borrow)]
        pub instance_certificate: SignedBody<'a>,
        /// The answer, signed by the instance key.
        #[serde(borrow)]
        pub answer: SignedBody<'a>,
    }

    /// A TLS binding's body, after its label (SPEC.md §7.7).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct TlsBindingBody {
        /// The server license.
        pub license_id: [u8; 16],
        /// SHA-256 of the DER SubjectPublicKeyInfo of the TLS certificate's key.
        pub spki_sha256: [u8; 32],
    }

    /// A TLS binding file after its magic (SPEC.md §7.7).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct TlsBindingFile<'a> {
        /// The server license, a raw license file (§3.1).
        #[serde(borrow)]
        pub license: &'a [u8],
        /// The instance certificate, signed by the image key.
        #[serde(borrow)]
        pub instance_certificate: SignedBody<'a>,
        /// The binding, signed by the instance key.
        #[serde(borrow)]
        pub binding: SignedBody<'a>,
    }

    /// A `privateConfig` file after its magic (SPEC.md §7.4).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PrivateConfigFile<'a> {
        /// The instance certificate, signed by the image key.
        #[serde(borrow)]
        pub instance_certificate: SignedBody<'a>,
        /// The state, signed by the instance key.
        #[serde(borrow)]
        pub state: SignedBody<'a>,
    }

    /// One node registered with the server (SPEC.md §7.4).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct NodeRecord {
        /// The node's id.
        pub node_id: [u8; 16],
        /// When it registered.
        pub registered_at: u64,
        /// When the server last heard from it.
        pub last_seen: u64,
    }

    /// What an event records (SPEC.md §7.4).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum EventKind {
        /// 0: the instance key was made (first start).
        Created,
        /// 1: the server started.
        Started,
        /// 2: the QR activation succeeded.
        Activated,
        /// 3: the server was down longer than 24 hours: activation needed again.
        ActivationLapsed,
        /// 4: the clock was behind the time high-water mark.
        ClockBehind,
        /// 5: a node registered.
        NodeRegistered,
        /// 6: a node deregistered.
        NodeDeregistered,
        /// 7: a node was silent for 24 hours and was dropped.
        NodeDropped,
    }

    /// One event of the log (SPEC.md §7.4).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Event {
        /// When it happened (server time).
        pub at: u64,
        /// What happened.
        pub kind: EventKind,
        /// The node concerned, or all zero.
        pub node_id: [u8; 16],
    }

    /// `privateConfig`'s state, after its label (SPEC.md §7.4).
    #[cfg(feature = "alloc")]
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PrivateConfigBody {
        /// The server license.
        pub license_id: [u8; 16],
        /// The instance's public key (as in the certificate).
        pub instance_public_key: [u8; 32],
        /// Grows by one with every write; at least 1.
        pub generation: u64,
        /// The latest time the server has seen.
        pub time_high_water: u64,
        /// When the current QR activation succeeded, if it holds.
        pub activated_at: Option<u64>,
        /// Registered nodes, in strictly ascending order of `node_id`.
        pub nodes: alloc::vec::Vec<NodeRecord>,
        /// The chain value before the first event kept.
        pub log_base: [u8; 32],
        /// The newest events, oldest first, at most 256.
        pub events: alloc::vec::Vec<Event>,
    }
}

pub use wire::{AnswerKind, Event, EventKind, NodeRecord};

/// The instance key's fingerprint, carried in the QR code's challenge
/// (SPEC.md §7.1): `SHA-256("fanlic/1/instance-fingerprint\n" || public key)`.
pub fn instance_fingerprint(instance_public_key: &[u8; 32]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::new().chain_update(INSTANCE_FINGERPRINT_LABEL).chain_update(instance_public_key).finalize().into()
}

/// A validated instance certificate (SPEC.md §7.1). Says nothing about its
/// signature: a verifier wraps it in `Verified`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstanceCertificate {
    /// The server license this instance runs.
    pub license_id: LicenseId,
    /// The image key that signs the certificate.
    pub image_key_id: KeyId,
    /// The instance's public key.
    pub instance_public_key: [u8; 32],
    /// When the instance key was made.
    pub created_at: Timestamp,
}

impl InstanceCertificate {
    /// Decodes a certificate's signed message (label || canonical body).
    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let w: wire::InstanceCertificateBody =
            decode_labelled(message, INSTANCE_CERTIFICATE_LABEL, "instance certificate")?;
        Self::from_wire(&w)
    }

    /// Validates a wire body: "`license_id` MUST NOT be all zero".
    pub fn from_wire(w: &wire::InstanceCertificateBody) -> Result<Self, DecodeError> {
        if w.license_id == [0; 16] {
            return Err(DecodeError::Invalid { field: "license_id", rule: "is all zero" });
        }
        Ok(Self {
            license_id: LicenseId(w.license_id),
            image_key_id: KeyId(w.image_key_id),
            instance_public_key: w.instance_public_key,
            created_at: Timestamp(w.created_at),
        })
    }

    /// The wire form.
    pub fn to_wire(&self) -> wire::InstanceCertificateBody {
        wire::InstanceCertificateBody {
            license_id: self.license_id.0,
            image_key_id: self.image_key_id.0,
            instance_public_key: self.instance_public_key,
            created_at: self.created_at.0,
        }
    }
}

/// A validated server answer (SPEC.md §7.2). Says nothing about its
/// signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerAnswer {
    /// The server license.
    pub license_id: LicenseId,
    /// What happened.
    pub kind: AnswerKind,
    /// The node that asked.
    pub node_id: [u8; 16],
    /// The request's nonce, echoed.
    pub nonce: [u8; 16],
    /// The server's time.
    pub at: Timestamp,
    /// Until when the registration holds without another answer.
    pub valid_until: Timestamp,
    /// Nodes registered now.
    pub nodes: u32,
}

impl ServerAnswer {
    /// Decodes an answer's signed message (label || canonical body).
    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let w: wire::ServerAnswerBody = decode_labelled(message, SERVER_ANSWER_LABEL, "server answer")?;
        Self::from_wire(&w)
    }

    /// Validates a wire body: "`license_id` MUST NOT be all zero;
    /// `at <= valid_until <= at + 86400`; `nodes` MUST be at least 1 unless
    /// `kind` is `Deregistered`".
    pub fn from_wire(w: &wire::ServerAnswerBody) -> Result<Self, DecodeError> {
        if w.license_id == [0; 16] {
            return Err(DecodeError::Invalid { field: "license_id", rule: "is all zero" });
        }
        if w.valid_until < w.at || w.valid_until - w.at > SILENCE_LIMIT_SECS {
            return Err(DecodeError::Invalid { field: "valid_until", rule: "must be within 24 hours after `at`" });
        }
        if w.nodes == 0 && w.kind != AnswerKind::Deregistered {
            return Err(DecodeError::Invalid { field: "nodes", rule: "must be at least 1" });
        }
        Ok(Self {
            license_id: LicenseId(w.license_id),
            kind: w.kind,
            node_id: w.node_id,
            nonce: w.nonce,
            at: Timestamp(w.at),
            valid_until: Timestamp(w.valid_until),
            nodes: w.nodes,
        })
    }

    /// The wire form.
    pub fn to_wire(&self) -> wire::ServerAnswerBody {
        wire::ServerAnswerBody {
            license_id: self.license_id.0,
            kind: self.kind,
            node_id: self.node_id,
            nonce: self.nonce,
            at: self.at.0,
            valid_until: self.valid_until.0,
            nodes: self.nodes,
        }
    }
}

/// A server answer file split into its parts (SPEC.md §7.2). Nothing in it
/// is trusted yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerAnswerEnvelope<'a> {
    /// The server license, a raw license file.
    pub license: &'a [u8],
    /// The instance certificate (signed by the image key).
    pub instance_certificate: SignedBody<'a>,
    /// The answer (signed by the instance key).
    pub answer: SignedBody<'a>,
    /// The trailing optional `receipt` (SPEC.md §7.2): the server's current
    /// activation receipt file (§6.4), without its revocation list.
    pub receipt: Option<&'a [u8]>,
}

impl<'a> ServerAnswerEnvelope<'a> {
    /// Decodes a server answer file: the magic, then at most
    /// [`MAX_SERVER_ANSWER_LEN`] bytes in all, one canonical `ServerAnswerFile`, nothing after it.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let rest = crate::envelope::strip_magic(bytes, SERVER_ANSWER_MAGIC, MAX_SERVER_ANSWER_LEN)?;
        let (f, receipt) = canonical::decode_trailing::<wire::ServerAnswerFile<'a>, &'a [u8]>(rest)?;
        Ok(Self {
            receipt,
            license: f.license,
            instance_certificate: SignedBody {
                message: f.instance_certificate.message,
                signature: f.instance_certificate.signature.0,
            },
            answer: SignedBody { message: f.answer.message, signature: f.answer.signature.0 },
        })
    }
}

/// A validated TLS binding (SPEC.md §7.7): the instance key's word that the
/// TLS key whose SubjectPublicKeyInfo hashes to `spki_sha256` speaks for it.
/// Says nothing about its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsBinding {
    /// The server license.
    pub license_id: LicenseId,
    /// SHA-256 of the TLS key's DER SubjectPublicKeyInfo.
    pub spki_sha256: [u8; 32],
}

impl TlsBinding {
    /// Decodes a binding's signed message (label || canonical body).
    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let w: wire::TlsBindingBody = decode_labelled(message, TLS_BINDING_LABEL, "TLS binding")?;
        Self::from_wire(&w)
    }

    /// Validates a wire body: "`license_id` MUST NOT be all zero".
    pub fn from_wire(w: &wire::TlsBindingBody) -> Result<Self, DecodeError> {
        if w.license_id == [0; 16] {
            return Err(DecodeError::Invalid { field: "license_id", rule: "is all zero" });
        }
        Ok(Self { license_id: LicenseId(w.license_id), spki_sha256: w.spki_sha256 })
    }

    /// The wire form.
    pub fn to_wire(&self) -> wire::TlsBindingBody {
        wire::TlsBindingBody { license_id: self.license_id.0, spki_sha256: self.spki_sha256 }
    }
}

/// A TLS binding file split into its parts (SPEC.md §7.7). Nothing in it is
/// trusted yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsBindingEnvelope<'a> {
    /// The server license, a raw license file.
    pub license: &'a [u8],
    /// The instance certificate (signed by the image key).
    pub instance_certificate: SignedBody<'a>,
    /// The binding (signed by the instance key).
    pub binding: SignedBody<'a>,
}

impl<'a> TlsBindingEnvelope<'a> {
    /// Decodes a TLS binding file: the magic, then at most
    /// [`MAX_TLS_BINDING_LEN`] bytes in all, one canonical `TlsBindingFile`, nothing after it.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let rest = crate::envelope::strip_magic(bytes, TLS_BINDING_MAGIC, MAX_TLS_BINDING_LEN)?;
        let f: wire::TlsBindingFile<'a> = canonical::decode(rest)?;
        Ok(Self {
            license: f.license,
            instance_certificate: SignedBody {
                message: f.instance_certificate.message,
                signature: f.instance_certificate.signature.0,
            },
            binding: SignedBody { message: f.binding.message, signature: f.binding.signature.0 },
        })
    }
}

/// A `privateConfig` file split into its parts (SPEC.md §7.4). Nothing in
/// it is trusted yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrivateConfigEnvelope<'a> {
    /// The instance certificate (signed by the image key).
    pub instance_certificate: SignedBody<'a>,
    /// The state (signed by the instance key).
    pub state: SignedBody<'a>,
}

impl<'a> PrivateConfigEnvelope<'a> {
    /// Decodes a `privateConfig` file: the magic, then at most
    /// [`MAX_PRIVATE_CONFIG_LEN`] bytes in all, one canonical `PrivateConfigFile`, nothing after.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let rest = crate::envelope::strip_magic(bytes, PRIVATE_CONFIG_MAGIC, MAX_PRIVATE_CONFIG_LEN)?;
        let f: wire::PrivateConfigFile<'a> = canonical::decode(rest)?;
        Ok(Self {
            instance_certificate: SignedBody {
                message: f.instance_certificate.message,
                signature: f.instance_certificate.signature.0,
            },
            state: SignedBody { message: f.state.message, signature: f.state.signature.0 },
        })
    }
}

/// One link of the event log's hash chain (SPEC.md §7.4):
/// `next = SHA-256("fanlic/1/private-config-event\n" || previous || postcard(event))`.
pub fn chain_event(previous: &[u8; 32], event: &Event) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut buf = [0u8; 32];
    let mut h = Sha256::new().chain_update(PRIVATE_CONFIG_EVENT_LABEL).chain_update(previous);
    // An event is at most 10 + 1 + 16 bytes: the buffer always suffices.
    if let Ok(bytes) = postcard::to_slice(event, &mut buf) {
        h.update(bytes);
    }
    h.finalize().into()
}

/// The validated state of a `privateConfig` (SPEC.md §7.4), decoded from
/// its signed message. Says nothing about the signature.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateConfig {
    body: wire::PrivateConfigBody,
}

#[cfg(feature = "alloc")]
impl PrivateConfig {
    /// Decodes the state's signed message (label || canonical body) and
    /// applies every rule of SPEC.md §7.4.
    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let w: wire::PrivateConfigBody = decode_labelled(message, PRIVATE_CONFIG_LABEL, "privateConfig")?;
        Self::from_wire(w)
    }

    /// Validates a wire body: "`license_id` MUST NOT be all zero;
    /// `generation` MUST be at least 1; `nodes` MUST be in strictly
    /// ascending order of `node_id`, at most 4096; `events` at most 256, in
    /// non-decreasing order of `at`".
    pub fn from_wire(w: wire::PrivateConfigBody) -> Result<Self, DecodeError> {
        if w.license_id == [0; 16] {
            return Err(DecodeError::Invalid { field: "license_id", rule: "is all zero" });
        }
        if w.generation == 0 {
            return Err(DecodeError::Invalid { field: "generation", rule: "is zero" });
        }
        if w.nodes.len() > MAX_NODES {
            return Err(DecodeError::Invalid { field: "nodes", rule: "has more than 4096 entries" });
        }
        if w.nodes.iter().zip(w.nodes.iter().skip(1)).any(|(a, b)| a.node_id >= b.node_id) {
            return Err(DecodeError::Invalid { field: "nodes", rule: "is not in strictly ascending order of node_id" });
        }
        if w.events.len() > MAX_EVENTS {
            return Err(DecodeError::Invalid { field: "events", rule: "has more than 256 entries" });
        }
        if w.events.iter().zip(w.events.iter().skip(1)).any(|(a, b)| a.at > b.at) {
            return Err(DecodeError::Invalid { field: "events", rule: "is not in order of time" });
        }
        Ok(Self { body: w })
    }

    /// The wire form.
    pub fn to_wire(&self) -> &wire::PrivateConfigBody {
        &self.body
    }

    /// The server license.
    pub fn license_id(&self) -> LicenseId {
        LicenseId(self.body.license_id)
    }

    /// The instance public key.
    pub fn instance_public_key(&self) -> &[u8; 32] {
        &self.body.instance_public_key
    }

    /// The write counter.
    pub fn generation(&self) -> u64 {
        self.body.generation
    }

    /// The latest time the server has seen.
    pub fn time_high_water(&self) -> Timestamp {
        Timestamp(self.body.time_high_water)
    }

    /// When the current activation succeeded, if one holds.
    pub fn activated_at(&self) -> Option<Timestamp> {
        self.body.activated_at.map(Timestamp)
    }

    /// Registered nodes.
    pub fn nodes(&self) -> &[NodeRecord] {
        &self.body.nodes
    }

    /// The events kept, oldest first.
    pub fn events(&self) -> &[Event] {
        &self.body.events
    }

    /// The head of the event log's hash chain: `log_base` chained through
    /// every event kept.
    pub fn log_head(&self) -> [u8; 32] {
        self.body.events.iter().fold(self.body.log_base, |h, e| chain_event(&h, e))
    }
}

#[cfg(feature = "alloc")]
/// The message an image key signs for an instance key (SPEC.md §7.1).
pub fn encode_instance_certificate(cert: &InstanceCertificate) -> Result<Vec<u8>, DecodeError> {
    let msg = labelled(INSTANCE_CERTIFICATE_LABEL, &cert.to_wire())?;
    InstanceCertificate::decode(&msg)?;
    Ok(msg)
}

#[cfg(feature = "alloc")]
/// The message an instance key signs for an answer (SPEC.md §7.2).
pub fn encode_server_answer(answer: &ServerAnswer) -> Result<Vec<u8>, DecodeError> {
    let msg = labelled(SERVER_ANSWER_LABEL, &answer.to_wire())?;
    ServerAnswer::decode(&msg)?;
    Ok(msg)
}

#[cfg(feature = "alloc")]
/// A server answer file (SPEC.md §7.2): magic, the raw server license, the
/// instance certificate and the answer, each with its signature.
pub fn encode_server_answer_file(
    license_file: &[u8],
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    answer_message: &[u8],
    answer_signature: &[u8; 64],
) -> Result<Vec<u8>, DecodeError> {
    encode_server_answer_file_with_receipt(
        license_file,
        certificate_message,
        certificate_signature,
        answer_message,
        answer_signature,
        None,
    )
}

#[cfg(feature = "alloc")]
/// A server answer file (SPEC.md §7.2) that carries, in its trailing
/// optional `receipt`, the server's activation receipt (§6.4) without its
/// revocation list; `None` writes the file of [`encode_server_answer_file`].
pub fn encode_server_answer_file_with_receipt(
    license_file: &[u8],
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    answer_message: &[u8],
    answer_signature: &[u8; 64],
    receipt: Option<&[u8]>,
) -> Result<Vec<u8>, DecodeError> {
    use wire::ServerAnswerFile;
    let file = ServerAnswerFile {
        license: license_file,
        instance_certificate: crate::wire::SignedBody {
            message: certificate_message,
            signature: crate::wire::Signature(*certificate_signature),
        },
        answer: crate::wire::SignedBody {
            message: answer_message,
            signature: crate::wire::Signature(*answer_signature),
        },
    };
    let mut out = Vec::from(SERVER_ANSWER_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    if let Some(receipt) = receipt {
        out.extend_from_slice(&postcard::to_allocvec(&receipt).map_err(|_| DecodeError::Malformed)?);
    }
    ServerAnswerEnvelope::decode(&out)?;
    Ok(out)
}

#[cfg(feature = "alloc")]
/// The message an instance key signs for a TLS binding (SPEC.md §7.7).
pub fn encode_tls_binding(binding: &TlsBinding) -> Result<Vec<u8>, DecodeError> {
    let msg = labelled(TLS_BINDING_LABEL, &binding.to_wire())?;
    TlsBinding::decode(&msg)?;
    Ok(msg)
}

#[cfg(feature = "alloc")]
/// A TLS binding file (SPEC.md §7.7): magic, the raw server license, the
/// instance certificate and the binding, each with its signature.
pub fn encode_tls_binding_file(
    license_file: &[u8],
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    binding_message: &[u8],
    binding_signature: &[u8; 64],
) -> Result<Vec<u8>, DecodeError> {
    use wire::TlsBindingFile;
    let file = TlsBindingFile {
        license: license_file,
        instance_certificate: crate::wire::SignedBody {
            message: certificate_message,
            signature: crate::wire::Signature(*certificate_signature),
        },
        binding: crate::wire::SignedBody {
            message: binding_message,
            signature: crate::wire::Signature(*binding_signature),
        },
    };
    let mut out = Vec::from(TLS_BINDING_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    TlsBindingEnvelope::decode(&out)?;
    Ok(out)
}

#[cfg(feature = "alloc")]
/// The message an instance key signs for `privateConfig`'s state (SPEC.md
/// §7.4).
pub fn encode_private_config_body(body: &wire::PrivateConfigBody) -> Result<Vec<u8>, DecodeError> {
    let msg = labelled(PRIVATE_CONFIG_LABEL, body)?;
    PrivateConfig::decode(&msg)?;
    Ok(msg)
}

#[cfg(feature = "alloc")]
/// A `privateConfig` file (SPEC.md §7.4): magic, the instance certificate
/// and the state, each with its signature.
pub fn encode_private_config_file(
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    state_message: &[u8],
    state_signature: &[u8; 64],
) -> Result<Vec<u8>, DecodeError> {
    use wire::PrivateConfigFile;
    let file = PrivateConfigFile {
        instance_certificate: crate::wire::SignedBody {
            message: certificate_message,
            signature: crate::wire::Signature(*certificate_signature),
        },
        state: crate::wire::SignedBody { message: state_message, signature: crate::wire::Signature(*state_signature) },
    };
    let mut out = Vec::from(PRIVATE_CONFIG_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    PrivateConfigEnvelope::decode(&out)?;
    Ok(out)
}

#[cfg(all(test, feature = "alloc"))]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
mod tests {
    use proptest::prelude::*;
    use std::vec;

    use super::*;

    fn answer(kind: AnswerKind, at: u64, valid_until: u64, nodes: u32) -> ServerAnswer {
        ServerAnswer {
            license_id: LicenseId([7; 16]),
            kind,
            node_id: [1; 16],
            nonce: [2; 16],
            at: Timestamp(at),
            valid_until: Timestamp(valid_until),
            nodes,
        }
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let cert = InstanceCertificate {
            license_id: LicenseId([7; 16]),
            image_key_id: KeyId([3; 8]),
            instance_public_key: [4; 32],
            created_at: Timestamp(1_767_225_600),
        };
        let msg = encode_instance_certificate(&cert).unwrap();
        assert!(msg.starts_with(INSTANCE_CERTIFICATE_LABEL));
        assert_eq!(InstanceCertificate::decode(&msg), Ok(cert));

        let a = answer(AnswerKind::Heartbeat, 100, 100 + 86_400, 2);
        let amsg = encode_server_answer(&a).unwrap();
        assert_eq!(ServerAnswer::decode(&amsg), Ok(a));

        let file = encode_server_answer_file(b"license", &msg, &[5; 64], &amsg, &[6; 64]).unwrap();
        let env = ServerAnswerEnvelope::decode(&file).unwrap();
        assert_eq!(env.license, b"license");
        assert_eq!((env.instance_certificate.message, env.instance_certificate.signature), (&msg[..], [5; 64]));
        assert_eq!((env.answer.message, env.answer.signature), (&amsg[..], [6; 64]));

        let ev = Event { at: 5, kind: EventKind::Started, node_id: [0; 16] };
        let body = wire::PrivateConfigBody {
            license_id: [7; 16],
            instance_public_key: [4; 32],
            generation: 3,
            time_high_water: 9,
            activated_at: Some(6),
            nodes: vec![NodeRecord { node_id: [1; 16], registered_at: 6, last_seen: 9 }],
            log_base: [0; 32],
            events: vec![ev],
        };
        let smsg = encode_private_config_body(&body).unwrap();
        let pc = PrivateConfig::decode(&smsg).unwrap();
        assert_eq!(pc.to_wire(), &body);
        assert_eq!(pc.log_head(), chain_event(&[0; 32], &ev));
        let file = encode_private_config_file(&msg, &[5; 64], &smsg, &[8; 64]).unwrap();
        let env = PrivateConfigEnvelope::decode(&file).unwrap();
        assert_eq!(env.state.message, &smsg[..]);
    }

    #[test]
    fn rejects_what_breaks_a_rule() {
        let bad = |a: ServerAnswer| ServerAnswer::from_wire(&a.to_wire()).is_err();
        assert!(bad(answer(AnswerKind::Registered, 100, 99, 1)));
        assert!(bad(answer(AnswerKind::Registered, 100, 100 + 86_401, 1)));
        assert!(bad(answer(AnswerKind::Heartbeat, 100, 200, 0)));
        assert!(!bad(answer(AnswerKind::Deregistered, 100, 100, 0)));
        let mut a = answer(AnswerKind::Registered, 1, 2, 1);
        a.license_id = LicenseId([0; 16]);
        assert!(bad(a));

        let body = |nodes: vec::Vec<NodeRecord>, generation| wire::PrivateConfigBody {
            license_id: [7; 16],
            instance_public_key: [4; 32],
            generation,
            time_high_water: 9,
            activated_at: None,
            nodes,
            log_base: [0; 32],
            events: vec![],
        };
        let n = |b| NodeRecord { node_id: [b; 16], registered_at: 0, last_seen: 0 };
        assert!(PrivateConfig::from_wire(body(vec![n(1), n(2)], 1)).is_ok());
        assert!(PrivateConfig::from_wire(body(vec![n(2), n(1)], 1)).is_err());
        assert!(PrivateConfig::from_wire(body(vec![n(1), n(1)], 1)).is_err());
        assert!(PrivateConfig::from_wire(body(vec![], 0)).is_err());
        // A certificate's label is not an answer's.
        let cert = encode_instance_certificate(&InstanceCertificate {
            license_id: LicenseId([7; 16]),
            image_key_id: KeyId([3; 8]),
            instance_public_key: [4; 32],
            created_at: Timestamp(1),
        })
        .unwrap();
        assert!(ServerAnswer::decode(&cert).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = ServerAnswerEnvelope::decode(&bytes);
            let _ = PrivateConfigEnvelope::decode(&bytes);
            for label in [INSTANCE_CERTIFICATE_LABEL, SERVER_ANSWER_LABEL, PRIVATE_CONFIG_LABEL] {
                let m = [label, &bytes].concat();
                let _ = InstanceCertificate::decode(&m);
                let _ = ServerAnswer::decode(&m);
                let _ = PrivateConfig::decode(&m);
            }
            let _ = ServerAnswerEnvelope::decode(&[SERVER_ANSWER_MAGIC.as_slice(), &bytes].concat());
            let _ = PrivateConfigEnvelope::decode(&[PRIVATE_CONFIG_MAGIC.as_slice(), &bytes].concat());
        }
    }
}
