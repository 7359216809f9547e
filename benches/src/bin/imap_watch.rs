//! Mail intake over IMAP: the released `fanlic watch imaps://…` against a
//! real Dovecot (`fanlic_testkit::dovecot`: Debian's dovecot-imapd, its own
//! CA, loopback) and a real SMTP server (aiosmtpd, with a handler that
//! prints when it accepts each reply and the reply's `In-Reply-To`).
//!
//! ```text
//! cargo build --release -p fanlic-issuer --bin fanlic          # in the workspace root
//! cd benches && cargo run --release --features ingest --bin imap_watch -- [--latency N] [--gap MS] [--backlog N] [--short]
//! ```
//!
//! 1. Latency: `fanlic watch URL --json --smtp-host … --smtp-tls none`
//!    (IDLE), then N registration mails (default 500) appended one at a
//!    time, `--gap` ms (default 200) after the previous reply so that the
//!    watcher waits in IDLE; for each, from just before its APPEND to the
//!    moment aiosmtpd accepts the reply that answers it. Goal: p99 < 2 s.
//! 2. Throughput: a backlog of N mails (default 10,000) appended first
//!    (timed apart), then `fanlic watch URL --once --batch 256` with the
//!    SMTP flush, start to exit, every decision, move and reply checked.
//!    Goal: ≥ 500 mails/s. For reference, in the same run: the same backlog
//!    without an SMTP server (replies stay queued), and `fanlic ingest` of
//!    the same mails from a Maildir (BENCHMARKS.md §4).
//!
//! `--short`: 50 and 500. `--wrap 'strace -f -tt -o FILE'`: each `fanlic
//! watch` under that command, to see where its time goes. Every run has a
//! fresh home (SQLite). Mail is appended by one long-lived `python3`
//! imaplib process (one TLS session), so the APPENDs do not pay a process
//! start and a login each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use core::time::Duration;
use std::{
    fs,
    io::{BufRead as _, BufReader, Read as _, Write as _},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, ChildStdout, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    thread,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use fanlic_testkit::dovecot::Dovecot;

const AUTHSERV: &str = "mx.vendor.example";
const PASS: &str = "mx.vendor.example; dkim=pass header.d=customer.example";
const SUBJECT: &str = "Official Authorization Document of Customer Trading Co., Ltd.'s Registration for FineReport";
/// The clean registration the issuer's integration tests send (`issuer/tests/it/common/mod.rs`).
const BODY: &str = include_str!("../../../fixtures/emails/bodies/clean-registration.txt");
/// How long one mail of the latency run may take before the bench gives up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

const USAGE: &str =
    "imap_watch [--latency N=500] [--gap MS=200] [--backlog N=10000] [--short] [--fanlic PATH] [--wrap 'CMD ARGS']";

/// A clean, authenticated registration for its own project (local
/// container): issued, and answered with the license.
fn mail(id: &str, project: &str) -> Vec<u8> {
    let mut s = String::new();
    s.push_str(&format!("Authentication-Results: {PASS}\r\n"));
    s.push_str("Received: from mail.customer.example by mx.vendor.example; Fri, 20 Nov 2026 09:30:05 +0800\r\n");
    s.push_str("From: Alice <Alice@Customer.example>\r\n");
    s.push_str(&format!("To: license@vendor.example\r\nSubject: {SUBJECT}\r\nMessage-ID: <{id}>\r\n"));
    s.push_str("Date: Fri, 20 Nov 2026 09:30:00 +0800\r\n");
    s.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    assert!(BODY.contains("Project name: webroot\n"), "the fixture's project line moved");
    s.push_str(&BODY.replace("Project name: webroot\n", &format!("Project name: {project}\n")).replace('\n', "\r\n"));
    s.into_bytes()
}

/// The long-lived appender: one imaplib session over TLS; per command a line
/// `append MAILBOX LEN` and LEN bytes, or `count MAILBOX`; answers one line.
const APPENDER: &str = r#"
import imaplib, os, re, ssl, sys
ctx = ssl.create_default_context(cafile=os.environ["BENCH_CA"])
m = imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["BENCH_PORT"]), ssl_context=ctx, timeout=120)
m.login(os.environ["BENCH_USER"], os.environ["BENCH_PASSWORD"])
inp = sys.stdin.buffer
print("ready", flush=True)
while True:
    line = inp.readline()
    if not line:
        break
    words = line.decode().split()
    if words[0] == "append":
        data = inp.read(int(words[2]))
        typ, resp = m.append(words[1], None, None, data)
        if typ != "OK":
            print("error", typ, resp, flush=True)
            continue
        uid = re.search(rb"APPENDUID \d+ (\d+)", resp[0] or b"")
        print("ok", uid.group(1).decode() if uid else "0", flush=True)
    elif words[0] == "count":
        typ, resp = m.status(words[1], "(MESSAGES)")
        n = re.search(rb"MESSAGES (\d+)", resp[0] or b"") if typ == "OK" else None
        print("ok", n.group(1).decode() if n else "0", flush=True)
m.logout()
"#;

/// The SMTP server: aiosmtpd accepting everything, printing for each
/// message, flushed, `time.time()` and the `In-Reply-To` it carries.
const SMTP_SERVER: &str = r#"
import email.parser, sys, time
from aiosmtpd.controller import Controller

class Handler:
    async def handle_DATA(self, server, session, envelope):
        headers = email.parser.BytesHeaderParser().parsebytes(envelope.content)
        irt = " ".join((headers.get("In-Reply-To") or "-").split())
        sys.stdout.write("%.6f %s\n" % (time.time(), irt))
        sys.stdout.flush()
        return "250 OK"

c = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
sys.stdin.read()  # until the bench closes it
c.stop()
"#;

struct Appender {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Appender {
    fn start(dc: &Dovecot, script: &Path) -> Self {
        let mut child = Command::new("python3")
            .arg(script)
            .env("BENCH_CA", dc.ca_file())
            .env("BENCH_PORT", dc.imaps_port().to_string())
            .env("BENCH_USER", dc.user())
            .env("BENCH_PASSWORD", dc.password())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 (the IMAP appender)");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut a = Appender { child, stdin, stdout };
        let ready = a.line();
        assert_eq!(ready, "ready", "the appender did not log in: {ready:?}");
        a
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.stdout.read_line(&mut l).unwrap();
        l.trim_end().to_owned()
    }

    fn answer(&mut self, what: &str) -> u64 {
        let l = self.line();
        l.strip_prefix("ok ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{what}: the IMAP server answered {l:?}"))
    }

    /// APPEND; the new message's UID.
    fn append(&mut self, mailbox: &str, message: &[u8]) -> u64 {
        writeln!(self.stdin, "append {mailbox} {}", message.len()).unwrap();
        self.stdin.write_all(message).unwrap();
        self.stdin.flush().unwrap();
        self.answer("APPEND")
    }

    /// STATUS (MESSAGES).
    fn count(&mut self, mailbox: &str) -> u64 {
        writeln!(self.stdin, "count {mailbox}").unwrap();
        self.stdin.flush().unwrap();
        self.answer("STATUS")
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// aiosmtpd on 127.0.0.1:`port`; what it accepted comes through `received`
/// as (UNIX time, In-Reply-To without the angle brackets).
struct Smtp {
    child: Child,
    port: u16,
    received: mpsc::Receiver<(f64, String)>,
}

impl Smtp {
    fn start(script: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 (aiosmtpd)");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut ready = String::new();
        out.read_line(&mut ready).unwrap();
        assert_eq!(ready.trim(), "ready", "aiosmtpd did not start");
        let (tx, received) = mpsc::channel();
        thread::spawn(move || {
            for line in out.lines() {
                let line = line.unwrap();
                let (t, irt) = line.split_once(' ').unwrap();
                if tx.send((t.parse().unwrap(), irt.trim_matches(['<', '>']).to_owned())).is_err() {
                    break;
                }
            }
        });
        Smtp { child, port, received }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Seconds of CPU of the children this process has waited for (`cutime` +
/// `cstime` of `/proc/self/stat`, ticks of 10 ms).
fn reaped_cpu() -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap();
    let rest = stat.rsplit_once(')').unwrap().1;
    let f: Vec<u64> = rest.split_whitespace().map(|v| v.parse().unwrap_or(0)).collect();
    (f[13] + f[14]) as f64 / 100.0
}

/// A fresh home trusting [`AUTHSERV`] with one contract for every project
/// of the bench, made with the binary under test.
fn new_home(fanlic: &Path, root: &Path, name: &str) -> PathBuf {
    let home = root.join(name);
    run_ok(fanlic, &home, &["init", "--authserv-id", AUTHSERV]);
    run_ok(
        fanlic,
        &home,
        &[
            "contract",
            "add",
            "--company",
            "Customer Trading Co., Ltd.",
            "--email",
            "Alice@Customer.example",
            "--signed",
            "2026/11/20",
            "--product",
            "FineReport",
            "--methods",
            "local-container",
            "--max-nodes",
            "3",
            "--version",
            "11.0",
            "--expires",
            "2099-12-31",
            "--max-licenses",
            "100000000",
        ],
    );
    home
}

/// The binary with a clean environment of its own: this home, no SMTP
/// server but the one given on the command line.
fn fanlic_cmd(fanlic: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(fanlic);
    cmd.env("FANLIC_HOME", home).env("USER", "bench");
    for var in ["FANLIC_SMTP_HOST", "FANLIC_SMTP_PORT", "FANLIC_SMTP_TLS", "FANLIC_DATABASE_URL"] {
        cmd.env_remove(var);
    }
    cmd
}

/// [`fanlic_cmd`] for `fanlic watch`, under `--wrap` when given.
fn watch_cmd(s: &Setup<'_>, home: &Path) -> Command {
    let cmd = fanlic_cmd(s.fanlic, home);
    let Some((program, rest)) =
        s.wrap.split_whitespace().collect::<Vec<_>>().split_first().map(|(p, r)| (*p, r.to_vec()))
    else {
        return cmd;
    };
    // The same environment, the wrapper in front.
    let mut wrapped = Command::new(program);
    wrapped.args(rest).arg(cmd.get_program()).envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
    for var in ["FANLIC_SMTP_HOST", "FANLIC_SMTP_PORT", "FANLIC_SMTP_TLS", "FANLIC_DATABASE_URL"] {
        wrapped.env_remove(var);
    }
    println!("wrapped in {}", s.wrap);
    wrapped
}

fn run_ok(fanlic: &Path, home: &Path, args: &[&str]) {
    let out = fanlic_cmd(fanlic, home).args(args).output().unwrap();
    assert!(out.status.success(), "fanlic {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn shell_line(fanlic: &Path, args: &[String]) -> String {
    format!("FANLIC_HOME=… FANLIC_IMAP_PASSWORD=… {} {}", fanlic.display(), args.join(" "))
}

/// The `q` quantile of `sorted` (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn load() -> String {
    fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

struct Setup<'a> {
    fanlic: &'a Path,
    dc: &'a Dovecot,
    tmp: &'a Path,
    appender: &'a mut Appender,
    wrap: &'a str,
}

fn main() {
    let mut latency_n = 500usize;
    let mut backlog_n = 10_000usize;
    let mut wrap = String::new();
    let mut gap_ms = 200u64;
    let mut fanlic = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/fanlic");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut number = || args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{a}: N\n{USAGE}"));
        match a.as_str() {
            "--latency" => latency_n = number(),
            "--gap" => gap_ms = number() as u64,
            "--backlog" => backlog_n = number(),
            "--short" => (latency_n, backlog_n) = (50, 500),
            "--fanlic" => fanlic = PathBuf::from(args.next().unwrap_or_else(|| panic!("--fanlic PATH\n{USAGE}"))),
            // Each `fanlic watch` under another command (`strace -f -tt -o FILE`), to see where
            // its time goes; the figures of such a run are not the bench's.
            "--wrap" => wrap = args.next().unwrap_or_else(|| panic!("--wrap 'CMD ARGS'\n{USAGE}")),
            _ => panic!("unknown option {a}\nusage: {USAGE}"),
        }
    }
    let fanlic = fanlic.canonicalize().unwrap_or_else(|_| {
        panic!(
            "{} is missing: build the released binary first, from the workspace root: `cargo build --release -p \
             fanlic-issuer --bin fanlic`",
            fanlic.display()
        )
    });
    let aiosmtpd = Command::new("python3").args(["-c", "import aiosmtpd"]).status();
    assert!(
        matches!(aiosmtpd, Ok(s) if s.success()),
        "the bench replies to a real SMTP server: install it with `python3 -m pip install aiosmtpd`"
    );

    let tmp = tempfile::Builder::new().prefix("fanlic-imap-bench-").tempdir().unwrap();
    let appender_py = tmp.path().join("appender.py");
    let smtp_py = tmp.path().join("smtp.py");
    fs::write(&appender_py, APPENDER).unwrap();
    fs::write(&smtp_py, SMTP_SERVER).unwrap();

    let dc = Dovecot::start();
    let mut appender = Appender::start(&dc, &appender_py);
    println!("fanlic     {}", fanlic.display());
    println!("dovecot    {} (mail in {})", dc.setting("mail_location"), dc.dir().display());
    println!("home       {} (SQLite)", tmp.path().display());
    println!("load avg   {} at the start", load());
    let mut s = Setup { fanlic: &fanlic, dc: &dc, tmp: tmp.path(), appender: &mut appender, wrap: &wrap };
    if latency_n > 0 {
        latency(&mut s, latency_n, Duration::from_millis(gap_ms));
    }
    if backlog_n > 0 {
        throughput(&mut s, backlog_n);
    }
    println!("\nload avg   {} at the end", load());
}

/// `fanlic watch` (IDLE) running; its stdout lines, with when they were
/// read, come through `lines`; its stderr is kept.
struct Watcher {
    child: Child,
    lines: mpsc::Receiver<(f64, String)>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Watcher {
    fn start(s: &Setup<'_>, home: &Path, args: &[String]) -> Self {
        let mut child = watch_cmd(s, home)
            .args(args)
            .env("FANLIC_IMAP_PASSWORD", s.dc.password())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if tx.send((now(), line)).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (err, kept) = (BufReader::new(child.stderr.take().unwrap()), Arc::clone(&stderr));
        thread::spawn(move || {
            for line in err.lines() {
                let Ok(line) = line else { break };
                kept.lock().unwrap().push(line);
            }
        });
        Watcher { child, lines, stderr }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // SIGTERM, as an operator stops it; it ends between two steps.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let start = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) && start.elapsed() < Duration::from_secs(10) {
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `gap`: the pause after each reply before the next APPEND, so that the
/// watcher is back in IDLE when the mail comes (without it the next mail is
/// often there before the watcher's pass ends, and no IDLE is waited for).
fn latency(s: &mut Setup<'_>, n: usize, gap: Duration) {
    let home = new_home(s.fanlic, s.tmp, "home-latency");
    let smtp = Smtp::start(&s.tmp.join("smtp.py"));
    let decided = "Decided-latency";
    let args: Vec<String> = [
        "watch",
        &s.dc.url("INBOX"),
        "--json",
        "--decided-folder",
        decided,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &smtp.port.to_string(),
        "--smtp-tls",
        "none",
        "--ca-file",
        s.dc.ca_file().to_str().unwrap(),
    ]
    .map(str::to_owned)
    .into();
    println!(
        "\n== 1. latency: {n} mails appended one at a time, each until its reply is accepted, then {} ms of pause",
        gap.as_millis()
    );
    println!("command    {}", shell_line(s.fanlic, &args));
    let mut watcher = Watcher::start(s, &home, &args);
    let start = Instant::now();
    while !watcher.stderr().contains("watching ") {
        if let Ok(Some(status)) = watcher.child.try_wait() {
            panic!("fanlic watch ended ({status}) before it connected:\n{}", watcher.stderr());
        }
        assert!(start.elapsed() < Duration::from_secs(30), "fanlic watch did not connect:\n{}", watcher.stderr());
        thread::sleep(Duration::from_millis(10));
    }
    println!("connected  after {:.0} ms (\"watching …\" on stderr)", start.elapsed().as_secs_f64() * 1e3);
    // Settle: the first IDLE is entered once the empty first pass is done.
    thread::sleep(Duration::from_millis(500));
    let (mut total, mut append, mut to_decision, mut to_reply) = (vec![], vec![], vec![], vec![]);
    let mut slowest = (0usize, 0.0f64);
    let load_before = load();
    for i in 0..n {
        if i > 0 {
            thread::sleep(gap);
        }
        let id = format!("lat-{i}@customer.example");
        let message = mail(&id, &format!("latency-{i}"));
        let t0 = now();
        s.appender.append("INBOX", &message);
        let t_appended = now();
        // The decision line, then the reply.
        let mut t_decided = None;
        let deadline = Instant::now() + REPLY_TIMEOUT;
        while t_decided.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let (t, line) = watcher.lines.recv_timeout(left).unwrap_or_else(|e| {
                panic!("mail {i}: no decision within {REPLY_TIMEOUT:?} ({e}):\n{}", watcher.stderr())
            });
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            if let Some(d) = v.get("decision") {
                assert_eq!(d, "issued", "{line}");
                assert_eq!(v["message_id"].as_str().map(|m| m.trim_matches(['<', '>'])), Some(id.as_str()), "{line}");
                t_decided = Some(t);
            }
        }
        let (t_reply, irt) = smtp
            .received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|e| panic!("mail {i}: no reply within {REPLY_TIMEOUT:?} ({e}):\n{}", watcher.stderr()));
        assert_eq!(irt, id, "the replies came in another order");
        let t_decided = t_decided.unwrap();
        if t_reply - t0 > slowest.1 {
            slowest = (i, t_reply - t0);
        }
        total.push(t_reply - t0);
        append.push(t_appended - t0);
        to_decision.push(t_decided - t_appended);
        to_reply.push(t_reply - t_decided);
    }
    let load_after = load();
    drop(watcher);
    assert_eq!(s.appender.count("INBOX"), 0, "every mail moved out of INBOX");
    assert_eq!(s.appender.count(decided) as usize, n, "every mail in {decided}");
    let ms = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(f64::total_cmp);
        quantile(v, q) * 1e3
    };
    println!("load avg   {load_before} before, {load_after} after");
    println!(
        "APPEND start -> reply accepted   p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms  (n = {n})",
        ms(&mut total, 0.5),
        ms(&mut total, 0.9),
        ms(&mut total, 0.99),
        ms(&mut total, 1.0)
    );
    for (what, v) in [
        ("  APPEND (bench -> Dovecot, OK)", &mut append),
        ("  APPEND OK -> decision line   ", &mut to_decision),
        ("  decision line -> reply       ", &mut to_reply),
    ] {
        println!(
            "{what}   p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            ms(v, 0.5),
            ms(v, 0.9),
            ms(v, 0.99),
            ms(v, 1.0)
        );
    }
    println!("slowest    mail #{} of 0..{n}: {:.1} ms", slowest.0, slowest.1 * 1e3);
    let p99 = ms(&mut total, 0.99);
    println!(
        "goal p99 < 2 s: {} (p99 {p99:.1} ms); {} of {n} were in {decided}, 0 left in INBOX",
        verdict(p99 < 2000.0),
        n
    );
    println!(
        "result latency n={n} gap_ms={} p50_ms={:.1} p99_ms={p99:.1} max_ms={:.1}",
        gap.as_millis(),
        ms(&mut total, 0.5),
        ms(&mut total, 1.0)
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "MET" } else { "MISSED" }
}

/// Appends `n` mails `tp-{tag}-{i}` to INBOX; seconds taken.
fn backlog(s: &mut Setup<'_>, tag: &str, n: usize) -> f64 {
    assert_eq!(s.appender.count("INBOX"), 0, "INBOX is empty before a backlog");
    let t = Instant::now();
    for i in 0..n {
        s.appender.append("INBOX", &mail(&format!("tp-{tag}-{i}@customer.example"), &format!("{tag}-{i}")));
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(s.appender.count("INBOX") as usize, n);
    println!("backlog    {n} mails appended in {secs:.2} s = {:.0} APPENDs/s (one imaplib session)", n as f64 / secs);
    secs
}

struct Run {
    secs: f64,
    cpu: f64,
}

/// `fanlic watch URL --once --batch 256 --json`, with aiosmtpd or without;
/// checks every decision, move and reply.
fn watch_backlog(s: &mut Setup<'_>, n: usize, with_smtp: bool) -> Run {
    let tag = if with_smtp { "smtp" } else { "queued" };
    println!(
        "\n== 2{}. throughput: {n} mails in INBOX, fanlic watch --once {}",
        if with_smtp { "a" } else { "b" },
        if with_smtp { "with the SMTP flush" } else { "without an SMTP server (replies stay queued)" }
    );
    let home = new_home(s.fanlic, s.tmp, &format!("home-{tag}"));
    backlog(s, tag, n);
    let smtp = with_smtp.then(|| Smtp::start(&s.tmp.join("smtp.py")));
    let decided = format!("Decided-{tag}");
    let mut args: Vec<String> = [
        "watch",
        &s.dc.url("INBOX"),
        "--once",
        "--batch",
        "256",
        "--json",
        "--decided-folder",
        &decided,
        "--ca-file",
        s.dc.ca_file().to_str().unwrap(),
    ]
    .map(str::to_owned)
    .into();
    if let Some(smtp) = &smtp {
        args.extend(
            ["--smtp-host", "127.0.0.1", "--smtp-port", &smtp.port.to_string(), "--smtp-tls", "none"]
                .map(str::to_owned),
        );
    }
    println!("command    {}", shell_line(s.fanlic, &args));
    let load_before = load();
    let cpu = reaped_cpu();
    let t0 = now();
    let t = Instant::now();
    let mut child = watch_cmd(s, &home)
        .args(&args)
        .env("FANLIC_IMAP_PASSWORD", s.dc.password())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let err = thread::spawn(move || {
        let mut e = String::new();
        let _ = err.read_to_string(&mut e);
        e
    });
    let (mut issued, mut sent, mut first, mut last) = (0usize, 0usize, None, 0.0f64);
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if let Some(d) = v.get("decision") {
            assert_eq!(d, "issued", "{line}");
            issued += 1;
            let at = now() - t0;
            first.get_or_insert(at);
            last = at;
        } else if let Some(o) = v.get("outbox") {
            sent += o["sent"].as_array().map_or(0, Vec::len);
        }
    }
    let status = child.wait().unwrap();
    let secs = t.elapsed().as_secs_f64();
    let cpu = reaped_cpu() - cpu;
    let load_after = load();
    let err = err.join().unwrap();
    assert!(status.success(), "fanlic watch --once: {status}\n{err}");
    // Every reply accepted by aiosmtpd: the In-Reply-To of each mail, once.
    let mut replies = 0usize;
    let mut last_reply = 0.0f64;
    if let Some(smtp) = &smtp {
        let mut seen = std::collections::HashSet::new();
        while let Ok((at, irt)) = smtp.received.recv_timeout(Duration::from_secs(2)) {
            assert!(irt.starts_with("tp-smtp-") && seen.insert(irt.clone()), "an unexpected reply: {irt}");
            last_reply = last_reply.max(at - t0);
            replies += 1;
        }
        assert_eq!(replies, n, "replies accepted by aiosmtpd");
        assert_eq!(sent, n, "replies the outbox lines say were sent");
    }
    assert_eq!(issued, n, "decisions (issued)");
    assert_eq!(s.appender.count("INBOX"), 0, "INBOX empty");
    assert_eq!(s.appender.count(&decided) as usize, n, "mails in {decided}");
    println!("load avg   {load_before} before, {load_after} after");
    println!(
        "checked    {issued} decisions (issued), INBOX 0, {decided} {n}{}",
        if with_smtp {
            format!(", {replies} replies accepted by aiosmtpd ({sent} in the outbox lines)")
        } else {
            ", replies queued".to_owned()
        }
    );
    println!(
        "wall       {secs:.2} s start to exit = {:.0} mails/s end to end; first decision at {:.2} s, last at {:.2} s{}",
        n as f64 / secs,
        first.unwrap_or(0.0),
        last,
        if with_smtp { format!(", last reply accepted at {last_reply:.2} s") } else { String::new() }
    );
    println!("CPU        fanlic {cpu:.2} s (user + system) = {:.0} µs/mail", cpu * 1e6 / n as f64);
    Run { secs, cpu }
}

fn throughput(s: &mut Setup<'_>, n: usize) {
    let smtp = watch_backlog(s, n, true);
    let queued = watch_backlog(s, n, false);

    // The same mails from a Maildir, `fanlic ingest` (§4).
    println!("\n== 2c. reference: fanlic ingest of the same {n} mails from a Maildir");
    let home = new_home(s.fanlic, s.tmp, "home-maildir");
    let md = s.tmp.join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        fs::create_dir_all(md.join(sub)).unwrap();
    }
    for i in 0..n {
        let name = format!("{:010}.M{i}P1.bench", 1_790_000_000 + i);
        fs::write(md.join("new").join(name), mail(&format!("tp-md-{i}@customer.example"), &format!("md-{i}"))).unwrap();
    }
    let args: Vec<String> = ["ingest", md.to_str().unwrap(), "--batch", "256", "--json"].map(str::to_owned).into();
    println!("command    {}", shell_line(s.fanlic, &args).replace(" FANLIC_IMAP_PASSWORD=…", ""));
    let load_before = load();
    let cpu = reaped_cpu();
    let t = Instant::now();
    let out = fanlic_cmd(s.fanlic, &home).args(&args).output().unwrap();
    let secs = t.elapsed().as_secs_f64();
    let cpu = reaped_cpu() - cpu;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let issued = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains("\"decision\":\"issued\"")).count();
    assert_eq!(issued, n, "decisions (issued)");
    assert_eq!(fs::read_dir(md.join("new")).unwrap().count(), 0);
    assert_eq!(fs::read_dir(md.join("cur")).unwrap().count(), n);
    println!("load avg   {load_before} before, {}", load());
    println!("checked    {issued} decisions (issued), new/ 0, cur/ {n}");
    println!("wall       {secs:.2} s = {:.0} mails/s", n as f64 / secs);
    println!("CPU        fanlic {cpu:.2} s (user + system) = {:.0} µs/mail", cpu * 1e6 / n as f64);

    println!("\n== summary ({n} mails)");
    println!("| run | wall s | mails/s | fanlic CPU µs/mail | mails/s ÷ Maildir ingest's |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (what, r) in [
        ("watch imaps --once, SMTP flush", &smtp),
        ("watch imaps --once, replies queued", &queued),
        ("ingest Maildir", &Run { secs, cpu }),
    ] {
        println!(
            "| {what} | {:.2} | {:.0} | {:.0} | {:.2}x |",
            r.secs,
            n as f64 / r.secs,
            r.cpu * 1e6 / n as f64,
            secs / r.secs
        );
    }
    let rate = n as f64 / smtp.secs;
    println!("goal ≥ 500 mails/s end to end (SMTP flush): {} ({rate:.0} mails/s)", verdict(rate >= 500.0));
    println!(
        "SMTP share: {:.2} s of {:.2} s ({:.0} %)",
        smtp.secs - queued.secs,
        smtp.secs,
        (smtp.secs - queued.secs) / smtp.secs * 100.0
    );
    println!(
        "result throughput n={n} smtp_per_s={rate:.1} queued_per_s={:.1} maildir_per_s={:.1}",
        n as f64 / queued.secs,
        n as f64 / secs
    );
}
