//! The PostgreSQL harness against Debian's real server: databases of their
//! own, TLS verified against the cluster's CA, an outage and its end, and
//! clusters that do not outlive their owner, dropped or exited.

use core::{net::Ipv4Addr, panic::AssertUnwindSafe, time::Duration};
use std::{
    io::ErrorKind,
    net::{TcpListener, TcpStream},
    path::Path,
    process::Command,
    thread,
    time::Instant,
};

use fanlic_testkit::postgres::PgCluster;

/// Tables a database has besides PostgreSQL's own.
const USER_TABLES: &str = "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')";

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

#[test]
fn each_new_database_is_empty_its_own_and_owned_by_the_fanlic_role() {
    let pg = PgCluster::start();
    let a = pg.new_database();
    let b = pg.new_database();
    assert_ne!(a, b);
    assert!(a.starts_with(&format!("postgres://fanlic:{}@127.0.0.1:{}/", pg.password(), pg.port())), "{a}");
    let (name_a, name_b) = (pg.psql(&a, "SELECT current_database()"), pg.psql(&b, "SELECT current_database()"));
    assert_ne!(name_a, name_b);
    for url in [&a, &b] {
        assert_eq!(pg.psql(url, USER_TABLES), "0", "{url} is not empty");
        assert_eq!(
            pg.psql(url, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"),
            "fanlic"
        );
        assert_eq!(pg.psql(url, "SELECT current_user"), "fanlic");
    }

    // Round trip, and the other database does not see it.
    pg.psql(&a, "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL)");
    pg.psql(&a, "INSERT INTO t VALUES (1, 'één'), (2, 'two')");
    assert_eq!(pg.psql(&a, "SELECT id, name FROM t ORDER BY id"), "1|één\n2|two");
    assert_eq!(pg.psql(&b, USER_TABLES), "0");
    let err = pg.try_psql(&b, "SELECT * FROM t").unwrap_err();
    assert!(err.contains("relation \"t\" does not exist"), "{err}");

    // The settings the store's tests and benchmarks rely on.
    for (setting, value) in [
        ("fsync", "on"),
        ("synchronous_commit", "on"),
        ("max_connections", "200"),
        ("shared_buffers", "128MB"),
        ("ssl", "on"),
        ("password_encryption", "scram-sha-256"),
    ] {
        assert_eq!(pg.psql(&a, &format!("SHOW {setting}")), value, "{setting}");
    }
    assert_eq!(pg.superuser_psql("postgres", "SHOW listen_addresses"), "127.0.0.1");
    assert_eq!(pg.superuser_psql("postgres", "SHOW port"), pg.port().to_string());
    // The role's password is stored as a SCRAM verifier, not in clear or MD5.
    let stored = pg.superuser_psql("postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = 'fanlic'");
    assert!(stored.starts_with("SCRAM-SHA-256$"), "{stored}");
    assert!(!stored.contains(pg.password()));

    // Password authentication: a wrong password is refused.
    let wrong = a.replacen(pg.password(), "not-the-password", 1);
    let err = pg.try_psql(&wrong, "SELECT 1").unwrap_err();
    assert!(err.contains("password authentication failed for user \"fanlic\""), "{err}");
}

#[test]
fn tls_connections_are_verified_against_the_clusters_ca() {
    let pg = PgCluster::shared();
    let url = pg.new_database();
    let uses_tls = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

    let tls = pg.tls_url(&url);
    assert!(tls.contains("sslmode=require&sslrootcert="), "{tls}");
    assert_eq!(pg.psql(&tls, uses_tls), "t");

    // Full verification: the chain up to ca_file() and the name 127.0.0.1.
    let ca = pg.ca_file().to_str().unwrap();
    let full = format!("{url}?sslmode=verify-full&sslrootcert={ca}");
    assert_eq!(pg.psql(&full, uses_tls), "t");
    assert_eq!(pg.psql(&full, "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "TLSv1.3");

    // The `host` line also lets a client in without TLS.
    assert_eq!(pg.psql(&format!("{url}?sslmode=disable"), uses_tls), "f");

    // A CA that did not sign the server's certificate: refused.
    let other = std::env::temp_dir().join(format!("fanlic-pg-other-ca-{}", std::process::id()));
    std::fs::create_dir_all(&other).unwrap();
    let made = Command::new("openssl")
        .current_dir(&other)
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=another CA"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let wrong_ca = format!("{url}?sslmode=verify-full&sslrootcert={}", other.join("ca.pem").display());
    let err = pg.try_psql(&wrong_ca, "SELECT 1");
    std::fs::remove_dir_all(&other).unwrap();
    let err = err.unwrap_err();
    assert!(err.contains("certificate verify failed"), "{err}");
}

#[test]
fn a_stopped_cluster_refuses_connections_starts_again_on_its_port_and_goes_away_when_dropped() {
    let pg = PgCluster::start();
    let url = pg.new_database();
    pg.psql(&url, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)");

    pg.stop();
    assert!(refuses_connections(pg.port()));
    let err = pg.try_psql(&url, "SELECT 1").unwrap_err();
    assert!(err.contains("Connection refused"), "{err}");

    pg.start_again();
    assert!(!refuses_connections(pg.port()));
    assert_eq!(pg.psql(&url, "SELECT v FROM kept"), "42");
    assert_eq!(pg.psql(&pg.tls_url(&url), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "t");

    // Another process took the port during the outage: the panic says why,
    // from the server's log.
    pg.stop();
    let squatter = TcpListener::bind((Ipv4Addr::LOCALHOST, pg.port())).unwrap();
    let panic = std::panic::catch_unwind(AssertUnwindSafe(|| pg.start_again())).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("Address already in use") && message.contains("postgres.log"), "{message}");
    drop(squatter);
    pg.start_again();
    assert_eq!(pg.psql(&url, "SELECT v FROM kept"), "42");

    let (port, dir) = (pg.port(), pg.dir().to_path_buf());
    assert!(dir.join("data").is_dir());
    drop(pg);
    assert!(refuses_connections(port));
    assert!(!dir.exists(), "{} is still there", dir.display());
}

/// Set in the child process of the test below.
const CHILD: &str = "FANLIC_TESTKIT_PG_WATCHDOG_CHILD";
const NAME: &str = "postgres::the_shared_cluster_is_stopped_and_removed_when_its_process_exits";

#[test]
fn the_shared_cluster_is_stopped_and_removed_when_its_process_exits() {
    if std::env::var_os(CHILD).is_some() {
        // The child: start the shared cluster, show it works, say where it is, exit.
        // (libtest prints this after "test NAME ... " on the same line.)
        let pg = PgCluster::shared();
        assert!(core::ptr::eq(pg, PgCluster::shared()));
        let url = pg.new_database();
        assert_eq!(pg.psql(&url, "SELECT 6 * 7"), "42");
        println!("cluster port={} dir={}", pg.port(), pg.dir().display());
        return;
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
        .find_map(|l| l.split_once("cluster port=").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("{stdout}"));
    let (port, dir) = line.split_once(" dir=").unwrap();
    let (port, dir): (u16, &Path) = (port.parse().unwrap(), Path::new(dir));

    let gone = within(Duration::from_secs(5), || refuses_connections(port) && !dir.exists());
    assert!(
        gone,
        "5 s after its process exited, the shared cluster on port {port} in {} is still there",
        dir.display()
    );
}
