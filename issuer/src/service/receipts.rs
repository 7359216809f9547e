//! Activation receipts on the vendor side (SPEC.md §6.4): what `fanlic
//! serve` records of each receipt it signs, the fork check of an
//! authorization server's re-activation, the alerts staff read with
//! `fanlic alerts`, and the lease reminder mail.
//!
//! A receipt is recorded under the binding it was issued for (license,
//! project fingerprint and the binding's `bound_at`), so `fanlic unbind`
//! starts a new chain: the first receipt after a binding is asked for with
//! no previous receipt, or with whatever the server held before.

use std::path::Path;

use fanlic_formats::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, Transaction, params};
use serde_json::{Value, json};

use crate::Error;
use crate::Home;
use crate::store;

/// A local container's binding may get this many receipts in
/// [`BURST_WINDOW_SECS`]; one more raises a `receipt_burst` alert. A
/// product is activated once per start of its cluster (activation lives in
/// memory, SPEC.md §6.3): ten restarts a day is already unusual, while a
/// licence copied to many places needs one receipt per copy and start.
pub const BURST_THRESHOLD: u32 = 10;
/// The window of [`BURST_THRESHOLD`], in seconds.
pub const BURST_WINDOW_SECS: u64 = 86_400;
/// The lease reminder is due this long before the lease ends.
pub const LEASE_REMINDER_SECS: u64 = 7 * 86_400;

/// An alert for staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    /// An authorization server asked with a receipt that is not the latest
    /// of its binding: a copy of the server runs somewhere.
    Forked,
    /// A local container's binding got more than [`BURST_THRESHOLD`]
    /// receipts in a day.
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

    fn audit_action(self) -> crate::store::audit::Action {
        match self {
            Self::Forked => crate::store::audit::Action::Forked,
            Self::ReceiptBurst => crate::store::audit::Action::ReceiptBurst,
        }
    }
}

/// One receipt as recorded.
#[derive(Clone, Debug)]
pub(crate) struct ReceiptRow<'a> {
    pub receipt_id: [u8; 32],
    pub license_id: &'a str,
    pub project_fingerprint: [u8; 32],
    pub bound_at: u64,
    pub challenge_sha256: [u8; 32],
    pub previous_receipt: Option<[u8; 32]>,
    pub receipt_key_id: String,
    pub vendor_time: u64,
    pub lease_until: Option<u64>,
    pub client: String,
}

/// The latest receipt issued under a binding, if any.
pub(crate) fn latest_receipt(
    conn: &Connection,
    license_id: &str,
    fingerprint: &[u8; 32],
    bound_at: u64,
) -> Result<Option<[u8; 32]>, rusqlite::Error> {
    let id: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT receipt_id FROM receipts WHERE license_id = ?1 AND project_fingerprint = ?2 AND bound_at = ?3
             ORDER BY vendor_time DESC, rowid DESC LIMIT 1",
        )?
        .query_row(params![license_id, fingerprint.as_slice(), store::int(bound_at)], |r| r.get(0))
        .optional()?;
    Ok(id.map(|v| <[u8; 32]>::try_from(v.as_slice()).unwrap_or([0; 32])))
}

/// Records a receipt.
pub(crate) fn record(conn: &Connection, r: &ReceiptRow<'_>) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(
        "INSERT INTO receipts (receipt_id, license_id, project_fingerprint, bound_at, challenge_sha256,
             previous_receipt, receipt_key_id, vendor_time, lease_until, client_addr)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        r.receipt_id.as_slice(),
        r.license_id,
        r.project_fingerprint.as_slice(),
        store::int(r.bound_at),
        r.challenge_sha256.as_slice(),
        r.previous_receipt.as_ref().map(|p| p.as_slice()),
        r.receipt_key_id,
        store::int(r.vendor_time),
        r.lease_until.map(store::int),
        r.client,
    ])?;
    Ok(())
}

/// Receipts issued under a binding since `since`.
pub(crate) fn count_since(
    conn: &Connection,
    license_id: &str,
    fingerprint: &[u8; 32],
    bound_at: u64,
    since: u64,
) -> Result<u64, rusqlite::Error> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM receipts WHERE license_id = ?1 AND project_fingerprint = ?2 AND bound_at = ?3
             AND vendor_time > ?4",
        )?
        .query_row(params![license_id, fingerprint.as_slice(), store::int(bound_at), store::int(since)], |r| {
            r.get(0)
        })?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Raises an alert unless one of the same kind is open for the license
/// (one alert per incident, however often the copy asks), and records it
/// in the audit trail. Returns whether it raised one.
pub(crate) fn raise(
    conn: &Connection,
    kind: AlertKind,
    license_id: &str,
    detail: &str,
    at: Timestamp,
    by: &str,
) -> Result<bool, rusqlite::Error> {
    let open: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM alerts WHERE kind = ?1 AND license_id = ?2 AND closed_at IS NULL)",
        )?
        .query_row(params![kind.as_str(), license_id], |r| r.get(0))?;
    if open {
        return Ok(false);
    }
    conn.prepare_cached("INSERT INTO alerts (kind, license_id, at, detail) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![kind.as_str(), license_id, store::int(at.0), detail])?;
    conn.prepare_cached("INSERT INTO audit (license_id, action, why, at, by) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![license_id, kind.audit_action().as_str(), detail, store::int(at.0), by])?;
    Ok(true)
}

/// A contract's lease for a company (`None`: no lease, or no contract).
pub(crate) fn lease_days(conn: &Connection, company_key: &str) -> Result<Option<u32>, rusqlite::Error> {
    let d: Option<Option<i64>> = conn
        .prepare_cached("SELECT lease_days FROM contracts WHERE company_key = ?1")?
        .query_row(params![company_key], |r| r.get(0))
        .optional()?;
    Ok(d.flatten().and_then(|d| u32::try_from(d).ok()))
}

/// The lease reminder's text, in both languages (nothing tells which the
/// customer reads: there is no request to answer).
fn reminder_body(license_id: &str, project: &str, lease_until: Timestamp) -> String {
    format!(
        "Hello,\n\nThe authorization server of license {license_id} (project {project}) must be activated \
         again before {lease_until} (UTC): its current activation receipt ends then, and the \
         applications it serves stop at that moment. Open https://SERVER:18081/license/qrcode and \
         activate it as before (the QR code and the activation button).\n\nThis message was sent \
         automatically; reply to it if something is wrong.\n\n\
         ----\n\n您好：\n\n许可证 {license_id}（项目 {project}）的授权服务器须在 {lease_until}（UTC）之前重新激活：\
         当前的激活回执届时到期，其服务的应用将随之停止。请打开 https://SERVER:18081/license/qrcode ，\
         按原方式激活（二维码与激活按钮）。\n\n本邮件由系统自动发送；如有问题，请直接回复本邮件。\n"
    )
}

/// Queues the lease reminder of a receipt, due [`LEASE_REMINDER_SECS`]
/// before `lease_until` (at once when that is past), to the first address
/// of the license's enabled contract; withdraws the reminders of earlier
/// receipts of the license that were not sent yet (this receipt's lease
/// replaces theirs). Returns the outbox id, `None` when the contract has
/// no address a reply may go to.
pub(crate) fn queue_reminder(
    tx: &Transaction<'_>,
    license_id: &str,
    receipt_id: &[u8; 32],
    lease_until: Timestamp,
    now: Timestamp,
) -> Result<Option<i64>, Error> {
    let path = tx.path().map(std::path::PathBuf::from).unwrap_or_default();
    let read = || store::err(&path, "cannot queue the lease reminder");
    let found: Option<(String, String, String)> = tx
        .prepare_cached(
            "SELECT e.email, l.project, l.company FROM licenses l
             JOIN contracts c ON c.company_key = l.company_key AND c.enabled = 1
             JOIN contract_emails e ON e.contract_id = c.contract_id
             WHERE l.license_id = ?1 ORDER BY e.rowid LIMIT 1",
        )
        .and_then(|mut s| s.query_row(params![license_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional())
        .map_err(read())?;
    let Some((to, project, _company)) = found else { return Ok(None) };
    tx.prepare_cached(
        "DELETE FROM outbox WHERE status = 'pending' AND attempts = 0 AND outbox_id IN
             (SELECT reminder_outbox_id FROM receipts WHERE license_id = ?1 AND reminder_outbox_id IS NOT NULL)",
    )
    .and_then(|mut s| s.execute(params![license_id]))
    .map_err(read())?;
    let from = store::setting(tx, &path, "reply_from")?.unwrap_or_else(|| crate::outbox::DEFAULT_FROM.to_owned());
    let reply = crate::outbox::Reply {
        to,
        from,
        subject: format!("fanlic: activate the authorization server again before {lease_until} / 请重新激活授权服务器"),
        in_reply_to: None,
        references: Vec::new(),
        language: crate::outbox::Language::En,
        body: reminder_body(license_id, &project, lease_until),
        attachments: Vec::new(),
    };
    let id = crate::outbox::enqueue(tx, &reply, now)?;
    let due = lease_until.0.saturating_sub(LEASE_REMINDER_SECS).max(now.0);
    tx.prepare_cached("UPDATE outbox SET next_attempt_at = ?2 WHERE outbox_id = ?1")
        .and_then(|mut s| s.execute(params![id, store::int(due)]))
        .map_err(read())?;
    tx.prepare_cached("UPDATE receipts SET reminder_outbox_id = ?2 WHERE receipt_id = ?1")
        .and_then(|mut s| s.execute(params![receipt_id.as_slice(), id]))
        .map_err(read())?;
    Ok(Some(id))
}

// ---------------------------------------------------------------------------
// `fanlic alerts`.

/// An alert as staff see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// Its number.
    pub id: i64,
    /// `forked` or `receipt_burst`.
    pub kind: String,
    /// The license.
    pub license_id: String,
    /// When it was raised.
    pub at: Timestamp,
    /// What happened.
    pub detail: String,
    /// When and by whom it was closed.
    pub closed: Option<(Timestamp, String)>,
}

impl Alert {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "kind": self.kind,
            "license_id": self.license_id,
            "at": self.at.to_string(),
            "detail": self.detail,
            "closed_at": self.closed.as_ref().map(|(t, _)| t.to_string()),
            "closed_by": self.closed.as_ref().map(|(_, b)| b.clone()),
        })
    }

    /// For people: one paragraph.
    pub fn human(&self) -> String {
        let what = match self.kind.as_str() {
            "forked" => "FORKED authorization server: a copy of it runs somewhere (no receipt was issued to it)",
            "receipt_burst" => "many activations of one local container in a day",
            other => other,
        };
        let state = match &self.closed {
            Some((t, by)) => format!("closed {t} by {by}"),
            None => format!("open: `fanlic alerts --close {}` when handled", self.id),
        };
        format!(
            "alert {id}  {at}  license {lic}\n  {what}\n  {detail}\n  {state}\n",
            id = self.id,
            at = self.at,
            lic = self.license_id,
            detail = self.detail,
        )
    }
}

/// Alerts, newest first; closed ones only with `all`.
pub fn list(home: &mut Home, all: bool) -> Result<Vec<Alert>, Error> {
    let (conn, path) = home.conn_mut();
    let read = || store::err(path, "cannot read the alerts");
    let sql = format!(
        "SELECT alert_id, kind, license_id, at, detail, closed_at, closed_by FROM alerts {} ORDER BY alert_id DESC",
        if all { "" } else { "WHERE closed_at IS NULL" }
    );
    let mut stmt = conn.prepare(&sql).map_err(read())?;
    let rows = stmt
        .query_map([], |r| {
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
        let closed = match closed_at {
            Some(t) => Some((store::time(path, t)?, closed_by.unwrap_or_default())),
            None => None,
        };
        out.push(Alert { id, kind, license_id, at: store::time(path, at)?, detail, closed });
    }
    Ok(out)
}

/// Closes an open alert (staff handled it), audited.
pub fn close(home: &mut Home, id: i64, by: &str, now: Timestamp) -> Result<Alert, Error> {
    let (conn, path) = home.conn_mut();
    let write = || store::err(path, "cannot close the alert");
    let tx = conn.transaction().map_err(write())?;
    let found: Option<(String, Option<i64>)> = tx
        .query_row("SELECT license_id, closed_at FROM alerts WHERE alert_id = ?1", params![id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(write())?;
    let Some((license_id, closed_at)) = found else {
        return Err(Error::input("--close", &id.to_string(), "no such alert: `fanlic alerts --all` lists them"));
    };
    if closed_at.is_none() {
        tx.execute(
            "UPDATE alerts SET closed_at = ?2, closed_by = ?3 WHERE alert_id = ?1",
            params![id, store::int(now.0), by],
        )
        .map_err(write())?;
        let why = format!("alert {id} closed");
        let entry = crate::store::audit::Entry {
            license_id: Some(&license_id),
            why: &why,
            ..crate::store::audit::Entry::new(crate::store::audit::Action::AlertClosed, by, now)
        };
        crate::store::audit::record(&tx, path, &entry)?;
    }
    tx.commit().map_err(write())?;
    list(home, true)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| store::corrupt(Path::new("alerts"), format!("alert {id} vanished")))
}
