//! Load generator for the vendor activation service: confirmed
//! activations (`POST BASE/TOKEN`, `Accept: application/json`) against a
//! real `fanlic serve` on loopback, over many licenses, for a fixed time.
//!
//! ```text
//! cargo build --release -p fanlic-issuer                      # in the workspace
//! cd benches && cargo run --release --no-default-features --features ingest \
//!     --bin activation_load -- [SECONDS=60] [LICENSES=500] [CONNECTIONS=8]
//! ```
//!
//! It makes a home with the library (as `fanlic init` does), issues LICENSES
//! licenses, makes one challenge per license as the product does
//! (`fanlic_verifier::activation::make_challenge`), starts
//! `../target/release/fanlic serve --listen 127.0.0.1:0` with the rate limits
//! set for the test (10,000 per license and 10,000,000 per client address per
//! 60 s window: every request goes from one loopback address, and counts, but
//! none is refused), and then CONNECTIONS keep-alive HTTP/1.1 clients
//! each POST challenges round-robin for SECONDS. Every answer must be
//! `200` with `"status":"activated"` and the code the product expects;
//! anything else counts as an error. Prints throughput, latency percentiles
//! (per request, from write to the last byte of the answer), errors, and the
//! server's peak RSS. Then it kills the server (SIGKILL, no shutdown) and
//! counts the `activated` rows in its SQLite: the server answers only after
//! its commit, so every answered activation must be there (at most one more
//! per connection, for requests in flight at the kill).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpStream,
    path::PathBuf,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use fanlic_formats::{LicenseKind, Timestamp};
use fanlic_issuer::Home;
use fanlic_issuer::InitOptions;
use fanlic_issuer::IssueInput;
use fanlic_issuer::IssueRequest;
use fanlic_issuer::util::clock;
use fanlic_verifier::activation::{ChallengeInput, make_challenge, project_fingerprint};

struct Target {
    path: String,
    code: String,
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().expect("numbers: SECONDS LICENSES CONNECTIONS"));
    let seconds = args.next().unwrap_or(60);
    let licenses = args.next().unwrap_or(500) as usize;
    let connections = args.next().unwrap_or(8) as usize;
    let fanlic = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/fanlic");
    assert!(fanlic.exists(), "build the server first: cargo build --release -p fanlic-issuer ({})", fanlic.display());

    let tmp = tempfile::Builder::new().prefix("fanlic-activation-load-").tempdir().unwrap();
    let home_dir = tmp.path().join("home");
    let now = clock::now().unwrap();
    let (mut home, _) =
        Home::init(&home_dir, &InitOptions { authserv_ids: vec![], valid_for_days: None, now }).unwrap();
    let t = Instant::now();
    let mut targets = Vec::with_capacity(licenses);
    let db_path = home.db_path().to_owned();
    let master = home.activation_master().unwrap().expect("init makes an activation master secret");
    for i in 0..licenses {
        let project = format!("project-{i}");
        let req = IssueRequest::parse(
            &IssueInput {
                company: &format!("Load Test Co {i}"),
                project: &project,
                app: "FineReport",
                version: "11.0",
                expires: "never",
                signed: "2026/11/20",
                not_before: None,
            },
            LicenseKind::LocalContainer,
            4,
            tmp.path().join(format!("{i}.lic")),
            false,
        )
        .unwrap();
        let issued = home.issue(&req, now).unwrap();
        let id = issued.license_id;
        let key = master.derive(&id);
        let input = ChallengeInput {
            nonce: [i as u8; 16],
            node_id: [1; 16],
            project_fingerprint: project_fingerprint("FineReport", &project, b"load").unwrap(),
            nodes: 2,
            app_version: "11.0.20",
            now: Timestamp(clock::now().unwrap().0),
            server: None,
        };
        let c = make_challenge(id, &key, &input).unwrap();
        let mut url = String::new();
        c.write_url("http://x/a", &mut url).unwrap();
        targets.push(Target { path: url.trim_start_matches("http://x").to_owned(), code: c.code().to_string() });
    }
    drop(home);
    eprintln!("{licenses} licenses issued and challenged in {:.1} s", t.elapsed().as_secs_f64());

    let mut server = Command::new(&fanlic)
        .args(["serve", "--home"])
        .arg(&home_dir)
        .args(["--listen", "127.0.0.1:0", "--rate-license", "10000", "--rate-client", "10000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| {
            panic!(
                "fanlic serve did not start (first line {first:?}); an older release build cannot open a home this \
                 library made: run `cargo build --release -p fanlic-issuer` again"
            )
        })
        .to_owned();

    let targets = Arc::new(targets);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|w| {
            let (targets, stop, addr) = (targets.clone(), stop.clone(), addr.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::<u32>::with_capacity(200_000);
                let mut errors = 0u64;
                let mut s = TcpStream::connect(&addr).unwrap();
                s.set_nodelay(true).unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    let t = &targets[i % targets.len()];
                    i += connections;
                    let req = format!(
                        "POST {} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nContent-Length: 0\r\n\r\n",
                        t.path
                    );
                    let t0 = Instant::now();
                    s.write_all(req.as_bytes()).unwrap();
                    let (status, body) = read_response(&mut r);
                    lat.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    let ok = status == 200
                        && body.contains("\"activated\"")
                        && body.contains(&format!("\"code\":\"{}\"", t.code));
                    if !ok {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("error: {status} {body}");
                        }
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.join().unwrap();
        lat.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rss = fanlic_benches::load::peak_rss(server.id());
    let _ = server.kill();
    let _ = server.wait();
    let db = rusqlite::Connection::open(&db_path).unwrap();
    let recorded: i64 =
        db.query_row("SELECT count(*) FROM activations WHERE outcome = 'activated'", [], |r| r.get(0)).unwrap();
    let recorded = recorded as u64;
    println!(
        "fanlic serve, confirmed activations (POST, JSON), {licenses} licenses, {connections} connections, {seconds} s, \
         rate limits 10000/license and 10000000/client per 60 s"
    );
    println!("requests            {} ({errors} errors)", lat.len());
    println!("throughput          {:.0} activations/s", lat.len() as f64 / elapsed);
    println!("{}", fanlic_benches::load::latency_line(&mut lat, 2));
    println!("server peak RSS     {rss}");
    println!("recorded in SQLite  {recorded} activations after SIGKILL");
    assert_eq!(errors, 0, "every activation must succeed");
    let answered = lat.len() as u64;
    assert!(
        (answered..=answered + connections as u64).contains(&recorded),
        "{answered} answered activations but {recorded} recorded"
    );
}

/// Reads one HTTP/1.1 response with a Content-Length (or chunked) body.
fn read_response(r: &mut BufReader<TcpStream>) -> (u16, String) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut len = None;
    let mut chunked = false;
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let lower = l.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse::<usize>().ok();
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut body = Vec::new();
    if let Some(n) = len {
        body.resize(n, 0);
        r.read_exact(&mut body).unwrap();
    } else if chunked {
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            let n = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    (status, String::from_utf8_lossy(&body).into_owned())
}
