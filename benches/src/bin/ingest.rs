//! The ingest benchmark: N generated registration mails in a real
//! Maildir `new/`, ingested end to end exactly as `fanlic ingest MAILDIR`
//! does (`source::open`, then `ingest::ingest_messages`: batches decided in
//! one transaction each, then acknowledged), against the per-email floor measured in the same run:
//! one `mail_parser` parse plus one *ring* Ed25519 signature.
//!
//! ```text
//! cargo run --release --no-default-features --features ingest --bin ingest -- N
//! cargo run --release --no-default-features --features ingest --bin ingest -- N --database both --rounds 3
//! ```
//!
//! `--database` says where the home's records are:
//!
//! - `sqlite` (the default): the home's `fanlic.db`;
//! - `postgres`: a new database of a PostgreSQL 15 the bench starts
//!   (`fanlic_testkit::postgres::PgCluster`: Debian's `initdb` + `pg_ctl`
//!   in a temporary folder, `fsync` and `synchronous_commit` on), reached
//!   over TLS on loopback (`--no-tls`: without);
//! - `postgres://…`: that database, which must be empty;
//! - `both`: SQLite and PostgreSQL one after the other, `--rounds R` times,
//!   the order swapped every round, then the ratios. Each run is a child
//!   process of this binary: a process picks its database once.
//!
//! `--no-default-features`: the `compare` feature (JWT/PASETO) turns on
//! ed25519-dalek's `fast` tables, which the issuer as shipped does not have.
//! Prints one block of results per run; its last line, `result …`, is for
//! the side-by-side summary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::{
    fs,
    hint::black_box,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use fanlic_benches::load::ProcessCpu;
use fanlic_testkit::postgres::PgCluster;

use fanlic_issuer::Home;
use fanlic_issuer::InitOptions;
use fanlic_issuer::contracts::{self, OPTION_NAMES, TermsText};
use fanlic_issuer::ingest;
use fanlic_issuer::ingest::source;
use fanlic_issuer::util::clock;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

const AUTHSERV: &str = "mx.vendor.example";
const PASS: &str = "mx.vendor.example; dkim=pass header.d=customer.example";
const SUBJECT: &str = "Official Authorization Document of Customer Trading Co., Ltd.'s Registration for FineReport";
/// The clean registration the issuer's integration tests send (`issuer/tests/it/common/mod.rs`).
const BODY: &str = include_str!("../../../fixtures/emails/bodies/clean-registration.txt");

/// A clean registration mail (issued), as `issuer/tests/it/ingest.rs` writes them.
fn mail(i: usize) -> String {
    let mut s = String::new();
    s.push_str(&format!("Authentication-Results: {PASS}\r\n"));
    s.push_str("Received: from mail.customer.example by mx.vendor.example; Fri, 20 Nov 2026 09:30:05 +0800\r\n");
    s.push_str("From: Alice <Alice@Customer.example>\r\n");
    s.push_str(&format!(
        "To: license@vendor.example\r\nSubject: {SUBJECT}\r\nMessage-ID: <bench-{i}@customer.example>\r\n"
    ));
    s.push_str("Date: Fri, 20 Nov 2026 09:30:00 +0800\r\n");
    s.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    // A project each: one license per project, so every mail is issued.
    s.push_str(&BODY.replace("Project name: webroot", &format!("Project name: webroot-{i}")).replace('\n', "\r\n"));
    s
}

fn vm_hwm_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time of the whole process, every thread (`/proc/self/stat`:
/// utime + stime, in clock ticks of 10 ms): less disturbed than wall time
/// by other work on a shared machine.
fn cpu_time() -> Duration {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`, which may hold spaces: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest.split_whitespace().map(|v| v.parse().unwrap_or(0)).collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn per(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

/// One parse + one Ed25519 signature per mail of `sample`, `rounds` times;
/// the best round's per-email microseconds.
fn baseline(sample: &[Vec<u8>], key: &Ed25519KeyPair, license_message: &[u8], rounds: usize) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let t = Instant::now();
        for raw in sample {
            let parsed = mail_parser::MessageParser::default().parse(black_box(raw.as_slice()));
            black_box(&parsed);
            let sig = key.sign(black_box(license_message));
            black_box(sig.as_ref());
        }
        best = best.min(per(t.elapsed(), sample.len()));
    }
    best
}

const USAGE: &str =
    "ingest [N=10000] [--database sqlite|postgres|both|postgres://URL] [--rounds R] [--no-tls] [--pg-statements]";

fn main() {
    let mut n = 10_000usize;
    let mut database = "sqlite".to_owned();
    let mut rounds = 1usize;
    let mut tls = true;
    let mut statements = false;
    let mut postmaster = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--database" => {
                database = args.next().unwrap_or_else(|| panic!("--database takes a value\nusage: {USAGE}"))
            }
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()).expect("--rounds takes a number"),
            "--no-tls" => tls = false,
            "--pg-statements" => statements = true,
            // Set by the side-by-side parent: PostgreSQL's CPU is counted over the ingest.
            "--postmaster" => postmaster = args.next().and_then(|v| v.parse().ok()),
            v if !v.starts_with('-') => {
                n = v.parse().unwrap_or_else(|_| panic!("N: a number of mails\nusage: {USAGE}"))
            }
            other => panic!("unknown option {other}\nusage: {USAGE}"),
        }
    }
    assert!(n > 0, "N: at least one mail");
    match database.as_str() {
        "sqlite" => run_one(n, None, postmaster),
        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            run_one(n, Some(url), postmaster);
        }
        "postgres" => side_by_side(n, &[true], rounds, tls, statements),
        "both" => side_by_side(n, &[false, true], rounds, tls, statements),
        other => panic!("--database takes sqlite, postgres, both or a postgres:// URL, not {other:?}"),
    }
}

/// Runs each backend of `which` (false: SQLite, true: PostgreSQL) in a
/// child process, `rounds` times, the order swapped every round, on one
/// PostgreSQL cluster (a new database each run); prints each run's block,
/// then the emails/s side by side and their ratio. `statements`: PostgreSQL
/// logs every statement's duration, and the ones that took longest in all
/// are printed (a profile of the database's side; logging costs time too).
fn side_by_side(n: usize, which: &[bool], rounds: usize, tls: bool, statements: bool) {
    let cluster = PgCluster::start();
    if statements {
        cluster.superuser_psql("postgres", "ALTER SYSTEM SET log_min_duration_statement = 0");
        cluster.superuser_psql("postgres", "SELECT pg_reload_conf()");
    }
    let probe = cluster.new_database();
    let show = |what: &str| cluster.psql(&probe, &format!("SHOW {what}"));
    println!(
        "PostgreSQL {}: SHOW fsync = {}; SHOW synchronous_commit = {}; wal_sync_method = {}; data in {}",
        show("server_version"),
        show("fsync"),
        show("synchronous_commit"),
        show("wal_sync_method"),
        cluster.dir().display()
    );
    let postmaster: u32 = fs::read_to_string(cluster.dir().join("data/postmaster.pid"))
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.trim().parse().ok()))
        .expect("the cluster's postmaster.pid");
    let mut rows: Vec<(usize, bool, f64)> = Vec::new();
    for round in 1..=rounds {
        let mut order = which.to_vec();
        if round % 2 == 0 {
            order.reverse();
        }
        for pg in order {
            let url = pg.then(|| cluster.new_database());
            let target = match &url {
                Some(url) if tls => cluster.tls_url(url),
                Some(url) => format!("{url}?sslmode=disable"),
                None => "sqlite".to_owned(),
            };
            let before = url.as_deref().map(|u| pg_stats(&cluster, u));
            let mut child = Command::new(std::env::current_exe().unwrap());
            child.arg(n.to_string()).args(["--database", &target]);
            if pg {
                child.args(["--postmaster", &postmaster.to_string()]);
            }
            let out = child.output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            println!("\nround {round}, {}:\n{}", if pg { "PostgreSQL" } else { "SQLite" }, text.trim_end());
            assert!(out.status.success(), "the run failed: {}", String::from_utf8_lossy(&out.stderr));
            if let (Some(u), Some(before)) = (&url, before) {
                // Read once the run's sessions have ended and reported their counters.
                std::thread::sleep(Duration::from_millis(500));
                let after = pg_stats(&cluster, u);
                println!(
                    "PostgreSQL over the run    {:.0} commits, {:.0} WAL syncs (home, contract and ingest)",
                    after.0 - before.0,
                    after.1 - before.1
                );
            }
            if statements && pg {
                let log = fs::read_to_string(cluster.dir().join("postgres.log")).unwrap_or_default();
                println!("statements by total time in PostgreSQL (log_min_duration_statement = 0):");
                for l in fanlic_benches::load::statement_times(&log, 30) {
                    println!("  {l}");
                }
                // The next run's statements alone.
                let _ = fs::write(cluster.dir().join("postgres.log"), "");
                if let Some(u) = &url {
                    explain_live_lookups(&cluster, u);
                }
            }
            let rate = text
                .lines()
                .find_map(|l| l.strip_prefix("result "))
                .and_then(|l| l.split_whitespace().find_map(|kv| kv.strip_prefix("emails_per_s=")))
                .and_then(|v| v.parse::<f64>().ok())
                .expect("a result line");
            rows.push((round, pg, rate));
        }
    }
    println!("| round | SQLite emails/s | PostgreSQL emails/s | PostgreSQL ÷ SQLite |");
    println!("| ---: | ---: | ---: | ---: |");
    for round in 1..=rounds {
        let of = |pg| rows.iter().find(|r| r.0 == round && r.1 == pg).map(|r| r.2);
        let cell = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.0}"));
        let ratio = match (of(false), of(true)) {
            (Some(l), Some(p)) => format!("{:.2}x", p / l),
            _ => "–".to_owned(),
        };
        println!("| {round} | {} | {} | {ratio} |", cell(of(false)), cell(of(true)));
    }
}

/// One run, in this process, on the home's SQLite or on PostgreSQL at `url`.
fn run_one(n: usize, url: Option<&str>, postmaster: Option<u32>) {
    if let Some(url) = url {
        fanlic_issuer::home::use_database(url.parse().unwrap_or_else(|e| panic!("--database: {e}")));
    }
    let tmp = tempfile::Builder::new().prefix("fanlic-ingest-bench-").tempdir().unwrap();
    // `INGEST_BENCH_KEEP=1`: leave the files (see BENCHMARKS.md §4 on ext4
    // without a journal, where deleting them slows the next run's creates).
    let keep = std::env::var_os("INGEST_BENCH_KEEP").is_some();
    let home_dir = tmp.path().join("home");
    let now = clock::now().unwrap();

    // Home and contract through the library, as `fanlic init --authserv-id`
    // and `fanlic contract add` do.
    let (mut home, _) =
        Home::init(&home_dir, &InitOptions { authserv_ids: vec![AUTHSERV.to_owned()], valid_for_days: None, now })
            .unwrap();
    let terms = TermsText {
        company: "Customer Trading Co., Ltd.",
        email: "Alice@Customer.example",
        signed: "2026/11/20",
        product: "FineReport",
        methods: "local-container",
        max_nodes: "3",
        version: "11.0",
        expires: "2099-12-31",
        max_licenses: Some("100000000"),
        activation_policy: None,
        lease_days: None,
    }
    .parse(&OPTION_NAMES)
    .unwrap_or_else(|e| panic!("{e:?}"));
    contracts::add(&mut home, &terms, "bench", now).unwrap();
    drop(home);

    // N mails in a real Maildir's new/, written one at a time (not kept).
    let md = tmp.path().join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        fs::create_dir_all(md.join(sub)).unwrap();
    }
    let sample_len = n.min(1_000);
    let mut sample = Vec::with_capacity(sample_len);
    let mut bytes_total = 0usize;
    for i in 0..n {
        let text = mail(i);
        bytes_total += text.len();
        fs::write(md.join("new").join(format!("{:010}.M{i}P1.bench", 1_790_000_000 + i)), &text).unwrap();
        if i < sample_len {
            sample.push(text.into_bytes());
        }
    }

    // (a) The floor: one parse + one signature of a license-sized message
    // (192 bytes, about a license payload; Ed25519's cost barely depends on
    // the length at this size).
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    black_box(key.public_key());
    let license_message = vec![0x5a_u8; 192];
    let base_before = baseline(&sample, &key, &license_message, 5);

    // (b) End to end, as `fanlic ingest MAILDIR` (issuer/src/cli/ingest.rs).
    let hwm_before = vm_hwm_kib();
    let pg_cpu = postmaster.map(ProcessCpu::tree);
    let cpu = cpu_time();
    let t = Instant::now();
    let mut home = Home::open(&home_dir).unwrap();
    let trusted = home.authserv_ids().unwrap();
    let mut issued = 0usize;
    let mut files = Vec::<PathBuf>::new();
    let batch = ingest::BATCH_MESSAGES;
    let undecided = ingest::ingest_messages(&mut home, source::open(&md).unwrap(), &trusted, now, batch, |p| {
        match p {
            ingest::Progress::Decided { outcome, acknowledged } => {
                acknowledged.unwrap();
                assert_eq!(outcome.decision.as_str(), "issued", "{}", outcome.source);
                issued += 1;
                if issued == 1 {
                    files = outcome.files.clone();
                }
            }
            other => panic!("{other:?}"),
        }
        Ok(())
    })
    .unwrap();
    assert!(!undecided);
    let wall = t.elapsed();
    let cpu = cpu_time() - cpu;
    let pg_cpu = postmaster.zip(pg_cpu).map(|(pid, before)| ProcessCpu::tree(pid).since(&before));
    let hwm_after = vm_hwm_kib();
    let base_after = baseline(&sample, &key, &license_message, 5);

    // Every mail issued once, moved to cur/, its license file written.
    assert_eq!(issued, n);
    assert_eq!(home.license_count().unwrap(), n as u64);
    assert_eq!(fs::read_dir(md.join("new")).unwrap().count(), 0);
    assert_eq!(fs::read_dir(md.join("cur")).unwrap().count(), n);
    assert_eq!(fs::read_dir(home_dir.join(ingest::ISSUED_DIR)).unwrap().count(), n);
    let lic_len = files.first().map(|p| fs::metadata(Path::new(p)).unwrap().len()).unwrap_or(0);

    let e2e = per(wall, n);
    let base = base_before.min(base_after);
    println!("mails                      {n} (average {} bytes, {} distinct Message-IDs)", bytes_total / n, n);
    println!("license file               {lic_len} bytes (armored)");
    println!(
        "baseline parse+sign        {base:.1} µs/email (best of 5 x {sample_len}, before {base_before:.1} / after {base_after:.1})"
    );
    println!(
        "end to end                 {:.3} s = {:.1} µs/email = {:.0} emails/s",
        wall.as_secs_f64(),
        e2e,
        n as f64 / wall.as_secs_f64()
    );
    println!("ratio end-to-end/baseline  {:.1}x", e2e / base);
    println!(
        "CPU time of the ingest     {:.1} µs/email = {:.1}x the baseline (both threads, user + system)",
        per(cpu, n),
        per(cpu, n) / base
    );
    println!("peak RSS (VmHWM)           {} KiB before ingest, {} KiB after", hwm_before, hwm_after);
    if let Some(c) = pg_cpu {
        println!(
            "CPU of PostgreSQL          {:.1} µs/email over the ingest (its processes, user + system)",
            c * 1e6 / n as f64
        );
    }
    println!(
        "result backend={} emails_per_s={:.1} us_per_email={e2e:.1} cpu_us_per_email={:.1}",
        if url.is_some() { "postgres" } else { "sqlite" },
        n as f64 / wall.as_secs_f64(),
        per(cpu, n)
    );
    if keep {
        println!("kept                       {}", tmp.keep().display());
    }
}

/// The plans PostgreSQL runs the two lookups of a project's live license
/// with (issuer/src/store/licenses.rs: `live_license`,
/// `similar_live_license`) once their prepared statements use a generic
/// plan, as they do after five runs, for a project that has none (every
/// mail of the bench names a new one), over the licenses the run made.
fn explain_live_lookups(cluster: &PgCluster, url: &str) {
    let cols = "license_id, project, kind, version, max_nodes, expiry, armored";
    let company = cluster.psql(url, "SELECT company_key FROM licenses LIMIT 1").replace('\'', "''");
    let queries = [
        (
            "live_license",
            format!(
                "SELECT {cols} FROM licenses WHERE company_key = $1 AND app_name = $2 AND project = $3 AND state = 'live'"
            ),
        ),
        (
            "similar_live_license",
            format!(
                "SELECT {cols} FROM licenses WHERE company_key = $1 AND app_name = $2 AND project_key = $3 AND state = \
                 'live' ORDER BY issued_at, rowid LIMIT 1"
            ),
        ),
    ];
    for ((name, sql), analyze) in queries
        .iter()
        // As the ingest ran (no statistics yet: autovacuum looks once a minute), then after ANALYZE.
        .map(|q| (q, ""))
        .chain(queries.iter().map(|q| (q, "ANALYZE licenses; ")))
    {
        let when = if analyze.is_empty() { "as the ingest ran" } else { "after ANALYZE licenses" };
        let plan = cluster.psql(
            url,
            &format!(
                "{analyze}SET plan_cache_mode = force_generic_plan; PREPARE q(text, text, text) AS {sql}; EXPLAIN (ANALYZE, \
                 COSTS OFF, TIMING OFF) EXECUTE q('{company}', 'FineReport', 'none')"
            ),
        );
        println!("generic plan of {name}, for a project without a license ({when}):");
        for l in plan.lines().filter(|l| !matches!(*l, "SET" | "PREPARE" | "ANALYZE")) {
            println!("  {l}");
        }
    }
}

/// `pg_stat_database.xact_commit` of database `url` and `pg_stat_wal.wal_sync`.
fn pg_stats(cluster: &PgCluster, url: &str) -> (f64, f64) {
    let line = cluster.psql(
        url,
        "SELECT d.xact_commit, w.wal_sync FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = current_database()",
    );
    let mut v = line.split('|').map(|x| x.parse::<f64>().unwrap_or(0.0));
    (v.next().unwrap_or(0.0), v.next().unwrap_or(0.0))
}
