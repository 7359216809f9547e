//! Writing one prepared message's decision, under the write lock and in
//! the caller's transaction: a duplicate of an earlier decision, an
//! automatic mail ignored, a destroy request carried out, a resend joined
//! to the held request, the live license sent again, or the decision the
//! request got (its license, its reply, its audit entry).

use std::path::Path;

use fanlic_formats::Timestamp;

use super::INGEST_ACTOR;
use super::decide::{self, Outcome, Reason, RevokePlan};
use super::files::license_path;
use super::incoming::Incoming;
use super::notify;
use super::outcome::{IngestOutcome, OutcomeKind};
use super::prepare::Prepared;
use super::private_cloud;
use super::replies::{license_reply, rejection_reply};
use crate::Error;
use crate::license::issue;
use crate::license::live::{self, Standing};
use crate::mail::message::RegistrationMail;
use crate::outbox;
use crate::revoke;
use crate::store::{
    self, Tx,
    audit::Action,
    decisions::{DecisionEvent, DecisionKind, EarlierDecision, NewDecision, ReasonCode},
    requests::RequestKeys,
};
use crate::util::hex;

fn pairs(reasons: &[Reason]) -> Vec<(String, String)> {
    reasons.iter().map(|r| (r.code.as_str().to_owned(), r.message.clone())).collect()
}

/// Writes one prepared message's decision in the caller's transaction.
///
/// Here, under the write lock, the request meets what is recorded: an
/// earlier decision of the same message (a duplicate), a held decision of
/// the same request (the resend joins it), and the live licenses of its
/// company ([`live::standing`]: the same project's license is sent again,
/// other terms or a look-alike project are held, a new project past the
/// contract's count is rejected). A migration supersedes by design and is
/// not held.
pub(crate) fn record(
    tx: &Tx<'_>,
    home_dir: &Path,
    (item, mut p): (&Incoming, Prepared),
    (reply_from, now): (&str, Timestamp),
) -> Result<IngestOutcome, Error> {
    let signed = core::mem::replace(&mut p.signed, Ok(None));
    let reply = p.reply.take();
    let mail = p.mail.as_ref();
    let message_id = mail.and_then(|m| m.message_id.clone());
    let from = mail.and_then(|m| m.single_from().map(str::to_owned).or_else(|| m.from.first().cloned()));
    // Everything read before writing, in one statement (one round trip).
    let issue_plan = match (&p.decision.outcome, mail) {
        (Outcome::Issue(plan), Some(_)) if plan.migration.is_none() => Some(plan),
        _ => None,
    };
    let reply_to = reply.as_ref().map(outbox::CheckedReply::recipient);
    let mut found = tx.request_lookup(&RequestKeys {
        dedup_key: &p.dedup_key,
        authenticated: p.auth_ok,
        request_key: p.request_key.as_deref(),
        reply_to: reply_to.as_deref(),
        project: issue_plan.map(|plan| (plan.company.as_str(), plan.app, plan.project.as_str())),
    })?;
    if let Some(EarlierDecision { id, decision: what, license_id, decided_at }) = found.earlier.take() {
        let reasons = vec![(
            ReasonCode::Duplicate.as_str().to_owned(),
            format!("This message was already decided ({what}, decision {id}); nothing was done again."),
        )];
        tx.decision_event(&DecisionEvent {
            decision_id: Some(id),
            dedup_key: &p.dedup_key,
            action: Action::Duplicate,
            reasons: &reasons,
            license_id: license_id.as_deref(),
            at: now,
            by: INGEST_ACTOR,
        })?;
        return Ok(IngestOutcome {
            source: item.source().to_owned(),
            message_id,
            from,
            decision: OutcomeKind::Duplicate,
            reasons,
            license_id,
            files: Vec::new(),
            decision_id: Some(id),
            outbox_id: None,
            earlier_decided_at: Some(decided_at),
            pending_file: None,
            image_owed: false,
        });
    }
    if let Some(loop_kind) = &p.automatic {
        let reasons = vec![(loop_kind.code().to_owned(), loop_kind.message())];
        return decide(tx, (item, &p), Decided::new(DecisionKind::Ignored, Action::Ignored, reasons), now);
    }
    if let Some((plan, mails)) = p.destroy {
        return record_destroy(tx, (item, mail, &p.dedup_key, p.auth_ok, p.raw_sha256), (plan, mails), now);
    }

    let decision = &p.decision;
    // A resend of a request staff still hold joins it: one item to decide.
    if matches!(decision.outcome, Outcome::Issue(_) | Outcome::Hold(_))
        && p.request_key.is_some()
        && let Some(held_id) = found.held
    {
        let reasons = vec![(
            ReasonCode::JoinedHeld.as_str().to_owned(),
            format!("A resend of the request held as decision {held_id}; staff decide them together."),
        )];
        let mut d = Decided::new(DecisionKind::Joined, Action::Joined, reasons);
        d.joined_to = Some(held_id);
        return decide(tx, (item, &p), d, now);
    }
    if let (Some(plan), Some(m)) = (issue_plan, mail) {
        let standing = live::standing_from(
            tx,
            (&plan.company, &plan.project),
            &terms_of(plan),
            Some(plan.max_licenses),
            (found.live.take(), found.live_count),
        )?;
        if let Standing::Same(l) = standing {
            return record_resent(tx, (item, &p, m), (plan, l), (reply_from, now));
        }
        if let Some(reason) = decide::standing_reason(&standing, &plan.project) {
            let reasons = pairs(core::slice::from_ref(&reason));
            let mut d = if matches!(standing, Standing::Full { .. }) {
                let mut d = Decided::new(DecisionKind::Rejected, Action::Rejected, reasons);
                if decision.reply_allowed {
                    let reply = rejection_reply(reply_from, &plan.sender, m, core::slice::from_ref(&reason));
                    d.outbox_id = Some(outbox::enqueue_checked(tx, outbox::CheckedReply::new(reply, now)?, now)?);
                }
                d
            } else {
                Decided::new(DecisionKind::Held, Action::Held, reasons)
            };
            d.license_id = None;
            let held = d.label == DecisionKind::Held;
            let outcome = decide(tx, (item, &p), d, now)?;
            if held && let Some(id) = outcome.decision_id {
                notify::queue_held_notice(tx, (id, reply_from), mail, from.as_deref(), &[reason], now)?;
            }
            return Ok(outcome);
        }
    }

    // Not decided before: a signing error counts now.
    let signed = signed?;
    let path = tx.path();
    let (label, action, reasons, license_id) = match (&decision.outcome, &signed, mail) {
        (Outcome::Issue(plan), Some(s), Some(_)) => {
            // A migration: the old license is revoked and superseded with
            // the new one recorded, in this message's savepoint.
            if let Some(m) = plan.migration.filter(|m| m.revoke) {
                let reason = private_cloud::migrated_reason(&s.license_id);
                revoke::revoke_in(tx, &m.old.to_string(), &reason, INGEST_ACTOR, now)?;
            }
            if let Some(m) = plan.migration {
                let old = m.old.to_string();
                tx.set_license_state(&old, live::LicenseState::Superseded)?;
                let why = format!("superseded by {}", s.license_id);
                let entry = crate::store::audit::Entry {
                    license_id: Some(&old),
                    why: &why,
                    ..crate::store::audit::Entry::new(Action::Supersede, INGEST_ACTOR, now)
                };
                tx.audit(&entry)?;
            }
            let output = license_path(home_dir, &s.license_id.to_string());
            issue::record_license(tx, s, &output)?;
            (DecisionKind::Issued, Action::Issued, Vec::new(), Some(s.license_id.to_string()))
        }
        (Outcome::Reject(rs), _, Some(_)) => (DecisionKind::Rejected, Action::Rejected, pairs(rs), None),
        (Outcome::Hold(rs), _, _) => (DecisionKind::Held, Action::Held, pairs(rs), None),
        (Outcome::Issue(_), _, _) => {
            return Err(store::corrupt(path, "a decision seen before this message vanished; ingest it again"));
        }
        (outcome, _, _) => (DecisionKind::Rejected, Action::Rejected, pairs(outcome_reasons(outcome)), None),
    };
    // The reply was built and checked when the message was prepared.
    let outbox_id = match reply {
        Some(reply) => Some(outbox::enqueue_looked_up(tx, reply, now, found.reply_to_contract)?),
        None => None,
    };
    let image_owed = label == DecisionKind::Issued
        && matches!(&decision.outcome, Outcome::Issue(plan) if plan.kind == fanlic_formats::LicenseKind::PrivateCloud);
    let pending_file = signed.as_ref().filter(|_| label == DecisionKind::Issued).map(|s| s.armored.clone());
    let mut d = Decided::new(label, action, reasons);
    d.license_id = license_id;
    d.outbox_id = outbox_id;
    let mut outcome = decide(tx, (item, &p), d, now)?;
    // A new held request (a resend joined to one returned above): staff are told.
    if let (Outcome::Hold(rs), Some(id)) = (&decision.outcome, outcome.decision_id) {
        notify::queue_held_notice(tx, (id, reply_from), mail, from.as_deref(), rs, now)?;
    }
    outcome.image_owed = image_owed;
    outcome.pending_file = pending_file;
    Ok(outcome)
}

/// What [`decide`] records.
struct Decided {
    label: DecisionKind,
    action: Action,
    reasons: Vec<(String, String)>,
    license_id: Option<String>,
    outbox_id: Option<i64>,
    joined_to: Option<i64>,
}

impl Decided {
    fn new(label: DecisionKind, action: Action, reasons: Vec<(String, String)>) -> Self {
        Self { label, action, reasons, license_id: None, outbox_id: None, joined_to: None }
    }
}

/// Records a decision row (and its audit entry) for a prepared message.
fn decide(tx: &Tx<'_>, (item, p): (&Incoming, &Prepared), d: Decided, now: Timestamp) -> Result<IngestOutcome, Error> {
    let mail = p.mail.as_ref();
    let source = item.source().to_owned();
    let message_id = mail.and_then(|m| m.message_id.clone());
    let from = mail.and_then(|m| m.single_from().map(str::to_owned).or_else(|| m.from.first().cloned()));
    let raw_sha256 = hex::encode(&p.raw_sha256);
    let decision_id = tx.insert_decision(&NewDecision {
        dedup_key: &p.dedup_key,
        message_id: message_id.as_deref(),
        source: &source,
        from: from.as_deref().unwrap_or_default(),
        subject: mail.map(|m| m.subject.as_str()).unwrap_or_default(),
        decision: d.label,
        action: d.action,
        reasons: &d.reasons,
        license_id: d.license_id.as_deref(),
        authenticated: p.auth_ok,
        raw: item.raw(),
        raw_size: item.size(),
        raw_sha256: &raw_sha256,
        outbox_id: d.outbox_id,
        at: now,
        by: INGEST_ACTOR,
        request_key: p.request_key.as_deref(),
        joined_to: d.joined_to,
    })?;
    Ok(IngestOutcome {
        source,
        message_id,
        from,
        decision: OutcomeKind::Decided(d.label),
        reasons: d.reasons,
        license_id: d.license_id,
        files: Vec::new(),
        decision_id: Some(decision_id),
        outbox_id: d.outbox_id,
        earlier_decided_at: None,
        pending_file: None,
        image_owed: false,
    })
}

/// The terms of a plan, as [`live::standing`] compares them.
pub(crate) fn terms_of(plan: &decide::IssuePlan) -> live::Terms {
    live::Terms { kind: plan.kind, version: plan.version, nodes: plan.nodes, expiry: plan.expiry }
}

/// How long after one resent reply the next resend of the same license is
/// recorded without an answer: a customer's "send again" loop, or a mail
/// loop, gets one reply a day.
pub const RESEND_INTERVAL_SECS: u64 = 24 * 60 * 60;

/// A resend of a request whose project already holds a live license with
/// the same terms: no new license; the live one goes out again (its image
/// too, for private cloud), at most once per license per
/// [`RESEND_INTERVAL_SECS`].
fn record_resent(
    tx: &Tx<'_>,
    (item, p, mail): (&Incoming, &Prepared, &RegistrationMail),
    (plan, live): (&decide::IssuePlan, live::LiveLicense),
    (reply_from, now): (&str, Timestamp),
) -> Result<IngestOutcome, Error> {
    let last = tx.last_resent_at(&live.license_id)?;
    let limited = last.is_some_and(|t| now.0.saturating_sub(t.0) < RESEND_INTERVAL_SECS);
    let answer = p.decision.reply_allowed && !limited;
    let (code, message) = if limited {
        (
            ReasonCode::ResendLimited,
            format!(
                "Project {:?} already has license {}; it was sent again less than 24 hours ago, so this resend \
                 is recorded and not answered.",
                plan.project, live.license_id
            ),
        )
    } else {
        (
            ReasonCode::Resent,
            format!(
                "Project {:?} already has license {} with these terms; it is sent again (no new license).",
                plan.project, live.license_id
            ),
        )
    };
    let mut d = Decided::new(DecisionKind::Resent, Action::Resent, vec![(code.as_str().to_owned(), message)]);
    d.license_id = Some(live.license_id.clone());
    let private_cloud = plan.kind == fanlic_formats::LicenseKind::PrivateCloud;
    if answer && !private_cloud {
        let reply = license_reply(reply_from, &plan.sender, mail, &live.armored);
        d.outbox_id = Some(outbox::enqueue_checked(tx, outbox::CheckedReply::new(reply, now)?, now)?);
    }
    let mut outcome = decide(tx, (item, p), d, now)?;
    // The image and its reply follow the commit, as for a new license.
    outcome.image_owed = answer && private_cloud;
    Ok(outcome)
}

/// Records a destroy request carried out: the license revoked (audited as
/// `fanlic revoke` does), its confirmation mails queued, and the decision
/// (`issued`: the request was granted; no license of its own; the revoked
/// license in its reasons as `license_revoked`), in the caller's
/// transaction.
fn record_destroy(
    tx: &Tx<'_>,
    (item, mail, dedup_key, authenticated, raw_sha256): (&Incoming, Option<&RegistrationMail>, &str, bool, [u8; 32]),
    (plan, mails): (RevokePlan, Result<Vec<outbox::CheckedReply>, String>),
    now: Timestamp,
) -> Result<IngestOutcome, Error> {
    let lid = plan.license_id.to_string();
    revoke::revoke_in(tx, &lid, &plan.reason, INGEST_ACTOR, now)?;
    let (outbox_id, note) = match mails {
        Ok(replies) => {
            let mut first = None;
            for r in replies {
                let id = outbox::enqueue_checked(tx, r, now)?;
                first = first.or(Some(id));
            }
            (first, String::from("; a confirmation mail is queued"))
        }
        Err(why) => (None, format!("; no confirmation mail: {why}")),
    };
    let reasons = vec![(
        ReasonCode::LicenseRevoked.as_str().to_owned(),
        format!("License {lid} was revoked at the customer's request (destroy the old authorization component){note}."),
    )];
    let source = item.source().to_owned();
    let message_id = mail.and_then(|m| m.message_id.clone());
    let from = mail.and_then(|m| m.single_from().map(str::to_owned));
    let raw_sha256 = hex::encode(&raw_sha256);
    let decision_id = tx.insert_decision(&NewDecision {
        dedup_key,
        message_id: message_id.as_deref(),
        source: &source,
        from: from.as_deref().unwrap_or_default(),
        subject: mail.map(|m| m.subject.as_str()).unwrap_or_default(),
        decision: DecisionKind::Revoked,
        action: Action::Destroyed,
        reasons: &reasons,
        license_id: None,
        authenticated,
        raw: item.raw(),
        raw_size: item.size(),
        raw_sha256: &raw_sha256,
        outbox_id,
        at: now,
        by: INGEST_ACTOR,
        request_key: None,
        joined_to: None,
    })?;
    Ok(IngestOutcome {
        source,
        message_id,
        from,
        decision: OutcomeKind::Decided(DecisionKind::Revoked),
        reasons,
        license_id: Some(lid),
        files: Vec::new(),
        decision_id: Some(decision_id),
        outbox_id,
        earlier_decided_at: None,
        pending_file: None,
        image_owed: false,
    })
}

fn outcome_reasons(outcome: &Outcome) -> &[Reason] {
    match outcome {
        Outcome::Issue(_) => &[],
        Outcome::Reject(r) | Outcome::Hold(r) => r,
    }
}
