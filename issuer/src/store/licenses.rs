//! Issued licenses: their rows, their state, and the rule of one live
//! license per (company, application, project).

use crate::error::{LicenseError, Refusal};
use std::path::Path;

use super::sql::{OptionalExtension as _, params};
use fanlic_formats::{KeyId, Timestamp};

use super::{Tx, company_key, err, int};
use crate::Error;

/// A license to record: the decoded license and what was written.
#[derive(Clone, Copy, Debug)]
pub struct NewLicense<'a> {
    /// The license, decoded.
    pub license: &'a fanlic_formats::License<'a>,
    /// The issuing key that signed it.
    pub issuing_key_id: KeyId,
    /// The raw license file.
    pub file_bytes: &'a [u8],
    /// The armored `Container.lic` text.
    pub armored: &'a str,
    /// Where it was written.
    pub output_path: &'a Path,
    /// The activation master secret's version that derived its activation key.
    pub activation_master_version: Option<u32>,
}

/// What a license is, as the database records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseInfo {
    /// 32 lowercase hex digits.
    pub license_id: String,
    /// The customer company.
    pub company: String,
    /// The project it was issued for.
    pub project: String,
    /// `FineReport` or `FineBI`.
    pub app_name: String,
    /// Licensed major.minor.
    pub version: String,
}

/// What the database keeps of one issued license.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLicense {
    /// 32 hex digits.
    pub license_id: String,
    /// The issuing key that signed it.
    pub issuing_key_id: String,
    /// The raw license file.
    pub file_bytes: Vec<u8>,
    /// The armored `Container.lic` text.
    pub armored: String,
    /// Where it was written.
    pub output_path: String,
}

/// A license's standing, stored in `licenses.state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LicenseState {
    /// In force: the one license of its project.
    Live,
    /// Revoked (`fanlic revoke`, a destroy request).
    Revoked,
    /// Replaced by a later license of the same project (a reissue or a
    /// private-cloud migration); also revoked.
    Superseded,
    /// Found beside an earlier live license of the same project when the
    /// rule came into force. It keeps working until staff revoke it.
    Duplicate,
}

impl LicenseState {
    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Revoked => "revoked",
            Self::Superseded => "superseded",
            Self::Duplicate => "duplicate",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Live, Self::Revoked, Self::Superseded, Self::Duplicate].into_iter().find(|v| v.as_str() == s)
    }
}

/// A live license, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveLicense {
    /// 32 hex digits.
    pub license_id: String,
    /// Its project, exactly.
    pub project: String,
    /// `local-container` or `private-cloud`.
    pub kind: String,
    /// Licensed major.minor.
    pub version: String,
    /// Node limit.
    pub max_nodes: u32,
    /// `never` or YYYY-MM-DD.
    pub expiry: String,
    /// The armored `Container.lic`, to send again.
    pub armored: String,
}

const LIVE_COLUMNS: &str = "license_id, project, kind, version, max_nodes, expiry, armored";

fn live_row(r: &super::sql::Row<'_>) -> super::sql::Result<LiveLicense> {
    live_row_at(r, 0)
}

/// [`LIVE_COLUMNS`] read from column `at` on.
pub(super) fn live_row_at(r: &super::sql::Row<'_>, at: usize) -> super::sql::Result<LiveLicense> {
    Ok(LiveLicense {
        license_id: r.get(at)?,
        project: r.get(at + 1)?,
        kind: r.get(at + 2)?,
        version: r.get(at + 3)?,
        max_nodes: u32::try_from(r.get::<_, i64>(at + 4)?).unwrap_or(0),
        expiry: r.get(at + 5)?,
        armored: r.get(at + 6)?,
    })
}

impl Tx<'_> {
    /// What is recorded of a license; else [`Refusal::LicenseNotFound`].
    pub fn license_info(&self, id: &str) -> Result<LicenseInfo, Error> {
        self.conn
            .query_row(
                "SELECT license_id, company, project, app_name, version FROM licenses WHERE license_id = ?1",
                params![id],
                |r| {
                    Ok(LicenseInfo {
                        license_id: r.get(0)?,
                        company: r.get(1)?,
                        project: r.get(2)?,
                        app_name: r.get(3)?,
                        version: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(err(self.path, "cannot read the licenses"))?
            .ok_or_else(|| Error::Revoke(Refusal::LicenseNotFound { license_id: id.to_owned() }))
    }

    /// The authenticated sender of the newest decision on mail that names
    /// this license (never an unauthenticated one: its From may be forged).
    pub fn authenticated_requester(&self, license_id: &str) -> Result<Option<String>, Error> {
        self.conn
            .query_row(
                "SELECT from_addr FROM decisions WHERE license_id = ?1 AND authenticated = 1 AND from_addr <> ''
                 ORDER BY decided_at DESC, decision_id DESC LIMIT 1",
                params![license_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(err(self.path, "cannot read the decisions"))
    }

    /// How many licenses an issuing key signed.
    pub fn licenses_signed_by(&self, key_id: KeyId) -> Result<u64, Error> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM licenses WHERE issuing_key_id = ?1", params![key_id.to_string()], |r| {
                r.get(0)
            })
            .map_err(err(self.path, "cannot read the licenses"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The live license of exactly this (company, application, project).
    pub fn live_license(&self, company: &str, app: &str, project: &str) -> Result<Option<LiveLicense>, Error> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {LIVE_COLUMNS} FROM licenses
                 WHERE company_key = ?1 AND app_name = ?2 AND project = ?3 AND state = 'live'"
            ))
            .and_then(|mut s| s.query_row(params![company_key(company), app, project], live_row).optional())
            .map_err(err(self.path, "cannot read the licenses"))
    }

    /// The first live license of the company and application whose project
    /// folds ([`company_key`]) to the same key as `project`.
    pub fn similar_live_license(&self, company: &str, app: &str, project: &str) -> Result<Option<LiveLicense>, Error> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {LIVE_COLUMNS} FROM licenses
                 WHERE company_key = ?1 AND app_name = ?2 AND project_key = ?3 AND state = 'live'
                 ORDER BY issued_at, rowid LIMIT 1"
            ))
            .and_then(|mut s| {
                s.query_row(params![company_key(company), app, company_key(project)], live_row).optional()
            })
            .map_err(err(self.path, "cannot read the licenses"))
    }

    /// How many live licenses the company holds (one lookup, whatever the count).
    pub fn live_license_count(&self, company: &str) -> Result<u64, Error> {
        let live: i64 = self
            .conn
            .prepare_cached("SELECT live FROM live_license_counts WHERE company_key = ?1")
            .and_then(|mut s| s.query_row(params![company_key(company)], |r| r.get(0)).optional())
            .map_err(err(self.path, "cannot read the licenses"))?
            .unwrap_or(0);
        Ok(u64::try_from(live).unwrap_or(0))
    }

    /// The projects of the company's live licenses, oldest first.
    pub fn live_projects(&self, company: &str) -> Result<Vec<String>, Error> {
        self.conn
            .prepare_cached(
                "SELECT project FROM licenses WHERE company_key = ?1 AND state = 'live' ORDER BY issued_at, rowid",
            )
            .and_then(|mut s| {
                s.query_map(params![company_key(company)], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()
            })
            .map_err(err(self.path, "cannot read the licenses"))
    }

    /// Sets a license's state: from live or duplicate; a revoked license may
    /// only become superseded (a reissue revokes, then supersedes).
    pub fn set_license_state(&self, license_id: &str, state: LicenseState) -> Result<(), Error> {
        self.conn
            .prepare_cached(
                "UPDATE licenses SET state = ?1 WHERE license_id = ?2
             AND (state IN ('live', 'duplicate') OR (?1 = 'superseded' AND state = 'revoked'))",
            )
            .and_then(|mut s| s.execute(params![state.as_str(), license_id]))
            .map(|_| ())
            .map_err(err(self.path, "cannot record the license's state"))
    }

    /// A license as recorded, by its 32-hex-digit id.
    pub fn stored_license(&self, id: &str) -> Result<Option<StoredLicense>, Error> {
        let conn = self.conn;
        let path = self.path;
        conn.query_row(
            "SELECT license_id, issuing_key_id, file_bytes, armored, output_path FROM licenses WHERE license_id = ?1",
            params![id],
            |r| {
                Ok(StoredLicense {
                    license_id: r.get(0)?,
                    issuing_key_id: r.get(1)?,
                    file_bytes: r.get(2)?,
                    armored: r.get(3)?,
                    output_path: r.get(4)?,
                })
            },
        )
        .optional()
        .map_err(err(path, "cannot read the licenses"))
    }

    /// How many licenses were issued.
    pub fn license_count(&self) -> Result<u64, Error> {
        let conn = self.conn;
        let path = self.path;
        let n: i64 = conn
            .query_row("SELECT count(*) FROM licenses", params![], |r| r.get(0))
            .map_err(err(path, "cannot read the licenses"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Records an issued license with every field and its file. A second
    /// live license of one (company, application, project) is
    /// [`LicenseError::LiveLicenseExists`]: another process recorded one first.
    pub fn insert_license(&self, new: &NewLicense<'_>) -> Result<(), Error> {
        let (conn, path, l) = (self.conn, self.path, new.license);
        conn.prepare_cached(
            "INSERT INTO licenses (license_id, kind, app_name, company, project, contract_signed, issued_at,
             not_before, expiry, version, max_nodes, activation_base_url, image_public_key,
             supersedes, request_email_sha256, issuing_key_id, file_bytes, armored, output_path, company_key,
             project_key, activation_master_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
        )
        .and_then(|mut s| {
            s.execute_deferred(
                params![
                    l.id.to_string(),
                    l.kind.as_str(),
                    l.app_name,
                    l.company,
                    l.project,
                    l.contract_signed.to_string(),
                    int(l.issued_at.0),
                    int(l.not_before.0),
                    l.expiry.to_string(),
                    l.version.to_string(),
                    i64::from(l.max_nodes),
                    // No activation key: it is derived when needed (activation.rs).
                    l.activation_base_url,
                    l.image_public_key.as_ref().map(|k| k.as_slice()),
                    l.supersedes.map(|s| s.to_string()),
                    l.request_email_sha256.as_ref().map(|k| k.as_slice()),
                    new.issuing_key_id.to_string(),
                    new.file_bytes,
                    new.armored,
                    new.output_path.to_string_lossy(),
                    company_key(l.company),
                    company_key(l.project),
                    new.activation_master_version,
                ],
                "cannot record the license",
            )
        })
        .map_err(|e| {
            // The unique index over live licenses: another process recorded a
            // license of this project first.
            if is_second_live(&e) {
                Error::License(LicenseError::LiveLicenseExists { project: l.project.to_owned(), license_id: None })
            } else {
                err(path, "cannot record the license")(e)
            }
        })
    }
}

/// Whether an error is the unique index over live licenses refusing a
/// second live license of one project.
fn is_second_live(e: &super::sql::Error) -> bool {
    // SQLite names the index's columns, PostgreSQL the index.
    e.is_unique_violation("licenses.company_key") || e.is_unique_violation("one_live_license")
}

/// Who the schema migration records as the author of what it marks.
pub const MIGRATION_ACTOR: &str = "fanlic (schema migration 8)";

/// One row of the console's license list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseRow {
    /// 32 hex digits.
    pub license_id: String,
    /// The customer company.
    pub company: String,
    /// The project it was issued for.
    pub project: String,
    /// `FineReport` or `FineBI`.
    pub app_name: String,
    /// `local-container` or `private-cloud`.
    pub kind: String,
    /// Licensed major.minor.
    pub version: String,
    /// Node limit.
    pub max_nodes: u32,
    /// `never` or YYYY-MM-DD.
    pub expiry: String,
    /// Its standing (`None`: a state this build does not know).
    pub state: Option<LicenseState>,
    /// When it was issued.
    pub issued_at: Timestamp,
}

/// Which licenses a page of the list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LicenseSearch {
    /// Empty: every license. With `@`: the licenses of the company whose
    /// contract holds this address. Otherwise: licenses whose company or
    /// project starts with it (folded as [`company_key`] folds), or whose
    /// id starts with it (hex digits); when none does, those whose company
    /// or project holds it anywhere.
    pub text: String,
    /// Only licenses in this state.
    pub state: Option<LicenseState>,
    /// Only live licenses expiring on one of these days (`YYYY-MM-DD`,
    /// first and last, inclusive), soonest first.
    pub expiring: Option<(String, String)>,
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub limit: u64,
}

/// Everything the console's license page shows of the license's own row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseRecord {
    /// The list's columns.
    pub row: LicenseRow,
    /// The license this one replaced, if any.
    pub supersedes: Option<String>,
    /// The issuing key that signed it.
    pub issuing_key_id: String,
    /// The raw license file.
    pub file_bytes: Vec<u8>,
    /// Where `fanlic` wrote it.
    pub output_path: String,
}

/// A decision on a registration mail that named a license.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseDecision {
    /// Its number.
    pub decision_id: i64,
    /// `issued`, `resent`, ...
    pub decision: String,
    /// The mail's sender.
    pub from: String,
    /// The mail's subject.
    pub subject: String,
    /// Whether the sender was authenticated.
    pub authenticated: bool,
    /// The reply queued, if any.
    pub outbox_id: Option<i64>,
    /// When it was decided.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
}

const ROW_COLUMNS: &str = "license_id, company, project, app_name, kind, version, max_nodes, expiry, state, issued_at";

fn list_row(r: &super::sql::Row<'_>) -> super::sql::Result<LicenseRow> {
    Ok(LicenseRow {
        license_id: r.get(0)?,
        company: r.get(1)?,
        project: r.get(2)?,
        app_name: r.get(3)?,
        kind: r.get(4)?,
        version: r.get(5)?,
        max_nodes: u32::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
        expiry: r.get(7)?,
        state: LicenseState::parse(&r.get::<_, String>(8)?),
        issued_at: Timestamp(u64::try_from(r.get::<_, i64>(9)?).unwrap_or(0)),
    })
}

/// The smallest text greater than every text that starts with `prefix`
/// (SQLite compares text bytewise; no UTF-8 text goes past U+10FFFF).
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// Up to this many licenses matching a search are sorted; a search that
/// matches more is answered by walking the licenses newest first instead,
/// which soon finds a page of them.
const SORTED_MATCHES: i64 = 1000;

/// A statement and its values.
type Statement = (String, Vec<super::sql::Value>);

/// How [`Tx::search_licenses`] reads a page.
#[derive(Debug)]
struct SearchPlan {
    /// The page.
    page: Statement,
    /// How many licenses the text matches, up to [`SORTED_MATCHES`]: a
    /// search by the start of a company, project or id, before the page.
    count: Option<Statement>,
}

/// How a search by text reads its page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TextMatch {
    /// Few licenses start with the text: read through the company, project
    /// and id indexes, then sorted.
    Sorted,
    /// Many do: the newest-first index is walked until the page is full.
    Walked,
    /// None does: licenses whose company or project holds the text
    /// anywhere, found by walking the newest-first index, which holds both
    /// (a Chinese name is often searched by a word in its middle).
    Within,
}

/// The statements of a page of `s`, a search by text read as `how`. Each
/// kind of search is its own statement, so that each keeps the plan of its
/// index (a statement's plan does not change with the values bound to it).
fn search_plan(s: &LicenseSearch, how: TextMatch, dialect: super::sql::Dialect) -> SearchPlan {
    use super::sql::Value;
    let mut wheres: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let mut arg = |v: String| {
        args.push(Value::Text(v));
        format!("?{}", args.len())
    };
    let text = s.text.trim();
    let mut count = None;
    if text.contains('@') {
        let email = crate::util::text::normalize_email("q", text).unwrap_or_else(|_| text.to_lowercase());
        wheres.push(format!(
            "company_key IN (SELECT c.company_key FROM contract_emails e JOIN contracts c USING (contract_id)
                             WHERE e.email = {})",
            arg(email)
        ));
    } else if !text.is_empty() && how == TextMatch::Within {
        let key = arg(company_key(text));
        wheres.push(format!("(instr(company_key, {key}) > 0 OR instr(project_key, {key}) > 0)"));
    } else if !text.is_empty() {
        let key = company_key(text);
        let (from, to) = (arg(key.clone()), arg(prefix_end(&key)));
        let mut any = vec![
            format!("(company_key >= {from} AND company_key < {to})"),
            format!("(project_key >= {from} AND project_key < {to})"),
        ];
        if text.len() <= 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let id = text.to_ascii_lowercase();
            let (from, to) = (arg(id.clone()), arg(prefix_end(&id)));
            any.push(format!("(license_id >= {from} AND license_id < {to})"));
        }
        let any = format!("({})", any.join(" OR "));
        if s.expiring.is_none() {
            count = Some(format!(
                "SELECT count(*) FROM (SELECT 1 FROM licenses WHERE {any} LIMIT {SORTED_MATCHES}) AS hits"
            ));
        }
        wheres.push(any);
    }
    let count = count.map(|sql| (sql, args.clone()));
    // Walked or within: the newest-first index, unless the order is by expiry.
    let walk = how != TextMatch::Sorted && !text.is_empty() && !text.contains('@') && s.expiring.is_none();
    let mut arg = |v: String| {
        args.push(Value::Text(v));
        format!("?{}", args.len())
    };
    if let Some(state) = s.state {
        // With a search that matches few licenses, the state is checked on
        // them (`+state` is not looked up in an index), rather than every
        // license of that state checked against the search.
        // (SQLite's way; PostgreSQL picks by its statistics.)
        let plus = if !text.is_empty() && !walk && dialect == super::sql::Dialect::Sqlite { "+" } else { "" };
        wheres.push(format!("{plus}state = {}", arg(state.as_str().to_owned())));
    }
    let order = if let Some((first, last)) = &s.expiring {
        wheres.push(format!("state = 'live' AND expiry >= {} AND expiry <= {}", arg(first.clone()), arg(last.clone())));
        "expiry, license_id"
    } else {
        "issued_at DESC, license_id DESC"
    };
    let filter = if wheres.is_empty() { String::new() } else { format!("WHERE {}", wheres.join(" AND ")) };
    args.push(Value::Integer(int(s.limit)));
    args.push(Value::Integer(int(s.offset)));
    let (limit, offset) = (args.len() - 1, args.len());
    let index = match (walk, s.state) {
        (false, _) => "",
        (true, None) => "INDEXED BY licenses_by_issued",
        (true, Some(_)) => "INDEXED BY licenses_by_state",
    };
    let sql =
        format!("SELECT {ROW_COLUMNS} FROM licenses {index} {filter} ORDER BY {order} LIMIT ?{limit} OFFSET ?{offset}");
    SearchPlan { page: (sql, args), count }
}

impl Tx<'_> {
    /// One page of the license list, newest first (expiring ones: soonest
    /// first), read through indexes whatever the search. A search by text
    /// matches licenses whose company, project or id starts with it; when
    /// none does, those whose company or project holds it anywhere (not for
    /// the expiring list). Few matches are read through the company,
    /// project and id indexes and sorted; many, or a search within, walk
    /// the newest-first index (of its state, if one is asked for), which
    /// holds what the search compares, until the page is full.
    pub fn search_licenses(&self, s: &LicenseSearch) -> Result<Vec<LicenseRow>, Error> {
        let read = || err(self.path, "cannot read the licenses");
        let mut plan = search_plan(s, TextMatch::Sorted, self.conn.dialect());
        if let Some((sql, args)) = &plan.count {
            let n: i64 = self
                .conn
                .prepare_cached(sql)
                .and_then(|mut st| st.query_row(super::sql::params_from_iter(args.iter()), |r| r.get(0)))
                .map_err(read())?;
            if n >= SORTED_MATCHES {
                plan = search_plan(s, TextMatch::Walked, self.conn.dialect());
            } else if n == 0 {
                plan = search_plan(s, TextMatch::Within, self.conn.dialect());
            }
        }
        let (sql, args) = plan.page;
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut st| st.query_map(super::sql::params_from_iter(args), list_row)?.collect())
            .map_err(read())
    }

    /// What the license page shows of a license's row.
    pub fn license_record(&self, id: &str) -> Result<Option<LicenseRecord>, Error> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {ROW_COLUMNS}, supersedes, issuing_key_id, file_bytes, output_path
                 FROM licenses WHERE license_id = ?1"
            ))
            .and_then(|mut s| {
                s.query_row(params![id], |r| {
                    Ok(LicenseRecord {
                        row: list_row(r)?,
                        supersedes: r.get(10)?,
                        issuing_key_id: r.get(11)?,
                        file_bytes: r.get(12)?,
                        output_path: r.get(13)?,
                    })
                })
                .optional()
            })
            .map_err(err(self.path, "cannot read the licenses"))
    }

    /// The decisions on registration mail that name license `id`, oldest
    /// first (the first is the one that got it, when mail did).
    pub fn license_decisions(&self, id: &str) -> Result<Vec<LicenseDecision>, Error> {
        self.conn
            .prepare_cached(
                "SELECT decision_id, decision, from_addr, subject, authenticated, outbox_id, decided_at, decided_by
                 FROM decisions WHERE license_id = ?1 ORDER BY decided_at, decision_id LIMIT 200",
            )
            .and_then(|mut s| {
                s.query_map(params![id], |r| {
                    Ok(LicenseDecision {
                        decision_id: r.get(0)?,
                        decision: r.get(1)?,
                        from: r.get(2)?,
                        subject: r.get(3)?,
                        authenticated: r.get(4)?,
                        outbox_id: r.get(5)?,
                        at: Timestamp(u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0)),
                        by: r.get(7)?,
                    })
                })?
                .collect()
            })
            .map_err(err(self.path, "cannot read the decisions"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)] // test code
    use super::*;

    /// Every search the console makes is answered through an index: no plan
    /// scans the table (a walk follows an index newest first and stops at a
    /// full page), and only a search that matches few licenses is sorted.
    #[test]
    fn every_search_of_the_license_list_uses_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("fanlic.db"), true).unwrap();
        let window = Some(("2026-12-01".to_owned(), "2026-12-31".to_owned()));
        for text in ["", "acme", "c0ffee", "buyer@customer.example"] {
            for state in [None, Some(LicenseState::Revoked)] {
                for expiring in [None, window.clone()] {
                    for how in [TextMatch::Sorted, TextMatch::Walked, TextMatch::Within] {
                        let s = LicenseSearch {
                            text: text.to_owned(),
                            state,
                            expiring: expiring.clone(),
                            offset: 50,
                            limit: 51,
                        };
                        let plan = search_plan(&s, how, crate::store::sql::Dialect::Sqlite);
                        let statements = plan.count.iter().chain([&plan.page]);
                        for (sql, args) in statements {
                            let lines: Vec<String> = store
                                .read(|tx| {
                                    let mut st = tx.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                                    let rows = st
                                        .query_map(crate::store::sql::params_from_iter(args.iter()), |r| {
                                            r.get::<_, String>(3)
                                        })
                                        .unwrap();
                                    Ok(rows.map(Result::unwrap).collect())
                                })
                                .unwrap();
                            let case = format!("{text:?} {state:?} {expiring:?} {how:?}: {lines:?}");
                            for l in &lines {
                                let scan = l.starts_with("SCAN licenses");
                                assert!(!scan || l.contains(" USING "), "a scan of rows: {case}");
                            }
                            let sorted = lines.iter().any(|l| l.contains("TEMP B-TREE"));
                            // A text search of few matches, or by address (one company's licenses).
                            let walked = how != TextMatch::Sorted && expiring.is_none() && !text.contains('@');
                            let few = !text.is_empty() && !walked;
                            assert!(!sorted || few || expiring.is_some(), "sorts every license: {case}");
                        }
                    }
                }
            }
        }
    }
}
