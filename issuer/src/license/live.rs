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

use fanlic_formats::{Expiry, LicenseKind, Version};

use crate::Error;
use crate::contracts;
use crate::store::Tx;
pub use crate::store::{LicenseState, LiveLicense, MIGRATION_ACTOR};
use crate::util::hex;

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

/// Where a request of `company` for `app` and `project` with `terms`
/// stands. `max_licenses` is the contract's license count (`None`: not
/// counted, as for `fanlic issue`, where staff decide). `similar_is_new`:
/// staff said a look-alike project is a new one.
///
/// Each question is one indexed lookup (the unique index over live
/// licenses, and one over the folded project), so a contract with many
/// projects costs no more per request than one with a few.
pub(crate) fn standing(
    tx: &Tx<'_>,
    (company, app, project): (&str, &str, &str),
    terms: &Terms,
    (max_licenses, similar_is_new): (Option<u32>, bool),
) -> Result<Standing, Error> {
    if let Some(l) = tx.live_license(company, app, project)? {
        let diff = terms.differences(&l);
        return Ok(if diff.is_empty() { Standing::Same(l) } else { Standing::Differs(l, diff) });
    }
    if !similar_is_new && let Some(l) = tx.similar_live_license(company, app, project)? {
        return Ok(Standing::Similar(l));
    }
    let Some(max) = max_licenses else { return Ok(Standing::Free) };
    if tx.live_license_count(company)? < u64::from(max) {
        return Ok(Standing::Free);
    }
    Ok(Standing::Full { max, projects: tx.live_projects(company)? })
}

/// [`standing`] from what was read already in this transaction
/// (`Tx::request_lookup`, with `similar_is_new` false): `closest`, the
/// project's live license or else the oldest similar one, and the
/// company's live count.
pub(crate) fn standing_from(
    tx: &Tx<'_>,
    (company, project): (&str, &str),
    terms: &Terms,
    max_licenses: Option<u32>,
    (closest, live_count): (Option<LiveLicense>, u64),
) -> Result<Standing, Error> {
    match closest {
        Some(l) if l.project == project => {
            let diff = terms.differences(&l);
            return Ok(if diff.is_empty() { Standing::Same(l) } else { Standing::Differs(l, diff) });
        }
        Some(l) => return Ok(Standing::Similar(l)),
        None => {}
    }
    let Some(max) = max_licenses else { return Ok(Standing::Free) };
    if live_count < u64::from(max) {
        return Ok(Standing::Free);
    }
    Ok(Standing::Full { max, projects: tx.live_projects(company)? })
}

/// The key of a request, for finding resends of it: who asked (and whether
/// that was proven), for which company, application and project.
pub fn request_key(authenticated: bool, from: &str, company: &str, app: &str, project: &str) -> String {
    let text = format!("{}\n{from}\n{}\n{app}\n{project}", u8::from(authenticated), contracts::company_key(company));
    hex::encode(&crate::mail::message::sha256(text.as_bytes()))
}
