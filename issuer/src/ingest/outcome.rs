//! What happened to one message: the decision recorded (or that it was
//! decided before), for the caller to print.

use core::fmt;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::store::decisions::{DecisionKind, ReasonCode};

/// What `fanlic ingest` did with a message: recorded a decision, or found
/// it decided before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutcomeKind {
    /// A decision was recorded now.
    Decided(DecisionKind),
    /// The message was decided before; nothing was done again.
    Duplicate,
}

impl OutcomeKind {
    /// The printed name: the decision's, or `duplicate`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Decided(k) => k.as_str(),
            OutcomeKind::Duplicate => "duplicate",
        }
    }

    /// Whether a decision of kind `k` was recorded now.
    pub fn is(self, k: DecisionKind) -> bool {
        self == OutcomeKind::Decided(k)
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What happened to one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Where it came from.
    pub source: String,
    /// Its `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// Its sender, normalized.
    pub from: Option<String>,
    /// The decision recorded, or that the message was decided before.
    pub decision: OutcomeKind,
    /// `(code, message)` of every reason.
    pub reasons: Vec<(String, String)>,
    /// The license issued (for a duplicate: the earlier one; for `revoked`:
    /// the license revoked), if any.
    pub license_id: Option<String>,
    /// Files written now (absolute).
    pub files: Vec<PathBuf>,
    /// The decision's row (for a duplicate: the earlier decision's).
    pub decision_id: Option<i64>,
    /// The reply queued, if any.
    pub outbox_id: Option<i64>,
    /// For a duplicate: when the earlier decision was made (`fanlic watch`
    /// on a mailbox leaves one decided moments ago for the watcher that
    /// decided it to move).
    pub earlier_decided_at: Option<fanlic_formats::Timestamp>,
    /// The license text still to be written once the decision commits.
    pub(crate) pending_file: Option<String>,
    /// A private-cloud license: its image and reply are made after the
    /// commit ([`crate::ingest::private_cloud::deliver_image`]).
    pub(crate) image_owed: bool,
}

impl IngestOutcome {
    /// The `--json` line.
    pub fn to_json(&self) -> Value {
        json!({
            "source": self.source,
            "message_id": self.message_id,
            "from": self.from,
            "decision": self.decision.as_str(),
            "reasons": self.reasons.iter().map(|(c, m)| json!({"code": c, "message": m})).collect::<Vec<_>>(),
            "license_id": self.license_id,
            "files": self.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "decision_id": self.decision_id,
        })
    }

    /// One line for people.
    pub fn human(&self) -> String {
        let id = self.decision_id.map(|i| format!(" [decision {i}]")).unwrap_or_default();
        let codes: Vec<&str> = self.reasons.iter().map(|(c, _)| c.as_str()).collect();
        let detail = match self.decision {
            OutcomeKind::Decided(DecisionKind::Issued) => format!(
                "license {} -> {}",
                self.license_id.as_deref().unwrap_or("?"),
                self.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
            OutcomeKind::Decided(DecisionKind::Revoked) => {
                format!("license {}", self.license_id.as_deref().unwrap_or("?"))
            }
            OutcomeKind::Decided(DecisionKind::Resent) => format!(
                "license {} ({})",
                self.license_id.as_deref().unwrap_or("?"),
                if codes.contains(&ReasonCode::ResendLimited.as_str()) {
                    "sent less than 24 hours ago: not again"
                } else {
                    "sent again"
                }
            ),
            _ if codes.is_empty() => String::new(),
            _ => format!("({})", codes.join(", ")),
        };
        let reply = if self.outbox_id.is_some() { "; reply queued" } else { "" };
        format!("{}: {}{id} {detail}{reply}\n", self.source, self.decision)
    }
}
