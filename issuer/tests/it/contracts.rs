//! The contract registry through the library: all-or-nothing import, the
//! lookups ingest uses, the one-enabled-contract-per-address rule, the audit
//! trail, and the schema migration from version 1.

use fanlic_issuer::ContractError;
use std::{fs, path::Path};

use fanlic_formats::{Expiry, LicenseKind, Timestamp, Version};
use fanlic_issuer::Error;
use fanlic_issuer::Home;
use fanlic_issuer::InitOptions;
use fanlic_issuer::contracts::{self, ContractChanges, OPTION_NAMES, TermsText};

use crate::common::downgrade;

const NOW: Timestamp = Timestamp(1_795_000_000); // 2026-11-18

const HEADER: &str = "company,email,signed,product,methods,max_nodes,version,expires\n";

fn init(dir: &Path) -> Home {
    let opts = InitOptions { authserv_ids: vec![], valid_for_days: None, now: NOW };
    Home::init(&dir.join("home"), &opts).unwrap().0
}

fn write(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    fs::write(&p, format!("{HEADER}{body}")).unwrap();
    p
}

fn audit_rows(home: &Home) -> i64 {
    let conn = rusqlite::Connection::open(home.db_path()).unwrap();
    conn.query_row("SELECT count(*) FROM audit WHERE action LIKE 'contract-%'", [], |r| r.get(0)).unwrap()
}

#[test]
fn import_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut home = init(dir.path());
    // Rows 2 and 3 are good, 4 and 6 are bad, 5 repeats row 2's company: nothing may land.
    let bad = write(
        dir.path(),
        "bad.csv",
        "Acme Data Ltd,it@acme.example,2026/11/20,FineReport,\"local-container,private-cloud\",4,11.0,never\n\
         Beta Co,cto@beta.example,2026/11/20,FineBI,local-container,1,6.1,2099-12-31\n\
         Bad Co,bad,2026/11/20,FineBI,local-container,1,6.1,never\n\
         ACME   data ltd,x@acme2.example,2026/11/20,FineBI,local-container,1,6.1,never\n\
         Worse Co,w@worse.example,2026/11/20,FineBI,local-container,1,6.1.1,never\n",
    );
    let Err(Error::Contract(ContractError::ImportRejected { problems, .. })) =
        contracts::import(&mut home, &bad, false, "alice", NOW)
    else {
        panic!("a file with bad rows must be rejected");
    };
    let lines: Vec<&str> = problems.iter().map(|p| p.split(':').next().unwrap()).collect();
    assert_eq!(lines, ["line 4", "line 5", "line 6"], "{problems:#?}");
    assert!(problems[1].contains("also on line 2"), "{problems:#?}");
    assert!(contracts::list(&mut home, true).unwrap().is_empty(), "nothing imported");
    assert_eq!(audit_rows(&home), 0);

    let good = write(
        dir.path(),
        "good.csv",
        "Acme Data Ltd,IT@Acme.Example; ops@acme.example ,2026/11/20,FineReport,\"private-cloud,local-container\",4,11.0,never\n\
         Beta Co,cto@beta.example,2026/11/20,FineBI,local-container,1,6.1,2099-12-31\n",
    );
    let report = contracts::import(&mut home, &good, false, "alice", NOW).unwrap();
    assert_eq!(report.added.len(), 2);
    let acme = &report.added[0];
    assert_eq!(acme.terms.emails, ["it@acme.example", "ops@acme.example"]);
    assert_eq!(acme.terms.methods, [LicenseKind::LocalContainer, LicenseKind::PrivateCloud]);
    assert_eq!(acme.terms.version, Version { major: 11, minor: 0 });
    assert_eq!(acme.terms.expires, Expiry::Never);
    assert!(acme.enabled && acme.created_by == "alice");
    assert_eq!(audit_rows(&home), 2);

    // Again: every row names a company already there.
    let Err(Error::Contract(ContractError::ImportRejected { problems, .. })) =
        contracts::import(&mut home, &good, false, "alice", NOW)
    else {
        panic!("existing companies need --update");
    };
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].contains("--update"));

    // --update replaces the terms and keeps the ids.
    let changed = write(
        dir.path(),
        "changed.csv",
        "acme data ltd,it@acme.example,2026/11/20,FineReport,local-container,8,11.0,never\n",
    );
    let report = contracts::import(&mut home, &changed, true, "bob", NOW).unwrap();
    assert_eq!(report.updated.len(), 1);
    assert_eq!(report.updated[0].id, acme.id);
    assert_eq!(report.updated[0].terms.max_nodes, 8);
    assert_eq!(report.updated[0].terms.company, "acme data ltd");
    assert_eq!(report.updated[0].updated_by, "bob");
    // ops@ left Acme's contract, so it is free now.
    assert!(contracts::find_by_email(&mut home, "ops@acme.example").unwrap().is_none());
}

#[test]
fn lookups_by_company_and_email() {
    let dir = tempfile::tempdir().unwrap();
    let mut home = init(dir.path());
    let text = TermsText {
        company: "帆软 Customer Ltd",
        email: "Admin@Customer.example.cn",
        signed: "2026/11/20",
        product: "FineReport",
        methods: "local-container",
        max_nodes: "2",
        version: "11.0",
        expires: "2020-01-01",
        max_licenses: None,
        activation_policy: None,
        lease_days: None,
    };
    let terms = text.parse(&OPTION_NAMES).unwrap();
    let c = contracts::add(&mut home, &terms, "alice", NOW).unwrap();
    assert_eq!(c.status(NOW), "expired");

    for name in ["帆软 Customer Ltd", "  帆软   customer LTD ", "帆软\u{3000}ＣＵＳＴＯＭＥＲ　Ｌｔｄ"]
    {
        assert_eq!(contracts::find_by_company(&mut home, name).unwrap().map(|c| c.id), Some(c.id), "{name:?}");
    }
    assert!(contracts::find_by_company(&mut home, "帆软 Customer").unwrap().is_none());
    for addr in ["admin@customer.example.cn", " ADMIN@customer.EXAMPLE.cn "] {
        assert_eq!(contracts::find_by_email(&mut home, addr).unwrap().map(|c| c.id), Some(c.id), "{addr:?}");
    }
    assert!(contracts::find_by_email(&mut home, "other@customer.example.cn").unwrap().is_none());
    assert!(contracts::find_by_email(&mut home, "not an address").unwrap().is_none());

    // A second company may not take an address an enabled contract holds...
    let other = TermsText { company: "Other Co", ..text }.parse(&OPTION_NAMES).unwrap();
    assert!(matches!(
        contracts::add(&mut home, &other, "alice", NOW),
        Err(Error::Contract(ContractError::EmailTaken { .. }))
    ));
    // ... nor the same company in other letter case.
    let same = TermsText { company: "帆软 CUSTOMER ltd", email: "x@y.example", ..text }.parse(&OPTION_NAMES).unwrap();
    assert!(matches!(
        contracts::add(&mut home, &same, "alice", NOW),
        Err(Error::Contract(ContractError::Exists { .. }))
    ));

    // Disabled: still found (so ingest can say contract_disabled), and its address is free.
    let d = contracts::disable(&mut home, "帆软 customer ltd", "bob", NOW).unwrap();
    assert!(!d.enabled);
    assert_eq!(
        contracts::find_by_email(&mut home, "admin@customer.example.cn").unwrap().map(|c| c.enabled),
        Some(false)
    );
    let o = contracts::add(&mut home, &other, "alice", NOW).unwrap();
    assert_eq!(contracts::find_by_email(&mut home, "admin@customer.example.cn").unwrap().map(|c| c.id), Some(o.id));
    // Enabling the old one again would give the address two enabled contracts.
    let enable = ContractChanges { enable: true, ..ContractChanges::default() };
    assert!(matches!(
        contracts::update(&mut home, &c.id.to_string(), &enable, "bob", NOW),
        Err(Error::Contract(ContractError::EmailTaken { .. }))
    ));
    assert!(contracts::list(&mut home, false).unwrap().iter().all(|c| c.enabled));
    assert_eq!(contracts::list(&mut home, true).unwrap().len(), 2);
}

#[test]
fn migrates_a_version_1_database() {
    let dir = tempfile::tempdir().unwrap();
    let home = init(dir.path());
    let db = home.db_path().to_owned();
    drop(home);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        downgrade::to_version(&conn, 1);
    }
    let mut home = Home::open(&dir.path().join("home")).unwrap();
    assert!(contracts::list(&mut home, true).unwrap().is_empty());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(v, fanlic_issuer::SCHEMA_VERSION);
}

#[test]
fn the_sample_file_imports() {
    let dir = tempfile::tempdir().unwrap();
    let mut home = init(dir.path());
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cmd/contract/workflow.in/contracts.csv");
    let report = contracts::import(&mut home, &sample, false, "alice", NOW).unwrap();
    let names: Vec<&str> = report.added.iter().map(|c| c.terms.company.as_str()).collect();
    assert_eq!(names, ["Acme Data Ltd", "Beta Co", "帆软 Customer"]);
    assert!(report.added[0].allows(LicenseKind::PrivateCloud));
    assert_eq!(report.added[2].status(NOW), "expired");
}
