//! The authorization server's state as a pure state machine: time is passed
//! in, nothing here reads a clock or touches a file. The server calls
//! [`ServerState::take_write`] after each step and writes what it returns.
//!
//! The 24-hour rules (SPEC.md §7.3, §7.4):
//! - a node not heard from for 86400 s is dropped ([`ServerState::tick`],
//!   and before every request);
//! - at start, down for 24 hours or more: "the activation lapses
//!   (`ActivationLapsed`, `activated_at` cleared) and every node is dropped";
//!   less: "it resumes: the activation and the nodes hold";
//! - a clock behind `time_high_water` by more than 300 s refuses every
//!   request (`clock_behind`) until it passes `time_high_water`.

use std::collections::{BTreeMap, VecDeque};

use core::net::IpAddr;
use ed25519_dalek::{Signer as _, SigningKey};
use fanlic_formats::{
    LicenseId, Timestamp,
    activation::ServerInstance,
    encode_server_answer, encode_server_answer_file_with_receipt,
    private_cloud::{
        AnswerKind, Event, EventKind, MAX_EVENTS, MAX_NODES, NodeRecord, SILENCE_LIMIT_SECS, ServerAnswer, chain_event,
        instance_fingerprint,
        wire::{PrivateConfigBody, ServerAnswerBody},
    },
};

use fanlic_verifier::{
    CLOCK_TOLERANCE_SECS,
    activation::{ActivationKey, ChallengeInput, CodeError, make_challenge_after, project_fingerprint},
};
use serde::Serialize;

use crate::{
    Error,
    code_entry::{CodeEntry, ShownChallenge},
    config::{LoadedConfig, SignedCertificate, encode_private_config},
    hex,
    license::{ActivationPolicy, Cause, ServerLicense},
    receipt::{self, CheckedReceipt, Holder, ReceiptRefusal},
};

/// "at most every 600 seconds to move `time_high_water` and the nodes'
/// `last_seen` forward. It MUST NOT write on every heartbeat" (SPEC.md §7.4).
pub const TIME_WRITE_INTERVAL_SECS: u64 = 600;

/// A signed answer (SPEC.md §7.2).
#[derive(Clone, Debug)]
pub struct Answer {
    /// What it says.
    pub answer: ServerAnswer,
    /// The server answer file, as sent (base64) to the application.
    pub file: Vec<u8>,
}

/// An application's registration (SPEC.md §7.3).
#[derive(Clone, Copy, Debug)]
pub struct RegisterRequest<'a> {
    /// `FineReport`, `FineBI`.
    pub app_name: &'a str,
    /// The application's version, e.g. `11.0.20`.
    pub version: &'a str,
    /// Its project ("project content").
    pub project: &'a str,
    /// The node's id.
    pub node_id: [u8; 16],
    /// A fresh nonce, echoed in the answer.
    pub nonce: [u8; 16],
}

/// Why the QR page or the code entry refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The clock is behind the latest time seen.
    #[error(
        "this server's clock ({}) is behind the latest time it has seen ({}): correct the clock; everything is refused until it passes that time",
        Timestamp(*now),
        Timestamp(*high_water)
    )]
    ClockBehind {
        /// The clock.
        now: u64,
        /// `time_high_water`.
        high_water: u64,
    },
    /// Already activated: nothing to do.
    #[error("the authorization server is already activated (since {})", Timestamp(*at))]
    AlreadyActivated {
        /// When.
        at: u64,
    },
    /// The verifier's code check refused (SPEC.md §6.2).
    #[error("{0}")]
    Code(CodeError),
    /// The challenge could not be made (a license or base URL problem).
    #[error("cannot make the QR code: {0}")]
    Challenge(String),
    /// Under the license's receipt policy the server cannot check a code.
    #[error(
        "this server's license is activated by the vendor's receipt, not by a 6-digit code: this server cannot check codes. Use \"Activate through the vendor's service\" on /license/qrcode, or upload the receipt file the phone got"
    )]
    ReceiptPolicy,
}

impl Refusal {
    /// A stable code for JSON.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ClockBehind { .. } => "clock_behind",
            Self::AlreadyActivated { .. } => "already_activated",
            Self::Code(CodeError::NoChallenge) => "no_challenge",
            Self::Code(CodeError::NotSixDigits) => "not_six_digits",
            Self::Code(CodeError::ChallengeExpired { .. }) => "challenge_expired",
            Self::Code(CodeError::Locked { .. }) => "locked",
            Self::Code(CodeError::WrongCode { .. }) => "wrong_code",
            Self::Code(_) => "code_refused",
            Self::Challenge(_) => "challenge_failed",
            Self::ReceiptPolicy => "receipt_policy",
        }
    }
}

/// Where the server stands, for `/license/status` and the QR page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    /// A QR activation holds.
    pub activated: bool,
    /// When it succeeded.
    pub activated_at: Option<u64>,
    /// Nodes registered now.
    pub nodes: usize,
    /// Nodes the license allows.
    pub max_nodes: u32,
    /// `privateConfig`'s generation (last written).
    pub generation: u64,
    /// The instance fingerprint, hex (SPEC.md §7.1).
    pub instance_fingerprint: String,
    /// The server license's id, hex.
    pub license_id: String,
    /// Code entry is locked for every client until then (the global limit).
    pub locked_until: Option<u64>,
    /// Requests are refused: the clock is behind `time_high_water`.
    pub clock_behind: bool,
    /// The latest time seen.
    pub time_high_water: u64,
    /// `code` or `receipt` (the license's activation policy).
    pub activation_policy: &'static str,
    /// The id of the receipt held, hex.
    pub receipt_id: Option<String>,
    /// Re-activation is due then (the held receipt's lease); from then on
    /// registrations and heartbeats are refused `lease_expired`.
    pub lease_until: Option<u64>,
    /// The lease has ended.
    pub lease_expired: bool,
    /// The held receipt's revocation list revokes the server license: no
    /// node is served.
    pub revoked: bool,
}

/// The server's state: `privateConfig`'s content plus what lives only in
/// memory (code entry, the QR code shown, whether a write is due).
pub struct ServerState {
    license: ServerLicense,
    instance: SigningKey,
    certificate: SignedCertificate,
    fingerprint: [u8; 32],
    generation: u64,
    time_high_water: u64,
    activated_at: Option<u64>,
    nodes: BTreeMap<[u8; 16], NodeRecord>,
    log_base: [u8; 32],
    events: VecDeque<Event>,
    /// Refusing everything until the clock passes `time_high_water`.
    behind: bool,
    /// The latest receipt accepted (receipt policy), kept across restarts
    /// in `activation-receipt`.
    receipt: Option<CheckedReceipt>,
    /// Every client's QR code, wrong-code count and lock.
    code: CodeEntry,
    /// A change that must be written now.
    changed: bool,
    /// Only time moved (`time_high_water`, `last_seen`): written at most
    /// every [`TIME_WRITE_INTERVAL_SECS`].
    time_moved: bool,
    last_write: u64,
}

impl core::fmt::Debug for ServerState {
    // By hand: the instance key stays out of logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerState")
            .field("license", &self.license)
            .field("generation", &self.generation)
            .field("activated_at", &self.activated_at)
            .field("nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

/// The causes of SPEC.md §4.2 that come before `license_exhausted`.
const LICENSE_CAUSES_BEFORE_EXHAUSTED: [&str; 3] = ["license_expired", "version_mismatch", "app_name_mismatch"];

fn cause(code: &'static str, message: impl Into<String>) -> Cause {
    Cause { code, message: message.into() }
}

impl ServerState {
    /// A new instance at its first start: no activation, no nodes, the
    /// event `Created`. Call [`Self::start`] next.
    pub fn create(license: ServerLicense, instance: SigningKey, certificate: SignedCertificate, now: u64) -> Self {
        let mut s = Self::empty(license, instance, certificate, 0, now);
        s.event(now, EventKind::Created, [0; 16]);
        s
    }

    /// The state of a `privateConfig` that passed
    /// [`crate::config::verify_private_config`]. Call [`Self::start`] next.
    pub fn from_config(license: ServerLicense, instance: SigningKey, loaded: LoadedConfig) -> Self {
        let w = loaded.state.to_wire();
        let mut s = Self::empty(license, instance, loaded.certificate, w.generation, w.time_high_water);
        s.activated_at = w.activated_at;
        s.nodes = w.nodes.iter().map(|n| (n.node_id, *n)).collect();
        s.log_base = w.log_base;
        s.events = w.events.iter().copied().collect();
        s
    }

    fn empty(
        license: ServerLicense,
        instance: SigningKey,
        certificate: SignedCertificate,
        generation: u64,
        time_high_water: u64,
    ) -> Self {
        let fingerprint = instance_fingerprint(instance.verifying_key().as_bytes());
        Self {
            license,
            instance,
            certificate,
            fingerprint,
            generation,
            time_high_water,
            activated_at: None,
            nodes: BTreeMap::new(),
            log_base: [0; 32],
            events: VecDeque::new(),
            behind: false,
            receipt: None,
            code: CodeEntry::new(),
            changed: false,
            time_moved: false,
            last_write: time_high_water,
        }
    }

    /// Applies SPEC.md §7.4's "Starting" rules at `now` and records
    /// `Started`; the state must be written next.
    pub fn start(&mut self, now: u64) {
        self.event(now, EventKind::Started, [0; 16]);
        if now.saturating_add(CLOCK_TOLERANCE_SECS) < self.time_high_water {
            self.behind = true;
            self.event(now, EventKind::ClockBehind, [0; 16]);
        } else if now >= self.time_high_water.saturating_add(SILENCE_LIMIT_SECS) {
            if self.activated_at.take().is_some() {
                self.event(now, EventKind::ActivationLapsed, [0; 16]);
            }
            for id in core::mem::take(&mut self.nodes).into_keys() {
                self.event(now, EventKind::NodeDropped, id);
            }
        }
        self.changed = true;
        self.observe(now);
    }

    /// Appends an event; `at` never goes below the previous event's
    /// ("`at` non-decreasing"), even when the clock is behind. The oldest
    /// events beyond 256 leave their chain value in `log_base`.
    fn event(&mut self, now: u64, kind: EventKind, node_id: [u8; 16]) {
        let at = self.events.back().map_or(now, |e| e.at.max(now));
        self.events.push_back(Event { at, kind, node_id });
        while self.events.len() > MAX_EVENTS {
            if let Some(old) = self.events.pop_front() {
                self.log_base = chain_event(&self.log_base, &old);
            }
        }
        self.changed = true;
    }

    /// Moves time forward to `now`: clock checks, then nodes silent for 24
    /// hours are dropped.
    fn observe(&mut self, now: u64) {
        if self.behind {
            if now < self.time_high_water {
                return;
            }
            self.behind = false;
        }
        if now.saturating_add(CLOCK_TOLERANCE_SECS) < self.time_high_water {
            // Moved back while running.
            self.behind = true;
            self.event(now, EventKind::ClockBehind, [0; 16]);
            return;
        }
        if now > self.time_high_water {
            self.time_high_water = now;
            self.time_moved = true;
        }
        let silent: Vec<[u8; 16]> = self
            .nodes
            .values()
            .filter(|n| now >= n.last_seen.saturating_add(SILENCE_LIMIT_SECS))
            .map(|n| n.node_id)
            .collect();
        for id in silent {
            self.nodes.remove(&id);
            self.event(now, EventKind::NodeDropped, id);
        }
    }

    /// The timer's step: drops silent nodes and moves time forward.
    pub fn tick(&mut self, now: u64) {
        self.observe(now);
    }

    fn common_causes(&self, now: u64, causes: &mut Vec<Cause>) {
        if self.revoked() {
            causes.push(cause(
                "revoked",
                "The vendor has revoked this authorization server's license (the revocation list of its activation receipt): contact the vendor's business staff",
            ));
        }
        if self.activated_at.is_none() {
            let message = match self.license.activation_policy {
                ActivationPolicy::Receipt => {
                    "The authorization server is not activated: open https://SERVER:PORT/license/qrcode and activate it through the vendor's service"
                }
                ActivationPolicy::Code => {
                    "The authorization server is not activated: open https://SERVER:PORT/license/qrcode, scan the QR code with a phone and enter the 6-digit code"
                }
            };
            causes.push(cause("not_activated", message));
        } else if let Some(until) = self.lease_until().filter(|&u| now >= u) {
            causes.push(cause(
                "lease_expired",
                format!(
                    "The authorization server's activation lease ended at {}: open https://SERVER:PORT/license/qrcode and activate it again through the vendor's service",
                    Timestamp(until)
                ),
            ));
        }
        self.clock_cause(now, causes);
    }

    /// The held receipt's lease end.
    fn lease_until(&self) -> Option<u64> {
        self.receipt.as_ref().and_then(|r| r.lease_until)
    }

    /// The held receipt's revocation list revokes the server license.
    fn revoked(&self) -> bool {
        self.receipt.as_ref().is_some_and(|r| r.revokes_license)
    }

    fn clock_cause(&self, now: u64, causes: &mut Vec<Cause>) {
        if self.behind {
            causes.push(cause(
                "clock_behind",
                format!(
                    "The authorization server's clock ({}) is behind the latest time it has seen ({}): correct its clock",
                    Timestamp(now),
                    Timestamp(self.time_high_water)
                ),
            ));
        }
    }

    fn not_registered(&self, node_id: &[u8; 16], causes: &mut Vec<Cause>) {
        if !self.nodes.contains_key(node_id) {
            causes.push(cause(
                "not_registered",
                format!(
                    "Node {} is not registered with this authorization server (never, or dropped after 24 hours of silence): register again",
                    hex(node_id)
                ),
            ));
        }
    }

    fn node_count(&self) -> u32 {
        u32::try_from(self.nodes.len()).unwrap_or(u32::MAX)
    }

    /// `POST /api/v1/register`: every cause at once, or the node is
    /// registered (again: a known node just refreshes `last_seen`).
    pub fn register(&mut self, req: &RegisterRequest<'_>, now: u64) -> Result<Answer, Vec<Cause>> {
        self.observe(now);
        let known = self.nodes.contains_key(&req.node_id);
        let nodes = self.node_count().saturating_add(u32::from(!known));
        let mut causes = self.license.check_for(req.app_name, req.version, req.project, nodes, now);
        if !known && self.nodes.len() >= MAX_NODES && !causes.iter().any(|c| c.code == "license_exhausted") {
            // In its place of SPEC.md §4.2's order, before the causes that follow it there.
            let at =
                causes.iter().position(|c| !LICENSE_CAUSES_BEFORE_EXHAUSTED.contains(&c.code)).unwrap_or(causes.len());
            causes.insert(
                at,
                cause("license_exhausted", format!("An authorization server records at most {MAX_NODES} nodes")),
            );
        }
        self.common_causes(now, &mut causes);
        if !causes.is_empty() {
            return Err(causes);
        }
        if let Some(n) = self.nodes.get_mut(&req.node_id) {
            n.last_seen = now;
            self.time_moved = true;
        } else {
            self.nodes.insert(req.node_id, NodeRecord { node_id: req.node_id, registered_at: now, last_seen: now });
            self.event(now, EventKind::NodeRegistered, req.node_id);
        }
        self.answer(AnswerKind::Registered, req.node_id, req.nonce, now)
    }

    /// `POST /api/v1/heartbeat`: a registered node is heard from. Changes
    /// only time: not written at once.
    pub fn heartbeat(&mut self, node_id: [u8; 16], nonce: [u8; 16], now: u64) -> Result<Answer, Vec<Cause>> {
        self.observe(now);
        let mut causes = self.license.check_time(self.node_count(), now);
        self.common_causes(now, &mut causes);
        self.not_registered(&node_id, &mut causes);
        if !causes.is_empty() {
            return Err(causes);
        }
        if let Some(n) = self.nodes.get_mut(&node_id) {
            n.last_seen = now;
            self.time_moved = true;
        }
        self.answer(AnswerKind::Heartbeat, node_id, nonce, now)
    }

    /// `POST /api/v1/deregister`: the node leaves (works without an
    /// activation, so a cluster can always shrink).
    pub fn deregister(&mut self, node_id: [u8; 16], nonce: [u8; 16], now: u64) -> Result<Answer, Vec<Cause>> {
        self.observe(now);
        let mut causes = Vec::new();
        self.clock_cause(now, &mut causes);
        self.not_registered(&node_id, &mut causes);
        if !causes.is_empty() {
            return Err(causes);
        }
        self.nodes.remove(&node_id);
        self.event(now, EventKind::NodeDeregistered, node_id);
        self.answer(AnswerKind::Deregistered, node_id, nonce, now)
    }

    /// The admin removes a node from the status page (the join secret
    /// proved by the caller): recorded as `NodeDeregistered`, written at
    /// once. False if the node is not registered.
    pub fn evict(&mut self, node_id: [u8; 16], now: u64) -> bool {
        self.observe(now);
        if self.nodes.remove(&node_id).is_none() {
            return false;
        }
        self.event(now, EventKind::NodeDeregistered, node_id);
        true
    }

    /// Signs an answer: `valid_until = at + 86400` (SPEC.md §7.3).
    fn answer(&self, kind: AnswerKind, node_id: [u8; 16], nonce: [u8; 16], now: u64) -> Result<Answer, Vec<Cause>> {
        let internal = |e: fanlic_formats::DecodeError| {
            vec![cause("internal_error", format!("the authorization server cannot encode its answer: {e}"))]
        };
        let answer = ServerAnswer::from_wire(&ServerAnswerBody {
            license_id: self.license.id.0,
            kind,
            node_id,
            nonce,
            at: now,
            valid_until: now.saturating_add(SILENCE_LIMIT_SECS),
            nodes: self.node_count(),
        })
        .map_err(internal)?;
        let message = encode_server_answer(&answer).map_err(internal)?;
        let signature = self.instance.sign(&message).to_bytes();
        // Under receipt policy every answer carries the receipt held, without
        // its revocation list, so an application checks the vendor's word too.
        let receipt = match self.license.activation_policy {
            ActivationPolicy::Receipt => self.receipt.as_ref().map(|r| r.for_answers.as_slice()),
            ActivationPolicy::Code => None,
        };
        let file = encode_server_answer_file_with_receipt(
            &self.license.raw,
            &self.certificate.message,
            &self.certificate.signature,
            &message,
            &signature,
            receipt,
        )
        .map_err(internal)?;
        Ok(Answer { answer, file })
    }

    /// Whether `privateConfig` must be written at `now`.
    pub fn write_due(&self, now: u64) -> bool {
        self.changed || (self.time_moved && now >= self.last_write.saturating_add(TIME_WRITE_INTERVAL_SECS))
    }

    /// The next `privateConfig` file when a write is due, its generation one
    /// more than the last ("Every write adds 1 to `generation`").
    pub fn take_write(&mut self, now: u64) -> Result<Option<Vec<u8>>, Error> {
        if !self.write_due(now) {
            return Ok(None);
        }
        self.write_now(now).map(Some)
    }

    /// The next `privateConfig` file, due or not (at shutdown, so the
    /// downtime is measured from the last moment up).
    pub fn write_now(&mut self, now: u64) -> Result<Vec<u8>, Error> {
        let body = PrivateConfigBody {
            license_id: self.license.id.0,
            instance_public_key: *self.instance.verifying_key().as_bytes(),
            generation: self.generation.saturating_add(1),
            time_high_water: self.time_high_water,
            activated_at: self.activated_at,
            nodes: self.nodes.values().copied().collect(),
            log_base: self.log_base,
            events: self.events.iter().copied().collect(),
        };
        let file = encode_private_config(&self.certificate, &body, &self.instance)?;
        self.generation = body.generation;
        self.changed = false;
        self.time_moved = false;
        self.last_write = now;
        Ok(file)
    }

    /// The QR code to show: the current one while valid, else (or when
    /// `refresh`) a new challenge (SPEC.md §7.1, "Activation": `nodes = 1`,
    /// `node_id` = the first 16 bytes of the instance fingerprint, the project
    /// fingerprint with `deployment_id = instance_public_key`, and `server`).
    ///
    /// Each client (IP address) has its own QR code; `mono` is the process's
    /// monotonic clock in seconds (a challenge's age is measured on it too).
    #[allow(clippy::too_many_arguments, reason = "the request's parts, each needed")]
    pub fn challenge(
        &mut self,
        client: IpAddr,
        now: u64,
        mono: u64,
        nonce: [u8; 16],
        base_url: &str,
        refresh: bool,
    ) -> Result<ShownChallenge, Refusal> {
        self.observe(now);
        if self.license.activation_policy != ActivationPolicy::Receipt {
            // Under receipt policy a QR code is always shown: to renew the
            // lease while activated, and, the clock behind, because a
            // receipt's vendor_time is the way back.
            self.refuse_if_behind_or_active(now)?;
        }
        if !refresh && let Some(c) = self.code.shown(client, now, mono) {
            return Ok(c.clone());
        }
        let fail = |e: fanlic_formats::DecodeError| Refusal::Challenge(e.to_string());
        let instance_public = self.instance.verifying_key().to_bytes();
        let project =
            project_fingerprint(&self.license.app_name, &self.license.project, &instance_public).map_err(fail)?;
        let mut node_id = [0u8; 16];
        node_id.copy_from_slice(self.fingerprint.get(..16).unwrap_or(&[0; 16]));
        let version = self.license.version.to_string();
        // Under receipt policy the challenge names the receipt held (SPEC.md
        // §6.1 `previous_receipt`), so the vendor can tell a copy of this
        // server (which names an older one) from the server itself.
        let previous = match self.license.activation_policy {
            ActivationPolicy::Receipt => self.receipt.as_ref().map(|r| r.id),
            ActivationPolicy::Code => None,
        };
        let prepared = make_challenge_after(
            self.license.id,
            &ActivationKey::from_bytes(self.license.activation_key),
            &ChallengeInput {
                nonce,
                node_id,
                project_fingerprint: project,
                nodes: 1,
                app_version: &version,
                now: Timestamp(now),
                server: Some(ServerInstance { instance_fingerprint: self.fingerprint, generation: self.generation }),
            },
            previous,
        )
        .map_err(fail)?;
        let mut url = String::new();
        prepared
            .write_url(base_url, &mut url)
            .map_err(|_| Refusal::Challenge("the activation URL cannot be written".into()))?;
        if self.license.activation_policy == ActivationPolicy::Receipt {
            // The challenge carries only the instance key's fingerprint; the
            // receipt names the key itself, so the vendor is given it (the
            // service ignores an activation URL's query when reading the token).
            url.push_str("?instance_key=");
            url.push_str(&hex(&instance_public));
        }
        let shown = ShownChallenge { url, issued_at: now, token_sha256: prepared.token_sha256() };
        self.code.set_challenge(client, shown.clone(), prepared.code(), mono);
        Ok(shown)
    }

    fn refuse_if_behind_or_active(&self, now: u64) -> Result<(), Refusal> {
        if self.behind {
            return Err(Refusal::ClockBehind { now, high_water: self.time_high_water });
        }
        if let Some(at) = self.activated_at {
            return Err(Refusal::AlreadyActivated { at });
        }
        Ok(())
    }

    /// Checks a 6-digit code `client` typed against `client`'s own QR code
    /// ([`CodeEntry::enter`]: the sixth wrong code locks that client for 15
    /// minutes, a higher global limit locks everyone). The right code
    /// activates: `Activated`, to be written at once.
    pub fn enter_code(&mut self, client: IpAddr, typed: &str, now: u64, mono: u64) -> Result<u64, Refusal> {
        self.observe(now);
        if self.license.activation_policy == ActivationPolicy::Receipt {
            return Err(Refusal::ReceiptPolicy);
        }
        self.refuse_if_behind_or_active(now)?;
        self.code.enter(client, typed, now, mono).map_err(Refusal::Code)?;
        self.activated_at = Some(now);
        self.code.clear_challenges();
        self.event(now, EventKind::Activated, [0; 16]);
        Ok(now)
    }

    /// Where things stand at `now`.
    pub fn status(&self, now: u64) -> Status {
        Status {
            activated: self.activated_at.is_some(),
            activated_at: self.activated_at,
            nodes: self.nodes.len(),
            max_nodes: self.license.max_nodes,
            generation: self.generation,
            instance_fingerprint: hex(&self.fingerprint),
            license_id: self.license.id.to_string(),
            locked_until: self.code.global_locked_until(now),
            clock_behind: self.behind,
            time_high_water: self.time_high_water,
            activation_policy: self.license.activation_policy.as_str(),
            receipt_id: self.receipt.as_ref().map(|r| hex(&r.id)),
            lease_until: self.lease_until(),
            lease_expired: self.lease_until().is_some_and(|u| now >= u),
            revoked: self.revoked(),
        }
    }

    /// The receipt loaded from `activation-receipt` at start (its signatures
    /// checked by the caller): the one the next challenge names, the one
    /// every answer carries.
    pub fn set_receipt(&mut self, receipt: CheckedReceipt) {
        self.receipt = Some(receipt);
    }

    /// Whether a valid QR code whose raw token hashes to `token_sha256` is
    /// shown now (to any client).
    pub fn shows_challenge(&self, token_sha256: &[u8; 32], now: u64, mono: u64) -> bool {
        self.code.pending_by_token(token_sha256, now, mono).is_some()
    }

    /// The instance public key.
    pub fn instance_public_key(&self) -> [u8; 32] {
        self.instance.verifying_key().to_bytes()
    }

    /// The receipt held.
    pub fn receipt(&self) -> Option<&CheckedReceipt> {
        self.receipt.as_ref()
    }

    /// What a receipt is checked against: this server's license, instance
    /// key and held receipt.
    fn receipt_holder(&self) -> Holder<'_> {
        Holder {
            license: &self.license,
            instance_public_key: self.instance_public_key(),
            held: self.receipt.as_ref().map(|r| r.id),
        }
    }

    /// [`receipt::verify`] for this server at `now` (`mono`: the process's
    /// monotonic seconds, by which a challenge ages too).
    pub fn verify_receipt(&self, input: &[u8], now: u64, mono: u64) -> Result<CheckedReceipt, ReceiptRefusal> {
        receipt::verify(&self.receipt_holder(), |token| self.shows_challenge(token, now, mono), input, now)
    }

    /// [`receipt::load`] for this server: `activation-receipt` checked again
    /// at start.
    pub fn load_receipt(&self, input: &[u8], now: u64) -> Result<CheckedReceipt, String> {
        receipt::load(&self.receipt_holder(), input, now)
    }

    /// The server-side checks of a receipt the verifier accepted (SPEC.md
    /// §7.1 "Activation by receipt"), without changing anything: under
    /// receipt policy, for a QR code this server shows now, for its
    /// instance key, following the receipt it holds.
    pub fn check_receipt(&self, r: &CheckedReceipt, now: u64, mono: u64) -> Result<(), ReceiptRefusal> {
        if self.license.activation_policy != ActivationPolicy::Receipt {
            return Err(ReceiptRefusal::CodePolicy);
        }
        if self.code.pending_by_token(&r.challenge_sha256, now, mono).is_none() {
            return Err(ReceiptRefusal::NoPendingChallenge);
        }
        if r.instance_public_key != Some(self.instance.verifying_key().to_bytes()) {
            return Err(ReceiptRefusal::OtherInstance);
        }
        if r.previous_receipt != self.receipt.as_ref().map(|h| h.id) {
            return Err(ReceiptRefusal::StalePrevious);
        }
        Ok(())
    }

    /// Accepts a receipt that passed [`Self::check_receipt`] (checked again
    /// here) and whose file the caller has stored: its challenge is
    /// consumed (a receipt counts once) with every other QR code, the
    /// server is activated (`Activated`, written at once), and
    /// `time_high_water` becomes the receipt's `vendor_time`: the vendor's
    /// clock is the way back for a server whose clock ran ahead (a code
    /// never resets it). A receipt whose revocation list revokes the license
    /// is kept all the same, but activates nothing ([`ReceiptRefusal::Revoked`]).
    pub fn accept_receipt(&mut self, r: CheckedReceipt, now: u64, mono: u64) -> Result<u64, ReceiptRefusal> {
        self.check_receipt(&r, now, mono)?;
        self.code.take_by_token(&r.challenge_sha256, now, mono);
        self.code.clear_challenges();
        self.time_high_water = r.vendor_time;
        self.behind = now.saturating_add(CLOCK_TOLERANCE_SECS) < self.time_high_water;
        let revoked = r.revokes_license;
        self.receipt = Some(r);
        if revoked {
            // Kept, so the next challenge names it; but a license its list
            // revokes is not activated (SPEC.md §6.4), and an activation held
            // lapses.
            if self.activated_at.take().is_some() {
                self.event(now, EventKind::ActivationLapsed, [0; 16]);
            }
            self.changed = true;
            self.observe(now);
            return Err(ReceiptRefusal::Revoked);
        }
        self.activated_at = Some(now);
        self.event(now, EventKind::Activated, [0; 16]);
        self.observe(now);
        Ok(now)
    }

    /// Until when `client` cannot enter a code (its own lock or the global one).
    pub fn locked_until_for(&self, client: IpAddr, now: u64) -> Option<u64> {
        self.code.locked_until(client, now)
    }

    /// The counts and locks of code entry (their file is the caller's).
    pub fn code_entry_mut(&mut self) -> &mut CodeEntry {
        &mut self.code
    }

    /// The server license.
    pub fn license(&self) -> &ServerLicense {
        &self.license
    }

    /// The server license's id.
    pub fn license_id(&self) -> LicenseId {
        self.license.id
    }

    /// The events kept, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    /// The registered nodes.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeRecord> {
        self.nodes.values()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
mod tests {
    use ed25519_dalek::{Signature, VerifyingKey};
    use fanlic_formats::{
        activation::MAX_TOKEN_LEN,
        private_cloud::{PrivateConfigEnvelope, ServerAnswerEnvelope},
    };
    use fanlic_verifier::activation::{open_challenge, token_from_url};

    use super::*;
    use crate::{
        config::verify_private_config,
        keys::load_private_key,
        test_fixture::{ACTIVATION_KEY, BASE_URL, Fixture, ISSUED_AT, fixture, write_license_dir},
    };

    const T0: u64 = ISSUED_AT + 10_000_000;
    /// The admin's browser.
    const C: IpAddr = IpAddr::V4(core::net::Ipv4Addr::LOCALHOST);
    const DAY: u64 = 86_400;

    struct Setup {
        f: Fixture,
        license: ServerLicense,
        image: SigningKey,
        instance: SigningKey,
    }

    fn setup(max_nodes: u32) -> Setup {
        let f = fixture(max_nodes);
        let dir = tempfile::tempdir().unwrap();
        write_license_dir(dir.path(), &f);
        let image = load_private_key(&dir.path().join("image.key")).unwrap();
        let roots = crate::keys::load_root_keys(&dir.path().join("root-keys.pem")).unwrap();
        let license = ServerLicense::load(&dir.path().join("server.lic"), roots, &image, Timestamp(T0)).unwrap();
        Setup { f, license, image, instance: SigningKey::from_bytes(&[7; 32]) }
    }

    impl Setup {
        /// A first start at `now`, written once (generation 1).
        fn first_start(&self, now: u64) -> ServerState {
            let cert =
                SignedCertificate::make(self.license.id, &self.image, &self.instance.verifying_key(), Timestamp(now))
                    .unwrap();
            let mut s = ServerState::create(self.license.clone(), self.instance.clone(), cert, now);
            s.start(now);
            assert!(s.take_write(now).unwrap().is_some());
            s
        }

        /// What a restart at `now` makes of the file `bytes`.
        fn restart(&self, bytes: &[u8], now: u64) -> ServerState {
            let loaded = verify_private_config(
                bytes,
                &self.f.image.public(),
                self.license.id,
                self.instance.verifying_key().as_bytes(),
            )
            .unwrap();
            let mut s = ServerState::from_config(self.license.clone(), self.instance.clone(), loaded);
            s.start(now);
            s
        }
    }

    /// The code the vendor's service would show for the QR code's URL.
    fn code_for(url: &str, now: u64) -> String {
        let mut buf = [0u8; MAX_TOKEN_LEN];
        let token = token_from_url(url, &mut buf).unwrap();
        let (_, code) = open_challenge(token, &ActivationKey::from_bytes(ACTIVATION_KEY), Timestamp(now)).unwrap();
        code.to_string()
    }

    fn activate(s: &mut ServerState, now: u64) {
        let ch = s.challenge(C, now, now, [1; 16], BASE_URL, false).unwrap();
        s.enter_code(C, &code_for(&ch.url, now), now, now).unwrap();
    }

    fn req(node: u8) -> RegisterRequest<'static> {
        RegisterRequest {
            app_name: "FineReport",
            version: "11.0.20",
            project: "webroot",
            node_id: [node; 16],
            nonce: [node ^ 0xff; 16],
        }
    }

    fn codes(causes: &[Cause]) -> Vec<&'static str> {
        causes.iter().map(|c| c.code).collect()
    }

    #[test]
    fn registers_within_the_limits_with_a_signed_answer() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        activate(&mut s, T0 + 5);
        let a = s.register(&req(1), T0 + 10).unwrap();
        assert_eq!(a.answer.kind, AnswerKind::Registered);
        assert_eq!((a.answer.nodes, a.answer.node_id, a.answer.nonce), (1, [1; 16], [0xfe; 16]));
        assert_eq!(a.answer.valid_until, Timestamp(T0 + 10 + DAY));
        let env = ServerAnswerEnvelope::decode(&a.file).unwrap();
        assert_eq!(env.license, su.f.raw.as_slice());
        su.instance
            .verifying_key()
            .verify_strict(env.answer.message, &Signature::from_bytes(&env.answer.signature))
            .unwrap();
        VerifyingKey::from_bytes(&su.f.image.public())
            .unwrap()
            .verify_strict(
                env.instance_certificate.message,
                &Signature::from_bytes(&env.instance_certificate.signature),
            )
            .unwrap();
        assert_eq!(s.register(&req(2), T0 + 11).unwrap().answer.nodes, 2);
        // A known node registering again is not a new node.
        assert_eq!(s.register(&req(2), T0 + 12).unwrap().answer.nodes, 2);
    }

    #[test]
    fn refuses_with_every_cause_at_once() {
        let su = setup(1);
        let mut s = su.first_start(T0);
        // Not activated, and wrong project.
        let wrong_project = RegisterRequest { project: "other", ..req(1) };
        assert_eq!(codes(&s.register(&wrong_project, T0).unwrap_err()), ["project_content_mismatch", "not_activated"]);
        activate(&mut s, T0 + 1);
        s.register(&req(1), T0 + 2).unwrap();
        // A second node on a 1-node license, the wrong version and application.
        let bad = RegisterRequest { app_name: "FineBI", version: "10.0.1", ..req(2) };
        let causes = s.register(&bad, T0 + 3).unwrap_err();
        assert_eq!(codes(&causes), ["version_mismatch", "app_name_mismatch", "license_exhausted"]);
        assert!(causes[2].message.contains("2 nodes"), "{}", causes[2].message);
        assert_eq!(s.status(T0 + 3).nodes, 1);
        // The registered node is still welcome.
        s.register(&req(1), T0 + 4).unwrap();
    }

    /// SPEC.md §7.3: §4.2's causes in their order, then `not_activated`,
    /// `clock_behind`, `not_registered`; a deregistration needs no activation.
    #[test]
    fn refusal_causes_come_in_the_stated_order() {
        let su = setup(1);
        let mut s = su.first_start(T0);
        let bad = RegisterRequest { app_name: "FineBI", project: "other", ..req(1) };
        assert_eq!(
            codes(&s.register(&bad, T0 + 1).unwrap_err()),
            ["app_name_mismatch", "project_content_mismatch", "not_activated"]
        );
        assert_eq!(codes(&s.heartbeat([9; 16], [0; 16], T0 + 2).unwrap_err()), ["not_activated", "not_registered"]);
        assert_eq!(codes(&s.deregister([9; 16], [0; 16], T0 + 3).unwrap_err()), ["not_registered"]);
        // The clock moved back while running, not activated, unknown node.
        let ahead = T0 + 10_000;
        s.tick(ahead);
        assert_eq!(
            codes(&s.heartbeat([9; 16], [0; 16], T0 + 4).unwrap_err()),
            ["not_activated", "clock_behind", "not_registered"]
        );
        assert_eq!(codes(&s.deregister([9; 16], [0; 16], T0 + 5).unwrap_err()), ["clock_behind", "not_registered"]);
    }

    #[test]
    fn heartbeat_echoes_the_nonce_and_is_not_written() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        activate(&mut s, T0);
        assert!(s.take_write(T0).unwrap().is_some(), "activation is written at once");
        s.register(&req(1), T0 + 10).unwrap();
        let gen_before = s.status(T0).generation;
        assert!(s.take_write(T0 + 10).unwrap().is_some(), "a new node is written at once");
        assert_eq!(s.status(T0).generation, gen_before + 1);
        let a = s.heartbeat([1; 16], [9; 16], T0 + 20).unwrap();
        assert_eq!((a.answer.kind, a.answer.nonce, a.answer.node_id), (AnswerKind::Heartbeat, [9; 16], [1; 16]));
        assert!(s.take_write(T0 + 20).unwrap().is_none(), "a heartbeat is not written");
        s.heartbeat([1; 16], [8; 16], T0 + 400).unwrap();
        assert!(s.take_write(T0 + 400).unwrap().is_none());
        // At most every 600 s, time is written forward.
        s.heartbeat([1; 16], [7; 16], T0 + 10 + TIME_WRITE_INTERVAL_SECS).unwrap();
        let bytes = s.take_write(T0 + 10 + TIME_WRITE_INTERVAL_SECS).unwrap().unwrap();
        let env = PrivateConfigEnvelope::decode(&bytes).unwrap();
        let pc = fanlic_formats::private_cloud::PrivateConfig::decode(env.state.message).unwrap();
        assert_eq!(pc.nodes()[0].last_seen, T0 + 10 + TIME_WRITE_INTERVAL_SECS);
        assert_eq!(pc.generation(), gen_before + 2);
        // Unknown node.
        assert_eq!(codes(&s.heartbeat([3; 16], [1; 16], T0 + 700).unwrap_err()), ["not_registered"]);
    }

    #[test]
    fn deregisters() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        activate(&mut s, T0);
        s.register(&req(1), T0 + 1).unwrap();
        let a = s.deregister([1; 16], [5; 16], T0 + 2).unwrap();
        assert_eq!((a.answer.kind, a.answer.nodes, a.answer.nonce), (AnswerKind::Deregistered, 0, [5; 16]));
        assert!(s.write_due(T0 + 2));
        assert_eq!(codes(&s.deregister([1; 16], [5; 16], T0 + 3).unwrap_err()), ["not_registered"]);
        assert_eq!(s.events().last().unwrap().kind, EventKind::NodeDeregistered);
    }

    #[test]
    fn drops_a_node_silent_for_24_hours() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        activate(&mut s, T0);
        s.register(&req(1), T0).unwrap();
        s.register(&req(2), T0).unwrap();
        s.take_write(T0).unwrap();
        // Node 2 keeps talking; node 1 goes silent.
        for h in 1..=23 {
            s.heartbeat([2; 16], [0; 16], T0 + h * 3600).unwrap();
        }
        s.tick(T0 + DAY - 1);
        assert_eq!(s.status(T0 + DAY - 1).nodes, 2);
        s.tick(T0 + DAY);
        assert_eq!(s.nodes().map(|n| n.node_id).collect::<Vec<_>>(), [[2; 16]]);
        assert_eq!(s.events().last().map(|e| (e.kind, e.node_id)), Some((EventKind::NodeDropped, [1; 16])));
        assert!(s.write_due(T0 + DAY), "a drop is written at once");
        assert_eq!(codes(&s.heartbeat([1; 16], [0; 16], T0 + DAY + 1).unwrap_err()), ["not_registered"]);
        // Checked on requests too, without the timer.
        assert_eq!(codes(&s.heartbeat([2; 16], [0; 16], T0 + 23 * 3600 + DAY).unwrap_err()), ["not_registered"]);
    }

    #[test]
    fn restart_after_23_hours_resumes() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        activate(&mut s, T0);
        s.register(&req(1), T0 + 1).unwrap();
        let bytes = s.write_now(T0 + 2).unwrap();
        let generation = s.status(T0).generation;
        let mut s = su.restart(&bytes, T0 + 2 + 23 * 3600);
        let st = s.status(T0 + 2 + 23 * 3600);
        assert!(st.activated);
        assert_eq!(st.nodes, 1);
        assert_eq!(s.events().last().map(|e| e.kind), Some(EventKind::Started));
        let bytes = s.take_write(T0 + 2 + 23 * 3600).unwrap().unwrap();
        assert_eq!(s.status(0).generation, generation + 1, "a start is written, one more generation");
        s.heartbeat([1; 16], [0; 16], T0 + 23 * 3600 + 10).unwrap();
        drop(bytes);
    }

    #[test]
    fn restart_after_25_hours_needs_a_new_activation() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        activate(&mut s, T0);
        s.register(&req(1), T0 + 1).unwrap();
        let bytes = s.write_now(T0 + 2).unwrap();
        let now = T0 + 2 + 25 * 3600;
        let mut s = su.restart(&bytes, now);
        let st = s.status(now);
        assert!(!st.activated);
        assert_eq!(st.nodes, 0);
        let kinds: Vec<EventKind> = s.events().map(|e| e.kind).collect();
        assert!(
            kinds.ends_with(&[EventKind::Started, EventKind::ActivationLapsed, EventKind::NodeDropped]),
            "{kinds:?}"
        );
        assert_eq!(codes(&s.register(&req(1), now).unwrap_err()), ["not_activated"]);
        // With the same image: a new QR activation.
        activate(&mut s, now + 1);
        s.register(&req(1), now + 2).unwrap();
        // Exactly 24 hours counts as down too ("now >= time_high_water + 86400").
        let bytes = s.write_now(now + 2).unwrap();
        assert!(!su.restart(&bytes, now + 2 + DAY).status(0).activated);
        assert!(su.restart(&bytes, now + 1 + DAY).status(0).activated);
    }

    #[test]
    fn a_clock_behind_is_refused_until_it_passes_the_high_water_mark() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        activate(&mut s, T0);
        s.register(&req(1), T0 + 1).unwrap();
        s.tick(T0 + 1000);
        let bytes = s.write_now(T0 + 1000).unwrap();
        // Within the 300-s tolerance: fine.
        assert!(!su.restart(&bytes, T0 + 700).status(0).clock_behind);
        let mut s = su.restart(&bytes, T0 + 600);
        assert!(s.status(0).clock_behind);
        assert!(s.events().any(|e| e.kind == EventKind::ClockBehind));
        assert_eq!(codes(&s.heartbeat([1; 16], [0; 16], T0 + 601).unwrap_err()), ["clock_behind"]);
        assert_eq!(
            codes(&s.register(&req(2), T0 + 602).unwrap_err()),
            ["clock_behind"],
            "activation and nodes still hold"
        );
        assert!(matches!(
            s.challenge(C, T0 + 603, T0 + 603, [0; 16], BASE_URL, false),
            Err(Refusal::ClockBehind { .. })
        ));
        assert!(s.take_write(T0 + 604).unwrap().is_some(), "the start and ClockBehind are recorded");
        // The clock passes time_high_water: requests are answered again.
        s.heartbeat([1; 16], [0; 16], T0 + 1000).unwrap();
        assert!(!s.status(T0 + 1000).clock_behind);
        // A clock moved back while running.
        assert_eq!(codes(&s.heartbeat([1; 16], [0; 16], T0 + 1).unwrap_err()), ["clock_behind"]);
    }

    #[test]
    fn generation_grows_by_one_with_every_write_and_survives_restarts() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        assert_eq!(s.status(T0).generation, 1);
        let kinds: Vec<EventKind> = s.events().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::Created, EventKind::Started]);
        activate(&mut s, T0 + 1);
        s.take_write(T0 + 1).unwrap().unwrap();
        assert_eq!(s.status(T0).generation, 2);
        let bytes = s.write_now(T0 + 2).unwrap();
        let mut s = su.restart(&bytes, T0 + 3);
        assert_eq!(s.status(T0).generation, 3);
        s.take_write(T0 + 3).unwrap().unwrap();
        assert_eq!(s.status(T0).generation, 4);
        // The QR code carries the generation.
        let mut s = su.restart(&s.write_now(T0 + 4).unwrap(), T0 + 4 + 2 * DAY);
        s.take_write(T0 + 4 + 2 * DAY).unwrap().unwrap();
        let ch = s.challenge(C, T0 + 4 + 2 * DAY, T0 + 4 + 2 * DAY, [3; 16], BASE_URL, false).unwrap();
        let mut buf = [0u8; MAX_TOKEN_LEN];
        let token = token_from_url(&ch.url, &mut buf).unwrap();
        let (c, _) =
            open_challenge(token, &ActivationKey::from_bytes(ACTIVATION_KEY), Timestamp(T0 + 4 + 2 * DAY)).unwrap();
        let server = c.server.unwrap();
        assert_eq!(server.generation, 6);
        assert_eq!(server.instance_fingerprint, instance_fingerprint(su.instance.verifying_key().as_bytes()));
        assert_eq!(c.nodes, 1);
        assert_eq!(c.node_id, server.instance_fingerprint[..16]);
    }

    #[test]
    fn a_tampered_or_foreign_private_config_is_refused() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        activate(&mut s, T0);
        let bytes = s.write_now(T0 + 1).unwrap();
        let check = |b: &[u8], instance: &SigningKey| {
            verify_private_config(b, &su.f.image.public(), su.license.id, instance.verifying_key().as_bytes())
        };
        assert!(check(&bytes, &su.instance).is_ok());
        // One bit of the state changed (the last byte is in the signature; the
        // state message sits before it).
        let mut tampered = bytes.clone();
        let i = tampered.len() - 100;
        tampered[i] ^= 1;
        let err = check(&tampered, &su.instance).unwrap_err();
        assert!(err.contains("bad_signature") || err.contains("bad_encoding"), "{err}");
        // Another instance key.
        let err = check(&bytes, &SigningKey::from_bytes(&[8; 32])).unwrap_err();
        assert!(err.contains("another instance key"), "{err}");
        // Another image.
        let err = verify_private_config(&bytes, &[1; 32], su.license.id, su.instance.verifying_key().as_bytes());
        assert!(err.unwrap_err().contains("bad_signature"));
        // Another license.
        let err = verify_private_config(
            &bytes,
            &su.f.image.public(),
            LicenseId([1; 16]),
            su.instance.verifying_key().as_bytes(),
        );
        assert!(err.unwrap_err().contains("foreign_license"));
        assert!(check(b"garbage", &su.instance).unwrap_err().contains("unknown_format"));
    }

    #[test]
    fn code_entry_locks_at_the_sixth_wrong_code() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        let ch = s.challenge(C, T0, T0, [1; 16], BASE_URL, false).unwrap();
        let right = code_for(&ch.url, T0);
        let wrong = if right == "000000" { "000001" } else { "000000" };
        for i in 0..5 {
            assert_eq!(s.enter_code(C, wrong, T0 + i, T0 + i).unwrap_err().code(), "wrong_code");
        }
        // Refreshing buys no more guesses.
        let ch = s.challenge(C, T0 + 5, T0 + 5, [2; 16], BASE_URL, true).unwrap();
        assert_eq!(s.enter_code(C, wrong, T0 + 6, T0 + 6).unwrap_err().code(), "locked");
        assert_eq!(s.locked_until_for(C, T0 + 6), Some(T0 + 6 + 900));
        assert_eq!(s.status(T0 + 6).locked_until, None, "no global lock");
        let right = code_for(&ch.url, T0 + 6);
        assert_eq!(s.enter_code(C, &right, T0 + 7, T0 + 7).unwrap_err().code(), "locked");
        assert_eq!(s.enter_code(C, "12a", T0 + 8, T0 + 8).unwrap_err().code(), "locked");
        // After the lock, a fresh QR code and the right code.
        let ch = s.challenge(C, T0 + 6 + 900, T0 + 6 + 900, [3; 16], BASE_URL, false).unwrap();
        s.take_write(T0 + 6 + 900).unwrap();
        assert_eq!(s.enter_code(C, "12a", T0 + 6 + 900, T0 + 6 + 900).unwrap_err().code(), "not_six_digits");
        s.enter_code(C, &code_for(&ch.url, T0 + 6 + 900), T0 + 6 + 901, T0 + 6 + 901).unwrap();
        assert!(s.status(T0 + 6 + 901).activated);
        assert_eq!(s.events().last().map(|e| e.kind), Some(EventKind::Activated));
        assert!(s.write_due(T0 + 6 + 901));
        assert!(matches!(
            s.challenge(C, T0 + 6 + 902, T0 + 6 + 902, [0; 16], BASE_URL, false),
            Err(Refusal::AlreadyActivated { .. })
        ));
    }

    #[test]
    fn the_qr_code_is_kept_for_5_minutes() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        let a = s.challenge(C, T0, T0, [1; 16], BASE_URL, false).unwrap();
        assert_eq!(s.challenge(C, T0 + 299, T0 + 299, [2; 16], BASE_URL, false).unwrap(), a);
        assert_ne!(s.challenge(C, T0 + 300, T0 + 300, [2; 16], BASE_URL, false).unwrap(), a);
        assert!(a.url.starts_with("https://activate.example.invalid/a/"));
    }

    // ---------------------------------------------------------------------
    // Receipt policy: the server's own checks of a receipt the verifier
    // accepted (SPEC.md §7.1 "Activation by receipt").

    impl Setup {
        fn receipt_policy(mut self) -> Self {
            self.license.activation_policy = ActivationPolicy::Receipt;
            self
        }
    }

    /// What the vendor would sign for the QR code `ch` of `s`.
    fn receipt_for(
        s: &ServerState,
        ch: &ShownChallenge,
        id: u8,
        vendor_time: u64,
        lease: Option<u64>,
    ) -> CheckedReceipt {
        CheckedReceipt {
            id: [id; 32],
            challenge_sha256: ch.token_sha256,
            instance_public_key: Some(s.instance.verifying_key().to_bytes()),
            previous_receipt: s.receipt().map(|r| r.id),
            vendor_time,
            lease_until: lease,
            revokes_license: false,
            armored: String::new(),
            for_answers: Vec::new(),
        }
    }

    fn refusal(r: Result<u64, ReceiptRefusal>) -> &'static str {
        r.unwrap_err().code()
    }

    #[test]
    fn a_receipt_activates_once_for_a_pending_challenge_of_this_server() {
        let su = setup(2).receipt_policy();
        let mut s = su.first_start(T0);
        assert_eq!(codes(&s.register(&req(1), T0).unwrap_err()), ["not_activated"]);
        let ch = s.challenge(C, T0, T0, [1; 16], BASE_URL, false).unwrap();
        // Code entry is refused under receipt policy, whatever is typed.
        assert_eq!(s.enter_code(C, &code_for(&ch.url, T0), T0, T0).unwrap_err(), Refusal::ReceiptPolicy);
        // A receipt for a QR code this server never showed.
        let mut other = receipt_for(&s, &ch, 1, T0, None);
        other.challenge_sha256 = [9; 32];
        assert_eq!(refusal(s.accept_receipt(other, T0 + 1, T0 + 1)), "receipt_challenge_mismatch");
        // For another instance key.
        let mut other = receipt_for(&s, &ch, 1, T0, None);
        other.instance_public_key = Some([3; 32]);
        assert_eq!(refusal(s.accept_receipt(other.clone(), T0 + 1, T0 + 1)), "receipt_instance_mismatch");
        other.instance_public_key = None;
        assert_eq!(refusal(s.accept_receipt(other, T0 + 1, T0 + 1)), "receipt_instance_mismatch");
        // Following a receipt this server does not hold.
        let mut other = receipt_for(&s, &ch, 1, T0, None);
        other.previous_receipt = Some([4; 32]);
        assert_eq!(refusal(s.accept_receipt(other, T0 + 1, T0 + 1)), "receipt_previous_mismatch");
        assert!(!s.status(T0 + 1).activated, "nothing refused changed anything");
        // The right one, once.
        let good = receipt_for(&s, &ch, 1, T0, None);
        assert_eq!(s.accept_receipt(good.clone(), T0 + 2, T0 + 2).unwrap(), T0 + 2);
        assert!(s.status(T0 + 2).activated);
        assert_eq!(s.events().last().map(|e| e.kind), Some(EventKind::Activated));
        assert!(s.write_due(T0 + 2));
        assert_eq!(s.status(T0 + 2).receipt_id.unwrap(), hex(&[1; 32]));
        assert_eq!(refusal(s.accept_receipt(good, T0 + 3, T0 + 3)), "receipt_challenge_mismatch", "replayed");
        s.register(&req(1), T0 + 4).unwrap();
    }

    #[test]
    fn a_receipt_for_an_expired_qr_code_is_refused() {
        let su = setup(2).receipt_policy();
        let mut s = su.first_start(T0);
        let ch = s.challenge(C, T0, T0, [1; 16], BASE_URL, false).unwrap();
        let r = receipt_for(&s, &ch, 1, T0, None);
        assert_eq!(refusal(s.accept_receipt(r.clone(), T0 + 300, T0 + 300)), "receipt_challenge_mismatch");
        // Also when only the monotonic clock says so (the wall clock moved back).
        let ch = s.challenge(C, T0 + 301, 301, [2; 16], BASE_URL, false).unwrap();
        let r = receipt_for(&s, &ch, 1, T0 + 301, None);
        assert_eq!(refusal(s.accept_receipt(r, T0 + 302, 601)), "receipt_challenge_mismatch");
    }

    /// Re-activation: the next challenge follows the held receipt; a receipt
    /// made for a challenge before the last activation is stale.
    #[test]
    fn a_receipt_made_before_the_last_activation_is_stale() {
        let su = setup(2).receipt_policy();
        let mut s = su.first_start(T0);
        let admin = s.challenge(C, T0, T0, [1; 16], BASE_URL, false).unwrap();
        let other_client = IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, 9));
        let copy = s.challenge(other_client, T0, T0, [2; 16], BASE_URL, false).unwrap();
        let stale = receipt_for(&s, &copy, 2, T0, None);
        s.accept_receipt(receipt_for(&s, &admin, 1, T0, None), T0 + 1, T0 + 1).unwrap();
        // Every other QR code went with the activation; and even a pending one
        // whose receipt names no previous receipt is refused as stale.
        assert_eq!(refusal(s.accept_receipt(stale.clone(), T0 + 2, T0 + 2)), "receipt_challenge_mismatch");
        let again = s.challenge(other_client, T0 + 3, T0 + 3, [3; 16], BASE_URL, false).unwrap();
        let stale_again = CheckedReceipt { challenge_sha256: again.token_sha256, ..stale };
        assert_eq!(refusal(s.accept_receipt(stale_again, T0 + 4, T0 + 4)), "receipt_previous_mismatch");
        // Renewing while activated: follows receipt 1.
        let renew = receipt_for(&s, &again, 3, T0 + 4, None);
        assert_eq!(renew.previous_receipt, Some([1; 32]));
        s.accept_receipt(renew, T0 + 5, T0 + 5).unwrap();
        assert_eq!(s.receipt().unwrap().id, [3; 32]);
    }

    /// A server whose clock ran ahead is refused `clock_behind` once the
    /// clock is corrected; a receipt's `vendor_time` resets the high-water
    /// mark (a code never does).
    #[test]
    fn a_receipt_resets_the_high_water_mark_of_a_clock_that_ran_ahead() {
        let su = setup(2).receipt_policy();
        let mut s = su.first_start(T0);
        let ahead = T0 + 30 * DAY;
        s.tick(ahead);
        let bytes = s.write_now(ahead).unwrap();
        let mut s = su.restart(&bytes, T0 + 10);
        assert!(s.status(T0 + 10).clock_behind);
        assert_eq!(codes(&s.register(&req(1), T0 + 11).unwrap_err()), ["not_activated", "clock_behind"]);
        // The QR code is still shown under receipt policy: the way back.
        let ch = s.challenge(C, T0 + 12, T0 + 12, [1; 16], BASE_URL, false).unwrap();
        s.accept_receipt(receipt_for(&s, &ch, 1, T0 + 13, None), T0 + 14, T0 + 14).unwrap();
        let st = s.status(T0 + 14);
        assert!(!st.clock_behind && st.activated);
        assert_eq!(st.time_high_water, T0 + 14, "vendor_time, then the clock moved it on");
        s.register(&req(1), T0 + 15).unwrap();
        // Under code policy the clock behind keeps the QR code away.
        let su = setup(2);
        let mut s = su.first_start(T0);
        s.tick(ahead);
        let mut s = su.restart(&s.write_now(ahead).unwrap(), T0 + 10);
        assert!(matches!(s.challenge(C, T0 + 12, T0 + 12, [1; 16], BASE_URL, false), Err(Refusal::ClockBehind { .. })));
    }

    #[test]
    fn from_the_lease_end_registrations_and_heartbeats_are_refused_lease_expired() {
        let su = setup(2).receipt_policy();
        let mut s = su.first_start(T0);
        let ch = s.challenge(C, T0, T0, [1; 16], BASE_URL, false).unwrap();
        let lease = T0 + 1000;
        s.accept_receipt(receipt_for(&s, &ch, 1, T0, Some(lease)), T0 + 1, T0 + 1).unwrap();
        s.register(&req(1), T0 + 2).unwrap();
        s.heartbeat([1; 16], [2; 16], lease - 1).unwrap();
        let st = s.status(lease);
        assert_eq!((st.lease_until, st.lease_expired), (Some(lease), true));
        assert_eq!(codes(&s.heartbeat([1; 16], [3; 16], lease).unwrap_err()), ["lease_expired"]);
        assert_eq!(codes(&s.register(&req(2), lease + 1).unwrap_err()), ["lease_expired"]);
        // A cluster can still shrink.
        s.deregister([1; 16], [4; 16], lease + 2).unwrap();
        // Activating again renews the lease.
        let ch = s.challenge(C, lease + 3, lease + 3, [2; 16], BASE_URL, false).unwrap();
        s.accept_receipt(receipt_for(&s, &ch, 2, lease + 3, Some(lease + 5000)), lease + 4, lease + 4).unwrap();
        s.register(&req(1), lease + 5).unwrap();
    }

    #[test]
    fn a_receipt_whose_list_revokes_the_license_serves_nothing() {
        let su = setup(2).receipt_policy();
        let mut s = su.first_start(T0);
        let ch = s.challenge(C, T0, T0, [1; 16], BASE_URL, false).unwrap();
        s.accept_receipt(receipt_for(&s, &ch, 1, T0, None), T0 + 1, T0 + 1).unwrap();
        s.register(&req(1), T0 + 2).unwrap();
        let ch = s.challenge(C, T0 + 3, T0 + 3, [2; 16], BASE_URL, false).unwrap();
        let r = CheckedReceipt { revokes_license: true, ..receipt_for(&s, &ch, 2, T0 + 3, None) };
        assert_eq!(refusal(s.accept_receipt(r, T0 + 4, T0 + 4)), "revoked");
        let st = s.status(T0 + 4);
        assert!(st.revoked && !st.activated, "kept, and the activation lapsed");
        assert_eq!(st.receipt_id, Some(hex(&[2; 32])), "the next challenge names it");
        assert_eq!(s.events().last().map(|e| e.kind), Some(EventKind::ActivationLapsed));
        assert_eq!(codes(&s.heartbeat([1; 16], [3; 16], T0 + 5).unwrap_err()), ["revoked", "not_activated"]);
    }

    #[test]
    fn under_code_policy_a_receipt_is_refused() {
        let su = setup(2);
        let mut s = su.first_start(T0);
        let ch = s.challenge(C, T0, T0, [1; 16], BASE_URL, false).unwrap();
        assert_eq!(refusal(s.accept_receipt(receipt_for(&s, &ch, 1, T0, None), T0, T0)), "wrong_policy");
    }
}
