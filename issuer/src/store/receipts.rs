//! Activation receipts as the vendor records them (SPEC.md §6.3): each
//! receipt under the binding it was issued for (license, project
//! fingerprint and the binding's `bound_at`, so that `fanlic unbind` starts
//! a new chain), the lease a contract grants, the lease reminder a receipt
//! schedules, and the alerts staff read and close with `fanlic alerts`.

use core::str::FromStr;

use super::sql::{OptionalExtension as _, params};
use fanlic_formats::{LicenseId, Timestamp};

use super::audit::{Action, Entry};
use super::{Tx, err, int, time};
use crate::Error;

/// An alert for staff. Stored as its text ([`AlertKind::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    /// An authorization server asked with a receipt that is not the latest
    /// of its binding: a copy of the server runs somewhere.
    Forked,
    /// A local container's binding got more receipts in a day than the
    /// alert threshold.
    ReceiptBurst,
}

impl AlertKind {
    /// As stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Forked => "forked",
            Self::ReceiptBurst => "receipt_burst",
        }
    }

    const fn audit_action(self) -> Action {
        match self {
            Self::Forked => Action::Forked,
            Self::ReceiptBurst => Action::ReceiptBurst,
        }
    }
}

/// Not an alert kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownAlertKind;

impl FromStr for AlertKind {
    type Err = UnknownAlertKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "forked" => Ok(Self::Forked),
            "receipt_burst" => Ok(Self::ReceiptBurst),
            _ => Err(UnknownAlertKind),
        }
    }
}

/// The chain of receipts of one binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptChain {
    /// The license.
    pub license_id: LicenseId,
    /// The project it is bound to.
    pub project_fingerprint: [u8; 32],
    /// When the binding was made.
    pub bound_at: u64,
}

/// One receipt as recorded.
#[derive(Clone, Copy, Debug)]
pub struct NewReceipt<'a> {
    /// Its id.
    pub receipt_id: [u8; 32],
    /// The binding it was issued under.
    pub chain: ReceiptChain,
    /// SHA-256 of the challenge it answers.
    pub challenge_sha256: [u8; 32],
    /// The receipt the requester held, as its challenge names it.
    pub previous_receipt: Option<[u8; 32]>,
    /// The receipt key that signed it.
    pub receipt_key_id: &'a str,
    /// When it was signed.
    pub vendor_time: u64,
    /// End of its lease, if any.
    pub lease_until: Option<u64>,
    /// The client's address.
    pub client: &'a str,
}

/// Where a lease reminder goes: the first address of the license's enabled
/// contract, and the sender the home's settings name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReminderAddress {
    /// The contract's first address.
    pub to: String,
    /// The license's project.
    pub project: String,
    /// The `reply_from` setting, if set.
    pub from: Option<String>,
}

/// An alert as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRecord {
    /// Its number.
    pub id: i64,
    /// What it is about.
    pub kind: AlertKind,
    /// The license.
    pub license_id: String,
    /// When it was raised.
    pub at: Timestamp,
    /// What happened.
    pub detail: String,
    /// When and by whom it was closed.
    pub closed: Option<(Timestamp, String)>,
}

/// What closing an alert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertClosing {
    /// It was open; it is closed now, audited.
    Closed,
    /// It was closed already: nothing changed.
    AlreadyClosed,
    /// There is no such alert.
    NotFound,
}

impl Tx<'_> {
    /// The latest receipt issued under a binding, if any.
    pub fn latest_receipt(&self, chain: &ReceiptChain) -> Result<Option<[u8; 32]>, Error> {
        let id: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT receipt_id FROM receipts WHERE license_id = ?1 AND project_fingerprint = ?2 AND bound_at = ?3
                 ORDER BY vendor_time DESC, rowid DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![chain.license_id.to_string(), chain.project_fingerprint.as_slice(), int(chain.bound_at)],
                    |r| r.get(0),
                )
                .optional()
            })
            .map_err(err(self.path, "cannot read the receipts"))?;
        Ok(id.map(|v| <[u8; 32]>::try_from(v.as_slice()).unwrap_or([0; 32])))
    }

    /// Records a receipt.
    pub fn insert_receipt(&self, r: &NewReceipt<'_>) -> Result<(), Error> {
        self.conn
            .prepare_cached(
                "INSERT INTO receipts (receipt_id, license_id, project_fingerprint, bound_at, challenge_sha256,
                     previous_receipt, receipt_key_id, vendor_time, lease_until, client_addr)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    r.receipt_id.as_slice(),
                    r.chain.license_id.to_string(),
                    r.chain.project_fingerprint.as_slice(),
                    int(r.chain.bound_at),
                    r.challenge_sha256.as_slice(),
                    r.previous_receipt.as_ref().map(|p| p.as_slice()),
                    r.receipt_key_id,
                    int(r.vendor_time),
                    r.lease_until.map(int),
                    r.client,
                ])
            })
            .map(|_| ())
            .map_err(err(self.path, "cannot record the receipt"))
    }

    /// Receipts issued under a binding after `since`.
    pub fn receipts_since(&self, chain: &ReceiptChain, since: u64) -> Result<u64, Error> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM receipts WHERE license_id = ?1 AND project_fingerprint = ?2 AND bound_at = ?3
                 AND vendor_time > ?4",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![
                        chain.license_id.to_string(),
                        chain.project_fingerprint.as_slice(),
                        int(chain.bound_at),
                        int(since)
                    ],
                    |r| r.get(0),
                )
            })
            .map_err(err(self.path, "cannot read the receipts"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Raises an alert unless one of the same kind is open for the license
    /// (one alert per incident, however often it recurs), and records it
    /// in the audit trail. Returns whether it raised one.
    pub fn raise_alert(
        &self,
        kind: AlertKind,
        license_id: LicenseId,
        detail: &str,
        at: Timestamp,
        by: &str,
    ) -> Result<bool, Error> {
        let write = || err(self.path, "cannot record the alert");
        let id = license_id.to_string();
        let open: bool = self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM alerts WHERE kind = ?1 AND license_id = ?2 AND closed_at IS NULL)",
            )
            .and_then(|mut s| s.query_row(params![kind.as_str(), id], |r| r.get(0)))
            .map_err(write())?;
        if open {
            return Ok(false);
        }
        self.conn
            .prepare_cached("INSERT INTO alerts (kind, license_id, at, detail) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![kind.as_str(), id, int(at.0), detail]))
            .map_err(write())?;
        let entry = Entry { license_id: Some(&id), why: detail, ..Entry::new(kind.audit_action(), by, at) };
        self.audit(&entry)?;
        Ok(true)
    }

    /// The lease of the contract of company `company_key` (as contracts
    /// compare companies), in days; `None`: no lease, or no contract.
    pub fn contract_lease_days(&self, company_key: &str) -> Result<Option<u32>, Error> {
        let d: Option<Option<i64>> = self
            .conn
            .prepare_cached("SELECT lease_days FROM contracts WHERE company_key = ?1")
            .and_then(|mut s| s.query_row(params![company_key], |r| r.get(0)).optional())
            .map_err(err(self.path, "cannot read the contracts"))?;
        Ok(d.flatten().and_then(|d| u32::try_from(d).ok()))
    }

    /// Where the lease reminder of license `license_id` goes; `None` when
    /// its contract is disabled or has no address.
    pub fn lease_reminder_address(&self, license_id: LicenseId) -> Result<Option<ReminderAddress>, Error> {
        let found: Option<(String, String)> = self
            .conn
            .prepare_cached(
                "SELECT e.email, l.project FROM licenses l
                 JOIN contracts c ON c.company_key = l.company_key AND c.enabled = 1
                 JOIN contract_emails e ON e.contract_id = c.contract_id
                 WHERE l.license_id = ?1 ORDER BY e.rowid LIMIT 1",
            )
            .and_then(|mut s| s.query_row(params![license_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(err(self.path, "cannot queue the lease reminder"))?;
        let Some((to, project)) = found else { return Ok(None) };
        let from = self.setting("reply_from")?;
        Ok(Some(ReminderAddress { to, project, from }))
    }

    /// Withdraws the lease reminders of license `license_id`'s receipts
    /// that were not tried yet: a newer receipt's lease replaces theirs.
    pub fn withdraw_lease_reminders(&self, license_id: LicenseId) -> Result<(), Error> {
        self.conn
            .prepare_cached(
                "DELETE FROM outbox WHERE status = 'pending' AND attempts = 0 AND outbox_id IN
                     (SELECT reminder_outbox_id FROM receipts WHERE license_id = ?1 AND reminder_outbox_id IS NOT NULL)",
            )
            .and_then(|mut s| s.execute(params![license_id.to_string()]))
            .map(|_| ())
            .map_err(err(self.path, "cannot queue the lease reminder"))
    }

    /// Makes the queued mail `outbox_id` the lease reminder of receipt
    /// `receipt_id`, sent no earlier than `due`.
    pub fn schedule_lease_reminder(&self, receipt_id: &[u8; 32], outbox_id: i64, due: u64) -> Result<(), Error> {
        let write = || err(self.path, "cannot queue the lease reminder");
        self.conn
            .prepare_cached("UPDATE outbox SET next_attempt_at = ?2 WHERE outbox_id = ?1")
            .and_then(|mut s| s.execute(params![outbox_id, int(due)]))
            .map_err(write())?;
        self.conn
            .prepare_cached("UPDATE receipts SET reminder_outbox_id = ?2 WHERE receipt_id = ?1")
            .and_then(|mut s| s.execute(params![receipt_id.as_slice(), outbox_id]))
            .map_err(write())?;
        Ok(())
    }

    /// Alerts, newest first; closed ones only with `all`.
    pub fn alerts(&self, all: bool) -> Result<Vec<AlertRecord>, Error> {
        let read = || err(self.path, "cannot read the alerts");
        let sql = if all {
            "SELECT alert_id, kind, license_id, at, detail, closed_at, closed_by FROM alerts ORDER BY alert_id DESC"
        } else {
            "SELECT alert_id, kind, license_id, at, detail, closed_at, closed_by FROM alerts WHERE closed_at IS NULL \
             ORDER BY alert_id DESC"
        };
        let mut stmt = self.conn.prepare(sql).map_err(read())?;
        let rows = stmt
            .query_map(params![], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(read())?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, license_id, at, detail, closed_at, closed_by) = row.map_err(read())?;
            let kind =
                kind.parse().map_err(|_| super::corrupt(self.path, format!("alert {id} has the kind {kind:?}")))?;
            let closed = match closed_at {
                Some(t) => Some((time(self.path, t)?, closed_by.unwrap_or_default())),
                None => None,
            };
            out.push(AlertRecord { id, kind, license_id, at: time(self.path, at)?, detail, closed });
        }
        Ok(out)
    }

    /// Closes alert `id` (staff handled it), audited, unless it is closed
    /// already.
    pub fn close_alert(&self, id: i64, by: &str, now: Timestamp) -> Result<AlertClosing, Error> {
        let write = || err(self.path, "cannot close the alert");
        let found: Option<(String, Option<i64>)> = self
            .conn
            .query_row("SELECT license_id, closed_at FROM alerts WHERE alert_id = ?1", params![id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(write())?;
        let Some((license_id, closed_at)) = found else { return Ok(AlertClosing::NotFound) };
        if closed_at.is_some() {
            return Ok(AlertClosing::AlreadyClosed);
        }
        self.conn
            .execute(
                "UPDATE alerts SET closed_at = ?2, closed_by = ?3 WHERE alert_id = ?1",
                params![id, int(now.0), by],
            )
            .map_err(write())?;
        let why = format!("alert {id} closed");
        let entry = Entry { license_id: Some(&license_id), why: &why, ..Entry::new(Action::AlertClosed, by, now) };
        self.audit(&entry)?;
        Ok(AlertClosing::Closed)
    }
}
