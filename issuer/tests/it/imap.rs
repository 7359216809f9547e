//! `fanlic watch imaps://…` against a real Dovecot from Debian (started by
//! `fanlic_testkit::dovecot`: its own CA, a test user, loopback), mail put
//! in with IMAP APPEND as an MTA delivers it, and replies received by a
//! real SMTP server (aiosmtpd). CI installs both (`.ci/run`).

use core::time::Duration;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use fanlic_testkit::dovecot::Dovecot;
use serde_json::Value;

use crate::common::smtp::{SmtpServer, free_port};
use crate::common::{BODY, Env, PASS, body_for, fanlic_cmd, fanlic_with, mail, query_texts, setup};

/// The folder decided mail goes to in these tests (the default is checked apart).
const DECIDED: &str = "Decided";

fn clean(id: &str, project: &str) -> Vec<u8> {
    mail(Some(PASS), id, &body_for(project)).into_bytes()
}

/// `fanlic watch URL --once --json` with the test user's password: stdout
/// lines as JSON, and the exit code.
fn watch_once(env: &Env, dc: &Dovecot, url: &str, extra: &[&str]) -> (Vec<Value>, i32, String) {
    watch_once_with(env, dc, url, extra, &[])
}

/// [`watch_once`] with more environment variables.
fn watch_once_with(
    env: &Env,
    dc: &Dovecot,
    url: &str,
    extra: &[&str],
    vars: &[(&str, &str)],
) -> (Vec<Value>, i32, String) {
    let ca = dc.ca_file().to_str().unwrap().to_owned();
    let mut args = vec!["watch", url, "--once", "--json", "--ca-file", &ca, "--decided-folder", DECIDED];
    args.extend_from_slice(extra);
    let mut all: Vec<(&str, &std::ffi::OsStr)> = vec![("FANLIC_IMAP_PASSWORD", dc.password().as_ref())];
    all.extend(vars.iter().map(|(k, v)| (*k, v.as_ref())));
    let out = fanlic_with(env, &all, &args, None);
    let lines = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (lines, out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn decisions(lines: &[Value]) -> Vec<String> {
    lines.iter().filter_map(|l| l["decision"].as_str().map(str::to_owned)).collect()
}

#[test]
fn a_registration_is_decided_moved_and_answered_over_smtp() {
    let env = setup();
    let dc = Dovecot::start();
    dc.append("INBOX", &clean("imap-1@customer.example", "webroot"));
    let maildir = env.dir.join("received");
    let port = free_port();
    let _smtp = SmtpServer::start(port, &maildir);
    let port = port.to_string();
    let (lines, code, err) = watch_once(
        &env,
        &dc,
        &dc.url("INBOX"),
        &["--smtp-host", "127.0.0.1", "--smtp-port", &port, "--smtp-tls", "none"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(decisions(&lines), ["issued"], "{lines:?}");
    // Committed, then moved: the mailbox is empty, the decided folder holds it.
    assert_eq!(dc.count("INBOX"), 0);
    assert_eq!(dc.count(DECIDED), 1);
    // The reply left with the decision: aiosmtpd has it, the outbox says sent.
    let sent: Vec<&Value> = lines.iter().filter_map(|l| l.get("outbox")).collect();
    assert_eq!(sent.len(), 1, "{lines:?}");
    assert_eq!(sent[0]["sent"].as_array().unwrap().len(), 1, "{sent:?}");
    let received = std::fs::read_dir(maildir.join("new")).unwrap().count();
    assert_eq!(received, 1);
    // Its source names the mailbox, UIDVALIDITY and UID; no password anywhere.
    let source = lines[0]["source"].as_str().unwrap();
    assert!(source.starts_with("imaps://") && source.contains(";UIDVALIDITY=") && source.contains(";UID="), "{source}");
    assert!(!err.contains(dc.password()) && !source.contains(dc.password()));
    // A second pass finds nothing to do.
    let (lines, code, _) = watch_once(&env, &dc, &dc.url("INBOX"), &[]);
    assert_eq!((lines.len(), code), (0, 0), "{lines:?}");
}

#[test]
fn starttls_and_the_default_decided_folder() {
    let env = setup();
    let dc = Dovecot::start();
    dc.append("INBOX", &clean("imap-st@customer.example", "webroot"));
    let ca = dc.ca_file().to_str().unwrap().to_owned();
    let url = dc.starttls_url("INBOX");
    let out = fanlic_with(
        &env,
        &[("FANLIC_IMAP_PASSWORD", dc.password().as_ref())],
        &["watch", &url, "--once", "--json", "--ca-file", &ca],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(dc.count("INBOX"), 0);
    let made: Vec<String> = dc.mailboxes().into_iter().filter(|m| m.ends_with("decided")).collect();
    assert_eq!(made.len(), 1, "{:?}", dc.mailboxes());
    assert_eq!(dc.count(&made[0]), 1);
}

#[test]
fn wrong_credentials_and_an_untrusted_certificate_are_clear_errors() {
    let env = setup();
    let dc = Dovecot::start();
    dc.append("INBOX", &clean("imap-bad@customer.example", "webroot"));
    let url = dc.url("INBOX");
    let ca = dc.ca_file().to_str().unwrap().to_owned();
    // No CA given: the server's certificate is not trusted.
    let out = fanlic_with(&env, &[("FANLIC_IMAP_PASSWORD", dc.password().as_ref())], &["watch", &url, "--once"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("TLS") && err.contains("--ca-file"), "{err}");
    // A wrong password.
    let out = fanlic_with(
        &env,
        &[("FANLIC_IMAP_PASSWORD", "wrong".as_ref())],
        &["watch", &url, "--once", "--ca-file", &ca],
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("login as") && err.contains("refused"), "{err}");
    // No credentials at all.
    let out = fanlic_with(&env, &[], &["watch", &url, "--once", "--ca-file", &ca], None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("FANLIC_IMAP_PASSWORD"));
    // Nothing was decided or moved.
    assert_eq!(dc.count("INBOX"), 1);
    assert!(query_texts(&env, "SELECT dedup_key FROM decisions").is_empty());
}

#[test]
fn oauth2_logs_in_with_xoauth2_and_a_token_read_at_each_login() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = setup();
    let dc = Dovecot::start_with_oauth2();
    dc.append("INBOX", &clean("imap-oauth@customer.example", "webroot"));
    let token = env.dir.join("token");
    std::fs::write(&token, format!("{}\n", dc.oauth2_token())).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let token = token.to_str().unwrap().to_owned();
    let ca = dc.ca_file().to_str().unwrap().to_owned();
    let url = dc.url("INBOX");
    let out = fanlic_with(
        &env,
        &[],
        &[
            "watch",
            &url,
            "--once",
            "--json",
            "--ca-file",
            &ca,
            "--oauth2-token-file",
            &token,
            "--decided-folder",
            DECIDED,
        ],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(dc.count(DECIDED), 1);
    assert!(dc.introspections() >= 1, "Dovecot asked the token endpoint");
    // From a command, and a token the endpoint does not know.
    dc.append("INBOX", &clean("imap-oauth-2@customer.example", "p2"));
    let cmd = "printf 'not-a-valid-token\\n'";
    let out = fanlic_with(&env, &[], &["watch", &url, "--once", "--ca-file", &ca, "--oauth2-token-command", cmd], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused"), "{err}");
    assert!(!err.contains("not-a-valid-token"), "the token is not shown: {err}");
    assert_eq!(dc.count("INBOX"), 1);
}

/// `fanlic watch URL` running: its stdout lines come through a channel.
struct Watcher {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Watcher {
    fn start(env: &Env, dc: &Dovecot, extra: &[&str]) -> Self {
        let mut cmd = fanlic_cmd();
        cmd.args(["watch", &dc.url("INBOX"), "--json", "--ca-file", dc.ca_file().to_str().unwrap()])
            .args(["--decided-folder", DECIDED])
            .args(extra)
            .env("FANLIC_HOME", &env.home)
            .env("FANLIC_IMAP_PASSWORD", dc.password())
            .envs(env.database_env())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(serde_json::from_str(&l).unwrap()).is_err() {
                    return;
                }
            }
        });
        Self { child, lines }
    }

    /// The next decision line, within `within`.
    fn next_decision(&self, within: Duration) -> Option<Value> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let l = self.lines.recv_timeout(left).ok()?;
            if l.get("decision").is_some() {
                return Some(l);
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

#[test]
fn idle_decides_new_mail_within_seconds_and_survives_a_dropped_connection() {
    let env = setup();
    let dc = Dovecot::start();
    let w = Watcher::start(&env, &dc, &["--interval", "3600"]);
    // Let it log in and enter IDLE with an empty mailbox.
    std::thread::sleep(Duration::from_millis(1500));
    let t0 = Instant::now();
    dc.append("INBOX", &clean("idle-1@customer.example", "p1"));
    let l = w.next_decision(Duration::from_secs(10)).expect("decided while idle");
    let took = t0.elapsed();
    assert_eq!(l["decision"], "issued", "{l}");
    // --interval 3600: only IDLE can have brought it this soon.
    assert!(took < Duration::from_secs(5), "{took:?}");
    // The server drops every connection; the watcher connects again.
    dc.kick();
    std::thread::sleep(Duration::from_millis(300));
    dc.append("INBOX", &clean("idle-2@customer.example", "p2"));
    let l = w.next_decision(Duration::from_secs(20)).expect("decided after the connection was made again");
    assert_eq!(l["decision"], "issued", "{l}");
    assert_eq!(dc.count("INBOX"), 0);
    assert_eq!(dc.count(DECIDED), 2);
}

#[test]
fn a_decision_committed_but_not_moved_is_moved_by_the_next_pass() {
    let env = setup();
    let dc = Dovecot::start();
    let raw = clean("crash-1@customer.example", "webroot");
    dc.append("INBOX", &raw);
    // What a kill -9 between the commit and the move leaves: the decision
    // recorded, the message still in the mailbox. (`fanlic ingest` of the
    // same bytes records exactly that decision.)
    let eml = env.dir.join("same.eml");
    std::fs::write(&eml, &raw).unwrap();
    let out = fanlic_with(&env, &[], &["ingest", "--json", eml.to_str().unwrap()], None);
    assert!(out.status.success());
    // Moments after the decision, it is left for the watcher that made it
    // (another one may be about to move it).
    let (lines, code, err) = watch_once(&env, &dc, &dc.url("INBOX"), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(decisions(&lines), ["duplicate"], "{lines:?}");
    assert_eq!((dc.count("INBOX"), dc.count(DECIDED)), (1, 0));
    // Once that watcher had time to move it (a minute; 0 s here), the next pass does.
    let (lines, code, err) = watch_once_with(&env, &dc, &dc.url("INBOX"), &[], &[("FANLIC_WATCH_SETTLE_SECS", "0")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(decisions(&lines), ["duplicate"], "{lines:?}");
    assert_eq!((dc.count("INBOX"), dc.count(DECIDED)), (0, 1));
    // One decision, one license: nothing was done twice.
    assert_eq!(query_texts(&env, "SELECT CAST(count(*) AS TEXT) FROM licenses"), ["1"]);
}

#[test]
fn two_watchers_on_one_mailbox_decide_each_mail_once() {
    let env = setup();
    let dc = Dovecot::start();
    let n = 40;
    let mails: Vec<Vec<u8>> = (0..n).map(|i| clean(&format!("two-{i}@customer.example"), &format!("p{i}"))).collect();
    dc.append_all("INBOX", &mails.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let ca = dc.ca_file().to_str().unwrap().to_owned();
    let url = dc.url("INBOX");
    let run = || {
        let mut cmd = fanlic_cmd();
        cmd.args(["watch", &url, "--once", "--json", "--batch", "4", "--ca-file", &ca, "--decided-folder", DECIDED])
            .env("FANLIC_HOME", &env.home)
            .env("FANLIC_IMAP_PASSWORD", dc.password())
            .envs(env.database_env())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().unwrap()
    };
    let (a, b) = (run(), run());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for o in [&a, &b] {
        assert!(o.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // Each message decided once (a second look at one is a duplicate, never a second license).
    let issued = query_texts(&env, "SELECT dedup_key FROM decisions WHERE decision = 'issued'");
    let mut distinct = issued.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!((issued.len(), distinct.len()), (n, n));
    assert_eq!(query_texts(&env, "SELECT CAST(count(*) AS TEXT) FROM licenses"), [n.to_string()]);
    // Each message moved once: none twice into the decided folder. A
    // message one watcher found decided by the other moments before is
    // left for that one to move; whatever is left, a later pass moves.
    let decided = dc.uids(DECIDED).len();
    assert_eq!(dc.count("INBOX") + decided, n, "{decided} in {DECIDED}");
    let (_, code, err) = watch_once_with(&env, &dc, &url, &[], &[("FANLIC_WATCH_SETTLE_SECS", "0")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!((dc.count("INBOX"), dc.count(DECIDED)), (0, n));
}

#[test]
fn a_30_mb_message_is_refused_from_its_header_without_being_downloaded() {
    let env = setup();
    let dc = Dovecot::start();
    let mut big = mail(Some(PASS), "big-1@customer.example", BODY).into_bytes();
    // Past the 25 MiB limit: a long attachment-like body.
    let line = [b'A'; 76];
    while big.len() < 30 << 20 {
        big.extend_from_slice(&line);
        big.extend_from_slice(b"\r\n");
    }
    dc.append("INBOX", &big);
    dc.append("INBOX", &clean("small-1@customer.example", "webroot"));
    let (lines, code, err) = watch_once(&env, &dc, &dc.url("INBOX"), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(decisions(&lines), ["rejected", "issued"], "{lines:?}");
    let codes: Vec<&str> =
        lines[0]["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["message_too_large"]);
    // Only its header was read: that is all the decision keeps of it.
    let kept = query_texts(&env, "SELECT CAST(length(raw) AS TEXT) FROM decisions WHERE decision = 'rejected'");
    let kept: usize = kept[0].parse().unwrap();
    assert!(kept < 64 << 10, "kept {kept} bytes");
    assert_eq!((dc.count("INBOX"), dc.count(DECIDED)), (0, 2));
}

#[test]
fn replies_that_cannot_be_sent_stay_queued_and_the_status_says_what_happened() {
    let env = setup();
    let dc = Dovecot::start();
    dc.append("INBOX", &clean("down-1@customer.example", "webroot"));
    // Nothing listens on this port: the SMTP server is down.
    let port = free_port().to_string();
    let (lines, code, err) = watch_once(
        &env,
        &dc,
        &dc.url("INBOX"),
        &["--smtp-host", "127.0.0.1", "--smtp-port", &port, "--smtp-tls", "none"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(decisions(&lines), ["issued"], "{lines:?}");
    assert!(err.contains("not sent (stays queued"), "{err}");
    let out = fanlic_with(&env, &[], &["outbox", "list", "--json"], None);
    let queued: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(queued.as_array().unwrap().len(), 1, "{queued}");
    assert_eq!(queued[0]["status"], "pending", "{queued}");
    assert_eq!(queued[0]["attempts"], 1, "{queued}");
    // The status of that watch: what it decided, the reply that failed, not running.
    let out = fanlic_with(&env, &[], &["watch", "--status", "--json"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &all[0];
    assert_eq!(s["watching"], dc.url("INBOX").as_str(), "{all}");
    assert_eq!(
        (s["decided"].as_u64(), s["replies_failed"].as_u64(), s["running"].as_bool()),
        (Some(1), Some(1), Some(false)),
        "{all}"
    );
    assert!(s["last_error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{all}");
    let text = fanlic_with(&env, &[], &["watch", "--status"], None);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("not running") && text.contains("decided 1"), "{text}");
}

#[test]
fn a_watcher_killed_mid_run_leaves_nothing_decided_twice_or_lost() {
    let env = setup();
    let dc = Dovecot::start();
    let n = 40;
    let mails: Vec<Vec<u8>> = (0..n).map(|i| clean(&format!("kill-{i}@customer.example"), &format!("p{i}"))).collect();
    dc.append_all("INBOX", &mails.iter().map(Vec::as_slice).collect::<Vec<_>>());
    // One message per transaction: many commits and moves to be killed between.
    let mut w = Watcher::start(&env, &dc, &["--batch", "1"]);
    for _ in 0..8 {
        w.next_decision(Duration::from_secs(20)).expect("deciding");
    }
    // SIGKILL: wherever it is (reading, deciding, between a commit and its move).
    w.child.kill().unwrap();
    w.child.wait().unwrap();
    // A later pass (after the settling minute: 0 s here) finishes the job.
    let (_, code, err) = watch_once_with(&env, &dc, &dc.url("INBOX"), &[], &[("FANLIC_WATCH_SETTLE_SECS", "0")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(query_texts(&env, "SELECT CAST(count(*) AS TEXT) FROM licenses"), [n.to_string()]);
    let issued = query_texts(&env, "SELECT dedup_key FROM decisions WHERE decision = 'issued'");
    assert_eq!(issued.len(), n);
    assert_eq!((dc.count("INBOX"), dc.uids(DECIDED).len()), (0, n));
}
