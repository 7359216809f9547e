//! The one layer that reads and writes the vendor's records. Everything
//! else calls typed methods on a unit of work ([`Tx`]) and never sees SQL,
//! a connection, or backend-only behaviour: each file here owns the rows
//! of one area.
//!
//! - `schema`: migrations numbered by `PRAGMA user_version`, and opening.
//! - `keys`: root, issuing and receipt key rows.
//! - `settings`: the home's settings and trusted authserv ids.
//! - `licenses`: issued licenses, their [`LicenseState`], the one-live rule.
//! - `contracts`: the contract registry and its company key.
//! - `outbox`: the reply queue and its [`OutboxStatus`].
//! - `revocations`: revoked licenses and keys, revocation lists, bindings undone.
//! - `decisions`: decisions on registration mail and their [`DecisionKind`];
//!   `reasons`: the [`ReasonCode`]s a decision carries.
//! - `bindings`: what `fanlic serve` binds and records of activations.
//! - `receipts`: activation receipts, the alerts staff read, lease reminders.
//! - `staff`: staff accounts, console sessions, failed logins.
//! - `instances`: secrets' check values and rate limit counts `fanlic serve` instances share.
//! - `audit`: the audit trail, written in the same transaction as the change.
//! - `copy`: `fanlic db`: a database's state read without migrating it,
//!   migrating it, and copying a home's SQLite records into PostgreSQL.
//!
//! The store is synchronous; async callers reach it through a database
//! thread. A second backend (PostgreSQL) implements the same `Tx` methods:
//! nothing outside this folder names the backend.

pub mod audit;
pub mod bindings;
mod contracts;
mod copy;
pub mod dashboard;
pub mod decisions;
pub mod instances;
mod keys;
mod licenses;
mod outbox;
pub mod reasons;
pub mod receipts;
pub mod requests;
mod revocations;
mod schema;
mod settings;
pub(crate) mod sql;
pub mod staff;

use crate::error::StoreError;
use std::path::{Path, PathBuf};

use fanlic_formats::Timestamp;
use sql::{Connection, params};
use std::sync::Arc;

use crate::Error;

pub use contracts::*;
pub use copy::{
    CopyReport, DbStatus, InstanceSecret, MigrateReport, MigrationStep, RecordedKey, TableCopy, TableRows,
    copy_database, db_migrate, db_status,
};
pub use decisions::DecisionKind;
pub use keys::{IssuingKeyRow, RECEIPT_PURPOSE, RootKeyRow};
pub use licenses::*;
pub use outbox::*;
pub use reasons::ReasonCode;
pub use revocations::*;
pub use schema::SCHEMA_VERSION;
pub use staff::{Role, StaffAccount, StaffSession};

/// The home's database. Every read and write of the vendor's records goes
/// through it, one unit of work at a time: [`Store::write`] commits
/// everything its closure did or nothing, [`Store::read`] sees one
/// consistent state. Callers never see the backend: no SQL, no connection,
/// no SQLite-only behaviour (an `INSERT OR IGNORE` is a result the caller
/// reads, e.g. `Inserted::Already`).
///
/// Two backends: SQLite in the home (the default, nothing to set up), or
/// PostgreSQL shared by several processes on several machines
/// ([`Database::Postgres`]). On PostgreSQL the writers of every process
/// take one lock (an advisory transaction lock) as SQLite's writers take
/// its write lock, so each write sees every write before it; what must
/// hold whatever happens (one decision per request, one live license per
/// project, one binding per license, one revocation list per sequence
/// number) is a constraint of the schema all the same.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
    path: PathBuf,
}

#[derive(Debug)]
#[expect(clippy::large_enum_variant, reason = "one per store, never copied")]
enum Backend {
    Sqlite(Connection),
    Postgres(Arc<sql::pg::Pool>),
}

/// Where a home's records are.
#[derive(Clone, Debug)]
#[expect(clippy::large_enum_variant, reason = "made once per process")]
pub enum Database {
    /// A SQLite file (the home's `fanlic.db`).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its URL.
    Postgres(PostgresUrl),
}

/// A checked `postgres://` URL. Its password is never shown: [`Display`]
/// and `Debug` print `postgres://user@host:port/db`.
///
/// [`Display`]: core::fmt::Display
#[derive(Clone)]
pub struct PostgresUrl(sql::pg::Target);

impl core::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0.shown)
    }
}

impl core::fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0.shown)
    }
}

impl core::str::FromStr for PostgresUrl {
    type Err = String;

    /// Parses `postgres://user:password@host:port/db?sslmode=…&sslrootcert=FILE`.
    fn from_str(url: &str) -> Result<Self, String> {
        sql::pg::Target::parse(url).map(PostgresUrl)
    }
}

/// One unit of work, given to the closure of [`Store::write`] or
/// [`Store::read`]. The record methods (licenses, decisions, outbox,
/// contracts, revocations, bindings, audit, settings) are defined on it in
/// this folder's files.
#[derive(Debug)]
pub struct Tx<'s> {
    conn: &'s Connection,
    path: &'s Path,
}

/// How long a PostgreSQL writer waits for the write lock (milliseconds),
/// as SQLite's writers wait (`busy_timeout`) but longer: a batch of
/// `fanlic ingest` on another host holds it for its whole transaction.
const WRITE_LOCK_WAIT_MS: u32 = 60_000;

/// The namespace of the per-license advisory locks ("fl").
const LICENSE_LOCKS: i32 = 0x666c;

/// The advisory lock every PostgreSQL writer takes (the bytes of "fanlic").
const WRITE_LOCK: i64 = 0x0000_6661_6e6c_6963;

impl Store {
    /// Opens (`create`: creates) the SQLite database and brings its schema up to date.
    pub fn open(path: &Path, create: bool) -> Result<Self, Error> {
        Ok(Self { backend: Backend::Sqlite(schema::open(path, create)?), path: path.to_owned() })
    }

    /// Opens the database `db` names and brings its schema up to date.
    pub fn open_database(db: &Database, create: bool) -> Result<Self, Error> {
        match db {
            Database::Sqlite(path) => Self::open(path, create),
            Database::Postgres(url) => {
                let pool = sql::pg::Pool::shared(&url.0);
                let path = PathBuf::from(pool.shown());
                let store = Self { backend: Backend::Postgres(pool), path };
                store.with_postgres(|conn| schema::migrate_postgres(conn, &store.path))?;
                Ok(store)
            }
        }
    }

    /// The database file, or the PostgreSQL URL without its password (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The SQLite connection, for what only SQLite has (pragmas).
    fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.backend {
            Backend::Sqlite(c) => c.sqlite(),
            Backend::Postgres(_) => None,
        }
    }

    /// Whether the records are in PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Runs `f` on a pooled PostgreSQL connection, outside any transaction
    /// of the store's; the connection goes back to the pool after.
    fn with_postgres<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        let Backend::Postgres(pool) = &self.backend else { unreachable!("called for PostgreSQL only") };
        let conn = Connection::Postgres(std::sync::Mutex::new(pool.get().map_err(err(&self.path, "cannot connect"))?));
        let out = f(&conn);
        if let Connection::Postgres(c) = conn {
            pool.put(c.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner));
        }
        out
    }

    /// Runs `f` in one transaction that takes the write lock first and
    /// commits when `f` returns `Ok`; on `Err` nothing of it is kept.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let path = self.path.as_path();
        match &self.backend {
            Backend::Sqlite(conn) => {
                let lite = conn.sqlite().unwrap_or_else(|| unreachable!("a SQLite backend"));
                lite.execute_batch("BEGIN IMMEDIATE").map_err(|e| err(path, "cannot start a transaction")(e.into()))?;
                let out = f(&Tx { conn, path });
                finish_sqlite(lite, path, out)
            }
            Backend::Postgres(_) => self.with_postgres(|conn| {
                // The wait for the write lock may outlast a statement's
                // timeout (another process's batch is committing); the
                // timeout applies again to what follows.
                conn.execute_batch(&format!(
                    "BEGIN; SET LOCAL statement_timeout = {WRITE_LOCK_WAIT_MS};
                     SELECT pg_advisory_xact_lock({WRITE_LOCK}); SET LOCAL statement_timeout TO DEFAULT"
                ))
                .map_err(err(path, "cannot start a transaction"))?;
                let out = f(&Tx { conn, path });
                finish_postgres(conn, path, out)
            }),
        }
    }

    /// [`Store::write`] for work that changes only what belongs to
    /// `licenses` (their bindings, activations, receipts) and counters
    /// that add up whatever the order (`fanlic serve`'s batches). On
    /// PostgreSQL it takes the write lock shared, and a lock of each
    /// license (in one order), so that instances serving other licenses
    /// work at once, while every other writer (which takes the write lock
    /// whole) still runs alone; on SQLite it is [`Store::write`].
    pub fn write_for_licenses<T>(
        &mut self,
        licenses: &[fanlic_formats::LicenseId],
        f: impl FnOnce(&Tx<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if !self.is_postgres() {
            return self.write(f);
        }
        let mut ids: Vec<String> = licenses.iter().map(ToString::to_string).collect();
        ids.sort_unstable();
        ids.dedup();
        // License ids are 32 hex digits (their Display): safe in the text.
        let locks: String =
            ids.iter().map(|id| format!("SELECT pg_advisory_xact_lock({LICENSE_LOCKS}, hashtext('{id}'));")).collect();
        let path = self.path.as_path();
        self.with_postgres(|conn| {
            conn.execute_batch(&format!(
                "BEGIN; SET LOCAL statement_timeout = {WRITE_LOCK_WAIT_MS};
                 SELECT pg_advisory_xact_lock_shared({WRITE_LOCK}); {locks}
                 SET LOCAL statement_timeout TO DEFAULT"
            ))
            .map_err(err(path, "cannot start a transaction"))?;
            let out = f(&Tx { conn, path });
            finish_postgres(conn, path, out)
        })
    }

    /// On PostgreSQL, refreshes the planner's statistics of the tables a
    /// registration mail writes once they changed by half since the last
    /// (each doubling of a table: a few times in all). A table that grew
    /// from empty within a minute (before autovacuum looks) is otherwise
    /// planned as empty, and a live-license lookup walks the wrong index.
    /// Nothing on SQLite. A failure is not an error: the plans stay.
    pub fn refresh_statistics(&self) {
        if !self.is_postgres() {
            return;
        }
        let _ = self.with_postgres(|conn| {
            let stale: Vec<String> = conn
                .prepare(
                    "SELECT relname::text FROM pg_stat_user_tables
                     WHERE relname IN ('licenses', 'decisions', 'audit', 'outbox', 'outbox_attachments')
                       AND n_mod_since_analyze > greatest(n_live_tup, 200) / 2",
                )
                .and_then(|mut st| st.query_map(params![], |r| r.get(0))?.collect())
                .map_err(err(&self.path, "cannot read the statistics"))?;
            for table in stale {
                // Our own table names, from the list above.
                conn.execute_batch(&format!("ANALYZE {table}")).map_err(err(&self.path, "cannot analyze"))?;
            }
            Ok(())
        });
    }

    /// Runs `f` on one consistent view of the records; writes nothing.
    pub fn read<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let path = self.path.as_path();
        match &self.backend {
            Backend::Sqlite(conn) => {
                let lite = conn.sqlite().unwrap_or_else(|| unreachable!("a SQLite backend"));
                lite.execute_batch("BEGIN DEFERRED").map_err(|e| err(path, "cannot start a transaction")(e.into()))?;
                let out = f(&Tx { conn, path });
                finish_sqlite(lite, path, out)
            }
            Backend::Postgres(_) => self.with_postgres(|conn| {
                conn.execute_batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .map_err(err(path, "cannot start a transaction"))?;
                let out = f(&Tx { conn, path });
                finish_postgres(conn, path, out)
            }),
        }
    }
}

/// Commits when `out` is `Ok`, rolls back when not.
fn finish_sqlite<T>(lite: &rusqlite::Connection, path: &Path, out: Result<T, Error>) -> Result<T, Error> {
    match out {
        Ok(v) => match lite.execute_batch("COMMIT") {
            Ok(()) => Ok(v),
            Err(e) => {
                let _ = lite.execute_batch("ROLLBACK");
                Err(err(path, "cannot commit")(e.into()))
            }
        },
        Err(e) => {
            // Nothing to keep; a failed rollback leaves no transaction open either.
            let _ = lite.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn finish_postgres<T>(conn: &Connection, path: &Path, out: Result<T, Error>) -> Result<T, Error> {
    match out {
        Ok(v) => conn.execute_batch("COMMIT").map(|()| v).map_err(err(path, "cannot commit")),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

impl<'s> Tx<'s> {
    /// Runs `f` under a savepoint: when it fails, what it did is undone and
    /// the rest of the transaction goes on (`fanlic ingest` decides each
    /// message of a batch this way).
    pub fn savepoint<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        // Prepared once per connection: `fanlic ingest` takes one per message.
        let run = |sql: &str, what| match self.conn.dialect() {
            sql::Dialect::Sqlite => self
                .conn
                .prepare_cached(sql)
                .and_then(|mut s| s.execute(params![]))
                .map(drop)
                .map_err(err(self.path, what)),
            sql::Dialect::Postgres => self.conn.execute_batch(sql).map_err(err(self.path, what)),
        };
        match self.conn.dialect() {
            sql::Dialect::Sqlite => run("SAVEPOINT fanlic", "cannot take a savepoint")?,
            // Sent with the unit's first statement when writes are deferred.
            sql::Dialect::Postgres => self
                .conn
                .execute_batch_deferred("SAVEPOINT fanlic", "cannot take a savepoint")
                .map_err(err(self.path, "cannot take a savepoint"))?,
        }
        // The release waits for the answers of the unit's deferred writes:
        // one that failed fails the unit, which is rolled back alone.
        match f(self).and_then(|out| run("RELEASE fanlic", "cannot record").map(|()| out)) {
            Ok(out) => Ok(out),
            Err(e) => {
                // The unit's writes still unanswered are rolled back with it.
                self.conn.settle_deferred();
                run("ROLLBACK TO fanlic", "cannot roll back a savepoint")?;
                run("RELEASE fanlic", "cannot release a savepoint")?;
                Err(e)
            }
        }
    }

    /// Runs `f` with the writes that support it deferred (PostgreSQL):
    /// each is sent without waiting for its answer, which comes with the
    /// next statement that is waited for (a read, a savepoint's release,
    /// the end of `f`); new rows' ids are taken ahead from their
    /// sequences. `fanlic ingest` makes two round trips per mail this way.
    /// A deferred write that fails is the error of that next statement.
    /// On SQLite, `f` runs as it is.
    pub fn deferring<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        self.conn.deferring(true).map_err(err(self.path, "cannot defer writes"))?;
        let out = f(self);
        let end = self.conn.deferring(false).map_err(err(self.path, "cannot record"));
        let out = out?;
        end?;
        Ok(out)
    }

    /// The database file (for messages).
    pub fn path(&self) -> &Path {
        self.path
    }
}

/// The database file inside a home.
pub const FILE_NAME: &str = "fanlic.db";

/// A database error with context; the database out of reach is
/// [`StoreError::Unavailable`], which a service answers with 503.
pub(crate) fn err(path: &Path, action: &'static str) -> impl FnOnce(sql::Error) -> Error {
    let path = path.to_owned();
    move |source| {
        if source.is_unavailable() {
            Error::Store(StoreError::Unavailable { action, path, source: source.into() })
        } else {
            Error::Store(StoreError::Database { action, path, source: source.into() })
        }
    }
}

/// [`err`] for a call on the SQLite connection itself (pragmas).
pub(crate) fn lite_err(path: &Path, action: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
    let f = err(path, action);
    move |e| f(e.into())
}

/// Database integers are signed; our times are small positive numbers.
pub(crate) fn int(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

pub(crate) fn corrupt(path: &Path, what: impl Into<String>) -> Error {
    Error::Store(StoreError::Corrupt { path: path.to_owned(), what: what.into() })
}

/// A time read back from a column: negative means a corrupt database.
pub(crate) fn time(path: &Path, v: i64) -> Result<Timestamp, Error> {
    u64::try_from(v).map(Timestamp).map_err(|_| corrupt(path, format!("negative time {v}")))
}

/// SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use super::*;
    use audit::{Action, Entry};

    /// Three units under savepoints with writes deferred; the second's
    /// last write fails only when the server answers (a duplicate key):
    /// that unit alone is rolled back, the others commit.
    fn a_deferred_write_that_fails_fails_its_unit_alone(mut store: Store) {
        let note =
            |tx: &Tx<'_>, why: &str| tx.audit(&Entry { why, ..Entry::new(Action::Ignored, "test", Timestamp(1)) });
        let twice = |tx: &Tx<'_>| -> Result<(), Error> {
            for _ in 0..2 {
                tx.conn
                    .prepare_cached("INSERT INTO audit (audit_id, at, by, action, why) VALUES (?1, 1, 't', 't', 't')")
                    .and_then(|mut s| s.execute_deferred(params![1_000_000_i64], "the test's row"))
                    .map_err(err(tx.path, "cannot write"))?;
            }
            Ok(())
        };
        let results = store
            .write(|tx| {
                tx.deferring(|tx| {
                    let a = tx.savepoint(|tx| note(tx, "first"));
                    let b = tx.savepoint(|tx| {
                        note(tx, "second")?;
                        twice(tx)
                    });
                    let c = tx.savepoint(|tx| note(tx, "third"));
                    Ok([a.map_err(|e| e.to_string()), b.map_err(|e| e.to_string()), c.map_err(|e| e.to_string())])
                })
            })
            .unwrap();
        assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
        let refused = results[1].as_ref().unwrap_err();
        if store.is_postgres() {
            assert!(refused.contains("the test's row") && refused.contains("duplicate key"), "{refused}");
        }
        let whys: Vec<String> =
            store.read(|tx| tx.audit_trail(&audit::Filter::default())).unwrap().into_iter().map(|e| e.why).collect();
        assert_eq!(whys, ["first", "third"]);
    }

    #[test]
    fn deferred_writes_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        a_deferred_write_that_fails_fails_its_unit_alone(Store::open(&dir.path().join("fanlic.db"), true).unwrap());
    }

    #[test]
    fn deferred_writes_on_postgres() {
        let pg = fanlic_testkit::postgres::PgCluster::shared();
        let url = pg.tls_url(&pg.new_database()).parse().unwrap();
        a_deferred_write_that_fails_fails_its_unit_alone(Store::open_database(&Database::Postgres(url), true).unwrap());
    }
}
