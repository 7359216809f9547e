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
use serde_json::{Value, json};

use crate::Error;
use crate::Home;
use crate::store::audit;

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
    home.store_mut().write(|tx| {
        let found = tx.prunable(before)?;
        let report = PruneReport { before, dry_run, rows: found.rows, bytes: found.bytes, held_kept: found.held };
        if dry_run || report.rows == 0 {
            // Nothing changes: no audit entry either.
            return Ok(report);
        }
        tx.prune_raw(before, now)?;
        let why = format!(
            "removed the raw copies of {} decision(s) made before {}: {} bytes",
            report.rows, report.before, report.bytes
        );
        let data = report.to_json().to_string();
        let entry = audit::Entry { why: &why, data: Some(data), ..audit::Entry::new(audit::Action::Prune, by, now) };
        tx.audit(&entry)?;
        Ok(report)
    })
}
