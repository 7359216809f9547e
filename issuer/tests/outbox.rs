//! The reply outbox with real components: a real SMTP server (aiosmtpd,
//! started here on a free port and writing a Maildir), lettre's blocking
//! client, and mail-parser reading back what arrived. CI installs aiosmtpd
//! (`python3 -m pip install aiosmtpd`); without it these tests FAIL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use core::time::Duration;
use std::{
    fs,
    net::{TcpListener, TcpStream},
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::Instant,
};

use fanlic_formats::Timestamp;
use fanlic_issuer::{
    Error, Home, InitOptions,
    contracts::{self, OPTION_NAMES, TermsText},
    outbox::{self, Language, OutboxTransport, Reply, SmtpConfig, SmtpTls},
};
use mail_parser::{MessageParser, MimeHeaders as _};

const NOW: Timestamp = Timestamp(1_795_000_000); // 2026-11-18
const CUSTOMER: &str = "it@customer.example.cn";
const REQUEST_ID: &str = "<req-1@customer.example.cn>";
const LICENSE: &[u8] = b"-----BEGIN FANLIC LICENSE-----\nAAEC\x00\xff binary-ish\n-----END FANLIC LICENSE-----\n";

fn home(dir: &Path) -> Home {
    let opts = InitOptions { authserv_ids: vec![], valid_for_days: None, now: NOW };
    let mut h = Home::init(&dir.join("home"), &opts).unwrap().0;
    let text = TermsText {
        company: "帆软 Customer Ltd",
        email: "IT@Customer.example.cn",
        signed: "2026/11/20",
        product: "FineReport",
        methods: "local-container",
        max_nodes: "2",
        version: "11.0",
        expires: "never",
    };
    contracts::add(&mut h, &text.parse(&OPTION_NAMES).unwrap(), "test", NOW).unwrap();
    h
}

fn reply(language: Language) -> Reply {
    Reply::license(
        CUSTOMER,
        "licenses@vendor.example",
        "License request 注册申请",
        Some(REQUEST_ID),
        &["<older@customer.example.cn>".to_owned()],
        language,
        "Container.lic",
        LICENSE.to_vec(),
    )
}

/// Enqueues in the caller's transaction, on a connection of the caller's own,
/// as ingest does with its decision and license.
fn enqueue_in_own_transaction(h: &Home, r: &Reply) -> i64 {
    let mut conn = rusqlite::Connection::open(h.db_path()).unwrap();
    let tx = conn.transaction().unwrap();
    let id = outbox::enqueue(&tx, r, NOW).unwrap();
    tx.commit().unwrap();
    id
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// aiosmtpd on 127.0.0.1:`port`, delivering into the Maildir `dir`; killed on drop.
struct SmtpServer(Child);

impl SmtpServer {
    fn start(port: u16, dir: &Path) -> Self {
        let check = Command::new("python3").args(["-c", "import aiosmtpd"]).status();
        assert!(
            matches!(check, Ok(s) if s.success()),
            "these tests need a real SMTP server: python3 with aiosmtpd. Install it with \
             `python3 -m pip install aiosmtpd` (CI's .ci/run does)"
        );
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start python3 -m aiosmtpd");
        let server = Self(child);
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(20), "aiosmtpd did not listen on port {port}");
            thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn maildir_messages(dir: &Path) -> Vec<Vec<u8>> {
    let new = dir.join("new");
    let mut files: Vec<PathBuf> = match fs::read_dir(&new) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files.iter().map(|p| fs::read(p).unwrap()).collect()
}

fn smtp(port: u16) -> OutboxTransport {
    let mut cfg = SmtpConfig::new("127.0.0.1");
    cfg.port = Some(port);
    cfg.tls = SmtpTls::None;
    cfg.timeout = Duration::from_secs(10);
    OutboxTransport::Smtp(cfg)
}

/// What every delivered reply must be: to the contract's address only,
/// threaded, `Re:`, with the license attached byte for byte.
fn check_reply(raw: &[u8], body_has: &str) {
    let m = MessageParser::default().parse(raw).expect("the reply parses");
    let to = m.to().expect("a To header");
    assert_eq!(to.first().unwrap().address(), Some(CUSTOMER));
    assert_eq!(to.iter().count(), 1);
    assert!(m.reply_to().is_none() && m.cc().is_none() && m.bcc().is_none());
    assert_eq!(m.in_reply_to().as_text(), Some("req-1@customer.example.cn"));
    let refs: Vec<&str> = match m.references() {
        mail_parser::HeaderValue::TextList(l) => l.iter().map(|s| s.as_ref()).collect(),
        mail_parser::HeaderValue::Text(t) => vec![t.as_ref()],
        other => panic!("References: {other:?}"),
    };
    assert_eq!(refs, ["older@customer.example.cn", "req-1@customer.example.cn"]);
    assert_eq!(m.subject(), Some("Re: License request 注册申请"));
    assert!(m.message_id().is_some_and(|id| id.ends_with("@vendor.example")));
    assert!(m.body_text(0).unwrap().contains(body_has), "body: {:?}", m.body_text(0));
    let a = m.attachment(0).expect("the license is attached");
    assert_eq!(a.attachment_name(), Some("Container.lic"));
    assert_eq!(a.contents(), LICENSE);
    assert!(m.attachment(1).is_none());
}

#[test]
fn files_mode_writes_private_eml() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = home(dir.path());
    let id = enqueue_in_own_transaction(&h, &reply(Language::Zh));
    assert_eq!(outbox::list(&mut h, false).unwrap()[0].status, "pending");

    let transport = OutboxTransport::default_files(&h);
    let report = outbox::flush(&mut h, &transport, NOW).unwrap();
    assert_eq!(report.sent.len(), 1, "{report:?}");
    let out = h.dir().join("outbox");
    let file = out.join(format!("{id}.eml"));
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&file), 0o600);
    check_reply(&fs::read(&file).unwrap(), "附件是您的授权文件");

    // Sent once: a second flush does nothing; `list` shows it only with --all.
    assert_eq!(outbox::flush(&mut h, &transport, NOW).unwrap(), outbox::FlushReport::default());
    assert!(outbox::list(&mut h, false).unwrap().is_empty());
    let all = outbox::list(&mut h, true).unwrap();
    assert_eq!(all[0].status, "sent");
    assert_eq!(all[0].sent_via.as_deref(), Some(file.to_str().unwrap()));
}

#[test]
fn only_to_a_contract_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = home(dir.path());
    // A Reply-To, or an unauthenticated sender: not a contract address.
    let mut r = reply(Language::En);
    r.to = "attacker@evil.example".to_owned();
    assert!(matches!(outbox::enqueue_one(&mut h, &r, NOW), Err(Error::ReplyNotToContract { .. })));
    // An address lettre cannot use is refused at enqueue, not at flush.
    let mut r = reply(Language::En);
    r.from = "not an address".to_owned();
    assert!(matches!(outbox::enqueue_one(&mut h, &r, NOW), Err(Error::ReplyInvalid { .. })));
    // Nothing was queued; the contract address (any case) is accepted.
    assert!(outbox::list(&mut h, true).unwrap().is_empty());
    let mut r = reply(Language::En);
    r.to = "IT@customer.EXAMPLE.cn".to_owned();
    outbox::enqueue_one(&mut h, &r, NOW).unwrap();
}

#[test]
fn rolled_back_transaction_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = home(dir.path());
    {
        let mut conn = rusqlite::Connection::open(h.db_path()).unwrap();
        let tx = conn.transaction().unwrap();
        outbox::enqueue(&tx, &reply(Language::En), NOW).unwrap();
        // Dropped without commit: the decision failed, so no reply either.
    }
    assert!(outbox::list(&mut h, true).unwrap().is_empty());
}

#[test]
fn smtp_delivers_to_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = home(dir.path());
    enqueue_in_own_transaction(&h, &reply(Language::En));
    let maildir = dir.path().join("maildir");
    let port = free_port();
    let _server = SmtpServer::start(port, &maildir);

    let report = outbox::flush(&mut h, &smtp(port), NOW).unwrap();
    assert_eq!(report.sent.len(), 1, "{report:?}");
    assert!(report.failures.is_empty());
    let got = maildir_messages(&maildir);
    assert_eq!(got.len(), 1);
    check_reply(&got[0], "Your license is attached");
    // aiosmtpd records the envelope: the contract's address only.
    let m = MessageParser::default().parse(&got[0]).unwrap();
    assert_eq!(m.header("X-RcptTo").and_then(|v| v.as_text()), Some(CUSTOMER));
}

#[test]
fn smtp_outage_loses_nothing_and_delivers_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = home(dir.path());
    let id = enqueue_in_own_transaction(&h, &reply(Language::En));
    let port = free_port();
    let maildir = dir.path().join("maildir");

    // The server is down: the reply stays queued and backs off.
    let report = outbox::flush(&mut h, &smtp(port), NOW).unwrap();
    assert!(report.sent.is_empty());
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].retry_at, Some(Timestamp(NOW.0 + 60)));
    let e = &outbox::list(&mut h, false).unwrap()[0];
    assert_eq!((e.id, e.status.as_str(), e.attempts), (id, "pending", 1));
    assert_eq!(e.next_attempt_at, Timestamp(NOW.0 + 60));
    assert!(e.last_error.is_some());

    // Still down a minute later: the delay doubles.
    let t2 = Timestamp(NOW.0 + 60);
    outbox::flush(&mut h, &smtp(port), t2).unwrap();
    let e = &outbox::list(&mut h, false).unwrap()[0];
    assert_eq!((e.attempts, e.next_attempt_at), (2, Timestamp(t2.0 + 120)));

    // The server is back, but the reply is not due yet: nothing is sent.
    let _server = SmtpServer::start(port, &maildir);
    let early = outbox::flush(&mut h, &smtp(port), Timestamp(t2.0 + 119)).unwrap();
    assert_eq!((early.sent.len(), early.not_due), (0, 1));
    assert!(maildir_messages(&maildir).is_empty());

    // Due: delivered, exactly once.
    let t3 = Timestamp(t2.0 + 120);
    assert_eq!(outbox::flush(&mut h, &smtp(port), t3).unwrap().sent.len(), 1);
    assert_eq!(outbox::flush(&mut h, &smtp(port), Timestamp(t3.0 + 7200)).unwrap().sent.len(), 0);
    let got = maildir_messages(&maildir);
    assert_eq!(got.len(), 1);
    check_reply(&got[0], "Your license is attached");
    let e = &outbox::list(&mut h, true).unwrap()[0];
    assert_eq!((e.status.as_str(), e.attempts), ("sent", 2));
    assert_eq!(e.sent_via.as_deref(), Some(format!("smtp://127.0.0.1:{port}").as_str()));
}

#[test]
fn cli_flush_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let h = home(dir.path());
    let id = enqueue_in_own_transaction(&h, &reply(Language::En));
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_fanlic"))
            .args(args)
            .arg("--home")
            .arg(h.dir())
            .env_remove("FANLIC_SMTP_HOST")
            .env_remove("FANLIC_SMTP_PORT")
            .env_remove("FANLIC_SMTP_TLS")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let listed = run(&["outbox", "list", "--json"]);
    assert_eq!(listed[0]["status"], "pending");
    assert_eq!(listed[0]["to"], CUSTOMER);
    let flushed = run(&["outbox", "flush", "--json"]);
    assert_eq!(flushed["sent"][0]["id"], id);
    let file = h.dir().join("outbox").join(format!("{id}.eml"));
    assert_eq!(mode(&file), 0o600);
    check_reply(&fs::read(&file).unwrap(), "Your license is attached");
    assert_eq!(run(&["outbox", "list", "--json"]), serde_json::json!([]));
    assert_eq!(run(&["outbox", "list", "--all", "--json"])[0]["status"], "sent");
}

#[test]
fn migrates_a_version_2_database() {
    let dir = tempfile::tempdir().unwrap();
    let h = home(dir.path());
    let db = h.db_path().to_owned();
    drop(h);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "DROP TABLE decision_audit; DROP TABLE decisions; DROP TABLE outbox_attachments; DROP TABLE outbox;",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
    }
    let mut h = Home::open(&dir.path().join("home")).unwrap();
    // The contract survived; the outbox is there and works.
    outbox::enqueue_one(&mut h, &reply(Language::En), NOW).unwrap();
    assert_eq!(outbox::list(&mut h, false).unwrap().len(), 1);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(v, fanlic_issuer::SCHEMA_VERSION);
}
