//! Private cloud by mail with real components (the `fanlic` binary, a real
//! Maildir, the home's SQLite, a real SMTP server): a registration answered
//! with `fanruan_license_server.tar`, a server migration with its
//! `privateConfig` (the old server destroyed, the new one registered with its
//! state attached), a destroy request, and
//! every refusal. The server binary in the images is a small static ELF made
//! here (`FANLIC_LICENSE_SERVER_BINARY`), padded to the size of the real one.

use std::{
    fs,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::{Output, Stdio},
};

use crate::common::{
    AUTHSERV, BIN, BODY, CONTRACT_ADDR, Env, PASS, SUBJECT, fanlic_cmd, private_config, query_texts, replace_line,
    smtp::{SmtpServer, free_port},
};
use base64::Engine as _;
use fanlic_formats::{Envelope, License, LicenseKind};
use fanlic_issuer::Home;
use mail_parser::MimeHeaders as _;
use serde_json::Value;

/// The other company's contract (for foreign `privateConfig` files).
const OTHER_ADDR: &str = "bob@other.example";
const OTHER_PASS: &str = "mx.vendor.example; dkim=pass header.d=other.example";

struct Pc {
    env: Env,
    /// The server binary `fanlic` is pointed at (may not exist).
    server: PathBuf,
}

/// A home trusting [`AUTHSERV`], with two contracts allowing private cloud
/// (Customer Trading Co., Ltd. at [`CONTRACT_ADDR`]; Other Corp. at
/// [`OTHER_ADDR`]) and a 5 MB static server binary.
fn setup() -> Pc {
    let env = Env::temp();
    let server = env.dir.join("fanruan-license-server");
    fs::write(&server, crate::common::static_elf(5 << 20)).unwrap();
    let pc = Pc { env, server };
    pc.ok(&["init", "--authserv-id", AUTHSERV]);
    for (company, email) in [("Customer Trading Co., Ltd.", "Alice@Customer.example"), ("Other Corp.", OTHER_ADDR)] {
        pc.ok(&[
            "contract",
            "add",
            "--company",
            company,
            "--email",
            email,
            "--signed",
            "2026/11/20",
            "--product",
            "FineReport",
            "--methods",
            "local-container,private-cloud",
            "--max-nodes",
            "3",
            "--version",
            "11.0",
            "--expires",
            "2099-12-31",
            "--max-licenses",
            "10",
        ]);
    }
    pc
}

impl Pc {
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = fanlic_cmd();
        cmd.args(args)
            .env("FANLIC_HOME", &self.env.home)
            .envs(self.env.database_env())
            .env("USER", "tester")
            .env("FANLIC_LICENSE_SERVER_BINARY", &self.server)
            .current_dir(&self.env.dir);
        for var in
            ["FANLIC_SMTP_HOST", "FANLIC_SMTP_PORT", "FANLIC_SMTP_TLS", "FANLIC_SMTP_USER", "FANLIC_SMTP_PASSWORD"]
        {
            cmd.env_remove(var);
        }
        cmd.stdin(Stdio::null()).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Delivers `text` into a fresh Maildir's `new/` and ingests it: the JSON line.
    fn ingest(&self, name: &str, text: &str) -> Value {
        let md = self.env.dir.join(format!("Maildir-{name}"));
        for sub in ["new", "cur", "tmp"] {
            fs::create_dir_all(md.join(sub)).unwrap();
        }
        fs::write(md.join("new").join(format!("{name}.eml")), text).unwrap();
        self.ingest_dir(&md)
    }

    fn ingest_dir(&self, md: &Path) -> Value {
        let out = self.run(&["ingest", "--json", md.to_str().unwrap()]);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 1, "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        lines.into_iter().next().unwrap()
    }

    fn outbox(&self) -> Vec<Value> {
        serde_json::from_str::<Value>(&self.ok(&["outbox", "list", "--all", "--json"]))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    fn license(&self, id: &str) -> (LicenseKind, String, String, u32, String, Option<String>) {
        let stored = Home::open(&self.env.home).unwrap().stored_license(id).unwrap().unwrap();
        let e = Envelope::decode(&stored.file_bytes).unwrap();
        let l = License::decode(e.license.message).unwrap();
        (
            l.kind,
            l.company.to_owned(),
            l.project.to_owned(),
            l.max_nodes,
            format!("{} {} {}", l.app_name, l.version, l.expiry),
            l.supersedes.map(|s| s.to_string()),
        )
    }
}

/// A mail from `from` (authenticated by `auth`), with `attachment` `(name, bytes)` if any.
fn mail(from: &str, auth: &str, id: &str, subject: &str, body: &str, attachment: Option<(&str, &[u8])>) -> String {
    let mut s = format!(
        "Authentication-Results: {auth}\r\n\
         Received: from mail.customer.example by mx.vendor.example; Fri, 20 Nov 2026 09:30:05 +0800\r\n\
         From: {from}\r\nTo: license@vendor.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\n"
    );
    let text = body.replace('\n', "\r\n");
    match attachment {
        None => s.push_str(&format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{text}")),
        Some((name, bytes)) => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            let lines: Vec<&str> =
                b64.as_bytes().chunks(76).map(|c| core::str::from_utf8(c).unwrap()).collect::<Vec<_>>();
            s.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n--b1\r\n\
                 Content-Type: application/octet-stream\r\n\
                 Content-Disposition: attachment; filename=\"{name}\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
                lines.join("\r\n")
            ));
        }
    }
    s
}

fn private_cloud_body() -> String {
    let b = replace_line(BODY, "Registration method: Local container", "Registration method: Private cloud");
    replace_line(&b, "JAR package version: 2023.12.14 (Build#persist-2023.12.14.10.22.33.88)", "")
}

fn register(pc: &Pc, id: &str) -> String {
    let v = pc.ingest(id, &mail(CONTRACT_ADDR, PASS, id, SUBJECT, &private_cloud_body(), None));
    assert_eq!(v["decision"], "issued", "{v}");
    v["license_id"].as_str().unwrap().to_owned()
}

fn register_other(pc: &Pc) -> String {
    let body =
        replace_line(&private_cloud_body(), "Company name: Customer Trading Co., Ltd.", "Company name: Other Corp.");
    let subject = SUBJECT.replace("Customer Trading Co., Ltd.", "Other Corp.");
    let v = pc.ingest("other", &mail(OTHER_ADDR, OTHER_PASS, "other@other.example", &subject, &body, None));
    assert_eq!(v["decision"], "issued", "{v}");
    v["license_id"].as_str().unwrap().to_owned()
}

const MIGRATE_SUBJECT: &str = "Customer Trading Co., Ltd.: migrate the FineReport authorization server";
const MIGRATE_BODY: &str = "Hello,\n\nWe move the authorization server https://192.168.101.46:18081/ to a new host.\n\
    The privateConfig of the old one is attached.\n\nCompany name: Customer Trading Co., Ltd.\n\nThank you.\n";

fn migration(pc: &Pc, id: &str, config: Option<&[u8]>) -> Value {
    let text = mail(CONTRACT_ADDR, PASS, id, MIGRATE_SUBJECT, MIGRATE_BODY, config.map(|c| ("privateConfig", c)));
    pc.ingest(id, &text)
}

fn codes(v: &Value) -> Vec<String> {
    v["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect()
}

fn revoked(pc: &Pc) -> Vec<String> {
    query_texts(&pc.env, "SELECT license_id || ' ' || reason FROM revoked_licenses ORDER BY revoked_at, license_id")
}

/// The attachments of a rendered reply: `(file name, bytes)`.
fn attachments(eml: &[u8]) -> Vec<(String, Vec<u8>)> {
    let m = mail_parser::MessageParser::default().parse(eml).unwrap();
    m.attachments().map(|a| (a.attachment_name().unwrap_or_default().to_owned(), a.contents().to_vec())).collect()
}

#[test]
fn private_cloud_registration_is_issued_with_its_image_attached_and_sent_over_smtp() {
    let pc = setup();
    let v = pc.ingest("reg", &mail(CONTRACT_ADDR, PASS, "reg@customer.example", SUBJECT, &private_cloud_body(), None));
    assert_eq!(v["decision"], "issued", "{v}");
    let lid = v["license_id"].as_str().unwrap().to_owned();
    let (kind, company, project, nodes, terms, supersedes) = pc.license(&lid);
    assert_eq!(kind, LicenseKind::PrivateCloud);
    assert_eq!((company.as_str(), project.as_str(), nodes), ("Customer Trading Co., Ltd.", "webroot", 3));
    assert_eq!(terms, "FineReport 11.0 2099-12-31");
    assert_eq!(supersedes, None);
    // The tar, 0600, in HOME/issued/, among the files.
    let tar = pc.env.home.canonicalize().unwrap().join("issued").join(format!("{lid}-fanruan_license_server.tar"));
    let files: Vec<&str> = v["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(files.contains(&tar.to_str().unwrap()), "{v}");
    assert_eq!(fs::metadata(&tar).unwrap().permissions().mode() & 0o777, 0o600);
    let tar_bytes = fs::read(&tar).unwrap();
    assert!(tar_bytes.len() > 5 << 20);

    // `fanlic verify` takes the tar: the image holds the new license, valid.
    let out = pc.run(&[
        "verify",
        tar.to_str().unwrap(),
        "--app",
        "FineReport",
        "--version",
        "11.0.20",
        "--project",
        "webroot",
        "--json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{report}");
    assert!(report.to_string().contains(&lid), "{report}");

    // One reply, to the contract's address, with the tar attached.
    let replies = pc.outbox();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["to"], CONTRACT_ADDR);

    // Sent over SMTP to a real server, the 5 MB attachment arrives whole.
    let port = free_port();
    let received = pc.env.dir.join("received");
    let _server = SmtpServer::start(port, &received);
    pc.ok(&["outbox", "flush", "--smtp-host", "127.0.0.1", "--smtp-port", &port.to_string(), "--smtp-tls", "none"]);
    let got: Vec<PathBuf> = fs::read_dir(received.join("new")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(got.len(), 1);
    let att = attachments(&fs::read(&got[0]).unwrap());
    assert_eq!(att.len(), 1);
    assert_eq!(att[0].0, "fanruan_license_server.tar");
    assert!(att[0].1 == tar_bytes, "the tar received differs from the one issued");
    assert_eq!(pc.outbox()[0]["status"], "sent");
    // The reply says what was licensed and how to deploy and activate it.
    let raw = fs::read(&got[0]).unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let said = m.body_text(0).unwrap().replace("\r\n", "\n");
    for want in [
        "Project:             webroot\n",
        "Registration method: Private cloud\n",
        &format!("License id:          {lid}\n"),
        "port 18081 published",
        "https://<address>:<port>/license/qrcode",
        "set the authentication method to Private Cloud",
    ] {
        assert!(said.contains(want), "{want:?} not in {said}");
    }
}

#[test]
fn without_the_server_binary_private_cloud_is_held_with_the_build_hint() {
    let mut pc = setup();
    pc.server = pc.env.dir.join("no-such-binary");
    let v = pc.ingest("reg", &mail(CONTRACT_ADDR, PASS, "reg@customer.example", SUBJECT, &private_cloud_body(), None));
    assert_eq!(v["decision"], "held", "{v}");
    assert_eq!(codes(&v), ["image_builder_unavailable"]);
    let msg = v["reasons"][0]["message"].as_str().unwrap();
    assert!(msg.contains("cargo build --release -p fanlic-license-server"), "{msg}");
    assert!(msg.contains("FANLIC_LICENSE_SERVER_BINARY"), "{msg}");
    assert_eq!(Home::open(&pc.env.home).unwrap().license_count().unwrap(), 0);
    assert!(pc.outbox().is_empty());

    // A dynamic binary is no better: it could not start in the image.
    pc.server = PathBuf::from(BIN);
    // Another project: a resend of the same request would join the held one.
    let body2 = private_cloud_body().replace("Project name: webroot", "Project name: webroot-2");
    let v = pc.ingest("reg2", &mail(CONTRACT_ADDR, PASS, "reg2@customer.example", SUBJECT, &body2, None));
    assert_eq!(codes(&v), ["image_builder_unavailable"]);
    assert!(v["reasons"][0]["message"].as_str().unwrap().contains("dynamically linked"), "{v}");

    // Regression: once the binary is built, staff approve the held request
    // and the reply carries the image (not a bare Container.lic).
    let id = v["decision_id"].as_i64().unwrap().to_string();
    pc.server = pc.env.dir.join("no-such-binary");
    let refused = pc.run(&["approve", &id]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("image_builder_unavailable"), "{refused:?}");
    assert_eq!(Home::open(&pc.env.home).unwrap().license_count().unwrap(), 0, "nothing signed without a binary");
    pc.server = pc.env.dir.join("fanruan-license-server");
    let approved: Value = serde_json::from_str(&pc.ok(&["approve", &id, "--json"])).unwrap();
    assert_eq!(approved["decision"], "issued", "{approved}");
    let lid = approved["license_id"].as_str().unwrap();
    assert!(approved["files"].to_string().contains("fanruan_license_server.tar"), "{approved}");
    let replies = pc.outbox();
    assert_eq!(replies.len(), 1, "{replies:?}");
    let db = rusqlite::Connection::open(pc.env.home.join("fanlic.db")).unwrap();
    let att: Vec<(String, Vec<u8>)> = db
        .prepare("SELECT file_name, bytes FROM outbox_attachments WHERE outbox_id = ?1")
        .unwrap()
        .query_map([replies[0]["id"].as_i64().unwrap()], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(att.len(), 1, "one attachment, the image");
    assert_eq!(att[0].0, "fanruan_license_server.tar");
    assert!(att[0].1.windows(lid.len()).any(|w| w == lid.as_bytes()), "the image is tagged with the new license");
}

#[test]
fn migration_revokes_the_old_license_and_sends_a_new_image_exactly_once() {
    let pc = setup();
    let old = register(&pc, "reg@customer.example");
    let config = private_config::private_config(&pc.env.home, &old);

    let md = pc.env.dir.join("Maildir-migrate");
    for sub in ["new", "cur", "tmp"] {
        fs::create_dir_all(md.join(sub)).unwrap();
    }
    let text = mail(
        CONTRACT_ADDR,
        PASS,
        "mig@customer.example",
        MIGRATE_SUBJECT,
        MIGRATE_BODY,
        Some(("privateConfig", &config)),
    );
    fs::write(md.join("new").join("mig.eml"), &text).unwrap();
    let v = pc.ingest_dir(&md);
    assert_eq!(v["decision"], "issued", "{v}");
    let new = v["license_id"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    // Same terms, a new server identity, superseding the old license.
    let (o, n) = (pc.license(&old), pc.license(&new));
    assert_eq!((n.0, &n.1, &n.2, n.3, &n.4), (o.0, &o.1, &o.2, o.3, &o.4));
    assert_eq!(n.5.as_deref(), Some(old.as_str()));
    // The old one revoked, audited as `fanlic revoke` does.
    assert_eq!(revoked(&pc), [format!("{old} migrated to {new}")]);
    let audit = query_texts(
        &pc.env,
        "SELECT action || ' ' || license_id || ' ' || why || ' ' || by FROM audit WHERE license_id IS NOT NULL AND decision_id IS NULL AND action <> 'issue'",
    );
    assert_eq!(
        audit,
        [
            format!("revoke {old} migrated to {new} fanlic ingest"),
            format!("supersede {old} superseded by {new} fanlic ingest")
        ]
    );
    let state = |id: &str| query_texts(&pc.env, &format!("SELECT state FROM licenses WHERE license_id = '{id}'"));
    assert_eq!((state(&old), state(&new)), (vec!["superseded".to_owned()], vec!["live".to_owned()]));
    // The reply carries the new image and says the old server stops.
    let replies = pc.outbox();
    assert_eq!(replies.len(), 2, "{replies:?}");
    pc.ok(&["outbox", "flush"]);
    let emls: Vec<PathBuf> = fs::read_dir(pc.env.home.join("outbox")).unwrap().map(|e| e.unwrap().path()).collect();
    let reply = emls
        .iter()
        .map(|p| fs::read(p).unwrap())
        .find(|b| String::from_utf8_lossy(b).contains("Re: Customer Trading Co., Ltd.: migrate"))
        .expect("the migration reply");
    let m = mail_parser::MessageParser::default().parse(&reply).unwrap();
    let said = m.body_text(0).unwrap().into_owned();
    assert!(said.contains(&old) && said.contains("can no longer be activated"), "{said}");
    let att = attachments(&reply);
    let tar = fs::read(pc.env.home.join("issued").join(format!("{new}-fanruan_license_server.tar"))).unwrap();
    assert!(att.len() == 1 && att[0].1 == tar);
    assert!(md.join("new").read_dir().unwrap().next().is_none(), "the mail is acknowledged");

    // The same mail again (not acknowledged after a crash, say): nothing new.
    fs::write(md.join("new").join("mig-again.eml"), &text).unwrap();
    let again = pc.ingest_dir(&md);
    assert_eq!(again["decision"], "duplicate");
    assert_eq!(Home::open(&pc.env.home).unwrap().license_count().unwrap(), 2);
    assert_eq!(pc.outbox().len(), 2);
    assert_eq!(revoked(&pc).len(), 1);

    // Another mail with the same privateConfig: the license is gone already.
    let v = migration(&pc, "mig-2@customer.example", Some(&config));
    assert_eq!(v["decision"], "rejected", "{v}");
    assert_eq!(codes(&v), ["license_already_revoked"]);
    assert!(v["reasons"][0]["message"].as_str().unwrap().contains(&new));
    assert_eq!(Home::open(&pc.env.home).unwrap().license_count().unwrap(), 2);
}

/// A private-cloud registration sent again gets the same license, and its
/// image again, not a second server license.
#[test]
fn a_resent_private_cloud_request_gets_the_same_image_again() {
    let pc = setup();
    let lid = register(&pc, "reg@customer.example");
    let tar = fs::read(pc.env.home.join("issued").join(format!("{lid}-fanruan_license_server.tar"))).unwrap();
    let v = pc
        .ingest("resend", &mail(CONTRACT_ADDR, PASS, "resend@customer.example", SUBJECT, &private_cloud_body(), None));
    assert_eq!((v["decision"].as_str(), v["license_id"].as_str()), (Some("resent"), Some(lid.as_str())), "{v}");
    assert_eq!(Home::open(&pc.env.home).unwrap().license_count().unwrap(), 1);
    let replies = pc.outbox();
    assert_eq!(replies.len(), 2, "{replies:?}");
    let db = rusqlite::Connection::open(pc.env.home.join("fanlic.db")).unwrap();
    let att: Vec<u8> = db
        .query_row(
            "SELECT bytes FROM outbox_attachments WHERE outbox_id = ?1",
            [replies[1]["id"].as_i64().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(att == tar, "the resent reply carries the same image, byte for byte");
    // Within a day, once more: recorded, not answered.
    let v = pc.ingest(
        "resend-2",
        &mail(CONTRACT_ADDR, PASS, "resend-2@customer.example", SUBJECT, &private_cloud_body(), None),
    );
    assert_eq!(codes(&v), ["resend_limited"]);
    assert_eq!(pc.outbox().len(), 2);
}

/// Regression: a crash after the license committed but before its image and
/// reply were made must not lose them; the next run (a duplicate) makes them.
#[test]
fn image_and_reply_lost_in_a_crash_are_made_by_the_next_run() {
    let pc = setup();
    let text = mail(CONTRACT_ADDR, PASS, "reg@customer.example", SUBJECT, &private_cloud_body(), None);
    let v = pc.ingest("reg", &text);
    let lid = v["license_id"].as_str().unwrap().to_owned();
    let tar = pc.env.home.join("issued").join(format!("{lid}-fanruan_license_server.tar"));
    let before = fs::read(&tar).unwrap();
    // The state a crash between the two transactions leaves.
    let conn = rusqlite::Connection::open(pc.env.home.join("fanlic.db")).unwrap();
    conn.execute_batch("UPDATE decisions SET outbox_id = NULL; DELETE FROM outbox_attachments; DELETE FROM outbox;")
        .unwrap();
    drop(conn);
    fs::remove_file(&tar).unwrap();

    let again = pc.ingest("reg-again", &text);
    assert_eq!(again["decision"], "duplicate", "{again}");
    assert_eq!(fs::read(&tar).unwrap(), before, "the image is built again, byte for byte");
    assert_eq!(pc.outbox().len(), 1);
    // Once: a third run queues nothing more.
    pc.ingest("reg-third", &text);
    assert_eq!(pc.outbox().len(), 1);
    assert_eq!(Home::open(&pc.env.home).unwrap().license_count().unwrap(), 1);
}

#[test]
fn bad_private_configs_are_refused_each_with_its_code() {
    let pc = setup();
    let ours = register(&pc, "reg@customer.example");
    let theirs = register_other(&pc);
    let good = private_config::private_config(&pc.env.home, &ours);

    // Tampered: a byte of the state's signature changed.
    let mut tampered = good.clone();
    let n = tampered.len();
    tampered[n - 10] ^= 1;
    let v = migration(&pc, "t@customer.example", Some(&tampered));
    assert_eq!((v["decision"].as_str(), codes(&v)), (Some("rejected"), vec!["private_config_invalid".to_owned()]));
    // Signed by another key than the license's image key.
    let forged = private_config::private_config_signed(&ed25519_dalek::SigningKey::from_bytes(&[9; 32]), &ours, 4);
    let v = migration(&pc, "f@customer.example", Some(&forged));
    assert_eq!(codes(&v), ["private_config_invalid"]);
    // Not a privateConfig at all.
    let v = migration(&pc, "g@customer.example", Some(b"hello"));
    assert_eq!(codes(&v), ["private_config_invalid"]);

    // Foreign: another company's server, held for staff.
    let foreign = private_config::private_config(&pc.env.home, &theirs);
    let v = migration(&pc, "x@customer.example", Some(&foreign));
    assert_eq!((v["decision"].as_str(), codes(&v)), (Some("held"), vec!["private_config_foreign".to_owned()]));

    // Missing: migrating words, no privateConfig.
    let v = migration(&pc, "m@customer.example", None);
    assert_eq!((v["decision"].as_str(), codes(&v)), (Some("rejected"), vec!["private_config_missing".to_owned()]));

    // Unknown license, and a local-container license.
    let unknown = "0123456789abcdef0123456789abcdef";
    let v = migration(&pc, "u@customer.example", Some(&private_config::private_config(&pc.env.home, unknown)));
    assert_eq!(codes(&v), ["private_config_unknown_license"]);
    let local = crate::common::issue_license(&clone_env(&pc.env), "Customer Trading Co., Ltd.", "lc");
    let v = migration(&pc, "l@customer.example", Some(&private_config::private_config(&pc.env.home, &local)));
    assert_eq!(codes(&v), ["private_config_not_private_cloud"]);

    // From an address outside the contract: refused before the file counts.
    let text = mail(
        "mallory@customer.example",
        PASS,
        "s@customer.example",
        MIGRATE_SUBJECT,
        MIGRATE_BODY,
        Some(("privateConfig", &good)),
    );
    let v = pc.ingest("s", &text);
    assert_eq!(v["decision"], "rejected", "{v}");
    assert!(codes(&v).contains(&"sender_not_in_contract".to_owned()), "{v}");

    // Nothing was revoked nor issued by any of them; every refusal is in both languages.
    assert!(revoked(&pc).is_empty());
    assert_eq!(Home::open(&pc.env.home).unwrap().license_count().unwrap(), 3);
}

/// The same home and folder as `env` (for a helper that takes an [`Env`]).
fn clone_env(env: &Env) -> Env {
    Env {
        _tmp: tempfile::tempdir().unwrap(),
        dir: env.dir.clone(),
        home: env.home.clone(),
        database: env.database.clone(),
    }
}

#[test]
fn destroy_request_with_private_config_revokes_and_confirms() {
    let pc = setup();
    let lid = register(&pc, "reg@customer.example");
    let subject = "Customer Trading Co., Ltd.: please destroy the old authorization component";
    let body =
        "Hello,\n\nPlease destroy the old authorization component at https://192.168.101.46:18081/.\n\nThanks.\n";

    // Without the privateConfig: held for staff, as any cancellation.
    let v = pc.ingest("d0", &mail(CONTRACT_ADDR, PASS, "d0@customer.example", subject, body, None));
    assert_eq!((v["decision"].as_str(), codes(&v)), (Some("held"), vec!["cancel_request".to_owned()]));
    assert!(revoked(&pc).is_empty());

    // With it: revoked, audited, and the revocation's confirmation queued.
    let config = private_config::private_config(&pc.env.home, &lid);
    let v = pc.ingest(
        "d1",
        &mail(CONTRACT_ADDR, PASS, "d1@customer.example", subject, body, Some(("privateConfig", &config))),
    );
    assert_eq!(v["decision"], "revoked", "{v}");
    assert_eq!(v["license_id"], lid.as_str());
    let r = revoked(&pc);
    assert_eq!(r.len(), 1);
    assert!(r[0].starts_with(&format!("{lid} destroyed at the customer's request")), "{r:?}");
    let confirmations: Vec<Value> =
        pc.outbox().into_iter().filter(|e| e["subject"].as_str().unwrap().contains("revoked")).collect();
    assert_eq!(confirmations.len(), 1, "{:?}", pc.outbox());
    assert_eq!(confirmations[0]["to"], CONTRACT_ADDR);
    // The decision trail says what happened.
    let audit: Value = serde_json::from_str(&pc.ok(&["audit", "--json"])).unwrap();
    assert!(audit.as_array().unwrap().iter().any(|a| a["action"] == "revoked"), "{audit}");

    // Then the new image (a migration's last step: the registration with the
    // privateConfig): issued, superseding the destroyed license, once.
    let reg = mail(
        CONTRACT_ADDR,
        PASS,
        "d2@customer.example",
        SUBJECT,
        &private_cloud_body(),
        Some(("privateConfig", &config)),
    );
    let v = pc.ingest("d2", &reg);
    assert_eq!(v["decision"], "issued", "{v}");
    let new = v["license_id"].as_str().unwrap().to_owned();
    assert_eq!(pc.license(&new).5.as_deref(), Some(lid.as_str()));
    assert_eq!(revoked(&pc).len(), 1);
    // Destroying again: already revoked.
    let v = pc.ingest(
        "d3",
        &mail(CONTRACT_ADDR, PASS, "d3@customer.example", subject, body, Some(("privateConfig", &config))),
    );
    assert_eq!(codes(&v), ["license_already_revoked"]);
}
