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
//! - `audit`: the audit trail, written in the same transaction as the change.
//!
//! The store is synchronous; async callers reach it through a database
//! thread. A second backend (PostgreSQL) implements the same `Tx` methods:
//! nothing outside this folder names the backend.

pub mod audit;
pub mod bindings;
mod contracts;
pub mod dashboard;
pub mod decisions;
mod keys;
mod licenses;
mod outbox;
pub mod reasons;
pub mod receipts;
mod revocations;
mod schema;
mod settings;
pub mod staff;

use crate::error::StoreError;
use std::path::{Path, PathBuf};

use fanlic_formats::Timestamp;
use rusqlite::Connection;

use crate::Error;

pub use contracts::*;
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
/// reads, e.g. `Inserted::Already`), so a second backend (PostgreSQL) fits
/// behind the same methods.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
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

impl Store {
    /// Opens (`create`: creates) the database and brings its schema up to date.
    pub fn open(path: &Path, create: bool) -> Result<Self, Error> {
        Ok(Self { conn: schema::open(path, create)?, path: path.to_owned() })
    }

    /// The database file (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one transaction that takes the write lock first and
    /// commits when `f` returns `Ok`; on `Err` nothing of it is kept.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let path = self.path.as_path();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err(path, "cannot start a transaction"))?;
        let out = f(&Tx { conn: &tx, path })?;
        tx.commit().map_err(err(path, "cannot commit"))?;
        Ok(out)
    }

    /// Runs `f` on one consistent view of the records; writes nothing.
    pub fn read<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let path = self.path.as_path();
        let tx = self.conn.unchecked_transaction().map_err(err(path, "cannot start a transaction"))?;
        let out = f(&Tx { conn: &tx, path })?;
        tx.finish().map_err(err(path, "cannot end a transaction"))?;
        Ok(out)
    }
}

impl<'s> Tx<'s> {
    /// Runs `f` under a savepoint: when it fails, what it did is undone and
    /// the rest of the transaction goes on (`fanlic ingest` decides each
    /// message of a batch this way).
    pub fn savepoint<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        // Prepared once per connection: `fanlic ingest` takes one per message.
        let run = |sql: &str, what| {
            self.conn.prepare_cached(sql).and_then(|mut s| s.execute([])).map(drop).map_err(err(self.path, what))
        };
        run("SAVEPOINT fanlic", "cannot take a savepoint")?;
        match f(self) {
            Ok(out) => {
                run("RELEASE fanlic", "cannot release a savepoint")?;
                Ok(out)
            }
            Err(e) => {
                run("ROLLBACK TO fanlic", "cannot roll back a savepoint")?;
                run("RELEASE fanlic", "cannot release a savepoint")?;
                Err(e)
            }
        }
    }

    /// The database file (for messages).
    pub fn path(&self) -> &Path {
        self.path
    }
}

/// The database file inside a home.
pub const FILE_NAME: &str = "fanlic.db";

/// A database error with context.
pub(crate) fn err(path: &Path, action: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Store(StoreError::Database { action, path, source: source.into() })
}

/// SQLite integers are signed; our times are small positive numbers.
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
