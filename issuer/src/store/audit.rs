//! The audit trail: one row per state change, in the table `audit`, with
//! who, when, what and why. Decisions on mail (issued, resent, held,
//! approved, rejected, ...), license changes (issue, revoke, unbind, bind,
//! supersede), contract changes and key changes all land here, in the same
//! transaction as the change itself; `fanlic audit` reads them with filters.

use std::path::Path;

use super::sql::{Connection, params};
use fanlic_formats::Timestamp;
use serde_json::{Value, json};

use super::{Store, Tx, company_key};
use crate::Error;
use crate::store;

/// What changed. Stored as its text ([`Action::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// `fanlic ingest` issued a license for a mail.
    Issued,
    /// A mail was rejected.
    Rejected,
    /// A mail was held for staff.
    Held,
    /// The same mail again: nothing done.
    Duplicate,
    /// A resent request: the live license was sent again (or, within 24
    /// hours of the last, recorded only).
    Resent,
    /// A resend of a held request, added to it.
    Joined,
    /// An automatic mail (auto-reply, bounce, list mail): recorded, never answered.
    Ignored,
    /// Staff approved a held request.
    Approved,
    /// Staff rejected a held request.
    StaffRejected,
    /// A destroy request revoked its license.
    Destroyed,
    /// `fanlic issue` issued a license by hand.
    Issue,
    /// A license was revoked.
    Revoke,
    /// A license was unbound from its project.
    Unbind,
    /// A license was bound to its project at its first activation.
    Bind,
    /// A new license replaced this one (reissue, migration).
    Supersede,
    /// The schema migration found this license beside a live one of the same project.
    MarkedDuplicate,
    /// A contract was added.
    ContractAdd,
    /// A contract was imported from CSV.
    ContractImport,
    /// A contract changed.
    ContractUpdate,
    /// A contract was disabled.
    ContractDisable,
    /// A contract was enabled again.
    ContractEnable,
    /// A new issuing key was certified and took over.
    KeyRotate,
    /// An issuing key was revoked.
    KeyRevoke,
    /// New receipt keys were certified.
    ReceiptKey,
    /// An authorization server presented a receipt that is not the latest:
    /// a copy of it runs somewhere (SPEC.md §6.3, `forked`).
    Forked,
    /// A local container's binding got more receipts in 24 hours than the
    /// alert threshold.
    ReceiptBurst,
    /// Staff closed an alert.
    AlertClosed,
    /// `fanlic prune` removed the raw copies of decided mail.
    Prune,
    /// A staff account was created.
    StaffAdd,
    /// A staff account was disabled (its sessions end).
    StaffDisable,
    /// A staff account was enabled again.
    StaffEnable,
    /// A staff account's role changed.
    StaffRole,
    /// A staff account's password changed (its sessions end).
    StaffPassword,
    /// An admin lifted a login lockout.
    StaffUnlock,
    /// Someone logged in to the console.
    Login,
    /// A console login failed (wrong name or password, disabled, locked).
    LoginFailed,
    /// Too many failed logins: the name or client address is locked out.
    LoginLocked,
    /// Someone logged out of the console.
    Logout,
    /// Staff made a failed (or waiting) outbox entry due again.
    OutboxRetry,
}

const ALL: &[Action] = &[
    Action::Issued,
    Action::Rejected,
    Action::Held,
    Action::Duplicate,
    Action::Resent,
    Action::Joined,
    Action::Ignored,
    Action::Approved,
    Action::StaffRejected,
    Action::Destroyed,
    Action::Issue,
    Action::Revoke,
    Action::Unbind,
    Action::Bind,
    Action::Supersede,
    Action::MarkedDuplicate,
    Action::ContractAdd,
    Action::ContractImport,
    Action::ContractUpdate,
    Action::ContractDisable,
    Action::ContractEnable,
    Action::KeyRotate,
    Action::KeyRevoke,
    Action::ReceiptKey,
    Action::Forked,
    Action::ReceiptBurst,
    Action::AlertClosed,
    Action::Prune,
    Action::StaffAdd,
    Action::StaffDisable,
    Action::StaffEnable,
    Action::StaffRole,
    Action::StaffPassword,
    Action::StaffUnlock,
    Action::Login,
    Action::LoginFailed,
    Action::LoginLocked,
    Action::Logout,
    Action::OutboxRetry,
];

impl Action {
    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Rejected => "rejected",
            Self::Held => "held",
            Self::Duplicate => "duplicate",
            Self::Resent => "resent",
            Self::Joined => "joined",
            Self::Ignored => "ignored",
            Self::Approved => "approved",
            Self::StaffRejected => "staff-rejected",
            Self::Destroyed => "revoked",
            Self::Issue => "issue",
            Self::Revoke => "revoke",
            Self::Unbind => "unbind",
            Self::Bind => "bind",
            Self::Supersede => "supersede",
            Self::MarkedDuplicate => "marked-duplicate",
            Self::ContractAdd => "contract-add",
            Self::ContractImport => "contract-import",
            Self::ContractUpdate => "contract-update",
            Self::ContractDisable => "contract-disable",
            Self::ContractEnable => "contract-enable",
            Self::KeyRotate => "key-rotate",
            Self::KeyRevoke => "key-revoke",
            Self::ReceiptKey => "receipt-key",
            Self::Forked => "forked",
            Self::ReceiptBurst => "receipt-burst",
            Self::AlertClosed => "alert-closed",
            Self::Prune => "prune",
            Self::StaffAdd => "staff-add",
            Self::StaffDisable => "staff-disable",
            Self::StaffEnable => "staff-enable",
            Self::StaffRole => "staff-role",
            Self::StaffPassword => "staff-password",
            Self::StaffUnlock => "staff-unlock",
            Self::Login => "login",
            Self::LoginFailed => "login-failed",
            Self::LoginLocked => "login-locked",
            Self::Logout => "logout",
            Self::OutboxRetry => "outbox-retry",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        ALL.iter().copied().find(|a| a.as_str() == s)
    }

    /// Every action's text, for `--help` and errors.
    pub fn names() -> Vec<&'static str> {
        ALL.iter().map(|a| a.as_str()).collect()
    }
}

/// One row to record.
#[derive(Clone, Debug)]
pub(crate) struct Entry<'a> {
    pub action: Action,
    pub at: Timestamp,
    pub by: &'a str,
    pub license_id: Option<&'a str>,
    pub contract_id: Option<i64>,
    pub decision_id: Option<i64>,
    pub dedup_key: Option<&'a str>,
    /// The reason given, or a summary.
    pub why: &'a str,
    /// JSON: a decision's reasons, or a contract after the change.
    pub data: Option<String>,
}

impl<'a> Entry<'a> {
    pub(crate) fn new(action: Action, by: &'a str, at: Timestamp) -> Self {
        Self {
            action,
            at,
            by,
            license_id: None,
            contract_id: None,
            decision_id: None,
            dedup_key: None,
            why: "",
            data: None,
        }
    }
}

/// Records one change on a raw connection: for the callers not yet moved
/// onto [`Tx::audit`]; goes with `Store::raw_mut`.
pub(crate) fn record(conn: &Connection, path: &Path, e: &Entry<'_>) -> Result<(), Error> {
    Tx { conn, path }.audit(e)
}

impl Tx<'_> {
    /// Records one change, in this unit of work.
    pub(crate) fn audit(&self, e: &Entry<'_>) -> Result<(), Error> {
        self.conn
            .prepare_cached(
                "INSERT INTO audit (at, by, action, license_id, contract_id, decision_id, dedup_key, why, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute_deferred(
                    params![
                        store::int(e.at.0),
                        e.by,
                        e.action.as_str(),
                        e.license_id,
                        e.contract_id,
                        e.decision_id,
                        e.dedup_key,
                        e.why,
                        e.data,
                    ],
                    "cannot record the audit entry",
                )
            })
            .map_err(store::err(self.path, "cannot record the audit entry"))
    }
}

/// One recorded change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its id.
    pub id: i64,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// What ([`Action::as_str`]; an action this build does not know is kept as text).
    pub action: String,
    /// The license it is about.
    pub license_id: Option<String>,
    /// The contract it is about.
    pub contract_id: Option<i64>,
    /// The decision it is about.
    pub decision_id: Option<i64>,
    /// The mail's dedup key, for decisions.
    pub dedup_key: Option<String>,
    /// The reason given, or a summary.
    pub why: String,
    /// `(code, message)` of a decision's reasons.
    pub reasons: Vec<(String, String)>,
}

impl AuditEntry {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "at": self.at.to_string(),
            "by": self.by,
            "action": self.action,
            "license_id": self.license_id,
            "contract_id": self.contract_id,
            "decision_id": self.decision_id,
            "dedup_key": self.dedup_key,
            "why": self.why,
            "reasons": self.reasons.iter().map(|(c, m)| json!({"code": c, "message": m})).collect::<Vec<_>>(),
        })
    }

    /// One line for people.
    pub fn human(&self) -> String {
        let mut what = Vec::new();
        if let Some(d) = self.decision_id {
            what.push(format!("decision {d}"));
        }
        if let Some(l) = &self.license_id {
            what.push(format!("license {l}"));
        }
        if let Some(c) = self.contract_id {
            what.push(format!("contract {c}"));
        }
        let codes: Vec<&str> = self.reasons.iter().map(|(c, _)| c.as_str()).collect();
        let why = match (self.why.is_empty(), codes.is_empty()) {
            (false, _) => format!("  {}", self.why),
            (true, false) => format!("  ({})", codes.join(", ")),
            (true, true) => String::new(),
        };
        format!("{}  {:<16} {}  by {}{why}\n", self.at, self.action, what.join(" "), self.by)
    }
}

/// What `fanlic audit` shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this license's entries (and its decisions').
    pub license: Option<String>,
    /// Only this contract's entries, its licenses', their decisions' and
    /// the decisions on mail from its addresses (a contract number or
    /// company name).
    pub contract: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<Timestamp>,
    /// Only these actions.
    pub actions: Vec<Action>,
}

/// The audit trail, oldest first, filtered.
pub fn trail(store: impl AsRef<Store>, filter: &Filter) -> Result<Vec<AuditEntry>, Error> {
    store.as_ref().read(|tx| tx.audit_trail(filter))
}

impl Tx<'_> {
    /// The audit trail, oldest first, filtered.
    pub fn audit_trail(&self, filter: &Filter) -> Result<Vec<AuditEntry>, Error> {
        let contract = match &filter.contract {
            Some(which) => Some(self.resolve_contract(which)?),
            None => None,
        };
        let (conn, path) = (self.conn, self.path);
        let read = || store::err(path, "cannot read the audit trail");
        let license = filter.license.as_deref().map(|l| l.trim().to_ascii_lowercase());
        // One license's trail alone (the console's license page, `fanlic
        // audit --license`) has a statement of its own: the general one's
        // `?1 IS NULL OR …` (cast: PostgreSQL must know the type) cannot use an index and reads the whole trail.
        let (sql, args): (&str, Vec<Box<dyn super::sql::ToValue>>) = match (&license, &contract, filter.since) {
            (Some(l), None, None) => (
                "SELECT audit_id, at, by, action, license_id, contract_id, decision_id, dedup_key, why, data FROM audit
             WHERE license_id = ?1 OR decision_id IN (SELECT decision_id FROM decisions WHERE license_id = ?1)
             ORDER BY audit_id",
                vec![Box::new(l.clone())],
            ),
            _ => (
                "SELECT audit_id, at, by, action, license_id, contract_id, decision_id, dedup_key, why, data FROM audit
             WHERE (CAST(?1 AS TEXT) IS NULL OR license_id = ?1
                    OR decision_id IN (SELECT decision_id FROM decisions WHERE license_id = ?1))
               AND (CAST(?2 AS BIGINT) IS NULL OR contract_id = ?2
                    OR license_id IN (SELECT license_id FROM licenses WHERE company_key = ?3)
                    OR decision_id IN (SELECT d.decision_id FROM decisions d JOIN licenses l USING (license_id)
                                       WHERE l.company_key = ?3)
                    OR decision_id IN (SELECT decision_id FROM decisions WHERE from_addr IN
                                       (SELECT email FROM contract_emails WHERE contract_id = ?2)))
               AND (CAST(?4 AS BIGINT) IS NULL OR at >= ?4)
             ORDER BY audit_id",
                vec![
                    Box::new(license.clone()),
                    Box::new(contract.as_ref().map(|c| c.id)),
                    Box::new(contract.as_ref().map(|c| company_key(&c.terms.company))),
                    Box::new(filter.since.map(|t| store::int(t.0))),
                ],
            ),
        };
        let mut stmt = conn.prepare(sql).map_err(read())?;
        let rows = stmt
            .query_map(super::sql::params_from_iter(args.iter()), |r| {
                Ok((audit_row(r)?, r.get::<_, Option<String>>(9)?))
            })
            .map_err(read())?;
        let mut out = Vec::new();
        for row in rows {
            let (mut e, data) = row.map_err(read())?;
            if !filter.actions.is_empty() && !filter.actions.iter().any(|a| a.as_str() == e.action) {
                continue;
            }
            if e.decision_id.is_some() {
                e.reasons = data.as_deref().map(reasons_from_json).unwrap_or_default();
            }
            out.push(e);
        }
        Ok(out)
    }
}

/// `[{code, message}]` as JSON text.
pub(crate) fn reasons_json(reasons: &[(String, String)]) -> String {
    Value::Array(reasons.iter().map(|(c, m)| json!({"code": c, "message": m})).collect()).to_string()
}

/// The reverse of [`reasons_json`]; anything else reads as no reasons.
pub(crate) fn reasons_from_json(s: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(s).unwrap_or(Value::Null);
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    let get = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                    (get("code"), get("message"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What the console's audit page shows: every field optional, all of
/// them must hold.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// Only entries by this account (exact).
    pub by: Option<String>,
    /// Only this action ([`Action::as_str`]; an unknown text matches nothing).
    pub action: Option<String>,
    /// Free text: found in `why`, or the start of the license id.
    pub q: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<Timestamp>,
    /// Only entries before this time.
    pub until: Option<Timestamp>,
    /// Only this license's entries (its id, any case).
    pub license: Option<String>,
    /// Only this contract's entries and its company's licenses' (its id).
    pub contract: Option<i64>,
}

/// `%`, `_` and `\` of a LIKE pattern escaped (with `\`).
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl AuditQuery {
    /// The WHERE clause and its parameters. Each filter is one indexed
    /// condition (audit by who, by action, by time, by license, by
    /// contract); only the free text is read row by row, newest first, so
    /// a page stops at its last row.
    fn sql(&self, tx: &Tx<'_>) -> Result<(String, Vec<super::sql::Value>), Error> {
        use super::sql::Value as V;
        let mut conds: Vec<&str> = Vec::new();
        let mut ps: Vec<V> = Vec::new();
        if let Some(by) = &self.by {
            conds.push("by = ?");
            ps.push(V::Text(by.clone()));
        }
        if let Some(a) = &self.action {
            conds.push("action = ?");
            ps.push(V::Text(a.clone()));
        }
        if let Some(t) = self.since {
            conds.push("at >= ?");
            ps.push(V::Integer(store::int(t.0)));
        }
        if let Some(t) = self.until {
            conds.push("at < ?");
            ps.push(V::Integer(store::int(t.0)));
        }
        if let Some(l) = &self.license {
            conds.push("license_id = ?");
            ps.push(V::Text(l.trim().to_ascii_lowercase()));
        }
        if let Some(id) = self.contract {
            // The contract's own rows, and its company's licenses' (by the
            // company key, as the one-live rule counts them).
            let key = tx.contract(id)?.map(|c| company_key(&c.terms.company));
            conds.push("(contract_id = ? OR license_id IN (SELECT license_id FROM licenses WHERE company_key = ?))");
            ps.push(V::Integer(id));
            ps.push(key.map_or(V::Null, V::Text));
        }
        if let Some(q) = &self.q {
            let q = q.trim();
            // The text index narrows the rows to those holding the text's
            // rarest 3 characters when they are few; LIKE then keeps those
            // holding all of it. Otherwise the trail is read newest first:
            // a common text fills a page soon.
            // PostgreSQL has no such index here: its LIKE reads the trail
            // newest first (ILIKE: SQLite's LIKE ignores case too).
            if tx.conn.dialect() == super::sql::Dialect::Sqlite {
                if let Some(trigram) = tx.rarest_trigram(q)? {
                    conds.push("audit_id IN (SELECT rowid FROM audit_text WHERE audit_text MATCH ?)");
                    ps.push(V::Text(trigram));
                }
                conds.push("(why LIKE ? ESCAPE '\\' OR license_id LIKE ? ESCAPE '\\')");
            } else {
                conds.push("(why ILIKE ? ESCAPE '\\' OR license_id ILIKE ? ESCAPE '\\')");
            }
            let pattern = format!("%{}%", like_escape(q));
            ps.push(V::Text(pattern.clone()));
            ps.push(V::Text(pattern));
        }
        let wh = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        Ok((wh, ps))
    }
}

/// An entry from the first columns of [`AUDIT_COLUMNS`]; its reasons are
/// left empty (only the CLI's trail reads them, from `data`).
fn audit_row(r: &super::sql::Row<'_>) -> super::sql::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        at: Timestamp(u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)),
        by: r.get(2)?,
        action: r.get(3)?,
        license_id: r.get(4)?,
        contract_id: r.get(5)?,
        decision_id: r.get(6)?,
        dedup_key: r.get(7)?,
        why: r.get(8)?,
        reasons: Vec::new(),
    })
}

/// Up to this many entries holding a piece of a free text are read through
/// the text index and sorted; more, and the trail is read newest first
/// until a page is full.
const TEXT_FEW: u64 = 2000;
/// A 3-character piece held by more entries than this does not narrow a search.
const TEXT_PIECE_FEW: u64 = 5000;
/// The 3-character pieces of a free text looked up, at most.
const TEXT_PROBES: usize = 24;

const AUDIT_COLUMNS: &str = "audit_id, at, by, action, license_id, contract_id, decision_id, dedup_key, why";

impl Tx<'_> {
    /// One page of the audit trail, newest first: `limit` rows from
    /// `offset` (a caller asks one more than it shows, to know whether
    /// there is a next page).
    pub fn audit_page(&self, q: &AuditQuery, offset: u64, limit: u32) -> Result<Vec<AuditEntry>, Error> {
        let (wh, mut ps) = q.sql(self)?;
        ps.push(super::sql::Value::Integer(i64::from(limit)));
        ps.push(super::sql::Value::Integer(store::int(offset)));
        self.audit_newest_first(&wh, ps, "LIMIT ? OFFSET ?")
    }

    /// Up to `limit` rows matching `q` that come after `after` (the
    /// `(at, id)` of the last row read; `None`: from the newest), newest
    /// first: an export reads the whole trail this way, a part at a time.
    pub fn audit_after(
        &self,
        q: &AuditQuery,
        after: Option<(Timestamp, i64)>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, Error> {
        use super::sql::Value as V;
        let (mut wh, mut ps) = q.sql(self)?;
        if let Some((at, id)) = after {
            wh = if wh.is_empty() {
                "WHERE (at, audit_id) < (?, ?)".to_owned()
            } else {
                format!("{wh} AND (at, audit_id) < (?, ?)")
            };
            ps.push(V::Integer(store::int(at.0)));
            ps.push(V::Integer(id));
        }
        ps.push(V::Integer(i64::from(limit)));
        self.audit_newest_first(&wh, ps, "LIMIT ?")
    }

    /// The entries of `wh` (with its parameters `ps`), newest first, then `tail`.
    fn audit_newest_first(&self, wh: &str, ps: Vec<super::sql::Value>, tail: &str) -> Result<Vec<AuditEntry>, Error> {
        let read = || store::err(self.path, "cannot read the audit trail");
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {AUDIT_COLUMNS} FROM audit {wh} ORDER BY at DESC, audit_id DESC {tail}"))
            .map_err(read())?;
        let rows = stmt.query_map(super::sql::params_from_iter(ps), audit_row).map_err(read())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(read())
    }

    /// How many entries the text index finds for the FTS5 query `m`,
    /// counting no further than `limit + 1` (the index is read lazily).
    fn audit_text_count(&self, m: &str, limit: u64) -> Result<u64, Error> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM (SELECT rowid FROM audit_text WHERE audit_text MATCH ?1 LIMIT ?2)")
            .and_then(|mut s| s.query_row(params![m, store::int(limit.saturating_add(1))], |r| r.get(0)))
            .map_err(store::err(self.path, "cannot read the audit trail"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// An FTS5 query that the entries holding `text` match, when few
    /// entries (at most [`TEXT_FEW`]) match it: the text's rarest
    /// 3-character pieces, all of them required.
    fn rarest_trigram(&self, text: &str) -> Result<Option<String>, Error> {
        let chars: Vec<char> = text.chars().collect();
        let mut rare: Vec<(u64, String)> = Vec::new();
        // A long text is sampled: each look-up costs well under a millisecond.
        for w in chars.windows(3).take(TEXT_PROBES) {
            let piece: String = w.iter().collect();
            let phrase = format!("\"{}\"", piece.replace('"', "\"\""));
            let n = self.audit_text_count(&phrase, TEXT_PIECE_FEW)?;
            if n == 0 {
                return Ok(Some(phrase));
            }
            if n <= TEXT_PIECE_FEW && !rare.iter().any(|(_, p)| *p == phrase) {
                rare.push((n, phrase));
            }
        }
        rare.sort();
        let query = rare.iter().take(3).map(|(_, p)| p.as_str()).collect::<Vec<_>>().join(" AND ");
        if query.is_empty() || self.audit_text_count(&query, TEXT_FEW)? > TEXT_FEW {
            return Ok(None);
        }
        Ok(Some(query))
    }
}
