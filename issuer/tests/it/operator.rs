//! The README's operator walkthrough, run as written: the one ```` ```sh ````
//! block after the line `<!-- operator-walkthrough: … -->`, with
//! `bash -euo pipefail`, in an empty folder, against a real PostgreSQL (three
//! new databases of the shared test cluster), with the `fanlic` under test
//! and PostgreSQL's client tools first on `PATH`. Then what the walkthrough
//! says happened is checked from outside it: both instances answered
//! `/readyz` with 200 and stopped, their homes hold only the master secret and
//! the receipt keys, the restored database and the copied one hold their
//! licenses, and a copy into a database that is not empty is refused.

use core::time::Duration;
use std::{
    fs,
    net::TcpListener,
    os::unix::{fs::PermissionsExt as _, process::CommandExt as _},
    path::Path,
    process::{Child, Command, Output, Stdio},
    thread,
    time::Instant,
};

use fanlic_testkit::postgres::PgCluster;
use serde_json::Value;

use crate::common::{BIN, fanlic_cmd};

/// The line the walkthrough's block follows in README.md.
const MARKER: &str = "<!-- operator-walkthrough: run by issuer/tests/it/operator.rs -->";
/// The ports the walkthrough's two instances listen on.
const PORTS: [u16; 2] = [8381, 8382];
/// Long enough for two cold starts and a dump on a loaded CI machine; the
/// walkthrough takes a few seconds.
const TIMEOUT: Duration = Duration::from_secs(240);

/// The README's operator walkthrough: the lines of the fenced `sh` block
/// right after [`MARKER`].
fn walkthrough() -> String {
    let readme = include_str!("../../../README.md");
    let lines: Vec<&str> = readme.lines().collect();
    let at: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| l.trim() == MARKER).map(|(i, _)| i).collect();
    assert_eq!(at.len(), 1, "README.md must have the line {MARKER:?} exactly once, right above the walkthrough");
    let body = &lines[at[0] + 1..];
    assert_eq!(body.first().copied(), Some("```sh"), "the line after {MARKER:?} in README.md must open a ```sh block");
    let end = body
        .iter()
        .skip(1)
        .position(|l| *l == "```")
        .expect("the walkthrough's ```sh block in README.md is never closed");
    let script = body[1..=end].join("\n");
    assert!(script.contains("fanlic "), "the walkthrough is empty: {script:?}");
    script
}

/// Kills the walkthrough's process group when dropped: a failed or timed-out
/// walkthrough must not leave its background `fanlic serve` running.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        // The group is the walkthrough's bash and whatever it started; when
        // everyone in it has exited already, kill finds no group: fine.
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.0.id())]).stderr(Stdio::null()).status();
        let _ = self.0.wait();
    }
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// `fanlic ARGS` with `FANLIC_HOME` = `home` and the database `url` (none:
/// SQLite), in a clean environment.
fn fanlic_at(home: &Path, url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = fanlic_cmd();
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FANLIC_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("FANLIC_HOME", home).args(args).stdin(Stdio::null());
    if let Some(url) = url {
        cmd.env("FANLIC_DATABASE_URL", url);
    }
    cmd.output().unwrap()
}

/// [`fanlic_at`] that must succeed; its stdout as JSON (`args` ask for `--json`).
fn json_at(home: &Path, url: Option<&str>, args: &[&str]) -> Value {
    let out = fanlic_at(home, url, args);
    assert!(out.status.success(), "fanlic {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("fanlic {args:?} printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// The license id of the license file at `path`, as `fanlic inspect` reads
/// it (inspect needs no home and no database: `nowhere` is never made).
fn license_id(nowhere: &Path, path: &Path) -> String {
    let v = json_at(nowhere, None, &["inspect", path.to_str().unwrap(), "--json"]);
    let id = v["license"]["license_id"].as_str();
    id.unwrap_or_else(|| panic!("no license.license_id in `fanlic inspect --json`: {v}")).to_owned()
}

/// The names in the folder `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    n.sort();
    n
}

/// The last few KiB of `text`: enough of a failed run's output to see why.
fn tail(text: &str) -> &str {
    let cut = text.len().saturating_sub(6000);
    let cut = (cut..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
    &text[cut..]
}

#[test]
fn the_readme_operator_walkthrough_runs_and_does_what_it_says() {
    let script = walkthrough();
    for port in PORTS {
        assert!(port_is_free(port), "127.0.0.1:{port} is taken; the README's operator walkthrough listens on it");
    }
    let pg = PgCluster::shared();
    // TLS, checked against the cluster's CA, as in production (deploy/).
    let new_database = || pg.tls_url(&pg.new_database());
    let (main_url, restore_url, copy_url) = (new_database(), new_database(), new_database());

    let work_dir = tempfile::tempdir().unwrap();
    let work = work_dir.path();
    // The walkthrough's own output, outside $WORK (which starts empty).
    let logs = tempfile::tempdir().unwrap();
    let (stdout_path, stderr_path) = (logs.path().join("stdout"), logs.path().join("stderr"));

    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = std::env::join_paths(
        [bin_dir.to_path_buf(), pg.bin_dir().to_path_buf()]
            .into_iter()
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();

    let mut cmd = Command::new("bash");
    cmd.args(["-euo", "pipefail", "-c", &script, "operator-walkthrough"]);
    // Only what the walkthrough is given: the caller's fanlic and libpq
    // settings must not decide where it writes.
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("FANLIC_") || k.starts_with("PG") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("PATH", path)
        .env("WORK", work)
        .env("FANLIC_DATABASE_URL", &main_url)
        .env("RESTORE_DATABASE_URL", &restore_url)
        .env("COPY_DATABASE_URL", &copy_url)
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout_path).unwrap())
        .stderr(fs::File::create(&stderr_path).unwrap())
        // Its own process group, so that the guard can end everything it started.
        .process_group(0);
    let mut group = Group(cmd.spawn().expect("cannot start bash"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = group.0.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            break None;
        }
        thread::sleep(Duration::from_millis(100));
    };
    // A file the walkthrough did not get to write reads as empty.
    let read = |p: &Path| fs::read_to_string(p).unwrap_or_default();
    let stdout = read(&stdout_path);
    let stderr = read(&stderr_path);
    let serve_logs = format!(
        "serve-a.log:\n{}\nserve-b.log:\n{}",
        tail(&read(&work.join("serve-a.log"))),
        tail(&read(&work.join("serve-b.log")))
    );
    let report = format!("--- stdout:\n{}\n--- stderr:\n{}\n--- {serve_logs}", tail(&stdout), tail(&stderr));
    let Some(status) = status else {
        panic!("the walkthrough did not finish within {TIMEOUT:?}\n{report}");
    };
    assert!(status.success(), "the README's operator walkthrough failed ({status})\n{report}");
    drop(group);

    // Both instances answered /readyz with 200 (curl -f fails on anything
    // else, but the instances' own logs say so too), and both stopped.
    for (name, port) in [("serve-a", PORTS[0]), ("serve-b", PORTS[1])] {
        let log = read(&work.join(format!("{name}.log")));
        let ready = log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|v| v["path"] == "/readyz" && v["status"] == 200);
        assert!(ready, "{name} logged no 200 answer to GET /readyz:\n{log}");
        assert!(port_is_free(port), "{name} still listens on {port} after the walkthrough stopped it");
    }
    // And the bodies curl printed say every check passed.
    let ready_bodies: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("checks").is_some())
        .collect();
    assert_eq!(ready_bodies.len(), 2, "two /readyz bodies expected on the walkthrough's stdout:\n{stdout}");
    for body in &ready_bodies {
        assert_eq!(body["status"], "ready", "{body}");
        assert_eq!(body["failed"], serde_json::json!([]), "{body}");
    }

    // The instances' homes: the issuing home's master secret and receipt
    // keys, nothing else (no issuing key, no root key).
    let issuer = work.join("issuer");
    for name in ["serve-a", "serve-b"] {
        let home = work.join(name);
        assert_eq!(names(&home), ["activation", "receipt-keys"], "{name} holds more than it needs");
        let secret = home.join("activation/master.secret");
        assert_eq!(fs::read(&secret).unwrap(), fs::read(issuer.join("activation/master.secret")).unwrap());
        assert_eq!(fs::metadata(&secret).unwrap().permissions().mode() & 0o777, 0o600, "{name}'s master secret");
        assert_eq!(names(&home.join("receipt-keys")), names(&issuer.join("receipt-keys")));
    }
    assert!(!issuer.join("root-key").exists(), "the walkthrough moves the root key out of the home");

    // The restored database: the license issued before the dump, and the
    // state the original database records.
    let nowhere = logs.path().join("no-home");
    let id = license_id(&nowhere, &work.join("Container.lic"));
    let in_restore = pg.psql(&restore_url, &format!("SELECT count(*) FROM licenses WHERE license_id = '{id}'"));
    assert_eq!(in_restore, "1", "the restored database lacks license {id}");
    // Its status is the original's (schema, what the instances recorded,
    // every table's rows) but for the database it names.
    let mut status_main = json_at(&issuer, Some(&main_url), &["db", "status", "--json"]);
    let mut status_restore = json_at(&issuer, Some(&restore_url), &["db", "status", "--json"]);
    assert_eq!(status_restore["backend"], "postgres", "{status_restore}");
    assert_eq!(status_restore["pending"], serde_json::json!([]), "{status_restore}");
    assert_eq!(status_restore["schema_version"], status_restore["latest"], "{status_restore}");
    for status in [&mut status_main, &mut status_restore] {
        status.as_object_mut().unwrap().remove("database").expect("db status names its database");
    }
    assert_eq!(status_restore, status_main, "the restored database's status differs from the original's");

    // The copied database: the SQLite home's one license, and as many rows
    // as the SQLite database in every table both have.
    let sqlite_home = work.join("sqlite-home");
    let old_id = license_id(&nowhere, &work.join("Old.lic"));
    let copied = pg.psql(&copy_url, "SELECT license_id FROM licenses ORDER BY license_id");
    assert_eq!(copied, old_id, "the copied database's licenses");
    let sqlite = rusqlite::Connection::open(sqlite_home.join("fanlic.db")).unwrap();
    let pg_tables = pg.psql(&copy_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    let mut compared = Vec::new();
    for table in pg_tables.lines() {
        let in_sqlite: Option<String> = sqlite
            .query_row("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ?1", [table], |r| r.get(0))
            .ok();
        if in_sqlite.is_none() {
            continue;
        }
        let rows: i64 = sqlite.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| r.get(0)).unwrap();
        let copied = pg.psql(&copy_url, &format!("SELECT count(*) FROM \"{table}\""));
        assert_eq!(copied, rows.to_string(), "rows of {table}: SQLite {rows}, PostgreSQL {copied}");
        compared.push(table.to_owned());
    }
    for table in ["contracts", "licenses", "audit", "issuing_keys", "receipt_keys"] {
        assert!(compared.iter().any(|t| t == table), "{table} was not compared: {compared:?}");
    }

    // Copying again, into the now non-empty database, is refused and
    // changes nothing.
    let before = pg.psql(&copy_url, "SELECT count(*) FROM audit");
    let again = fanlic_at(&sqlite_home, None, &["db", "copy", "--to", &copy_url]);
    assert!(!again.status.success(), "db copy into a non-empty database succeeded");
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(why.contains("empty"), "the refusal should say the target is not empty: {why}");
    assert_eq!(pg.psql(&copy_url, "SELECT count(*) FROM audit"), before);
}
