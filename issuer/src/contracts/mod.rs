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

use core::fmt::Write as _;
use std::{collections::HashMap, path::Path};

use fanlic_formats::{Date, Expiry, LicenseKind, Timestamp, Version};
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};
use serde_json::{Value, json};

use crate::Error;
use crate::Home;
use crate::store::audit::Action;
use crate::store::{err, int};
use crate::util::input;

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

/// Parses an activation policy: `code` or `receipt` (case and white space
/// around ignored).
pub fn parse_activation_policy(option: &'static str, s: &str) -> Result<ActivationPolicy, Error> {
    s.trim().to_ascii_lowercase().parse().map_err(|_| {
        Error::input(
            option,
            s,
            "`code` (the admin types a 6-digit code) or `receipt` (the vendor's service signs a receipt)",
        )
    })
}

/// A contract's terms: what `add` takes and what a contract holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractTerms {
    /// The company, as the customer writes it.
    pub company: String,
    /// Addresses allowed to request licenses, normalized, at least one.
    pub emails: Vec<String>,
    /// When the contract was signed.
    pub signed: Date,
    /// `FineReport` or `FineBI`.
    pub product: &'static str,
    /// Registration methods allowed, at least one, local-container first.
    pub methods: Vec<LicenseKind>,
    /// Most cluster nodes purchased.
    pub max_nodes: u32,
    /// Licensed version.
    pub version: Version,
    /// Last day of the term, or perpetual.
    pub expires: Expiry,
    /// How many projects may hold a live license at once (1 unless bought).
    pub max_licenses: u32,
    /// How its licenses are activated.
    pub activation_policy: ActivationPolicy,
    /// Days a private-cloud receipt lasts before the server must be
    /// activated again; `None`: no lease. Only with the receipt policy and
    /// the private-cloud method.
    pub lease_days: Option<u32>,
}

/// A contract in the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contract {
    /// Its number.
    pub id: i64,
    /// What was bought.
    pub terms: ContractTerms,
    /// Whether licenses may be issued under it.
    pub enabled: bool,
    /// When it was recorded.
    pub created_at: Timestamp,
    /// Who recorded it.
    pub created_by: String,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Who changed it last.
    pub updated_by: String,
}

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
fn char_width(c: char) -> usize {
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

fn text_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn policy_text(t: &ContractTerms) -> String {
    match (t.activation_policy, t.lease_days) {
        (ActivationPolicy::Receipt, Some(d)) => format!("receipt, private-cloud lease {d} day(s)"),
        (p, _) => p.as_str().to_owned(),
    }
}

fn methods_text(methods: &[LicenseKind]) -> String {
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

// ---------------------------------------------------------------------------
// Normalization and validation.

// How company names are compared lives with the mail fields that compare
// them (`fanlic_mail::company`); contracts find companies by the same key.
use fanlic_mail::company::fold_width;
pub use fanlic_mail::company::{company_key, legal_form_key, same_company_but_legal_form};

/// One address, trimmed, full-width forms folded and lowercase, if it looks
/// like `local@domain.tld`.
pub fn normalize_email(option: &'static str, s: &str) -> Result<String, Error> {
    let a: String = s.trim().chars().map(fold_width).collect::<String>().to_lowercase();
    let bad = |fix: &str| Err(Error::input(option, s, fix.to_owned()));
    let Some((local, domain)) = a.split_once('@') else {
        return bad("is not an email address: expected name@example.com");
    };
    if local.is_empty() || local.len() > 64 || a.len() > 254 {
        return bad("is not an email address: expected name@example.com");
    }
    let local_ok = local.chars().all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[]\\,;:\"@".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return bad(
            "has a space or one of <>()[]\\,;:\"@ before the @, or a misplaced dot; write a bare address such as name@example.com",
        );
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !domain_ok {
        return bad("has no valid domain after the @: expected a domain such as example.com");
    }
    Ok(a)
}

/// Addresses separated by `;` (empty pieces ignored), normalized, without
/// duplicates, at least one.
pub fn parse_emails(option: &'static str, s: &str) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::new();
    for piece in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let e = normalize_email(option, piece)?;
        if !out.contains(&e) {
            out.push(e);
        }
    }
    if out.is_empty() {
        return Err(Error::input(
            option,
            s,
            "needs at least one address, such as it@acme.example (separate several with ;)",
        ));
    }
    Ok(out)
}

/// A comma list of methods (`local-container`, `private-cloud`), at least
/// one, in canonical order.
pub fn parse_methods(option: &'static str, s: &str) -> Result<Vec<LicenseKind>, Error> {
    let mut local = false;
    let mut cloud = false;
    for piece in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match piece.to_ascii_lowercase().parse::<LicenseKind>() {
            Ok(LicenseKind::LocalContainer) => local = true,
            Ok(LicenseKind::PrivateCloud) => cloud = true,
            Err(_) => {
                return Err(Error::input(
                    option,
                    s,
                    format!(
                        "{piece:?} is not a method: use local-container, private-cloud, or both separated by a comma"
                    ),
                ));
            }
        }
    }
    let mut out = Vec::new();
    if local {
        out.push(LicenseKind::LocalContainer);
    }
    if cloud {
        out.push(LicenseKind::PrivateCloud);
    }
    if out.is_empty() {
        return Err(Error::input(option, s, "needs local-container, private-cloud, or both separated by a comma"));
    }
    Ok(out)
}

/// Most cluster nodes: a whole number from 1.
pub fn parse_max_nodes(option: &'static str, s: &str) -> Result<u32, Error> {
    match s.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(Error::input(option, s, "expected the number of cluster nodes purchased: a whole number, 1 or more")),
    }
}

/// Gives an [`Error::InvalidInput`] from a shared validator the caller's
/// option (or CSV column) name.
fn relabel(e: Error, option: &'static str) -> Error {
    match e {
        Error::InvalidInput { given, fix, .. } => {
            let fix = if option == "--version" { fix } else { fix.replace("use --version ", "use ") };
            Error::InvalidInput { option, given, fix }
        }
        other => other,
    }
}

/// Parses a license count: a whole number from 1.
pub fn parse_max_licenses(option: &'static str, s: &str) -> Result<u32, Error> {
    match s.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(Error::input(option, s, "the number of projects the contract covers: a whole number from 1")),
    }
}

/// A lease in days: a whole number from 1 to [`MAX_LEASE_DAYS`].
pub fn parse_lease_days(option: &'static str, s: &str) -> Result<u32, Error> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_LEASE_DAYS).contains(&n) => Ok(n),
        _ => Err(Error::input(
            option,
            s,
            format!(
                "the days a private-cloud server runs on one receipt before it must be activated again: a \
                 whole number from 1 to {MAX_LEASE_DAYS}"
            ),
        )),
    }
}

/// Checks that a lease goes with the receipt policy and the private-cloud
/// method: a lease is enforced by the authorization server's receipt.
pub fn check_lease(
    option: &'static str,
    policy: ActivationPolicy,
    lease_days: Option<u32>,
    methods: &[LicenseKind],
) -> Result<(), Error> {
    let Some(days) = lease_days else { return Ok(()) };
    if policy != ActivationPolicy::Receipt {
        return Err(Error::input(
            option,
            &days.to_string(),
            "a lease needs the receipt activation policy (--activation-policy receipt): a 6-digit code carries no \
             vendor time, so only the customer's own clock could end the lease",
        ));
    }
    if !methods.contains(&LicenseKind::PrivateCloud) {
        return Err(Error::input(
            option,
            &days.to_string(),
            "a lease applies to private-cloud licenses: the contract's methods must include private-cloud",
        ));
    }
    Ok(())
}

/// The text of a contract's terms, as typed or read from a CSV row.
#[derive(Clone, Copy, Debug)]
pub struct TermsText<'a> {
    /// Company.
    pub company: &'a str,
    /// Addresses, `;` separated.
    pub email: &'a str,
    /// Signing date.
    pub signed: &'a str,
    /// Product.
    pub product: &'a str,
    /// Methods, comma separated.
    pub methods: &'a str,
    /// Max nodes.
    pub max_nodes: &'a str,
    /// Version.
    pub version: &'a str,
    /// `YYYY-MM-DD` or `never`.
    pub expires: &'a str,
    /// License count; `None` or empty: 1.
    pub max_licenses: Option<&'a str>,
    /// `code` or `receipt`; `None` or empty: `code`.
    pub activation_policy: Option<&'a str>,
    /// Lease days; `None` or empty: no lease.
    pub lease_days: Option<&'a str>,
}

/// Option names for the fields, for messages.
#[derive(Clone, Copy, Debug)]
pub struct FieldNames {
    /// For the company.
    pub company: &'static str,
    /// For the addresses.
    pub email: &'static str,
    /// For the signing date.
    pub signed: &'static str,
    /// For the product.
    pub product: &'static str,
    /// For the methods.
    pub methods: &'static str,
    /// For max nodes.
    pub max_nodes: &'static str,
    /// For the version.
    pub version: &'static str,
    /// For the term.
    pub expires: &'static str,
    /// For the license count.
    pub max_licenses: &'static str,
    /// For the activation policy.
    pub activation_policy: &'static str,
    /// For the lease.
    pub lease_days: &'static str,
}

/// The command line's option names.
pub const OPTION_NAMES: FieldNames = FieldNames {
    company: "--company",
    email: "--email",
    signed: "--signed",
    product: "--product",
    methods: "--methods",
    max_nodes: "--max-nodes",
    version: "--version",
    expires: "--expires",
    max_licenses: "--max-licenses",
    activation_policy: "--activation-policy",
    lease_days: "--lease-days",
};

/// The CSV columns.
const CSV_NAMES: FieldNames = FieldNames {
    company: "company",
    email: "email",
    signed: "signed",
    product: "product",
    methods: "methods",
    max_nodes: "max_nodes",
    version: "version",
    expires: "expires",
    max_licenses: CSV_MAX_LICENSES,
    activation_policy: "activation_policy",
    lease_days: "lease_days",
};

/// Parses a company name (the rules of [`input::name`]).
pub fn parse_company(option: &'static str, s: &str) -> Result<String, Error> {
    input::name(option, s)
}

/// Parses a product (the rules of [`input::app`]).
pub fn parse_product(option: &'static str, s: &str) -> Result<&'static str, Error> {
    input::app(s).map_err(|e| relabel(e, option))
}

/// Parses a version (the rules of [`input::version`]).
pub fn parse_version(option: &'static str, s: &str) -> Result<Version, Error> {
    input::version(s).map_err(|e| relabel(e, option))
}

/// Parses a date (the rules of [`input::date`]).
pub fn parse_signed(option: &'static str, s: &str) -> Result<Date, Error> {
    input::date(option, s)
}

/// Parses a term (the rules of [`input::expiry`]).
pub fn parse_expires(option: &'static str, s: &str) -> Result<Expiry, Error> {
    input::expiry(s).map_err(|e| relabel(e, option))
}

impl TermsText<'_> {
    /// Checks every field; on failure, every problem (not just the first).
    pub fn parse(&self, names: &FieldNames) -> Result<ContractTerms, Vec<Error>> {
        fn keep<T>(errors: &mut Vec<Error>, r: Result<T, Error>) -> Option<T> {
            r.map_err(|e| errors.push(e)).ok()
        }
        let mut errors = Vec::new();
        let company = keep(&mut errors, parse_company(names.company, self.company));
        let emails = keep(&mut errors, parse_emails(names.email, self.email));
        let signed = keep(&mut errors, parse_signed(names.signed, self.signed));
        let product = keep(&mut errors, parse_product(names.product, self.product));
        let methods = keep(&mut errors, parse_methods(names.methods, self.methods));
        let max_nodes = keep(&mut errors, parse_max_nodes(names.max_nodes, self.max_nodes));
        let version = keep(&mut errors, parse_version(names.version, self.version));
        let expires = keep(&mut errors, parse_expires(names.expires, self.expires));
        let max_licenses = match self.max_licenses.map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => keep(&mut errors, parse_max_licenses(names.max_licenses, text)),
            None => Some(1),
        };
        fn non_empty(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        let policy = match non_empty(self.activation_policy) {
            Some(text) => keep(&mut errors, parse_activation_policy(names.activation_policy, text)),
            None => Some(ActivationPolicy::Code),
        };
        let lease_days = match non_empty(self.lease_days) {
            Some(text) => keep(&mut errors, parse_lease_days(names.lease_days, text)).map(Some),
            None => Some(None),
        };
        if let (Some(p), Some(l), Some(m)) = (policy, lease_days, &methods) {
            keep(&mut errors, check_lease(names.lease_days, p, l, m));
        }
        let (Some(activation_policy), Some(lease_days)) = (policy, lease_days) else { return Err(errors) };
        if !errors.is_empty() {
            return Err(errors);
        }
        match (company, emails, signed, product, methods, (max_nodes, max_licenses), version, expires) {
            (
                Some(company),
                Some(emails),
                Some(signed),
                Some(product),
                Some(methods),
                (Some(max_nodes), Some(max_licenses)),
                Some(version),
                Some(expires),
            ) => Ok(ContractTerms {
                company,
                emails,
                signed,
                product,
                methods,
                max_nodes,
                version,
                expires,
                max_licenses,
                activation_policy,
                lease_days,
            }),
            _ => Err(errors),
        }
    }
}

/// Who makes a change: `by`, else `$USER`, else `$LOGNAME`.
pub fn actor(by: Option<&str>) -> Result<String, Error> {
    let found = match by {
        Some(b) => Some(b.to_owned()),
        None => std::env::var("USER").ok().or_else(|| std::env::var("LOGNAME").ok()),
    };
    match found {
        Some(a) if a.trim().is_empty() => Err(Error::NoActor),
        Some(a) => input::name("--by", &a),
        None => Err(Error::NoActor),
    }
}

// ---------------------------------------------------------------------------
// The database.

const SELECT: &str = "SELECT contract_id, company, signed, product, methods, max_nodes, version, expires, enabled,
        created_at, created_by, updated_at, updated_by, max_licenses, activation_policy, lease_days FROM contracts";

fn corrupt(path: &Path, what: String) -> Error {
    Error::Corrupt { path: path.to_owned(), what }
}

fn load_rows(conn: &Connection, path: &Path, where_sql: &str, arg: Option<i64>) -> Result<Vec<Contract>, Error> {
    let read = || err(path, "cannot read the contracts");
    // Cached: `fanlic ingest` looks contracts up twice per message.
    let mut stmt = conn.prepare_cached(&format!("{SELECT} {where_sql} ORDER BY contract_id")).map_err(read())?;
    let mut rows = match arg {
        Some(a) => stmt.query(params![a]),
        None => stmt.query([]),
    }
    .map_err(read())?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(read())? {
        let g = |e| Error::Database { action: "cannot read the contracts", path: path.to_owned(), source: e };
        let id: i64 = r.get(0).map_err(g)?;
        let bad = |what: &str, v: &str| corrupt(path, format!("contract {id} has a bad {what} {v:?}"));
        let signed: String = r.get(2).map_err(g)?;
        let product: String = r.get(3).map_err(g)?;
        let methods: String = r.get(4).map_err(g)?;
        let max_nodes: i64 = r.get(5).map_err(g)?;
        let version: String = r.get(6).map_err(g)?;
        let expires: String = r.get(7).map_err(g)?;
        let time = |v: i64| u64::try_from(v).map(Timestamp).map_err(|_| bad("time", &v.to_string()));
        out.push(Contract {
            id,
            terms: ContractTerms {
                company: r.get(1).map_err(g)?,
                emails: Vec::new(),
                signed: Date::parse(&signed).ok_or_else(|| bad("signing date", &signed))?,
                product: input::app(&product).map_err(|_| bad("product", &product))?,
                methods: parse_methods("methods", &methods).map_err(|_| bad("methods", &methods))?,
                max_nodes: u32::try_from(max_nodes).map_err(|_| bad("max_nodes", &max_nodes.to_string()))?,
                version: version.parse().map_err(|_| bad("version", &version))?,
                expires: input::expiry(&expires).map_err(|_| bad("expiry", &expires))?,
                max_licenses: {
                    let n: i64 = r.get(13).map_err(g)?;
                    u32::try_from(n).map_err(|_| bad("max_licenses", &n.to_string()))?
                },
                activation_policy: {
                    let p: String = r.get(14).map_err(g)?;
                    parse_activation_policy("activation_policy", &p).map_err(|_| bad("activation_policy", &p))?
                },
                lease_days: match r.get::<_, Option<i64>>(15).map_err(g)? {
                    Some(n) => Some(u32::try_from(n).map_err(|_| bad("lease_days", &n.to_string()))?),
                    None => None,
                },
            },
            enabled: r.get::<_, i64>(8).map_err(g)? != 0,
            created_at: time(r.get(9).map_err(g)?)?,
            created_by: r.get(10).map_err(g)?,
            updated_at: time(r.get(11).map_err(g)?)?,
            updated_by: r.get(12).map_err(g)?,
        });
    }
    drop(rows);
    let mut stmt = conn
        .prepare_cached("SELECT email FROM contract_emails WHERE contract_id = ?1 ORDER BY rowid")
        .map_err(read())?;
    for c in &mut out {
        let emails = stmt.query_map(params![c.id], |r| r.get::<_, String>(0)).map_err(read())?;
        c.terms.emails = emails.collect::<Result<_, _>>().map_err(read())?;
    }
    Ok(out)
}

fn load(conn: &Connection, path: &Path, id: i64) -> Result<Option<Contract>, Error> {
    Ok(load_rows(conn, path, "WHERE contract_id = ?1", Some(id))?.into_iter().next())
}

fn id_by_company(conn: &Connection, path: &Path, name: &str) -> Result<Option<i64>, Error> {
    conn.prepare_cached("SELECT contract_id FROM contracts WHERE company_key = ?1")
        .and_then(|mut s| s.query_row(params![company_key(name)], |r| r.get(0)).optional())
        .map_err(err(path, "cannot read the contracts"))
}

/// The enabled contract holding `email` (normalized), other than `except`.
fn email_owner(
    conn: &Connection,
    path: &Path,
    email: &str,
    except: Option<i64>,
) -> Result<Option<(i64, String)>, Error> {
    conn.query_row(
        "SELECT c.contract_id, c.company FROM contract_emails e JOIN contracts c USING (contract_id)
         WHERE e.email = ?1 AND c.enabled = 1 AND c.contract_id IS NOT ?2 ORDER BY c.contract_id LIMIT 1",
        params![email, except],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .map_err(err(path, "cannot read the contract addresses"))
}

fn check_emails(conn: &Connection, path: &Path, emails: &[String], except: Option<i64>) -> Result<(), Error> {
    for e in emails {
        if let Some((id, company)) = email_owner(conn, path, e, except)? {
            return Err(Error::EmailTaken { email: e.clone(), id, company });
        }
    }
    Ok(())
}

fn write_emails(conn: &Connection, path: &Path, id: i64, emails: &[String]) -> Result<(), Error> {
    let w = || err(path, "cannot record the contract addresses");
    conn.execute("DELETE FROM contract_emails WHERE contract_id = ?1", params![id]).map_err(w())?;
    for e in emails {
        conn.execute("INSERT INTO contract_emails (contract_id, email) VALUES (?1, ?2)", params![id, e]).map_err(w())?;
    }
    Ok(())
}

fn insert(conn: &Connection, path: &Path, t: &ContractTerms, by: &str, now: Timestamp) -> Result<i64, Error> {
    conn.execute(
        "INSERT INTO contracts (company, company_key, signed, product, methods, max_nodes, version, expires, enabled,
             created_at, created_by, updated_at, updated_by, max_licenses, activation_policy, lease_days)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?9, ?10, ?11, ?12, ?13)",
        params![
            t.company,
            company_key(&t.company),
            t.signed.to_string(),
            t.product,
            methods_text(&t.methods),
            i64::from(t.max_nodes),
            t.version.to_string(),
            t.expires.to_string(),
            int(now.0),
            by,
            i64::from(t.max_licenses),
            t.activation_policy.as_str(),
            t.lease_days.map(i64::from),
        ],
    )
    .map_err(err(path, "cannot record the contract"))?;
    let id = conn.last_insert_rowid();
    write_emails(conn, path, id, &t.emails)?;
    Ok(id)
}

fn replace(
    conn: &Connection,
    path: &Path,
    id: i64,
    t: &ContractTerms,
    enabled: bool,
    by: &str,
    now: Timestamp,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE contracts SET company = ?2, company_key = ?3, signed = ?4, product = ?5, methods = ?6, max_nodes = ?7,
             version = ?8, expires = ?9, enabled = ?10, updated_at = ?11, updated_by = ?12, max_licenses = ?13,
             activation_policy = ?14, lease_days = ?15
         WHERE contract_id = ?1",
        params![
            id,
            t.company,
            company_key(&t.company),
            t.signed.to_string(),
            t.product,
            methods_text(&t.methods),
            i64::from(t.max_nodes),
            t.version.to_string(),
            t.expires.to_string(),
            i64::from(enabled),
            int(now.0),
            by,
            i64::from(t.max_licenses),
            t.activation_policy.as_str(),
            t.lease_days.map(i64::from),
        ],
    )
    .map_err(err(path, "cannot update the contract"))?;
    write_emails(conn, path, id, &t.emails)
}

/// Records the change and returns the contract as it became.
fn audit(conn: &Connection, path: &Path, id: i64, action: Action, by: &str, now: Timestamp) -> Result<Contract, Error> {
    let c = load(conn, path, id)?.ok_or_else(|| corrupt(path, format!("contract {id} vanished")))?;
    let entry = crate::store::audit::Entry {
        contract_id: Some(id),
        data: Some(c.to_json(now).to_string()),
        ..crate::store::audit::Entry::new(action, by, now)
    };
    crate::store::audit::record(conn, path, &entry)?;
    Ok(c)
}

// ---------------------------------------------------------------------------
// The operations.

/// Records a new, enabled contract.
pub fn add(home: &mut Home, terms: &ContractTerms, by: &str, now: Timestamp) -> Result<Contract, Error> {
    let (conn, path) = home.conn_mut();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err(path, "cannot begin"))?;
    if let Some(id) = id_by_company(&tx, path, &terms.company)? {
        let company = load(&tx, path, id)?.map(|c| c.terms.company).unwrap_or_default();
        return Err(Error::ContractExists { company, id });
    }
    check_emails(&tx, path, &terms.emails, None)?;
    let id = insert(&tx, path, terms, by, now)?;
    let c = audit(&tx, path, id, Action::ContractAdd, by, now)?;
    tx.commit().map_err(err(path, "cannot record the contract"))?;
    Ok(c)
}

/// Contracts by id; disabled ones only with `all`.
pub fn list(home: &mut Home, all: bool) -> Result<Vec<Contract>, Error> {
    let (conn, path) = home.conn_mut();
    load_rows(conn, path, if all { "" } else { "WHERE enabled = 1" }, None)
}

fn resolve_in(conn: &Connection, path: &Path, which: &str) -> Result<Contract, Error> {
    if let Ok(id) = which.trim().parse::<i64>()
        && let Some(c) = load(conn, path, id)?
    {
        return Ok(c);
    }
    match id_by_company(conn, path, which)? {
        Some(id) => load(conn, path, id)?.ok_or_else(|| corrupt(path, format!("contract {id} vanished"))),
        None => Err(Error::ContractNotFound { given: which.to_owned() }),
    }
}

/// The contract with this id, else for this company.
pub fn resolve(home: &mut Home, which: &str) -> Result<Contract, Error> {
    let (conn, path) = home.conn_mut();
    resolve_in(conn, path, which)
}

/// The contract of a company, compared by [`company_key`] (case, white space
/// and full-width forms do not matter), enabled or not.
pub fn find_by_company(home: &mut Home, name: &str) -> Result<Option<Contract>, Error> {
    let (conn, path) = home.conn_mut();
    match id_by_company(conn, path, name)? {
        Some(id) => load(conn, path, id),
        None => Ok(None),
    }
}

/// The contract an address belongs to: the enabled one if there is one,
/// else the most recently changed disabled one (so that a caller can say
/// "contract disabled"). `None` for an address no contract has, or one that
/// is not an address.
pub fn find_by_email(home: &mut Home, addr: &str) -> Result<Option<Contract>, Error> {
    let Ok(email) = normalize_email("email", addr) else {
        return Ok(None);
    };
    let (conn, path) = home.conn_mut();
    let id: Option<i64> = conn
        .prepare_cached(
            "SELECT c.contract_id FROM contract_emails e JOIN contracts c USING (contract_id)
             WHERE e.email = ?1 ORDER BY c.enabled DESC, c.updated_at DESC, c.contract_id DESC LIMIT 1",
        )
        .and_then(|mut s| s.query_row(params![email], |r| r.get(0)).optional())
        .map_err(err(path, "cannot read the contract addresses"))?;
    match id {
        Some(id) => load(conn, path, id),
        None => Ok(None),
    }
}

/// One change to a contract, from the audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// `add`, `import`, `update`, `disable` or `enable`.
    pub action: String,
}

impl AuditEntry {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({ "at": self.at.to_string(), "by": self.by, "action": self.action })
    }
}

/// Every change to a contract, oldest first.
pub fn history(home: &mut Home, id: i64) -> Result<Vec<AuditEntry>, Error> {
    let (conn, path) = home.conn_mut();
    let read = || err(path, "cannot read the contract history");
    let mut stmt = conn
        .prepare(
            "SELECT at, by, substr(action, 10) FROM audit WHERE contract_id = ?1 AND action LIKE 'contract-%'
             ORDER BY audit_id",
        )
        .map_err(read())?;
    let rows = stmt
        .query_map(params![id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
        .map_err(read())?;
    let mut out = Vec::new();
    for row in rows {
        let (at, by, action) = row.map_err(read())?;
        let at = u64::try_from(at).map_err(|_| corrupt(path, format!("contract {id} has a bad audit time {at}")))?;
        out.push(AuditEntry { at: Timestamp(at), by, action });
    }
    Ok(out)
}

/// The history for people, indented under a contract.
pub fn history_human(entries: &[AuditEntry]) -> String {
    let mut out = "  history:\n".to_owned();
    for e in entries {
        let _ = writeln!(out, "    {} {} by {}", e.at, e.action, e.by);
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
    let (conn, path) = home.conn_mut();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err(path, "cannot begin"))?;
    let old = resolve_in(&tx, path, which)?;
    let mut t = old.terms.clone();
    let ch = changes.clone();
    if let Some(company) = ch.company {
        if let Some(other) = id_by_company(&tx, path, &company)?
            && other != old.id
        {
            let company = load(&tx, path, other)?.map(|c| c.terms.company).unwrap_or_default();
            return Err(Error::ContractExists { company, id: other });
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
        check_emails(&tx, path, &t.emails, Some(old.id))?;
    }
    replace(&tx, path, old.id, &t, enabled, by, now)?;
    let action = if ch.enable && !old.enabled { Action::ContractEnable } else { Action::ContractUpdate };
    let c = audit(&tx, path, old.id, action, by, now)?;
    tx.commit().map_err(err(path, "cannot update the contract"))?;
    Ok(c)
}

/// Disables a contract (no new licenses under it); it stays in the registry.
pub fn disable(home: &mut Home, which: &str, by: &str, now: Timestamp) -> Result<Contract, Error> {
    let (conn, path) = home.conn_mut();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err(path, "cannot begin"))?;
    let old = resolve_in(&tx, path, which)?;
    if !old.enabled {
        return Ok(old);
    }
    replace(&tx, path, old.id, &old.terms, false, by, now)?;
    let c = audit(&tx, path, old.id, Action::ContractDisable, by, now)?;
    tx.commit().map_err(err(path, "cannot disable the contract"))?;
    Ok(c)
}

/// What an import did.
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    /// New contracts.
    pub added: Vec<Contract>,
    /// Contracts replaced (`--update`).
    pub updated: Vec<Contract>,
}

impl ImportReport {
    /// As JSON.
    pub fn to_json(&self, now: Timestamp) -> Value {
        json!({
            "added": self.added.iter().map(|c| c.to_json(now)).collect::<Vec<_>>(),
            "updated": self.updated.iter().map(|c| c.to_json(now)).collect::<Vec<_>>(),
        })
    }

    /// For people.
    pub fn human(&self, now: Timestamp) -> String {
        let mut out = format!("Imported {} new and {} updated contract(s).\n", self.added.len(), self.updated.len());
        let mut all: Vec<(&str, &Contract)> = self.added.iter().map(|c| ("added", c)).collect();
        all.extend(self.updated.iter().map(|c| ("updated", c)));
        all.sort_by_key(|(_, c)| c.id);
        for (what, c) in all {
            let _ = writeln!(out, "  {what} contract {}: {} ({})", c.id, c.terms.company, c.status(now));
        }
        out
    }
}

/// One row of the file: its terms if they are good, else what could be read
/// (to check against the other rows and the registry all the same).
struct Row {
    line: u64,
    terms: Option<ContractTerms>,
    company: Option<String>,
    emails: Vec<String>,
}

/// The line (from 1) of the first character at or after byte `at` that is
/// not a line break: csv's own line count misses blank lines and breaks
/// inside quoted fields.
fn line_at(bytes: &[u8], at: u64) -> u64 {
    let at = usize::try_from(at).unwrap_or(usize::MAX).min(bytes.len());
    let (before, after) = bytes.split_at(at);
    let skipped = after.iter().take_while(|b| matches!(b, b'\r' | b'\n')).filter(|b| **b == b'\n').count();
    let breaks = before.iter().filter(|b| **b == b'\n').count() + skipped;
    u64::try_from(breaks).unwrap_or(u64::MAX - 1) + 1
}

/// Reads and checks every row; problems are `line N: ...`.
fn read_csv(bytes: &[u8]) -> (Vec<Row>, Vec<(u64, String)>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut header_seen = false;
    // How many of the optional columns the header has.
    let mut optional = 0usize;
    let mut header: Vec<String> = CSV_HEADER.iter().map(|s| (*s).to_owned()).collect();
    loop {
        let line_before = line_at(bytes, reader.position().byte());
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line_before, |p| line_at(bytes, p.byte()));
                problems.push((line, format!("cannot be read as CSV: {e}")));
                break;
            }
        }
        let line = record.position().map_or(line_before, |p| line_at(bytes, p.byte()));
        let fields: Result<Vec<&str>, _> = record.iter().map(core::str::from_utf8).collect();
        let Ok(mut fields) = fields else {
            problems.push((line, "is not UTF-8 text; save the file as UTF-8 CSV".to_owned()));
            continue;
        };
        if !header_seen {
            header_seen = true;
            if let Some(first) = fields.first_mut() {
                *first = first.trim_start_matches('\u{feff}');
            }
            let known = (0..=CSV_OPTIONAL.len())
                .find(|&n| CSV_OPTIONAL.get(..n).is_some_and(|opt| fields[..] == [&CSV_HEADER[..], opt].concat()[..]));
            let Some(n) = known else {
                problems.push((
                    line,
                    format!(
                        "the header is {:?}; it must be exactly {} (in this order), optionally followed by {}, \
                         then {}, then {}",
                        fields.join(","),
                        CSV_HEADER.join(","),
                        CSV_OPTIONAL[0],
                        CSV_OPTIONAL[1],
                        CSV_OPTIONAL[2],
                    ),
                ));
                return (rows, problems);
            };
            optional = n;
            header = fields.iter().map(|s| (*s).to_owned()).collect();
            continue;
        }
        let expected = CSV_HEADER.len() + optional;
        let [company, email, signed, product, methods, max_nodes, version, expires, ref extra @ ..] = fields[..] else {
            problems.push((line, wrong_count(fields.len(), expected, &header)));
            continue;
        };
        if fields.len() != expected {
            problems.push((line, wrong_count(fields.len(), expected, &header)));
            continue;
        }
        let text = TermsText {
            company,
            email,
            signed,
            product,
            methods,
            max_nodes,
            version,
            expires,
            max_licenses: extra.first().copied(),
            activation_policy: extra.get(1).copied(),
            lease_days: extra.get(2).copied(),
        };
        match text.parse(&CSV_NAMES) {
            Ok(terms) => rows.push(Row {
                line,
                company: Some(terms.company.clone()),
                emails: terms.emails.clone(),
                terms: Some(terms),
            }),
            Err(errors) => {
                problems.extend(errors.into_iter().map(|e| (line, e.to_string())));
                rows.push(Row {
                    line,
                    terms: None,
                    company: parse_company(CSV_NAMES.company, company).ok(),
                    emails: parse_emails(CSV_NAMES.email, email).unwrap_or_default(),
                });
            }
        }
    }
    if !header_seen {
        problems.push((1, format!("the file is empty; it needs the header {}", CSV_HEADER.join(","))));
    }
    (rows, problems)
}

fn wrong_count(found: usize, expected: usize, header: &[String]) -> String {
    format!(
        "has {found} field(s), expected {expected} ({}); quote a value that holds a comma, such as \
         \"local-container,private-cloud\"",
        header.join(",")
    )
}

/// Imports a CSV file (header [`CSV_HEADER`]), all or nothing: every row is
/// checked first, against the file and the registry, and if any is bad
/// nothing is written and [`Error::ImportRejected`] lists every problem by
/// line. A company already in the registry is a problem unless `update`,
/// which replaces that contract's terms (its enabled state is kept).
/// New contracts are enabled. An address may appear on one row only.
pub fn import(home: &mut Home, file: &Path, update: bool, by: &str, now: Timestamp) -> Result<ImportReport, Error> {
    let bytes = std::fs::read(file).map_err(Error::io("cannot read the CSV file", file))?;
    let (rows, mut problems) = read_csv(&bytes);
    let (conn, path) = home.conn_mut();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err(path, "cannot begin"))?;

    let mut companies: HashMap<String, u64> = HashMap::new();
    let mut emails: HashMap<String, u64> = HashMap::new();
    // (row index, existing contract) for each good row.
    let mut targets: Vec<Option<Contract>> = Vec::new();
    for row in &rows {
        let mut existing = None;
        if let Some(company) = &row.company {
            let key = company_key(company);
            if let Some(first) = companies.get(&key) {
                problems.push((row.line, format!("company {company:?} is also on line {first}; one row per company")));
            } else {
                companies.insert(key, row.line);
            }
            if let Some(id) = id_by_company(&tx, path, company)? {
                existing = load(&tx, path, id)?;
            }
            if let Some(c) = &existing
                && !update
            {
                let recorded =
                    if c.terms.company == *company { String::new() } else { format!(" (as {:?})", c.terms.company) };
                problems.push((
                    row.line,
                    format!(
                        "company {company:?} already has contract {}{recorded}; pass --update to replace its \
                         terms, or remove the row",
                        c.id
                    ),
                ));
            }
        }
        for e in &row.emails {
            if let Some(first) = emails.get(e) {
                problems
                    .push((row.line, format!("email {e} is also on line {first}; an address belongs to one contract")));
            } else {
                emails.insert(e.clone(), row.line);
            }
        }
        targets.push(existing);
    }
    // Addresses held by enabled contracts the file does not rewrite.
    let rewritten: Vec<i64> = if update { targets.iter().flatten().map(|c| c.id).collect() } else { Vec::new() };
    for (row, target) in rows.iter().zip(&targets) {
        if target.as_ref().is_some_and(|c| !c.enabled) {
            continue;
        }
        for e in &row.emails {
            if let Some((id, company)) = email_owner(&tx, path, e, target.as_ref().map(|c| c.id))?
                && !rewritten.contains(&id)
            {
                problems.push((
                    row.line,
                    format!(
                        "email {e} already belongs to enabled contract {id} ({company}); remove it there \
                         or from this row"
                    ),
                ));
            }
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|(line, _)| *line);
        return Err(Error::ImportRejected {
            path: file.to_owned(),
            problems: problems.into_iter().map(|(line, p)| format!("line {line}: {p}")).collect(),
        });
    }
    let mut report = ImportReport::default();
    for (row, target) in rows.iter().zip(targets) {
        let Some(terms) = &row.terms else {
            // Unreachable: a row without terms has a problem.
            continue;
        };
        match target {
            Some(old) => {
                replace(&tx, path, old.id, terms, old.enabled, by, now)?;
                report.updated.push(audit(&tx, path, old.id, Action::ContractImport, by, now)?);
            }
            None => {
                let id = insert(&tx, path, terms, by, now)?;
                report.added.push(audit(&tx, path, id, Action::ContractImport, by, now)?);
            }
        }
    }
    tx.commit().map_err(err(path, "cannot record the contracts"))?;
    Ok(report)
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
