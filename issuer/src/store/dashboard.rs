//! The console dashboard's counts: each one indexed query, so the first
//! page staff open stays fast however large the records grow.

use super::sql::params;
use fanlic_formats::{Date, Timestamp};

use super::{Tx, err, int};
use crate::Error;

/// An enabled contract whose live licenses are close to its maximum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearLimit {
    /// The contract's number.
    pub id: i64,
    /// Its company (empty past the first ones asked for).
    pub company: String,
    /// Its live licenses (projects).
    pub live: u64,
    /// How many it allows.
    pub max_licenses: u64,
}

/// Near the limit: at least 80 % of the maximum, or one short of it.
const NEAR: &str =
    "c.enabled = 1 AND n.live > 0 AND (n.live * 5 >= c.max_licenses * 4 OR n.live >= c.max_licenses - 1)";

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Tx<'_> {
    fn count_of(&self, sql: &str, ps: impl super::sql::Params) -> Result<u64, Error> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row(ps, |r| r.get::<_, i64>(0)))
            .map(count)
            .map_err(err(self.path, "cannot read the dashboard counts"))
    }

    /// Licenses issued at or after `since`.
    pub fn licenses_issued_since(&self, since: Timestamp) -> Result<u64, Error> {
        self.count_of("SELECT count(*) FROM licenses WHERE issued_at >= ?1", params![int(since.0)])
    }

    /// Live licenses whose expiry date is between `from` and `to` (both
    /// included); those that never expire are not counted.
    pub fn live_expiring_between(&self, from: Date, to: Date) -> Result<u64, Error> {
        // Dates are stored as YYYY-MM-DD, so text order is date order, and
        // `never` sorts after every date.
        self.count_of(
            "SELECT count(*) FROM licenses WHERE state = 'live' AND expiry >= ?1 AND expiry <= ?2",
            params![from.to_string(), to.to_string()],
        )
    }

    /// Every enabled contract near its license count, fewest left first,
    /// with the companies of the first `named` only: one pass over the
    /// companies that hold live licenses, each looked up in an index that
    /// holds what the test needs.
    pub fn contracts_near_limit(&self, named: usize) -> Result<Vec<NearLimit>, Error> {
        let read = || err(self.path, "cannot read the dashboard counts");
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT c.contract_id, n.live, c.max_licenses
                 FROM live_license_counts n CROSS JOIN contracts c ON c.company_key = n.company_key
                 WHERE {NEAR}"
            ))
            .map_err(read())?;
        let rows = stmt
            .query_map(params![], |r| {
                Ok(NearLimit {
                    id: r.get(0)?,
                    company: String::new(),
                    live: count(r.get(1)?),
                    max_licenses: count(r.get(2)?),
                })
            })
            .map_err(read())?;
        let mut near = rows.collect::<Result<Vec<_>, _>>().map_err(read())?;
        near.sort_by_key(|n| (n.max_licenses.saturating_sub(n.live), n.id));
        let mut company =
            self.conn.prepare_cached("SELECT company FROM contracts WHERE contract_id = ?1").map_err(read())?;
        for n in near.iter_mut().take(named) {
            n.company = company.query_row(params![n.id], |r| r.get(0)).map_err(read())?;
        }
        Ok(near)
    }
}
