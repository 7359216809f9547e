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
use serde_json::{Value, json};

use crate::Error;
use crate::Home;
use crate::store::Tx;
use crate::store::audit::{Action, Entry};
pub use crate::store::{Contract, ContractChange as AuditEntry, ContractTerms};
pub use crate::util::actor::actor;
use crate::util::input;
use crate::util::text::fold_width;
pub use crate::util::text::{company_key, normalize_email};

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

/// Legal-form endings, as token sequences (lower case, punctuation removed),
/// and the one form each stands for. Longest first: `co ltd` before `ltd`.
const LEGAL_FORMS: &[(&[&str], &str)] = &[
    (&["company", "limited"], "ltd"),
    (&["company", "ltd"], "ltd"),
    (&["co", "limited"], "ltd"),
    (&["co", "ltd"], "ltd"),
    (&["limited"], "ltd"),
    (&["ltd"], "ltd"),
    (&["incorporated"], "inc"),
    (&["inc"], "inc"),
    (&["corporation"], "corp"),
    (&["corp"], "corp"),
    (&["l", "l", "c"], "llc"),
    (&["llc"], "llc"),
    (&["company"], "co"),
    (&["co"], "co"),
];

/// The key a company name is compared by **leniently**, only ever against
/// the contract of the mail's own authenticated sender (never to find a
/// contract: that is [`company_key`], exact): what is left when legal-form
/// spelling, punctuation, spacing and width are set aside.
///
/// - Full-width forms are folded and letters lower-cased; every character
///   that is not a letter or a digit (spaces, `.,;:&'"-/`, parentheses of
///   either width) separates words and is then dropped, so `（深圳）` is
///   `(深圳)` is `深圳`, and `Co.,Ltd.` is `Co. Ltd` is `co ltd`.
/// - One legal-form ending is replaced by the form it spells:
///   `Co., Ltd.` = `Company Limited` = `Ltd.` = `Limited`; `Inc` =
///   `Incorporated`; `Corp.` = `Corporation`; `LLC` = `L.L.C.`; `Co.` =
///   `Company`; Chinese `有限责任公司` = `有限公司` (the Company Law allows
///   either for one form; `股份有限公司` is another form and stays itself).
/// - Every other word must be the same, in the same order: `Northwind
///   Trading` is not `Northwind Traders`, `Acme Ltd` is not `Acme Holdings
///   Ltd`.
pub fn legal_form_key(name: &str) -> String {
    let folded: String = name.chars().map(fold_width).collect::<String>().to_lowercase();
    let mut words: Vec<&str> = folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut form = "";
    for (tail, canonical) in LEGAL_FORMS {
        if words.len() >= tail.len() && words.ends_with(tail) {
            words.truncate(words.len() - tail.len());
            form = canonical;
            break;
        }
    }
    let mut key: String = words.concat();
    if form.is_empty()
        && let Some(stem) = key.strip_suffix("有限责任公司")
    {
        key = format!("{stem}有限公司");
    }
    format!("{key}|{form}")
}

/// Whether two company names differ only in legal-form spelling,
/// punctuation, spacing or width ([`legal_form_key`]).
pub fn same_company_but_legal_form(a: &str, b: &str) -> bool {
    legal_form_key(a) == legal_form_key(b) || translated_names(a).iter().any(|n| legal_form_key(n) == legal_form_key(b))
}

/// The two names of `Name (名称)` or `名称（Name）`: a company name written
/// with its translation in parentheses, one part in Chinese characters and
/// the other without any. Nothing for other parentheses (`Acme Ltd (a
/// subsidiary of …)`, `（深圳）`), which are part of one name.
fn translated_names(name: &str) -> Vec<String> {
    let t = name.trim();
    let Some(open) = t.find(['(', '（']) else { return Vec::new() };
    let Some(inner) = t.get(open..).and_then(|r| r.strip_suffix([')', '）'])) else { return Vec::new() };
    let inner = inner.trim_start_matches(['(', '（']).trim();
    let outer = t.get(..open).unwrap_or("").trim();
    let han = |s: &str| s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    let latin = |s: &str| s.chars().any(|c| c.is_ascii_alphabetic());
    let translation = (han(outer) && !latin(outer) && latin(inner) && !han(inner))
        || (han(inner) && !latin(inner) && latin(outer) && !han(outer));
    if translation && !inner.contains(['(', '（']) && !outer.is_empty() {
        vec![outer.to_owned(), inner.to_owned()]
    } else {
        Vec::new()
    }
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

/// Records the change and returns the contract as it became.
fn audit(tx: &Tx<'_>, id: i64, action: Action, by: &str, now: Timestamp) -> Result<Contract, Error> {
    let c = tx.contract_written(id)?;
    tx.audit(&Entry { contract_id: Some(id), data: Some(c.to_json(now).to_string()), ..Entry::new(action, by, now) })?;
    Ok(c)
}

/// Refuses addresses an enabled contract other than `except` holds.
fn check_emails(tx: &Tx<'_>, emails: &[String], except: Option<i64>) -> Result<(), Error> {
    for e in emails {
        if let Some((id, company)) = tx.contract_email_owner(e, except)? {
            return Err(Error::EmailTaken { email: e.clone(), id, company });
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
            return Err(Error::ContractExists { company, id });
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
    let (rows, problems) = read_csv(&bytes);
    home.store_mut().write(|tx| import_rows(tx, file, (rows, problems), update, by, now))
}

#[allow(clippy::too_many_lines)]
fn import_rows(
    tx: &Tx<'_>,
    file: &Path,
    (rows, mut problems): (Vec<Row>, Vec<(u64, String)>),
    update: bool,
    by: &str,
    now: Timestamp,
) -> Result<ImportReport, Error> {
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
            if let Some(id) = tx.contract_id_by_company(company)? {
                existing = tx.contract(id)?;
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
            if let Some((id, company)) = tx.contract_email_owner(e, target.as_ref().map(|c| c.id))?
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
                tx.replace_contract(old.id, terms, old.enabled, by, now)?;
                report.updated.push(audit(tx, old.id, Action::ContractImport, by, now)?);
            }
            None => {
                let id = tx.insert_contract(terms, by, now)?;
                report.added.push(audit(tx, id, Action::ContractImport, by, now)?);
            }
        }
    }
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
    fn legal_form_variants_are_one_company() {
        for (a, b) in [
            ("Northwind Trading Co., Ltd.", "Northwind Trading Co.,Ltd."),
            ("Northwind Trading Co., Ltd.", "Northwind Trading Co., Ltd"),
            ("Northwind Trading Co., Ltd.", "Northwind Trading Co. Ltd"),
            ("Northwind Trading Co., Ltd.", "NORTHWIND TRADING CO.,LTD"),
            ("Northwind Trading Co., Ltd.", "Northwind Trading Company Limited"),
            ("Northwind Trading Co., Ltd.", "Northwind Trading Ltd."),
            ("Northwind Trading Co., Ltd.", "Northwind  Trading Limited"),
            ("Contoso Manufacturing Company Limited", "Contoso Manufacturing Co., Ltd."),
            ("Fabrikam Data Services Inc.", "Fabrikam Data Services, Inc"),
            ("Fabrikam Data Services Inc.", "Fabrikam Data Services Incorporated"),
            ("Tailspin Corp.", "Tailspin Corporation"),
            ("Gulf Coast Analytics LLC", "Gulf Coast Analytics, L.L.C."),
            ("Gulf Coast Analytics LLC", "Gulf Coast Analytics L.L.C"),
            ("Acme Co.", "Acme Company"),
            ("明远数据科技（上海）有限公司", "明远数据科技(上海)有限公司"),
            ("明远数据科技（上海）有限公司", "明远数据科技 （上海） 有限公司"),
            ("明远数据科技（上海）有限公司", "明远数据科技上海有限公司"),
            ("上海明远数据科技有限公司", "上海明远数据科技有限责任公司"),
            ("上海明远数据科技有限公司", "上海明远数据科技有限公司\u{3000}"),
            ("ＡＣＭＥ　Ｌｔｄ．", "Acme Ltd"),
        ] {
            assert!(same_company_but_legal_form(a, b), "{a:?} vs {b:?}: {} {}", legal_form_key(a), legal_form_key(b));
        }
    }

    #[test]
    fn other_words_are_another_company() {
        for (a, b) in [
            ("Northwind Trading", "Northwind Traders"),
            ("Northwind Trading Co., Ltd.", "Northwind Traders Co., Ltd."),
            ("Acme Ltd", "Acme Holdings Ltd"),
            ("Acme Ltd", "Acme Inc"),
            ("Acme Corp", "Acme LLC"),
            ("Acme Ltd", "Acme"),
            ("Acme Ltd", "Ltd Acme"),
            ("Fabrikam Data Services Inc.", "Fabrikam Data Service Inc."),
            ("上海明远数据科技有限公司", "上海明远数据科技股份有限公司"),
            ("上海明远数据科技有限公司", "上海明远数据技术有限公司"),
            ("上海明远数据科技有限公司", "明远数据科技（上海）有限公司"),
            ("杭州云帆信息技术股份有限公司", "杭州云帆信息技术有限公司"),
        ] {
            assert!(!same_company_but_legal_form(a, b), "{a:?} vs {b:?}: {}", legal_form_key(a));
        }
        // The exact key used to find a contract is not lenient.
        assert_ne!(company_key("Northwind Trading Co., Ltd."), company_key("Northwind Trading Co. Ltd"));
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

    #[test]
    fn a_name_with_its_translation_in_parentheses_is_that_company() {
        let c = "广州南方物流集团有限公司";
        assert!(same_company_but_legal_form(
            "Guangzhou Nanfang Logistics Group Co., Ltd. (广州南方物流集团有限公司)",
            c
        ));
        assert!(same_company_but_legal_form(
            "广州南方物流集团有限公司 (Guangzhou Nanfang Logistics Group Co., Ltd.)",
            c
        ));
        assert!(same_company_but_legal_form("Mingyuan Data（上海明远数据科技有限公司）", "上海明远数据科技有限公司"));
        // Not a translation: another company, or another name in the same script.
        assert!(!same_company_but_legal_form("Guangzhou Nanfang Logistics (广州北方物流集团有限公司)", c));
        assert!(!same_company_but_legal_form("Acme Ltd (Northwind Trading Co., Ltd.)", "Northwind Trading Co., Ltd."));
        assert!(!same_company_but_legal_form("深圳某某有限公司（广州南方物流集团有限公司）", c));
    }
}
