//! The vectors whose signatures hold but whose claims do not match the
//! product's environment: each refused with the causes written by hand.

use fanlic_formats::{Timestamp, wire};

use crate::{Env, Result, rfc3339};

use super::{
    date,
    generator::{A, Base, Form, Gen, causes},
    ts,
};

/// Adds the vectors of invalid claims under valid signatures.
pub(super) fn cases(g: &mut Gen, b: &Base<'_>) -> Result<()> {
    let ia = &b.ia;
    let (basic_file, not_before, now) = (b.basic_file, b.not_before, g.t.now);

    // ================= invalid claims, valid signatures =================
    let env = Env { now: rfc3339(ts(2031, 1, 1, 0, 0, 0)?), ..g.env() };
    g.vector(
        "license-expired",
        basic_file,
        "Checked at 2031-01-01T00:00:00Z, the first second after the expiry date 2030-12-31.",
        A,
        env,
        causes(&["license_expired"]),
    );
    let env = Env { version: "11.1.3".into(), ..g.env() };
    g.vector(
        "version-mismatch",
        basic_file,
        "Local version 11.1.3 against licensed 11.0.",
        A,
        env,
        causes(&["version_mismatch"]),
    );
    for (name, local, description) in [
        (
            "version-minor-01",
            "11.01",
            "Local version 11.01 against licensed 11.0: the minor is 1, not a string prefix match.",
        ),
        (
            "version-arabic-indic-digits",
            "\u{661}\u{661}.0",
            "Local version \u{661}\u{661}.0 (Arabic-Indic digits one one) against licensed 11.0: only ASCII digits are digits.",
        ),
        (
            "version-fullwidth-digits",
            "\u{ff11}\u{ff11}.0",
            "Local version \u{ff11}\u{ff11}.0 (fullwidth digits) against licensed 11.0: only ASCII digits are digits.",
        ),
        ("version-major-only", "11", "Local version 11 against licensed 11.0: no minor, so it matches nothing."),
        (
            "version-minor-overflow",
            "11.65536",
            "Local version 11.65536 against licensed 11.0: a number above 65535 matches nothing.",
        ),
    ] {
        let env = Env { version: local.into(), ..g.env() };
        g.vector(name, basic_file, description, A, env, causes(&["version_mismatch"]));
    }
    let env = Env { app_name: "FineBI".into(), ..g.env() };
    g.vector(
        "app-name-mismatch",
        basic_file,
        "Local application FineBI, licensed FineReport.",
        A,
        env,
        causes(&["app_name_mismatch"]),
    );
    let env = Env { nodes: 2, ..g.env() };
    g.vector(
        "license-exhausted",
        basic_file,
        "2 nodes in the cluster, 1 allowed.",
        A,
        env,
        causes(&["license_exhausted"]),
    );
    let env = Env { project: "Webroot".into(), ..g.env() };
    g.vector(
        "project-content-mismatch",
        basic_file,
        "Local project Webroot, licensed webroot: the comparison is exact.",
        A,
        env,
        causes(&["project_content_mismatch"]),
    );
    let env = Env { method: "private-cloud".into(), ..g.env() };
    g.vector(
        "license-type-mismatch",
        basic_file,
        "A local-container license checked with the private-cloud method selected.",
        A,
        env,
        causes(&["license_type_mismatch"]),
    );
    let env = Env { now: rfc3339(Timestamp(not_before.0 - 301)), ..g.env() };
    g.vector(
        "not-yet-valid",
        "not-before-2027.lic",
        "not_before 2027-01-01T00:00:00Z checked 301 s before it: beyond the 300 s tolerance.",
        A,
        env,
        causes(&["not_yet_valid"]),
    );
    let env = Env { last_seen: Some(rfc3339(Timestamp(now.0 + 301))), ..g.env() };
    g.vector(
        "clock-rollback",
        basic_file,
        "The last-seen time is 301 s after now: the clock was moved back beyond the tolerance.",
        A,
        env,
        causes(&["clock_rollback"]),
    );

    let mut p = g.payload("all-causes");
    p.expiry = wire::Expiry::On(date(2026, 3, 31));
    p.not_before = ts(2026, 9, 1, 0, 0, 0)?.0;
    g.signed("all-causes.lic", ia, &p, Form::Armored(&[]))?;
    let env = Env {
        app_name: "FineBI".into(),
        version: "10.0".into(),
        project: "other".into(),
        nodes: 3,
        method: "private-cloud".into(),
        now: rfc3339(now),
        last_seen: Some(rfc3339(ts(2026, 7, 1, 0, 0, 0)?)),
    };
    g.vector(
        "all-causes",
        "all-causes.lic",
        "Every environment cause at once, reported in the fixed order: a validly signed license that expired \
         2026-03-31 yet is not valid before 2026-09-01, checked on 2026-06-01 by FineBI 10.0 on 3 nodes, project \
         other, private-cloud method, after a last-seen time of 2026-07-01.",
        A,
        env,
        causes(&[
            "license_expired",
            "version_mismatch",
            "app_name_mismatch",
            "license_exhausted",
            "project_content_mismatch",
            "license_type_mismatch",
            "not_yet_valid",
            "clock_rollback",
        ]),
    );
    let env = Env {
        project: "other".into(),
        now: rfc3339(ts(2031, 1, 1, 0, 0, 0)?),
        last_seen: Some(rfc3339(ts(2032, 1, 1, 0, 0, 0)?)),
        ..g.env()
    };
    g.vector(
        "three-causes",
        basic_file,
        "Expired, other project, clock rolled back: three causes, in order.",
        A,
        env,
        causes(&["license_expired", "project_content_mismatch", "clock_rollback"]),
    );
    Ok(())
}
