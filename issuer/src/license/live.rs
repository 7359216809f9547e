//! One live license per (contract, application, project).
//!
//! A `Container.lic` serves one project. A license is **live** while it is
//! neither revoked, superseded nor marked duplicate: a state stored in
//! `licenses.state` ([`LicenseState`]). A unique index over the live
//! licenses' (company key, application, project) enforces the rule in the
//! database itself, whatever path issues (`fanlic ingest`, `approve`,
//! `issue`), so two processes racing for the same project get one license
//! between them: the second insert fails inside its transaction.
//!
//! The project is compared as exact bytes, as products compare it. A name
//! that differs from a live one only in case, width or spacing
//! ([`contracts::company_key`]'s folding) is not the same project to a
//! product, but is almost always a typing slip: such a request is held for
//! staff ([`Standing::Similar`]).
//!
//! The company is compared by its contract key ([`contracts::company_key`]),
//! so a license issued by hand (`fanlic issue`) under another spelling of a
//! contract's company is still that contract's.

use std::path::Path;

use fanlic_formats::{Expiry, LicenseKind, Version};
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::Error;
use crate::contracts;
use crate::store;
use crate::util::hex;

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

/// The terms a request asks for, compared with a live license's.
#[derive(Clone, Copy, Debug)]
pub struct Terms {
    /// The registration method.
    pub kind: LicenseKind,
    /// Licensed major.minor.
    pub version: Version,
    /// Node limit.
    pub nodes: u32,
    /// Expiry.
    pub expiry: Expiry,
}

impl Terms {
    /// Each term of `live` that differs, as `name: live -> asked`.
    pub fn differences(&self, live: &LiveLicense) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |name: &str, was: String, now: String| {
            if was != now {
                out.push(format!("{name}: {was} -> {now}"));
            }
        };
        cmp("method", live.kind.clone(), self.kind.as_str().to_owned());
        cmp("version", live.version.clone(), self.version.to_string());
        cmp("nodes", live.max_nodes.to_string(), self.nodes.to_string());
        cmp("expiry", live.expiry.clone(), self.expiry.to_string());
        out
    }
}

/// Where a request for a project stands against the live licenses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// No live license of this project, and room under the contract's count.
    Free,
    /// A live license of this project with the same terms: send it again.
    Same(LiveLicense),
    /// A live license of this project with other terms (listed): staff decide.
    Differs(LiveLicense, Vec<String>),
    /// A live license of a project whose name differs only in case, width
    /// or spacing: staff decide.
    Similar(LiveLicense),
    /// A new project, but the contract's licenses are all taken.
    Full {
        /// The contract's license count.
        max: u32,
        /// The projects that hold them.
        projects: Vec<String>,
    },
}

const LIVE_COLUMNS: &str = "license_id, project, kind, version, max_nodes, expiry, armored";

fn live_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LiveLicense> {
    Ok(LiveLicense {
        license_id: r.get(0)?,
        project: r.get(1)?,
        kind: r.get(2)?,
        version: r.get(3)?,
        max_nodes: u32::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
        expiry: r.get(5)?,
        armored: r.get(6)?,
    })
}

/// Where a request of `company` for `app` and `project` with `terms`
/// stands. `max_licenses` is the contract's license count (`None`: not
/// counted, as for `fanlic issue`, where staff decide). `similar_is_new`:
/// staff said a look-alike project is a new one.
///
/// Each question is one indexed lookup (the unique index over live
/// licenses, and one over the folded project), so a contract with many
/// projects costs no more per request than one with a few.
pub(crate) fn standing(
    conn: &Connection,
    path: &Path,
    (company, app, project): (&str, &str, &str),
    terms: &Terms,
    (max_licenses, similar_is_new): (Option<u32>, bool),
) -> Result<Standing, Error> {
    let read = || store::err(path, "cannot read the licenses");
    let company_key = contracts::company_key(company);
    let exact = conn
        .prepare_cached(&format!(
            "SELECT {LIVE_COLUMNS} FROM licenses
             WHERE company_key = ?1 AND app_name = ?2 AND project = ?3 AND state = 'live'"
        ))
        .and_then(|mut s| s.query_row(params![company_key, app, project], live_row).optional())
        .map_err(read())?;
    if let Some(l) = exact {
        let diff = terms.differences(&l);
        return Ok(if diff.is_empty() { Standing::Same(l) } else { Standing::Differs(l, diff) });
    }
    if !similar_is_new {
        let similar = conn
            .prepare_cached(&format!(
                "SELECT {LIVE_COLUMNS} FROM licenses
                 WHERE company_key = ?1 AND app_name = ?2 AND project_key = ?3 AND state = 'live'
                 ORDER BY issued_at, rowid LIMIT 1"
            ))
            .and_then(|mut s| {
                s.query_row(params![company_key, app, contracts::company_key(project)], live_row).optional()
            })
            .map_err(read())?;
        if let Some(l) = similar {
            return Ok(Standing::Similar(l));
        }
    }
    let Some(max) = max_licenses else { return Ok(Standing::Free) };
    let live: i64 = conn
        .prepare_cached("SELECT live FROM live_license_counts WHERE company_key = ?1")
        .and_then(|mut s| s.query_row(params![company_key], |r| r.get(0)).optional())
        .map_err(read())?
        .unwrap_or(0);
    if u64::try_from(live).unwrap_or(0) < u64::from(max) {
        return Ok(Standing::Free);
    }
    let projects = conn
        .prepare_cached(
            "SELECT project FROM licenses WHERE company_key = ?1 AND state = 'live' ORDER BY issued_at, rowid",
        )
        .and_then(|mut s| s.query_map(params![company_key], |r| r.get(0))?.collect::<Result<Vec<String>, _>>())
        .map_err(read())?;
    Ok(Standing::Full { max, projects })
}

/// Sets a license's state: from live or duplicate; a revoked license may
/// only become superseded (a reissue revokes, then supersedes).
pub(crate) fn set_state(conn: &Connection, path: &Path, license_id: &str, state: LicenseState) -> Result<(), Error> {
    conn.prepare_cached(
        "UPDATE licenses SET state = ?1 WHERE license_id = ?2
             AND (state IN ('live', 'duplicate') OR (?1 = 'superseded' AND state = 'revoked'))",
    )
    .and_then(|mut s| s.execute(params![state.as_str(), license_id]))
    .map(|_| ())
    .map_err(store::err(path, "cannot record the license's state"))
}

/// The key of a request, for finding resends of it: who asked (and whether
/// that was proven), for which company, application and project.
pub fn request_key(authenticated: bool, from: &str, company: &str, app: &str, project: &str) -> String {
    let text = format!("{}\n{from}\n{}\n{app}\n{project}", u8::from(authenticated), contracts::company_key(company));
    hex::encode(&crate::mail::message::sha256(text.as_bytes()))
}

/// Whether an error is the unique index over live licenses refusing a
/// second live license of one project.
pub(crate) fn is_second_live(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, Some(msg))
        if f.code == rusqlite::ErrorCode::ConstraintViolation && msg.contains("licenses.company_key"))
}

/// Part of schema migration 8 that SQL alone cannot do: fills
/// `licenses.company_key`, marks every live license beside an earlier live
/// license of the same (company, application, project) as `duplicate` (the
/// first issued stays live; none is revoked: they keep working until staff
/// decide), audits each and says so on standard error, then creates the
/// unique index that keeps it so.
pub(crate) fn migrate_licenses(conn: &Connection, path: &Path) -> Result<(), Error> {
    let fail = || store::err(path, "cannot migrate");
    let rows: Vec<(String, String, String)> = {
        let mut stmt = conn.prepare("SELECT license_id, company, project FROM licenses").map_err(fail())?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(fail())?;
        rows.collect::<Result<_, _>>().map_err(fail())?
    };
    for (id, company, project) in &rows {
        conn.execute(
            "UPDATE licenses SET company_key = ?1, project_key = ?2 WHERE license_id = ?3",
            params![contracts::company_key(company), contracts::company_key(project), id],
        )
        .map_err(fail())?;
    }
    let dups: Vec<(String, String, String)> = {
        let mut stmt = conn
            .prepare(
                "SELECT l.license_id, first.license_id, l.project FROM licenses l
                 JOIN licenses first ON first.license_id = (
                     SELECT f.license_id FROM licenses f
                     WHERE f.company_key = l.company_key AND f.app_name = l.app_name AND f.project = l.project
                       AND f.state = 'live' ORDER BY f.issued_at, f.rowid LIMIT 1)
                 WHERE l.state = 'live' AND first.license_id <> l.license_id
                 ORDER BY l.issued_at, l.rowid",
            )
            .map_err(fail())?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(fail())?;
        rows.collect::<Result<_, _>>().map_err(fail())?
    };
    let now = crate::util::clock::now()?;
    for (dup, first, project) in &dups {
        set_state(conn, path, dup, LicenseState::Duplicate)?;
        let why = format!("a second live license of project {project:?}; {first} stays live");
        crate::store::audit::record(
            conn,
            path,
            &crate::store::audit::Entry {
                license_id: Some(dup),
                why: &why,
                ..crate::store::audit::Entry::new(crate::store::audit::Action::MarkedDuplicate, MIGRATION_ACTOR, now)
            },
        )?;
        eprintln!(
            "fanlic: license {dup} is marked duplicate: {why}. It keeps working; `fanlic revoke {dup}` \
             or keep it (`fanlic audit --license {dup}`)."
        );
    }
    conn.execute_batch(LIVE_SCHEMA).map_err(fail())
}

/// What keeps the rule in the database: the unique index over live
/// licenses, the look-alike index, and each company's count of live
/// licenses, kept by triggers so that checking a contract's license count
/// costs one lookup however many projects it has.
const LIVE_SCHEMA: &str = "
CREATE UNIQUE INDEX one_live_license ON licenses (company_key, app_name, project) WHERE state = 'live';
CREATE INDEX live_by_project_key ON licenses (company_key, app_name, project_key) WHERE state = 'live';
CREATE TABLE live_license_counts (
    company_key TEXT PRIMARY KEY,
    live        INTEGER NOT NULL CHECK (live >= 0)
) STRICT;
INSERT INTO live_license_counts (company_key, live)
    SELECT company_key, count(*) FROM licenses WHERE state = 'live' GROUP BY company_key;
CREATE TRIGGER live_count_insert AFTER INSERT ON licenses WHEN NEW.state = 'live'
BEGIN
    INSERT INTO live_license_counts (company_key, live) VALUES (NEW.company_key, 1)
        ON CONFLICT (company_key) DO UPDATE SET live = live + 1;
END;
CREATE TRIGGER live_count_update AFTER UPDATE OF state ON licenses
    WHEN (OLD.state = 'live') <> (NEW.state = 'live')
BEGIN
    INSERT INTO live_license_counts (company_key, live) VALUES (NEW.company_key, NEW.state = 'live')
        ON CONFLICT (company_key) DO UPDATE SET live = live + (CASE WHEN NEW.state = 'live' THEN 1 ELSE -1 END);
END;
";

/// Who the schema migration records as the author of what it marks.
pub const MIGRATION_ACTOR: &str = "fanlic (schema migration 8)";
