//! The product's client of the authorization server (SPEC.md §7.3, §7.5):
//! the registration state machine.

use fanlic_formats::{
    RevocationList, Timestamp,
    private_cloud::{AnswerKind, HEARTBEAT_INTERVAL_SECS},
};

use super::answer::{AnswerCause, AnswerRejection, verify_server_answer_with_revocations};
use super::tls_binding::{BoundTlsKey, TlsBindingError, verify_tls_binding};
use super::{RETRY_SECS, Request};
use crate::{Environment, RootKey, Verified};

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
