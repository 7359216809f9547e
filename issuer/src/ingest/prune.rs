//! `fanlic prune`: removes the raw copies of decided mail once they are no
//! longer needed, keeping every decision row and every audit row.
//!
//! A decision keeps the message it decided (`decisions.raw`) so staff can
//! review and approve it, and so a private-cloud license's reply can be
//! built from it. Once decided for good, that copy is only a record, and a
//! home that ingests for years would keep every mail. Pruning empties
//! `raw` for decisions made before a date, and keeps:
//!
//! - decisions still held for staff (approve needs the whole message);
//! - issued or resent private-cloud decisions whose reply with the image is
//!   still owed (its delivery parses the message again);
//! - the decision itself: who, when, what, why, the message's SHA-256 and
//!   full size, and its audit rows.
//!
//! The rows change in one transaction, with one `prune` audit entry saying
//! how many and how many bytes. SQLite reuses the freed pages; the file
//! shrinks only with `VACUUM` (the home's database uses `secure_delete`, so
//! the removed mail is overwritten either way).

use fanlic_formats::Timestamp;
use rusqlite::{TransactionBehavior, params};
use serde_json::{Value, json};

use crate::Error;
use crate::Home;
use crate::store;
use crate::store::audit;

/// Decisions whose raw copy `fanlic prune --before` removes: decided
/// before ?1, not held, not pruned yet, and not an owed private-cloud reply.
/// The decisions are named (not `<> 'held'`) so that the index on
/// `(decision, decided_at)` finds them without reading every row's mail.
const PRUNABLE: &str = "decision IN ('issued', 'rejected', 'resent', 'joined', 'ignored', 'revoked')
     AND decided_at < ?1 AND raw_kept <> 'pruned'
     AND NOT (decision IN ('issued', 'resent') AND outbox_id IS NULL AND authenticated = 1 AND from_addr <> ''
              AND license_id IN (SELECT license_id FROM licenses WHERE kind = 'private-cloud'))";

/// What [`prune`] did (or, with `dry_run`, would do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PruneReport {
    /// Decisions made before this time were considered.
    pub before: Timestamp,
    /// Nothing was changed.
    pub dry_run: bool,
    /// Decisions whose raw copy was removed.
    pub rows: u64,
    /// Bytes of raw mail removed.
    pub bytes: u64,
    /// Decisions before `before` still held for staff: kept whole.
    pub held_kept: u64,
}

impl PruneReport {
    /// The `--json` object.
    pub fn to_json(&self) -> Value {
        json!({
            "before": self.before.to_string(),
            "dry_run": self.dry_run,
            "rows": self.rows,
            "bytes": self.bytes,
            "held_kept": self.held_kept,
        })
    }

    /// For people.
    pub fn human(&self) -> String {
        let verb = if self.dry_run { "would remove" } else { "removed" };
        let mut out = format!(
            "{verb} the raw copies of {} decision(s) made before {}: {} bytes\n",
            self.rows, self.before, self.bytes
        );
        if self.held_kept > 0 {
            out.push_str(&format!("kept {} decision(s) still held for staff (`fanlic review`)\n", self.held_kept));
        }
        out
    }
}

/// Removes the raw copies of the decisions made before `before` (see the
/// module documentation), recording one audit entry by `by` at `now`; with
/// `dry_run`, only counts.
pub fn prune(
    home: &mut Home,
    before: Timestamp,
    dry_run: bool,
    by: &str,
    now: Timestamp,
) -> Result<PruneReport, Error> {
    let (conn, path) = home.conn_mut();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(store::err(path, "cannot start a transaction"))?;
    let at = store::int(before.0);
    let (rows, bytes): (i64, i64) = tx
        .query_row(
            &format!("SELECT count(*), coalesce(sum(length(raw)), 0) FROM decisions WHERE {PRUNABLE}"),
            params![at],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(store::err(path, "cannot read the decisions"))?;
    let held_kept: i64 = tx
        .query_row("SELECT count(*) FROM decisions WHERE decided_at < ?1 AND decision = 'held'", params![at], |r| {
            r.get(0)
        })
        .map_err(store::err(path, "cannot read the decisions"))?;
    let report = PruneReport {
        before,
        dry_run,
        rows: u64::try_from(rows).unwrap_or(0),
        bytes: u64::try_from(bytes).unwrap_or(0),
        held_kept: u64::try_from(held_kept).unwrap_or(0),
    };
    if dry_run || report.rows == 0 {
        // Nothing changes: no audit entry either.
        return Ok(report);
    }
    tx.execute(
        &format!("UPDATE decisions SET raw = X'', raw_kept = 'pruned', raw_pruned_at = ?2 WHERE {PRUNABLE}"),
        params![at, store::int(now.0)],
    )
    .map_err(store::err(path, "cannot prune the decisions"))?;
    let why = format!(
        "removed the raw copies of {} decision(s) made before {}: {} bytes",
        report.rows, report.before, report.bytes
    );
    let data = report.to_json().to_string();
    let entry = audit::Entry { why: &why, data: Some(data), ..audit::Entry::new(audit::Action::Prune, by, now) };
    audit::record(&tx, path, &entry)?;
    tx.commit().map_err(store::err(path, "cannot commit"))?;
    Ok(report)
}
