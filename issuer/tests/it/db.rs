//! `fanlic db`: status and migrate on both backends, and `db copy` moving a
//! SQLite home with every kind of record into a real PostgreSQL (over TLS),
//! after which the same commands answer the same on both.

use std::{ffi::OsStr, fs, path::PathBuf};

use crate::common::{AUTHSERV, BODY, Env, PASS, add_contract, bad_values, body_for, fanlic, fanlic_with, mail, ok};
use fanlic_testkit::postgres::PgCluster;
use serde_json::Value;

/// A home whose records are in its fanlic.db, whatever the suite's backend.
fn sqlite_home() -> Env {
    let mut env = Env::temp();
    env.database = None;
    ok(&env, &["init", "--authserv-id", AUTHSERV]);
    add_contract(&env, "Customer Trading Co., Ltd.", "Alice@Customer.example", "2026/11/20", "3");
    env
}

/// A new empty PostgreSQL database, reached over TLS (verified against the cluster's CA).
fn empty_database() -> String {
    let pg = PgCluster::shared();
    pg.tls_url(&pg.new_database())
}

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let p = env.dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

/// Ingests `text`; its one `--json` line.
fn ingest(env: &Env, vars: &[(&str, &OsStr)], name: &str, text: &str) -> Value {
    let p = write(env, name, text);
    let out = fanlic_with(env, vars, &["ingest", "--json", p.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(String::from_utf8(out.stdout).unwrap().lines().next().unwrap()).unwrap()
}

/// `fanlic ARGS` against `env`'s home with its records in `url` (None: its fanlic.db).
fn run_on(env: &Env, url: Option<&str>, args: &[&str]) -> std::process::Output {
    match url {
        Some(u) => fanlic_with(env, &[("FANLIC_DATABASE_URL", OsStr::new(u))], args, None),
        None => fanlic(env, args, None),
    }
}

fn ok_on(env: &Env, url: Option<&str>, args: &[&str]) -> String {
    let out = run_on(env, url, args);
    assert!(out.status.success(), "{args:?} on {url:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json_on(env: &Env, url: Option<&str>, args: &[&str]) -> Value {
    serde_json::from_str(&ok_on(env, url, args)).unwrap()
}

/// A SQLite home with contracts, decisions of each kind, replies sent and
/// queued (with attachments), a revocation and a signed revocation list,
/// staff accounts and a recorded instance secret.
fn busy_home() -> Env {
    let env = sqlite_home();
    add_contract(&env, "Second Customer GmbH", "bob@second.example", "2026/10/01", "2");
    assert_eq!(ingest(&env, &[], "a.eml", &mail(Some(PASS), "a@customer.example", BODY))["decision"], "issued");
    let b = ingest(&env, &[], "b.eml", &mail(Some(PASS), "b@customer.example", &body_for("intranet")));
    assert_eq!(b["decision"], "issued");
    let held = ingest(&env, &[], "c.eml", &mail(None, "c@customer.example", &body_for("held-one")));
    assert_eq!(held["decision"], "held");
    let bad = ingest(&env, &[], "d.eml", &mail(Some(PASS), "d@customer.example", &bad_values(BODY)));
    assert_eq!(bad["decision"], "rejected");
    // The first replies sent (their attachments' bytes are dropped), later ones queued.
    ok(&env, &["outbox", "flush", "--dir", env.dir.join("sent").to_str().unwrap()]);
    let e = ingest(&env, &[], "e.eml", &mail(Some(PASS), "e@customer.example", &body_for("third")));
    assert_eq!(e["decision"], "issued");
    let lid = b["license_id"].as_str().unwrap();
    ok(&env, &["revoke", lid, "--reason", "customer asked", "--by", "carol"]);
    ok(&env, &["revocations", "export", "-o", env.dir.join("crl.bin").to_str().unwrap()]);
    for (name, role) in [("alice", "admin"), ("bob", "viewer")] {
        let out = fanlic(
            &env,
            &["staff", "add", name, "--role", role, "--password-stdin"],
            Some(b"correct horse battery staple"),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    conn.execute(
        "INSERT INTO instance_secrets (name, version, check_value, recorded_at, recorded_by)
         VALUES ('activation-master', 1, ?1, 1795000000, 'serve@host-a')",
        [vec![7u8; 32]],
    )
    .unwrap();
    env
}

/// What each read command says, to compare across backends.
const READS: &[&[&str]] = &[
    &["review", "--json"],
    &["audit", "--json"],
    &["outbox", "list", "--all", "--json"],
    &["contract", "list", "--all", "--json"],
    &["revocations", "list", "--json"],
    &["staff", "list", "--json"],
    &["keys", "list", "--json"],
    &["alerts", "--json"],
    &["config", "--json"],
];

fn status_tables(v: &Value) -> Vec<(String, u64)> {
    v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["table"].as_str().unwrap().to_owned(), t["rows"].as_u64().unwrap()))
        .collect()
}

#[test]
fn copy_moves_a_sqlite_home_into_postgres_and_every_command_reads_the_same() {
    let env = busy_home();
    let url = empty_database();
    let before = json_on(&env, None, &["db", "status", "--json"]);

    let out = fanlic(&env, &["db", "copy", "--to", &url, "--json"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let progress = String::from_utf8(out.stderr).unwrap();
    assert!(progress.contains("fanlic db copy: decisions: 5 rows copied in "), "{progress}");
    assert_eq!(report["schema_version"], before["schema_version"]);
    assert!(!report["to"].as_str().unwrap().contains(PgCluster::shared().password()), "{report}");
    let copied: Vec<(String, u64)> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["sha256"].as_str().unwrap().len(), 64, "{t}");
            (t["table"].as_str().unwrap().to_owned(), t["rows"].as_u64().unwrap())
        })
        .collect();
    // Every table of the source, parents before children, with its rows.
    let mut names: Vec<&str> = copied.iter().map(|t| t.0.as_str()).collect();
    let pos = |t: &str| names.iter().position(|n| *n == t).unwrap();
    assert!(pos("root_keys") < pos("issuing_keys") && pos("issuing_keys") < pos("licenses"));
    assert!(pos("licenses") < pos("decisions") && pos("outbox") < pos("decisions"));
    assert!(pos("outbox") < pos("outbox_attachments") && pos("staff") < pos("staff_sessions"));
    names.sort_unstable();
    let mut source = status_tables(&before);
    source.sort();
    assert_eq!(names, source.iter().map(|t| t.0.as_str()).collect::<Vec<_>>());
    for (table, rows) in &source {
        let got = copied.iter().find(|c| &c.0 == table).unwrap().1;
        if table != "live_license_counts" {
            assert_eq!(got, *rows, "{table}");
        }
    }
    let rows_of = |t: &str| copied.iter().find(|c| c.0 == t).unwrap().1;
    assert_eq!(rows_of("decisions"), 5);
    assert!(rows_of("outbox_attachments") >= 3);
    assert_eq!(rows_of("staff"), 2);
    assert_eq!(rows_of("revocation_lists"), 1);
    assert_eq!(rows_of("instance_secrets"), 1);
    let derived = report["tables"].as_array().unwrap().iter().find(|t| t["table"] == "live_license_counts").unwrap();
    assert_eq!(derived["copied"], false);

    // The same commands say the same, byte for byte, on either backend.
    for args in READS {
        assert_eq!(ok_on(&env, Some(&url), args), ok_on(&env, None, args), "{args:?}");
    }
    let after = json_on(&env, Some(&url), &["db", "status", "--json"]);
    assert_eq!(after["backend"], "postgres");
    assert_eq!(after["schema_version"], before["schema_version"]);
    assert_eq!(after["pending"], Value::Array(vec![]));
    assert_eq!(after["instance_secrets"], before["instance_secrets"]);
    assert_eq!(after["instance_secrets"][0]["recorded_by"], "serve@host-a");
    let no_counts = |v: Vec<(String, u64)>| v.into_iter().filter(|t| t.0 != "live_license_counts").collect::<Vec<_>>();
    assert_eq!(no_counts(status_tables(&after)), no_counts(status_tables(&before)));

    // New rows continue the ids: the sequences were set past the copied ones.
    let text = mail(Some(PASS), "f@customer.example", &body_for("after-the-move"));
    let on_lite = ingest(&env, &[], "f1.eml", &text);
    let on_pg = ingest(&env, &[("FANLIC_DATABASE_URL", OsStr::new(&url))], "f2.eml", &text);
    assert_eq!(on_pg["decision"], "issued");
    assert_eq!(on_pg["decision_id"], on_lite["decision_id"]);
    let last_id = |u: Option<&str>| json_on(&env, u, &["outbox", "list", "--all", "--json"]).as_array().unwrap().len();
    assert_eq!(last_id(Some(&url)), last_id(None));
    let pg = PgCluster::shared();
    assert_eq!(pg.psql(&url, "SELECT max(outbox_id) FROM outbox"), {
        let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
        conn.query_row("SELECT max(outbox_id) FROM outbox", [], |r| r.get::<_, i64>(0)).unwrap().to_string()
    });
}

#[test]
fn a_second_copy_into_the_same_database_is_refused_and_changes_nothing() {
    let env = sqlite_home();
    ingest(&env, &[], "a.eml", &mail(Some(PASS), "a@customer.example", BODY));
    let url = empty_database();
    let said = ok(&env, &["db", "copy", "--to", &url]);
    let pg = PgCluster::shared();
    assert!(said.contains("every table verified") && !said.contains(pg.password()), "{said}");
    let line = said.lines().find(|l| l.trim_start().starts_with("decisions ")).unwrap();
    assert!(line.contains("1 rows  sha256 "), "{said}");
    let snapshot = |u: &str| {
        pg.psql(
            u,
            "SELECT (SELECT count(*) FROM decisions) || ' ' || (SELECT count(*) FROM licenses) || ' ' || \
             (SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations) || ' ' || \
             (SELECT count(*) FROM audit)",
        )
    };
    let first = snapshot(&url);
    ingest(&env, &[], "b.eml", &mail(Some(PASS), "b@customer.example", &body_for("more")));
    let out = fanlic(&env, &["db", "copy", "--to", &url], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("not empty") && err.contains("Nothing was changed"), "{err}");
    assert!(!err.contains(pg.password()), "{err}");
    assert_eq!(snapshot(&url), first);

    // One table of ours is enough to refuse, and it is left as it was.
    let other = empty_database();
    pg.psql(&other, "CREATE TABLE staff (x int); INSERT INTO staff VALUES (1)");
    let out = fanlic(&env, &["db", "copy", "--to", &other], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("staff"));
    assert_eq!(pg.psql(&other, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "1");
    assert_eq!(pg.psql(&other, "SELECT x FROM staff"), "1");
}

#[test]
fn a_home_already_on_postgres_is_not_copied() {
    let mut env = Env::temp();
    let source = empty_database();
    env.database = Some(source.clone());
    ok(&env, &["init", "--authserv-id", AUTHSERV]);
    let target = empty_database();
    let pg = PgCluster::shared();
    let tables = |u: &str| pg.psql(u, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");

    let out = fanlic(&env, &["db", "copy", "--to", &target], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("already in PostgreSQL"), "{err}");
    assert_eq!(tables(&target), "0");

    // Without --database the home's database.url says where its records are: refused the same.
    env.database = None;
    let out = fanlic(&env, &["db", "copy", "--to", &target], None);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success() && err.contains("already in PostgreSQL"), "{err}");
    assert_eq!(tables(&target), "0");
}

#[test]
fn status_reads_without_migrating_and_migrate_brings_a_new_database_up_to_date() {
    let env = Env::temp();
    let url = empty_database();
    let pg = PgCluster::shared();

    let status = json_on(&env, Some(&url), &["db", "status", "--json"]);
    assert_eq!(status["backend"], "postgres");
    assert_eq!(status["schema_version"], 0);
    let latest = status["latest"].as_i64().unwrap();
    assert!(latest >= 14);
    let pending = status["pending"].as_array().unwrap();
    assert_eq!(pending.len(), usize::try_from(latest).unwrap());
    assert_eq!(pending[0]["version"], 1);
    assert_eq!(status["tables"], Value::Array(vec![]));
    let human = ok_on(&env, Some(&url), &["db", "status"]);
    assert!(human.contains("run `fanlic db migrate`"), "{human}");
    assert_eq!(pg.psql(&url, "SELECT to_regclass('schema_migrations') IS NULL"), "t");

    let m = json_on(&env, Some(&url), &["db", "migrate", "--json"]);
    assert_eq!((m["from"].as_i64(), m["to"].as_i64()), (Some(0), Some(latest)));
    let applied: Vec<i64> = m["applied"].as_array().unwrap().iter().map(|s| s["version"].as_i64().unwrap()).collect();
    assert_eq!(applied, (1..=latest).collect::<Vec<_>>());
    assert!(m["applied"].as_array().unwrap().iter().all(|s| !s["title"].as_str().unwrap().is_empty()));

    let again = ok_on(&env, Some(&url), &["db", "migrate"]);
    assert!(again.contains("nothing to do"), "{again}");
    let status = json_on(&env, Some(&url), &["db", "status", "--json"]);
    assert_eq!(status["schema_version"], latest);
    assert_eq!(status["pending"], Value::Array(vec![]));
    assert!(status_tables(&status).iter().any(|t| t == &("licenses".to_owned(), 0)));
    assert_eq!(status["instance_secrets"], Value::Array(vec![]));

    // SQLite: the home's file, up to date after init, secrets none yet.
    let lite = sqlite_home();
    let s = json_on(&lite, None, &["db", "status", "--json"]);
    assert_eq!(s["backend"], "sqlite");
    assert_eq!(s["database"], lite.home.join("fanlic.db").to_str().unwrap());
    assert_eq!(s["schema_version"], latest);
    assert!(status_tables(&s).iter().any(|t| t == &("contracts".to_owned(), 1)));
    assert!(!status_tables(&s).iter().any(|t| t.0.starts_with("audit_text") || t.0.starts_with("sqlite_")));
}

/// Decisions in the big copy: `FANLIC_DB_COPY_ROWS`, else 5,000 (several
/// batches of the target's verification cursor).
fn big_rows() -> i64 {
    std::env::var("FANLIC_DB_COPY_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000)
}

#[test]
fn a_big_home_copies_and_verifies_in_batches() {
    let env = sqlite_home();
    let rejected = ingest(&env, &[], "r.eml", &mail(Some(PASS), "r@customer.example", &bad_values(BODY)));
    assert_eq!(rejected["decision"], "rejected");
    let n = big_rows();
    {
        // Copies of that decision (each its own mail) and an audit row for each.
        let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
        conn.execute(
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
             INSERT INTO decisions (dedup_key, message_id, source, from_addr, subject, decision, reasons,
                 authenticated, raw_sha256, raw, decided_at, decided_by, raw_size, raw_kept)
             SELECT dedup_key || '-' || i, message_id || '-' || i, source, from_addr, subject, decision, reasons,
                 authenticated, raw_sha256, CAST(raw || i AS BLOB), decided_at + i, decided_by, raw_size, raw_kept
             FROM decisions, k",
            [n],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO audit (at, by, action, decision_id, dedup_key, why, data)
             SELECT decided_at, decided_by, 'rejected', decision_id, dedup_key, 'bulk', reasons FROM decisions
             WHERE dedup_key LIKE '%-%'",
            [],
        )
        .unwrap();
    }
    let url = empty_database();
    let started = std::time::Instant::now();
    let out = fanlic(&env, &["db", "copy", "--to", &url, "--json"], None);
    let took = started.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = |t: &str| {
        report["tables"].as_array().unwrap().iter().find(|x| x["table"] == t).unwrap()["rows"].as_i64().unwrap()
    };
    assert_eq!(rows("decisions"), n + 1);
    assert!(rows("audit") > n);
    let pg = PgCluster::shared();
    assert_eq!(pg.psql(&url, "SELECT count(*) FROM decisions"), (n + 1).to_string());
    // What a digest compares, compared once more by PostgreSQL itself.
    let lite = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    let sum: i64 = lite.query_row("SELECT sum(length(raw)) FROM decisions", [], |r| r.get(0)).unwrap();
    assert_eq!(pg.psql(&url, "SELECT sum(length(raw)) FROM decisions"), sum.to_string());
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    eprintln!(
        "db copy: {} rows ({} decisions, {} MB of mail) in {:.2} s (fanlic says {} ms)",
        report["rows"],
        n + 1,
        sum / 1_000_000,
        took.as_secs_f64(),
        report["millis"]
    );
}

#[test]
fn a_difference_found_by_verification_rolls_everything_back() {
    let env = sqlite_home();
    assert_eq!(ingest(&env, &[], "a.eml", &mail(Some(PASS), "a@customer.example", BODY))["decision"], "issued");
    let pg = PgCluster::shared();
    let tables = |u: &str| pg.psql(u, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");

    // The target changes each decision's subject as it is inserted (an
    // event trigger, set up by the superuser, arms a row trigger as soon
    // as the copy creates the table): the digests must differ.
    let plain = pg.new_database();
    let db = plain.rsplit('/').next().unwrap().to_owned();
    let url = pg.tls_url(&plain);
    pg.superuser_psql(
        &db,
        "CREATE FUNCTION tamper() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN NEW.subject := NEW.subject || '!'; RETURN NEW; END $$;
         CREATE FUNCTION arm() RETURNS event_trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF to_regclass('public.decisions') IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'tamper') THEN
                 CREATE TRIGGER tamper BEFORE INSERT ON public.decisions FOR EACH ROW EXECUTE FUNCTION tamper();
             END IF;
         END $$;
         CREATE EVENT TRIGGER arm ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'CREATE INDEX')
             EXECUTE FUNCTION arm();",
    );
    let out = fanlic(&env, &["db", "copy", "--to", &url], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("the copy of table decisions does not match the source"), "{err}");
    assert!(err.contains("nothing was kept"), "{err}");
    assert_eq!(tables(&url), "0");

    // The source's count of live licenses disagrees with its licenses:
    // what the target's trigger computes differs, and nothing is kept.
    let url = empty_database();
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    conn.execute("UPDATE live_license_counts SET live = live + 1", []).unwrap();
    let out = fanlic(&env, &["db", "copy", "--to", &url], None);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success() && err.contains("table live_license_counts does not match"), "{err}");
    assert_eq!(tables(&url), "0");

    // Put right, the same copy succeeds.
    conn.execute("UPDATE live_license_counts SET live = live - 1", []).unwrap();
    ok(&env, &["db", "copy", "--to", &url]);
    assert_eq!(pg.psql(&url, "SELECT live FROM live_license_counts"), "1");
}
