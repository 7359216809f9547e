//! One live license per (contract, application, project), through the real
//! `fanlic` binary: resends get the same license back (once a day), other
//! terms and look-alike projects are held, a contract's license count is
//! kept, resends of held requests join them, automatic mail is never
//! answered, every reply says it was sent automatically, `fanlic issue`
//! refuses a second live license without `--supersede`, races between
//! processes issue one license, and the trail of it all is in `fanlic audit`.

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::common::{BODY, Env, PASS, body_for, fanlic, mail, ok, replace_line, setup};
use serde_json::Value;

// Within the validity of the issuing key `fanlic init` makes today (2 years).
const T0: &str = "2027-01-10T08:00:00Z";
const T1: &str = "2027-01-10T20:00:00Z"; // 12 hours later
const T2: &str = "2027-01-11T09:00:00Z"; // 25 hours after T0

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let p = env.dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

/// `fanlic ingest --json --now NOW` of one mail: its line.
fn ingest(env: &Env, now: &str, name: &str, text: &str) -> Value {
    let path = write(env, name, text);
    let out = fanlic(env, &["ingest", "--json", "--now", now, path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(String::from_utf8(out.stdout).unwrap().lines().next().unwrap()).unwrap()
}

fn codes(v: &Value) -> Vec<String> {
    v["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect()
}

/// A value as `psql` prints it, for a test's home on PostgreSQL.
trait FromPsql: Sized {
    fn from_psql(text: &str) -> Self;
}
impl FromPsql for i64 {
    fn from_psql(text: &str) -> Self {
        text.parse().unwrap()
    }
}
impl FromPsql for String {
    fn from_psql(text: &str) -> Self {
        text.to_owned()
    }
}
impl FromPsql for Vec<u8> {
    fn from_psql(text: &str) -> Self {
        let hex = text.strip_prefix("\\x").unwrap();
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
    }
}

fn query<T: rusqlite::types::FromSql + FromPsql>(env: &Env, sql: &str) -> T {
    if let Some(url) = &env.database {
        return T::from_psql(&fanlic_testkit::postgres::PgCluster::shared().psql(url, sql));
    }
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn outbox(env: &Env) -> Vec<Value> {
    serde_json::from_str::<Value>(&ok(env, &["outbox", "list", "--all", "--json"])).unwrap().as_array().unwrap().clone()
}

fn audit_actions(env: &Env, filter: &[&str]) -> Vec<String> {
    let mut args = vec!["audit", "--json"];
    args.extend_from_slice(filter);
    let v: Value = serde_json::from_str(&ok(env, &args)).unwrap();
    v.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_resent_request_gets_the_same_license_once_a_day() {
    let env = setup();
    let first = ingest(&env, T0, "1.eml", &mail(Some(PASS), "send-1@customer.example", BODY));
    assert_eq!(first["decision"], "issued", "{first}");
    let lid = first["license_id"].as_str().unwrap().to_owned();

    // "Send again" in the mail client: a new Message-ID, the same request.
    let again = ingest(&env, T0, "2.eml", &mail(Some(PASS), "send-2@customer.example", BODY));
    assert_eq!((again["decision"].as_str(), codes(&again)), (Some("resent"), vec!["resent".to_owned()]));
    assert_eq!(again["license_id"], lid.as_str());
    assert_eq!(query::<i64>(&env, "SELECT count(*) FROM licenses"), 1);
    // Its reply carries the very same Container.lic.
    let replies = outbox(&env);
    assert_eq!(replies.len(), 2);
    let stored: String = query(&env, &format!("SELECT armored FROM licenses WHERE license_id = '{lid}'"));
    let attached: Vec<u8> = query(
        &env,
        &format!("SELECT bytes FROM outbox_attachments WHERE outbox_id = {}", replies[1]["id"].as_i64().unwrap()),
    );
    assert_eq!(attached, stored.as_bytes());

    // Within 24 hours of that reply: recorded, not answered.
    let third = ingest(&env, T1, "3.eml", &mail(Some(PASS), "send-3@customer.example", BODY));
    assert_eq!((third["decision"].as_str(), codes(&third)), (Some("resent"), vec!["resend_limited".to_owned()]));
    assert_eq!(outbox(&env).len(), 2);
    // A day later: answered again.
    let fourth = ingest(&env, T2, "4.eml", &mail(Some(PASS), "send-4@customer.example", BODY));
    assert_eq!(codes(&fourth), ["resent"]);
    assert_eq!(outbox(&env).len(), 3);
    assert_eq!(query::<i64>(&env, "SELECT count(*) FROM licenses"), 1);
    assert_eq!(
        audit_actions(&env, &["--license", &lid]),
        ["issued", "resent", "resent", "resent"],
        "the license's trail, with its mails"
    );
}

#[test]
fn other_terms_are_held_and_approving_reissues_superseding_the_old() {
    let env = setup();
    let first = ingest(&env, T0, "1.eml", &mail(Some(PASS), "terms-1@customer.example", BODY));
    let old = first["license_id"].as_str().unwrap().to_owned();
    // Two nodes instead of three: the same project, other terms.
    let fewer = replace_line(BODY, "Maximum number of registration: 3", "Maximum number of registration: 2");
    let held = ingest(&env, T0, "2.eml", &mail(Some(PASS), "terms-2@customer.example", &fewer));
    assert_eq!((held["decision"].as_str(), codes(&held)), (Some("held"), vec!["license_exists".to_owned()]));
    let msg = held["reasons"][0]["message"].as_str().unwrap();
    assert!(msg.contains(&old) && msg.contains("nodes: 3 -> 2"), "{msg}");
    assert_eq!(query::<i64>(&env, "SELECT count(*) FROM licenses"), 1);

    let id = held["decision_id"].as_i64().unwrap().to_string();
    let approved: Value = serde_json::from_str(&ok(&env, &["approve", &id, "--by", "alice", "--json"])).unwrap();
    assert_eq!(approved["decision"], "issued", "{approved}");
    let new = approved["license_id"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let state = |id: &str| query::<String>(&env, &format!("SELECT state FROM licenses WHERE license_id = '{id}'"));
    assert_eq!((state(&old), state(&new)), ("superseded".to_owned(), "live".to_owned()));
    let supersedes: String = query(&env, &format!("SELECT supersedes FROM licenses WHERE license_id = '{new}'"));
    assert_eq!(supersedes, old);
    let revoked: String = query(&env, &format!("SELECT reason FROM revoked_licenses WHERE license_id = '{old}'"));
    assert_eq!(revoked, format!("superseded by {new}"));
    let trail = audit_actions(&env, &["--license", &old]);
    assert!(trail.ends_with(&["revoke".to_owned(), "supersede".to_owned()]), "{trail:?}");
    // The new license's file is the one for two nodes.
    let lic = env.home.join("issued").join(format!("{new}-Container.lic"));
    let out = fanlic(
        &env,
        &[
            "verify",
            lic.to_str().unwrap(),
            "--app",
            "FineReport",
            "--version",
            "11.0.20",
            "--project",
            "webroot",
            "--nodes",
            "2",
        ],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_look_alike_project_is_held_and_a_full_contract_rejects_a_new_one() {
    let env = setup();
    ingest(&env, T0, "1.eml", &mail(Some(PASS), "p-1@customer.example", BODY));
    // Case and full-width letters: another project to a product, a slip to people.
    let alike = ingest(&env, T0, "2.eml", &mail(Some(PASS), "p-2@customer.example", &body_for("ＷｅｂＲｏｏｔ")));
    assert_eq!((alike["decision"].as_str(), codes(&alike)), (Some("held"), vec!["similar_project".to_owned()]));
    // Staff say it is a new project: approved, it is issued.
    let id = alike["decision_id"].as_i64().unwrap().to_string();
    let approved: Value = serde_json::from_str(&ok(&env, &["approve", &id, "--json"])).unwrap();
    assert_eq!(approved["decision"], "issued", "{approved}");

    // Now the contract covers 2 projects, both taken.
    ok(&env, &["contract", "update", "1", "--max-licenses", "2"]);
    let full = ingest(&env, T0, "3.eml", &mail(Some(PASS), "p-3@customer.example", &body_for("reports")));
    assert_eq!((full["decision"].as_str(), codes(&full)), (Some("rejected"), vec!["max_licenses_reached".to_owned()]));
    let msg = full["reasons"][0]["message"].as_str().unwrap();
    assert!(msg.contains("covers 2 project(s)") && msg.contains("\"webroot\""), "{msg}");
    // The customer is told, with the count and the projects.
    let replies = outbox(&env);
    let last = replies.last().unwrap();
    let body: String = query(&env, &format!("SELECT body FROM outbox WHERE outbox_id = {}", last["id"]));
    assert!(body.contains("max_licenses_reached") && body.contains("webroot"), "{body}");
    // A resend of a licensed project is still answered.
    let again = ingest(&env, T0, "4.eml", &mail(Some(PASS), "p-4@customer.example", BODY));
    assert_eq!(again["decision"], "resent", "{again}");
    assert_eq!(query::<i64>(&env, "SELECT count(*) FROM licenses"), 2);
}

#[test]
fn a_resend_of_a_held_request_joins_it() {
    let env = setup();
    // No trusted authentication: held for staff.
    let held = ingest(&env, T0, "1.eml", &mail(None, "held-1@customer.example", BODY));
    assert_eq!(held["decision"], "held");
    let joined = ingest(&env, T0, "2.eml", &mail(None, "held-2@customer.example", BODY));
    assert_eq!((joined["decision"].as_str(), codes(&joined)), (Some("joined"), vec!["joined_held".to_owned()]));
    let held_id = held["decision_id"].as_i64().unwrap();
    let joined_to: i64 =
        query(&env, &format!("SELECT joined_to FROM decisions WHERE decision_id = {}", joined["decision_id"]));
    assert_eq!(joined_to, held_id);
    // One item to review.
    let review: Value = serde_json::from_str(&ok(&env, &["review", "--json"])).unwrap();
    assert_eq!(review.as_array().unwrap().len(), 1, "{review}");
    assert_eq!(review[0]["resends_joined"], 1, "{review}");
    assert!(ok(&env, &["review"]).contains("resent 1 more time(s) while held"));
    assert!(outbox(&env).is_empty());
}

#[test]
fn automatic_mail_is_recorded_and_never_answered() {
    let env = setup();
    let with = |header: &str, id: &str| format!("{header}\r\n{}", mail(Some(PASS), id, BODY));
    for (header, code) in [
        ("Auto-Submitted: auto-replied", "auto_submitted"),
        ("X-Autoreply: yes", "auto_submitted"),
        ("Precedence: bulk", "bulk_mail"),
        ("Return-Path: <>", "bounce"),
        ("Return-Path: <MAILER-DAEMON@mx.customer.example>", "bounce"),
    ] {
        let id = format!("{code}-{}@customer.example", header.len());
        let v = ingest(&env, T0, &format!("{}.eml", header.len()), &with(header, &id));
        assert_eq!((v["decision"].as_str(), codes(&v)), (Some("ignored"), vec![code.to_owned()]), "{header}");
    }
    // A delivery status report (RFC 3464).
    let dsn = "Authentication-Results: mx.vendor.example; dkim=pass header.d=customer.example\r\n\
               From: Mail Delivery System <postmaster@customer.example>\r\nTo: license@vendor.example\r\n\
               Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@customer.example>\r\n\
               MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
               --b\r\nContent-Type: text/plain\r\n\r\nCompany name: x\r\n--b\r\n\
               Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n\r\n\
               Final-Recipient: rfc822; license@vendor.example\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n";
    let v = ingest(&env, T0, "dsn.eml", dsn);
    assert_eq!((v["decision"].as_str(), codes(&v)), (Some("ignored"), vec!["bounce".to_owned()]));
    // `Auto-Submitted: no` is a person's mail.
    let person = ingest(&env, T0, "no.eml", &with("Auto-Submitted: no", "person@customer.example"));
    assert_eq!(person["decision"], "issued", "{person}");
    assert_eq!(outbox(&env).len(), 1, "only the person's mail is answered");
    assert_eq!(query::<i64>(&env, "SELECT count(*) FROM licenses"), 1);
}

#[test]
fn every_reply_says_a_program_sent_it() {
    let env = setup();
    // Decided now (flush sends what is due now).
    let now = fanlic_issuer::util::clock::now().unwrap().to_string();
    ingest(&env, &now, "1.eml", &mail(Some(PASS), "reply-1@customer.example", BODY));
    ingest(&env, &now, "2.eml", &mail(Some(PASS), "reply-2@customer.example", &crate::common::bad_values(BODY)));
    let flushed = ok(&env, &["outbox", "flush"]);
    let files: Vec<PathBuf> = fs::read_dir(env.home.join(fanlic_issuer::outbox::OUTBOX_DIR))
        .unwrap_or_else(|e| panic!("{e}: {flushed}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        assert!(text.contains("\r\nAuto-Submitted: auto-replied\r\n"), "{}", f.display());
        assert!(text.contains("\r\nMessage-ID: <fanlic."), "{}", f.display());
    }
}

#[test]
fn fanlic_issue_refuses_a_second_live_license_without_supersede() {
    let env = Env::temp();
    ok(&env, &["init"]);
    // (company, application and version), the output file, more options.
    let issue = |(company, app, version): (&str, &str, &str), out: &str, extra: &[&str]| {
        let mut args = vec!["issue", "--company", company, "--project", "webroot", "--app", app, "--version", version];
        args.extend_from_slice(&["--expires", "never", "--signed", "2026/11/20", "--json", "-o", out]);
        args.extend_from_slice(extra);
        fanlic(&env, &args, None)
    };
    let acme = ("Acme Ltd", "FineReport", "11.0");
    let first = issue(acme, "a.lic", &[]);
    assert!(first.status.success());
    let old = serde_json::from_slice::<Value>(&first.stdout).unwrap()["license_id"].as_str().unwrap().to_owned();
    // Another spelling of the company is the same customer.
    let second = issue(("ACME  ltd", "FineReport", "11.0"), "b.lic", &[]);
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains(&old) && err.contains("--supersede"), "{err}");
    assert!(!env.dir.join("b.lic").exists());
    // Naming another license is refused too.
    let wrong = issue(acme, "c.lic", &["--supersede", "0123456789abcdef0123456789abcdef"]);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains(&old), "{wrong:?}");
    // Naming the live one replaces it.
    let third = issue(acme, "d.lic", &["--supersede", &old, "--nodes", "2"]);
    assert!(third.status.success(), "{}", String::from_utf8_lossy(&third.stderr));
    assert_eq!(query::<String>(&env, &format!("SELECT state FROM licenses WHERE license_id = '{old}'")), "superseded");
    assert_eq!(audit_actions(&env, &["--license", &old]), ["issue", "revoke", "supersede"]);
    // Another application is another license.
    let bi = issue(("Acme Ltd", "FineBI", "6.1"), "e.lic", &[]);
    assert!(bi.status.success(), "{}", String::from_utf8_lossy(&bi.stderr));
}

#[test]
fn fifty_racing_registrations_and_an_approval_issue_one_license() {
    let env = setup();
    // A held copy of the request (its sender unproven), approved while two
    // ingest processes decide 50 resends of it from two Maildirs.
    let held = ingest(&env, T0, "held.eml", &mail(None, "race-held@customer.example", BODY));
    let held_id = held["decision_id"].as_i64().unwrap().to_string();
    let mut dirs = Vec::new();
    for d in 0..2 {
        let md = env.dir.join(format!("md{d}"));
        for sub in ["new", "cur", "tmp"] {
            fs::create_dir_all(md.join(sub)).unwrap();
        }
        for i in 0..25 {
            let id = format!("race-{d}-{i}@customer.example");
            fs::write(md.join(format!("new/{i}.{d}_0.host")), mail(Some(PASS), &id, BODY)).unwrap();
        }
        dirs.push(md);
    }
    let spawn = |args: Vec<String>| {
        crate::common::fanlic_cmd()
            .args(&args)
            .env("FANLIC_HOME", &env.home)
            .envs(env.database_env())
            .env("USER", "tester")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = dirs
        .iter()
        .map(|md| spawn(vec!["ingest".into(), "--json".into(), "--batch".into(), "1".into(), path(md)]))
        .chain([spawn(vec!["approve".into(), held_id, "--json".into()])])
        .collect();
    let outputs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    for o in &outputs[..2] {
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // Exactly one license, whoever came first.
    assert_eq!(query::<i64>(&env, "SELECT count(*) FROM licenses"), 1);
    assert_eq!(query::<i64>(&env, "SELECT count(*) FROM licenses WHERE state = 'live'"), 1);
    let issued: i64 = query(&env, "SELECT count(*) FROM decisions WHERE decision = 'issued'");
    let resent: i64 = query(&env, "SELECT count(*) FROM decisions WHERE decision = 'resent'");
    let held_left: i64 = query(&env, "SELECT count(*) FROM decisions WHERE decision = 'held'");
    assert_eq!(issued, 1);
    // The approval issued, sent the live license again, or (a concurrent
    // issue changed the project under it) was refused and stays held.
    assert_eq!(issued + resent + held_left, 51, "every mail decided once");
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn a_database_with_duplicates_keeps_the_first_live_and_lists_the_others() {
    let env = setup();
    let first = ingest(&env, T0, "1.eml", &mail(Some(PASS), "dup-1@customer.example", BODY));
    let lid = first["license_id"].as_str().unwrap().to_owned();
    // A database of the previous schema, which issued the same project twice.
    {
        let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
        common_downgrade::to_version(&conn, 7);
        conn.execute_batch(&format!(
            "CREATE TEMP TABLE copy AS SELECT * FROM licenses WHERE license_id = '{lid}';
             UPDATE copy SET license_id = 'ffffffffffffffffffffffffffffffff', issued_at = issued_at + 60;
             INSERT INTO licenses SELECT * FROM copy;
             INSERT INTO decision_audit (decision_id, dedup_key, action, reasons, license_id, at, by)
                 VALUES (1, 'dup-1@customer.example', 'issued', '[]', '{lid}', 1, 'fanlic ingest');"
        ))
        .unwrap();
    }
    let out = fanlic(&env, &["audit", "--action", "marked-duplicate", "--json"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("license ffffffffffffffffffffffffffffffff is marked duplicate"), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["license_id"], "ffffffffffffffffffffffffffffffff");
    assert!(v[0]["why"].as_str().unwrap().contains(&lid), "{v}");
    assert_eq!(query::<String>(&env, &format!("SELECT state FROM licenses WHERE license_id = '{lid}'")), "live");
    assert_eq!(
        query::<String>(&env, "SELECT state FROM licenses WHERE license_id = 'ffffffffffffffffffffffffffffffff'"),
        "duplicate"
    );
    // Not revoked: it keeps working until staff decide.
    assert_eq!(query::<i64>(&env, "SELECT count(*) FROM revoked_licenses"), 0);
    // The old trail came along into the one audit table.
    assert_eq!(audit_actions(&env, &["--action", "issued"]), ["issued"]);
}

#[test]
fn the_audit_trail_has_every_change_and_filters() {
    let env = setup();
    let first = ingest(&env, T0, "1.eml", &mail(Some(PASS), "a-1@customer.example", BODY));
    let lid = first["license_id"].as_str().unwrap().to_owned();
    ingest(&env, T0, "2.eml", &mail(Some(PASS), "a-2@customer.example", &body_for("other")));
    ok(&env, &["revoke", &lid, "--reason", "contract ended", "--by", "bob", "--no-mail"]);
    ok(&env, &["contract", "update", "1", "--max-nodes", "4", "--by", "carol"]);
    let all = audit_actions(&env, &[]);
    assert_eq!(all, ["contract-add", "issued", "issued", "revoke", "contract-update"]);
    assert_eq!(audit_actions(&env, &["--license", &lid]), ["issued", "revoke"]);
    assert_eq!(audit_actions(&env, &["--contract", "Customer Trading Co., Ltd."]), all);
    assert_eq!(
        audit_actions(&env, &["--action", "revoke", "--action", "contract-update"]),
        ["revoke", "contract-update"]
    );
    assert!(audit_actions(&env, &["--since", "2099-01-01"]).is_empty());
    let text = ok(&env, &["audit", "--license", &lid]);
    assert!(text.contains("revoke") && text.contains("by bob") && text.contains("contract ended"), "{text}");
    let bad = fanlic(&env, &["audit", "--action", "nonsense"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("supersede"), "the valid actions are listed");
}

use crate::common::downgrade as common_downgrade;
