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
//! This module holds the request and what its parts share; `answer` checks
//! answers, `tls_binding` checks TLS bindings, `client` is the state
//! machine, `config` checks `privateConfig`.
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
use fanlic_formats::{Timestamp, private_cloud::AnswerKind};

use crate::check_signature;
pub use crate::node_auth::{AuthHeader, JoinSecret, RequestKey};

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

fn signature_holds(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    VerifyingKey::from_bytes(key).is_ok_and(|k| check_signature(&k, message, signature).is_ok())
}

/// Bytes as lowercase hex, in messages.
struct Hex<'b>(&'b [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

mod answer;
mod client;
// Also in the crate's own tests, which enable fanlic-formats' `alloc` as a
// dev-dependency whatever the features.
#[cfg(any(feature = "alloc", test))]
mod config;
#[cfg(test)]
mod tests;
mod tls_binding;

pub use answer::{
    AcceptedAnswer, AnswerCause, AnswerPart, AnswerRejection, verify_server_answer,
    verify_server_answer_with_revocations,
};
pub use client::{Client, Next, Status};
#[cfg(any(feature = "alloc", test))]
pub use config::{PrivateConfigError, verify_private_config};
pub use tls_binding::{BoundTlsKey, TlsBindingError, TlsBindingPart, verify_tls_binding};
