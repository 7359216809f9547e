//! `fanlic serve` end to end: a real server process on 127.0.0.1:0, a tiny
//! HTTP/1.1 client, and the test playing the product (verified license,
//! challenges made with `fanlic-verifier`, its code state machine).

use crate::common::downgrade;

use core::time::Duration;
use std::{
    fs,
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{SystemTime, UNIX_EPOCH},
};

use crate::common::{BIN, Env, fanlic, fanlic_cmd, ok};
use fanlic_formats::{LicenseId, MAX_LICENSE_FILE_LEN, Timestamp, activation::ServerInstance};
use fanlic_issuer::home::load_root_public_key;
use fanlic_issuer::qr::Qr;
use fanlic_verifier::{
    activation::{
        Activation, ActivationKey, ChallengeInput, CodeError, PreparedChallenge, make_challenge, project_fingerprint,
    },
    authenticate,
};
use rusqlite::Connection;
use serde_json::Value;

const MAX_SENTENCE: &str = "The maximum license number has been reached.";

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A running `fanlic serve`, killed when dropped.
struct Server {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(env: &Env, extra: &[&str]) -> Self {
        Self::start_with(env, extra, fanlic_cmd())
    }

    /// [`Server::start`] under umask 000: whatever it creates gets exactly
    /// the mode the code asks for.
    fn start_umask_0(env: &Env) -> Self {
        let mut sh = Command::new("sh");
        sh.args(["-c", "umask 000; exec \"$0\" \"$@\"", BIN]);
        Self::start_with(env, &[], sh)
    }

    fn start_with(env: &Env, extra: &[&str], mut cmd: Command) -> Self {
        let log = env.dir.join(format!("serve-{}.log", extra.len()));
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("FANLIC_HOME", &env.home)
            .envs(env.database_env())
            .current_dir(&env.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let addr = first
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("first line {first:?}; stderr: {}", fs::read_to_string(&log).unwrap()))
            .trim()
            .to_owned();
        assert!(!addr.ends_with(":0"), "{addr}");
        Self { child, addr, log }
    }

    /// SIGTERM, then the exit status (a graceful stop exits 0).
    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("fanlic serve did not stop within 5 s of SIGTERM");
    }

    /// The log, once it has `lines` lines (a thread of the server writes it).
    fn logs(&self, lines: usize) -> String {
        for _ in 0..100 {
            let text = fs::read_to_string(&self.log).unwrap();
            if text.lines().count() >= lines {
                return text;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        fs::read_to_string(&self.log).unwrap()
    }
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn codes(&self) -> Vec<String> {
        let v = self.json();
        assert_eq!(v["status"], "refused", "{v}");
        v["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect()
    }
}

/// One HTTP/1.1 request with `Connection: close`.
fn http(addr: &str, method: &str, path: &str, json: bool) -> Resp {
    http_lang(addr, method, path, json, None)
}

/// [`http`] with an `Accept-Language` header.
fn http_lang(addr: &str, method: &str, path: &str, json: bool, lang: Option<&str>) -> Resp {
    let lang = lang.map_or_else(String::new, |l| format!("Accept-Language: {l}\r\n"));
    http_with(addr, method, path, json, &lang)
}

/// [`http`] with more header lines (each ending in CRLF).
fn http_with(addr: &str, method: &str, path: &str, json: bool, lang: &str) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let accept = if json { "application/json" } else { "text/html" };
    let body = if method == "POST" { "confirm=1" } else { "" };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\n{lang}Connection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    Resp { status, headers, body: body.to_owned() }
}

/// A home with a master secret, and the root keys to verify with.
fn home() -> Env {
    let env = Env::temp();
    ok(&env, &["init", "--authserv-id", crate::common::AUTHSERV]);
    env
}

/// A license as the product holds it after verifying it.
struct Lic {
    id: LicenseId,
    key: ActivationKey,
    base_url: String,
}

fn issue(env: &Env, project: &str, nodes: u32) -> Lic {
    issue_kind(env, project, nodes, "local-container")
}

fn issue_kind(env: &Env, project: &str, nodes: u32, kind: &str) -> Lic {
    issue_for(env, "Customer Trading Co., Ltd.", project, nodes, kind)
}

fn issue_for(env: &Env, company: &str, project: &str, nodes: u32, kind: &str) -> Lic {
    let out = env.dir.join(format!("{project}-Container.lic"));
    let n = nodes.to_string();
    ok(
        env,
        &[
            "issue",
            "--company",
            company,
            "--project",
            project,
            "--app",
            "FineReport",
            "--version",
            "11.0",
            "--nodes",
            &n,
            "--kind",
            kind,
            "--expires",
            "2099-12-31",
            "--signed",
            "2026/11/20",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let public = env.home.join("public");
    let roots: Vec<_> = fs::read_dir(&public)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("root-"))
        .map(|p| load_root_public_key(&p).unwrap())
        .collect();
    let bytes = fs::read(&out).unwrap();
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let signed = authenticate(&bytes, &mut buf, &roots).unwrap();
    let l = signed.license;
    Lic {
        id: l.id,
        key: ActivationKey::from_bytes(l.activation_key.expect("the license carries an activation key")),
        base_url: l.activation_base_url.unwrap().to_owned(),
    }
}

/// A challenge the product makes for `project` with `nodes` nodes at `issued_at`.
fn challenge(lic: &Lic, key: &ActivationKey, project: &str, nodes: u32, issued_at: u64) -> PreparedChallenge {
    let mut nonce = [0u8; 16];
    nonce[..8].copy_from_slice(&issued_at.to_be_bytes());
    nonce[8..].copy_from_slice(&u64::from(nodes).to_be_bytes());
    nonce[0] ^= project.len() as u8;
    let input = ChallengeInput {
        nonce,
        node_id: [2; 16],
        project_fingerprint: project_fingerprint("FineReport", project, b"deployment-1").unwrap(),
        nodes,
        app_version: "11.0.20",
        now: Timestamp(issued_at),
        server: None,
    };
    make_challenge(lic.id, key, &input).unwrap()
}

/// The challenge an authorization server makes (SPEC.md §7.1) for its
/// instance key `instance` at `generation`.
fn server_challenge(lic: &Lic, instance: &[u8; 32], generation: u64, issued_at: u64) -> PreparedChallenge {
    let fingerprint = fanlic_formats::private_cloud::instance_fingerprint(instance);
    let mut nonce = [0u8; 16];
    nonce[..8].copy_from_slice(&issued_at.to_be_bytes());
    nonce[8..].copy_from_slice(&generation.to_be_bytes());
    nonce[15] ^= instance[0];
    let input = ChallengeInput {
        nonce,
        node_id: fingerprint[..16].try_into().unwrap(),
        project_fingerprint: project_fingerprint("FineReport", "cloud", instance).unwrap(),
        nodes: 1,
        app_version: "11.0.20",
        now: Timestamp(issued_at),
        server: Some(ServerInstance { instance_fingerprint: fingerprint, generation }),
    };
    make_challenge(lic.id, &lic.key, &input).unwrap()
}

/// The path part of the challenge's URL under the license's base URL, and the URL on `server`.
fn path_of(lic: &Lic, p: &PreparedChallenge, server: &Server) -> (String, String) {
    let mut url = String::new();
    p.write_url(&lic.base_url, &mut url).unwrap();
    assert!(url.starts_with("http://127.0.0.1:8380/a/"), "{url}");
    let path = url.strip_prefix("http://127.0.0.1:8380").unwrap().to_owned();
    (path.clone(), format!("http://{}{path}", server.addr))
}

fn db(env: &Env) -> Connection {
    Connection::open(env.home.join("fanlic.db")).unwrap()
}

fn count(env: &Env, sql: &str) -> i64 {
    db(env).query_row(sql, [], |r| r.get(0)).unwrap()
}

fn token_text(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

#[test]
fn good_activation_binds_then_another_project_needs_unbind() {
    let env = home();
    let lic = issue(&env, "webroot", 2);
    let mut server = Server::start(&env, &[]);
    assert_eq!(http(&server.addr, "GET", "/healthz", false).body, "ok");

    let p = challenge(&lic, &lic.key, "webroot", 2, unix_now());
    let (path, _) = path_of(&lic, &p, &server);
    let before = count(&env, "SELECT count(*) FROM activations");
    // GET shows, in JSON and HTML, and records nothing.
    let r = http(&server.addr, "GET", &path, true);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["status"], "ready");
    assert_eq!(v["license_id"], lic.id.to_string());
    assert_eq!(v["company"], "Customer Trading Co., Ltd.");
    assert_eq!(v["project"], "webroot");
    assert_eq!(v["app_name"], "FineReport");
    assert_eq!(v["max_nodes"], 2);
    assert_eq!(v["nodes"], 2);
    let code = p.code().to_string();
    let page = http(&server.addr, "GET", &path, false);
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.body.contains("<meta name=\"viewport\""), "{}", page.body);
    assert!(page.body.contains("<form method=\"post\""), "{}", page.body);
    assert!(page.body.contains("Confirm activation"));
    assert!(page.body.contains("Customer Trading Co., Ltd.") && page.body.contains("webroot"));
    assert!(!page.body.contains("<script"));
    assert!(!page.body.contains(&code), "GET must not show the code");
    assert_eq!(count(&env, "SELECT count(*) FROM activations"), before, "GET recorded something");
    assert_eq!(count(&env, "SELECT count(*) FROM activation_bindings"), 0);

    // POST (HTML) confirms: the code the product expects, a binding, a record.
    let page = http(&server.addr, "POST", &path, false);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&code), "{}", page.body);
    assert!(page.body.contains("within 5 minutes"));
    assert!(page.body.contains("<meta name=\"viewport\""));
    let id = lic.id.to_string();
    let bound: Vec<u8> = db(&env)
        .query_row("SELECT project_fingerprint FROM activation_bindings WHERE license_id = ?1", [&id], |r| r.get(0))
        .unwrap();
    assert_eq!(bound, project_fingerprint("FineReport", "webroot", b"deployment-1").unwrap());
    assert_eq!(count(&env, "SELECT count(*) FROM audit WHERE action = 'bind'"), 1);
    let (outcome, client, nodes): (String, String, i64) = db(&env)
        .query_row("SELECT outcome, client_addr, nodes FROM activations", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    assert_eq!((outcome.as_str(), client.as_str(), nodes), ("activated", "127.0.0.1", 2));

    // POST (JSON) of the same project again: activated, still one binding.
    let r = http(&server.addr, "POST", &path, true);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["status"], "activated");
    assert_eq!(v["license_id"], id);
    assert_eq!(v["code"], code);
    assert_eq!(v["expires_at"], p.issued_at().0 + 300);
    assert_eq!(count(&env, "SELECT count(*) FROM activation_bindings"), 1);

    // Another project: refused on GET and POST, with the exact sentence.
    let q = challenge(&lic, &lic.key, "other-project", 1, unix_now());
    let (qpath, _) = path_of(&lic, &q, &server);
    let r = http(&server.addr, "GET", &qpath, true);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.codes(), ["max_licenses_reached"]);
    let message = r.json()["reasons"][0]["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with(MAX_SENTENCE), "{message}");
    assert!(message.contains("fanlic unbind"), "{message}");
    let page = http(&server.addr, "POST", &qpath, false);
    assert_eq!(page.status, 409);
    assert!(page.body.contains(MAX_SENTENCE), "{}", page.body);
    assert!(!page.body.contains(&q.code().to_string()));
    assert_eq!(count(&env, "SELECT count(*) FROM activations WHERE outcome = 'max_licenses_reached'"), 1);

    // After `fanlic unbind` (the command), the other project activates.
    ok(&env, &["unbind", &id, "--no-mail"]);
    let r = http(&server.addr, "POST", &qpath, true);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["code"], q.code().to_string());
    let bound: Vec<u8> = db(&env)
        .query_row("SELECT project_fingerprint FROM activation_bindings WHERE license_id = ?1", [&id], |r| r.get(0))
        .unwrap();
    assert_eq!(bound, project_fingerprint("FineReport", "other-project", b"deployment-1").unwrap());

    // The logs: one JSON line per request, never a token or a code.
    let logs = server.logs(8);
    let lines: Vec<Value> = logs.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 8, "{logs}");
    assert_eq!(lines[0]["path"], "/healthz");
    for l in &lines[1..] {
        for field in ["ts", "method", "path", "license_id", "client", "status", "outcome", "micros"] {
            assert!(l.get(field).is_some(), "{field} missing in {l}");
        }
        assert_eq!(l["path"], "/a/<token>");
    }
    for secret in [token_text(&path), token_text(&qpath), &code, &q.code().to_string()] {
        assert!(!logs.contains(secret), "the log shows {secret}: {logs}");
    }
    assert!(server.terminate().success());
}

#[test]
fn refusals_forged_expired_unknown_revoked_nodes() {
    let env = home();
    let lic = issue(&env, "webroot", 2);
    let other = issue(&env, "second", 3);
    let expired = issue(&env, "third", 3);
    let keyless = issue(&env, "fourth", 3);
    // Changed in the database before the server first reads these rows.
    let conn = db(&env);
    conn.execute("UPDATE licenses SET expiry = '2020-01-31' WHERE license_id = ?1", [expired.id.to_string()]).unwrap();
    conn.execute(
        "UPDATE licenses SET activation_master_version = NULL WHERE license_id = ?1",
        [keyless.id.to_string()],
    )
    .unwrap();
    drop(conn);
    let server = Server::start(&env, &[]);
    let now = unix_now();

    // Made under another key: forged, whatever else is wrong.
    let forged = challenge(&lic, &ActivationKey::from_bytes([7; 32]), "webroot", 9, now - 400);
    let (path, _) = path_of(&lic, &forged, &server);
    let r = http(&server.addr, "GET", &path, true);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.codes(), ["forged_challenge"]);
    let r = http(&server.addr, "POST", &path, true);
    assert_eq!((r.status, r.codes()), (403, vec!["forged_challenge".to_owned()]));
    // Not stored under the license it names: a count for the client only.
    assert_eq!(count(&env, "SELECT count(*) FROM activations"), 0);
    assert_eq!(
        count(
            &env,
            "SELECT count FROM unverified_attempts WHERE client_addr = '127.0.0.1' AND outcome = 'forged_challenge'"
        ),
        1
    );
    assert_eq!(count(&env, "SELECT count(*) FROM activation_bindings"), 0);

    // Made 301 seconds ago: expired QR code.
    let old = challenge(&lic, &lic.key, "webroot", 1, now - 301);
    let (path, _) = path_of(&lic, &old, &server);
    let r = http(&server.addr, "GET", &path, true);
    assert_eq!((r.status, r.codes()), (410, vec!["qr_expired".to_owned()]));
    let r = http(&server.addr, "POST", &path, true);
    assert_eq!((r.status, r.codes()), (410, vec!["qr_expired".to_owned()]));
    assert_eq!(count(&env, "SELECT count(*) FROM activation_bindings"), 0);

    // An id the vendor never issued.
    let unknown = Lic { id: LicenseId([0x5a; 16]), key: lic.key, base_url: lic.base_url.clone() };
    let u = challenge(&unknown, &lic.key, "webroot", 1, now);
    let (path, _) = path_of(&unknown, &u, &server);
    let r = http(&server.addr, "GET", &path, true);
    assert_eq!((r.status, r.codes()), (404, vec!["unknown_license".to_owned()]));

    // Not a token at all.
    let r = http(&server.addr, "GET", "/a/not-a-token!", true);
    assert_eq!((r.status, r.codes()), (400, vec!["malformed".to_owned()]));

    // More nodes than the license allows.
    let many = challenge(&lic, &lic.key, "webroot", 3, now);
    let (path, _) = path_of(&lic, &many, &server);
    let r = http(&server.addr, "GET", &path, true);
    assert_eq!((r.status, r.codes()), (409, vec!["too_many_nodes".to_owned()]));
    let msg = r.json()["reasons"][0]["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("3 nodes") && msg.contains("at most 2"), "{msg}");

    // Past its expiry date.
    let p = challenge(&expired, &expired.key, "third", 1, now);
    let (path, _) = path_of(&expired, &p, &server);
    let r = http(&server.addr, "GET", &path, true);
    assert_eq!((r.status, r.codes()), (403, vec!["license_expired".to_owned()]));
    assert!(r.body.contains("2020-01-31"), "{}", r.body);

    // No key this service can derive.
    let p = challenge(&keyless, &keyless.key, "fourth", 1, now);
    let (path, _) = path_of(&keyless, &p, &server);
    let r = http(&server.addr, "POST", &path, true);
    assert_eq!((r.status, r.codes()), (409, vec!["no_activation_key".to_owned()]));

    // Revoked (with `fanlic revoke`), with too many nodes and an expired QR code: all reported.
    let id = other.id.to_string();
    ok(&env, &["revoke", &id, "--reason", "test", "--no-mail"]);
    let p = challenge(&other, &other.key, "second", 1, now);
    let (path, _) = path_of(&other, &p, &server);
    let r = http(&server.addr, "GET", &path, true);
    assert_eq!((r.status, r.codes()), (403, vec!["revoked".to_owned()]));
    let p = challenge(&other, &other.key, "second", 4, now - 301);
    let (path, _) = path_of(&other, &p, &server);
    let r = http(&server.addr, "GET", &path, true);
    assert_eq!(r.status, 410, "{}", r.body);
    assert_eq!(r.codes(), ["qr_expired", "revoked", "too_many_nodes"]);
    let p = challenge(&other, &other.key, "second", 4, now);
    let (path, _) = path_of(&other, &p, &server);
    let r = http(&server.addr, "POST", &path, true);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.codes(), ["revoked", "too_many_nodes"]);
    let page = http(&server.addr, "POST", &path, false);
    assert_eq!(page.status, 403);
    assert!(page.body.contains("revoked") && page.body.contains("too_many_nodes"), "{}", page.body);
    assert!(!page.body.contains(&p.code().to_string()));
    let refused: i64 = db(&env)
        .query_row("SELECT count(*) FROM activations WHERE license_id = ?1 AND outcome = 'revoked'", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(refused, 2);
    assert_eq!(count(&env, "SELECT count(*) FROM activation_bindings"), 0);
}

#[test]
fn product_state_machine_with_codes_from_the_service() {
    let env = home();
    let lic = issue(&env, "webroot", 2);
    let server = Server::start(&env, &[]);
    let n = unix_now();

    // The product's clock is injected; the service checks the challenges' own times.
    let p1 = challenge(&lic, &lic.key, "webroot", 1, n);
    let (path, _) = path_of(&lic, &p1, &server);
    let r = http(&server.addr, "POST", &path, true);
    assert_eq!(r.status, 200, "{}", r.body);
    let c1 = r.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(c1, p1.code().to_string());

    let mut a = Activation::new();
    a.set_challenge(&p1);
    let wrong = format!("{:06}", (p1.code().value() + 1) % 1_000_000);
    let t = n - 700;
    for i in 1..=5u8 {
        assert_eq!(a.enter(&wrong, Timestamp(t)), Err(CodeError::WrongCode { remaining: 6 - i }));
    }
    let until = Timestamp(t + 1 + 900);
    assert_eq!(a.enter(&wrong, Timestamp(t + 1)), Err(CodeError::Locked { until, now: Timestamp(t + 1) }));
    // The right code from the service is refused while locked, up to the last second.
    assert!(matches!(a.enter(&c1, Timestamp(t + 2)), Err(CodeError::Locked { .. })));
    assert!(matches!(a.enter(&c1, Timestamp(until.0 - 1)), Err(CodeError::Locked { .. })));

    // 15 minutes later: a fresh challenge, its code from the service, works.
    let p2 = challenge(&lic, &lic.key, "webroot", 1, until.0);
    a.set_challenge(&p2);
    let (path, _) = path_of(&lic, &p2, &server);
    let r = http(&server.addr, "POST", &path, true);
    assert_eq!(r.status, 200, "{}", r.body);
    let c2 = r.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(a.enter(&c2, until), Ok(until));
}

#[test]
fn rate_limits_answer_429_with_retry_after() {
    let env = home();
    let a = issue(&env, "webroot", 2);
    let b = issue(&env, "second", 2);
    let server = Server::start(&env, &["--rate-license", "3", "--rate-client", "5", "--rate-window", "3600"]);
    let pa = challenge(&a, &a.key, "webroot", 1, unix_now());
    let (path_a, _) = path_of(&a, &pa, &server);
    for _ in 0..3 {
        assert_eq!(http(&server.addr, "GET", &path_a, true).status, 200);
    }
    // The fourth for license a: its limit.
    let r = http(&server.addr, "POST", &path_a, true);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.codes(), ["rate_limited"]);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    // License b: its first request is the client's fifth, the next is over the client's limit.
    let pb = challenge(&b, &b.key, "second", 1, unix_now());
    let (path_b, _) = path_of(&b, &pb, &server);
    assert_eq!(http(&server.addr, "GET", &path_b, true).status, 200);
    let r = http(&server.addr, "GET", &path_b, false);
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    assert!(r.body.contains("Too many"), "{}", r.body);
    // Nothing was recorded for the refused POST beyond the limit.
    assert_eq!(count(&env, "SELECT count(*) FROM activations"), 0);
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let env = home();
    let xff = |ip: &str| format!("X-Forwarded-For: 198.51.100.1, {ip}\r\n");
    let limits = ["--rate-client", "2", "--rate-window", "3600"];
    // Trusted: the right-most forwarded address is the client.
    let server = Server::start(&env, &[&limits[..], &["--trusted-proxy", "127.0.0.1"]].concat());
    let a = || http_with(&server.addr, "GET", "/a/not-a-token", true, &xff("203.0.113.7")).status;
    assert_ne!(a(), 429);
    assert_ne!(a(), 429);
    assert_eq!(a(), 429, "the third request of one forwarded client");
    let b = http_with(&server.addr, "GET", "/a/not-a-token", true, &xff("203.0.113.8"));
    assert_ne!(b.status, 429, "another forwarded client has its own count: {}", b.body);
    // The log is written by a thread of its own: wait for both lines.
    let mut log = String::new();
    for _ in 0..100 {
        log = fs::read_to_string(&server.log).unwrap();
        if log.contains("203.0.113.7") && log.contains("203.0.113.8") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(log.contains("203.0.113.7") && log.contains("203.0.113.8"), "{log}");
    assert!(!log.contains("198.51.100.1"), "what the client claimed is not believed: {log}");
    drop(server);
    // Not trusted: the header is ignored, everyone is 127.0.0.1.
    let server = Server::start(&env, &limits);
    for ip in ["203.0.113.7", "203.0.113.8"] {
        assert_ne!(http_with(&server.addr, "GET", "/a/not-a-token", true, &xff(ip)).status, 429);
    }
    assert_eq!(http_with(&server.addr, "GET", "/a/not-a-token", true, &xff("203.0.113.9")).status, 429);
}

#[test]
fn master_secret_missing_or_readable_by_others_is_refused() {
    let env = home();
    let missing = env.dir.join("nope.secret");
    let out = fanlic(&env, &["serve", "--listen", "127.0.0.1:0", "--master-secret", missing.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no activation master secret") && err.contains("--master-secret"), "{err}");
    let master = env.home.join("activation/master.secret");
    let loose = env.dir.join("loose.secret");
    fs::copy(&master, &loose).unwrap();
    fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = fanlic(&env, &["serve", "--listen", "127.0.0.1:0", "--master-secret", loose.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chmod 600"), "{err}");
}

/// `zbarimg`, or a failure that says how to install it.
fn zbarimg() -> PathBuf {
    match Command::new("zbarimg").arg("--version").output() {
        Ok(o) if o.status.success() => PathBuf::from("zbarimg"),
        _ => panic!("zbarimg not found: this test needs the real QR decoder; run `apt-get install zbar-tools`"),
    }
}

#[test]
fn challenge_url_qr_reads_back() {
    let zbarimg = zbarimg();
    let env = home();
    let lic = issue(&env, "webroot", 2);
    let p = challenge(&lic, &lic.key, "webroot", 2, unix_now());
    let mut url = String::new();
    p.write_url(&lic.base_url, &mut url).unwrap();
    let file = env.dir.join("qr.png");
    fs::write(&file, Qr::new(&url).unwrap().to_png(8).unwrap()).unwrap();
    let out = Command::new(&zbarimg).args(["--raw", "-q"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.strip_suffix('\n').unwrap_or(&text), url);
}

/// SPEC.md §7.1: a private-cloud license is activated by its authorization
/// server only; a clone (another instance key) gets the maximum-license
/// sentence; a rolled-back privateConfig (lower generation) is refused; a
/// product's challenge for a server license, and a server's for a product
/// license, are the wrong kind.
#[test]
fn authorization_server_activation_clone_and_rollback() {
    let env = home();
    let cloud = issue_kind(&env, "cloud", 1, "private-cloud");
    let product = issue(&env, "webroot", 1);
    let server = Server::start(&env, &[]);
    let now = unix_now();
    let post = |p: &PreparedChallenge| {
        let (path, _) = path_of(&cloud, p, &server);
        http(&server.addr, "POST", &path, true)
    };

    // The product's kind of challenge for a server license.
    let r = post(&challenge(&cloud, &cloud.key, "cloud", 1, now));
    assert_eq!((r.status, r.codes()), (409, vec!["wrong_kind".to_owned()]), "{}", r.body);
    assert!(r.body.contains("/license/qrcode"), "{}", r.body);
    // A server's kind of challenge for a product license.
    let p = server_challenge(&product, &[5; 32], 1, now);
    let (path, _) = path_of(&product, &p, &server);
    let r = http(&server.addr, "POST", &path, true);
    assert_eq!((r.status, r.codes()), (409, vec!["wrong_kind".to_owned()]), "{}", r.body);

    // The server activates at generation 3; its code is the one it expects.
    let first = server_challenge(&cloud, &[1; 32], 3, now);
    let r = post(&first);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["code"], first.code().to_string());
    let generation = |fp: &[u8; 32]| -> i64 {
        db(&env)
            .query_row(
                "SELECT generation FROM server_instances WHERE license_id = ?1 AND instance_fingerprint = ?2",
                rusqlite::params![
                    cloud.id.to_string(),
                    fanlic_formats::private_cloud::instance_fingerprint(fp).as_slice()
                ],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(generation(&[1; 32]), 3);
    // Later, after a long shutdown, at generation 40.
    assert_eq!(post(&server_challenge(&cloud, &[1; 32], 40, now + 1)).status, 200);
    assert_eq!(generation(&[1; 32]), 40);

    // A copy of privateConfig from generation 12: refused, nothing recorded as activated.
    let r = post(&server_challenge(&cloud, &[1; 32], 12, now + 2));
    assert_eq!((r.status, r.codes()), (409, vec!["stale_private_config".to_owned()]), "{}", r.body);
    assert_eq!(generation(&[1; 32]), 40);

    // A clone: the same image with another instance key.
    let r = post(&server_challenge(&cloud, &[2; 32], 1, now + 3));
    assert_eq!((r.status, r.codes()), (409, vec!["max_licenses_reached".to_owned()]), "{}", r.body);
    assert!(r.body.contains(MAX_SENTENCE), "{}", r.body);
    assert_eq!(
        count(&env, "SELECT count(*) FROM activations WHERE outcome = 'activated'"),
        2,
        "only the two good activations are recorded as activated"
    );
}

#[test]
fn pages_follow_the_browsers_language_and_escape_every_value() {
    let env = home();
    let lic = issue_for(&env, "Acme <b>&</b> \"Q\"", "webroot", 2, "local-container");
    let expired = issue(&env, "third", 3);
    let conn = db(&env);
    conn.execute("UPDATE licenses SET expiry = '2020-01-31' WHERE license_id = ?1", [expired.id.to_string()]).unwrap();
    drop(conn);
    let mut server = Server::start(&env, &[]);
    let now = unix_now();
    let p = challenge(&lic, &lic.key, "webroot", 2, now);
    let (path, _) = path_of(&lic, &p, &server);

    // Chinese for any zh tag the browser prefers; English otherwise.
    let page = http_lang(&server.addr, "GET", &path, false, Some("zh-CN,zh;q=0.9,en;q=0.8"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("content-language"), Some("zh-CN"));
    assert!(page.header("vary").unwrap().contains("Accept-Language"));
    assert!(page.body.contains("<html lang=\"zh-CN\">"), "{}", page.body);
    assert!(page.body.contains("确认激活") && page.body.contains("许可证有效期至</dt><dd>2099/12/31"), "{}", page.body);
    assert!(page.body.contains("此二维码还剩 5 分钟有效"), "{}", page.body);
    assert!(page.body.contains("Acme &lt;b&gt;&amp;&lt;/b&gt; &quot;Q&quot;"), "{}", page.body);
    assert!(!page.body.contains("<b>&</b>"), "not escaped: {}", page.body);
    let page = http_lang(&server.addr, "GET", &path, false, Some("en-US,zh;q=0.5"));
    assert!(page.body.contains("<html lang=\"en\">") && page.body.contains("License valid until</dt><dd>2099/12/31"));
    assert!(page.body.contains("This QR code is valid for 5 minutes more."), "{}", page.body);
    // JSON is the same whatever the language, with added fields.
    let v = http_lang(&server.addr, "GET", &path, true, Some("zh-CN")).json();
    assert_eq!((v["status"].as_str(), v["company"].as_str()), (Some("ready"), Some("Acme <b>&</b> \"Q\"")));
    assert_eq!(v["qr_expires_at"], p.issued_at().0 + 300);
    assert_eq!(v["expiry"], "2099-12-31");

    // The code page.
    let page = http_lang(&server.addr, "POST", &path, false, Some("zh-Hans"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&p.code().to_string()));
    assert!(page.body.contains("请在 5 分钟内将此激活码输入产品。"), "{}", page.body);

    // Refusals: the verifier's titles and prompts (dates as YYYY/MM/DD), and
    // what to do next, in Chinese; the JSON message stays the English one.
    let many = challenge(&lic, &lic.key, "webroot", 3, now);
    let (path, _) = path_of(&lic, &many, &server);
    let page = http_lang(&server.addr, "GET", &path, false, Some("zh-CN"));
    assert_eq!(page.status, 409);
    assert!(page.body.contains("<h1>激活被拒绝</h1>"), "{}", page.body);
    assert!(page.body.contains("<h2>许可证节点数已用尽</h2>"), "{}", page.body);
    assert!(page.body.contains("集群有 3 个节点，超过了此许可证可注册的最大节点数 2"), "{}", page.body);
    assert!(page.body.contains("或联系商务人员申请节点数更多的许可证"), "{}", page.body);
    let v = http_lang(&server.addr, "GET", &path, true, Some("zh-CN")).json();
    let reason = &v["reasons"][0];
    assert_eq!(v["lang"], "zh-CN");
    assert!(reason["message"].as_str().unwrap().contains("at most 2"), "{reason}");
    assert_eq!(reason["title"], "许可证节点数已用尽");

    let p = challenge(&expired, &expired.key, "third", 1, now);
    let (path, _) = path_of(&expired, &p, &server);
    let page = http_lang(&server.addr, "GET", &path, false, Some("zh"));
    assert_eq!(page.status, 403);
    assert!(page.body.contains("<h2>许可证已过期</h2><p>到期日期：2020/01/31</p>"), "{}", page.body);
    assert!(page.body.contains("请联系商务人员续期许可证"), "{}", page.body);
    let page = http_lang(&server.addr, "GET", &path, false, None);
    assert!(page.body.contains("<h2>License Expired</h2><p>Expiration date: 2020/01/31</p>"), "{}", page.body);

    // A QR code from the wrong place, and one that expired: what to do next.
    let old = challenge(&lic, &lic.key, "webroot", 1, now - 301);
    let (path, _) = path_of(&lic, &old, &server);
    let page = http_lang(&server.addr, "GET", &path, false, Some("zh-CN"));
    assert_eq!(page.status, 410);
    assert!(
        page.body.contains("二维码已过期") && page.body.contains("请在产品上刷新二维码后重新扫描"),
        "{}",
        page.body
    );
    let page = http_lang(&server.addr, "GET", "/a/not-a-token!", false, Some("zh-CN"));
    assert_eq!(page.status, 400);
    assert!(page.body.contains("请重新扫描产品激活页面上的二维码"), "{}", page.body);
    assert!(server.terminate().success());
}

/// `curl` against the service: the status and the headers, lower-cased.
/// `from`: the local address to connect from (a second client address on
/// the loopback).
fn curl(url: &str, method: &str, accept: &str, from: Option<&str>) -> (u16, Vec<(String, String)>, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-D", "-", "--max-time", "20", "-X", method, "-H", &format!("Accept: {accept}")]);
    if let Some(f) = from {
        cmd.args(["--interface", f]);
    }
    if method == "POST" {
        cmd.args(["--data", "confirm=1"]);
    }
    let out = cmd.arg(url).output().expect("curl is installed");
    assert!(out.status.success(), "curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The headers SPEC.md §6.3 puts on every answer.
fn assert_hardened(what: &str, headers: &[(String, String)]) {
    assert_eq!(header(headers, "x-frame-options"), Some("DENY"), "{what}: {headers:?}");
    assert_eq!(header(headers, "x-content-type-options"), Some("nosniff"), "{what}: {headers:?}");
    assert_eq!(header(headers, "referrer-policy"), Some("no-referrer"), "{what}: {headers:?}");
    assert_eq!(header(headers, "cache-control"), Some("no-store"), "{what}: {headers:?}");
    let csp = header(headers, "content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP: {headers:?}"));
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for d in ["frame-ancestors 'none'", "form-action 'self'", "script-src 'self'", "default-src 'none'"] {
        assert!(directives.contains(&d), "{what}: CSP {csp:?} lacks {d}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: {csp}");
}

/// Every kind of answer (health, page, JSON ready, JSON activated with its
/// code, refusal, 405, 429) carries the anti-framing, CSP, nosniff,
/// referrer and no-store headers; checked with curl.
#[test]
fn every_answer_carries_the_security_headers() {
    let env = home();
    let lic = issue(&env, "webroot", 2);
    let server = Server::start(&env, &["--rate-client", "12", "--rate-window", "3600"]);
    let p = challenge(&lic, &lic.key, "webroot", 1, unix_now());
    let (_, url) = path_of(&lic, &p, &server);
    let base = format!("http://{}", server.addr);
    let cases = [
        ("health", format!("{base}/healthz"), "GET", "text/plain", 200),
        ("page", url.clone(), "GET", "text/html", 200),
        ("json ready", url.clone(), "GET", "application/json", 200),
        ("json activated", url.clone(), "POST", "application/json", 200),
        ("code page", url.clone(), "POST", "text/html", 200),
        ("refusal", format!("{base}/a/not-a-token"), "GET", "application/json", 400),
        ("method", url.clone(), "PUT", "text/html", 405),
    ];
    for (what, u, method, accept, status) in &cases {
        let (got, headers, body) = curl(u, method, accept, None);
        assert_eq!(got, *status, "{what}: {body}");
        assert_hardened(what, &headers);
        if *what == "json activated" {
            assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["code"], p.code().to_string());
        }
    }
    // Past the client's limit of 12 requests: refused, with the same headers.
    let limited = (0..12).map(|_| curl(&url, "GET", "application/json", None)).find(|(got, _, _)| *got == 429);
    let (_, headers, _) = limited.expect("the client's limit was never reached");
    assert_hardened("rate limited", &headers);
}

/// The confirm button posts to `./TOKEN`, rebuilt from the token: a path
/// like `//evil.example/x/TOKEN` (which a browser resolves on the service's
/// own origin) never makes the form post elsewhere.
#[test]
fn form_action_is_built_from_the_token_never_from_the_path() {
    let env = home();
    let lic = issue(&env, "webroot", 2);
    let server = Server::start(&env, &[]);
    let p = challenge(&lic, &lic.key, "webroot", 1, unix_now());
    let (path, _) = path_of(&lic, &p, &server);
    let token = token_text(&path).to_owned();
    for shape in
        [format!("//evil.example/x/{token}"), format!("/a//{token}"), format!("/a/{token}?next=//evil.example")]
    {
        let page = http(&server.addr, "GET", &shape, false);
        assert_eq!(page.status, 200, "{shape}: {}", page.body);
        let form = page.body.lines().find(|l| l.starts_with("<form ")).unwrap_or_else(|| panic!("{}", page.body));
        assert_eq!(
            form,
            format!(
                "<form method=\"post\" action=\"./{token}\"><button type=\"submit\">Confirm activation</button></form>"
            ),
            "{shape}"
        );
        assert!(!page.body.contains("evil.example"), "{shape}: {}", page.body);
    }
    // The action, resolved against the page's URL, confirms.
    let r = http(&server.addr, "POST", &format!("//evil.example/x/{token}"), true);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["code"], p.code().to_string());
}

/// No part of a token reaches stderr, whatever the URL's shape, in either
/// log format: read from the real stderr of a running `fanlic serve`.
#[test]
fn no_token_in_any_log_line_whatever_the_url_shape() {
    let env = home();
    let lic = issue(&env, "webroot", 2);
    for format in ["json", "text"] {
        let mut server = Server::start(&env, &["--log", format]);
        let p = challenge(&lic, &lic.key, "webroot", 1, unix_now());
        let (path, _) = path_of(&lic, &p, &server);
        let token = token_text(&path).to_owned();
        // The first character percent-encoded: the service refuses it, and
        // must not log it either.
        let encoded = format!("%{:02X}{}", token.as_bytes()[0], &token[1..]);
        let shapes = [
            format!("/a/{token}/"),
            format!("//a//{token}"),
            format!("/a/{token}?t={token}"),
            format!("/a/{encoded}"),
            format!("/{token}/a"),
            format!("/a/{token}/{token}/"),
            format!("/a/{token}"),
        ];
        for shape in &shapes {
            let _ = http(&server.addr, "GET", shape, false);
            let _ = http(&server.addr, "POST", shape, true);
        }
        let logs = server.logs(2 * shapes.len());
        assert_eq!(logs.lines().count(), 2 * shapes.len(), "{logs}");
        // No window of 16 characters of the token (or of its encoded form).
        for secret in [token.as_str(), encoded.as_str()] {
            for w in 0..=secret.len() - 16 {
                let piece = &secret[w..w + 16];
                assert!(!logs.contains(piece), "{format}: the log shows {piece:?} of a token:\n{logs}");
            }
        }
        assert!(!logs.contains(&p.code().to_string()), "{logs}");
        assert!(logs.contains("/<token>"), "{logs}");
        assert!(server.terminate().success());
    }
}

/// Challenges that do not verify never use a license's budget and are not
/// stored under it: a stranger who knows a license id, sending forged
/// confirmations for it, is limited as a client, and the holder, from
/// another address, activates at once.
#[test]
fn forged_challenges_neither_block_a_license_nor_are_stored_under_it() {
    let env = home();
    let lic = issue(&env, "webroot", 2);
    let server = Server::start(&env, &["--rate-license", "2", "--rate-forged", "3", "--rate-window", "3600"]);
    let now = unix_now();
    let id = lic.id.to_string();
    let audit_sql = format!("SELECT count(*) FROM audit WHERE license_id = '{id}'");
    let audited = count(&env, &audit_sql);
    for i in 0..6u8 {
        let forged = challenge(&lic, &ActivationKey::from_bytes([i + 1; 32]), "squatter", 1, now);
        let (path, _) = path_of(&lic, &forged, &server);
        let r = http(&server.addr, "POST", &path, true);
        let want = if i < 3 { (403, "forged_challenge") } else { (429, "rate_limited") };
        assert_eq!((r.status, r.codes()), (want.0, vec![want.1.to_owned()]), "attempt {i}");
    }
    // Nothing under the license; the stranger's address counted 3 (the
    // refused ones never reached the database).
    assert_eq!(count(&env, "SELECT count(*) FROM activations"), 0);
    assert_eq!(count(&env, &audit_sql), audited);
    assert_eq!(count(&env, "SELECT count FROM unverified_attempts WHERE client_addr = '127.0.0.1'"), 3);
    let columns: Vec<String> = db(&env)
        .prepare("SELECT name FROM pragma_table_info('unverified_attempts')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(columns, ["client_addr", "day", "outcome", "count", "last_at"]);
    // The holder, from another address, within the license's limit of 2.
    let p = challenge(&lic, &lic.key, "webroot", 1, now);
    let (_, url) = path_of(&lic, &p, &server);
    let (status, _, body) = curl(&url, "GET", "application/json", Some("127.0.0.2"));
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = curl(&url, "POST", "application/json", Some("127.0.0.2"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["code"], p.code().to_string());
    // Verified requests do count: the third is over the license's limit.
    let (status, _, body) = curl(&url, "GET", "application/json", Some("127.0.0.2"));
    assert_eq!(status, 429, "{body}");
    let recorded: (String, String) = db(&env)
        .query_row("SELECT license_id, client_addr FROM activations", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(recorded, (id, "127.0.0.2".to_owned()));
}

/// Waits until the peer closes `s` (EOF or reset), at most `limit`; returns
/// what it sent and how long that took.
fn until_closed(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    let start = std::time::Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                panic!("still open after {limit:?}")
            }
            Ok(0) | Err(_) => return (got, start.elapsed()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        assert!(start.elapsed() < limit, "still open after {limit:?}");
    }
}

/// A slowloris client (headers one line at a time, slowly) and an idle one
/// (nothing at all) are cut off after the header-read timeout, while the
/// service goes on answering.
#[test]
fn slow_and_idle_clients_are_cut_off_by_the_header_timeout() {
    let env = home();
    let server = Server::start(&env, &["--header-timeout", "2"]);
    let idle = TcpStream::connect(&server.addr).unwrap();
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    let start = std::time::Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    // One header line every 300 ms, never the blank line that ends them.
    let mut cut = None;
    for i in 0..40 {
        std::thread::sleep(Duration::from_millis(300));
        if slow.write_all(format!("X-Slow-{i}: y\r\n").as_bytes()).is_err() {
            cut = Some(start.elapsed());
            break;
        }
        // A closed socket may still take one write: look for the close.
        slow.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
        let mut b = [0u8; 256];
        match slow.read(&mut b) {
            Ok(_) => {
                cut = Some(start.elapsed());
                break;
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => {
                cut = Some(start.elapsed());
                break;
            }
        }
        assert_eq!(http(&server.addr, "GET", "/healthz", false).body, "ok", "the service stopped answering");
    }
    let cut = cut.expect("the slow client was never cut off");
    assert!(cut >= Duration::from_millis(1500) && cut < Duration::from_secs(5), "cut after {cut:?}");
    let mut idle = idle;
    let (_, took) = until_closed(&mut idle, Duration::from_secs(5));
    assert!(took < Duration::from_secs(5), "{took:?}");
    // A kept-alive connection is idle after its answer: closed the same way.
    let mut kept = TcpStream::connect(&server.addr).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (got, took) = until_closed(&mut kept, Duration::from_secs(6));
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&got));
    assert!(took >= Duration::from_millis(1500), "closed after {took:?}: not kept alive");
}

/// Connections over the per-client cap get a 503 at once and are closed;
/// the service keeps answering another client, and the first client again
/// once its connections are gone.
#[test]
fn connections_over_the_cap_get_503_and_the_service_keeps_answering() {
    let env = home();
    let server = Server::start(&env, &["--max-connections-per-client", "3", "--max-connections", "5"]);
    let held: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(&server.addr).unwrap()).collect();
    // Let the service accept the three before the next ones.
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..4 {
        let mut extra = TcpStream::connect(&server.addr).unwrap();
        let (got, _) = until_closed(&mut extra, Duration::from_secs(5));
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 503"), "{text}");
        assert!(text.contains("X-Frame-Options: DENY") && text.contains("Retry-After: 1"), "{text}");
    }
    // Another client address is under its own cap (and the total's, 5).
    let (status, headers, body) = curl(&format!("http://{}/healthz", server.addr), "GET", "*/*", Some("127.0.0.2"));
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert_hardened("health from another client", &headers);
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(http(&server.addr, "GET", "/healthz", false).body, "ok");
    drop(server);

    // The total: two connections in all, whoever opens them.
    let server = Server::start(&env, &["--max-connections", "2"]);
    let held: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(&server.addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "5", "--interface", "127.0.0.2", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("http://{}/healthz", server.addr))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "503");
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(http(&server.addr, "GET", "/healthz", false).body, "ok");
}

/// Headless Chromium (`chromium --headless`), with its console on stderr.
fn chromium(env: &Env, args: &[&str], url: &str) -> (String, String) {
    let profile = env.dir.join("chromium-profile");
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium is installed");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// The activation page in a real browser: it renders (screenshot, and its
/// title, heading and button in the DOM) and its own Content-Security-Policy
/// blocks nothing on it (Chromium's console reports every violation).
#[test]
fn headless_chromium_renders_the_page_under_its_csp() {
    let env = home();
    let lic = issue(&env, "webroot", 2);
    let server = Server::start(&env, &[]);
    let p = challenge(&lic, &lic.key, "webroot", 2, unix_now());
    let (_, url) = path_of(&lic, &p, &server);
    let shot = env.dir.join("activation-page.png");
    let (_, console) = chromium(&env, &[&format!("--screenshot={}", shot.display()), "--window-size=412,915"], &url);
    let png = fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot: {e}; {console}"));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 2000, "{} bytes", png.len());
    let (dom, console2) = chromium(&env, &["--dump-dom"], &url);
    assert!(dom.contains("<title>Confirm activation</title>"), "{dom}");
    assert!(dom.contains("Activate FineReport") && dom.contains("Customer Trading Co., Ltd."), "{dom}");
    assert!(dom.contains(&format!("action=\"./{}\"", token_text(&url))), "{dom}");
    for text in [&console, &console2] {
        assert!(
            !text.contains("Content Security Policy") && !text.contains("Refused to"),
            "the page's CSP blocked something:\n{text}"
        );
    }
    // Nothing was recorded by the browser's visits.
    assert_eq!(count(&env, "SELECT count(*) FROM activations"), 0);
}

/// `fanlic ARGS` under umask 000.
fn fanlic_umask_0(env: &Env, args: &[&str], stdin: Option<&str>) -> String {
    use std::process::Stdio;
    let mut child = Command::new("sh")
        .args(["-c", "umask 000; exec \"$0\" \"$@\"", BIN])
        .args(args)
        .env("FANLIC_HOME", &env.home)
        .envs(env.database_env())
        .env_remove("FANLIC_SMTP_HOST")
        .current_dir(&env.dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn mode_of(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

/// The activation keys stored in the licenses table (none: they are derived).
fn stored_keys(env: &Env) -> i64 {
    count(env, "SELECT count(*) FROM licenses WHERE activation_key IS NOT NULL")
}

/// The database and its -wal and -shm files are 0600 whatever the umask:
/// after `fanlic init`, and while `fanlic serve` and `fanlic ingest` write
/// (WAL mode); an older, wider database is narrowed when opened. No
/// activation key is stored by `issue` or `ingest`, and the service derives
/// the keys to activate both.
#[test]
fn database_files_are_private_and_hold_no_activation_key() {
    let env = Env::temp();
    fanlic_umask_0(&env, &["init", "--authserv-id", crate::common::AUTHSERV], None);
    let db_file = env.home.join("fanlic.db");
    assert_eq!(mode_of(&db_file), 0o600);
    crate::common::add_contract(&env, "Customer Trading Co., Ltd.", "Alice@Customer.example", "2026/11/20", "3");
    let issued = issue(&env, "issued-project", 2);
    let mut server = Server::start_umask_0(&env);
    // An ingest while the service runs: both write through the WAL.
    let decided = fanlic_umask_0(
        &env,
        &["ingest", "--json", "-"],
        Some(&crate::common::mail(Some(crate::common::PASS), "m-1@customer.example", crate::common::BODY)),
    );
    let v: Value = serde_json::from_str(decided.lines().next().unwrap()).unwrap();
    assert_eq!(v["decision"], "issued", "{v}");
    let ingested_file = v["files"][0].as_str().unwrap().to_owned();
    assert_eq!(stored_keys(&env), 0, "a key was stored");
    assert_eq!(count(&env, "SELECT count(*) FROM licenses"), 2);

    // Both activate: the service derives their keys.
    let p = challenge(&issued, &issued.key, "issued-project", 1, unix_now());
    let (path, _) = path_of(&issued, &p, &server);
    let r = http(&server.addr, "POST", &path, true);
    assert_eq!(r.json()["code"], p.code().to_string(), "{}", r.body);
    let bytes = fs::read(&ingested_file).unwrap();
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let roots =
        [load_root_public_key(&fs::read_dir(env.home.join("public")).unwrap().next().unwrap().unwrap().path())
            .unwrap()];
    let l = authenticate(&bytes, &mut buf, &roots).unwrap().license;
    let ingested = Lic {
        id: l.id,
        key: ActivationKey::from_bytes(l.activation_key.unwrap()),
        base_url: l.activation_base_url.unwrap().to_owned(),
    };
    let p = challenge(&ingested, &ingested.key, "webroot", 1, unix_now());
    let (path, _) = path_of(&ingested, &p, &server);
    let r = http(&server.addr, "POST", &path, true);
    assert_eq!(r.json()["code"], p.code().to_string(), "{}", r.body);

    for suffix in ["", "-wal", "-shm"] {
        let f = env.home.join(format!("fanlic.db{suffix}"));
        assert_eq!(mode_of(&f), 0o600, "{}", f.display());
    }
    assert!(server.terminate().success());

    // A database left 0644 by an older build is narrowed on opening.
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(&db_file, fs::Permissions::from_mode(0o644)).unwrap();
    ok(&env, &["outbox", "list"]);
    assert_eq!(mode_of(&db_file), 0o600);
}

/// An older database that stored activation keys and forged attempts under
/// licenses: migration 9 empties the key column and folds those attempts
/// into per-client counts; the service still activates (it derives the key).
#[test]
fn migration_clears_stored_activation_keys() {
    let env = home();
    let lic = issue(&env, "webroot", 2);
    {
        let conn = db(&env);
        downgrade::to_version(&conn, 8);
        conn.execute(
            "UPDATE licenses SET activation_key = ?1 WHERE license_id = ?2",
            rusqlite::params![lic.key.to_bytes().as_slice(), lic.id.to_string()],
        )
        .unwrap();
        // As an older service recorded them: two forged confirmations under
        // the license they named, from one address on one day.
        for at in [1_795_000_000, 1_795_000_100] {
            conn.execute(
                "INSERT INTO activations (license_id, project_fingerprint, node_id, nodes, at, client_addr, outcome)
                 VALUES (?1, zeroblob(32), zeroblob(16), 1, ?2, '192.0.2.7', 'forged_challenge')",
                rusqlite::params![lic.id.to_string(), at],
            )
            .unwrap();
        }
    }
    assert_eq!(stored_keys(&env), 1);
    let server = Server::start(&env, &[]);
    assert_eq!(stored_keys(&env), 0);
    assert_eq!(count(&env, "SELECT count(*) FROM activations"), 0);
    let counted: (String, i64, String, i64, i64) = db(&env)
        .query_row("SELECT client_addr, day, outcome, count, last_at FROM unverified_attempts", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap();
    assert_eq!(
        counted,
        ("192.0.2.7".to_owned(), 1_795_000_000 / 86_400, "forged_challenge".to_owned(), 2, 1_795_000_100)
    );
    let v: i64 = db(&env).pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(v, fanlic_issuer::SCHEMA_VERSION);
    let p = challenge(&lic, &lic.key, "webroot", 1, unix_now());
    let (path, _) = path_of(&lic, &p, &server);
    let r = http(&server.addr, "POST", &path, true);
    assert_eq!(r.json()["code"], p.code().to_string(), "{}", r.body);
}

/// The newest exported revocation list is published at a stable URL, byte
/// for byte as `fanlic revocations export` wrote it, with its sequence; a
/// license it names then verifies as revoked. Before any export: 404.
#[test]
fn the_newest_revocation_list_is_published_at_a_stable_url() {
    let env = home();
    let lic = issue(&env, "webroot", 1);
    let server = Server::start(&env, &[]);
    let url = format!("http://{}/revocations.bin", server.addr);
    let got = env.dir.join("fetched.bin");
    let fetch = || {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20", "-D", "-", "-o"])
            .arg(&got)
            .arg(&url)
            .output()
            .expect("curl is installed");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let head = String::from_utf8(out.stdout).unwrap();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        let sequence = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("x-fanlic-sequence:").map(|v| v.trim().to_owned()));
        (status, sequence)
    };
    assert_eq!(fetch(), (404, None));
    ok(&env, &["revoke", &lic.id.to_string(), "--reason", "contract ended", "--no-mail"]);
    ok(&env, &["revocations", "export", "-o", "list.bin"]);
    assert_eq!(fetch(), (200, Some("1".to_owned())));
    assert_eq!(fs::read(&got).unwrap(), fs::read(env.dir.join("list.bin")).unwrap(), "byte for byte the export");
    let lic_file = env.dir.join("webroot-Container.lic");
    let out = fanlic(
        &env,
        &[
            "verify",
            lic_file.to_str().unwrap(),
            "--app",
            "FineReport",
            "--version",
            "11.0.20",
            "--project",
            "webroot",
            "--revocations",
            got.to_str().unwrap(),
            "--json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["causes"].as_array().unwrap().iter().any(|c| c["code"] == "revoked"), "{v}");
}
