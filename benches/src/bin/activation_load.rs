//! Load generator for the vendor activation service: confirmed
//! activations (`POST BASE/TOKEN`, `Accept: application/json`) against real
//! `fanlic serve` processes on loopback, over many licenses, for a fixed
//! time; on SQLite (one instance, the home's `fanlic.db`) or on PostgreSQL
//! (several instances on one database), or both side by side.
//!
//! ```text
//! cargo build --release -p fanlic-issuer                      # in the workspace
//! cd benches && cargo run --release --no-default-features --features ingest \
//!     --bin activation_load -- [SECONDS=60] [LICENSES=500] [CONNECTIONS=8]
//! cd benches && cargo run --release --no-default-features --features ingest \
//!     --bin activation_load -- --backend both --instances 2 --seconds 60 --rounds 2
//! ```
//!
//! Options (the three numbers above are the same as `--seconds`,
//! `--licenses`, `--connections`):
//!
//! - `--backend sqlite|postgres|both` (default `sqlite`, today's mode):
//!   `both` runs SQLite and PostgreSQL one after the other, `--rounds` times,
//!   the order swapped every round, and prints their ratios;
//! - `--instances N` (default 2): `fanlic serve` instances on PostgreSQL
//!   (SQLite: always one; its records are one file on one machine);
//! - `--connections C` (default 8): keep-alive clients in all, client `k`
//!   talking to instance `k mod N`;
//! - `--short`: 5 s runs (a smoke run); `--seconds S` otherwise (default 60);
//! - `--database URL`: an existing, empty PostgreSQL database instead of
//!   the cluster the bench starts (one PostgreSQL run then);
//! - `--no-tls`: the instances talk to the bench's PostgreSQL without TLS
//!   (`sslmode=disable`); by default with TLS, as across machines;
//! - `--profile`: also samples, every 100 ms, what the instances'
//!   PostgreSQL sessions are doing (`pg_stat_activity`: running, waiting
//!   for the write lock, for the WAL flush, for the next statement of
//!   `fanlic serve` inside a transaction, idle), and times PostgreSQL's
//!   WAL writes and syncs (`track_wal_io_timing`);
//! - `--pg-statements`: PostgreSQL logs every statement with its duration
//!   (`log_min_duration_statement = 0`), and after each PostgreSQL run the
//!   statements are printed by total time (logging costs time too: for a
//!   profile, not for the figures);
//! - `--pg-floor`: after the runs, what this PostgreSQL does without
//!   `fanlic serve`: `pg_test_fsync`'s one-write fdatasync rate on its
//!   disk, and `pgbench` with CONNECTIONS clients, each transaction one
//!   activation's statements as the service sends them (two lookups by
//!   license, one insert), with and without the service's write lock
//!   (`pg_advisory_xact_lock`) first.
//!
//! Each run makes a home with `fanlic init` (on PostgreSQL `fanlic
//! --database URL init` into a new database of a PostgreSQL 15 the bench
//! starts: `fanlic_testkit::postgres::PgCluster`, `fsync` and
//! `synchronous_commit` on, on the same disk as the SQLite homes), issues
//! LICENSES licenses and makes one challenge per license as the product does
//! (`fanlic_verifier::activation::make_challenge`; in a child process of this
//! binary, because a process picks its database once), makes a serve-only
//! home per further instance (only `activation/` and `receipt-keys/`,
//! copied), starts `../target/release/fanlic serve --listen 127.0.0.1:0` per
//! instance with the rate limits set for the test (10,000 per license and
//! 10,000,000 per client address per 60 s window: every request goes from
//! one loopback address, and counts, but none is refused), and then
//! CONNECTIONS keep-alive HTTP/1.1 clients each POST challenges round-robin
//! for SECONDS. Every answer must be `200` with `"status":"activated"` and
//! the code the product expects; anything else counts as an error. Prints
//! throughput, latency percentiles (per request, from write to the last byte
//! of the answer), errors, the CPU time of the load generator, of the
//! instances and of PostgreSQL over the load, the servers' peak RSS and, on
//! PostgreSQL, its commits and WAL syncs over the load. Then it kills the
//! instances (SIGKILL, no shutdown) and counts the `activated` rows in the
//! database: an instance answers only after its commit, so every answered
//! activation must be there (at most one more per connection, for requests
//! in flight at the kill).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::{
    collections::BTreeMap,
    fs,
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpStream,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use fanlic_benches::load::{ProcessCpu, percentile_ms};
use fanlic_formats::{LicenseKind, Timestamp};
use fanlic_issuer::Home;
use fanlic_issuer::IssueInput;
use fanlic_issuer::IssueRequest;
use fanlic_issuer::util::clock;
use fanlic_testkit::postgres::PgCluster;
use fanlic_verifier::activation::{ChallengeInput, make_challenge, project_fingerprint};

const USAGE: &str = "activation_load [SECONDS [LICENSES [CONNECTIONS]]] [--backend sqlite|postgres|both] \
                     [--instances N] [--seconds S | --short] [--licenses L] [--connections C] [--rounds R] \
                     [--database URL] [--no-tls] [--profile] [--pg-statements] [--pg-floor]";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

struct Opts {
    backends: Vec<Backend>,
    instances: usize,
    seconds: u64,
    licenses: usize,
    connections: usize,
    rounds: usize,
    database: Option<String>,
    tls: bool,
    profile: bool,
    floor: bool,
    statements: bool,
}

fn parse_opts(args: &[String]) -> Opts {
    let mut o = Opts {
        backends: vec![Backend::Sqlite],
        instances: 2,
        seconds: 60,
        licenses: 500,
        connections: 8,
        rounds: 1,
        database: None,
        tls: true,
        profile: false,
        floor: false,
        statements: false,
    };
    let mut positional = 0;
    let mut it = args.iter();
    let num = |v: Option<&String>, what: &str| -> u64 {
        v.and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{what} takes a number\nusage: {USAGE}"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--backend" => {
                o.backends = match it.next().map(String::as_str) {
                    Some("sqlite") => vec![Backend::Sqlite],
                    Some("postgres") => vec![Backend::Postgres],
                    Some("both") => vec![Backend::Sqlite, Backend::Postgres],
                    other => panic!("--backend takes sqlite, postgres or both, not {other:?}\nusage: {USAGE}"),
                }
            }
            "--instances" => o.instances = num(it.next(), "--instances") as usize,
            "--seconds" => o.seconds = num(it.next(), "--seconds"),
            "--short" => o.seconds = 5,
            "--licenses" => o.licenses = num(it.next(), "--licenses") as usize,
            "--connections" => o.connections = num(it.next(), "--connections") as usize,
            "--rounds" => o.rounds = num(it.next(), "--rounds") as usize,
            "--database" => o.database = Some(it.next().expect("--database takes a postgres:// URL").clone()),
            "--no-tls" => o.tls = false,
            "--profile" => o.profile = true,
            "--pg-floor" => o.floor = true,
            "--pg-statements" => o.statements = true,
            n if !n.starts_with('-') => {
                let v = num(Some(a), "SECONDS LICENSES CONNECTIONS");
                match positional {
                    0 => o.seconds = v,
                    1 => o.licenses = v as usize,
                    2 => o.connections = v as usize,
                    _ => panic!("at most three numbers: SECONDS LICENSES CONNECTIONS\nusage: {USAGE}"),
                }
                positional += 1;
            }
            other => panic!("unknown option {other}\nusage: {USAGE}"),
        }
    }
    assert!(o.instances >= 1 && o.connections >= o.instances, "at least one connection per instance");
    assert!(o.licenses >= 1 && o.seconds >= 1 && o.rounds >= 1, "--licenses, --seconds and --rounds: at least 1");
    assert!(
        o.database.is_none() || o.rounds == 1,
        "--database URL: one run on it (the database must be empty); drop --rounds, or let the bench start its own \
         PostgreSQL"
    );
    o
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--prepare") {
        return prepare(&args[1..]);
    }
    let o = parse_opts(&args);
    let fanlic = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/fanlic");
    assert!(fanlic.exists(), "build the server first: cargo build --release -p fanlic-issuer ({})", fanlic.display());

    // One cluster for every PostgreSQL run, a new database for each.
    let cluster = (o.backends.contains(&Backend::Postgres) && o.database.is_none()).then(|| {
        let c = PgCluster::start();
        eprintln!("PostgreSQL started in {} (port {})", c.dir().display(), c.port());
        c
    });
    if o.backends.contains(&Backend::Postgres) {
        let url = o.database.clone().unwrap_or_else(|| cluster.as_ref().unwrap().new_database());
        let version = psql(&url, "SHOW server_version");
        let fsync = psql(&url, "SHOW fsync");
        let sync = psql(&url, "SHOW synchronous_commit");
        let wal_sync = psql(&url, "SHOW wal_sync_method");
        let buffers = psql(&url, "SHOW shared_buffers");
        println!(
            "PostgreSQL {version}: SHOW fsync = {fsync}; SHOW synchronous_commit = {sync}; wal_sync_method = \
             {wal_sync}; shared_buffers = {buffers}; data on {}",
            cluster.as_ref().map_or_else(|| "(the URL's server)".to_owned(), |c| filesystem_of(c.dir()))
        );
        assert!(fsync == "on" && sync == "on", "the goal is measured with fsync and synchronous_commit on");
        if o.profile
            && let Some(c) = &cluster
        {
            c.superuser_psql("postgres", "ALTER SYSTEM SET track_wal_io_timing = on");
            c.superuser_psql("postgres", "SELECT pg_reload_conf()");
        }
        if o.statements
            && let Some(c) = &cluster
        {
            c.superuser_psql("postgres", "ALTER SYSTEM SET log_min_duration_statement = 0");
            c.superuser_psql("postgres", "SELECT pg_reload_conf()");
        }
    }
    println!("SQLite homes on {}", filesystem_of(&std::env::temp_dir()));

    let mut results = Vec::new();
    for round in 0..o.rounds {
        let mut order = o.backends.clone();
        if round % 2 == 1 {
            order.reverse();
        }
        for backend in order {
            let url = match backend {
                Backend::Sqlite => None,
                Backend::Postgres => {
                    Some(o.database.clone().unwrap_or_else(|| cluster.as_ref().unwrap().new_database()))
                }
            };
            let r = run(&fanlic, &o, backend, url.as_deref(), cluster.as_ref(), round + 1);
            r.print();
            if o.statements
                && let (Backend::Postgres, Some(c)) = (backend, &cluster)
            {
                let log = c.dir().join("postgres.log");
                println!("statements by total time in PostgreSQL (log_min_duration_statement = 0), setup included:");
                for l in fanlic_benches::load::statement_times(&fs::read_to_string(&log).unwrap_or_default(), 20) {
                    println!("  {l}");
                }
                // The next run's statements alone (the server appends).
                let _ = fs::write(&log, "");
            }
            results.push(r);
        }
    }
    summary(&results);
    if o.floor {
        let c = cluster.as_ref().expect("--pg-floor: on the PostgreSQL the bench starts (no --database)");
        floor(c, &o);
    }
    let failed: Vec<String> = results.iter().filter_map(|r| r.failure.clone()).collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// Child mode: `--prepare HOME LICENSES OUT [URL]`. Opens the home (on the
/// database URL when given), issues the licenses and writes one line per
/// license to OUT: the path of its confirmation and the code the product
/// expects.
fn prepare(args: &[String]) {
    let home_dir = PathBuf::from(&args[0]);
    let licenses: usize = args[1].parse().unwrap();
    let out = PathBuf::from(&args[2]);
    if let Some(url) = args.get(3) {
        fanlic_issuer::home::use_database(url.parse().unwrap());
    }
    let now = clock::now().unwrap();
    let mut home = Home::open(&home_dir).unwrap();
    let master = home.activation_master().unwrap().expect("init makes an activation master secret");
    let mut lines = String::new();
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
            out.with_file_name(format!("{i}.lic")),
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
        lines.push_str(&format!("{} {}\n", url.trim_start_matches("http://x"), c.code()));
    }
    fs::write(&out, lines).unwrap();
}

struct Target {
    path: String,
    code: String,
}

/// What a worker measured.
struct Worker {
    instance: usize,
    lat: Vec<u32>,
    errors: u64,
}

/// PostgreSQL's counters over a run.
#[derive(Default)]
struct PgStats {
    commits: f64,
    rollbacks: f64,
    /// Milliseconds the sessions spent running statements.
    active_ms: f64,
    /// Milliseconds the sessions spent inside a transaction waiting for the client.
    idle_in_tx_ms: f64,
    wal_records: f64,
    wal_bytes: f64,
    wal_write: f64,
    wal_sync: f64,
    wal_write_ms: f64,
    wal_sync_ms: f64,
}

impl PgStats {
    fn read(url: &str) -> PgStats {
        let line = psql(
            url,
            "SELECT d.xact_commit, d.xact_rollback, d.active_time, d.idle_in_transaction_time, w.wal_records, \
             w.wal_bytes, w.wal_write, w.wal_sync, w.wal_write_time, w.wal_sync_time FROM pg_stat_database d, \
             pg_stat_wal w WHERE d.datname = current_database()",
        );
        let v: Vec<f64> = line.split('|').map(|x| x.parse().unwrap_or(0.0)).collect();
        PgStats {
            commits: v[0],
            rollbacks: v[1],
            active_ms: v[2],
            idle_in_tx_ms: v[3],
            wal_records: v[4],
            wal_bytes: v[5],
            wal_write: v[6],
            wal_sync: v[7],
            wal_write_ms: v[8],
            wal_sync_ms: v[9],
        }
    }

    fn minus(&self, b: &PgStats) -> PgStats {
        PgStats {
            commits: self.commits - b.commits,
            rollbacks: self.rollbacks - b.rollbacks,
            active_ms: self.active_ms - b.active_ms,
            idle_in_tx_ms: self.idle_in_tx_ms - b.idle_in_tx_ms,
            wal_records: self.wal_records - b.wal_records,
            wal_bytes: self.wal_bytes - b.wal_bytes,
            wal_write: self.wal_write - b.wal_write,
            wal_sync: self.wal_sync - b.wal_sync,
            wal_write_ms: self.wal_write_ms - b.wal_write_ms,
            wal_sync_ms: self.wal_sync_ms - b.wal_sync_ms,
        }
    }
}

struct RunResult {
    round: usize,
    backend: Backend,
    instances: usize,
    connections: usize,
    licenses: usize,
    seconds: u64,
    elapsed: f64,
    requests: u64,
    errors: u64,
    per_instance: Vec<u64>,
    /// Sorted latencies, µs.
    lat: Vec<u32>,
    rss: Vec<String>,
    recorded: u64,
    cpu_generator: f64,
    cpu_servers: Vec<f64>,
    cpu_postgres: Option<f64>,
    pg: Option<PgStats>,
    /// `pg_stat_activity` samples of the instances' sessions, by state.
    samples: BTreeMap<String, u64>,
    failure: Option<String>,
}

impl RunResult {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed
    }

    fn p(&self, q: f64) -> f64 {
        percentile_ms(&self.lat, q)
    }

    fn label(&self) -> String {
        let n = self.instances;
        format!("{} x{n}", self.backend.name())
    }

    fn print(&self) {
        println!();
        println!(
            "round {}: {}, {} instance{} of fanlic serve, confirmed activations (POST, JSON), {} licenses, {} \
             connections, {} s, rate limits 10000/license and 10000000/client per 60 s",
            self.round,
            self.backend.name(),
            self.instances,
            if self.instances == 1 { "" } else { "s" },
            self.licenses,
            self.connections,
            self.seconds
        );
        println!("requests            {} ({} errors)", self.requests, self.errors);
        println!("throughput          {:.0} activations/s", self.rate());
        if self.instances > 1 {
            let each: Vec<String> =
                self.per_instance.iter().map(|n| format!("{:.0}/s", *n as f64 / self.elapsed)).collect();
            println!("per instance        {}", each.join(", "));
        }
        println!(
            "latency ms          p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
            self.p(0.5),
            self.p(0.9),
            self.p(0.99),
            self.p(0.999),
            self.p(1.0)
        );
        let servers: Vec<String> =
            self.cpu_servers.iter().map(|c| format!("{:.0} %", 100.0 * c / self.elapsed)).collect();
        let mut cpu = format!(
            "CPU over the load   load generator {:.0} %, fanlic serve {}",
            100.0 * self.cpu_generator / self.elapsed,
            servers.join(" + ")
        );
        if let Some(pg) = self.cpu_postgres {
            cpu.push_str(&format!(", PostgreSQL {:.0} %", 100.0 * pg / self.elapsed));
        }
        println!("{cpu} (of one core; the machine has {})", cores());
        println!("server peak RSS     {}", self.rss.join(", "));
        println!("recorded            {} activations in {} after SIGKILL", self.recorded, self.backend.name());
        if let Some(s) = &self.pg {
            let per_commit = if s.commits > 0.0 { self.requests as f64 / s.commits } else { 0.0 };
            println!(
                "PostgreSQL          {:.0} commits ({:.0}/s, {:.1} activations per commit), {:.0} rollbacks; {:.0} WAL \
                 syncs ({:.0}/s), {:.0} WAL writes, {:.1} WAL records and {:.0} WAL bytes per activation",
                s.commits,
                s.commits / self.elapsed,
                per_commit,
                s.rollbacks,
                s.wal_sync,
                s.wal_sync / self.elapsed,
                s.wal_write,
                s.wal_records / self.requests.max(1) as f64,
                s.wal_bytes / self.requests.max(1) as f64,
            );
            if s.commits > 0.0 {
                println!(
                    "  per transaction   {:.3} ms running statements, {:.3} ms waiting for fanlic serve inside it \
                     (pg_stat_database active_time, idle_in_transaction_time)",
                    s.active_ms / s.commits,
                    s.idle_in_tx_ms / s.commits
                );
            }
            if s.wal_sync_ms > 0.0 && s.wal_sync > 0.0 {
                println!(
                    "  WAL               {:.3} ms per sync, {:.3} ms per write (track_wal_io_timing); {:.1} s of syncs \
                     in {:.1} s",
                    s.wal_sync_ms / s.wal_sync,
                    s.wal_write_ms / s.wal_write.max(1.0),
                    s.wal_sync_ms / 1000.0,
                    self.elapsed
                );
            }
        }
        if !self.samples.is_empty() {
            let total: u64 = self.samples.values().sum();
            let mut v: Vec<(&String, &u64)> = self.samples.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1));
            println!("sessions of the instances, pg_stat_activity every 100 ms ({total} session samples):");
            for (state, n) in v {
                println!("  {:>5.1} %  {state}", 100.0 * *n as f64 / total as f64);
            }
        }
        if let Some(f) = &self.failure {
            println!("FAILED              {f}");
        }
    }
}

fn run(
    fanlic: &Path,
    o: &Opts,
    backend: Backend,
    url: Option<&str>,
    cluster: Option<&PgCluster>,
    round: usize,
) -> RunResult {
    let instances = if backend == Backend::Sqlite { 1 } else { o.instances };
    let tmp = tempfile::Builder::new().prefix("fanlic-activation-load-").tempdir().unwrap();
    let home_dir = tmp.path().join("home");
    // What the instances get: with TLS (checked against the cluster's CA) or without.
    let server_url = url.map(|u| match cluster {
        Some(c) if o.tls => c.tls_url(u),
        Some(_) => format!("{u}?sslmode=disable"),
        // --database URL: as given.
        None => u.to_owned(),
    });
    let t = Instant::now();
    let mut init = Command::new(fanlic);
    if let Some(u) = &server_url {
        init.arg("--database").arg(u);
    }
    init.arg("init").arg("--home").arg(&home_dir).stdout(Stdio::null());
    let st = init.status().unwrap();
    assert!(st.success(), "fanlic init failed ({st}): {init:?}");
    let targets_file = tmp.path().join("targets.txt");
    let mut prep = Command::new(std::env::current_exe().unwrap());
    prep.arg("--prepare").arg(&home_dir).arg(o.licenses.to_string()).arg(&targets_file);
    if let Some(u) = &server_url {
        prep.arg(u);
    }
    let st = prep.status().unwrap();
    assert!(st.success(), "issuing the licenses failed ({st})");
    let targets: Vec<Target> = fs::read_to_string(&targets_file)
        .unwrap()
        .lines()
        .map(|l| {
            let (path, code) = l.split_once(' ').unwrap();
            Target { path: path.to_owned(), code: code.to_owned() }
        })
        .collect();
    eprintln!(
        "round {round}, {}: home made and {} licenses issued and challenged in {:.1} s",
        backend.name(),
        targets.len(),
        t.elapsed().as_secs_f64()
    );

    // A serve-only home per further instance: the activation master secret
    // and the receipt keys, nothing else (the records are in the database).
    let mut homes = vec![home_dir.clone()];
    for k in 1..instances {
        let h = tmp.path().join(format!("serve-{k}"));
        fs::create_dir(&h).unwrap();
        fs::set_permissions(&h, fs::Permissions::from_mode(0o700)).unwrap();
        for sub in ["activation", "receipt-keys"] {
            copy_dir(&home_dir.join(sub), &h.join(sub));
        }
        homes.push(h);
    }
    let mut servers: Vec<Child> = Vec::new();
    let mut addrs = Vec::new();
    for h in &homes {
        let mut cmd = Command::new(fanlic);
        if let Some(u) = &server_url {
            cmd.arg("--database").arg(u);
        }
        cmd.args(["serve", "--home"])
            .arg(h)
            .args(["--listen", "127.0.0.1:0", "--rate-license", "10000", "--rate-client", "10000000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut server = cmd.spawn().unwrap();
        let mut first = String::new();
        BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| {
                panic!(
                    "fanlic serve did not start (first line {first:?}); an older release build cannot open a home \
                     this library made: run `cargo build --release -p fanlic-issuer` again"
                )
            })
            .to_owned();
        servers.push(server);
        addrs.push(addr);
    }

    let postmaster = cluster.filter(|_| url.is_some()).map(|c| {
        fs::read_to_string(c.dir().join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
            .expect("the cluster's postmaster.pid")
    });
    let pg_before = url.map(PgStats::read);
    let sampler = match (o.profile, url) {
        (true, Some(u)) => Some(Sampler::start(u)),
        _ => None,
    };
    let cpu_before = (
        ProcessCpu::of(std::process::id()),
        servers.iter().map(|s| ProcessCpu::of(s.id())).collect::<Vec<_>>(),
        postmaster.map(ProcessCpu::tree),
    );

    let targets = Arc::new(targets);
    let stop = Arc::new(AtomicBool::new(false));
    let connections = o.connections;
    let start = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|w| {
            let instance = w % addrs.len();
            let (targets, stop, addr) = (targets.clone(), stop.clone(), addrs[instance].clone());
            std::thread::spawn(move || load(w, connections, instance, &addr, &targets, &stop))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(o.seconds));
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    let mut errors = 0;
    let mut per_instance = vec![0u64; instances];
    for w in workers {
        let w: Worker = w.join().unwrap();
        per_instance[w.instance] += w.lat.len() as u64;
        lat.extend(w.lat);
        errors += w.errors;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu_generator = ProcessCpu::of(std::process::id()).since(&cpu_before.0);
    let cpu_servers: Vec<f64> =
        servers.iter().zip(&cpu_before.1).map(|(s, before)| ProcessCpu::of(s.id()).since(before)).collect();
    let cpu_postgres = postmaster.zip(cpu_before.2.as_ref()).map(|(pid, before)| ProcessCpu::tree(pid).since(before));
    let samples = sampler.map(Sampler::finish).unwrap_or_default();
    let rss: Vec<String> = servers.iter().map(|s| fanlic_benches::load::peak_rss(s.id())).collect();
    for s in &mut servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    let (recorded, pg) = match url {
        None => {
            let db = rusqlite::Connection::open(home_dir.join("fanlic.db")).unwrap();
            let n: i64 =
                db.query_row("SELECT count(*) FROM activations WHERE outcome = 'activated'", [], |r| r.get(0)).unwrap();
            (n as u64, None)
        }
        Some(u) => {
            // The killed instances' sessions end and report their counters.
            let deadline = Instant::now() + Duration::from_secs(10);
            while psql(u, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fanlic'") != "0"
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            std::thread::sleep(Duration::from_millis(500));
            let n: u64 = psql(u, "SELECT count(*) FROM activations WHERE outcome = 'activated'").parse().unwrap();
            (n, pg_before.map(|b| PgStats::read(u).minus(&b)))
        }
    };
    lat.sort_unstable();
    let requests = lat.len() as u64;
    let failure = if errors > 0 {
        Some(format!("round {round}, {}: {errors} errors", backend.name()))
    } else if !(requests..=requests + connections as u64).contains(&recorded) {
        Some(format!("round {round}, {}: {requests} answered activations but {recorded} recorded", backend.name()))
    } else {
        None
    };
    RunResult {
        round,
        backend,
        instances,
        connections,
        licenses: o.licenses,
        seconds: o.seconds,
        elapsed,
        requests,
        errors,
        per_instance,
        lat,
        rss,
        recorded,
        cpu_generator,
        cpu_servers,
        cpu_postgres,
        pg,
        samples,
        failure,
    }
}

/// One keep-alive client: POSTs challenges `w, w + connections, …` until stopped.
fn load(w: usize, connections: usize, instance: usize, addr: &str, targets: &[Target], stop: &AtomicBool) -> Worker {
    let mut lat = Vec::<u32>::with_capacity(400_000);
    let mut errors = 0u64;
    let connect = || {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        let r = BufReader::new(s.try_clone().unwrap());
        (s, r)
    };
    let (mut s, mut r) = connect();
    let mut i = w;
    while !stop.load(Ordering::Relaxed) {
        let t = &targets[i % targets.len()];
        i += connections;
        let req = format!(
            "POST {} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nContent-Length: 0\r\n\r\n",
            t.path
        );
        let t0 = Instant::now();
        let (status, body) = match s.write_all(req.as_bytes()) {
            Ok(()) => read_response(&mut r),
            Err(_) => (0, String::new()),
        };
        lat.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        let ok = status == 200 && body.contains("\"activated\"") && body.contains(&format!("\"code\":\"{}\"", t.code));
        if !ok {
            errors += 1;
            if errors <= 3 {
                eprintln!("error: {status} {body}");
            }
            if status == 0 {
                // The connection closed: a new one.
                std::thread::sleep(Duration::from_millis(10));
                (s, r) = connect();
            }
        }
    }
    Worker { instance, lat, errors }
}

/// `psql` on the PostgreSQL the bench uses (Debian's, as the cluster's);
/// its output without the final newline.
fn psql(url: &str, sql: &str) -> String {
    let out = Command::new(fanlic_testkit::postgres::bin_dir().join("psql"))
        .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql, "-d", url])
        .output()
        .unwrap();
    assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

/// One `psql` that queries `pg_stat_activity` every 100 ms (`\watch`) for
/// the state of every session of `fanlic serve` in the database.
struct Sampler {
    child: Child,
    out: PathBuf,
}

impl Sampler {
    fn start(url: &str) -> Sampler {
        let out = std::env::temp_dir().join(format!("fanlic-activation-load-samples-{}.txt", std::process::id()));
        let file = fs::File::create(&out).unwrap();
        let mut child = Command::new(fanlic_testkit::postgres::bin_dir().join("psql"))
            .args(["-X", "-At", "-q", "-d", url])
            .stdin(Stdio::piped())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(
                b"SELECT state || ' / ' || coalesce(wait_event_type || ':' || wait_event, 'on CPU') FROM \
                  pg_stat_activity WHERE datname = current_database() AND application_name = 'fanlic'\n\\watch 0.1\n",
            )
            .unwrap();
        Sampler { child, out }
    }

    fn finish(mut self) -> BTreeMap<String, u64> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut counts = BTreeMap::new();
        for l in fs::read_to_string(&self.out).unwrap_or_default().lines().filter(|l| !l.trim().is_empty()) {
            *counts.entry(describe_state(l.trim())).or_insert(0) += 1;
        }
        let _ = fs::remove_file(&self.out);
        counts
    }
}

/// A `state / wait` sample of `pg_stat_activity`, said in words.
fn describe_state(s: &str) -> String {
    let what = match s {
        "active / on CPU" => "running a statement",
        "active / Lock:advisory" => "waiting for the write lock (pg_advisory_xact_lock)",
        "active / IO:WALSync" | "active / IPC:SyncRep" => "committing: waiting for the WAL sync",
        "active / LWLock:WALWrite" => "committing: waiting for another session's WAL write",
        "active / IO:WALWrite" => "committing: writing the WAL",
        "idle in transaction / Client:ClientRead" => "in a transaction, waiting for fanlic serve's next statement",
        "idle / Client:ClientRead" => "idle (between transactions)",
        _ => "",
    };
    if what.is_empty() { s.to_owned() } else { format!("{what} [{s}]") }
}

fn summary(results: &[RunResult]) {
    println!();
    println!(
        "| round | backend | instances | connections | activations/s | p50 ms | p99 ms | max ms | errors | recorded \
         after SIGKILL | CPU: generator / serve / PostgreSQL |"
    );
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for r in results {
        let serve: f64 = r.cpu_servers.iter().sum();
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {:.0} / {:.0} / {} % |",
            r.round,
            r.backend.name(),
            r.instances,
            r.connections,
            r.rate(),
            r.p(0.5),
            r.p(0.99),
            r.p(1.0),
            r.errors,
            r.recorded,
            100.0 * r.cpu_generator / r.elapsed,
            100.0 * serve / r.elapsed,
            r.cpu_postgres.map_or_else(|| "–".to_owned(), |c| format!("{:.0}", 100.0 * c / r.elapsed)),
        );
    }
    // Ratios within a round: PostgreSQL ÷ SQLite.
    for round in 1..=results.iter().map(|r| r.round).max().unwrap_or(0) {
        let of = |b| results.iter().find(|r| r.round == round && r.backend == b);
        if let (Some(l), Some(p)) = (of(Backend::Sqlite), of(Backend::Postgres)) {
            println!(
                "round {round}: {} ÷ {}: throughput {:.2}x, p50 {:.2}x, p99 {:.2}x",
                p.label(),
                l.label(),
                p.rate() / l.rate(),
                p.p(0.5) / l.p(0.5),
                p.p(0.99) / l.p(0.99)
            );
        }
    }
    for r in results.iter().filter(|r| r.backend == Backend::Postgres) {
        let met = r.rate() >= 2000.0 && r.p(0.99) < 20.0 && r.errors == 0 && r.failure.is_none();
        println!(
            "goal (≥ 2,000 activations/s, p99 < 20 ms, 0 errors) on PostgreSQL x{}, round {}: {}",
            r.instances,
            r.round,
            if met { "met" } else { "NOT met" }
        );
    }
}

/// The advisory lock every writer of the store takes (issuer/src/store/mod.rs).
const WRITE_LOCK: i64 = 0x6661_6e6c_6963;

/// What PostgreSQL itself does on this machine: the disk's fdatasync rate,
/// and one activation's statements per transaction from CONNECTIONS
/// `pgbench` clients, without and with the store's write lock.
fn floor(cluster: &PgCluster, o: &Opts) {
    let bin = fanlic_testkit::postgres::bin_dir();
    let out = Command::new(bin.join("pg_test_fsync"))
        .args(["-s", "2", "-f"])
        .arg(cluster.dir().join("pg_test_fsync.out"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!();
    println!(
        "pg_test_fsync -s 2, one 8 kB write then a sync, on the cluster's disk ({}):",
        filesystem_of(cluster.dir())
    );
    // The first section: one 8 kB write, then a sync (a commit's WAL flush); its
    // fsync_writethrough line says n/a on Linux.
    for l in text.lines().filter(|l| l.contains("ops/sec")).take(4) {
        println!("  {}", l.trim());
    }
    let url = cluster.new_database();
    cluster.psql(
        &url,
        "CREATE TABLE b (license_id text PRIMARY KEY, project_fingerprint bytea NOT NULL, bound_at bigint NOT NULL); \
         CREATE TABLE r (license_id text NOT NULL, issuing_key_id text NOT NULL); \
         CREATE TABLE a (rowid bigserial PRIMARY KEY, license_id text NOT NULL, project_fingerprint bytea NOT NULL, \
         node_id bytea NOT NULL, nodes bigint NOT NULL, at bigint NOT NULL, client text NOT NULL, outcome text NOT NULL); \
         CREATE INDEX ON a (license_id, at); \
         INSERT INTO b SELECT 'license-' || i, sha256(i::text::bytea), 0 FROM generate_series(1, 500) i",
    );
    let server_url = if o.tls { cluster.tls_url(&url) } else { format!("{url}?sslmode=disable") };
    let statements = "\\set id random(1, 500)\n\
        SELECT count(*) FROM r WHERE license_id = 'license-' || :id AND issuing_key_id = 'k';\n\
        SELECT project_fingerprint, bound_at FROM b WHERE license_id = 'license-' || :id;\n\
        INSERT INTO a (license_id, project_fingerprint, node_id, nodes, at, client, outcome) VALUES \
        ('license-' || :id, '\\x00', '\\x01', 2, 0, '127.0.0.1', 'activated');\n";
    for (name, lock) in
        [("without a lock", ""), ("with the store's write lock", "SELECT pg_advisory_xact_lock(LOCK);\n")]
    {
        let script = cluster.dir().join("floor.sql");
        let lock = lock.replace("LOCK", &WRITE_LOCK.to_string());
        fs::write(&script, format!("BEGIN;\n{lock}{statements}COMMIT;\n")).unwrap();
        let secs = o.seconds.min(20).to_string();
        let out = Command::new(bin.join("pgbench"))
            .args(["-n", "-M", "prepared", "-c", &o.connections.to_string(), "-j", "2", "-T", &secs, "-f"])
            .arg(&script)
            .arg(&server_url)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "pgbench: {}", String::from_utf8_lossy(&out.stderr));
        let pick = |key: &str| text.lines().find(|l| l.starts_with(key)).unwrap_or("?").trim().to_owned();
        println!(
            "pgbench, {} clients, {secs} s, one activation per transaction {name}: {}; {}",
            o.connections,
            pick("tps"),
            pick("latency average")
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir(to).unwrap();
    fs::set_permissions(to, fs::metadata(from).unwrap().permissions()).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            // fs::copy keeps the mode (0600 for secrets).
            fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// `df`'s file system type and source of `path`, e.g. `ext4 (/dev/vda)`.
fn filesystem_of(path: &Path) -> String {
    let out = Command::new("df").args(["--output=fstype,source"]).arg(path).output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let last = text.lines().nth(1).unwrap_or("?").split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{} ({last})", path.display())
}

fn cores() -> String {
    std::thread::available_parallelism().map_or_else(|_| "?".to_owned(), |n| format!("{n} cores"))
}

/// Reads one HTTP/1.1 response with a Content-Length (or chunked) body;
/// status 0 when the connection closed.
fn read_response(r: &mut BufReader<TcpStream>) -> (u16, String) {
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return (0, String::new());
    }
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut len = None;
    let mut chunked = false;
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return (0, String::new());
        }
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
        if r.read_exact(&mut body).is_err() {
            return (0, String::new());
        }
    } else if chunked {
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return (0, String::new());
            }
            let n = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            if r.read_exact(&mut chunk).is_err() {
                return (0, String::new());
            }
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    (status, String::from_utf8_lossy(&body).into_owned())
}
