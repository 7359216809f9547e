//! The Dovecot harness against Debian's real server: mail appended and read
//! back over IMAP, logins with the password (implicit TLS and STARTTLS) and
//! with OAuth 2.0 tokens checked by the introspection endpoint, the
//! capabilities the watcher relies on, dropped connections, an outage and its
//! end, and servers that do not outlive their owner, dropped or exited.

use core::{net::Ipv4Addr, panic::AssertUnwindSafe, time::Duration};
use std::{
    fs,
    io::{BufRead as _, BufReader, ErrorKind, Write as _},
    net::{TcpListener, TcpStream},
    path::Path,
    process::Command,
    thread,
    time::Instant,
};

use fanlic_testkit::dovecot::{Dovecot, USER};

const FIRST: &[u8] = b"From: shop@example.com\r\nTo: registrations@example.com\r\nSubject: first\r\n\r\nHello.\r\n";
const SECOND: &[u8] = b"From: shop@example.com\r\nTo: registrations@example.com\r\nSubject: second\r\n\r\nAgain.\r\n";

fn refuses_connections(port: u16) -> bool {
    match TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
        Ok(_) => false,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "connecting to 127.0.0.1:{port}: {e}");
            true
        }
    }
}

/// Waits up to `limit` for `done`; whether it came true.
fn within(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        thread::sleep(Duration::from_millis(50));
    }
    done()
}

/// The live processes whose command line names `dir`'s name: the master
/// (`-c DIR/dovecot.conf`) and its processes (`dovecot-NAME/imap`), the
/// watchdog aside.
fn processes_of(dir: &Path) -> Vec<String> {
    let needle = dir.file_name().unwrap().to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let zombie = fs::read_to_string(entry.path().join("status"))
            .is_ok_and(|s| s.lines().any(|l| l.starts_with("State:") && l.contains('Z')));
        if cmdline.contains(&needle) && !zombie && !cmdline.contains("fanlic-dovecot-watchdog") {
            found.push(format!("{}: {cmdline}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

#[test]
fn mail_appended_is_read_back_and_the_password_logs_in_with_tls_or_starttls() {
    let server = Dovecot::start();
    assert_eq!(server.user(), USER);
    let port = server.imaps_port();
    assert_eq!(server.url("INBOX"), format!("imaps://registrations@127.0.0.1:{port}/INBOX"));
    assert_eq!(
        server.starttls_url("Archive/2026 Q1"),
        format!("imap://registrations@127.0.0.1:{}/Archive/2026%20Q1", server.starttls_port())
    );
    assert_ne!(server.imaps_port(), server.starttls_port());

    assert!(server.uids("INBOX").is_empty());
    let first = server.append("INBOX", FIRST);
    let second = server.append("INBOX", SECOND);
    assert!(first < second, "{first} {second}");
    assert_eq!(server.uids("INBOX"), [first, second]);
    assert_eq!(server.count("INBOX"), 2);
    assert_eq!(server.message("INBOX", first), FIRST);
    assert_eq!(server.message("INBOX", second), SECOND);
    // Bare LF line ends arrive as CRLF, as an MTA stores them.
    server.create("Junk");
    let more = server.append_all("Junk", &[b"Subject: a\n\nA.\n", b"Subject: b\r\n\r\nB.\r\n"]);
    assert_eq!(more.len(), 2);
    assert_eq!(server.uids("Junk"), more);
    assert_eq!(server.message("Junk", more[0]), b"Subject: a\r\n\r\nA.\r\n");

    // Both ports, the password; the capabilities the watcher relies on.
    let caps = server.login_with_password(server.password()).unwrap();
    for cap in ["IMAP4rev1", "IDLE", "MOVE", "UIDPLUS"] {
        assert!(caps.iter().any(|c| c == cap), "no {cap} in {caps:?}");
    }
    assert!(!caps.iter().any(|c| c == "AUTH=XOAUTH2"), "{caps:?}");
    let caps = server.login_with_password_after_starttls(server.password()).unwrap();
    assert!(caps.iter().any(|c| c == "MOVE"), "{caps:?}");
    let refused = server.login_with_password("not the password").unwrap_err();
    assert!(refused.contains("AUTHENTICATIONFAILED"), "{refused}");
    // No OAuth 2.0 on this one.
    let refused = server.login_with_xoauth2("some-token").unwrap_err();
    assert!(refused.contains("Unsupported authentication mechanism"), "{refused}");

    // Mailboxes, and a move as another client would make it.
    server.create("Processed");
    server.create("Archive/2026 Q1");
    let boxes = server.mailboxes();
    for name in ["INBOX", "Processed", "Archive", "Archive/2026 Q1"] {
        assert!(boxes.iter().any(|b| b == name), "no {name} in {boxes:?}");
    }
    server.move_message("INBOX", first, "Processed");
    assert_eq!(server.uids("INBOX"), [second]);
    let moved = server.uids("Processed");
    assert_eq!(moved.len(), 1);
    assert_eq!(server.message("Processed", moved[0]), FIRST);

    // The settings the watcher's tests rely on.
    assert_eq!(server.setting("protocols"), "imap");
    assert_eq!(server.setting("listen"), "127.0.0.1");
    assert_eq!(server.setting("imap_idle_notify_interval"), "1 secs");
    // The log, written by Dovecot's log process a moment later.
    let logged = within(Duration::from_secs(5), || server.log_tail(50).contains("method=PLAIN"));
    assert!(logged, "{}", server.log_tail(50));
}

#[test]
fn oauth2_tokens_are_checked_by_the_introspection_endpoint() {
    let server = Dovecot::start_with_oauth2();
    assert_eq!(server.introspections(), 0);

    let caps = server.login_with_xoauth2(server.oauth2_token()).unwrap();
    assert!(caps.iter().any(|c| c == "IDLE"), "{caps:?}");
    assert_eq!(server.introspections(), 1);
    server.login_with_oauthbearer(server.oauth2_token()).unwrap();
    assert_eq!(server.introspections(), 2);

    // Another token: asked about, called inactive, refused.
    let wrong = "0".repeat(server.oauth2_token().len());
    let refused = server.login_with_xoauth2(&wrong).unwrap_err();
    assert!(refused.contains("AUTHENTICATIONFAILED"), "{refused}");
    assert_eq!(server.introspections(), 3);
    let logged = within(Duration::from_secs(5), || server.log_tail(20).contains("Provided token is not valid"));
    assert!(logged, "{}", server.log_tail(20));
    server.login_with_oauthbearer(&wrong).unwrap_err();

    // The password still logs in, and is not a token.
    server.login_with_password(server.password()).unwrap();
    server.login_with_xoauth2(server.password()).unwrap_err();
    let refused = server.login_with_password(server.oauth2_token()).unwrap_err();
    assert!(refused.contains("AUTHENTICATIONFAILED"), "{refused}");
}

/// Logs in on the plain port with the LOGIN command and selects INBOX: a
/// connection for `kick` to drop.
fn plain_session(server: &Dovecot) -> BufReader<TcpStream> {
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, server.starttls_port())).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("* OK"), "{line}");
    let login = format!("a LOGIN {USER} {}\r\nb SELECT INBOX\r\n", server.password());
    reader.get_mut().write_all(login.as_bytes()).unwrap();
    loop {
        line.clear();
        assert_ne!(reader.read_line(&mut line).unwrap(), 0, "closed before SELECT answered");
        assert!(!line.starts_with("a NO") && !line.starts_with("b NO"), "{line}");
        if line.starts_with("b OK") {
            return reader;
        }
    }
}

/// What the server sends until it closes the connection.
fn rest_of(mut reader: BufReader<TcpStream>) -> String {
    let mut all = String::new();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
        all.push_str(&line);
        line.clear();
    }
    all
}

#[test]
fn a_client_in_idle_hears_of_an_append_at_once() {
    let server = Dovecot::start();
    let mut session = plain_session(&server);
    session.get_mut().write_all(b"c IDLE\r\n").unwrap();
    let mut line = String::new();
    session.read_line(&mut line).unwrap();
    assert!(line.starts_with("+ "), "{line}");

    let appended = Instant::now();
    server.append("INBOX", FIRST);
    loop {
        line.clear();
        assert_ne!(session.read_line(&mut line).unwrap(), 0, "closed in IDLE");
        if line.trim_end() == "* 1 EXISTS" {
            break;
        }
    }
    // inotify, not the one-second poll, and far from Dovecot's default 30 s.
    let waited = appended.elapsed();
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    session.get_mut().write_all(b"DONE\r\n").unwrap();
    loop {
        line.clear();
        assert_ne!(session.read_line(&mut line).unwrap(), 0, "closed after IDLE");
        if line.starts_with("c ") {
            assert!(line.starts_with("c OK"), "{line}");
            break;
        }
    }
}

#[test]
fn kick_drops_connections_and_a_stopped_server_starts_again_on_its_ports() {
    let server = Dovecot::start();
    let uid = server.append("INBOX", FIRST);

    let session = plain_session(&server);
    server.kick();
    let said = rest_of(session);
    assert!(said.contains("* BYE"), "{said:?}");
    // Still running: new logins work at once.
    server.login_with_password(server.password()).unwrap();

    let session = plain_session(&server);
    server.stop();
    assert!(rest_of(session).contains("* BYE"));
    assert!(refuses_connections(server.imaps_port()) && refuses_connections(server.starttls_port()));
    server.login_with_password(server.password()).unwrap_err();

    server.start_again();
    assert_eq!(server.uids("INBOX"), [uid]);
    server.login_with_password_after_starttls(server.password()).unwrap();

    // Another process took a port during the outage: the panic says why.
    server.stop();
    let squatter = TcpListener::bind((Ipv4Addr::LOCALHOST, server.imaps_port())).unwrap();
    let panic = std::panic::catch_unwind(AssertUnwindSafe(|| server.start_again())).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("Address already in use"), "{message}");
    drop(squatter);
    server.start_again();
    assert_eq!(server.message("INBOX", uid), FIRST);

    let (ports, dir) = ([server.imaps_port(), server.starttls_port()], server.dir().to_path_buf());
    assert!(dir.join("mail").is_dir());
    drop(server);
    assert!(ports.iter().all(|p| refuses_connections(*p)));
    assert!(!dir.exists(), "{} is still there", dir.display());
    assert_eq!(processes_of(&dir), Vec::<String>::new());
}

/// Set in the child process of the test below.
const CHILD: &str = "FANLIC_TESTKIT_DOVECOT_WATCHDOG_CHILD";
const NAME: &str = "dovecot::a_server_is_stopped_and_removed_when_its_process_exits";

#[test]
fn a_server_is_stopped_and_removed_when_its_process_exits() {
    if std::env::var_os(CHILD).is_some() {
        // The child: start a server, show it works, say where it is, and exit
        // without dropping it.
        let server = Dovecot::start_with_oauth2();
        server.append("INBOX", FIRST);
        server.login_with_xoauth2(server.oauth2_token()).unwrap();
        println!("server ports={},{} dir={}", server.imaps_port(), server.starttls_port(), server.dir().display());
        std::io::stdout().flush().unwrap();
        std::process::exit(0);
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("server ports=").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("{stdout}"));
    let (ports, dir) = line.split_once(" dir=").unwrap();
    let (ports, dir): (Vec<u16>, &Path) = (ports.split(',').map(|p| p.parse().unwrap()).collect(), Path::new(dir));

    // Processes first: a connection to a port while the server is stopping
    // would keep it busy.
    let gone = within(Duration::from_secs(5), || {
        processes_of(dir).is_empty() && !dir.exists() && ports.iter().all(|p| refuses_connections(*p))
    });
    assert!(
        gone,
        "5 s after its process exited, the server on ports {ports:?} in {} is still there: {:?}",
        dir.display(),
        processes_of(dir)
    );
}
