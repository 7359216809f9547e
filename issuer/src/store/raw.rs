//! The store's methods as free functions over a raw connection, for the
//! callers that still hold one (`Store::raw_mut`); they go with it.

use std::path::Path;

use rusqlite::Connection;

use super::{IssuingKeyRow, LicenseState, Tx};
use crate::Error;

/// [`Tx::setting`].
pub(crate) fn setting(conn: &Connection, path: &Path, name: &str) -> Result<Option<String>, Error> {
    Tx::over(conn, path).setting(name)
}

/// [`Tx::receipt_keys`].
pub(crate) fn receipt_keys(conn: &Connection, path: &Path) -> Result<Vec<IssuingKeyRow>, Error> {
    Tx::over(conn, path).receipt_keys()
}

/// [`Tx::set_license_state`].
pub(crate) fn set_state(conn: &Connection, path: &Path, license_id: &str, state: LicenseState) -> Result<(), Error> {
    Tx::over(conn, path).set_license_state(license_id, state)
}

/// What a unit of work can be handed over as: a [`Tx`], or a raw SQLite
/// transaction of a caller that still holds one.
pub trait UnitOfWork {
    /// Runs `f` on this unit of work.
    fn with_tx<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error>;
}

impl UnitOfWork for Tx<'_> {
    fn with_tx<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        f(self)
    }
}

impl UnitOfWork for rusqlite::Transaction<'_> {
    fn with_tx<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        // The database file, for messages, as SQLite knows it.
        let path = self.path().map(std::path::PathBuf::from).unwrap_or_default();
        f(&Tx::over(self, &path))
    }
}
