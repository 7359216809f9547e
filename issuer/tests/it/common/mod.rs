//! Shared by the integration tests: the one way to start the real `fanlic`
//! binary ([`fanlic_cmd`], and [`fanlic`] against a temporary home), the
//! clean English registration mail of the contract that [`setup`] adds, and
//! the helpers of the container, SMTP, browser and migration tests.

// Run from the license server's tests too (one browser driver for both).
#[path = "../../../../license-server/tests/it/common/chromium.rs"]
pub mod chromium;
pub mod console;
pub mod container;
pub mod downgrade;
pub mod private_config;
pub mod smtp;
pub mod webdriver;

use std::{
    io::Write as _,
    path::PathBuf,
    process::{Command, Output, Stdio},
};

/// The `fanlic` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_fanlic");

/// A `Command` for the `fanlic` binary under test: every test starts it
/// through this (or through [`fanlic`], which adds a home and a clean
/// environment).
pub fn fanlic_cmd() -> Command {
    Command::new(BIN)
}

/// The authserv id [`setup`] trusts.
pub const AUTHSERV: &str = "mx.vendor.example";
/// An `Authentication-Results` value of the trusted authserv id: DKIM pass for the customer.
pub const PASS: &str = "mx.vendor.example; dkim=pass header.d=customer.example";
/// The address of the contract [`setup`] adds, as the registry normalizes it.
pub const CONTRACT_ADDR: &str = "alice@customer.example";
pub const SUBJECT: &str = "Official Authorization Document of Customer Trading Co., Ltd.'s Registration for FineReport";
/// A clean registration for the contract [`setup`] adds: project `webroot`, 3 nodes, version 11.0.20.
pub const BODY: &str = include_str!("../../../../fixtures/emails/bodies/clean-registration.txt");

/// The SMTP settings `fanlic` reads from its environment: removed, so that
/// the caller's environment never decides how a test's replies are sent.
const SMTP_VARS: [&str; 5] =
    ["FANLIC_SMTP_HOST", "FANLIC_SMTP_PORT", "FANLIC_SMTP_TLS", "FANLIC_SMTP_USER", "FANLIC_SMTP_PASSWORD"];

pub struct Env {
    /// The PostgreSQL database of this test's home (`FANLIC_DATABASE_URL`),
    /// when the suite runs on PostgreSQL ([`postgres_suite`]); else `None`:
    /// the home's fanlic.db.
    pub database: Option<String>,
    pub _tmp: tempfile::TempDir,
    /// The working directory of every run.
    pub dir: PathBuf,
    /// `FANLIC_HOME`, under `dir`; not made yet by [`Env::temp`].
    pub home: PathBuf,
}

impl Env {
    /// A fresh temporary directory; the home in it is not made.
    pub fn temp() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let database = postgres_suite().then(new_database);
        Self { home: dir.join("home"), dir, _tmp: tmp, database }
    }

    /// `FANLIC_DATABASE_URL` for a command run on this home, when its
    /// records are in PostgreSQL.
    pub fn database_env(&self) -> Vec<(&'static str, String)> {
        self.database.iter().map(|url| ("FANLIC_DATABASE_URL", url.clone())).collect()
    }
}

/// Whether this run puts every test's records in PostgreSQL
/// (`FANLIC_TEST_DATABASE=postgres`): the suite's modules that check the
/// store run again that way (`.ci/run`).
pub fn postgres_suite() -> bool {
    std::env::var("FANLIC_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// A new empty database in the test process's PostgreSQL (one cluster,
/// started by the first test that needs it, stopped when the process ends).
pub fn new_database() -> String {
    // Over TLS, verified against the cluster's own CA, as a vendor should run it.
    let pg = fanlic_testkit::postgres::PgCluster::shared();
    pg.tls_url(&pg.new_database())
}

/// `fanlic ARGS` against the home of `env`, with `stdin` (none: empty).
pub fn fanlic(env: &Env, args: &[&str], stdin: Option<&[u8]>) -> Output {
    fanlic_with(env, &[], args, stdin)
}

/// [`fanlic`] with more environment variables.
pub fn fanlic_with(env: &Env, vars: &[(&str, &std::ffi::OsStr)], args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = fanlic_cmd();
    cmd.args(args).env("FANLIC_HOME", &env.home).env("USER", "tester").current_dir(&env.dir);
    match &env.database {
        Some(url) => cmd.env("FANLIC_DATABASE_URL", url),
        None => cmd.env_remove("FANLIC_DATABASE_URL"),
    };
    cmd.envs(vars.iter().copied());
    for var in SMTP_VARS {
        cmd.env_remove(var);
    }
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// `fanlic ARGS`, which must succeed: its stdout.
pub fn ok(env: &Env, args: &[&str]) -> String {
    let out = fanlic(env, args, None);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A home trusting [`AUTHSERV`], with one contract: Customer Trading Co.,
/// Ltd. at [`CONTRACT_ADDR`], FineReport 11.0, local container, 3 nodes.
pub fn setup() -> Env {
    let env = Env::temp();
    ok(&env, &["init", "--authserv-id", AUTHSERV]);
    add_contract(&env, "Customer Trading Co., Ltd.", "Alice@Customer.example", "2026/11/20", "3");
    env
}

/// `fanlic contract add`: FineReport 11.0, local container, until 2099-12-31, any number of projects.
pub fn add_contract(env: &Env, company: &str, email: &str, signed: &str, max_nodes: &str) {
    ok(
        env,
        &[
            "contract",
            "add",
            "--company",
            company,
            "--email",
            email,
            "--signed",
            signed,
            "--product",
            "FineReport",
            "--methods",
            "local-container",
            "--max-nodes",
            max_nodes,
            "--version",
            "11.0",
            "--expires",
            "2099-12-31",
            // Room for every project a test registers (one license each).
            "--max-licenses",
            "100000",
        ],
    );
}

/// A registration mail; `auth`: the Authentication-Results value at the top.
/// Its `Reply-To` must be ignored: replies go to the contract's address.
pub fn mail(auth: Option<&str>, message_id: &str, body: &str) -> String {
    let mut s = String::new();
    if let Some(a) = auth {
        s.push_str(&format!("Authentication-Results: {a}\r\n"));
    }
    s.push_str("Received: from mail.customer.example by mx.vendor.example; Fri, 20 Nov 2026 09:30:05 +0800\r\n");
    s.push_str("From: Alice <Alice@Customer.example>\r\nReply-To: attacker@elsewhere.example\r\n");
    s.push_str(&format!("To: license@vendor.example\r\nSubject: {SUBJECT}\r\nMessage-ID: <{message_id}>\r\n"));
    s.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    s.push_str(&body.replace('\n', "\r\n"));
    s
}

/// `body` with its line `from` replaced by `to`; there must be such a line,
/// so that a changed fixture cannot quietly leave a test's mail as it was.
pub fn replace_line(body: &str, from: &str, to: &str) -> String {
    assert!(body.lines().any(|l| l == from), "no line {from:?} in {body:?}");
    body.replace(from, to)
}

/// [`BODY`] for another project.
pub fn body_for(project: &str) -> String {
    replace_line(BODY, "Project name: webroot", &format!("Project name: {project}"))
}

/// `body` (one like [`BODY`]) with values the contract does not allow: 9
/// nodes, signed 2025/01/01 and version 10.0.5.
pub fn bad_values(body: &str) -> String {
    let body = replace_line(body, "Maximum number of registration: 3", "Maximum number of registration: 9");
    let body = replace_line(&body, "Contract signing date: 2026/11/20", "Contract signing date: 2025/01/01");
    replace_line(&body, "Project Version: 11.0.20", "Project Version: 10.0.5")
}

/// `fanlic issue` of a FineReport 11.0 license for `company` / `project`
/// (written under `env.dir`): its license id.
pub fn issue_license(env: &Env, company: &str, project: &str) -> String {
    // A project name may hold characters a file name should not (`/`, `<`).
    let safe: String = project.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let out = env.dir.join(format!("{safe}-Container.lic"));
    let text = ok(
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
            "3",
            "--expires",
            "never",
            "--signed",
            "2026/11/20",
            "-o",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["license_id"].as_str().unwrap().to_owned()
}

/// Binds `license_id` to the project `fingerprint` directly in the home's
/// database, as a confirmed activation would.
pub fn bind(env: &Env, license_id: &str, fingerprint: [u8; 32]) {
    if let Some(url) = &env.database {
        let hex: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
        fanlic_testkit::postgres::PgCluster::shared().psql(
            url,
            &format!(
                "INSERT INTO activation_bindings (license_id, project_fingerprint, bound_at) \
                 VALUES ('{license_id}', '\\x{hex}', 1795000000)"
            ),
        );
        return;
    }
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    conn.execute(
        "INSERT INTO activation_bindings (license_id, project_fingerprint, bound_at) VALUES (?1, ?2, ?3)",
        rusqlite::params![license_id, fingerprint.as_slice(), 1_795_000_000_i64],
    )
    .unwrap();
}

/// Rows of `sql` (one text column) in the home's database.
pub fn query_texts(env: &Env, sql: &str) -> Vec<String> {
    if let Some(url) = &env.database {
        // Each value as hex on its own line: a value may hold newlines.
        let hex_rows = format!("SELECT encode(convert_to(t.v::text, 'UTF8'), 'hex') FROM ({sql}) AS t(v)");
        let out = fanlic_testkit::postgres::PgCluster::shared().psql(url, &hex_rows);
        let unhex = |h: &str| (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect();
        return out.lines().map(|h| String::from_utf8(unhex(h)).unwrap()).collect();
    }
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

/// A static x86-64 ELF header (no program headers, so no PT_INTERP), padded
/// with zeros to `len` bytes: all `fanlic` checks of a server binary.
pub fn static_elf(len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len.max(64)];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2; // 64-bit
    b[5] = 1; // little-endian
    b[6] = 1; // version
    b[16] = 2; // ET_EXEC
    b[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
    b[20..24].copy_from_slice(&1u32.to_le_bytes());
    b[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    b[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    b[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    b[56..58].copy_from_slice(&0u16.to_le_bytes()); // e_phnum
    b
}
