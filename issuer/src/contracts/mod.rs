//! The contract registry: what each customer bought.
//!
//! A contract names the company, the addresses allowed to request licenses,
//! the signing date, the product, the registration methods, the most
//! cluster nodes, the licensed version (major.minor), the term, and whether
//! it is enabled. Contracts live in the home's database (tables
//! `contracts`, `contract_emails` and the audit trail (`audit`), schema version 2).
//!
//! Rules:
//! - Companies are unique, compared by [`company_key`]: case, runs of white
//!   space and full-width forms are folded (`ＡＣＭＥ　Ltd` is `acme ltd`).
//!   A contract is found by that key only. [`legal_form_key`] is lenient
//!   (legal-form spelling and punctuation set aside) and is only ever used
//!   to compare a mail's company name with the contract of its own
//!   authenticated sender, never to find a contract.
//! - Addresses are stored normalized ([`normalize_email`]: trimmed,
//!   lowercase) and an address may belong to **one enabled** contract only,
//!   so that a sender names at most one contract. Disabled contracts keep
//!   theirs.
//! - Every change records who (`--by`, else `$USER`) and when, in the row and
//!   in the audit trail (`audit`) with the contract as it became.
//! - [`import`] reads a CSV file with the header [`CSV_HEADER`], checks every
//!   row first, and writes nothing unless every row is good (one transaction).
//!   [`preview_bytes`] runs the same checks and writes nothing: every row,
//!   what importing it would do ([`RowAction`]), and every problem by line.

use crate::error::ContractError;
use core::fmt::Write as _;

use fanlic_formats::{Date, Expiry, LicenseKind, Timestamp, Version};
use serde_json::{Value, json};

use crate::Error;
use crate::Home;
use crate::store::Tx;
use crate::store::audit::{Action, Entry};
pub use crate::store::{Contract, ContractChange as AuditEntry, ContractTerms};
pub use crate::util::actor::actor;

mod import_csv;
mod parse;
pub use crate::util::text::{company_key, normalize_email};
pub use fanlic_mail::company::{legal_form_key, same_company_but_legal_form};
pub use import_csv::*;
pub use parse::*;

/// The exact header `contract import` requires; [`CSV_MAX_LICENSES`] may
/// follow as a ninth column.
pub const CSV_HEADER: [&str; 8] =
    ["company", "email", "signed", "product", "methods", "max_nodes", "version", "expires"];
/// The optional ninth CSV column: how many projects (licenses) the contract
/// covers; 1 when absent or empty.
pub const CSV_MAX_LICENSES: &str = "max_licenses";
/// The optional columns after [`CSV_HEADER`], in this order: a header may
/// name the first one, the first two, or all three.
pub const CSV_OPTIONAL: [&str; 3] = [CSV_MAX_LICENSES, "activation_policy", "lease_days"];
/// The most days a re-activation lease may last (ten years).
pub const MAX_LEASE_DAYS: u32 = 3650;

/// How a contract's licenses are activated (SPEC.md §3.3): `Code` (the
/// default) or `Receipt`.
pub use fanlic_formats::ActivationPolicy;

impl Contract {
    /// Whether the term has ended at `now`.
    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        self.terms.expires.is_expired_at(now)
    }

    /// `disabled`, `expired` or `active`.
    pub fn status(&self, now: Timestamp) -> &'static str {
        if !self.enabled {
            "disabled"
        } else if self.is_expired_at(now) {
            "expired"
        } else {
            "active"
        }
    }

    /// Whether `method` is allowed.
    pub fn allows(&self, method: LicenseKind) -> bool {
        self.terms.methods.contains(&method)
    }

    /// As JSON.
    pub fn to_json(&self, now: Timestamp) -> Value {
        let t = &self.terms;
        json!({
            "id": self.id,
            "company": t.company,
            "emails": t.emails,
            "signed": t.signed.to_string(),
            "product": t.product,
            "methods": t.methods.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            "max_nodes": t.max_nodes,
            "max_licenses": t.max_licenses,
            "activation_policy": t.activation_policy.as_str(),
            "lease_days": t.lease_days,
            "version": t.version.to_string(),
            "expires": t.expires.to_string(),
            "enabled": self.enabled,
            "status": self.status(now),
            "created_at": self.created_at.to_string(),
            "created_by": self.created_by,
            "updated_at": self.updated_at.to_string(),
            "updated_by": self.updated_by,
        })
    }

    /// For people: several lines.
    pub fn human(&self, now: Timestamp) -> String {
        let t = &self.terms;
        format!(
            "Contract {id}: {company} ({status})\n\
             \x20 emails:     {emails}\n\
             \x20 product:    {product} {version}\n\
             \x20 methods:    {methods}\n\
             \x20 max nodes:  {nodes}\n\
             \x20 licenses:   {licenses} project(s)\n\
             \x20 activation: {policy}\n\
             \x20 signed:     {signed}\n\
             \x20 expires:    {expires}\n\
             \x20 recorded:   {ca} by {cb}\n\
             \x20 changed:    {ua} by {ub}\n",
            id = self.id,
            company = t.company,
            status = self.status(now),
            emails = t.emails.join(", "),
            product = t.product,
            version = t.version,
            methods = methods_text(&t.methods),
            nodes = t.max_nodes,
            licenses = t.max_licenses,
            policy = policy_text(t),
            signed = t.signed,
            expires = t.expires,
            ca = self.created_at,
            cb = self.created_by,
            ua = self.updated_at,
            ub = self.updated_by,
        )
    }
}

/// Columns a character takes in a terminal: 2 for East Asian wide and
/// full-width forms, else 1 (close enough for names).
pub(super) fn char_width(c: char) -> usize {
    match u32::from(c) {
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

pub(super) fn text_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

pub(super) fn policy_text(t: &ContractTerms) -> String {
    match (t.activation_policy, t.lease_days) {
        (ActivationPolicy::Receipt, Some(d)) => format!("receipt, private-cloud lease {d} day(s)"),
        (p, _) => p.as_str().to_owned(),
    }
}

pub(super) fn methods_text(methods: &[LicenseKind]) -> String {
    methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(",")
}

/// A table of contracts for people.
/// `all`: disabled contracts are included.
pub fn list_human(contracts: &[Contract], now: Timestamp, all: bool) -> String {
    if contracts.is_empty() {
        let hint = if all { "" } else { " (`fanlic contract list --all` includes disabled ones)" };
        return format!("No contracts{hint}.\n");
    }
    let head = ["ID", "COMPANY", "PRODUCT", "VERSION", "NODES", "METHODS", "ACTIVATION", "EXPIRES", "STATUS", "EMAILS"];
    let rows: Vec<[String; 10]> = contracts
        .iter()
        .map(|c| {
            let t = &c.terms;
            [
                c.id.to_string(),
                t.company.clone(),
                t.product.to_owned(),
                t.version.to_string(),
                t.max_nodes.to_string(),
                methods_text(&t.methods),
                match t.lease_days {
                    Some(d) => format!("{}/{d}d", t.activation_policy.as_str()),
                    None => t.activation_policy.as_str().to_owned(),
                },
                t.expires.to_string(),
                c.status(now).to_owned(),
                t.emails.join(";"),
            ]
        })
        .collect();
    let mut widths = head.map(text_width);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(text_width(cell));
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (cell, w) in cells.zip(widths) {
            let pad = w.saturating_sub(text_width(cell)) + 2;
            let _ = write!(text, "{cell}{:pad$}", "");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut head.iter().copied());
    for row in &rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// What changes in `contract update`: `None` keeps the field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContractChanges {
    /// New company name.
    pub company: Option<String>,
    /// New addresses (replace all).
    pub emails: Option<Vec<String>>,
    /// New signing date.
    pub signed: Option<Date>,
    /// New product.
    pub product: Option<&'static str>,
    /// New methods.
    pub methods: Option<Vec<LicenseKind>>,
    /// New node count.
    pub max_nodes: Option<u32>,
    /// New license count.
    pub max_licenses: Option<u32>,
    /// New activation policy.
    pub activation_policy: Option<ActivationPolicy>,
    /// New lease: `Some(None)` removes it.
    pub lease_days: Option<Option<u32>>,
    /// New version.
    pub version: Option<Version>,
    /// New term.
    pub expires: Option<Expiry>,
    /// Enable the contract again.
    pub enable: bool,
}

/// Records the change and returns the contract as it became.
pub(super) fn audit(tx: &Tx<'_>, id: i64, action: Action, by: &str, now: Timestamp) -> Result<Contract, Error> {
    let c = tx.contract_written(id)?;
    tx.audit(&Entry { contract_id: Some(id), data: Some(c.to_json(now).to_string()), ..Entry::new(action, by, now) })?;
    Ok(c)
}

/// Refuses addresses an enabled contract other than `except` holds.
pub(super) fn check_emails(tx: &Tx<'_>, emails: &[String], except: Option<i64>) -> Result<(), Error> {
    for e in emails {
        if let Some((id, company)) = tx.contract_email_owner(e, except)? {
            return Err(Error::Contract(ContractError::EmailTaken { email: e.clone(), id, company }));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The operations.

/// Records a new, enabled contract.
pub fn add(home: &mut Home, terms: &ContractTerms, by: &str, now: Timestamp) -> Result<Contract, Error> {
    home.store_mut().write(|tx| {
        if let Some(id) = tx.contract_id_by_company(&terms.company)? {
            let company = tx.contract(id)?.map(|c| c.terms.company).unwrap_or_default();
            return Err(Error::Contract(ContractError::Exists { company, id }));
        }
        check_emails(tx, &terms.emails, None)?;
        let id = tx.insert_contract(terms, by, now)?;
        audit(tx, id, Action::ContractAdd, by, now)
    })
}

/// Contracts by id; disabled ones only with `all`.
pub fn list(home: &mut Home, all: bool) -> Result<Vec<Contract>, Error> {
    home.store().read(|tx| tx.contracts(all))
}

/// The contract with this id, else for this company.
pub fn resolve(home: &mut Home, which: &str) -> Result<Contract, Error> {
    home.store().read(|tx| tx.resolve_contract(which))
}

/// The contract of a company, compared by [`company_key`] (case, white space
/// and full-width forms do not matter), enabled or not.
pub fn find_by_company(home: &mut Home, name: &str) -> Result<Option<Contract>, Error> {
    home.store().read(|tx| find_by_company_in(tx, name))
}

/// [`find_by_company`] in the caller's unit of work.
pub(crate) fn find_by_company_in(tx: &Tx<'_>, name: &str) -> Result<Option<Contract>, Error> {
    match tx.contract_id_by_company(name)? {
        Some(id) => tx.contract(id),
        None => Ok(None),
    }
}

/// The contract an address belongs to: the enabled one if there is one,
/// else the most recently changed disabled one (so that a caller can say
/// "contract disabled"). `None` for an address no contract has, or one that
/// is not an address.
pub fn find_by_email(home: &mut Home, addr: &str) -> Result<Option<Contract>, Error> {
    home.store().read(|tx| find_by_email_in(tx, addr))
}

/// [`find_by_email`] in the caller's unit of work.
pub(crate) fn find_by_email_in(tx: &Tx<'_>, addr: &str) -> Result<Option<Contract>, Error> {
    let Ok(email) = normalize_email("email", addr) else {
        return Ok(None);
    };
    match tx.contract_id_by_email(&email)? {
        Some(id) => tx.contract(id),
        None => Ok(None),
    }
}

impl AuditEntry {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({ "at": self.at.to_string(), "by": self.by, "action": self.action })
    }
}

/// Every change to a contract, oldest first.
pub fn history(home: &mut Home, id: i64) -> Result<Vec<AuditEntry>, Error> {
    home.store().read(|tx| tx.contract_history(id))
}

/// The history for people, indented under a contract.
pub fn history_human(entries: &[AuditEntry]) -> String {
    let mut out = "  history:\n".to_owned();
    for e in entries {
        let _ = writeln!(out, "    {} {} by {}", e.at, e.action, e.by);
    }
    out
}

/// The fields of a contract a change may touch, as [`Contract::to_json`] names them.
const CHANGED_FIELDS: [&str; 12] = [
    "company",
    "emails",
    "signed",
    "product",
    "methods",
    "max_nodes",
    "max_licenses",
    "activation_policy",
    "lease_days",
    "version",
    "expires",
    "enabled",
];

/// A field's value for people: text as is, lists joined with `, `, none as `-`.
fn field_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.iter().map(|x| field_text(Some(x))).collect::<Vec<_>>().join(", "),
        Some(other) => other.to_string(),
    }
}

/// One field a change changed: its name, before, after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// The field, as [`Contract::to_json`] names it.
    pub field: &'static str,
    /// Its value before.
    pub before: String,
    /// Its value after.
    pub after: String,
}

/// For each history entry (oldest first), the fields it changed, compared
/// with the entry before it; the first entry (the contract recorded) and
/// entries without a recorded contract change nothing listed.
pub fn history_changes(entries: &[AuditEntry]) -> Vec<Vec<FieldChange>> {
    let parsed: Vec<Option<Value>> =
        entries.iter().map(|e| e.after.as_deref().and_then(|d| serde_json::from_str(d).ok())).collect();
    let mut out = Vec::with_capacity(entries.len());
    let mut previous: Option<&Value> = None;
    for now in &parsed {
        let mut changes = Vec::new();
        if let (Some(before), Some(after)) = (previous, now) {
            for field in CHANGED_FIELDS {
                let (b, a) = (before.get(field), after.get(field));
                if b != a {
                    changes.push(FieldChange { field, before: field_text(b), after: field_text(a) });
                }
            }
        }
        if now.is_some() {
            previous = now.as_ref();
        }
        out.push(changes);
    }
    out
}

/// Changes the fields given; `enable` enables a disabled contract again.
pub fn update(
    home: &mut Home,
    which: &str,
    changes: &ContractChanges,
    by: &str,
    now: Timestamp,
) -> Result<Contract, Error> {
    home.store_mut().write(|tx| {
        let old = tx.resolve_contract(which)?;
        let mut t = old.terms.clone();
        let ch = changes.clone();
        if let Some(company) = ch.company {
            if let Some(other) = tx.contract_id_by_company(&company)?
                && other != old.id
            {
                let company = tx.contract(other)?.map(|c| c.terms.company).unwrap_or_default();
                return Err(Error::Contract(ContractError::Exists { company, id: other }));
            }
            t.company = company;
        }
        t.emails = ch.emails.unwrap_or(t.emails);
        t.signed = ch.signed.unwrap_or(t.signed);
        t.product = ch.product.unwrap_or(t.product);
        t.methods = ch.methods.unwrap_or(t.methods);
        t.max_nodes = ch.max_nodes.unwrap_or(t.max_nodes);
        t.max_licenses = ch.max_licenses.unwrap_or(t.max_licenses);
        t.activation_policy = ch.activation_policy.unwrap_or(t.activation_policy);
        t.lease_days = ch.lease_days.unwrap_or(t.lease_days);
        check_lease(OPTION_NAMES.lease_days, t.activation_policy, t.lease_days, &t.methods)?;
        t.version = ch.version.unwrap_or(t.version);
        t.expires = ch.expires.unwrap_or(t.expires);
        let enabled = old.enabled || ch.enable;
        if enabled {
            check_emails(tx, &t.emails, Some(old.id))?;
        }
        tx.replace_contract(old.id, &t, enabled, by, now)?;
        let action = if ch.enable && !old.enabled { Action::ContractEnable } else { Action::ContractUpdate };
        audit(tx, old.id, action, by, now)
    })
}

/// Disables a contract (no new licenses under it); it stays in the registry.
pub fn disable(home: &mut Home, which: &str, by: &str, now: Timestamp) -> Result<Contract, Error> {
    home.store_mut().write(|tx| {
        let old = tx.resolve_contract(which)?;
        if !old.enabled {
            return Ok(old);
        }
        tx.replace_contract(old.id, &old.terms, false, by, now)?;
        audit(tx, old.id, Action::ContractDisable, by, now)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_and_addresses() {
        assert_eq!(company_key("  ＡＣＭＥ\u{3000}Data   Ltd "), "acme data ltd");
        assert_eq!(company_key("帆软 Ltd"), "帆软 ltd");
        assert_eq!(normalize_email("--email", " Alice@Acme.Example ").unwrap(), "alice@acme.example");
        for bad in
            ["alice", "alice@", "@acme.example", "a b@acme.example", "alice@acme", "alice@-x.example", "a..b@x.example"]
        {
            assert!(normalize_email("--email", bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_emails("email", "a@x.example; B@x.example;a@x.example;").unwrap(),
            ["a@x.example", "b@x.example"]
        );
        assert!(parse_emails("email", " ; ").is_err());
        assert_eq!(
            parse_methods("methods", "private-cloud, local-container").unwrap(),
            [LicenseKind::LocalContainer, LicenseKind::PrivateCloud]
        );
        assert!(parse_methods("methods", "qr").is_err());
        assert!(parse_max_nodes("max_nodes", "0").is_err());
    }

    #[test]
    fn history_lists_the_fields_each_change_changed() {
        let entry = |action: &str, after: Option<&str>| AuditEntry {
            at: Timestamp(0),
            by: "alice".to_owned(),
            action: action.to_owned(),
            after: after.map(str::to_owned),
        };
        let entries = [
            entry(
                "add",
                Some(r#"{"company":"A","emails":["a@a.example"],"max_nodes":2,"lease_days":null,"enabled":true}"#),
            ),
            entry(
                "update",
                Some(
                    r#"{"company":"A","emails":["a@a.example","b@a.example"],"max_nodes":3,"lease_days":null,"enabled":true}"#,
                ),
            ),
            entry("update", None),
            entry(
                "disable",
                Some(
                    r#"{"company":"A","emails":["a@a.example","b@a.example"],"max_nodes":3,"lease_days":30,"enabled":false}"#,
                ),
            ),
        ];
        let changes = history_changes(&entries);
        let shown: Vec<Vec<String>> = changes
            .iter()
            .map(|c| c.iter().map(|f| format!("{}: {} -> {}", f.field, f.before, f.after)).collect())
            .collect();
        assert_eq!(
            shown,
            [
                vec![],
                vec!["emails: a@a.example -> a@a.example, b@a.example".to_owned(), "max_nodes: 2 -> 3".to_owned()],
                vec![],
                vec!["lease_days: - -> 30".to_owned(), "enabled: true -> false".to_owned()],
            ]
        );
    }

    #[test]
    fn every_row_problem_is_reported() {
        let csv = "company,email,signed,product,methods,max_nodes,version,expires\n\
                   Acme,a@acme.example,2026/11/20,FineReport,local-container,2,11.0,never\n\
                   Bad,nope,2026/13/20,Excel,qr,0,11.0.3,soon\n\
                   Short,a@b.example\n";
        let (rows, problems) = read_csv(csv.as_bytes());
        assert_eq!(rows.iter().filter(|r| r.terms.is_some()).count(), 1);
        let lines: Vec<u64> = problems.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [3, 3, 3, 3, 3, 3, 3, 4]);
    }

    #[test]
    #[allow(clippy::indexing_slicing)]
    fn policy_and_lease_columns() {
        let csv = "company,email,signed,product,methods,max_nodes,version,expires,max_licenses,activation_policy,lease_days\n\
                   A,a@a.example,2026/11/20,FineReport,\"local-container,private-cloud\",1,11.0,never,2,receipt,90\n\
                   B,b@b.example,2026/11/20,FineReport,local-container,1,11.0,never,,,\n\
                   C,c@c.example,2026/11/20,FineReport,private-cloud,1,11.0,never,1,code,30\n\
                   D,d@d.example,2026/11/20,FineReport,local-container,1,11.0,never,1,receipt,30\n\
                   E,e@e.example,2026/11/20,FineReport,private-cloud,1,11.0,never,1,maybe,0\n";
        let (rows, problems) = read_csv(csv.as_bytes());
        let terms: Vec<_> = rows.iter().filter_map(|r| r.terms.as_ref()).collect();
        assert_eq!(terms.len(), 2, "{problems:?}");
        assert_eq!(
            (terms[0].activation_policy, terms[0].lease_days, terms[0].max_licenses),
            (ActivationPolicy::Receipt, Some(90), 2)
        );
        assert_eq!((terms[1].activation_policy, terms[1].lease_days), (ActivationPolicy::Code, None));
        let lines: Vec<u64> = problems.iter().map(|(l, _)| *l).collect();
        // C: a lease without the receipt policy; D: without private cloud;
        // E: neither value parses.
        assert_eq!(lines, [4, 5, 6, 6], "{problems:?}");
        assert!(problems[0].1.contains("receipt activation policy"), "{problems:?}");
        assert!(problems[1].1.contains("private-cloud"), "{problems:?}");
        // A header may stop after any optional column, never skip one.
        let (_, problems) = read_csv(b"company,email,signed,product,methods,max_nodes,version,expires,lease_days\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn a_large_file_is_read_in_time_linear_in_its_size() {
        // Each row's line number once counted every byte before it: 20,000
        // rows took minutes. Now the whole file is a second or two.
        let mut csv = String::from("company,email,signed,product,methods,max_nodes,version,expires\n");
        for i in 0..20_000 {
            csv.push_str(&format!(
                "Company {i},it{i}@c{i}.example,2026/11/20,FineReport,local-container,1,11.0,never\n"
            ));
        }
        let started = std::time::Instant::now();
        let (rows, problems) = read_csv(csv.as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.last().map(|r| r.line), Some(20_001));
        assert!(started.elapsed() < core::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }

    #[test]
    fn line_numbers_count_blank_lines_and_quoted_breaks() {
        let csv = "\u{feff}company,email,signed,product,methods,max_nodes,version,expires\r\n\
                   A,a@a.example,2026/11/20,FineReport,\"local-container,\r\nprivate-cloud\",1,11.0,never\r\n\
                   \r\n\
                   \n\
                   B,b@b.example,2026/11/20,FineReport,local-container,1,11,never\r\n\
                   C,c@c.example,2026/11/20,FineReport,local-container,1,11,never";
        let (rows, problems) = read_csv(csv.as_bytes());
        assert_eq!(rows.iter().filter(|r| r.terms.is_some()).count(), 1, "{problems:?}");
        assert_eq!(rows.first().map(|r| r.line), Some(2));
        let lines: Vec<u64> = problems.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [6, 7], "{problems:?}");
    }
}
