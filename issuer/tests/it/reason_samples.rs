//! The sample mails of `fixtures/emails/reasons/`, one per reason code, through
//! the real `fanlic` binary: a home made by `fanlic init`, the folder's
//! `contracts.csv` imported by `fanlic contract import` (one contract then
//! disabled), and every sample given to `fanlic ingest --json --now` at a
//! fixed time. The folder's README.md table is the expectation: each file's
//! decision and exact codes. The table, the files and the codes the
//! validator defines are checked against each other so that none can drift.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
    process::Output,
};

use crate::common::{Env, fanlic, fanlic_with, ok};
use fanlic_issuer::store::ReasonCode;
use serde_json::Value;

/// The time of every decision: the Blue Ridge contract (ended 2026-06-30) is
/// expired, the others never end, whatever the day the test runs.
const NOW: &str = "2090-01-01T00:00:00Z";
/// The contract `contract_disabled.eml` is checked against, disabled after the import.
const DISABLED: &str = "Harbor Logistics Ltd.";
const CSV_HEADER: &str = "company,email,signed,product,methods,max_nodes,version,expires";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn samples_dir() -> PathBuf {
    repo().join("fixtures/emails/reasons")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One row of the README's sample table.
#[derive(Debug)]
struct Row {
    file: String,
    decision: String,
    codes: Vec<String>,
}

/// The lines of the README section under `## {title}`, up to the next `## `.
fn section(readme: &str, title: &str) -> Vec<String> {
    let heading = format!("## {title}");
    let start = readme.lines().position(|l| l.trim() == heading).unwrap_or_else(|| panic!("no {heading:?}"));
    readme.lines().skip(start + 1).take_while(|l| !l.starts_with("## ")).map(str::to_owned).collect()
}

/// The cells of a Markdown table row `| a | b | c |`, trimmed.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().strip_prefix('|').and_then(|l| l.strip_suffix('|')).unwrap_or_else(|| panic!("{line}"));
    inner.split('|').map(|c| c.trim().to_owned()).collect()
}

/// The `code`s written in backquotes in a cell.
fn backquoted(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The README's sample table: file, decision and codes of every sample.
fn table() -> Vec<Row> {
    let readme = read(&samples_dir().join("README.md"));
    let rows: Vec<Row> = section(&readme, "Samples")
        .iter()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let c = cells(l);
            assert_eq!(c.len(), 5, "{l}");
            let file = backquoted(&c[0]);
            assert_eq!(file.len(), 1, "{l}");
            Row { file: file[0].clone(), decision: c[1].clone(), codes: backquoted(&c[2]) }
        })
        .collect();
    assert!(rows.len() > 30, "the sample table was not found: {rows:?}");
    rows
}

/// The codes the README says have no sample.
fn unsampled() -> Vec<String> {
    let readme = read(&samples_dir().join("README.md"));
    section(&readme, "Codes without a sample")
        .iter()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let code = backquoted(&cells(l)[0]);
            assert_eq!(code.len(), 1, "{l}");
            code[0].clone()
        })
        .collect()
}

/// The `.eml` files of the folder.
fn eml_files() -> BTreeSet<String> {
    fs::read_dir(samples_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".eml"))
        .collect()
}

/// Codes a decision carries that the validator does not write from the
/// mail's fields: the pipeline's own (automatic mail, bounces, duplicates)
/// and staff's (a rejection, a revocation).
const NOT_FROM_THE_VALIDATOR: [ReasonCode; 6] = [
    ReasonCode::AutoSubmitted,
    ReasonCode::BulkMail,
    ReasonCode::Bounce,
    ReasonCode::Duplicate,
    ReasonCode::StaffRejected,
    ReasonCode::LicenseRevoked,
];

/// Every reason code the validator can write: every [`ReasonCode`] but
/// [`NOT_FROM_THE_VALIDATOR`] (sender authentication, the contract checks,
/// the parser's problems, unreadable messages).
fn defined_codes() -> BTreeSet<String> {
    let codes: BTreeSet<String> =
        ReasonCode::ALL.iter().filter(|c| !NOT_FROM_THE_VALIDATOR.contains(c)).map(|c| c.as_str().to_owned()).collect();
    for expected in [
        "sender_unauthenticated",
        "sender_auth_failed",
        "nodes_exceed_contract",
        "incomplete_request",
        "missing_field_company_name",
        "subject_missing_product",
        "unparseable_message",
    ] {
        assert!(codes.contains(expected), "{expected} is not a ReasonCode: {codes:?}");
    }
    codes
}

/// A home with the samples' contracts, the one for `contract_disabled` disabled.
fn setup() -> Env {
    let env = Env::temp();
    // The issuing key must be valid at NOW.
    ok(&env, &["init", "--authserv-id", "mx.vendor.example", "--valid-for-days", "36500"]);
    let csv = samples_dir().join("contracts.csv");
    ok(&env, &["contract", "import", csv.to_str().unwrap()]);
    ok(&env, &["contract", "disable", DISABLED]);
    let list: Value = serde_json::from_str(&ok(&env, &["contract", "list", "--all", "--json"])).unwrap();
    let enabled: Vec<(String, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["company"].as_str().unwrap().to_owned(), c["enabled"].as_bool().unwrap()))
        .collect();
    assert_eq!(enabled.len(), 5, "{list}");
    assert_eq!(enabled.iter().filter(|(_, on)| !on).map(|(c, _)| c.as_str()).collect::<Vec<_>>(), [DISABLED]);
    env
}

/// `fanlic verify` of the license file `lic` at [`NOW`], as FineReport 11.0.20
/// of `project` on `nodes` nodes (none: not given) checks it.
fn verify(env: &Env, lic: &Path, project: &str, nodes: Option<&str>) -> Output {
    let mut args =
        vec!["verify", lic.to_str().unwrap(), "--app", "FineReport", "--version", "11.0.20", "--project", project];
    if let Some(n) = nodes {
        args.extend(["--nodes", n]);
    }
    args.extend(["--now", NOW]);
    fanlic(env, &args, None)
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn every_sample_gives_the_decision_and_codes_of_the_readme() {
    let env = setup();
    let rows = table();
    // Copies, so that nothing the run does can touch the fixtures.
    let inbox = env.dir.join("inbox");
    fs::create_dir(&inbox).unwrap();
    let mut args = vec!["ingest".to_owned(), "--json".to_owned(), "--now".to_owned(), NOW.to_owned()];
    for row in &rows {
        let copy = inbox.join(&row.file);
        fs::copy(samples_dir().join(&row.file), &copy).unwrap();
        args.push(copy.display().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    // No authorization server binary: `image_builder_unavailable.eml` is
    // the sample of that hold (with one, it would be issued).
    let missing = env.dir.join("no-server-binary");
    let out = fanlic_with(&env, &[("FANLIC_LICENSE_SERVER_BINARY", missing.as_os_str())], &refs, None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), rows.len());
    let by_file: BTreeMap<String, &Value> = lines
        .iter()
        .map(|v| {
            let source = Path::new(v["source"].as_str().unwrap());
            (source.file_name().unwrap().to_str().unwrap().to_owned(), v)
        })
        .collect();
    assert_eq!(by_file.len(), rows.len(), "one decision per sample");

    let mut failures = Vec::new();
    let mut issued_id = None;
    for row in &rows {
        let v = by_file.get(&row.file).unwrap_or_else(|| panic!("no decision for {}", row.file));
        let codes: Vec<String> =
            v["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect();
        let got = (v["decision"].as_str().unwrap(), codes.iter().collect::<BTreeSet<_>>());
        let want = (row.decision.as_str(), row.codes.iter().collect::<BTreeSet<_>>());
        if got != want || codes.len() != row.codes.len() {
            failures.push(format!("{}: expected {want:?}, got {:?} {codes:?}", row.file, got.0));
        }
        if row.decision == "issued" {
            issued_id = v["license_id"].as_str().map(str::to_owned);
            assert_eq!(v["files"].as_array().unwrap().len(), 1, "{v}");
        } else {
            assert_eq!(v["license_id"], Value::Null, "{v}");
            assert_eq!(v["files"], Value::Array(vec![]), "{v}");
            for r in v["reasons"].as_array().unwrap() {
                assert!(r["message"].as_str().unwrap().len() > 20, "{v}");
            }
        }
    }
    assert!(failures.is_empty(), "samples that do not give what README.md says:\n{}", failures.join("\n"));

    // Only ok.eml made a license, and nothing else is under issued/.
    let issued_id = issued_id.expect("ok.eml was not issued");
    let issued = env.home.join("issued");
    let lic = issued.join(format!("{issued_id}-Container.lic"));
    assert_eq!(files_under(&issued), core::slice::from_ref(&lic));
    // It is a real license for the sample's project, as the product checks it.
    let out = verify(&env, &lic, "webroot", Some("2"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let out = verify(&env, &lic, "other", None);
    assert!(!out.status.success(), "another project must not verify");
}

#[test]
fn the_readme_lists_every_sample_and_every_code_has_one() {
    let rows = table();
    let listed: Vec<&str> = rows.iter().map(|r| r.file.as_str()).collect();
    let listed_set: BTreeSet<String> = listed.iter().map(|f| (*f).to_owned()).collect();
    assert_eq!(listed_set.len(), listed.len(), "a file is listed twice: {listed:?}");
    assert_eq!(listed_set, eml_files(), "README.md table vs the .eml files of the folder");

    let defined = defined_codes();
    let mut sampled = BTreeSet::new();
    for row in &rows {
        assert!(["issued", "rejected", "held"].contains(&row.decision.as_str()), "{row:?}");
        let stem = row.file.strip_suffix(".eml").unwrap();
        if stem == "ok" {
            assert_eq!((row.decision.as_str(), row.codes.len()), ("issued", 0), "{row:?}");
            continue;
        }
        assert_ne!(row.decision, "issued", "{row:?}");
        assert!(row.codes.iter().any(|c| c == stem), "{}: its own code is not among {:?}", row.file, row.codes);
        for c in &row.codes {
            assert!(defined.contains(c), "{}: {c} is not a code the validator defines", row.file);
        }
        sampled.insert(stem.to_owned());
    }
    let unsampled: BTreeSet<String> = unsampled().into_iter().collect();
    for c in &unsampled {
        assert!(defined.contains(c), "{c} is listed without a sample but is not a code any more");
        assert!(!sampled.contains(c), "{c} has a sample and is listed without one");
    }
    let missing: Vec<&String> = defined.iter().filter(|c| !sampled.contains(*c) && !unsampled.contains(*c)).collect();
    assert!(missing.is_empty(), "codes without a sample in fixtures/emails/reasons/: {missing:?}");

    // The contracts file is in the `fanlic contract import` format.
    let csv = read(&samples_dir().join("contracts.csv"));
    assert_eq!(csv.lines().next(), Some(CSV_HEADER));
    assert!(csv.lines().any(|l| l.starts_with(DISABLED)), "{DISABLED} is not in contracts.csv");
}

#[test]
fn the_drift_checks_see_what_they_check() {
    // The parsers above find what they must, so that the checks cannot pass
    // by finding nothing.
    assert_eq!(backquoted("`a`, `b_c` x"), ["a", "b_c"]);
    assert_eq!(cells("| `x.eml` | held | `a` | y | z |"), ["`x.eml`", "held", "`a`", "y", "z"]);
    let defined = defined_codes();
    for code in ["missing_field_nodes", "message_too_large", "image_builder_unavailable", "cancel_request"] {
        assert!(defined.contains(code), "{code}: {defined:?}");
    }
    assert!(!defined.contains("registration"), "RequestKind codes are not reasons");
}
