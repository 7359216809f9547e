//! What recording one registration reads before it writes, in **one**
//! statement: an earlier decision of the same message, a held decision of
//! the same request, whether the reply's recipient is an enabled
//! contract's address, and the project's live license (or the oldest live
//! one whose project folds to the same key) with the company's live count.
//! `fanlic ingest` reads them for every mail under the write lock; on
//! PostgreSQL each statement is a round trip.

use super::decisions::{EarlierDecision, kind_of};
use super::licenses::{LiveLicense, live_row_at};
use super::sql::params;
use super::{Tx, company_key, err};
use crate::Error;
use fanlic_formats::Timestamp;

/// What to look up for one request.
#[derive(Clone, Copy, Debug)]
pub struct RequestKeys<'a> {
    /// The message's dedup key (see `Tx::earlier_decision`).
    pub dedup_key: &'a str,
    /// Whether its sender was authenticated.
    pub authenticated: bool,
    /// Its request key (`live::request_key`), for a held decision of the same request.
    pub request_key: Option<&'a str>,
    /// The reply's recipient, normalized, for the contract check.
    pub reply_to: Option<&'a str>,
    /// The company, application and project it asks a license for.
    pub project: Option<(&'a str, &'a str, &'a str)>,
}

/// What [`Tx::request_lookup`] found.
#[derive(Clone, Debug)]
pub struct RequestLookup {
    /// The earlier decision of the same message (as `Tx::earlier_decision`).
    pub earlier: Option<EarlierDecision>,
    /// The held decision of the same request (as `Tx::held_request`).
    pub held: Option<i64>,
    /// Whether an enabled contract holds the reply's recipient (as
    /// `Tx::is_enabled_contract_email`); false without a recipient.
    pub reply_to_contract: bool,
    /// The project's live license if it has one, else the oldest live
    /// license of the company and application whose project folds to the
    /// same key (as `Tx::live_license`, then `Tx::similar_live_license`).
    pub live: Option<LiveLicense>,
    /// The company's live licenses (as `Tx::live_license_count`).
    pub live_count: u64,
}

impl Tx<'_> {
    /// Reads what recording a request needs (see [`RequestLookup`]) in one
    /// statement.
    pub fn request_lookup(&self, k: &RequestKeys<'_>) -> Result<RequestLookup, Error> {
        let (company, app, project) = match k.project {
            Some((c, a, p)) => (Some(company_key(c)), Some(a), Some(p)),
            None => (None, None, None),
        };
        let project_key = project.map(company_key);
        // The project's own license sorts first (`project = ?8`): its key
        // is the project's folded, as every similar one's.
        self.conn
            .prepare_cached(
                "SELECT e.decision_id, e.decision, e.license_id, e.decided_at,
                    (SELECT h.decision_id FROM decisions h WHERE h.request_key = ?3 AND h.decision = 'held'
                     ORDER BY h.decision_id LIMIT 1),
                    EXISTS (SELECT 1 FROM contract_emails ce JOIN contracts c USING (contract_id)
                            WHERE ce.email = ?4 AND c.enabled = 1),
                    coalesce((SELECT n.live FROM live_license_counts n WHERE n.company_key = ?5), 0),
                    l.license_id, l.project, l.kind, l.version, l.max_nodes, l.expiry, l.armored
                 FROM (SELECT 1 AS one) o
                 LEFT JOIN (SELECT decision_id, decision, license_id, decided_at FROM decisions
                            WHERE dedup_key = ?1 AND (authenticated = ?2 OR authenticated = 1)
                            ORDER BY authenticated DESC, decision_id LIMIT 1) e ON 1 = 1
                 LEFT JOIN (SELECT license_id, project, kind, version, max_nodes, expiry, armored FROM licenses
                            WHERE company_key = ?5 AND app_name = ?6 AND project_key = ?7 AND state = 'live'
                            ORDER BY project = ?8 DESC, issued_at, rowid LIMIT 1) l ON 1 = 1",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![
                        k.dedup_key,
                        k.authenticated,
                        k.request_key,
                        k.reply_to,
                        company,
                        app,
                        project_key,
                        project
                    ],
                    |r| {
                        let earlier = match r.get::<_, Option<i64>>(0)? {
                            Some(id) => Some(EarlierDecision {
                                id,
                                decision: kind_of(r, 1)?,
                                license_id: r.get(2)?,
                                decided_at: Timestamp(r.get(3)?),
                            }),
                            None => None,
                        };
                        let live = match r.get::<_, Option<String>>(7)? {
                            Some(_) => Some(live_row_at(r, 7)?),
                            None => None,
                        };
                        Ok(RequestLookup {
                            earlier,
                            held: r.get(4)?,
                            reply_to_contract: r.get(5)?,
                            live_count: u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
                            live,
                        })
                    },
                )
            })
            .map_err(err(self.path, "cannot read the records of the request"))
    }
}
