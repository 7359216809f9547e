//! What several `fanlic serve` instances on one database share besides the
//! records: the check value of each secret they must hold alike
//! (`instance_secrets`), and the counts of the rate limits
//! (`rate_limits`), so that two instances enforce one limit.

use std::collections::HashMap;

use super::sql::{OptionalExtension as _, Value, params};
use super::{Tx, err, int, schema};
use crate::Error;

/// Rate limit counts added per statement (4 parameters each: well under
/// SQLite's and PostgreSQL's limits).
pub const COUNTS_PER_STATEMENT: usize = 200;

/// A secret as the first instance recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedSecret {
    /// The secret's version.
    pub version: u32,
    /// A MAC under the secret of a fixed label (never the secret).
    pub check_value: Vec<u8>,
    /// When it was recorded (Unix seconds).
    pub recorded_at: u64,
    /// Who recorded it (host and home).
    pub recorded_by: String,
}

/// One increment of a rate limit's count.
#[derive(Clone, Debug)]
pub struct RateCount {
    /// `license`, `client` or `forged`.
    pub scope: &'static str,
    /// The license id or the client address.
    pub key: String,
    /// The window's start (Unix seconds).
    pub window_start: u64,
    /// Requests to add.
    pub add: u32,
}

impl Tx<'_> {
    /// The secret recorded under `name`, after recording `mine` when none
    /// was: the first instance's secret is the one every other must hold.
    pub fn record_instance_secret(&self, name: &str, mine: &RecordedSecret) -> Result<RecordedSecret, Error> {
        let write = || err(self.path, "cannot record the instance's secret");
        self.conn
            .prepare_cached(
                "INSERT INTO instance_secrets (name, version, check_value, recorded_at, recorded_by)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    name,
                    i64::from(mine.version),
                    mine.check_value.as_slice(),
                    int(mine.recorded_at),
                    mine.recorded_by.as_str()
                ])
            })
            .map_err(write())?;
        let read = || err(self.path, "cannot read the instance's secret");
        let row: Option<(i64, Vec<u8>, i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT version, check_value, recorded_at, recorded_by FROM instance_secrets WHERE name = ?1",
            )
            .and_then(|mut s| {
                s.query_row(params![name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).optional()
            })
            .map_err(read())?;
        let Some((version, check_value, at, by)) = row else {
            return Err(super::corrupt(self.path, format!("instance secret {name} vanished after it was recorded")));
        };
        Ok(RecordedSecret {
            version: u32::try_from(version)
                .map_err(|_| super::corrupt(self.path, format!("secret version {version}")))?,
            check_value,
            recorded_at: u64::try_from(at).unwrap_or(0),
            recorded_by: by,
        })
    }

    /// Adds each count to its window's row (made when absent) and returns
    /// the rows' totals, every instance's counts, in the same order. A few
    /// statements for any number of counts (one per [`COUNTS_PER_STATEMENT`]):
    /// the sync holds the write lock every writer takes.
    pub fn add_rate_counts(&self, counts: &[RateCount]) -> Result<Vec<u64>, Error> {
        let write = || err(self.path, "cannot count a rate limit");
        // Rows are written in one order by every instance, so that two
        // syncs at once wait for each other instead of deadlocking.
        let mut sorted: Vec<&RateCount> = counts.iter().collect();
        sorted.sort_by(|a, b| (a.scope, &a.key, a.window_start).cmp(&(b.scope, &b.key, b.window_start)));
        let mut all: HashMap<(String, String, i64), i64> = HashMap::with_capacity(counts.len());
        for chunk in sorted.chunks(COUNTS_PER_STATEMENT) {
            let mut sql = String::from("INSERT INTO rate_limits (scope, key, window_start, count) VALUES ");
            let mut values = Vec::with_capacity(chunk.len() * 4);
            for (i, c) in chunk.iter().enumerate() {
                let n = i * 4;
                let sep = if i == 0 { "" } else { ", " };
                sql.push_str(&format!("{sep}(?{}, ?{}, ?{}, ?{})", n + 1, n + 2, n + 3, n + 4));
                values.extend([
                    Value::Text(c.scope.to_owned()),
                    Value::Text(c.key.clone()),
                    Value::Integer(int(c.window_start)),
                    Value::Integer(i64::from(c.add)),
                ]);
            }
            // Each row once per statement (the callers' keys are distinct),
            // as ON CONFLICT DO UPDATE requires.
            sql.push_str(
                " ON CONFLICT (scope, key, window_start) DO UPDATE SET count = rate_limits.count + excluded.count
                 RETURNING scope, key, window_start, count",
            );
            let mut totals: HashMap<(String, String, i64), i64> = HashMap::with_capacity(chunk.len());
            let mut stmt = self.conn.prepare(&sql).map_err(write())?;
            let mut rows = stmt.query(values.as_slice()).map_err(write())?;
            while let Some(r) = rows.next().map_err(write())? {
                let key = (r.get(0).map_err(write())?, r.get(1).map_err(write())?, r.get(2).map_err(write())?);
                totals.insert(key, r.get(3).map_err(write())?);
            }
            all.extend(totals);
        }
        let mut out = Vec::with_capacity(counts.len());
        for c in counts {
            let total = all.get(&(c.scope.to_owned(), c.key.clone(), int(c.window_start))).copied();
            let Some(total) = total else {
                return Err(super::corrupt(self.path, format!("no count returned for {} {}", c.scope, c.key)));
            };
            out.push(u64::try_from(total).unwrap_or(0));
        }
        Ok(out)
    }

    /// Removes the counts of windows that started before `before`.
    pub fn prune_rate_counts(&self, before: u64) -> Result<usize, Error> {
        self.conn
            .prepare_cached("DELETE FROM rate_limits WHERE window_start < ?1")
            .and_then(|mut s| s.execute(params![int(before)]))
            .map_err(err(self.path, "cannot remove old rate limit counts"))
    }

    /// The schema version of the database, and the one this build writes.
    pub fn schema_versions(&self) -> Result<(i64, i64), Error> {
        schema::status(self.conn, self.path).map(|s| (s.version, s.latest))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code
    use super::*;
    use crate::store::{Database, Store};

    /// More counts than one statement takes, twice: every total comes back
    /// in order, the second time doubled; and the first secret recorded stays.
    fn counts_and_secrets(mut store: Store) {
        let counts: Vec<RateCount> = (0..COUNTS_PER_STATEMENT * 2 + 7)
            .map(|i| RateCount {
                scope: if i % 3 == 0 { "license" } else { "client" },
                key: format!("key-{i}"),
                window_start: 3600,
                add: u32::try_from(i % 5 + 1).unwrap(),
            })
            .collect();
        let first = store.write(|tx| tx.add_rate_counts(&counts)).unwrap();
        let want: Vec<u64> = counts.iter().map(|c| u64::from(c.add)).collect();
        assert_eq!(first, want);
        let second = store.write(|tx| tx.add_rate_counts(&counts)).unwrap();
        assert_eq!(second, want.iter().map(|n| n * 2).collect::<Vec<_>>());
        assert_eq!(store.write(|tx| tx.prune_rate_counts(3601)).unwrap(), counts.len());

        let mine = RecordedSecret { version: 2, check_value: vec![1; 32], recorded_at: 5, recorded_by: "a".into() };
        let other = RecordedSecret { version: 3, check_value: vec![2; 32], recorded_at: 6, recorded_by: "b".into() };
        assert_eq!(store.write(|tx| tx.record_instance_secret("activation-master", &mine)).unwrap(), mine);
        assert_eq!(store.write(|tx| tx.record_instance_secret("activation-master", &other)).unwrap(), mine);
        let (version, latest) = store.read(|tx| tx.schema_versions()).unwrap();
        assert_eq!(version, latest);
    }

    #[test]
    fn rate_counts_and_secrets_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        counts_and_secrets(Store::open(&dir.path().join("fanlic.db"), true).unwrap());
    }

    #[test]
    fn rate_counts_and_secrets_on_postgres() {
        let pg = fanlic_testkit::postgres::PgCluster::shared();
        let url = pg.tls_url(&pg.new_database()).parse().unwrap();
        counts_and_secrets(Store::open_database(&Database::Postgres(url), true).unwrap());
    }
}
