//! `fanlic ingest` end to end with real components: a home made by
//! `fanlic init`, a contract added by `fanlic contract add`, registration
//! mails as .eml text, and the verifier products embed checking the result.

use crate::common::downgrade;

use std::{
    fs,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use crate::common::{
    BODY, CONTRACT_ADDR, Env, PASS, bad_values, body_for, fanlic, fanlic_cmd, mail, ok, query_texts, setup,
};
use fanlic_formats::MAX_LICENSE_FILE_LEN;
use fanlic_issuer::Home;
use serde_json::Value;

fn clean(id: &str) -> String {
    mail(Some(PASS), id, BODY)
}

fn bad(id: &str) -> String {
    mail(Some(PASS), id, &bad_values(BODY))
}

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let p = env.dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

fn ingest_json(env: &Env, paths: &[&Path]) -> (Vec<Value>, i32) {
    let mut args = vec!["ingest".to_owned(), "--json".to_owned()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = fanlic(env, &refs, None);
    let lines = String::from_utf8(out.stdout).unwrap();
    (lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect(), out.status.code().unwrap())
}

fn outbox(env: &Env) -> Vec<Value> {
    serde_json::from_str::<Value>(&ok(env, &["outbox", "list", "--all", "--json"])).unwrap().as_array().unwrap().clone()
}

fn codes(v: &Value) -> Vec<String> {
    v["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect()
}

/// An empty Maildir (`cur/`, `new/`, `tmp/`) in the test's folder.
fn maildir(env: &Env) -> PathBuf {
    let md = env.dir.join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        fs::create_dir_all(md.join(sub)).unwrap();
    }
    md
}

#[test]
fn clean_mail_is_issued_once_with_its_sha256_and_one_reply() {
    let env = setup();
    let text = clean("req-1@customer.example");
    let file = write(&env, "req.eml", &text);
    let (lines, code) = ingest_json(&env, &[&file]);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 1);
    let v = &lines[0];
    // The --json line shape.
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["source", "message_id", "from", "decision", "reasons", "license_id", "files", "decision_id"]);
    assert_eq!(v["decision"], "issued", "{v}");
    assert_eq!(v["message_id"], "req-1@customer.example");
    assert_eq!(v["from"], CONTRACT_ADDR);
    assert_eq!(v["reasons"], Value::Array(vec![]));
    let lid = v["license_id"].as_str().unwrap().to_owned();
    let lic = PathBuf::from(v["files"][0].as_str().unwrap());
    assert!(lic.is_absolute());
    assert_eq!(lic, env.home.canonicalize().unwrap().join("issued").join(format!("{lid}-Container.lic")));
    assert_eq!(fs::metadata(&lic).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(fs::metadata(lic.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);

    // The product's verifier accepts it, against the home's root key.
    let out = fanlic(
        &env,
        &["verify", lic.to_str().unwrap(), "--app", "FineReport", "--version", "11.0.20", "--project", "webroot"],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let h = Home::open(&env.home).unwrap();
    let stored = h.stored_license(&lid).unwrap().unwrap();
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let signed = fanlic_verifier::authenticate(&stored.file_bytes, &mut buf, &h.root_keys().unwrap()).unwrap();
    let sha = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    assert_eq!(signed.license.request_email_sha256.unwrap().as_slice(), sha.as_ref());
    assert_eq!(signed.license.company, "Customer Trading Co., Ltd.");
    assert_eq!(signed.license.max_nodes, 3);
    assert_eq!(fs::read_to_string(&lic).unwrap(), stored.armored);

    // One reply, to the contract's address (not Reply-To), with the license.
    let replies = outbox(&env);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["to"], CONTRACT_ADDR);

    // Again: a duplicate, no second license, no second reply.
    let (again, code) = ingest_json(&env, &[&file]);
    assert_eq!(code, 0);
    assert_eq!(again[0]["decision"], "duplicate");
    assert_eq!(again[0]["license_id"], lid.as_str());
    assert_eq!(again[0]["files"], Value::Array(vec![]));
    assert_eq!(Home::open(&env.home).unwrap().license_count().unwrap(), 1);
    assert_eq!(outbox(&env).len(), 1);

    // A lost file (crash between commit and write) is rewritten by the duplicate.
    fs::remove_file(&lic).unwrap();
    ingest_json(&env, &[&file]);
    assert_eq!(fs::read_to_string(&lic).unwrap(), stored.armored);

    let audit: Value = serde_json::from_str(&ok(&env, &["audit", "--json"])).unwrap();
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["contract-add", "issued", "duplicate", "duplicate"]);
}

#[test]
fn spoofed_mail_is_held_without_reply_and_does_not_block_the_real_one() {
    let env = setup();
    let spoof = mail(Some("mail.attacker.example; dkim=pass header.d=customer.example"), "same@customer.example", BODY);
    let (v, code) = ingest_json(&env, &[&write(&env, "spoof.eml", &spoof)]);
    assert_eq!(code, 0);
    assert_eq!(v[0]["decision"], "held");
    assert_eq!(codes(&v[0]), ["sender_unauthenticated"]);
    assert!(outbox(&env).is_empty());
    // No auth header at all: held too (same Message-ID: a duplicate of the spoof).
    let (v, _) = ingest_json(&env, &[&write(&env, "noauth.eml", &mail(None, "same@customer.example", BODY))]);
    assert_eq!(v[0]["decision"], "duplicate");

    // The authenticated mail with the same Message-ID is decided normally.
    let (v, _) = ingest_json(&env, &[&write(&env, "real.eml", &clean("same@customer.example"))]);
    assert_eq!(v[0]["decision"], "issued", "{}", v[0]);
    assert_eq!(outbox(&env).len(), 1);
    // A later spoof with that id is a duplicate of the real decision.
    let (v, _) = ingest_json(&env, &[&write(&env, "spoof2.eml", &spoof.replace("webroot", "other"))]);
    assert_eq!(v[0]["decision"], "duplicate");
    assert_eq!(Home::open(&env.home).unwrap().license_count().unwrap(), 1);

    // Staff see the held one, and reject it with their name.
    let held: Value = serde_json::from_str(&ok(&env, &["review", "--json"])).unwrap();
    assert_eq!(held.as_array().unwrap().len(), 1);
    assert_eq!(held[0]["company"], "Customer Trading Co., Ltd.");
    let id = held[0]["id"].as_i64().unwrap().to_string();
    let out = fanlic(&env, &["reject", &id, "--reason", "spoofed"], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("rejected"));
    let held: Value = serde_json::from_str(&ok(&env, &["review", "--json"])).unwrap();
    assert!(held.as_array().unwrap().is_empty());
    let audit: Value = serde_json::from_str(&ok(&env, &["audit", "--json"])).unwrap();
    let last = audit.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "staff-rejected");
    assert_eq!(last["by"], "tester");
}

#[test]
fn approve_issues_a_held_request_without_replying_to_an_unauthenticated_sender() {
    let env = setup();
    let (v, _) = ingest_json(&env, &[&write(&env, "noauth.eml", &mail(None, "held@customer.example", BODY))]);
    assert_eq!(v[0]["decision"], "held");
    let held: Value = serde_json::from_str(&ok(&env, &["review", "--json"])).unwrap();
    let id = held[0]["id"].as_i64().unwrap().to_string();
    let out: Value = serde_json::from_str(&ok(&env, &["approve", &id, "--by", "alice", "--json"])).unwrap();
    assert_eq!(out["decision"], "issued");
    assert!(Path::new(out["files"][0].as_str().unwrap()).is_file());
    assert!(outbox(&env).is_empty());
    assert_eq!(Home::open(&env.home).unwrap().license_count().unwrap(), 1);
    // Not held any more.
    assert!(!fanlic(&env, &["approve", &id, "--by", "alice"], None).status.success());
}

#[test]
fn bad_fields_are_rejected_with_every_reason_and_a_reply() {
    let env = setup();
    let (v, code) = ingest_json(&env, &[&write(&env, "bad.eml", &bad("bad-1@customer.example"))]);
    assert_eq!(code, 0);
    assert_eq!(v[0]["decision"], "rejected");
    assert_eq!(codes(&v[0]), ["signing_date_mismatch", "nodes_exceed_contract", "version_mismatch"]);
    assert!(v[0]["reasons"].as_array().unwrap().iter().all(|r| !r["message"].as_str().unwrap().is_empty()));
    assert_eq!(v[0]["license_id"], Value::Null);
    let replies = outbox(&env);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["to"], CONTRACT_ADDR);
    assert_eq!(Home::open(&env.home).unwrap().license_count().unwrap(), 0);
}

#[test]
fn maildir_messages_move_to_cur_after_the_commit() {
    let env = setup();
    let md = maildir(&env);
    fs::write(md.join("new/1.1_0.host"), clean("md-1@customer.example")).unwrap();
    fs::write(md.join("new/2.2_0.host"), bad("md-2@customer.example")).unwrap();
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!(code, 0);
    let decisions: Vec<&str> = v.iter().map(|l| l["decision"].as_str().unwrap()).collect();
    assert_eq!(decisions, ["issued", "rejected"]);
    assert!(fs::read_dir(md.join("new")).unwrap().next().is_none());
    assert!(md.join("cur/1.1_0.host:2,S").is_file());
    assert!(md.join("cur/2.2_0.host:2,S").is_file());
    // Nothing new: nothing to do.
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!((v.len(), code), (0, 0));
    // The first ingest put the database in WAL mode (one fsync a commit
    // instead of several with the rollback journal).
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_relay_of_the_vendors_above_the_results_needs_own_received_lines() {
    let env = setup();
    // The vendor's relay (or fetcher) adds its Received line above the
    // trusted Authentication-Results the MX wrote.
    let relayed = |id: &str| {
        format!(
            "Received: from mx.vendor.example by relay.vendor.example; Fri, 20 Nov 2026 09:30:06 +0800\r\n{}",
            clean(id)
        )
    };
    let (v, _) = ingest_json(&env, &[&write(&env, "r1.eml", &relayed("relay-1@customer.example"))]);
    assert_eq!((v[0]["decision"].as_str(), codes(&v[0])), (Some("held"), vec!["sender_unauthenticated".to_owned()]));
    ok(&env, &["config", "--own-received-lines", "1"]);
    let (v, _) = ingest_json(&env, &[&write(&env, "r2.eml", &relayed("relay-2@customer.example"))]);
    assert_eq!(v[0]["decision"], "issued", "{}", v[0]);
    // Results below a second, foreign Received line still do not count.
    let forged = format!(
        "Received: from evil.example by relay.vendor.example; Fri, 20 Nov 2026 09:31:00 +0800\r\n{}",
        relayed("relay-3@customer.example").replace("Project name: webroot", "Project name: relay-3")
    );
    let (v, _) = ingest_json(&env, &[&write(&env, "r3.eml", &forged)]);
    assert_eq!(v[0]["decision"], "held", "{}", v[0]);
}

#[test]
fn a_license_file_that_cannot_be_written_is_written_by_the_next_run() {
    let env = setup();
    let md = maildir(&env);
    fs::write(md.join("new/1.1_0.host"), clean("file-1@customer.example")).unwrap();
    // A file where the issued/ folder should be: the license file cannot be
    // written (a permission would not stop root, who runs CI).
    fs::write(env.home.join("issued"), "in the way").unwrap();
    let out = fanlic(&env, &["ingest", "--json", md.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("decided and recorded, but the license file could not be written"), "{stderr}");
    // Decided and recorded, the message left in new/.
    assert_eq!(Home::open(&env.home).unwrap().license_count().unwrap(), 1);
    assert!(md.join("new/1.1_0.host").is_file());

    fs::remove_file(env.home.join("issued")).unwrap();
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!(code, 0);
    assert_eq!(v[0]["decision"], "duplicate", "{v:?}");
    let lid = v[0]["license_id"].as_str().unwrap();
    let file = env.home.join("issued").join(format!("{lid}-Container.lic"));
    let stored = Home::open(&env.home).unwrap().stored_license(lid).unwrap().unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), stored.armored);
    assert!(md.join("cur/1.1_0.host:2,S").is_file());
    assert_eq!(Home::open(&env.home).unwrap().license_count().unwrap(), 1);
}

#[test]
fn oversized_message_is_rejected_and_leaves_new() {
    // Regression: a message over the size limit was reported as unreadable
    // and stayed in new/, so every later run exited 1.
    let env = setup();
    let md = maildir(&env);
    fs::write(md.join("new/1.1_0.host"), clean("big-1@customer.example")).unwrap();
    // 50 MB, sparse: never read, never in memory.
    fs::File::create(md.join("new/2.2_0.host")).unwrap().set_len(50 * 1024 * 1024).unwrap();
    fs::write(md.join("new/3.3_0.host"), mail(Some(PASS), "big-3@customer.example", &body_for("big-3"))).unwrap();
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!(code, 0, "{v:?}");
    let decisions: Vec<&str> = v.iter().map(|l| l["decision"].as_str().unwrap()).collect();
    assert_eq!(decisions, ["issued", "rejected", "issued"]);
    assert_eq!(codes(&v[1]), ["message_too_large"]);
    assert!(v[1]["reasons"][0]["message"].as_str().unwrap().contains("52428800 bytes"), "{}", v[1]);
    assert_eq!(v[1]["source"], md.join("new/2.2_0.host").display().to_string());
    assert!(md.join("cur/2.2_0.host:2,S").is_file());
    assert!(fs::read_dir(md.join("new")).unwrap().next().is_none());
    // No reply (nobody is authenticated); its first 64 KiB and size are kept.
    assert_eq!(outbox(&env).len(), 2);
    assert_eq!(raw_rows(&env)[1], ("rejected".to_owned(), "truncated".to_owned(), 64 * 1024, 50 * 1024 * 1024));
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!((v.len(), code), (0, 0));
    // The same file delivered again is a duplicate, not a second decision.
    fs::rename(md.join("cur/2.2_0.host:2,S"), md.join("new/2.2_0.host")).unwrap();
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!(code, 0);
    assert_eq!(v[0]["decision"], "duplicate", "{v:?}");
}

#[test]
fn batches_decide_each_message_once_even_with_copies_inside_them() {
    for batch in ["1", "4", "256"] {
        let env = setup();
        let md = maildir(&env);
        // Ten messages: the 4th and 9th copies of the 2nd; the 3rd a spoof
        // (no trusted authentication) with the Message-ID of the 7th, which
        // it must not block.
        for i in 0..10 {
            let text = match i {
                3 | 8 => mail(Some(PASS), "batch-1@customer.example", &body_for("p1")),
                2 => mail(None, "batch-6@customer.example", BODY),
                // A project each: one license per project.
                _ => mail(Some(PASS), &format!("batch-{i}@customer.example"), &body_for(&format!("p{i}"))),
            };
            fs::write(md.join(format!("new/{i:02}.x_0.host")), text).unwrap();
        }
        let out = fanlic(&env, &["ingest", "--json", "--batch", batch, md.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(0), "--batch {batch}");
        let v: Vec<Value> =
            String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let decisions: Vec<&str> = v.iter().map(|l| l["decision"].as_str().unwrap()).collect();
        assert_eq!(
            decisions,
            ["issued", "issued", "held", "duplicate", "issued", "issued", "issued", "issued", "duplicate", "issued"],
            "--batch {batch}"
        );
        // One license per distinct authenticated request, each file written.
        let issued: Vec<&Value> = v.iter().filter(|l| l["decision"] == "issued").collect();
        // Read as SQL: the records may be in PostgreSQL (where a batch's
        // writes are pipelined), which this process has no home open on.
        let licenses = query_texts(&env, "SELECT CAST(count(*) AS TEXT) FROM licenses");
        assert_eq!(licenses, [issued.len().to_string()], "--batch {batch}");
        for l in &issued {
            assert!(Path::new(l["files"][0].as_str().unwrap()).is_file(), "{l}");
        }
        assert_eq!(v[3]["license_id"], v[1]["license_id"]);
        assert_eq!(v[8]["license_id"], v[1]["license_id"]);
        assert_eq!(fs::read_dir(md.join("cur")).unwrap().count(), 10);
        assert_eq!(outbox(&env).len(), 7, "--batch {batch}");
    }
}

#[test]
fn undecided_message_stays_in_new_and_exits_1() {
    let env = setup();
    let md = maildir(&env);
    fs::write(md.join("new/1.1_0.host"), clean("md-1@customer.example")).unwrap();
    // Hold the database's write lock meanwhile (readers still read): the
    // decision cannot be recorded.
    let mut conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
    let mut child = fanlic_cmd()
        .args(["ingest", md.to_str().unwrap()])
        .env("FANLIC_HOME", &env.home)
        .envs(env.database_env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The busy timeout is 10 s; give up the lock only after the child gave up.
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        std::thread::sleep(core::time::Duration::from_millis(100));
    };
    tx.rollback().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(md.join("new/1.1_0.host").is_file());
    // Once the database is free, it is decided and moved.
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!(code, 0);
    assert_eq!(v[0]["decision"], "issued");
    assert!(md.join("cur/1.1_0.host:2,S").is_file());
}

#[test]
fn mbox_with_two_mails() {
    let env = setup();
    let mbox = format!(
        "From alice@customer.example Fri Nov 20 09:30:00 2026\n{}\nFrom alice@customer.example Fri Nov 20 09:31:00 2026\n{}\n",
        clean("mb-1@customer.example").replace("\r\n", "\n"),
        bad("mb-2@customer.example").replace("\r\n", "\n"),
    );
    let p = write(&env, "box.mbox", &mbox);
    let (v, code) = ingest_json(&env, &[&p]);
    assert_eq!(code, 0);
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["decision"], "issued", "{}", v[0]);
    assert_eq!(v[1]["decision"], "rejected");
    assert_eq!(v[0]["source"], format!("{}#1", p.display()));
}

#[test]
fn stdin_and_human_output() {
    let env = setup();
    let out = fanlic(&env, &["ingest", "-"], Some(clean("in-1@customer.example").as_bytes()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.starts_with("-: issued"), "{text}");
}

#[test]
fn garbage_and_empty_files_get_a_clear_reason() {
    let env = setup();
    let empty = write(&env, "empty.eml", "");
    let garbage = env.dir.join("garbage.eml");
    fs::write(&garbage, [0xff_u8, 0x00, 0xfe, 0x13, 0x37]).unwrap();
    let (v, code) = ingest_json(&env, &[&empty, &garbage]);
    assert_eq!(code, 0);
    assert_eq!(v.len(), 2);
    for line in &v {
        assert_ne!(line["decision"], "issued");
        let reasons = line["reasons"].as_array().unwrap();
        assert!(!reasons.is_empty(), "{line}");
        assert!(!reasons[0]["message"].as_str().unwrap().is_empty());
    }
    assert!(outbox(&env).is_empty());
    // A missing path is a usage error (exit 2): see
    // `a_path_that_is_not_a_source_is_a_usage_error`.
    let out = fanlic(&env, &["ingest", "no-such.eml"], None);
    assert_eq!(out.status.code(), Some(2));
}

/// The README demo: fixtures/emails/demo-maildir with demo-contracts.csv.
#[test]
fn demo_maildir_gives_issued_held_rejected() {
    let env = Env::temp();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/emails");
    ok(&env, &["init", "--authserv-id", "mx.vendor.example"]);
    ok(&env, &["contract", "import", fixtures.join("demo-contracts.csv").to_str().unwrap(), "--by", "demo"]);
    let md = env.dir.join("demo-maildir");
    for sub in ["new", "cur", "tmp"] {
        fs::create_dir_all(md.join(sub)).unwrap();
        for f in fs::read_dir(fixtures.join("demo-maildir").join(sub)).unwrap() {
            let f = f.unwrap();
            fs::copy(f.path(), md.join(sub).join(f.file_name())).unwrap();
        }
    }
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!(code, 0);
    let decisions: Vec<&str> = v.iter().map(|l| l["decision"].as_str().unwrap()).collect();
    assert_eq!(decisions, ["issued", "held", "rejected"]);
    assert_eq!(codes(&v[1]), ["sender_unauthenticated"]);
    assert_eq!(codes(&v[2]), ["signing_date_mismatch", "nodes_exceed_contract", "version_mismatch"]);
    assert_eq!(outbox(&env).len(), 2);
}

/// `fanlic watch`: mail delivered into new/ while it runs is decided within an
/// interval, moved to cur/, and printed as a JSON line; a killed watcher
/// leaves everything it decided committed.
/// The lines a child prints on standard output, as they come.
fn stdout_lines(stdout: std::process::ChildStdout) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn watch_decides_mail_as_it_arrives() {
    let env = setup();
    let maildir = env.dir.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let deliver = |name: &str, text: &str| {
        // As an MTA does: write in tmp/, then rename into new/.
        let tmp = maildir.join("tmp").join(name);
        fs::write(&tmp, text).unwrap();
        fs::rename(&tmp, maildir.join("new").join(name)).unwrap();
    };
    deliver("1795000001.1_0.mx", &clean("watch-1@customer.example"));

    let mut child = fanlic_cmd()
        .args(["watch", maildir.to_str().unwrap(), "--interval", "1", "--json"])
        .env("FANLIC_HOME", &env.home)
        .envs(env.database_env())
        .current_dir(&env.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = stdout_lines(child.stdout.take().unwrap());
    let next = || -> Value {
        let line = rx.recv_timeout(core::time::Duration::from_secs(30)).expect("watch printed no decision in 30 s");
        serde_json::from_str(&line).unwrap()
    };
    let first = next();
    assert_eq!(first["decision"], "issued", "{first}");
    assert_eq!(first["message_id"], "watch-1@customer.example");

    // Mail that arrives while it runs.
    deliver("1795000002.2_0.mx", &bad("watch-2@customer.example"));
    let second = next();
    assert_eq!(second["decision"], "rejected", "{second}");
    assert_eq!(codes(&second), ["signing_date_mismatch", "nodes_exceed_contract", "version_mismatch"]);

    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(fs::read_dir(maildir.join("new")).unwrap().count(), 0, "decided mail left in new/");
    let mut cur: Vec<String> =
        fs::read_dir(maildir.join("cur")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    cur.sort();
    assert_eq!(cur, ["1795000001.1_0.mx:2,S", "1795000002.2_0.mx:2,S"]);
    // Both decisions are committed: ingesting the same mails again finds duplicates.
    let (again, code) = ingest_json(&env, &[&maildir.join("cur").join("1795000001.1_0.mx:2,S")]);
    assert_eq!(code, 0);
    assert_eq!(again[0]["decision"], "duplicate");
}

#[test]
fn watch_reports_a_skipped_entry_once_not_at_every_look() {
    use std::os::unix::fs::symlink;
    let env = setup();
    let md = maildir(&env);
    symlink("/etc/passwd", md.join("new/1795000000.0_0.link")).unwrap();
    fs::write(md.join("new/1795000001.1_0.mx"), clean("watch-skip-1@customer.example")).unwrap();
    let mut child = fanlic_cmd()
        .args(["watch", md.to_str().unwrap(), "--interval", "1", "--json"])
        .env("FANLIC_HOME", &env.home)
        .envs(env.database_env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stdout_lines(child.stdout.take().unwrap());
    let next = || -> Value {
        let line = rx.recv_timeout(core::time::Duration::from_secs(30)).expect("watch printed nothing in 30 s");
        serde_json::from_str(&line).unwrap()
    };
    let first = next();
    assert_eq!((first["decision"].as_str(), first["reason"].as_str()), (Some("skipped"), Some("symlink")));
    assert_eq!(next()["decision"], "issued");
    // Several looks later, a new mail: the link is not reported again.
    std::thread::sleep(core::time::Duration::from_millis(2500));
    fs::write(md.join("new/1795000002.2_0.mx"), bad("watch-skip-2@customer.example")).unwrap();
    assert_eq!(next()["decision"], "rejected");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("skipped, left in place").count(), 1, "{stderr}");
    assert!(fs::symlink_metadata(md.join("new/1795000000.0_0.link")).unwrap().file_type().is_symlink());
}

#[test]
fn watch_refuses_what_is_not_a_maildir() {
    let env = setup();
    let file = write(&env, "one.eml", &clean("x@customer.example"));
    let out = fanlic(&env, &["watch", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Maildir"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A contract under the receipt policy gets licenses that say so and carry
/// the challenge key, never the activation key (SPEC.md §3.3).
#[test]
fn a_receipt_policy_contract_issues_receipt_policy_licenses() {
    let env = setup();
    ok(&env, &["contract", "update", "Customer Trading Co., Ltd.", "--activation-policy", "receipt", "--by", "staff"]);
    let file = write(&env, "req.eml", &clean("req-receipt@customer.example"));
    let (lines, code) = ingest_json(&env, &[&file]);
    assert_eq!((code, &lines[0]["decision"]), (0, &Value::from("issued")), "{lines:?}");
    let lid = lines[0]["license_id"].as_str().unwrap();
    let h = Home::open(&env.home).unwrap();
    let stored = h.stored_license(lid).unwrap().unwrap();
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let l = fanlic_verifier::authenticate(&stored.file_bytes, &mut buf, &h.root_keys().unwrap()).unwrap().license;
    assert_eq!(l.activation_policy, fanlic_formats::ActivationPolicy::Receipt);
    let key = h.activation_master().unwrap().unwrap().derive(&l.id);
    assert_eq!(l.activation_key, Some(fanlic_issuer::home::activation::challenge_key(&key).to_bytes()));
    assert_ne!(l.activation_key, Some(key.to_bytes()));
}

/// The decision rows of the home: (dedup_key, decision).
fn decision_rows(env: &Env) -> Vec<(String, String)> {
    if env.database.is_some() {
        let rows = query_texts(env, "SELECT dedup_key || ' ' || decision FROM decisions ORDER BY decision_id");
        return rows.iter().map(|r| r.rsplit_once(' ').map(|(k, d)| (k.to_owned(), d.to_owned())).unwrap()).collect();
    }
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    let mut stmt = conn.prepare("SELECT dedup_key, decision FROM decisions ORDER BY decision_id").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_license_temporary_left_by_a_killed_run_is_removed_by_the_next() {
    // Regression: a run killed while rewriting a license file left its
    // `.tmp` in issued/ for good (the crash test found one).
    let env = setup();
    let md = maildir(&env);
    let issued = env.home.join("issued");
    fs::create_dir_all(&issued).unwrap();
    // A pid no process has (above the kernel's limit), and this test's own.
    let dead = issued.join(".0123-Container.lic.4194999.tmp");
    let alive = issued.join(format!(".4567-Container.lic.{}.tmp", std::process::id()));
    fs::write(&dead, "half").unwrap();
    fs::write(&alive, "being written").unwrap();
    fs::write(md.join("new").join("1.M1.host"), clean("tmp-sweep@customer.example")).unwrap();
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!(code, 0, "{v:?}");
    assert!(!dead.exists(), "the dead run's temporary is removed");
    assert!(alive.exists(), "a live process's temporary is left");
}

#[test]
fn a_maildir_name_that_is_not_utf8_is_decided_once_and_moved() {
    // Regression: acknowledging needed a UTF-8 name, so such a message
    // stayed in new/, every run exited 1 and recorded it again.
    use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
    let env = setup();
    let md = maildir(&env);
    let name = std::ffi::OsString::from_vec(b"1763631005.M1P1.m\xe4il\xff".to_vec());
    fs::write(md.join("new").join(&name), clean("latin1-1@customer.example")).unwrap();
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!(code, 0, "{v:?}");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["decision"], "issued", "{}", v[0]);
    assert!(fs::read_dir(md.join("new")).unwrap().next().is_none());
    let cur: Vec<Vec<u8>> =
        fs::read_dir(md.join("cur")).unwrap().map(|e| e.unwrap().file_name().as_bytes().to_vec()).collect();
    assert_eq!(cur, [b"1763631005.M1P1.m\xe4il\xff:2,S".to_vec()]);
    // The next run finds nothing to do, and nothing is recorded again.
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!((v.len(), code), (0, 0));
    assert_eq!(decision_rows(&env).len(), 1);
    assert_eq!(query_texts(&env, "SELECT action FROM audit WHERE action = 'duplicate'").len(), 0);
}

#[test]
fn links_fifos_and_folders_in_new_are_skipped_with_a_warning_and_left() {
    use std::os::unix::fs::symlink;
    let env = setup();
    let md = maildir(&env);
    // A mail outside the Maildir: the link to it must never be read.
    let outside = write(&env, "outside.eml", &clean("outside-1@customer.example"));
    symlink(&outside, md.join("new/1.1_0.link")).unwrap();
    let st = Command::new("mkfifo").arg(md.join("new/2.2_0.fifo")).status().unwrap();
    assert!(st.success());
    fs::create_dir(md.join("new/3.3_0.dir")).unwrap();
    fs::write(md.join("new/4.4_0.host"), clean("real-1@customer.example")).unwrap();

    let out = fanlic(&env, &["ingest", "--json", md.to_str().unwrap()], None);
    // Warnings only: exit 0.
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got: Vec<(&str, &str)> =
        v.iter().map(|l| (l["decision"].as_str().unwrap(), l["reason"].as_str().unwrap_or(""))).collect();
    assert_eq!(got, [("skipped", "symlink"), ("skipped", "fifo"), ("skipped", "folder"), ("issued", "")]);
    assert_eq!(v[0]["source"], md.join("new/1.1_0.link").display().to_string());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in ["1.1_0.link", "2.2_0.fifo", "3.3_0.dir"] {
        assert!(stderr.contains(&format!("warning: {}: skipped", md.join("new").join(name).display())), "{stderr}");
    }
    assert!(!stderr.contains("error"), "{stderr}");
    // Left in place; the mail behind the link was never decided.
    assert!(fs::symlink_metadata(md.join("new/1.1_0.link")).unwrap().file_type().is_symlink());
    assert!(md.join("new/2.2_0.fifo").exists() && md.join("new/3.3_0.dir").is_dir());
    assert_eq!(decision_rows(&env).len(), 1);
    assert!(md.join("cur/4.4_0.host:2,S").is_file());
}

#[test]
fn two_runs_on_one_maildir_decide_each_message_once() {
    // Regression: a run that found a message decided by the other wrote the
    // license file first, and the issuing run then failed with "license
    // file already exists", left the message in new/ and exited 1.
    const MESSAGES: usize = 512;
    const ROUNDS: usize = 4;
    let env = setup();
    let md = maildir(&env);
    let mut duplicates = 0;
    let mut issued = std::collections::HashMap::<String, usize>::new();
    // Rounds of fresh mail: each is a new race between two runs started together.
    for round in 0..ROUNDS {
        for i in 0..MESSAGES {
            let id = format!("race-{round}-{i}");
            let text = mail(Some(PASS), &format!("{id}@customer.example"), &body_for(&id));
            fs::write(md.join(format!("new/{round}{i:04}.R{i}_0.host")), text).unwrap();
        }
        let spawn = || {
            fanlic_cmd()
                .args(["ingest", "--json", md.to_str().unwrap()])
                .env("FANLIC_HOME", &env.home)
                .envs(env.database_env())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        for out in &outs {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{stderr}");
            assert!(stderr.trim().is_empty(), "{stderr}");
            for line in String::from_utf8(out.stdout.clone()).unwrap().lines() {
                let v: Value = serde_json::from_str(line).unwrap();
                let mid = v["message_id"].as_str().unwrap().to_owned();
                match v["decision"].as_str().unwrap() {
                    "issued" => *issued.entry(mid).or_default() += 1,
                    "duplicate" => duplicates += 1,
                    other => panic!("{other}: {v}"),
                }
            }
        }
        // Every message in cur/.
        assert!(fs::read_dir(md.join("new")).unwrap().next().is_none());
        assert_eq!(fs::read_dir(md.join("cur")).unwrap().count(), MESSAGES * (round + 1));
    }
    // Every message issued exactly once; whatever else was seen, a duplicate.
    let all = MESSAGES * ROUNDS;
    assert_eq!(issued.len(), all);
    assert!(issued.values().all(|&n| n == 1), "{issued:?}");
    let rows = decision_rows(&env);
    assert_eq!(rows.len(), all);
    let keys: std::collections::HashSet<&String> = rows.iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), all);
    assert_eq!(
        query_texts(&env, "SELECT action FROM audit WHERE action = 'duplicate'").len(),
        duplicates,
        "each duplicate reported is recorded as one"
    );
    // Every license file whole, as the database holds it.
    let stored = query_texts(
        &env,
        "SELECT l.license_id || ' ' || l.armored FROM decisions d JOIN licenses l USING (license_id)",
    );
    assert_eq!(stored.len(), all);
    assert_eq!(query_texts(&env, "SELECT license_id FROM licenses").len(), all);
    for row in stored {
        let (lid, armored) = row.split_once(' ').unwrap();
        let file = env.home.join("issued").join(format!("{lid}-Container.lic"));
        assert_eq!(fs::read_to_string(&file).unwrap(), armored);
    }
    // No temporary file left behind.
    let names: Vec<String> =
        fs::read_dir(env.home.join("issued")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(names.iter().all(|n| n.ends_with("-Container.lic")), "{names:?}");
}

#[test]
fn a_path_that_is_not_a_source_is_a_usage_error() {
    let env = setup();
    let real = write(&env, "real.eml", &clean("usage-1@customer.example"));
    for args in [vec!["ingest", "/nonexistent"], vec!["ingest", real.to_str().unwrap(), "/nonexistent"]] {
        let out = fanlic(&env, &args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("/nonexistent: no such file or folder"), "{stderr}");
        assert!(stderr.contains("give a .eml file, a folder of mail, a Maildir"), "{stderr}");
    }
    // Nothing was decided, not even the good path given with it.
    assert!(decision_rows(&env).is_empty());
    // As --help says.
    let help = ok(&env, &["ingest", "--help"]);
    assert!(help.contains("2 usage error: a PATH that does not exist, cannot be read"), "{help}");
}

#[test]
fn folder_files_not_named_eml_are_read_if_mail_else_reported() {
    let env = setup();
    let folder = env.dir.join("exports");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("request.txt"), clean("txt-1@customer.example")).unwrap();
    fs::write(folder.join("1763631005"), mail(Some(PASS), "noext-1@customer.example", &body_for("noext"))).unwrap();
    fs::write(folder.join("notes.txt"), "Please handle these by Friday.\n").unwrap();
    fs::write(folder.join(".keep"), "").unwrap();
    let out = fanlic(&env, &["ingest", "--json", folder.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let v: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got: Vec<(String, &str)> = v
        .iter()
        .map(|l| {
            let name = Path::new(l["source"].as_str().unwrap()).file_name().unwrap().to_str().unwrap().to_owned();
            (name, l["decision"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        got,
        [
            ("1763631005".to_owned(), "issued"),
            ("notes.txt".to_owned(), "skipped"),
            ("request.txt".to_owned(), "issued")
        ]
    );
    assert_eq!(v[1]["reason"], "not_mail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("notes.txt: skipped, left in place: not named *.eml"), "{stderr}");
    assert!(!stderr.contains(".keep"), "{stderr}");
}

/// (decision, raw_kept, length(raw), raw_size) of every decision.
fn raw_rows(env: &Env) -> Vec<(String, String, i64, i64)> {
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    let mut stmt =
        conn.prepare("SELECT decision, raw_kept, length(raw), raw_size FROM decisions ORDER BY decision_id").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn rejected_junk_keeps_its_first_64_kib_and_prune_removes_decided_copies() {
    let env = setup();
    let md = maildir(&env);
    // 300 KB of junk after a rejected request; an issued one; a held one
    // (no trusted authentication); an auto-reply of 100 KB (ignored).
    let mut junk = bad("bound-1@customer.example");
    junk.push_str(&"junk line of a very long mail\r\n".repeat(10_000));
    fs::write(md.join("new/1.1_0.host"), &junk).unwrap();
    let issued = mail(Some(PASS), "bound-2@customer.example", &body_for("bound-2"));
    fs::write(md.join("new/2.2_0.host"), &issued).unwrap();
    let held = mail(None, "bound-3@customer.example", &body_for("bound-3"));
    fs::write(md.join("new/3.3_0.host"), &held).unwrap();
    let auto = format!(
        "Auto-Submitted: auto-replied\r\n{}",
        mail(Some(PASS), "bound-4@customer.example", &"I am out of the office.\n".repeat(4_000))
    );
    fs::write(md.join("new/4.4_0.host"), &auto).unwrap();
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!(code, 0, "{v:?}");
    let kib64 = 64 * 1024;
    assert_eq!(
        raw_rows(&env),
        [
            ("rejected".to_owned(), "truncated".to_owned(), kib64, junk.len() as i64),
            ("issued".to_owned(), "whole".to_owned(), issued.len() as i64, issued.len() as i64),
            ("held".to_owned(), "whole".to_owned(), held.len() as i64, held.len() as i64),
            ("ignored".to_owned(), "truncated".to_owned(), kib64, auto.len() as i64),
        ]
    );
    // The digest is of the whole message.
    let sha = query_texts(&env, "SELECT raw_sha256 FROM decisions WHERE decision_id = 1");
    assert_eq!(
        sha,
        [fanlic_issuer::util::hex::encode(ring::digest::digest(&ring::digest::SHA256, junk.as_bytes()).as_ref())]
    );
    // What staff see of a cut copy.
    let row = fanlic_issuer::ingest::decision(&mut Home::open(&env.home).unwrap(), 1).unwrap().unwrap();
    assert!(row.human().contains(&format!("only the first 65536 of its {} bytes are kept", junk.len())));
    assert_eq!(row.to_json()["raw"]["kept"], "truncated");

    // A dry run changes nothing.
    let dry: Value =
        serde_json::from_str(&ok(&env, &["prune", "--before", "2999-01-01", "--dry-run", "--json"])).unwrap();
    assert_eq!((dry["rows"].as_u64(), dry["held_kept"].as_u64()), (Some(3), Some(1)));
    let freed = 2 * kib64 as u64 + issued.len() as u64;
    assert_eq!(dry["bytes"].as_u64(), Some(freed));
    assert_eq!(raw_rows(&env)[0].1, "truncated");
    // Nothing decided before 2000: nothing to prune.
    let none: Value = serde_json::from_str(&ok(&env, &["prune", "--before", "2000-01-01", "--json"])).unwrap();
    assert_eq!(none["rows"].as_u64(), Some(0));

    let text = ok(&env, &["prune", "--before", "2999-01-01", "--by", "alice"]);
    assert!(text.contains("removed the raw copies of 3 decision(s) made before 2999-01-01"), "{text}");
    assert!(text.contains(&format!("{freed} bytes")), "{text}");
    assert!(text.contains("kept 1 decision(s) still held"), "{text}");
    let rows = raw_rows(&env);
    assert_eq!(
        rows.iter().map(|r| (r.1.as_str(), r.2)).collect::<Vec<_>>(),
        [("pruned", 0), ("pruned", 0), ("whole", held.len() as i64), ("pruned", 0)]
    );
    // Decision and audit rows stay; one audit entry says what was pruned.
    assert_eq!(decision_rows(&env).len(), 4);
    let audit: Value = serde_json::from_str(&ok(&env, &["audit", "--action", "prune", "--json"])).unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit[0]["by"], "alice");
    assert!(audit[0]["why"].as_str().unwrap().contains("3 decision(s)"), "{audit}");
    assert_eq!(query_texts(&env, "SELECT action FROM audit WHERE decision_id = 2"), ["issued"]);
    // Review (the held one, whole) and a pruned decision still show.
    let review: Value = serde_json::from_str(&ok(&env, &["review", "--json"])).unwrap();
    assert_eq!(review[0]["raw"]["kept"], "whole");
    assert!(review[0]["text"].as_str().unwrap().contains("bound-3"));
    let row = fanlic_issuer::ingest::decision(&mut Home::open(&env.home).unwrap(), 2).unwrap().unwrap();
    assert!(row.human().contains(&format!("its raw copy ({} bytes) was removed by `fanlic prune`", issued.len())));
    assert_eq!(row.to_json()["raw"]["kept"], "pruned");
    // The same message delivered again is still a duplicate of its decision.
    fs::rename(md.join("cur/2.2_0.host:2,S"), md.join("new/2.2_0.host")).unwrap();
    let (v, code) = ingest_json(&env, &[&md]);
    assert_eq!((v[0]["decision"].as_str(), code), (Some("duplicate"), 0));
    // Pruning again frees nothing more.
    let again: Value = serde_json::from_str(&ok(&env, &["prune", "--before", "2999-01-01", "--json"])).unwrap();
    assert_eq!(again["rows"].as_u64(), Some(0));
    // A bad date is a usage error.
    assert_eq!(fanlic(&env, &["prune", "--before", "last tuesday"], None).status.code(), Some(2));
}

#[test]
fn migration_records_the_size_of_every_stored_message() {
    let env = setup();
    let text = clean("migrate-raw-1@customer.example");
    let (v, _) = ingest_json(&env, &[&write(&env, "m.eml", &text)]);
    assert_eq!(v[0]["decision"], "issued");
    {
        let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
        downgrade::to_version(&conn, 10);
    }
    // Opening the home migrates it: the message kept whole, its size recorded.
    Home::open(&env.home).unwrap();
    assert_eq!(raw_rows(&env), [("issued".to_owned(), "whole".to_owned(), text.len() as i64, text.len() as i64)]);
}
