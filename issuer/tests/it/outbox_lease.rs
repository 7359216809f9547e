//! The outbox leased, with real components: replies queued by `fanlic
//! ingest` of real registration mails, flushed by several `fanlic outbox
//! flush` processes at once against one database (a real PostgreSQL from
//! Debian, or one home's SQLite file), sent to a real SMTP server
//! (aiosmtpd), and a flush killed with SIGKILL in the middle of a send.

use core::time::Duration;
use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::Instant,
};

use mail_parser::MessageParser;
use serde_json::Value;

use crate::common::smtp::{SmtpServer, free_port};
use crate::common::{AUTHSERV, BIN, Env, PASS, add_contract, body_for, mail, new_database, ok};

/// A home on `database` (PostgreSQL URL; `None`: the home's SQLite file)
/// with the contract of [`crate::common::setup`].
fn home_on(database: Option<String>) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let env = Env { home: dir.join("home"), dir, _tmp: tmp, database };
    ok(&env, &["init", "--authserv-id", AUTHSERV]);
    add_contract(&env, "Customer Trading Co., Ltd.", "Alice@Customer.example", "2026/11/20", "3");
    env
}

/// Queues `n` replies the way they are queued in production: `fanlic
/// ingest` of `n` registration mails (one project each) from a Maildir,
/// each issuing a license and queueing its reply. Their outbox ids.
fn queue_replies(env: &Env, n: usize) -> BTreeSet<i64> {
    let md = env.dir.join("incoming");
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(md.join(sub)).unwrap();
    }
    for i in 0..n {
        let text = mail(Some(PASS), &format!("reg-{i}@customer.example"), &body_for(&format!("project-{i}")));
        fs::write(md.join(format!("new/{i}.{i}_0.host")), text).unwrap();
    }
    let lines = ok(env, &["ingest", "--json", md.to_str().unwrap()]);
    let decided: Vec<Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(decided.len(), n);
    assert!(decided.iter().all(|v| v["decision"] == "issued"), "{decided:?}");
    let queued = outbox(env, false);
    assert_eq!(queued.len(), n);
    queued.keys().copied().collect()
}

/// `fanlic outbox list [--all] --json`: id → entry.
fn outbox(env: &Env, all: bool) -> BTreeMap<i64, Value> {
    let args: &[&str] = if all { &["outbox", "list", "--all", "--json"] } else { &["outbox", "list", "--json"] };
    let v: Value = serde_json::from_str(&ok(env, args)).unwrap();
    v.as_array().unwrap().iter().map(|e| (e["id"].as_i64().unwrap(), e.clone())).collect()
}

/// `fanlic outbox flush` over SMTP to 127.0.0.1:`port`, started (not
/// waited for), with the lease `lease_secs` when given.
fn spawn_flush(env: &Env, port: u16, lease_secs: Option<u64>) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["outbox", "flush", "--smtp-host", "127.0.0.1", "--smtp-port", &port.to_string()])
        .args(["--smtp-tls", "none", "--json"])
        .env("FANLIC_HOME", &env.home)
        .env("USER", "tester")
        .current_dir(&env.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in ["FANLIC_SMTP_USER", "FANLIC_SMTP_PASSWORD", "FANLIC_OUTBOX_LEASE_SECS"] {
        cmd.env_remove(var);
    }
    match &env.database {
        Some(url) => cmd.env("FANLIC_DATABASE_URL", url),
        None => cmd.env_remove("FANLIC_DATABASE_URL"),
    };
    if let Some(secs) = lease_secs {
        cmd.env("FANLIC_OUTBOX_LEASE_SECS", secs.to_string());
    }
    cmd.spawn().unwrap()
}

/// The report of a flush that ran to its end.
fn report(child: Child) -> Value {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sent_ids(report: &Value) -> Vec<i64> {
    report["sent"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect()
}

/// The messages in the Maildir `dir` (aiosmtpd's `new/`).
fn received(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(rd) = fs::read_dir(dir.join("new")) else { return Vec::new() };
    let mut files: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|p| fs::read(p).unwrap()).collect()
}

/// The `Message-ID` of a raw message, with its angle brackets.
fn message_id(raw: &[u8]) -> String {
    let m = MessageParser::default().parse(raw).expect("a message that parses");
    format!("<{}>", m.message_id().expect("a Message-ID"))
}

/// 200 replies, two `fanlic outbox flush` processes started at once on one
/// database: the SMTP server receives each reply's Message-ID exactly once,
/// the two split the work, and every reply is `sent`.
fn two_flushes_send_each_reply_once(env: &Env) {
    const N: usize = 200;
    let ids = queue_replies(env, N);
    let maildir = env.dir.join("received");
    let port = free_port();
    let _server = SmtpServer::start(port, &maildir);

    let started = Instant::now();
    let (a, b) = (spawn_flush(env, port, None), spawn_flush(env, port, None));
    let (a, b) = (report(a), report(b));
    let took = started.elapsed();
    let (sa, sb) = (sent_ids(&a), sent_ids(&b));
    eprintln!("two flushes, {N} replies: {} + {} sent in {took:.2?}", sa.len(), sb.len());
    let (set_a, set_b): (BTreeSet<i64>, BTreeSet<i64>) = (sa.iter().copied().collect(), sb.iter().copied().collect());
    assert!(set_a.is_disjoint(&set_b), "sent by both: {:?}", set_a.intersection(&set_b).collect::<Vec<_>>());
    assert_eq!(sa.len() + sb.len(), N, "{a}\n{b}");
    assert_eq!(set_a.union(&set_b).copied().collect::<BTreeSet<_>>(), ids);
    // Both worked: the leases shared the replies, not a lock held for the run.
    assert!(!sa.is_empty() && !sb.is_empty(), "one flush sent everything: {} + {}", sa.len(), sb.len());
    for r in [&a, &b] {
        assert_eq!(r["failed"], Value::Array(vec![]), "{r}");
        assert_eq!(r["lease_lost"], Value::Array(vec![]), "{r}");
    }

    // What the SMTP server got: each Message-ID of the outbox, once.
    let got: Vec<String> = received(&maildir).iter().map(|raw| message_id(raw)).collect();
    assert_eq!(got.len(), N, "the SMTP server received {} messages", got.len());
    let distinct: BTreeSet<&String> = got.iter().collect();
    assert_eq!(distinct.len(), N, "a Message-ID was received twice");
    let all = outbox(env, true);
    assert_eq!(all.len(), N);
    let stored: BTreeSet<String> = all.values().map(|e| e["message_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(stored, got.iter().cloned().collect::<BTreeSet<_>>());
    assert!(all.values().all(|e| e["status"] == "sent" && e["attempts"] == 0), "{all:?}");
}

#[test]
fn two_flushes_on_postgres_send_each_reply_once() {
    two_flushes_send_each_reply_once(&home_on(Some(new_database())));
}

#[test]
fn two_flushes_on_sqlite_send_each_reply_once() {
    two_flushes_send_each_reply_once(&home_on(None));
}

/// An SMTP server (aiosmtpd's SMTP protocol on its own asyncio server) that
/// takes each message, writes it to `DIR/N.eml` (N counting from 1), and
/// then waits `delay` seconds before it answers the end of DATA. A long
/// delay leaves the sender after the server has the message and before it
/// learns so, where a crash makes at-least-once delivery send it twice; a
/// short one makes a slow server.
struct StallingSmtp(Child);

const STALLING_SMTP: &str = r#"
import asyncio, os, sys
from aiosmtpd.smtp import SMTP

port, folder, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
count = 0

class Slow:
    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        file = os.path.join(folder, "%d.eml" % count)
        with open(file + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(file + ".tmp", file)
        await asyncio.sleep(delay)
        return "250 OK"

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Slow()), "127.0.0.1", port)
    async with server:
        await server.serve_forever()

asyncio.run(main())
"#;

impl StallingSmtp {
    fn start(port: u16, folder: &Path, delay: Duration) -> Self {
        fs::create_dir_all(folder).unwrap();
        let child = Command::new("python3")
            .args(["-c", STALLING_SMTP, &port.to_string()])
            .arg(folder)
            .arg(delay.as_secs_f64().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start python3 with aiosmtpd");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(20), "the stalling SMTP server did not listen on {port}");
            thread::sleep(Duration::from_millis(50));
        }
        Self(child)
    }

    /// The messages it took, in order.
    fn taken(folder: &Path) -> Vec<Vec<u8>> {
        (1..)
            .map(|n| folder.join(format!("{n}.eml")))
            .take_while(|p| p.is_file())
            .map(|p| fs::read(p).unwrap())
            .collect()
    }
}

impl Drop for StallingSmtp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A flush killed (SIGKILL) after the SMTP server took a reply and before
/// the flush recorded it: its replies stay leased to it, so a flush at once
/// sends none of them; once the lease has run out, a flush sends them all,
/// the interrupted one with the Message-ID of the first attempt.
fn killed_flush_is_sent_again_after_its_lease(env: &Env, leases: impl Fn() -> Vec<String>) {
    const N: usize = 3;
    // Long enough for the flush at once below to come within it on a busy
    // machine (a lease counted in whole seconds may end up to 1 s early).
    const LEASE: u64 = 5;
    let ids = queue_replies(env, N);
    let stalled = env.dir.join("stalled");
    let first_attempt = stalled.join("1.eml");
    let stall_port = free_port();
    let _stall = StallingSmtp::start(stall_port, &stalled, Duration::from_secs(3600));
    let maildir = env.dir.join("received");
    let port = free_port();
    let _server = SmtpServer::start(port, &maildir);

    let spawned_at = Instant::now();
    let mut flush = spawn_flush(env, stall_port, Some(LEASE));
    let start = Instant::now();
    while !first_attempt.is_file() {
        assert!(start.elapsed() < Duration::from_secs(30), "the flush never sent to the stalling server");
        assert!(flush.try_wait().unwrap().is_none(), "the flush ended before the server stalled it");
        thread::sleep(Duration::from_millis(20));
    }
    let pid = flush.id();
    assert!(Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
    flush.wait().unwrap();
    let killed_at = Instant::now();
    let first_id = message_id(&fs::read(&first_attempt).unwrap());

    // Every reply it claimed is still leased to it (host:pid:random), none sent.
    let held = leases();
    assert_eq!(held.len(), N, "{held:?}");
    assert!(held.iter().all(|h| h.contains(&format!(":{pid}:"))), "{held:?}");
    assert!(outbox(env, false).values().all(|e| e["status"] == "pending"));

    // Within the lease, another flush leaves them alone.
    let early = report(spawn_flush(env, port, Some(LEASE)));
    assert!(spawned_at.elapsed() < Duration::from_secs(LEASE - 1), "the early flush came too late to test the lease");
    assert_eq!(early["sent"], Value::Array(vec![]), "{early}");
    assert_eq!(early["leased_elsewhere"], N, "{early}");
    assert!(received(&maildir).is_empty());

    // Once it has run out (a whole second more: leases count in seconds),
    // the replies go, each once; the interrupted one as the same message.
    thread::sleep(Duration::from_secs(LEASE + 1).saturating_sub(killed_at.elapsed()));
    let late = report(spawn_flush(env, port, Some(LEASE)));
    assert_eq!(sent_ids(&late).into_iter().collect::<BTreeSet<_>>(), ids, "{late}");
    let got: Vec<String> = received(&maildir).iter().map(|raw| message_id(raw)).collect();
    assert_eq!(got.len(), N);
    assert!(got.contains(&first_id), "the resend of {first_id} has another Message-ID: {got:?}");
    let all = outbox(env, true);
    let resent = all.values().find(|e| e["message_id"] == first_id.as_str()).expect("the reply first attempted");
    assert_eq!(resent["status"], "sent", "{resent}");
    assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), N, "{got:?}");
    assert!(leases().iter().all(String::is_empty), "leases left after every reply was sent");
}

#[test]
fn killed_flush_on_postgres_is_sent_again_after_its_lease() {
    let url = new_database();
    let env = home_on(Some(url.clone()));
    let pg = fanlic_testkit::postgres::PgCluster::shared();
    killed_flush_is_sent_again_after_its_lease(&env, || {
        let out = pg.psql(&url, "SELECT coalesce(leased_by, '') FROM outbox ORDER BY outbox_id");
        out.lines().map(str::to_owned).collect()
    });
}

#[test]
fn killed_flush_on_sqlite_is_sent_again_after_its_lease() {
    let env = home_on(None);
    let db = env.home.join("fanlic.db");
    killed_flush_is_sent_again_after_its_lease(&env, || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = conn.prepare("SELECT coalesce(leased_by, '') FROM outbox ORDER BY outbox_id").unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
    });
}

/// A flush that stalled past its lease (here: a lease taken straight in
/// the store by a holder that then does nothing) loses the replies to the
/// next flush once the lease has run out, and can then record nothing about
/// them: neither an outcome nor a renewal.
fn stale_holder_records_nothing(env: &Env, mut store: fanlic_issuer::store::Store) {
    const STALE: &str = "stalled-host:1:00";
    const LEASE: u64 = 3;
    let ids = queue_replies(env, 2);
    let maildir = env.dir.join("received");
    let port = free_port();
    let _server = SmtpServer::start(port, &maildir);
    let claimed_at = Instant::now();
    let now = fanlic_issuer::util::clock::now().unwrap();
    let until = fanlic_formats::Timestamp(now.0 + LEASE);
    let claimed = store.write(|tx| tx.claim_replies(now, now, until, STALE, 16)).unwrap();
    assert_eq!(claimed.iter().map(|r| r.id).collect::<BTreeSet<_>>(), ids);
    // Claimed once only: a second claim at once gets nothing.
    assert!(store.write(|tx| tx.claim_replies(now, now, until, "another:2:00", 16)).unwrap().is_empty());

    let early = report(spawn_flush(env, port, None));
    assert!(claimed_at.elapsed() < Duration::from_secs(LEASE - 1), "the early flush came too late to test the lease");
    assert_eq!((early["sent"].as_array().unwrap().len(), &early["leased_elsewhere"]), (0, &Value::from(2)), "{early}");
    thread::sleep(Duration::from_secs(LEASE + 1).saturating_sub(claimed_at.elapsed()));
    let late = report(spawn_flush(env, port, None));
    assert_eq!(sent_ids(&late).into_iter().collect::<BTreeSet<_>>(), ids, "{late}");

    let id = *ids.first().unwrap();
    let later = fanlic_formats::Timestamp(now.0 + LEASE + 1);
    assert!(!store.write(|tx| tx.mark_reply_retry(id, 1, later, "stale", STALE)).unwrap());
    assert!(!store.write(|tx| tx.mark_reply_failed(id, 1, "stale", STALE)).unwrap());
    assert!(!store.write(|tx| tx.mark_reply_sent(id, later, "stale", STALE)).unwrap());
    assert!(store.write(|tx| tx.renew_leases(STALE, later)).unwrap().is_empty());
    let all = outbox(env, true);
    assert!(all.values().all(|e| e["status"] == "sent" && e["attempts"] == 0 && e["sent_via"] != "stale"), "{all:?}");
    assert_eq!(received(&maildir).len(), 2);
}

#[test]
fn stale_holder_on_postgres_records_nothing() {
    let url = new_database();
    let env = home_on(Some(url.clone()));
    let db = fanlic_issuer::store::Database::Postgres(url.parse().unwrap());
    stale_holder_records_nothing(&env, fanlic_issuer::store::Store::open_database(&db, false).unwrap());
}

#[test]
fn stale_holder_on_sqlite_records_nothing() {
    let env = home_on(None);
    let store = fanlic_issuer::store::Store::open(&env.home.join("fanlic.db"), false).unwrap();
    stale_holder_records_nothing(&env, store);
}

/// A batch that takes longer than one lease (a slow SMTP server: 1.5 s a
/// message, lease 4 s, 4 replies) keeps its replies: the flush renews its
/// leases as it goes, and flushes started meanwhile, again and again, take
/// none of them. Each reply reaches a server once.
fn long_batch_keeps_its_leases(env: &Env) {
    const N: usize = 4;
    const LEASE: u64 = 4;
    let ids = queue_replies(env, N);
    let slow = env.dir.join("slow");
    let slow_port = free_port();
    let _slow = StallingSmtp::start(slow_port, &slow, Duration::from_millis(1500));
    let maildir = env.dir.join("received");
    let port = free_port();
    let _server = SmtpServer::start(port, &maildir);

    let mut long = spawn_flush(env, slow_port, Some(LEASE));
    // Once the server has the first message, the slow flush holds all four.
    let start = Instant::now();
    while !slow.join("1.eml").is_file() {
        assert!(start.elapsed() < Duration::from_secs(30), "the slow flush never sent");
        thread::sleep(Duration::from_millis(20));
    }
    let claimed = Instant::now();
    // Flushes at once, again and again until it ends; some after the first
    // lease would have run out without renewal.
    let (mut others, mut after_first_lease) = (Vec::new(), 0);
    while long.try_wait().unwrap().is_none() {
        let late = claimed.elapsed() > Duration::from_secs(LEASE);
        others.push(report(spawn_flush(env, port, Some(LEASE))));
        after_first_lease += usize::from(late);
        assert!(claimed.elapsed() < Duration::from_secs(60), "the slow flush did not end");
        thread::sleep(Duration::from_millis(200));
    }
    let long = report(long);
    assert_eq!(sent_ids(&long).into_iter().collect::<BTreeSet<_>>(), ids, "{long}");
    assert_eq!(long["lease_lost"], Value::Array(vec![]), "{long}");
    assert!(after_first_lease >= 1, "no flush ran after the first lease would have run out ({} in all)", others.len());
    for r in &others {
        assert_eq!(r["sent"], Value::Array(vec![]), "a flush took a reply the slow flush held: {r}");
    }
    assert!(received(&maildir).is_empty());
    let got: BTreeSet<String> = StallingSmtp::taken(&slow).iter().map(|m| message_id(m)).collect();
    assert_eq!(got.len(), N);
}

#[test]
fn long_batch_on_postgres_keeps_its_leases() {
    long_batch_keeps_its_leases(&home_on(Some(new_database())));
}

#[test]
fn long_batch_on_sqlite_keeps_its_leases() {
    long_batch_keeps_its_leases(&home_on(None));
}
