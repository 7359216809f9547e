//! What activation receipts add to the service (SPEC.md §6.3): the alert
//! thresholds, the lease reminder mail a server's receipt schedules, and
//! `fanlic alerts` (the alerts staff read and close).
//!
//! A receipt is recorded under the binding it was issued for, so `fanlic
//! unbind` starts a new chain: the first receipt after a binding is asked
//! for with no previous receipt, or with whatever the server held before.

use fanlic_formats::{LicenseId, Timestamp};
use serde_json::{Value, json};

use crate::Error;
use crate::Home;
use crate::store::Tx;
pub use crate::store::receipts::AlertKind;
use crate::store::receipts::{AlertClosing, AlertRecord};

/// A local container's binding may get this many receipts in
/// [`BURST_WINDOW_SECS`]; one more raises a `receipt_burst` alert. A
/// product is activated once per start of its cluster (activation lives in
/// memory, SPEC.md §6.2): ten restarts a day is already unusual, while a
/// licence copied to many places needs one receipt per copy and start.
pub const BURST_THRESHOLD: u32 = 10;
/// The window of [`BURST_THRESHOLD`], in seconds.
pub const BURST_WINDOW_SECS: u64 = 86_400;
/// The lease reminder is due this long before the lease ends.
pub const LEASE_REMINDER_SECS: u64 = 7 * 86_400;

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
    tx: &Tx<'_>,
    license_id: LicenseId,
    receipt_id: &[u8; 32],
    lease_until: Timestamp,
    now: Timestamp,
) -> Result<Option<i64>, Error> {
    let Some(address) = tx.lease_reminder_address(license_id)? else { return Ok(None) };
    tx.withdraw_lease_reminders(license_id)?;
    let id_text = license_id.to_string();
    let reply = crate::outbox::Reply {
        to: address.to,
        from: address.from.unwrap_or_else(|| crate::outbox::DEFAULT_FROM.to_owned()),
        subject: format!("fanlic: activate the authorization server again before {lease_until} / 请重新激活授权服务器"),
        in_reply_to: None,
        references: Vec::new(),
        language: crate::outbox::Language::En,
        body: reminder_body(&id_text, &address.project, lease_until),
        attachments: Vec::new(),
    };
    let id = crate::outbox::enqueue(tx, &reply, now)?;
    let due = lease_until.0.saturating_sub(LEASE_REMINDER_SECS).max(now.0);
    tx.schedule_lease_reminder(receipt_id, id, due)?;
    Ok(Some(id))
}

// `fanlic alerts`.

/// An alert as staff see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
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

impl Alert {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "kind": self.kind.as_str(),
            "license_id": self.license_id,
            "at": self.at.to_string(),
            "detail": self.detail,
            "closed_at": self.closed.as_ref().map(|(t, _)| t.to_string()),
            "closed_by": self.closed.as_ref().map(|(_, b)| b.clone()),
        })
    }

    /// For people: one paragraph.
    pub fn human(&self) -> String {
        let what = match self.kind {
            AlertKind::Forked => {
                "FORKED authorization server: a copy of it runs somewhere (no receipt was issued to it)"
            }
            AlertKind::ReceiptBurst => "many activations of one local container in a day",
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

impl From<AlertRecord> for Alert {
    fn from(r: AlertRecord) -> Self {
        Self { id: r.id, kind: r.kind, license_id: r.license_id, at: r.at, detail: r.detail, closed: r.closed }
    }
}

/// Alerts, newest first; closed ones only with `all`.
pub fn list(home: &mut Home, all: bool) -> Result<Vec<Alert>, Error> {
    Ok(home.store().read(|tx| tx.alerts(all))?.into_iter().map(Alert::from).collect())
}

/// Closes an open alert (staff handled it), audited.
pub fn close(home: &mut Home, id: i64, by: &str, now: Timestamp) -> Result<Alert, Error> {
    let closing = home.store_mut().write(|tx| tx.close_alert(id, by, now))?;
    if closing == AlertClosing::NotFound {
        return Err(Error::input("--close", &id.to_string(), "no such alert: `fanlic alerts --all` lists them"));
    }
    let path = home.store().path().to_owned();
    list(home, true)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| crate::store::corrupt(&path, format!("alert {id} vanished")))
}
