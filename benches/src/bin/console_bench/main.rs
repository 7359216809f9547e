//! The staff console benchmark: every page of a real `fanlic console` over
//! a vendor home of 10,000 contracts, 100,000 decisions and 50,000 licenses.
//!
//! ```text
//! cargo build --release -p fanlic-issuer                      # in the workspace
//! cd benches && cargo run --release --no-default-features --features ingest \
//!     --bin console_bench -- [ROUNDS=200] [LOGINS=30]
//! ```
//!
//! It builds the home once with the library ([`data`]) and keeps it under
//! `../target/console-bench/home-<key>` (the key names the generator's
//! version and the schema version: a new migration makes a new home), adds
//! the staff account `bench-admin` (admin) with `fanlic staff add`, starts
//! `../target/release/fanlic console --listen 127.0.0.1:0` on it and logs in.
//! Then ROUNDS rounds, each requesting every page once in a fixed order
//! (after 5 warm-up rounds), sequentially over one keep-alive HTTP/1.1
//! connection (a new one whenever the server closes it), timing each request
//! from the first byte written to the last byte of the answer read. Then
//! LOGINS logins (`GET /login` for the form, the timed `POST /login`, each
//! on a new connection as a browser's first visit). Prints one table: p50,
//! p95, p99 and max per page, against the 50 ms budget (250 ms for a login).
//! A page that does not answer 200 (not merged yet) is listed as not
//! measured.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod data;
mod http;

use std::{
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use http::Conn;

/// Changes whenever [`data`] makes a different home.
const GEN_VERSION: u32 = 3;
const USER: &str = "bench-admin";
const PASSWORD: &str = "bench correct horse battery staple";
/// The page budget and the login budget, in milliseconds.
const PAGE_MS: f64 = 50.0;
const LOGIN_MS: f64 = 250.0;
/// A page over this on its first request is not repeated.
const SLOW_MS: f64 = 2_000.0;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("numbers: ROUNDS LOGINS"));
    let rounds = args.next().unwrap_or(200);
    let logins = args.next().unwrap_or(30);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let fanlic = root.join("target/release/fanlic");
    assert!(fanlic.exists(), "build the console first: cargo build --release -p fanlic-issuer ({})", fanlic.display());

    let home = cached_home(&root.join("target/console-bench"));
    let targets = Targets::read(&home);

    let out = Command::new(&fanlic)
        .args(["staff", "add", USER, "--role", "admin", "--password-stdin", "--by", "console-bench"])
        .env("FANLIC_HOME", &home)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().unwrap().write_all(PASSWORD.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() || err.contains("exist"), "fanlic staff add: {err}");

    let log = std::fs::File::create(home.with_extension("console.log")).unwrap();
    let mut server = Command::new(&fanlic)
        .args(["console", "--listen", "127.0.0.1:0"])
        .env("FANLIC_HOME", &home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("fanlic console did not start (first line {first:?})"))
        .to_owned();

    let mut c = Conn::new(&addr);
    let login_ms = login(&mut c).1;
    eprintln!("logged in as {USER} ({login_ms:.0} ms)");

    let pages = targets.pages();
    let mut lat: Vec<Vec<u32>> = vec![Vec::with_capacity(rounds); pages.len()];
    let mut status = vec![0u16; pages.len()];
    let mut size = vec![0usize; pages.len()];
    // A page slower than SLOW_MS on its first request is measured once:
    // repeating it would take the run hours.
    let mut slow = vec![None::<f64>; pages.len()];
    for round in 0..rounds + 5 {
        for (i, (_, path)) in pages.iter().enumerate() {
            if slow[i].is_some() {
                continue;
            }
            let t = Instant::now();
            let a = c.request("GET", path, None);
            let us = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
            status[i] = a.status;
            size[i] = a.body.len();
            if round == 0 && f64::from(us) / 1000.0 > SLOW_MS {
                slow[i] = Some(f64::from(us) / 1000.0);
                eprintln!("{path}: {:.0} ms on its first request, measured once", f64::from(us) / 1000.0);
            }
            if round >= 5 {
                lat[i].push(us);
            }
        }
    }
    // Logins: a browser's first visit each, new connection and cookie jar.
    let mut login_lat = Vec::with_capacity(logins);
    for _ in 0..logins {
        let mut c = Conn::new(&addr);
        let (us, _) = login(&mut c);
        login_lat.push(us);
    }
    let rss = fanlic_benches::load::peak_rss(server.id());
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();

    println!(
        "fanlic console, {rounds} rounds of every page (after 5 warm-up rounds), sequential, one keep-alive \
         connection; {logins} logins"
    );
    println!("home: {}", targets.summary);
    println!();
    println!("| page | request | status | bytes | p50 ms | p95 ms | p99 ms | max ms | p99 < {PAGE_MS} ms? |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut over = 0;
    for (i, (name, path)) in pages.iter().enumerate() {
        if let Some(ms) = slow[i] {
            over += 1;
            println!("| {name} | `{path}` | {} | {} | {ms:.0} (one request) | | | | **no** |", status[i], size[i]);
            continue;
        }
        if status[i] != 200 {
            println!("| {name} | `{path}` | {} | | not measured | | | | |", status[i]);
            continue;
        }
        let q = quantiles(&mut lat[i]);
        let ok = q[2] < PAGE_MS;
        over += usize::from(!ok);
        println!(
            "| {name} | `{path}` | 200 | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            size[i],
            q[0],
            q[1],
            q[2],
            q[3],
            if ok { "yes" } else { "**no**" }
        );
    }
    let q = quantiles(&mut login_lat);
    println!(
        "| login | `POST /login` | 303 | | {:.1} | {:.1} | {:.1} | {:.1} | {} (≤ {LOGIN_MS} ms) |",
        q[0],
        q[1],
        q[2],
        q[3],
        if q[2] <= LOGIN_MS { "yes" } else { "**no**" }
    );
    println!();
    println!("server peak RSS {rss}; pages over budget: {over}");
}

/// p50, p95, p99, max in milliseconds.
fn quantiles(lat: &mut [u32]) -> [f64; 4] {
    lat.sort_unstable();
    let p = |q: f64| {
        let i = ((lat.len().saturating_sub(1)) as f64 * q).round() as usize;
        f64::from(lat.get(i).copied().unwrap_or(0)) / 1000.0
    };
    [p(0.5), p(0.95), p(0.99), p(1.0)]
}

/// Logs in on `c`: the time of the `POST /login` in microseconds, and in ms.
fn login(c: &mut Conn) -> (u32, f64) {
    let page = c.request("GET", "/login", None);
    assert_eq!(page.status, 200, "GET /login: {}", page.body);
    let csrf = http::hidden(&page.body, "csrf").expect("the login form has a csrf field");
    let form = http::form(&[("username", USER), ("password", PASSWORD), ("csrf", &csrf), ("next", "/")]);
    let t = Instant::now();
    let a = c.request("POST", "/login", Some(&form));
    let us = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
    assert_eq!(a.status, 303, "login: {}", a.body);
    (us, f64::from(us) / 1000.0)
}

/// The home for this generator and schema, built if missing.
fn cached_home(dir: &Path) -> PathBuf {
    let key = format!("home-g{GEN_VERSION}-s{}", fanlic_issuer::SCHEMA_VERSION);
    let home = dir.join(&key);
    if home.join("fanlic.db").exists() || home.exists() && std::fs::read_dir(&home).is_ok_and(|d| d.count() > 0) {
        return home;
    }
    std::fs::create_dir_all(dir).unwrap();
    // Older homes: disk is shared.
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("home-") {
            let _ = std::fs::remove_dir_all(e.path());
            let _ = std::fs::remove_file(e.path());
        }
    }
    let tmp = dir.join(format!("{key}.tmp"));
    eprintln!("building the home {} (once)", home.display());
    data::build(&tmp);
    std::fs::rename(&tmp, &home).unwrap();
    home
}

/// What the pages ask for, read from the home.
struct Targets {
    company: String,
    email: String,
    contract: i64,
    license: String,
    license_company: String,
    project: String,
    license_email: String,
    held: i64,
    summary: String,
}

impl Targets {
    fn read(home: &Path) -> Self {
        let db = rusqlite::Connection::open_with_flags(
            fanlic_issuer::Home::open(home).unwrap().db_path(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let one = |sql: &str| -> String {
            db.query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0)).map(text).unwrap()
        };
        let count = |t: &str| one(&format!("SELECT count(*) FROM {t}"));
        let contract: i64 = 7_000;
        let company = one(&format!("SELECT company FROM contracts WHERE contract_id = {contract}"));
        let email = one("SELECT email FROM contract_emails WHERE contract_id = 3000");
        let license = one("SELECT license_id FROM licenses ORDER BY rowid LIMIT 1 OFFSET 25000");
        let license_company = one("SELECT company FROM licenses ORDER BY rowid LIMIT 1 OFFSET 31000");
        let project = one("SELECT project FROM licenses ORDER BY rowid LIMIT 1 OFFSET 42000");
        let license_email = one(
            "SELECT e.email FROM contract_emails e JOIN contracts c USING (contract_id) ORDER BY c.contract_id LIMIT 1 \
             OFFSET 1234",
        );
        let held: i64 = one("SELECT max(decision_id) FROM decisions WHERE decision = 'held'").parse().unwrap();
        let summary = format!(
            "{} contracts, {} licenses, {} decisions ({} held), {} bindings, {} audit rows, {} outbox entries; \
             database {} MiB",
            count("contracts"),
            count("licenses"),
            count("decisions"),
            one("SELECT count(*) FROM decisions WHERE decision = 'held'"),
            count("activation_bindings"),
            count("audit"),
            count("outbox"),
            std::fs::metadata(fanlic_issuer::Home::open(home).unwrap().db_path()).map(|m| m.len() >> 20).unwrap_or(0),
        );
        Self { company, email, contract, license, license_company, project, license_email, held, summary }
    }

    /// (name, path) of every page measured.
    fn pages(&self) -> Vec<(&'static str, String)> {
        let q = http::enc;
        vec![
            ("dashboard", "/".to_owned()),
            ("review list", "/review".to_owned()),
            ("review detail", format!("/review/{}", self.held)),
            ("contracts list", "/contracts".to_owned()),
            ("contracts list, page 20", "/contracts?page=20".to_owned()),
            ("contracts search: company", format!("/contracts?q={}", q(&self.company))),
            ("contracts search: part of a name", "/contracts?q=Hengtong".to_owned()),
            ("contracts search: email", format!("/contracts?q={}", q(&self.email))),
            ("contract page", format!("/contracts/{}", self.contract)),
            ("licenses list", "/licenses".to_owned()),
            ("licenses list, page 100", "/licenses?page=100".to_owned()),
            ("licenses search: company", format!("/licenses?q={}", q(&self.license_company))),
            ("licenses search: project", format!("/licenses?q={}", q(&self.project))),
            ("licenses search: id prefix", format!("/licenses?q={}", &self.license[..8])),
            ("licenses search: contract address", format!("/licenses?q={}", q(&self.license_email))),
            ("license page", format!("/licenses/{}", self.license)),
            ("audit", "/audit".to_owned()),
            ("audit: action", "/audit?action=revoke".to_owned()),
            ("audit: by", "/audit?by=wang.fang".to_owned()),
            ("audit: date range", "/audit?since=2025-03-01&until=2025-03-31".to_owned()),
            ("audit: license", format!("/audit?license={}", self.license)),
            ("audit: page 50", "/audit?page=50".to_owned()),
            ("audit.csv: action", "/audit.csv?action=revoke".to_owned()),
            ("outbox", "/outbox".to_owned()),
            ("outbox: failed", "/outbox?status=failed".to_owned()),
            ("staff", "/staff".to_owned()),
        ]
    }
}

fn text(v: rusqlite::types::Value) -> String {
    match v {
        rusqlite::types::Value::Integer(i) => i.to_string(),
        rusqlite::types::Value::Text(s) => s,
        other => format!("{other:?}"),
    }
}
