//! `contract import`: a CSV file read, every row checked against the file
//! and the registry, and written all or nothing.

use crate::error::ContractError;
use std::{collections::HashMap, path::Path};

use fanlic_formats::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::Error;
use crate::Home;
use crate::store::Tx;
use crate::store::audit::Action;

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
pub(super) struct Row {
    pub(super) line: u64,
    pub(super) terms: Option<ContractTerms>,
    pub(super) company: Option<String>,
    pub(super) emails: Vec<String>,
}

/// Where a file's lines start, to number its rows.
struct Lines<'a> {
    bytes: &'a [u8],
    /// The offset of every `\n`, in order.
    breaks: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, breaks: bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect() }
    }

    /// The line (from 1) of the first character at or after byte `at` that
    /// is not a line break: csv's own line count misses blank lines and
    /// breaks inside quoted fields. Counted by binary search: a row costs
    /// the same at the end of a large file as at its start.
    fn at(&self, at: u64) -> u64 {
        let at = usize::try_from(at).unwrap_or(usize::MAX).min(self.bytes.len());
        let after = self.bytes.get(at..).unwrap_or_default();
        let skipped = after.iter().take_while(|b| matches!(b, b'\r' | b'\n')).filter(|b| **b == b'\n').count();
        let breaks = self.breaks.partition_point(|&b| b < at) + skipped;
        u64::try_from(breaks).unwrap_or(u64::MAX - 1) + 1
    }
}

/// Reads and checks every row; problems are `line N: ...`.
pub(super) fn read_csv(bytes: &[u8]) -> (Vec<Row>, Vec<(u64, String)>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let lines = Lines::new(bytes);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut header_seen = false;
    // How many of the optional columns the header has.
    let mut optional = 0usize;
    let mut header: Vec<String> = CSV_HEADER.iter().map(|s| (*s).to_owned()).collect();
    loop {
        let line_before = lines.at(reader.position().byte());
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line_before, |p| lines.at(p.byte()));
                problems.push((line, format!("cannot be read as CSV: {e}")));
                break;
            }
        }
        let line = record.position().map_or(line_before, |p| lines.at(p.byte()));
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

pub(super) fn wrong_count(found: usize, expected: usize, header: &[String]) -> String {
    format!(
        "has {found} field(s), expected {expected} ({}); quote a value that holds a comma, such as \
         \"local-container,private-cloud\"",
        header.join(",")
    )
}

/// What importing a row would do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowAction {
    /// A new contract.
    New,
    /// Replaces an existing contract's terms (`update`).
    Update,
    /// An existing contract's terms, the same (`update`): recorded again.
    Unchanged,
    /// The company has a contract and `update` was not asked for (a problem).
    Exists,
    /// The row has a problem of its own.
    Invalid,
}

impl RowAction {
    /// `new`, `update`, `unchanged`, `exists` or `invalid`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Update => "update",
            Self::Unchanged => "unchanged",
            Self::Exists => "exists",
            Self::Invalid => "invalid",
        }
    }
}

/// One row of a checked CSV file.
#[derive(Clone, Debug)]
pub struct PlannedRow {
    /// Its line in the file (from 1).
    pub line: u64,
    /// The terms, when every field is good.
    pub terms: Option<ContractTerms>,
    /// The company as read, when it is a valid name.
    pub company: Option<String>,
    /// The addresses as read (the valid ones).
    pub emails: Vec<String>,
    /// The contract the company already has.
    pub existing: Option<Contract>,
    /// What importing it would do.
    pub action: RowAction,
}

/// A CSV file checked against itself and the registry: every row and
/// every problem. Nothing is imported unless `problems` is empty.
#[derive(Clone, Debug)]
pub struct ImportPlan {
    /// Every row, in file order.
    pub rows: Vec<PlannedRow>,
    /// Every problem: its line and what is wrong, by line.
    pub problems: Vec<(u64, String)>,
    /// Whether existing contracts are replaced.
    pub update: bool,
}

impl ImportPlan {
    /// Whether the file may be imported as it is.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The problems as `line N: ...`.
    pub fn problem_lines(&self) -> Vec<String> {
        self.problems.iter().map(|(line, p)| format!("line {line}: {p}")).collect()
    }
}

/// Imports a CSV file (header [`CSV_HEADER`]), all or nothing: every row is
/// checked first, against the file and the registry, and if any is bad
/// nothing is written and [`ContractError::ImportRejected`] lists every problem by
/// line. A company already in the registry is a problem unless `update`,
/// which replaces that contract's terms (its enabled state is kept).
/// New contracts are enabled. An address may appear on one row only.
pub fn import(home: &mut Home, file: &Path, update: bool, by: &str, now: Timestamp) -> Result<ImportReport, Error> {
    let bytes = std::fs::read(file).map_err(Error::io("cannot read the CSV file", file))?;
    import_bytes(home, &bytes, update, by, now)?.map_err(|plan| {
        Error::Contract(ContractError::ImportRejected { path: file.to_owned(), problems: plan.problem_lines() })
    })
}

/// [`import`] of a file's bytes: the report, or (nothing written) the
/// checked file with its problems.
pub fn import_bytes(
    home: &mut Home,
    bytes: &[u8],
    update: bool,
    by: &str,
    now: Timestamp,
) -> Result<Result<ImportReport, ImportPlan>, Error> {
    let read = read_csv(bytes);
    home.store_mut().write(|tx| {
        let plan = check_rows(tx, read, update)?;
        if !plan.is_clean() {
            return Ok(Err(plan));
        }
        write_rows(tx, &plan, by, now).map(Ok)
    })
}

/// What [`import_bytes`] would do, written nowhere: every row and every
/// problem, by the same checks.
pub fn preview_bytes(home: &mut Home, bytes: &[u8], update: bool) -> Result<ImportPlan, Error> {
    let read = read_csv(bytes);
    home.store().read(|tx| check_rows(tx, read, update))
}

/// Checks the rows against each other and the registry.
pub(super) fn check_rows(
    tx: &Tx<'_>,
    (rows, mut problems): (Vec<Row>, Vec<(u64, String)>),
    update: bool,
) -> Result<ImportPlan, Error> {
    let mut companies: HashMap<String, u64> = HashMap::new();
    let mut emails: HashMap<String, u64> = HashMap::new();
    // The existing contract of each row's company.
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
    problems.sort_by_key(|(line, _)| *line);
    let rows = rows
        .into_iter()
        .zip(targets)
        .map(|(row, existing)| {
            let action = match (&row.terms, &existing) {
                (None, _) => RowAction::Invalid,
                (Some(_), None) => RowAction::New,
                (Some(_), Some(_)) if !update => RowAction::Exists,
                (Some(t), Some(c)) if *t == c.terms => RowAction::Unchanged,
                (Some(_), Some(_)) => RowAction::Update,
            };
            PlannedRow { line: row.line, terms: row.terms, company: row.company, emails: row.emails, existing, action }
        })
        .collect();
    Ok(ImportPlan { rows, problems, update })
}

/// Writes a clean plan: one audit row per contract.
fn write_rows(tx: &Tx<'_>, plan: &ImportPlan, by: &str, now: Timestamp) -> Result<ImportReport, Error> {
    let mut report = ImportReport::default();
    for row in &plan.rows {
        let Some(terms) = &row.terms else {
            // Unreachable: a row without terms has a problem.
            continue;
        };
        match &row.existing {
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
