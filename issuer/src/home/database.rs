//! Where a home's records are (its `fanlic.db`, or the PostgreSQL database
//! `--database` names), and `fanlic db copy` of a home's SQLite records.

use std::path::Path;

use super::{DATABASE_FILE, database};
use crate::Error;
use crate::error::HomeError;
use crate::store::{self, CopyReport, Database, PostgresUrl};

/// Where the records of the home at `dir` are: the database given with
/// `--database` / `FANLIC_DATABASE_URL`, else the home's `fanlic.db`.
pub fn home_database(dir: &Path) -> Result<Database, Error> {
    if let Some(url) = database() {
        return Ok(Database::Postgres(url.clone()));
    }
    let dir = std::path::absolute(dir).map_err(Error::io("cannot resolve", dir))?;
    let file = dir.join(store::FILE_NAME);
    if file.is_file() {
        return Ok(Database::Sqlite(file));
    }
    if let Ok(url) = std::fs::read_to_string(dir.join(DATABASE_FILE)) {
        return Err(Error::Home(HomeError::DatabaseNotGiven { path: dir, database: url.trim().to_owned() }));
    }
    Err(Error::Home(HomeError::Missing { path: dir }))
}

/// `fanlic db copy`: copies the records of the home at `dir` (its
/// `fanlic.db`, brought up to date first) into the empty PostgreSQL
/// database `to`, then verifies every table; `progress` hears a line per
/// table (and per 50,000 rows of a big one).
pub fn copy_home(dir: &Path, to: &PostgresUrl, progress: &mut dyn FnMut(&str)) -> Result<CopyReport, Error> {
    let dir_abs = std::path::absolute(dir).map_err(Error::io("cannot resolve", dir))?;
    let refuse = |database: String| {
        Error::input(
            "--home",
            &dir_abs.display().to_string(),
            format!(
                "the home's records are already in PostgreSQL ({database}); `fanlic db copy` moves a home's \
                 fanlic.db (SQLite) into PostgreSQL. To copy one PostgreSQL database into another, use \
                 pg_dump and pg_restore"
            ),
        )
    };
    let source = match home_database(&dir_abs) {
        Ok(Database::Sqlite(file)) => file,
        Ok(Database::Postgres(url)) => return Err(refuse(url.to_string())),
        Err(Error::Home(HomeError::DatabaseNotGiven { database, .. })) => return Err(refuse(database)),
        Err(e) => return Err(e),
    };
    store::copy_database(&source, to, progress)
}
