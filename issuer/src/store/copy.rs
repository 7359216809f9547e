//! `fanlic db`: what a database holds, read without migrating it; bringing
//! its schema up to date; and copying a home's SQLite records into an empty
//! PostgreSQL database, verified table by table before anything is kept.
//!
//! The copy runs in one PostgreSQL transaction: the schema, every row, the
//! identity sequences and the reads that verify them. A failure anywhere
//! (the target not empty, a type that does not fit, a digest that differs)
//! rolls it all back, so the target is left as it was. The source is read
//! in one SQLite read transaction: one consistent state, even while another
//! process writes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use tokio_postgres::types::{IsNull, ToSql, Type, private::BytesMut};

use super::schema::{self, MIGRATION_TITLES, SCHEMA_VERSION};
use super::sql::{self, Connection, Value, params};
use super::{Database, PostgresUrl, Store, WRITE_LOCK, corrupt, err};
use crate::Error;

/// Tables of SQLite's own, and the FTS5 index of the audit trail (its
/// shadow tables: PostgreSQL searches the trail its own way).
const SQLITE_INTERNAL: &str = "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'audit\\_text%' ESCAPE '\\'";

/// Filled by PostgreSQL's trigger as the licenses are inserted: checked, not copied.
const LIVE_COUNTS: &str = "live_license_counts";

/// Rows read per round trip when a PostgreSQL table is verified.
const FETCH_ROWS: usize = 2000;

/// Rows between two progress lines of one table.
const PROGRESS_EVERY: u64 = 50_000;

/// One migration: its number (the version it brings the schema to) and what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationStep {
    /// The schema version after it.
    pub version: i64,
    /// What it does, in a line.
    pub title: &'static str,
}

/// A secret an instance of `fanlic serve` recorded (its version and check
/// value, never the secret), so that every instance can compare its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceSecret {
    /// Which secret (`activation-master`).
    pub name: String,
    /// Its version.
    pub version: i64,
    /// When it was recorded (Unix seconds).
    pub recorded_at: i64,
    /// Who recorded it (the instance).
    pub recorded_by: String,
}

/// A table and how many rows it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRows {
    /// The table.
    pub table: String,
    /// Its rows.
    pub rows: u64,
}

/// What `fanlic db status` shows: read without changing anything.
#[derive(Clone, Debug)]
pub struct DbStatus {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The database file, or the URL without its password.
    pub database: String,
    /// The schema version the database is at.
    pub version: i64,
    /// The version this build brings it to.
    pub latest: i64,
    /// The migrations `fanlic db migrate` would apply, in order.
    pub pending: Vec<MigrationStep>,
    /// The instance secrets recorded (none before an instance recorded one).
    pub secrets: Vec<InstanceSecret>,
    /// The keys the database records: what every instance's files must match.
    pub keys: Vec<RecordedKey>,
    /// Every table of the records with its row count, by name.
    pub tables: Vec<TableRows>,
}

/// A key the database records (its public half only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedKey {
    /// `root`, `issuing` or `receipt`.
    pub kind: &'static str,
    /// 16 hex digits.
    pub key_id: String,
    /// The end of its window (Unix seconds); `None` for a root key.
    pub not_after: Option<i64>,
    /// An issuing key replaced by a newer one.
    pub retired: bool,
}

/// What `fanlic db migrate` did.
#[derive(Clone, Debug)]
pub struct MigrateReport {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The database file, or the URL without its password.
    pub database: String,
    /// The version before.
    pub from: i64,
    /// The version after.
    pub to: i64,
    /// The migrations applied, in order.
    pub applied: Vec<MigrationStep>,
}

/// One table copied by `fanlic db copy`, as verified on both sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableCopy {
    /// The table.
    pub table: String,
    /// Its rows, on both sides.
    pub rows: u64,
    /// SHA-256 (hex) of its rows in primary-key order, on both sides.
    pub sha256: String,
    /// Not copied: filled on the target by its trigger, and checked.
    pub derived: bool,
}

/// What `fanlic db copy` did.
#[derive(Clone, Debug)]
pub struct CopyReport {
    /// The SQLite file copied.
    pub from: PathBuf,
    /// The PostgreSQL database, without its password.
    pub to: String,
    /// The schema version of both.
    pub version: i64,
    /// Every table, in the order copied.
    pub tables: Vec<TableCopy>,
    /// How long the copy took, verification included, in milliseconds.
    pub millis: u64,
}

impl CopyReport {
    /// Rows copied in all.
    pub fn rows(&self) -> u64 {
        self.tables.iter().filter(|t| !t.derived).map(|t| t.rows).sum()
    }
}

fn steps(from: i64, to: i64) -> Vec<MigrationStep> {
    (from.max(0) + 1..=to)
        .filter_map(|v| {
            let title = MIGRATION_TITLES.get(usize::try_from(v - 1).ok()?)?;
            Some(MigrationStep { version: v, title })
        })
        .collect()
}

/// A connection to `db` that migrates nothing: SQLite opened read-only.
fn connect_plain<T>(db: &Database, f: impl FnOnce(&Connection, &Path) -> Result<T, Error>) -> Result<T, Error> {
    match db {
        Database::Sqlite(path) => {
            use rusqlite::OpenFlags as F;
            let lite = rusqlite::Connection::open_with_flags(path, F::SQLITE_OPEN_READ_ONLY | F::SQLITE_OPEN_NO_MUTEX)
                .map_err(super::lite_err(path, "cannot open"))?;
            lite.busy_timeout(core::time::Duration::from_secs(10))
                .map_err(super::lite_err(path, "cannot configure"))?;
            f(&Connection::Sqlite(lite), path)
        }
        Database::Postgres(url) => with_target(url, f),
    }
}

/// Runs `f` on a pooled connection to `url`, given back after.
fn with_target<T>(url: &PostgresUrl, f: impl FnOnce(&Connection, &Path) -> Result<T, Error>) -> Result<T, Error> {
    let pool = sql::pg::Pool::shared(&url.0);
    let path = PathBuf::from(pool.shown());
    let conn = Connection::Postgres(Mutex::new(pool.get().map_err(err(&path, "cannot connect"))?));
    let out = f(&conn, &path);
    if let Connection::Postgres(c) = conn {
        pool.put(c.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner));
    }
    out
}

fn backend_name(db: &Database) -> &'static str {
    match db {
        Database::Sqlite(_) => "sqlite",
        Database::Postgres(_) => "postgres",
    }
}

fn shown(db: &Database) -> String {
    match db {
        Database::Sqlite(p) => p.display().to_string(),
        Database::Postgres(u) => u.to_string(),
    }
}

/// `fanlic db status`: the schema version, what is pending, the instance
/// secrets and the row counts, read without migrating anything.
pub fn db_status(db: &Database) -> Result<DbStatus, Error> {
    connect_plain(db, |conn, path| {
        let begin = match conn.dialect() {
            sql::Dialect::Sqlite => "BEGIN DEFERRED",
            sql::Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        conn.execute_batch(begin).map_err(err(path, "cannot start a transaction"))?;
        let out = (|| {
            let version = schema::version_without_migrating(conn, path)?;
            let names = tables(conn, path)?;
            let mut counts = Vec::with_capacity(names.len());
            for t in &names {
                counts.push(TableRows { table: t.clone(), rows: count(conn, path, t)? });
            }
            let secrets =
                if names.iter().any(|t| t == "instance_secrets") { instance_secrets(conn, path)? } else { Vec::new() };
            let keys = if names.iter().any(|t| t == "receipt_keys") { recorded_keys(conn, path)? } else { Vec::new() };
            Ok(DbStatus {
                backend: backend_name(db),
                database: shown(db),
                version,
                latest: SCHEMA_VERSION,
                pending: steps(version, SCHEMA_VERSION),
                secrets,
                keys,
                tables: counts,
            })
        })();
        let _ = conn.execute_batch("ROLLBACK");
        out
    })
}

/// `fanlic db migrate`: brings the schema of `db` up to date.
pub fn db_migrate(db: &Database) -> Result<MigrateReport, Error> {
    let from = connect_plain(db, schema::version_without_migrating)?;
    let store = Store::open_database(db, false)?;
    let to = store.read(|tx| schema::status(tx.conn, tx.path)).map(|s| s.version)?;
    Ok(MigrateReport { backend: backend_name(db), database: shown(db), from, to, applied: steps(from, to) })
}

/// The tables of the records, by name: SQLite's internals, the audit
/// trail's FTS5 index and `schema_migrations` left out.
fn tables(conn: &Connection, path: &Path) -> Result<Vec<String>, Error> {
    let q = match conn.dialect() {
        sql::Dialect::Sqlite => {
            format!("SELECT name FROM sqlite_master WHERE type = 'table' AND {SQLITE_INTERNAL} ORDER BY name")
        }
        sql::Dialect::Postgres => "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
                                   AND tablename <> 'schema_migrations' ORDER BY tablename COLLATE \"C\""
            .to_owned(),
    };
    let fail = || err(path, "cannot list the tables");
    let mut stmt = conn.prepare(&q).map_err(fail())?;
    let rows = stmt.query_map(params![], |r| r.get::<_, String>(0)).map_err(fail())?;
    rows.collect::<Result<_, _>>().map_err(fail())
}

fn count(conn: &Connection, path: &Path, table: &str) -> Result<u64, Error> {
    conn.query_row(&format!("SELECT count(*) FROM {}", quote(table)), params![], |r| r.get(0))
        .map_err(err(path, "cannot count rows"))
}

fn instance_secrets(conn: &Connection, path: &Path) -> Result<Vec<InstanceSecret>, Error> {
    let fail = || err(path, "cannot read the instance secrets");
    let mut stmt = conn
        .prepare("SELECT name, version, recorded_at, recorded_by FROM instance_secrets ORDER BY name")
        .map_err(fail())?;
    let rows = stmt
        .query_map(params![], |r| {
            Ok(InstanceSecret { name: r.get(0)?, version: r.get(1)?, recorded_at: r.get(2)?, recorded_by: r.get(3)? })
        })
        .map_err(fail())?;
    rows.collect::<Result<_, _>>().map_err(fail())
}

fn recorded_keys(conn: &Connection, path: &Path) -> Result<Vec<RecordedKey>, Error> {
    let fail = || err(path, "cannot read the keys");
    let mut stmt = conn
        .prepare(
            "SELECT 'root', key_id, NULL, 0, created_at FROM root_keys
             UNION ALL SELECT 'issuing', key_id, not_after, CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, created_at FROM issuing_keys
             UNION ALL SELECT 'receipt', key_id, not_after, 0, created_at FROM receipt_keys
             ORDER BY 5, 2",
        )
        .map_err(fail())?;
    let rows = stmt
        .query_map(params![], |r| {
            let kind: String = r.get(0)?;
            Ok(RecordedKey {
                kind: match kind.as_str() {
                    "root" => "root",
                    "issuing" => "issuing",
                    _ => "receipt",
                },
                key_id: r.get(1)?,
                not_after: r.get(2)?,
                retired: r.get(3)?,
            })
        })
        .map_err(fail())?;
    rows.collect::<Result<_, _>>().map_err(fail())
}

/// `"name"`: our table and column names are plain, but quoted all the same.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table to copy: its columns as SQLite has them, and what PostgreSQL adds.
#[derive(Debug)]
struct Plan {
    table: String,
    /// The SQLite columns, in their order.
    columns: Vec<String>,
    /// The primary key's columns, in key order (empty: the rowid).
    key: Vec<String>,
    /// The target has a `rowid` column (insertion order) to fill from SQLite's rowid.
    rowid: bool,
    /// The target's column types, `rowid` first when it has one.
    types: Vec<Type>,
    /// The target's identity columns, whose sequences go past the highest value.
    identities: Vec<String>,
    /// Tables this one's foreign keys name.
    parents: BTreeSet<String>,
}

impl Plan {
    /// The columns read and written: `rowid` first where the target keeps it.
    fn selected(&self) -> Vec<String> {
        let mut cols = Vec::with_capacity(self.columns.len() + 1);
        if self.rowid {
            cols.push("rowid".to_owned());
        }
        cols.extend(self.columns.iter().cloned());
        cols
    }

    fn column_list(&self) -> String {
        self.selected().iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
    }

    /// `ORDER BY` the primary key; on PostgreSQL text compares byte by byte
    /// (collation "C"), as SQLite's BINARY does.
    fn order(&self, dialect: sql::Dialect) -> String {
        if self.key.is_empty() {
            return "rowid".to_owned();
        }
        let selected = self.selected();
        self.key
            .iter()
            .map(|k| {
                let text = selected
                    .iter()
                    .position(|c| c == k)
                    .and_then(|i| self.types.get(i))
                    .is_some_and(|t| matches!(*t, Type::TEXT | Type::VARCHAR | Type::BPCHAR));
                if dialect == sql::Dialect::Postgres && text { format!("{} COLLATE \"C\"", quote(k)) } else { quote(k) }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `fanlic db copy` of the SQLite file `source` (`home::copy_home` finds it).
pub fn copy_database(source: &Path, to: &PostgresUrl, progress: &mut dyn FnMut(&str)) -> Result<CopyReport, Error> {
    let started = Instant::now();
    let store = Store::open(source, false)?;
    let now = super::int(crate::util::clock::now()?.0);
    store.read(|src| {
        let version = schema::status(src.conn, src.path)?.version;
        with_target(to, |dst, dst_path| {
            let out = (|| {
                // The schema lock keeps any fanlic starting on the target
                // from migrating it meanwhile, the write lock any writer out.
                // A big copy may take longer than the statement timeout.
                dst.execute_batch(&format!(
                    "BEGIN; SET LOCAL statement_timeout = 0;
                     SELECT pg_advisory_xact_lock({}); SELECT pg_advisory_xact_lock({WRITE_LOCK});",
                    schema::MIGRATION_LOCK
                ))
                .map_err(err(dst_path, "cannot start a transaction"))?;
                let plans = plan(src.conn, src.path, dst, dst_path, to, version, now)?;
                let mut report = Vec::with_capacity(plans.len() + 1);
                let mut sent = Vec::with_capacity(plans.len());
                for p in &plans {
                    let (rows, digest) = copy_table(src.conn, src.path, dst, dst_path, p, progress)?;
                    report.push(TableCopy { table: p.table.clone(), rows, sha256: String::new(), derived: false });
                    sent.push(digest);
                }
                for p in &plans {
                    set_sequences(dst, dst_path, p)?;
                }
                // Verified inside the same transaction: a mismatch rolls it all back.
                for ((p, r), sent) in plans.iter().zip(report.iter_mut()).zip(sent) {
                    let order = |d| p.order(d);
                    let q = |d| format!("SELECT {} FROM {} ORDER BY {}", p.column_list(), quote(&p.table), order(d));
                    let t0 = Instant::now();
                    let a = match sent {
                        Some(d) => (r.rows, d),
                        None => digest(src.conn, src.path, &q(sql::Dialect::Sqlite), p.selected().len())?,
                    };
                    let b = digest(dst, dst_path, &q(sql::Dialect::Postgres), p.selected().len())?;
                    check(dst_path, &p.table, a, b, r.rows)?;
                    r.sha256 = hex(&a.1);
                    // Empty tables are not worth a line each.
                    if a.0 > 0 {
                        progress(&format!(
                            "{}: {} rows verified in {} ms (sha256 {})",
                            p.table,
                            a.0,
                            t0.elapsed().as_millis(),
                            r.sha256.get(..16).unwrap_or_default()
                        ));
                    }
                }
                // Rows of 0 and no row mean the same to the store (a company
                // with no live license); the trigger writes only the others.
                let q = |c: &str| {
                    format!("SELECT company_key, live FROM {LIVE_COUNTS} WHERE live <> 0 ORDER BY company_key{c}")
                };
                let a = digest(src.conn, src.path, &q(""), 2)?;
                let b = digest(dst, dst_path, &q(" COLLATE \"C\""), 2)?;
                check(dst_path, LIVE_COUNTS, a, b, a.0)?;
                report.push(TableCopy { table: LIVE_COUNTS.to_owned(), rows: a.0, sha256: hex(&a.1), derived: true });
                Ok(report)
            })();
            match out {
                Ok(tables) => {
                    dst.execute_batch("COMMIT").map_err(err(dst_path, "cannot commit"))?;
                    Ok(CopyReport {
                        from: src.path.to_owned(),
                        to: to.to_string(),
                        version,
                        tables,
                        millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    })
                }
                Err(e) => {
                    let _ = dst.execute_batch("ROLLBACK");
                    Err(e)
                }
            }
        })
    })
}

fn check(dst_path: &Path, table: &str, a: (u64, [u8; 32]), b: (u64, [u8; 32]), copied: u64) -> Result<(), Error> {
    if a == b && a.0 == copied {
        return Ok(());
    }
    Err(corrupt(
        dst_path,
        format!(
            "the copy of table {table} does not match the source: the source has {} rows (sha256 {}), \
             the copy {} rows (sha256 {}); nothing was kept, the target is as it was",
            a.0,
            hex(&a.1),
            b.0,
            hex(&b.1)
        ),
    ))
}

/// Checks the target is empty, makes its schema, and lists the tables to
/// copy with their columns, parents first.
fn plan(
    src: &Connection,
    src_path: &Path,
    dst: &Connection,
    dst_path: &Path,
    to: &PostgresUrl,
    version: i64,
    now: i64,
) -> Result<Vec<Plan>, Error> {
    let names: Vec<String> = tables(src, src_path)?.into_iter().filter(|t| t != LIVE_COUNTS).collect();
    let ours: BTreeSet<&str> =
        names.iter().map(String::as_str).chain(["schema_migrations", LIVE_COUNTS, "instance_secrets"]).collect();
    let found: Vec<String> = {
        let fail = || err(dst_path, "cannot list the tables");
        let mut stmt = dst
            .prepare("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
            .map_err(fail())?;
        let rows = stmt.query_map(params![], |r| r.get::<_, String>(0)).map_err(fail())?;
        rows.collect::<Result<Vec<String>, _>>().map_err(fail())?
    };
    let taken: Vec<&String> = found.iter().filter(|t| ours.contains(t.as_str())).collect();
    if !taken.is_empty() {
        let list = taken.iter().take(6).map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
        let more = if taken.len() > 6 { format!(" and {} more", taken.len() - 6) } else { String::new() };
        return Err(Error::input(
            "--to",
            &to.to_string(),
            format!(
                "the database is not empty: it already holds {list}{more} (a fanlic home's records?). Nothing \
                 was changed. Copy into a new, empty database (CREATE DATABASE fanlic OWNER fanlic)"
            ),
        ));
    }
    schema::create_postgres(dst, dst_path, version, now)?;

    let src_fail = || err(src_path, "cannot read the schema");
    let dst_fail = || err(dst_path, "cannot read the schema");
    let mut plans = BTreeMap::new();
    for t in &names {
        let cols: Vec<(String, i64)> = {
            let mut stmt = src.prepare("SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid").map_err(src_fail())?;
            let rows = stmt.query_map(params![t], |r| Ok((r.get(0)?, r.get(1)?))).map_err(src_fail())?;
            rows.collect::<Result<_, _>>().map_err(src_fail())?
        };
        let mut key: Vec<&(String, i64)> = cols.iter().filter(|c| c.1 > 0).collect();
        key.sort_by_key(|c| c.1);
        let parents: BTreeSet<String> = {
            let mut stmt = src.prepare("SELECT \"table\" FROM pragma_foreign_key_list(?1)").map_err(src_fail())?;
            let rows = stmt.query_map(params![t], |r| r.get::<_, String>(0)).map_err(src_fail())?;
            rows.collect::<Result<BTreeSet<_>, _>>().map_err(src_fail())?
        };
        let target: Vec<(String, bool)> = {
            let mut stmt = dst
                .prepare(
                    "SELECT attname::text, attidentity <> '' FROM pg_attribute
                     WHERE attrelid = to_regclass(?1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                )
                .map_err(dst_fail())?;
            let rows = stmt.query_map(params![quote(t)], |r| Ok((r.get(0)?, r.get(1)?))).map_err(dst_fail())?;
            rows.collect::<Result<_, _>>().map_err(dst_fail())?
        };
        let columns: Vec<String> = cols.iter().map(|c| c.0.clone()).collect();
        let rowid = target.iter().any(|c| c.0 == "rowid") && !columns.iter().any(|c| c == "rowid");
        let mut want: BTreeSet<&str> = columns.iter().map(String::as_str).collect();
        if rowid {
            want.insert("rowid");
        }
        let have: BTreeSet<&str> = target.iter().map(|c| c.0.as_str()).collect();
        if want != have {
            return Err(corrupt(
                dst_path,
                format!(
                    "table {t} has columns {have:?} in PostgreSQL's schema {version} but {want:?} in SQLite's; \
                     nothing was copied (report this: the two schemas must agree)"
                ),
            ));
        }
        let mut p = Plan {
            table: t.clone(),
            columns,
            key: key.iter().map(|c| c.0.clone()).collect(),
            rowid,
            types: Vec::new(),
            identities: target.iter().filter(|c| c.1).map(|c| c.0.clone()).collect(),
            parents: parents.into_iter().filter(|p| p != t).collect(),
        };
        let probe = format!("SELECT {} FROM {} LIMIT 0", p.column_list(), quote(t));
        let mut pg = dst.postgres().unwrap_or_else(|| unreachable!("the target is PostgreSQL"));
        let (client, rt) = pg.client().map_err(dst_fail())?;
        let stmt = rt.block_on(client.prepare(&probe)).map_err(|e| dst_fail()(e.into()))?;
        p.types = stmt.columns().iter().map(|c| c.type_().clone()).collect();
        plans.insert(t.clone(), p);
    }
    // Parents before children, else by name.
    let mut ordered = Vec::with_capacity(plans.len());
    let mut done = BTreeSet::new();
    while !plans.is_empty() {
        let ready: Vec<String> = plans
            .values()
            .filter(|p| p.parents.iter().all(|q| done.contains(q) || !names.contains(q)))
            .map(|p| p.table.clone())
            .collect();
        if ready.is_empty() {
            return Err(corrupt(src_path, "the foreign keys between its tables form a cycle"));
        }
        for t in ready {
            if let Some(p) = plans.remove(&t) {
                done.insert(t);
                ordered.push(p);
            }
        }
    }
    Ok(ordered)
}

/// Copies one table with COPY (binary), in rowid order: the target's
/// insertion order is the source's. Returns the rows copied.
fn copy_table(
    src: &Connection,
    src_path: &Path,
    dst: &Connection,
    dst_path: &Path,
    p: &Plan,
    progress: &mut dyn FnMut(&str),
) -> Result<(u64, Option<[u8; 32]>), Error> {
    let src_fail = || err(src_path, "cannot read the records");
    let dst_fail = || err(dst_path, "cannot copy the records");
    let n = p.selected().len();
    let t0 = Instant::now();
    // A table keyed by an integer id is copied in key order, which is its
    // insertion order: the source's digest is taken from the rows as they
    // are sent, and only the target is read again to verify.
    let keyed = !p.rowid;
    let order = if keyed { p.order(sql::Dialect::Sqlite) } else { "rowid".to_owned() };
    let mut read = src
        .prepare(&format!("SELECT {} FROM {} ORDER BY {order}", p.column_list(), quote(&p.table)))
        .map_err(src_fail())?;
    let mut rows = read.query(params![]).map_err(src_fail())?;
    let mut pg = dst.postgres().unwrap_or_else(|| unreachable!("the target is PostgreSQL"));
    let (client, rt) = pg.client().map_err(dst_fail())?;
    let copy = format!("COPY {} ({}) FROM STDIN (FORMAT binary)", quote(&p.table), p.column_list());
    let sink = rt.block_on(client.copy_in(&copy)).map_err(|e| dst_fail()(e.into()))?;
    let writer = tokio_postgres::binary_copy::BinaryCopyInWriter::new(sink, &p.types);
    let mut writer = core::pin::pin!(writer);
    let mut digest = RowDigest::new();
    let mut copied = 0u64;
    let mut values: Vec<Value> = Vec::with_capacity(n);
    while let Some(r) = rows.next().map_err(src_fail())? {
        values.clear();
        for i in 0..n {
            values.push(r.get::<_, Value>(i).map_err(src_fail())?);
        }
        if keyed {
            digest.add(&values);
        }
        let wrapped: Vec<CopyValue<'_>> = values.iter().map(CopyValue).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = wrapped.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        rt.block_on(writer.as_mut().write(&refs)).map_err(|e| dst_fail()(e.into()))?;
        copied += 1;
        if copied.is_multiple_of(PROGRESS_EVERY) {
            progress(&format!("{}: {copied} rows copied…", p.table));
        }
    }
    let written = rt.block_on(writer.finish()).map_err(|e| dst_fail()(e.into()))?;
    if written != copied {
        return Err(corrupt(dst_path, format!("table {}: {copied} rows sent, {written} written", p.table)));
    }
    if copied > 0 {
        progress(&format!("{}: {copied} rows copied in {} ms", p.table, t0.elapsed().as_millis()));
    }
    Ok((copied, keyed.then(|| digest.finish().1)))
}

/// Sets each identity sequence of `p`'s table past its highest value, so
/// that the next row inserted gets a new id.
fn set_sequences(dst: &Connection, dst_path: &Path, p: &Plan) -> Result<(), Error> {
    for col in &p.identities {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence(?1, ?2), coalesce(max({c}), 0) + 1, false) FROM {t}",
            c = quote(col),
            t = quote(&p.table)
        );
        dst.query_row(&sql, params![quote(&p.table), col], |r| r.get::<_, i64>(0))
            .map_err(err(dst_path, "cannot set an identity sequence"))?;
    }
    Ok(())
}

/// The rows of `query` (`columns` each) and the SHA-256 of their values,
/// read through the store's SQL layer whichever the backend. PostgreSQL's
/// rows come through a cursor, a batch at a time.
fn digest(conn: &Connection, path: &Path, query: &str, columns: usize) -> Result<(u64, [u8; 32]), Error> {
    let fail = || err(path, "cannot verify the copy");
    let mut d = RowDigest::new();
    let mut row = Vec::with_capacity(columns);
    match conn.dialect() {
        sql::Dialect::Sqlite => {
            let mut stmt = conn.prepare(query).map_err(fail())?;
            let mut rows = stmt.query(params![]).map_err(fail())?;
            while let Some(r) = rows.next().map_err(fail())? {
                row.clear();
                for i in 0..columns {
                    row.push(r.get::<_, Value>(i).map_err(fail())?);
                }
                d.add(&row);
            }
        }
        sql::Dialect::Postgres => {
            // One cursor name per query: a prepared FETCH keeps the columns of its cursor.
            let name = format!("fanlic_verify_{}", hex(&super::sha256(query.as_bytes()))[..16].to_owned());
            conn.execute_batch(&format!("DECLARE {name} NO SCROLL CURSOR FOR {query}")).map_err(fail())?;
            let fetch = format!("FETCH FORWARD {FETCH_ROWS} FROM {name}");
            loop {
                let mut stmt = conn.prepare(&fetch).map_err(fail())?;
                let mut rows = stmt.query(params![]).map_err(fail())?;
                let mut got = 0;
                while let Some(r) = rows.next().map_err(fail())? {
                    row.clear();
                    for i in 0..columns {
                        row.push(r.get::<_, Value>(i).map_err(fail())?);
                    }
                    d.add(&row);
                    got += 1;
                }
                if got < FETCH_ROWS {
                    break;
                }
            }
            conn.execute_batch(&format!("CLOSE {name}")).map_err(fail())?;
        }
    }
    Ok(d.finish())
}

/// SHA-256 over rows, each value encoded so that no two different rows
/// (or sequences of rows) encode alike: a type tag, then for text and
/// blobs the length (8 bytes) and the bytes, for numbers their 8 bytes.
#[derive(Clone)]
pub(crate) struct RowDigest {
    ctx: ring::digest::Context,
    rows: u64,
}

impl RowDigest {
    pub(crate) fn new() -> Self {
        Self { ctx: ring::digest::Context::new(&ring::digest::SHA256), rows: 0 }
    }

    /// Adds one row (every row of a digest has the same number of values).
    pub(crate) fn add(&mut self, row: &[Value]) {
        for v in row {
            match v {
                Value::Null => self.ctx.update(&[0]),
                Value::Integer(i) => {
                    self.ctx.update(&[1]);
                    self.ctx.update(&i.to_be_bytes());
                }
                Value::Real(f) => {
                    self.ctx.update(&[2]);
                    self.ctx.update(&f.to_bits().to_be_bytes());
                }
                Value::Text(s) => {
                    self.ctx.update(&[3]);
                    self.ctx.update(&u64::try_from(s.len()).unwrap_or(u64::MAX).to_be_bytes());
                    self.ctx.update(s.as_bytes());
                }
                Value::Blob(b) => {
                    self.ctx.update(&[4]);
                    self.ctx.update(&u64::try_from(b.len()).unwrap_or(u64::MAX).to_be_bytes());
                    self.ctx.update(b);
                }
            }
        }
        self.rows += 1;
    }

    /// The rows added and their digest.
    pub(crate) fn finish(self) -> (u64, [u8; 32]) {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.ctx.finish().as_ref());
        (self.rows, out)
    }
}

fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A value written by COPY (binary) as the target column's type.
#[derive(Debug)]
struct CopyValue<'v>(&'v Value);

impl ToSql for CopyValue<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn core::error::Error + Sync + Send>> {
        // The value itself is never said: it may be a password hash.
        let wrong = || Err(format!("{} cannot be written to a column of type {ty}", kind(self.0)).into());
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => wrong(),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                _ => wrong(),
            },
            Value::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR => s.as_str().to_sql(ty, out),
                _ => wrong(),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => wrong(),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Integer(_) => "an integer",
        Value::Real(_) => "a real",
        Value::Text(_) => "text",
        Value::Blob(_) => "a blob",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(rows: &[Vec<Value>]) -> (u64, [u8; 32]) {
        let mut d = RowDigest::new();
        for r in rows {
            d.add(r);
        }
        d.finish()
    }

    fn row(id: i64, text: &str, blob: &[u8]) -> Vec<Value> {
        vec![Value::Integer(id), Value::Text(text.to_owned()), Value::Blob(blob.to_vec())]
    }

    #[test]
    fn the_digest_sees_one_changed_byte() {
        let a = digest_of(&[row(1, "acme", b"\x00\x01\x02"), row(2, "beta", b"x")]);
        assert_eq!(a, digest_of(&[row(1, "acme", b"\x00\x01\x02"), row(2, "beta", b"x")]));
        assert_ne!(a, digest_of(&[row(1, "acme", b"\x00\x01\x03"), row(2, "beta", b"x")]));
        assert_ne!(a, digest_of(&[row(1, "acmf", b"\x00\x01\x02"), row(2, "beta", b"x")]));
        assert_ne!(a, digest_of(&[row(1, "acme", b"\x00\x01\x02"), row(3, "beta", b"x")]));
    }

    #[test]
    fn the_digest_tells_null_from_empty_and_text_from_blob() {
        let null = digest_of(&[vec![Value::Null]]);
        let empty_text = digest_of(&[vec![Value::Text(String::new())]]);
        let empty_blob = digest_of(&[vec![Value::Blob(Vec::new())]]);
        let zero = digest_of(&[vec![Value::Integer(0)]]);
        let all = [null, empty_text, empty_blob, zero];
        for (i, a) in all.iter().enumerate() {
            for (j, b) in all.iter().enumerate() {
                assert!(i == j || a.1 != b.1, "{i} and {j} digest alike");
            }
        }
        // The same bytes as text and as a blob differ too.
        assert_ne!(digest_of(&[vec![Value::Text("ab".into())]]), digest_of(&[vec![Value::Blob(b"ab".to_vec())]]));
    }

    #[test]
    fn the_digest_sees_rows_swapped_and_values_moved_across_columns() {
        let r1 = row(1, "a", b"1");
        let r2 = row(2, "b", b"2");
        assert_ne!(digest_of(&[r1.clone(), r2.clone()]), digest_of(&[r2, r1]));
        // Lengths are encoded: "ab" + "" is not "a" + "b".
        let split = |x: &str, y: &str| digest_of(&[vec![Value::Text(x.into()), Value::Text(y.into())]]);
        assert_ne!(split("ab", ""), split("a", "b"));
        assert_eq!(digest_of(&[]).0, 0);
    }
}
