//! The reply outbox with real components: a real SMTP server (aiosmtpd,
//! started here on a free port and writing a Maildir), lettre's blocking
//! client, and mail-parser reading back what arrived. CI installs aiosmtpd
//! (`python3 -m pip install aiosmtpd`); without it these tests FAIL.

use crate::common::downgrade;
use fanlic_issuer::OutboxError;

use core::time::Duration;
use std::{
    collections::BTreeSet,
    fs,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::{Child, Stdio},
};

use crate::common::smtp::{SmtpServer, free_port};
use fanlic_formats::Timestamp;
use fanlic_issuer::Error;
use fanlic_issuer::Home;
use fanlic_issuer::InitOptions;
use fanlic_issuer::contracts::{self, OPTION_NAMES, TermsText};
use fanlic_issuer::outbox::{self, Language, OutboxTransport, Reply, SmtpConfig, SmtpTls};
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
        max_licenses: None,
        activation_policy: None,
        lease_days: None,
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
    let mut store = fanlic_issuer::store::Store::open(h.db_path(), false).unwrap();
    store.write(|tx| outbox::enqueue(tx, r, NOW)).unwrap()
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
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
    assert!(matches!(outbox::enqueue_one(&mut h, &r, NOW), Err(Error::Outbox(OutboxError::ReplyNotToContract { .. }))));
    // An address lettre cannot use is refused at enqueue, not at flush.
    let mut r = reply(Language::En);
    r.from = "not an address".to_owned();
    assert!(matches!(outbox::enqueue_one(&mut h, &r, NOW), Err(Error::Outbox(OutboxError::ReplyInvalid { .. }))));
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
        let mut store = fanlic_issuer::store::Store::open(h.db_path(), false).unwrap();
        let failed: Result<(), Error> = store.write(|tx| {
            outbox::enqueue(tx, &reply(Language::En), NOW).unwrap();
            // The decision failed after its reply was queued: no reply either.
            Err(Error::Clock)
        });
        assert!(failed.is_err());
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

/// The stored attachments of reply `id`: (SHA-256, bytes if kept).
fn stored_attachments(h: &Home, id: i64) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let conn = rusqlite::Connection::open(h.db_path()).unwrap();
    let mut stmt = conn.prepare("SELECT sha256, bytes FROM outbox_attachments WHERE outbox_id = ?1").unwrap();
    stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

/// A sent reply's attachments lose their bytes and keep their SHA-256, which
/// the listing shows; a reply that failed and will be retried keeps its
/// bytes, and is then delivered whole. Over a real SMTP server (aiosmtpd).
#[test]
fn sent_attachments_are_deleted_and_their_digest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = home(dir.path());
    let id = enqueue_in_own_transaction(&h, &reply(Language::En));
    let digest = ring::digest::digest(&ring::digest::SHA256, LICENSE).as_ref().to_vec();
    assert_eq!(stored_attachments(&h, id), [(digest.clone(), Some(LICENSE.to_vec()))]);
    let port = free_port();
    let maildir = dir.path().join("maildir");

    // The server is down: retried later, the bytes stay.
    let report = outbox::flush(&mut h, &smtp(port), NOW).unwrap();
    assert_eq!(report.failures.len(), 1);
    assert!(report.failures[0].retry_at.is_some());
    assert_eq!(stored_attachments(&h, id), [(digest.clone(), Some(LICENSE.to_vec()))]);
    let e = &outbox::list(&mut h, false).unwrap()[0];
    assert!(e.attachments[0].stored);

    // Up: sent whole; then only the digest remains.
    let _server = SmtpServer::start(port, &maildir);
    let report = outbox::flush(&mut h, &smtp(port), Timestamp(NOW.0 + 60)).unwrap();
    assert_eq!(report.sent.len(), 1, "{report:?}");
    check_reply(&maildir_messages(&maildir)[0], "Your license is attached");
    assert_eq!(stored_attachments(&h, id), [(digest.clone(), None)]);
    let e = &outbox::list(&mut h, true).unwrap()[0];
    let a = &e.attachments[0];
    assert_eq!(
        (a.file_name.as_str(), a.size, a.sha256.as_slice(), a.stored),
        ("Container.lic", LICENSE.len() as u64, &digest[..], false)
    );
    let json = e.to_json();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(json["attachments"][0]["sha256"], hex.as_str());
    assert_eq!(json["attachments"][0]["stored"], false);
    let human = outbox::list_human(&outbox::list(&mut h, true).unwrap());
    assert!(human.contains(&format!("sha256 {hex}, deleted once sent")), "{human}");
    // Gone from the database file, not only from the row.
    drop(h);
    let conn = rusqlite::Connection::open(dir.path().join("home/fanlic.db")).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    drop(conn);
    let raw = fs::read(dir.path().join("home/fanlic.db")).unwrap();
    assert!(!raw.windows(LICENSE.len()).any(|w| w == LICENSE), "the sent attachment's bytes are still in the file");
}

/// Migration 9 keeps a digest of every attachment and drops the bytes of
/// those already sent.
#[test]
fn migration_drops_the_bytes_of_sent_attachments() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = home(dir.path());
    let sent = enqueue_in_own_transaction(&h, &reply(Language::En));
    outbox::flush(&mut h, &OutboxTransport::Files(dir.path().join("out")), NOW).unwrap();
    let pending = enqueue_in_own_transaction(&h, &reply(Language::Zh));
    let db = h.db_path().to_owned();
    drop(h);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        downgrade::to_version(&conn, 8);
        // As an older build left it: the sent reply's bytes still there.
        conn.execute("UPDATE outbox_attachments SET bytes = ?1", [LICENSE]).unwrap();
    }
    let h = Home::open(&dir.path().join("home")).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, LICENSE).as_ref().to_vec();
    assert_eq!(stored_attachments(&h, sent), [(digest.clone(), None)]);
    assert_eq!(stored_attachments(&h, pending), [(digest, Some(LICENSE.to_vec()))]);
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
        let out = crate::common::fanlic_cmd()
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
fn two_flushes_at_once_send_each_reply_once() {
    // Regression: each flush listed the due replies and sent them all, so a
    // cron job and a person flushing together sent every reply twice.
    let dir = tempfile::tempdir().unwrap();
    let h = home(dir.path());
    let ids: BTreeSet<i64> = (0..300).map(|_| enqueue_in_own_transaction(&h, &reply(Language::En))).collect();
    let flush = || {
        crate::common::fanlic_cmd()
            .args(["outbox", "flush", "--json", "--home"])
            .arg(h.dir())
            .env_remove("FANLIC_SMTP_HOST")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (flush(), flush());
    let sent = |child: Child| -> Vec<i64> {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["sent"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect()
    };
    let (a, b) = (sent(a), sent(b));
    let (sa, sb): (BTreeSet<i64>, BTreeSet<i64>) = (a.iter().copied().collect(), b.iter().copied().collect());
    assert!(sa.is_disjoint(&sb), "sent by both: {:?}", sa.intersection(&sb).collect::<Vec<_>>());
    assert_eq!(a.len() + b.len(), ids.len());
    assert_eq!(sa.union(&sb).copied().collect::<BTreeSet<_>>(), ids);
}

#[test]
fn migrates_a_version_2_database() {
    let dir = tempfile::tempdir().unwrap();
    let h = home(dir.path());
    let db = h.db_path().to_owned();
    drop(h);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        downgrade::to_version(&conn, 2);
    }
    let mut h = Home::open(&dir.path().join("home")).unwrap();
    // The contract survived; the outbox is there and works.
    outbox::enqueue_one(&mut h, &reply(Language::En), NOW).unwrap();
    assert_eq!(outbox::list(&mut h, false).unwrap().len(), 1);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(v, fanlic_issuer::SCHEMA_VERSION);
}

/// The whole path with the real binary: registration mails ingested by
/// `fanlic ingest`, replies sent by `fanlic outbox flush` to a real SMTP
/// server, read back with mail-parser, and the attached licenses checked by
/// the verifier products embed, against the home's root public key.
mod end_to_end {
    use std::{fs, path::PathBuf};

    use base64::Engine as _;
    use fanlic_formats::{LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp};
    use fanlic_issuer::home::load_root_public_key;
    use fanlic_issuer::util::clock;
    use fanlic_verifier::{Environment, RootKey};
    use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders as _};
    use serde_json::Value;

    use super::{SmtpServer, free_port, maildir_messages};
    use crate::common::{AUTHSERV, BODY, CONTRACT_ADDR, SUBJECT, add_contract, ok, replace_line, setup};

    const REPLY_TO: &str = "attacker@evil.example";

    const EN_COMPANY: &str = "Customer Trading Co., Ltd.";

    const ZH_COMPANY: &str = "上海示例信息技术有限公司";
    const ZH_ADDR: &str = "wang@shanghai-example.cn";
    const ZH_SUBJECT: &str = "关于上海示例信息技术有限公司注册FineReport的正式授权文件";
    const ZH_BODY: &str = "您好：\n\n现申请FineReport正式授权，信息如下：\n\n\
        1、公司名称：  上海示例信息技术有限公司\n\
        2、项目名称：  decision\n\
        3、合同签订日期：2026年11月3日\n\
        4、注册方式：本地容器认证\n\
        5、集群节点数：２\n\
        6、项目版本：V11.0.20\n\
        7、JAR包版本：\n   2024-03-08\n\
        8、特殊需求：无\n\n谢谢！\n--\n王小明\n上海示例信息技术有限公司\n";

    /// A registration mail as the vendor's MTA delivers it: its own trusted
    /// `Authentication-Results` on top, and a `Reply-To` that must be ignored.
    fn mail(from: &str, domain: &str, subject: &str, message_id: &str, references: Option<&str>, body: &str) -> String {
        let mut s = format!("Authentication-Results: {AUTHSERV}; dkim=pass header.d={domain}\r\n");
        s.push_str(&format!("Received: from mail.{domain} by {AUTHSERV}; Fri, 20 Nov 2026 09:30:05 +0800\r\n"));
        s.push_str(&format!("From: {from}\r\nReply-To: {REPLY_TO}\r\nTo: license@vendor.example\r\n"));
        // Encoded as a Chinese mail client does (RFC 2047) when not ASCII.
        if subject.is_ascii() {
            s.push_str(&format!("Subject: {subject}\r\n"));
        } else {
            let b64 = base64::engine::general_purpose::STANDARD.encode(subject);
            s.push_str(&format!("Subject: =?UTF-8?B?{b64}?=\r\n"));
        }
        s.push_str(&format!("Date: Fri, 20 Nov 2026 09:30:00 +0800\r\nMessage-ID: <{message_id}>\r\n"));
        if let Some(r) = references {
            s.push_str(&format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n"));
        }
        s.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n");
        s.push_str("Content-Transfer-Encoding: 8bit\r\n\r\n");
        s.push_str(&body.replace('\n', "\r\n"));
        s
    }

    /// One registration request and what its reply must be.
    struct Request {
        name: &'static str,
        text: String,
        message_id: &'static str,
        references: Vec<&'static str>,
        subject: &'static str,
        contract_addr: &'static str,
        decision: &'static str,
        /// For an issued one: company, project, nodes.
        license: Option<(&'static str, &'static str, u32)>,
        /// Lines the reply's text must contain.
        body_has: &'static [&'static str],
        chinese: bool,
    }

    fn references(m: &Message<'_>) -> Vec<String> {
        match m.references() {
            HeaderValue::TextList(l) => l.iter().map(|s| s.to_string()).collect(),
            HeaderValue::Text(t) => vec![t.to_string()],
            other => panic!("References: {other:?}"),
        }
    }

    fn has_cjk(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn ingested_requests_are_answered_over_smtp_with_verifiable_licenses() {
        // The English contract (EN_COMPANY, 3 nodes), and a Chinese one.
        let env = setup();
        add_contract(&env, ZH_COMPANY, "Wang@Shanghai-Example.cn", "2026/11/03", "2");

        let requests = [
            Request {
                name: "en.eml",
                text: mail(
                    "Alice <Alice@Customer.example>",
                    "customer.example",
                    SUBJECT,
                    "en-1@customer.example",
                    Some("earlier@customer.example"),
                    BODY,
                ),
                message_id: "en-1@customer.example",
                references: vec!["earlier@customer.example", "en-1@customer.example"],
                subject: SUBJECT,
                contract_addr: CONTRACT_ADDR,
                decision: "issued",
                license: Some((EN_COMPANY, "webroot", 3)),
                // What was licensed, and the local container's next steps.
                body_has: &[
                    "Your license is attached",
                    "Project:             webroot\n",
                    "Product and version: FineReport 11.0\n",
                    "Registration method: Local container\n",
                    "Nodes:               3\n",
                    "click Upload License and upload the attached Container.lic",
                ],
                chinese: false,
            },
            Request {
                name: "zh.eml",
                text: mail(
                    "王小明 <Wang@Shanghai-Example.cn>",
                    "shanghai-example.cn",
                    ZH_SUBJECT,
                    "zh-1@shanghai-example.cn",
                    None,
                    ZH_BODY,
                ),
                message_id: "zh-1@shanghai-example.cn",
                references: vec!["zh-1@shanghai-example.cn"],
                subject: ZH_SUBJECT,
                contract_addr: ZH_ADDR,
                decision: "issued",
                license: Some((ZH_COMPANY, "decision", 2)),
                body_has: &[
                    "附件是您的授权文件",
                    "项目名称：decision\n",
                    "集群节点数：2\n",
                    "注册方式：本地容器\n",
                    "上传授权",
                ],
                chinese: true,
            },
            Request {
                name: "too-many-nodes.eml",
                text: mail(
                    "Alice <Alice@Customer.example>",
                    "customer.example",
                    SUBJECT,
                    "en-2@customer.example",
                    None,
                    &replace_line(BODY, "Maximum number of registration: 3", "Maximum number of registration: 9"),
                ),
                message_id: "en-2@customer.example",
                references: vec!["en-2@customer.example"],
                subject: SUBJECT,
                contract_addr: CONTRACT_ADDR,
                decision: "rejected",
                license: None,
                // The fields quoted as they were read.
                body_has: &[
                    "could not be processed",
                    "- [nodes_exceed_contract] ",
                    "This is what we read in your message",
                    "Project name:          webroot\n",
                    "Number of nodes:       9\n",
                ],
                chinese: false,
            },
        ];

        // Ingest the three with the real binary.
        let mut args = vec!["ingest".to_owned(), "--json".to_owned()];
        for r in &requests {
            let p = env.dir.join(r.name);
            fs::write(&p, &r.text).unwrap();
            args.push(p.display().to_string());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let lines: Vec<Value> = ok(&env, &refs).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), requests.len(), "{lines:?}");
        for (r, v) in requests.iter().zip(&lines) {
            assert_eq!(v["decision"], r.decision, "{}: {v}", r.name);
            assert_eq!(v["message_id"], r.message_id, "{v}");
            assert_eq!(v["from"], r.contract_addr, "{v}");
        }
        let codes: Vec<&str> =
            lines[2]["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["nodes_exceed_contract"]);
        assert_eq!(lines[2]["license_id"], Value::Null);
        assert_eq!(lines[2]["files"], Value::Array(vec![]));

        // Three replies queued, none sent yet.
        let pending: Value = serde_json::from_str(&ok(&env, &["outbox", "list", "--json"])).unwrap();
        assert_eq!(pending.as_array().unwrap().len(), 3, "{pending}");
        assert!(pending.as_array().unwrap().iter().all(|e| e["status"] == "pending"));

        // Flush over SMTP to aiosmtpd on loopback.
        let maildir = env.dir.join("received");
        let port = free_port();
        let _server = SmtpServer::start(port, &maildir);
        let port_s = port.to_string();
        let flushed: Value = serde_json::from_str(&ok(
            &env,
            &["outbox", "flush", "--smtp-host", "127.0.0.1", "--smtp-port", &port_s, "--smtp-tls", "none", "--json"],
        ))
        .unwrap();
        assert_eq!(flushed["sent"].as_array().unwrap().len(), 3, "{flushed}");
        assert_eq!(flushed["failed"], Value::Array(vec![]), "{flushed}");
        let via = format!("smtp://127.0.0.1:{port}");
        assert!(flushed["sent"].as_array().unwrap().iter().all(|s| s["via"] == via.as_str()), "{flushed}");

        // The products' root key: the PEM file `fanlic init` wrote in public/.
        let root_files: Vec<PathBuf> = fs::read_dir(env.home.join("public"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n.starts_with("root-") && n.ends_with(".pub.pem")
            })
            .collect();
        assert_eq!(root_files.len(), 1, "{root_files:?}");
        let roots: [RootKey; 1] = [load_root_public_key(&root_files[0]).unwrap()];
        let now = clock::now().unwrap();

        let raw = maildir_messages(&maildir);
        assert_eq!(raw.len(), 3, "aiosmtpd received {} messages", raw.len());
        let parsed: Vec<Message<'_>> =
            raw.iter().map(|b| MessageParser::default().parse(b).expect("a reply parses")).collect();
        let outbox_all: Value = serde_json::from_str(&ok(&env, &["outbox", "list", "--all", "--json"])).unwrap();
        let outbox_all = outbox_all.as_array().unwrap();
        assert_eq!(outbox_all.len(), 3);

        for (r, line) in requests.iter().zip(&lines) {
            let m = parsed
                .iter()
                .find(|m| m.in_reply_to().as_text() == Some(r.message_id))
                .unwrap_or_else(|| panic!("no reply to {}", r.message_id));
            let what = r.name;

            // To the contract's address only, never the Reply-To; envelope too.
            let to = m.to().expect("a To header");
            assert_eq!(to.iter().count(), 1, "{what}");
            assert_eq!(to.first().unwrap().address(), Some(r.contract_addr), "{what}");
            assert!(m.cc().is_none() && m.bcc().is_none(), "{what}");
            assert_eq!(m.header("X-RcptTo").and_then(|v| v.as_text()), Some(r.contract_addr), "{what}");
            let whole = String::from_utf8_lossy(m.raw_message());
            assert!(!whole.contains("evil.example"), "{what}: the Reply-To leaked: {whole}");

            // Threaded under the request, `Re:` its subject.
            assert_eq!(references(m), r.references, "{what}");
            assert_eq!(m.subject(), Some(format!("Re: {}", r.subject).as_str()), "{what}");
            assert!(m.subject().unwrap().starts_with("Re:"));

            // In the request's language.
            let text = m.body_text(0).expect("a text part").replace("\r\n", "\n");
            for needle in r.body_has {
                assert!(text.contains(needle), "{what}: {needle:?} not in {text:?}");
            }
            assert_eq!(has_cjk(&text), r.chinese, "{what}: {text:?}");

            // Its outbox entry: sent once, over this SMTP server, as this message.
            let entry = outbox_all
                .iter()
                .find(|e| Some(e["message_id"].as_str().unwrap().trim_matches(['<', '>'])) == m.message_id())
                .unwrap_or_else(|| panic!("{what}: no outbox entry for {:?}", m.message_id()));
            assert_eq!(entry["status"], "sent", "{entry}");
            assert_eq!(entry["to"], r.contract_addr, "{entry}");
            assert_eq!(entry["attempts"], 0, "{entry}");
            assert_eq!(entry["sent_via"], via.as_str(), "{entry}");
            assert_eq!(entry["language"], if r.chinese { "zh" } else { "en" }, "{entry}");

            let Some((company, project, nodes)) = r.license else {
                // Rejected: no attachment at all.
                assert_eq!(m.attachment_count(), 0, "{what}");
                assert!(m.attachments().all(|a| a.attachment_name() != Some("Container.lic")));
                continue;
            };
            assert_eq!(m.attachment_count(), 1, "{what}");
            let a = m.attachment(0).unwrap();
            assert_eq!(a.attachment_name(), Some("Container.lic"), "{what}");
            let attached = a.contents();

            // Byte for byte what ingest wrote and reported.
            let lid = line["license_id"].as_str().unwrap();
            let files = line["files"].as_array().unwrap();
            assert_eq!(files.len(), 1, "{line}");
            let reported = fs::read(files[0].as_str().unwrap()).unwrap();
            let in_home = fs::read(env.home.join("issued").join(format!("{lid}-Container.lic"))).unwrap();
            assert_eq!(attached, in_home.as_slice(), "{what}: attachment differs from HOME/issued/{lid}");
            assert_eq!(attached, reported.as_slice(), "{what}: attachment differs from {}", files[0]);

            // The verifier products embed accepts it, for this very request.
            let version = "11.0.20";
            let product = Environment {
                app_name: "FineReport",
                version,
                project,
                nodes,
                method: LicenseKind::LocalContainer,
                now,
                last_seen: None,
            };
            let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
            let verified = match fanlic_verifier::verify(attached, &mut buf, &roots, &product) {
                Ok(v) => v,
                Err(rejection) => {
                    let causes: Vec<String> = rejection.causes().map(|c| format!("{}: {c}", c.code())).collect();
                    panic!("{what}: the attached license does not verify: {causes:?}");
                }
            };
            let l = &verified.license;
            assert_eq!((l.company, l.project, l.max_nodes), (company, project, nodes), "{what}");
            assert_eq!(l.app_name, "FineReport");
            assert_eq!(l.kind, LicenseKind::LocalContainer);
            assert_eq!(l.id.to_string(), lid, "{what}");
            let sha = ring::digest::digest(&ring::digest::SHA256, r.text.as_bytes());
            assert_eq!(l.request_email_sha256.unwrap().as_slice(), sha.as_ref(), "{what}");
            assert!(l.issued_at <= now && l.issued_at > Timestamp(now.0.saturating_sub(600)));

            // One node more than the mail asked for is refused: the license is this request's.
            let mut more = product;
            more.nodes = nodes + 1;
            let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
            let err = fanlic_verifier::verify(attached, &mut buf, &roots, &more).unwrap_err();
            assert!(err.causes().any(|c| c.code() == "license_exhausted"), "{what}");
        }

        // The outbox: nothing pending; a second flush sends nothing more.
        assert_eq!(ok(&env, &["outbox", "list", "--json"]).trim(), "[]");
        let again: Value = serde_json::from_str(&ok(
            &env,
            &["outbox", "flush", "--smtp-host", "127.0.0.1", "--smtp-port", &port_s, "--smtp-tls", "none", "--json"],
        ))
        .unwrap();
        assert_eq!(again["sent"], Value::Array(vec![]), "{again}");
        assert_eq!(maildir_messages(&maildir).len(), 3);
    }
}
