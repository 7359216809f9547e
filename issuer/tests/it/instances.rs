//! Two real `fanlic serve` processes on one real PostgreSQL database: a
//! vendor home made with `--database`, and a second instance's home holding
//! only `activation/` and `receipt-keys/` copied from it, as an operator
//! would. Racing activations, an instance killed under load, the database
//! stopped under load, a second instance with another master secret, and
//! one rate limit for both.

use core::time::Duration;
use std::{
    collections::HashMap,
    fs,
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Barrier},
    thread,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use crate::common::{AUTHSERV, fanlic_cmd};
use fanlic_formats::{LicenseId, MAX_LICENSE_FILE_LEN, Timestamp};
use fanlic_issuer::home::load_root_public_key;
use fanlic_testkit::postgres::PgCluster;
use fanlic_verifier::{
    activation::{ActivationKey, ChallengeInput, PreparedChallenge, make_challenge, project_fingerprint},
    authenticate,
};
use serde_json::Value;

/// Rate limits out of the way of a load run (every client is 127.0.0.1).
const NO_LIMITS: [&str; 6] = ["--rate-license", "1000000", "--rate-client", "1000000", "--rate-forged", "1000000"];

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A vendor home whose records are in a new database of `pg`.
struct Vendor {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
    url: String,
    pg: &'static PgCluster,
}

impl Vendor {
    fn new(pg: &'static PgCluster) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let url = pg.tls_url(&pg.new_database());
        let v = Self { home: dir.join("home"), dir, _tmp: tmp, url, pg };
        v.ok(&v.home, &["init", "--authserv-id", AUTHSERV]);
        v
    }

    /// `fanlic --database URL ARGS` on the home `home`, which must succeed.
    fn ok(&self, home: &Path, args: &[&str]) -> String {
        let out = fanlic_cmd()
            .arg("--database")
            .arg(&self.url)
            .args(args)
            .env("FANLIC_HOME", home)
            .env_remove("FANLIC_DATABASE_URL")
            .env("USER", "tester")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// A second instance's home: the vendor home's `activation/` and
    /// `receipt-keys/` only, copied with their modes.
    fn instance_home(&self, name: &str) -> PathBuf {
        let dir = self.dir.join(name);
        fs::create_dir(&dir).unwrap();
        for sub in ["activation", "receipt-keys"] {
            if self.home.join(sub).exists() {
                let st = Command::new("cp").arg("-a").arg(self.home.join(sub)).arg(&dir).status().unwrap();
                assert!(st.success());
            }
        }
        dir
    }

    /// Rows of `sql` (one column), as text.
    fn query(&self, sql: &str) -> Vec<String> {
        let out = self.pg.psql(&self.url, sql);
        out.lines().map(str::to_owned).collect()
    }

    fn count(&self, sql: &str) -> i64 {
        self.query(sql)[0].parse().unwrap()
    }

    /// Issues a code-policy license for `project`, verified as the product
    /// verifies it.
    fn issue(&self, project: &str) -> Lic {
        let out = self.dir.join(format!("{project}-Container.lic"));
        self.ok(
            &self.home,
            &[
                "issue",
                "--company",
                "Customer Trading Co., Ltd.",
                "--project",
                project,
                "--app",
                "FineReport",
                "--version",
                "11.0",
                "--nodes",
                "3",
                "--kind",
                "local-container",
                "--expires",
                "2099-12-31",
                "--signed",
                "2026/11/20",
                "-o",
                out.to_str().unwrap(),
            ],
        );
        let roots: Vec<_> = fs::read_dir(self.home.join("public"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("root-"))
            .map(|p| load_root_public_key(&p).unwrap())
            .collect();
        let bytes = fs::read(&out).unwrap();
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let l = authenticate(&bytes, &mut buf, &roots).unwrap().license;
        Lic {
            id: l.id,
            key: ActivationKey::from_bytes(l.activation_key.unwrap()),
            base_url: l.activation_base_url.unwrap().to_owned(),
        }
    }
}

/// A license as the product holds it.
struct Lic {
    id: LicenseId,
    key: ActivationKey,
    base_url: String,
}

impl Lic {
    /// The path of a confirmation for `project`, and the code it must show.
    fn confirmation(&self, project: &str, salt: u64) -> (String, String) {
        let now = unix_now();
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&now.to_be_bytes());
        nonce[8..].copy_from_slice(&salt.to_be_bytes());
        let input = ChallengeInput {
            nonce,
            node_id: [2; 16],
            project_fingerprint: project_fingerprint("FineReport", project, b"deployment-1").unwrap(),
            nodes: 1,
            app_version: "11.0.20",
            now: Timestamp(now),
            server: None,
        };
        let p: PreparedChallenge = make_challenge(self.id, &self.key, &input).unwrap();
        let mut url = String::new();
        p.write_url(&self.base_url, &mut url).unwrap();
        let path = url.strip_prefix("http://127.0.0.1:8380").unwrap().to_owned();
        (path, p.code().to_string())
    }
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
    fn start(v: &Vendor, home: &Path, extra: &[&str]) -> Self {
        let log = home.with_extension("serve.log");
        let mut child = fanlic_cmd()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("FANLIC_HOME", home)
            .env("FANLIC_DATABASE_URL", &v.url)
            .current_dir(&v.dir)
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
        Self { child, addr, log }
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn stderr(&self) -> String {
        fs::read_to_string(&self.log).unwrap()
    }

    /// Waits until `/readyz` answers 200 (at most `limit`); how long it took.
    fn until_ready(&self, limit: Duration) -> Duration {
        let start = Instant::now();
        while start.elapsed() < limit {
            if http(&self.addr, "GET", "/readyz").is_ok_and(|r| r.status == 200) {
                return start.elapsed();
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("{} not ready within {limit:?}: {}", self.addr, self.stderr());
    }
}

#[derive(Debug)]
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

    /// The first reason's code of a refusal.
    fn code(&self) -> String {
        self.json()["reasons"][0]["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// One HTTP/1.1 request (JSON, `Connection: close`); `Err` when the
/// connection fails (a killed server).
fn http(addr: &str, method: &str, path: &str) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let body = if method == "POST" { "confirm=1" } else { "" };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Err(std::io::Error::other(format!("no complete answer: {text:?}")));
    };
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
    Ok(Resp { status, headers, body: body.to_owned() })
}

/// What a load run saw.
#[derive(Debug, Default)]
struct Seen {
    /// Confirmations answered with their code, per license (by index).
    codes: HashMap<usize, u64>,
    /// Answers by instance (0, 1) and status; 0: the connection failed.
    statuses: HashMap<(usize, u16), u64>,
    /// 503s without `Retry-After: 5`, and other surprises.
    odd: Vec<String>,
}

/// `threads` clients, each confirming its own license's activation on
/// instance `i % 2` in a loop until `stop` says so.
fn load(
    servers: [&str; 2],
    lics: &Arc<Vec<Lic>>,
    threads: usize,
    stop: &Arc<core::sync::atomic::AtomicBool>,
) -> Vec<thread::JoinHandle<Seen>> {
    (0..threads)
        .map(|t| {
            let (lics, stop) = (Arc::clone(lics), Arc::clone(stop));
            let which = t % 2;
            let addr = servers[which].to_owned();
            thread::spawn(move || {
                let mut seen = Seen::default();
                let lic = &lics[t];
                let mut n = 0u64;
                while !stop.load(core::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let (path, code) = lic.confirmation(&format!("project-{t}"), n);
                    match http(&addr, "POST", &path) {
                        Ok(r) => {
                            *seen.statuses.entry((which, r.status)).or_default() += 1;
                            match r.status {
                                200 => {
                                    if r.json()["code"] == code.as_str() {
                                        *seen.codes.entry(t).or_default() += 1;
                                    } else {
                                        seen.odd.push(format!("200 without the code: {}", r.body));
                                    }
                                }
                                503 => {
                                    if r.header("retry-after") != Some("5") || r.code() != "unavailable" {
                                        seen.odd.push(format!("503 {:?} {}", r.headers, r.body));
                                    }
                                    thread::sleep(Duration::from_millis(20));
                                }
                                _ => seen.odd.push(format!("{} {}", r.status, r.body)),
                            }
                        }
                        Err(_) => {
                            *seen.statuses.entry((which, 0)).or_default() += 1;
                            thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
                seen
            })
        })
        .collect()
}

fn merge(handles: Vec<thread::JoinHandle<Seen>>) -> Seen {
    let mut all = Seen::default();
    for h in handles {
        let s = h.join().unwrap();
        for (k, v) in s.codes {
            *all.codes.entry(k).or_default() += v;
        }
        for (k, v) in s.statuses {
            *all.statuses.entry(k).or_default() += v;
        }
        all.odd.extend(s.odd);
    }
    all
}

/// Every confirmation answered with a code is in the database: its
/// license's `activated` records are at least as many, and its binding is
/// to the project it was confirmed for.
fn assert_all_recorded(v: &Vendor, lics: &[Lic], seen: &Seen) {
    for (t, answered) in &seen.codes {
        let id = lics[*t].id.to_string();
        let recorded =
            v.count(&format!("SELECT count(*) FROM activations WHERE license_id = '{id}' AND outcome = 'activated'"));
        assert!(
            recorded >= i64::try_from(*answered).unwrap(),
            "license {id}: {answered} codes shown, {recorded} recorded"
        );
        let fp = project_fingerprint("FineReport", &format!("project-{t}"), b"deployment-1").unwrap();
        let bound = v.query(&format!(
            "SELECT encode(project_fingerprint, 'hex') FROM activation_bindings WHERE license_id = '{id}'"
        ));
        assert_eq!(bound, [fanlic_issuer::util::hex::encode(&fp)], "license {id}");
    }
}

fn issue_many(v: &Vendor, n: usize) -> Arc<Vec<Lic>> {
    Arc::new((0..n).map(|i| v.issue(&format!("load-{i}"))).collect())
}

#[test]
fn racing_activations_of_one_license_bind_it_once() {
    let v = Vendor::new(PgCluster::shared());
    let lic = Arc::new(v.issue("race"));
    let second = v.instance_home("instance-2");
    let a = Server::start(&v, &v.home, &NO_LIMITS);
    a.until_ready(Duration::from_secs(10));
    let b = Server::start(&v, &second, &NO_LIMITS);
    b.until_ready(Duration::from_secs(10));
    let addrs = [a.addr.clone(), b.addr.clone()];
    let barrier = Arc::new(Barrier::new(50));
    let answers: Vec<(String, Resp)> = (0..50)
        .map(|i| {
            let (lic, barrier, addr) = (Arc::clone(&lic), Arc::clone(&barrier), addrs[i % 2].clone());
            thread::spawn(move || {
                let (path, code) = lic.confirmation(&format!("racer-{i}"), i as u64);
                barrier.wait();
                (code, http(&addr, "POST", &path).unwrap())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let won: Vec<_> = answers.iter().filter(|(_, r)| r.status == 200).collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    assert_eq!(won[0].1.json()["code"], won[0].0.as_str());
    for (_, r) in answers.iter().filter(|(_, r)| r.status != 200) {
        assert_eq!((r.status, r.code().as_str()), (409, "max_licenses_reached"), "{}", r.body);
    }
    let id = lic.id.to_string();
    assert_eq!(v.count(&format!("SELECT count(*) FROM activation_bindings WHERE license_id = '{id}'")), 1);
    assert_eq!(v.count(&format!("SELECT count(*) FROM activations WHERE license_id = '{id}'")), 50);
    assert_eq!(
        v.count(&format!("SELECT count(*) FROM activations WHERE license_id = '{id}' AND outcome = 'activated'")),
        1
    );
}

#[test]
fn an_instance_killed_under_load_loses_no_answered_activation() {
    let v = Vendor::new(PgCluster::shared());
    let lics = issue_many(&v, 6);
    let second = v.instance_home("instance-2");
    let a = Server::start(&v, &v.home, &NO_LIMITS);
    let mut b = Server::start(&v, &second, &NO_LIMITS);
    a.until_ready(Duration::from_secs(10));
    b.until_ready(Duration::from_secs(10));
    let stop = Arc::new(core::sync::atomic::AtomicBool::new(false));
    let handles = load([&a.addr, &b.addr], &lics, lics.len(), &stop);
    thread::sleep(Duration::from_millis(2500));
    b.child.kill().unwrap(); // SIGKILL
    b.child.wait().unwrap();
    thread::sleep(Duration::from_millis(2500));
    stop.store(true, core::sync::atomic::Ordering::Relaxed);
    let seen = merge(handles);
    eprintln!("kill run: {:?}", seen.statuses);
    assert!(seen.odd.is_empty(), "{:?}", seen.odd);
    // The survivor answered every request with a code, before and after.
    let on_a: u64 = seen.statuses.iter().filter(|((i, _), _)| *i == 0).map(|(_, n)| n).sum();
    assert_eq!(seen.statuses.get(&(0, 200)).copied().unwrap_or(0), on_a, "{:?}", seen.statuses);
    assert!(on_a > 50, "too few requests on the survivor: {on_a}");
    assert!(seen.statuses.get(&(1, 200)).copied().unwrap_or(0) > 0, "the killed one never answered");
    assert!(seen.statuses.get(&(1, 0)).copied().unwrap_or(0) > 0, "the kill was not seen");
    assert_all_recorded(&v, &lics, &seen);
}

#[test]
fn database_stopped_under_load_gives_503_then_recovers() {
    // A cluster of its own: this test stops it.
    let pg: &'static PgCluster = Box::leak(Box::new(PgCluster::start()));
    let v = Vendor::new(pg);
    let lics = issue_many(&v, 4);
    let second = v.instance_home("instance-2");
    let mut a = Server::start(&v, &v.home, &NO_LIMITS);
    let mut b = Server::start(&v, &second, &NO_LIMITS);
    a.until_ready(Duration::from_secs(10));
    b.until_ready(Duration::from_secs(10));
    let stop = Arc::new(core::sync::atomic::AtomicBool::new(false));
    let handles = load([&a.addr, &b.addr], &lics, lics.len(), &stop);
    thread::sleep(Duration::from_millis(1500));
    pg.stop();
    let down = Instant::now();
    thread::sleep(Duration::from_millis(1000));
    for s in [&a, &b] {
        let r = http(&s.addr, "GET", "/readyz").unwrap();
        assert_eq!(r.status, 503, "{}", r.body);
        assert!(r.json()["failed"].as_array().unwrap().iter().any(|f| f == "database"), "{}", r.body);
        assert_eq!(http(&s.addr, "GET", "/healthz").unwrap().json()["status"], "ok");
    }
    thread::sleep(Duration::from_secs(10).saturating_sub(down.elapsed()));
    pg.start_again();
    let back = Instant::now();
    let recovered = [a.until_ready(Duration::from_secs(15)), b.until_ready(Duration::from_secs(15))];
    // Full service: a confirmation with its code on each instance.
    let mut first_200 = [None, None];
    while first_200.iter().any(Option::is_none) && back.elapsed() < Duration::from_secs(15) {
        for (i, s) in [&a, &b].iter().enumerate() {
            let (path, code) =
                lics[i].confirmation(&format!("project-{i}"), 1_000_000 + back.elapsed().as_millis() as u64);
            if first_200[i].is_none()
                && let Ok(r) = http(&s.addr, "POST", &path)
                && r.status == 200
            {
                assert_eq!(r.json()["code"], code.as_str());
                first_200[i] = Some(back.elapsed());
            }
        }
        thread::sleep(Duration::from_millis(20));
    }
    thread::sleep(Duration::from_millis(1500));
    stop.store(true, core::sync::atomic::Ordering::Relaxed);
    let seen = merge(handles);
    eprintln!("outage run: {:?}; /readyz 200 again after {recovered:?}, first code after {first_200:?}", seen.statuses);
    assert!(a.alive() && b.alive(), "an instance died: {} {}", a.stderr(), b.stderr());
    let errors: Vec<String> = [&a, &b]
        .iter()
        .flat_map(|s| {
            s.stderr().lines().filter(|l| l.contains("\"status\":500")).map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    assert!(seen.odd.is_empty(), "{:?}\n{}", seen.odd, errors.join("\n"));
    for (i, first) in first_200.iter().enumerate() {
        assert!(seen.statuses.get(&(i, 503)).copied().unwrap_or(0) > 0, "instance {i} never said 503");
        assert_eq!(seen.statuses.get(&(i, 0)), None, "instance {i} dropped connections");
        assert!(!seen.statuses.contains_key(&(i, 500)));
        let t = first.unwrap_or_else(|| panic!("instance {i} gave no code after the database came back"));
        assert!(t < Duration::from_secs(5), "instance {i}: first code {t:?} after the database returned");
    }
    assert_all_recorded(&v, &lics, &seen);
}

#[test]
fn an_instance_with_another_master_secret_is_not_ready_and_refuses() {
    let v = Vendor::new(PgCluster::shared());
    let lic = v.issue("webroot");
    let a = Server::start(&v, &v.home, &[]);
    a.until_ready(Duration::from_secs(10));
    // Another vendor's home (SQLite, no database) lends its master secret.
    let other = v.dir.join("other-home");
    let out = fanlic_cmd()
        .args(["init", "--authserv-id", AUTHSERV])
        .env("FANLIC_HOME", &other)
        .env_remove("FANLIC_DATABASE_URL")
        .current_dir(&v.dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let second = v.dir.join("instance-2");
    fs::create_dir(&second).unwrap();
    assert!(Command::new("cp").arg("-a").arg(other.join("activation")).arg(&second).status().unwrap().success());
    // The receipt keys are the vendor's own: only the master secret differs.
    assert!(Command::new("cp").arg("-a").arg(v.home.join("receipt-keys")).arg(&second).status().unwrap().success());
    let b = Server::start(&v, &second, &[]);

    let r = http(&b.addr, "GET", "/readyz").unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    let body = r.json();
    assert_eq!(body["failed"], serde_json::json!(["master_secret"]), "{body}");
    let check = body["checks"].as_array().unwrap().iter().find(|c| c["name"] == "master_secret").unwrap().clone();
    assert!(check["problem"].as_str().unwrap().contains("master secret"), "{check}");
    assert!(check["fix"].as_str().unwrap().contains("activation/master.secret"), "{check}");
    assert_eq!(r.header("x-frame-options"), Some("DENY"));

    let (path, code) = lic.confirmation("webroot", 1);
    let r = http(&b.addr, "POST", &path).unwrap();
    assert_eq!((r.status, r.code().as_str(), r.header("retry-after")), (503, "instance_misconfigured", Some("5")));
    // The other instance is unaffected.
    assert_eq!(http(&a.addr, "GET", "/readyz").unwrap().status, 200);
    let r = http(&a.addr, "POST", &path).unwrap();
    assert_eq!((r.status, r.json()["code"].as_str()), (200, Some(code.as_str())), "{}", r.body);
    // Said once on stderr, naming the secret and what to copy; never the secret.
    let log = b.stderr();
    assert_eq!(log.matches("does not hold the same secret").count(), 1, "{log}");
    assert!(log.contains("activation master secret") && log.contains("Copy activation/master.secret"), "{log}");
    let secret = fs::read_to_string(second.join("activation/master.secret")).unwrap();
    for line in secret.lines().filter(|l| l.len() >= 16) {
        assert!(!log.contains(line.trim()) && !r.body.contains(line.trim()), "the secret shows");
    }
    let recorded = v.query("SELECT encode(check_value, 'hex') FROM instance_secrets WHERE name = 'activation-master'");
    assert_eq!(recorded.len(), 1);
    assert!(!secret.contains(&recorded[0]), "the check value is the secret");
}

#[test]
fn one_rate_limit_for_both_instances() {
    let v = Vendor::new(PgCluster::shared());
    let second = v.instance_home("instance-2");
    let limit = ["--rate-client", "10", "--rate-window", "3600"];
    let a = Server::start(&v, &v.home, &limit);
    let b = Server::start(&v, &second, &limit);
    a.until_ready(Duration::from_secs(10));
    b.until_ready(Duration::from_secs(10));
    // Requests that count against the client, whatever they hold.
    let ask = |s: &Server| http(&s.addr, "GET", "/a/not-a-token").unwrap().status;
    let on_a: Vec<u16> = (0..11).map(|_| ask(&a)).collect();
    assert_eq!(on_a[..10], [400; 10]);
    assert_eq!(on_a[10], 429);
    // Each instance syncs about once a second; B has seen this client
    // since its next sync at the latest. Paced at 5 a second, B admits at
    // most what comes before its first sync (the documented slack).
    thread::sleep(Duration::from_millis(1500));
    let mut admitted = 0;
    let limited = (0..20).any(|_| {
        let s = ask(&b);
        if s == 429 {
            return true;
        }
        assert_eq!(s, 400);
        admitted += 1;
        thread::sleep(Duration::from_millis(200));
        false
    });
    eprintln!("rate limit: B admitted {admitted} requests of a client A had limited (limit 10)");
    assert!(limited, "B never refused");
    assert!(admitted <= 7, "B admitted {admitted} of a client A had already limited (alone it admits 10)");
    thread::sleep(Duration::from_millis(1500));
    let total = v.count("SELECT coalesce(sum(count), 0) FROM rate_limits WHERE scope = 'client' AND key = '127.0.0.1'");
    assert!(total >= 11 + i64::from(admitted), "{total}");
}

#[test]
fn an_instance_without_the_signing_receipt_key_refuses_until_it_is_copied() {
    let v = Vendor::new(PgCluster::shared());
    let lic = v.issue("webroot");
    let a = Server::start(&v, &v.home, &[]);
    a.until_ready(Duration::from_secs(10));
    // The operator copied activation/ but forgot receipt-keys/.
    let second = v.dir.join("instance-2");
    fs::create_dir(&second).unwrap();
    assert!(Command::new("cp").arg("-a").arg(v.home.join("activation")).arg(&second).status().unwrap().success());
    let b = Server::start(&v, &second, &[]);
    let r = http(&b.addr, "GET", "/readyz").unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    let body = r.json();
    assert_eq!(body["failed"], serde_json::json!(["receipt_key"]), "{body}");
    let (path, code) = lic.confirmation("webroot", 1);
    let r = http(&b.addr, "POST", &path).unwrap();
    assert_eq!((r.status, r.code().as_str()), (503, "instance_misconfigured"), "{}", r.body);
    // A GET only shows: the master secret is the same, so it still answers.
    assert_eq!(http(&b.addr, "GET", &path).unwrap().status, 200);
    let log = b.stderr();
    assert!(log.contains("which signs now, is not here") && log.contains("Copy receipt-keys/receipt-"), "{log}");

    // Copied: found again without a restart.
    assert!(Command::new("cp").arg("-a").arg(v.home.join("receipt-keys")).arg(&second).status().unwrap().success());
    b.until_ready(Duration::from_secs(5));
    let r = http(&b.addr, "POST", &path).unwrap();
    assert_eq!((r.status, r.json()["code"].as_str()), (200, Some(code.as_str())), "{}", r.body);
    assert!(b.stderr().contains("now matches the database"));
}
