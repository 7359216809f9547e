//! Registration-mail decisions: one row per message decided, the states a
//! decision takes ([`DecisionKind`]), the stable reason codes it records
//! ([`ReasonCode`], in `store/reasons.rs`), and every read and write of the
//! `decisions` table.
//!
//! A message is recorded under its dedup key and whether its sender was
//! authenticated (`UNIQUE (dedup_key, authenticated)`); the decision row and
//! its audit entry are written together. Rejected and ignored mail keeps
//! only its first [`RAW_KEPT_BYTES`]; everything else keeps the message
//! whole, for staff and for a later private-cloud delivery.

use core::fmt;
use core::str::FromStr;
use std::path::Path;

use super::sql::{OptionalExtension as _, params};
use fanlic_formats::Timestamp;

use super::audit::{self, Action, reasons_from_json, reasons_json};
pub use super::reasons::{ReasonCode, UnknownCode};
use super::{Store, Tx, err, int};
use crate::Error;

/// What was decided about a message, as the `decisions.decision` column
/// stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecisionKind {
    /// A license was issued.
    Issued,
    /// Refused; the sender may fix the request and send it again.
    Rejected,
    /// Kept for staff (`fanlic review`).
    Held,
    /// The project's live license was sent again.
    Resent,
    /// A resend of a held request, added to it.
    Joined,
    /// An automatic mail: recorded, never answered.
    Ignored,
    /// A destroy request carried out: a license revoked.
    Revoked,
}

impl DecisionKind {
    /// Every kind, in the schema's order.
    pub const ALL: [DecisionKind; 7] = [
        DecisionKind::Issued,
        DecisionKind::Rejected,
        DecisionKind::Held,
        DecisionKind::Resent,
        DecisionKind::Joined,
        DecisionKind::Ignored,
        DecisionKind::Revoked,
    ];

    /// The stored (and printed) name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Issued => "issued",
            DecisionKind::Rejected => "rejected",
            DecisionKind::Held => "held",
            DecisionKind::Resent => "resent",
            DecisionKind::Joined => "joined",
            DecisionKind::Ignored => "ignored",
            DecisionKind::Revoked => "revoked",
        }
    }

    /// The kind named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether staff still have to decide.
    pub const fn is_hold(self) -> bool {
        matches!(self, DecisionKind::Held)
    }

    /// Whether the decision keeps only the head of its message: nothing
    /// reads rejected or ignored mail again.
    pub const fn keeps_head_only(self) -> bool {
        matches!(self, DecisionKind::Rejected | DecisionKind::Ignored)
    }
}

impl fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DecisionKind {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownCode(s.to_owned()))
    }
}

/// How much of a rejected or ignored message the decision keeps: its first
/// 64 KiB (with the digest and size of the whole).
pub const RAW_KEPT_BYTES: usize = 64 << 10;

/// How much of a decision's message is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawCopy {
    /// The whole message.
    Whole,
    /// Its first [`RAW_KEPT_BYTES`] only (or nothing, for a message too
    /// large to read): rejected or ignored mail.
    Truncated,
    /// Removed by `fanlic prune`; the digest and size stay.
    Pruned,
}

impl RawCopy {
    /// The stored text: `whole`, `truncated`, `pruned`.
    pub fn as_str(self) -> &'static str {
        match self {
            RawCopy::Whole => "whole",
            RawCopy::Truncated => "truncated",
            RawCopy::Pruned => "pruned",
        }
    }

    fn parse(s: &str) -> RawCopy {
        match s {
            "truncated" => RawCopy::Truncated,
            "pruned" => RawCopy::Pruned,
            _ => RawCopy::Whole,
        }
    }
}

/// What of a decision's message is kept ([`RawCopy`]), and the bytes: the
/// whole message for what staff or a later step may act on (held, issued,
/// resent, joined, revoked: approve and a private-cloud delivery parse it
/// again), the first [`RAW_KEPT_BYTES`] for rejected and ignored mail
/// (unparseable and too-large junk included), which nothing reads again.
fn raw_to_keep(kind: DecisionKind, raw: &[u8], size: u64) -> (RawCopy, &[u8]) {
    let cut = raw.get(..RAW_KEPT_BYTES).filter(|_| kind.keeps_head_only()).unwrap_or(raw);
    let complete = u64::try_from(cut.len()).is_ok_and(|n| n == size);
    (if complete { RawCopy::Whole } else { RawCopy::Truncated }, cut)
}

/// A recorded decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionRow {
    /// Its id (for `approve` / `reject`).
    pub id: i64,
    /// The dedup key.
    pub dedup_key: String,
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// Where the message came from.
    pub source: String,
    /// The sender, normalized.
    pub from: String,
    /// The subject.
    pub subject: String,
    /// What was decided.
    pub decision: DecisionKind,
    /// `(code, message)` of every reason.
    pub reasons: Vec<(String, String)>,
    /// The license, if issued.
    pub license_id: Option<String>,
    /// Whether the sender was authenticated.
    pub authenticated: bool,
    /// The raw message, as much of it as is kept ([`DecisionRow::raw_kept`]).
    pub raw: Vec<u8>,
    /// How much of the message `raw` holds.
    pub raw_kept: RawCopy,
    /// The whole message's size in bytes.
    pub raw_size: u64,
    /// SHA-256 of the whole message, lowercase hex (for mail too large to
    /// read: of its source and size).
    pub raw_sha256: String,
    /// When decided.
    pub decided_at: Timestamp,
    /// By whom.
    pub decided_by: String,
    /// How many resends of the same request joined this one while it was held.
    pub resends_joined: u64,
}

impl DecisionRow {
    /// Whether one of its reasons has `code`.
    pub fn has_reason(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|(c, _)| code.is(c))
    }
}

/// Everything recorded about one decision.
#[derive(Clone, Copy, Debug)]
pub struct NewDecision<'a> {
    /// The message's dedup key.
    pub dedup_key: &'a str,
    /// Its `Message-ID`, without angle brackets.
    pub message_id: Option<&'a str>,
    /// Where it came from.
    pub source: &'a str,
    /// Its sender, normalized; empty when none.
    pub from: &'a str,
    /// Its subject.
    pub subject: &'a str,
    /// What was decided.
    pub decision: DecisionKind,
    /// The audit trail's action.
    pub action: Action,
    /// `(code, message)` of every reason.
    pub reasons: &'a [(String, String)],
    /// The license issued, resent or revoked.
    pub license_id: Option<&'a str>,
    /// Whether the sender was authenticated.
    pub authenticated: bool,
    /// The message as read (its head only when too large to read).
    pub raw: &'a [u8],
    /// The message's full size in bytes.
    pub raw_size: u64,
    /// SHA-256 of the whole message, lowercase hex.
    pub raw_sha256: &'a str,
    /// The reply queued with it.
    pub outbox_id: Option<i64>,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: &'a str,
    /// The request's key (sender, company, application, project), when it
    /// names one.
    pub request_key: Option<&'a str>,
    /// For a `joined` decision: the held decision it joined.
    pub joined_to: Option<i64>,
}

/// An audit entry about a decision.
#[derive(Clone, Copy, Debug)]
pub struct DecisionEvent<'a> {
    /// The decision, if one was recorded.
    pub decision_id: Option<i64>,
    /// The message's dedup key.
    pub dedup_key: &'a str,
    /// What happened.
    pub action: Action,
    /// `(code, message)` of every reason.
    pub reasons: &'a [(String, String)],
    /// The license concerned.
    pub license_id: Option<&'a str>,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: &'a str,
}

/// The earlier decision a message duplicates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlierDecision {
    /// Its row.
    pub id: i64,
    /// What was decided.
    pub decision: DecisionKind,
    /// Its license, if any.
    pub license_id: Option<String>,
    /// When it was made.
    pub decided_at: Timestamp,
}

/// Staff's (or approval's) settlement of a held decision.
#[derive(Clone, Copy, Debug)]
pub struct Settlement<'a> {
    /// The decision now.
    pub decision: DecisionKind,
    /// The reasons now; `None`: as they were.
    pub reasons: Option<&'a [(String, String)]>,
    /// The license now; `None`: as it was.
    pub license_id: Option<&'a str>,
    /// The reply queued.
    pub outbox_id: Option<i64>,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: &'a str,
}

/// A held decision as the review queue lists it: no message bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldSummary {
    /// Its id.
    pub id: i64,
    /// The sender, normalized; empty when none.
    pub from: String,
    /// The subject.
    pub subject: String,
    /// `(code, message)` of every reason.
    pub reasons: Vec<(String, String)>,
    /// Whether the sender was authenticated.
    pub authenticated: bool,
    /// When it was held.
    pub decided_at: Timestamp,
    /// How many resends joined it.
    pub resends_joined: u64,
}

/// What a private-cloud delivery needs of its decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The license issued or resent.
    pub license_id: Option<String>,
    /// The sender, normalized; empty when none.
    pub from: String,
    /// Whether the sender was authenticated.
    pub authenticated: bool,
    /// The reply recorded, if any.
    pub outbox_id: Option<i64>,
    /// The message.
    pub raw: Vec<u8>,
}

/// What `fanlic prune` finds before a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prunable {
    /// Decisions whose raw copy may go.
    pub rows: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Decisions still held (kept whole).
    pub held: u64,
}

const DECISION_COLUMNS: &str = "decision_id, dedup_key, message_id, source, from_addr, subject, decision, reasons,
     license_id, authenticated, raw, decided_at, decided_by,
     (SELECT count(*) FROM decisions j WHERE j.joined_to = decisions.decision_id),
     raw_kept, coalesce(raw_size, length(raw)), raw_sha256";

/// Decisions whose raw copy `fanlic prune --before` removes: decided
/// before ?1, not held, not pruned yet, and not an owed private-cloud reply.
/// The decisions are named (not `<> 'held'`) so that the index on
/// `(decision, decided_at)` finds them without reading every row's mail.
const PRUNABLE: &str = "decision IN ('issued', 'rejected', 'resent', 'joined', 'ignored', 'revoked')
     AND decided_at < ?1 AND raw_kept <> 'pruned'
     AND NOT (decision IN ('issued', 'resent') AND outbox_id IS NULL AND authenticated = 1 AND from_addr <> ''
              AND license_id IN (SELECT license_id FROM licenses WHERE kind = 'private-cloud'))";

pub(super) fn kind_of(r: &super::sql::Row<'_>, i: usize) -> super::sql::Result<DecisionKind> {
    let s: String = r.get(i)?;
    DecisionKind::parse(&s).ok_or_else(|| super::sql::Error::Conversion { column: i, source: Box::new(UnknownCode(s)) })
}

fn decision_row(r: &super::sql::Row<'_>) -> super::sql::Result<DecisionRow> {
    let at: i64 = r.get(11)?;
    Ok(DecisionRow {
        id: r.get(0)?,
        dedup_key: r.get(1)?,
        message_id: r.get(2)?,
        source: r.get(3)?,
        from: r.get(4)?,
        subject: r.get(5)?,
        decision: kind_of(r, 6)?,
        reasons: reasons_from_json(&r.get::<_, String>(7)?),
        license_id: r.get(8)?,
        authenticated: r.get(9)?,
        raw: r.get(10)?,
        decided_at: Timestamp(u64::try_from(at).unwrap_or(0)),
        decided_by: r.get(12)?,
        resends_joined: u64::try_from(r.get::<_, i64>(13)?).unwrap_or(0),
        raw_kept: RawCopy::parse(&r.get::<_, String>(14)?),
        raw_size: u64::try_from(r.get::<_, i64>(15)?).unwrap_or(0),
        raw_sha256: r.get(16)?,
    })
}

const READ: &str = "cannot read the decisions";
const RECORD: &str = "cannot record the decision";

impl Store {
    /// Puts the database in write-ahead-log mode with `synchronous = FULL`,
    /// once (the journal mode is stored in the database file; later calls
    /// only read it).
    ///
    /// In the default rollback-journal mode every commit creates, flushes
    /// and deletes a journal file and flushes the database (several fsyncs
    /// and file creations per commit); in WAL mode a commit appends to the
    /// log and flushes it once. `synchronous = FULL` (not `NORMAL`) keeps
    /// that flush at *every* commit, so a decision is durable, power loss
    /// included, before its message is acknowledged: with `NORMAL` the last
    /// commits could roll back on power loss after their messages were
    /// moved to `cur/`, and those mails would be lost. If WAL cannot be set
    /// (another connection is open, or a file system without shared
    /// memory), the database stays in its journal mode, as safe, only slower.
    pub fn use_wal(&mut self) -> Result<(), Error> {
        match self.sqlite() {
            Some(conn) => use_wal(conn, &self.path),
            // PostgreSQL commits durably (its WAL, synchronous_commit) as it is.
            None => Ok(()),
        }
    }
}

fn use_wal(conn: &rusqlite::Connection, path: &Path) -> Result<(), Error> {
    let err = super::lite_err;
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .map_err(err(path, "cannot read the journal mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // The answer is the mode now in force; anything but WAL is kept as is.
        let _: Option<String> = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).ok();
    }
    conn.pragma_update(None, "synchronous", "FULL").map_err(err(path, "cannot configure"))
}

impl Tx<'_> {
    /// Records a decision and its audit entry; returns the decision's id.
    /// A second decision of the same message (dedup key and authentication)
    /// is an error: callers look for [`Tx::earlier_decision`] first, in the
    /// same transaction.
    pub fn insert_decision(&self, d: &NewDecision<'_>) -> Result<i64, Error> {
        let (kept, raw) = raw_to_keep(d.decision, d.raw, d.raw_size);
        let reasons = reasons_json(d.reasons);
        let values = params![
            d.dedup_key,
            d.message_id,
            d.source,
            d.from,
            d.subject,
            d.decision.as_str(),
            reasons,
            d.license_id,
            d.authenticated,
            d.raw_sha256,
            raw,
            d.outbox_id,
            int(d.at.0),
            d.by,
            d.request_key,
            d.joined_to,
            int(d.raw_size),
            kept.as_str(),
        ];
        // While writes are deferred (PostgreSQL), the id is taken ahead and
        // the insert waits for no answer; else the insert returns it.
        let id = match self.conn.reserved_id("decisions", "decision_id").map_err(err(self.path, RECORD))? {
            Some(id) => self
                .conn
                .prepare_cached(
                    "INSERT INTO decisions (dedup_key, message_id, source, from_addr, subject, decision, reasons,
                         license_id, authenticated, raw_sha256, raw, outbox_id, decided_at, decided_by, request_key,
                         joined_to, raw_size, raw_kept, decision_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                )
                .and_then(|mut s| {
                    let mut with_id = values.to_vec();
                    with_id.push(&id);
                    s.execute_deferred(with_id.as_slice(), RECORD)
                })
                .map(|()| id),
            None => self
                .conn
                .prepare_cached(
                    "INSERT INTO decisions (dedup_key, message_id, source, from_addr, subject, decision, reasons,
                         license_id, authenticated, raw_sha256, raw, outbox_id, decided_at, decided_by, request_key,
                         joined_to, raw_size, raw_kept)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                     RETURNING decision_id",
                )
                .and_then(|mut s| s.query_row(values, |r| r.get::<_, i64>(0))),
        }
        .map_err(err(self.path, RECORD))?;
        self.decision_event(&DecisionEvent {
            decision_id: Some(id),
            dedup_key: d.dedup_key,
            action: d.action,
            reasons: d.reasons,
            license_id: d.license_id,
            at: d.at,
            by: d.by,
        })?;
        Ok(id)
    }

    /// Records an audit entry about a decision.
    pub fn decision_event(&self, e: &DecisionEvent<'_>) -> Result<(), Error> {
        let entry = audit::Entry {
            decision_id: e.decision_id,
            dedup_key: Some(e.dedup_key),
            license_id: e.license_id,
            data: Some(reasons_json(e.reasons)),
            ..audit::Entry::new(e.action, e.by, e.at)
        };
        audit::record(self.conn, self.path, &entry)
    }

    /// The earlier decision a message duplicates: same dedup key, and a
    /// sender authenticated then, or as (un)authenticated as now.
    pub fn earlier_decision(&self, dedup_key: &str, authenticated: bool) -> Result<Option<EarlierDecision>, Error> {
        self.conn
            .prepare_cached(
                "SELECT decision_id, decision, license_id, decided_at FROM decisions
                 WHERE dedup_key = ?1 AND (authenticated = ?2 OR authenticated = 1)
                 ORDER BY authenticated DESC, decision_id LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![dedup_key, authenticated], |r| {
                    Ok(EarlierDecision {
                        id: r.get(0)?,
                        decision: kind_of(r, 1)?,
                        license_id: r.get(2)?,
                        decided_at: Timestamp(r.get(3)?),
                    })
                })
                .optional()
            })
            .map_err(err(self.path, READ))
    }

    /// The held decision of the request `key`, if one is still held.
    pub fn held_request(&self, key: &str) -> Result<Option<i64>, Error> {
        self.conn
            .prepare_cached(
                "SELECT decision_id FROM decisions WHERE request_key = ?1 AND decision = 'held'
                 ORDER BY decision_id LIMIT 1",
            )
            .and_then(|mut s| s.query_row(params![key], |r| r.get(0)).optional())
            .map_err(err(self.path, READ))
    }

    /// When `license_id` was last sent again with an answer (a `resent`
    /// decision with the reason `resent`), if ever.
    pub fn last_resent_at(&self, license_id: &str) -> Result<Option<Timestamp>, Error> {
        let at: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT max(decided_at) FROM decisions
                 WHERE license_id = ?1 AND decision = 'resent' AND reasons LIKE '%\"resent\"%'",
            )
            .and_then(|mut s| s.query_row(params![license_id], |r| r.get(0)))
            .map_err(err(self.path, READ))?;
        Ok(at.map(|t| Timestamp(u64::try_from(t).unwrap_or(0))))
    }

    /// The reply recorded on a decision.
    pub fn decision_outbox(&self, decision_id: i64) -> Result<Option<i64>, Error> {
        self.conn
            .prepare_cached("SELECT outbox_id FROM decisions WHERE decision_id = ?1")
            .and_then(|mut s| s.query_row(params![decision_id], |r| r.get(0)))
            .map_err(err(self.path, READ))
    }

    /// Records `outbox_id` as the decision's reply unless it has one;
    /// returns whether it was recorded.
    pub fn set_decision_outbox(&self, decision_id: i64, outbox_id: i64) -> Result<bool, Error> {
        let changed = self
            .conn
            .execute(
                "UPDATE decisions SET outbox_id = ?1 WHERE decision_id = ?2 AND outbox_id IS NULL",
                params![outbox_id, decision_id],
            )
            .map_err(err(self.path, "cannot record the reply"))?;
        Ok(changed == 1)
    }

    /// Whether the decision has no reply recorded (an unknown decision: no).
    pub fn reply_owed(&self, decision_id: i64) -> Result<bool, Error> {
        self.conn
            .query_row("SELECT outbox_id IS NULL FROM decisions WHERE decision_id = ?1", params![decision_id], |r| {
                r.get(0)
            })
            .map_err(err(self.path, READ))
    }

    /// Decisions held for staff, oldest first.
    pub fn held_decisions(&self) -> Result<Vec<DecisionRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE decision = 'held' ORDER BY decision_id"))
            .map_err(err(self.path, READ))?;
        let rows = stmt.query_map(params![], decision_row).map_err(err(self.path, READ))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err(self.path, READ))
    }

    /// One page of the held decisions, oldest first: `limit` rows from
    /// `offset`, without their messages (the index on `(decision,
    /// decided_at)` orders them; the one on `joined_to` counts the resends).
    pub fn held_page(&self, offset: u64, limit: u64) -> Result<Vec<HeldSummary>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT decision_id, from_addr, subject, reasons, authenticated, decided_at,
                     (SELECT count(*) FROM decisions j WHERE j.joined_to = decisions.decision_id)
                 FROM decisions WHERE decision = 'held' ORDER BY decided_at, decision_id LIMIT ?1 OFFSET ?2",
            )
            .map_err(err(self.path, READ))?;
        let rows = stmt
            .query_map(params![int(limit), int(offset)], |r| {
                Ok(HeldSummary {
                    id: r.get(0)?,
                    from: r.get(1)?,
                    subject: r.get(2)?,
                    reasons: reasons_from_json(&r.get::<_, String>(3)?),
                    authenticated: r.get(4)?,
                    decided_at: Timestamp(u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0)),
                    resends_joined: u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
                })
            })
            .map_err(err(self.path, READ))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err(self.path, READ))
    }

    /// How many decisions are held.
    pub fn held_count(&self) -> Result<u64, Error> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM decisions WHERE decision = 'held'")
            .and_then(|mut s| s.query_row(params![], |r| r.get(0)))
            .map_err(err(self.path, READ))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The sources of the resends that joined the held decision `id`, oldest first.
    pub fn joined_resends(&self, id: i64) -> Result<Vec<(i64, String, Timestamp)>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT decision_id, source, decided_at FROM decisions WHERE joined_to = ?1 ORDER BY decision_id LIMIT 100",
            )
            .map_err(err(self.path, READ))?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok((r.get(0)?, r.get(1)?, Timestamp(u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0))))
            })
            .map_err(err(self.path, READ))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err(self.path, READ))
    }

    /// One decision by id.
    pub fn decision(&self, id: i64) -> Result<Option<DecisionRow>, Error> {
        self.conn
            .query_row(
                &format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE decision_id = ?1"),
                params![id],
                decision_row,
            )
            .optional()
            .map_err(err(self.path, READ))
    }

    /// Settles the held decision `id`; `false` when it is no longer held
    /// (changed meanwhile).
    pub fn settle_held(&self, id: i64, s: &Settlement<'_>) -> Result<bool, Error> {
        let changed = self
            .conn
            .execute(
                "UPDATE decisions SET decision = ?1, reasons = coalesce(?2, reasons), license_id = coalesce(?3, license_id),
                     outbox_id = ?4, decided_at = ?5, decided_by = ?6
                 WHERE decision_id = ?7 AND decision = 'held'",
                params![
                    s.decision.as_str(),
                    s.reasons.map(reasons_json),
                    s.license_id,
                    s.outbox_id,
                    int(s.at.0),
                    s.by,
                    id
                ],
            )
            .map_err(err(self.path, RECORD))?;
        Ok(changed == 1)
    }

    /// The decision a private-cloud delivery works from: an issued one, or
    /// a resent one that was answered (a resend within a day of the last
    /// is recorded, not answered).
    pub fn delivery(&self, decision_id: i64) -> Result<Option<Delivery>, Error> {
        self.conn
            .query_row(
                "SELECT license_id, from_addr, authenticated, outbox_id, raw FROM decisions
                 WHERE decision_id = ?1 AND (decision = 'issued'
                       OR (decision = 'resent' AND reasons NOT LIKE '%\"resend_limited\"%'))",
                params![decision_id],
                |r| {
                    Ok(Delivery {
                        license_id: r.get(0)?,
                        from: r.get(1)?,
                        authenticated: r.get(2)?,
                        outbox_id: r.get(3)?,
                        raw: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(err(self.path, READ))
    }

    /// The license that superseded `license_id`, if any.
    pub fn superseded_by(&self, license_id: &str) -> Result<Option<String>, Error> {
        self.conn
            .query_row("SELECT license_id FROM licenses WHERE supersedes = ?1 LIMIT 1", params![license_id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err(self.path, "cannot read the licenses"))
    }

    /// What `fanlic prune --before` would remove, and the held decisions it keeps.
    pub fn prunable(&self, before: Timestamp) -> Result<Prunable, Error> {
        let at = int(before.0);
        let (rows, bytes): (i64, i64) = self
            .conn
            .query_row(
                &format!("SELECT count(*), coalesce(sum(length(raw)), 0) FROM decisions WHERE {PRUNABLE}"),
                params![at],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err(self.path, READ))?;
        let held: i64 = self
            .conn
            .query_row("SELECT count(*) FROM decisions WHERE decided_at < ?1 AND decision = 'held'", params![at], |r| {
                r.get(0)
            })
            .map_err(err(self.path, READ))?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(Prunable { rows: n(rows), bytes: n(bytes), held: n(held) })
    }

    /// Empties the raw copies [`Tx::prunable`] counts, marking them pruned at `now`.
    pub fn prune_raw(&self, before: Timestamp, now: Timestamp) -> Result<(), Error> {
        self.conn
            .execute(
                &format!("UPDATE decisions SET raw = X'', raw_kept = 'pruned', raw_pruned_at = ?2 WHERE {PRUNABLE}"),
                params![int(before.0), int(now.0)],
            )
            .map_err(err(self.path, "cannot prune the decisions"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in DecisionKind::ALL {
            assert_eq!(DecisionKind::parse(k.as_str()), Some(k));
            assert_eq!(k.as_str().parse::<DecisionKind>(), Ok(k));
        }
        assert!("duplicate".parse::<DecisionKind>().is_err());
        assert!(DecisionKind::Held.is_hold());
        assert!(!DecisionKind::Issued.is_hold());
    }

    #[test]
    fn rejected_mail_keeps_its_head() {
        let raw = vec![b'x'; RAW_KEPT_BYTES + 10];
        let size = u64::try_from(raw.len()).unwrap();
        let (kept, bytes) = raw_to_keep(DecisionKind::Rejected, &raw, size);
        assert_eq!((kept, bytes.len()), (RawCopy::Truncated, RAW_KEPT_BYTES));
        let (kept, bytes) = raw_to_keep(DecisionKind::Held, &raw, size);
        assert_eq!((kept, bytes.len()), (RawCopy::Whole, raw.len()));
    }
}
