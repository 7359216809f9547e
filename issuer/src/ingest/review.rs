//! Staff's side of ingestion: the held decisions (`fanlic review`), and
//! settling one: `approve` (validated again as if the sender were
//! authenticated, then issued, or the live license resent) or `reject`
//! (with a reason, and a reply only to an authenticated contract address).
//! A held decision is settled once: the update names its held state, so a
//! concurrent settlement is refused.

use std::path::PathBuf;

use fanlic_formats::Timestamp;
use serde_json::{Value, json};

use super::decide::{self, Decision, Outcome, Reason};
use super::files::{license_path, write_license_file};
use super::outcome::{IngestOutcome, OutcomeKind};
use super::pipeline::decision_outbox;
use super::prepare::contracts_of;
use super::private_cloud;
use super::record::terms_of;
use super::replies::{license_reply, rejection_reply};
use crate::Error;
use crate::Home;
use crate::contracts;
use crate::license::issue;
use crate::license::live::{self, Standing};
use crate::mail::message::{self, RegistrationMail};
use crate::outbox;
use crate::store::{
    self, Tx,
    audit::Action,
    decisions::{DecisionEvent, DecisionKind, DecisionRow, RawCopy, ReasonCode, Settlement},
};

impl DecisionRow {
    /// The fields of the message, when it is kept whole (a cut or pruned
    /// copy is not parsed: what it would show could mislead).
    fn mail(&self) -> Option<RegistrationMail> {
        (self.raw_kept == RawCopy::Whole).then(|| message::parse(&self.raw).ok()).flatten()
    }

    /// What is kept of the message, for people; `None` when it is whole.
    pub fn raw_note(&self) -> Option<String> {
        match self.raw_kept {
            RawCopy::Whole => None,
            RawCopy::Truncated => Some(format!(
                "only the first {} of its {} bytes are kept (rejected or ignored mail); SHA-256 {}",
                self.raw.len(),
                self.raw_size,
                self.raw_sha256
            )),
            RawCopy::Pruned => Some(format!(
                "its raw copy ({} bytes) was removed by `fanlic prune`; SHA-256 {}",
                self.raw_size, self.raw_sha256
            )),
        }
    }

    /// As JSON, with the fields parsed from the message.
    pub fn to_json(&self) -> Value {
        let mail = self.mail();
        json!({
            "id": self.id,
            "source": self.source,
            "message_id": self.message_id,
            "from": self.from,
            "subject": self.subject,
            "decision": self.decision.as_str(),
            "reasons": self.reasons.iter().map(|(c, m)| json!({"code": c, "message": m})).collect::<Vec<_>>(),
            "license_id": self.license_id,
            "authenticated": self.authenticated,
            "company": mail.as_ref().and_then(decide::company_named),
            "reply_to": mail.as_ref().map(|m| m.reply_to.clone()).unwrap_or_default(),
            "text": mail.as_ref().map(|m| m.text.clone()).unwrap_or_default(),
            "decided_at": self.decided_at.to_string(),
            "decided_by": self.decided_by,
            "resends_joined": self.resends_joined,
            "raw": {
                "kept": self.raw_kept.as_str(),
                "stored_bytes": self.raw.len(),
                "size": self.raw_size,
                "sha256": self.raw_sha256,
            },
        })
    }

    /// For people.
    pub fn human(&self) -> String {
        let mail = self.mail();
        let mut out = format!(
            "#{id} {decision}  {from}  \"{subject}\"\n  source: {source}\n  message id: {mid}\n  authenticated: {auth}\n  company named: {company}\n  decided {at} by {by}\n",
            id = self.id,
            decision = self.decision,
            from = if self.from.is_empty() { "(no sender)" } else { &self.from },
            subject = self.subject,
            source = self.source,
            mid = self.message_id.as_deref().unwrap_or("(none)"),
            auth = if self.authenticated { "yes" } else { "no" },
            company = mail.as_ref().and_then(decide::company_named).unwrap_or_else(|| "(none)".to_owned()),
            at = self.decided_at,
            by = self.decided_by,
        );
        for (c, m) in &self.reasons {
            out.push_str(&format!("  - {c}: {m}\n"));
        }
        if self.resends_joined > 0 {
            out.push_str(&format!(
                "  resent {} more time(s) while held; those mails joined this one\n",
                self.resends_joined
            ));
        }
        if let Some(note) = self.raw_note() {
            out.push_str(&format!("  message: {note}\n"));
        }
        if let Some(m) = &mail {
            for line in m.text.lines().take(20) {
                out.push_str(&format!("  | {line}\n"));
            }
        }
        out
    }
}

/// Decisions held for staff, oldest first.
pub fn review(home: &mut Home) -> Result<Vec<DecisionRow>, Error> {
    home.store().read(|tx| tx.held_decisions())
}

/// One decision by id.
pub fn decision(home: &mut Home, id: i64) -> Result<Option<DecisionRow>, Error> {
    home.store().read(|tx| tx.decision(id))
}

fn held(home: &mut Home, id: i64) -> Result<DecisionRow, Error> {
    let row = decision(home, id)?
        .ok_or_else(|| Error::input("ID", &id.to_string(), "no such decision: `fanlic review` lists held ones"))?;
    if !row.decision.is_hold() {
        return Err(Error::input(
            "ID",
            &id.to_string(),
            format!("decision {id} is {}, not held: only held decisions can be approved or rejected", row.decision),
        ));
    }
    Ok(row)
}

/// Staff approve a held decision: the mail is validated again as if its
/// sender were authenticated (staff checked it), with the holds approving
/// resolves set aside ([`decide::validate_for_approval`]: a special
/// requirements note, repeated fields); if that gives a license, it is
/// issued now, recorded and (for an authenticated sender only) a reply
/// queued. Refused, with the reasons, when anything else is still wrong
/// (for example the contract no longer exists, or private cloud).
pub fn approve(home: &mut Home, id: i64, by: &str, now: Timestamp) -> Result<IngestOutcome, Error> {
    let row = held(home, id)?;
    if let Some(note) = row.raw_note() {
        return Err(Error::input("ID", &id.to_string(), format!("the held message is not whole: {note}")));
    }
    let mail = message::parse(&row.raw)
        .map_err(|e| Error::input("ID", &id.to_string(), format!("the held message no longer parses: {e}")))?;
    let parsed = decide::ParsedRequest::of(&mail);
    let (by_company, by_sender) = contracts_of(home, &mail, &parsed)?;
    // A private-cloud license goes out as an image: its server binary is
    // read (once) before anything is signed, and the reply with the image is
    // queued by `deliver_image` after the commit, as ingest does.
    let images = private_cloud::Images::default();
    let images_unavailable = images.get(home).err().map(str::to_owned);
    let d: Decision = decide::validate_for_approval(
        &mail,
        &parsed,
        (by_company.as_ref(), by_sender.as_ref()),
        now,
        by,
        images_unavailable.as_deref(),
    );
    let Outcome::Issue(plan) = &d.outcome else {
        let why: Vec<String> = d.reasons().iter().map(|r| format!("{}: {}", r.code, r.message)).collect();
        return Err(Error::input(
            "ID",
            &id.to_string(),
            format!("cannot issue this request as it stands ({}); use `fanlic reject`", why.join("; ")),
        ));
    };
    let private_cloud = plan.kind == fanlic_formats::LicenseKind::PrivateCloud;
    // One live license per project: approving a request whose project has a
    // live license with other terms reissues it (the new license supersedes
    // the old, which is revoked); one with the same terms sends it again.
    let similar_is_new = row.has_reason(ReasonCode::SimilarProject);
    let standing_of = |tx: &Tx<'_>| -> Result<Standing, Error> {
        if plan.migration.is_some() {
            return Ok(Standing::Free);
        }
        live::standing(
            tx,
            (&plan.company, plan.app, &plan.project),
            &terms_of(plan),
            (Some(plan.max_licenses), similar_is_new),
        )
    };
    let standing = home.store().read(standing_of)?;
    let mut request = plan.to_request(PathBuf::new(), false);
    match &standing {
        Standing::Free => {}
        Standing::Differs(l, _) => {
            request.supersedes = Some(l.license_id.parse().map_err(|_| {
                store::corrupt(home.db_path(), format!("a license id {:?} does not parse", l.license_id))
            })?)
        }
        Standing::Same(l) => return approve_as_resend(home, (id, &row, &mail, &d), plan, l.clone(), (by, now)),
        other => {
            let why = decide::standing_reason(other, &plan.project).map(|r| r.message).unwrap_or_default();
            return Err(Error::input(
                "ID",
                &id.to_string(),
                format!(
                    "cannot issue this request as it stands ({why}); use `fanlic reject`, or raise the contract's \
                     count with `fanlic contract update --max-licenses N`"
                ),
            ));
        }
    }
    let signed = home.sign_license(&request, now)?;
    let home_dir = home.dir().to_owned();
    let reply_from = home.reply_from()?;
    let lid = signed.license_id.to_string();
    let outbox_id = home.store_mut().write(|tx| {
        // Checked again under the write lock: a concurrent ingest or approve
        // may have issued for this project meanwhile.
        if standing_of(tx)? != standing {
            return Err(Error::input("ID", &id.to_string(), "the project's licenses changed meanwhile; approve again"));
        }
        issue::supersede_live(tx, &request, &lid, (by, now))?;
        issue::record_license(tx, &signed, &license_path(&home_dir, &lid))?;
        let outbox_id = if row.authenticated && d.reply_allowed && !private_cloud {
            Some(outbox::enqueue(tx, &license_reply(&reply_from, &plan.sender, &mail, &signed.armored), now)?)
        } else {
            None
        };
        let settled = Settlement {
            decision: DecisionKind::Issued,
            reasons: None,
            license_id: Some(&lid),
            outbox_id,
            at: now,
            by,
        };
        if !tx.settle_held(id, &settled)? {
            return Err(changed_meanwhile(id));
        }
        tx.decision_event(&DecisionEvent {
            decision_id: Some(id),
            dedup_key: &row.dedup_key,
            action: Action::Approved,
            reasons: &[],
            license_id: Some(&lid),
            at: now,
            by,
        })?;
        Ok(outbox_id)
    })?;
    let file = write_license_file(&home_dir, &lid, &signed.armored)?;
    let mut files = vec![file];
    let mut outbox_id = outbox_id;
    if private_cloud {
        // Idempotent: a crash here is repaired by the next ingest run, as
        // for an ingested request.
        if let Some(image) = private_cloud::deliver_image(home, id, &images, now)? {
            files.push(image);
        }
        outbox_id = decision_outbox(home, id)?;
    }
    Ok(IngestOutcome {
        source: row.source,
        message_id: row.message_id,
        from: Some(row.from),
        decision: OutcomeKind::Decided(DecisionKind::Issued),
        reasons: Vec::new(),
        license_id: Some(lid),
        files,
        decision_id: Some(id),
        outbox_id,
        pending_file: None,
        image_owed: false,
    })
}

/// Approving a held request whose project already has a live license
/// with the same terms: no new license; the decision becomes `resent` and
/// the live license goes out again (its image after the commit, for private
/// cloud).
fn approve_as_resend(
    home: &mut Home,
    (id, row, mail, d): (i64, &DecisionRow, &RegistrationMail, &Decision),
    plan: &decide::IssuePlan,
    live: live::LiveLicense,
    (by, now): (&str, Timestamp),
) -> Result<IngestOutcome, Error> {
    let private_cloud = plan.kind == fanlic_formats::LicenseKind::PrivateCloud;
    let reply_from = home.reply_from()?;
    let reasons = vec![(
        ReasonCode::Resent.as_str().to_owned(),
        format!(
            "Project {:?} already has license {} with these terms; it is sent again.",
            plan.project, live.license_id
        ),
    )];
    let outbox_id = home.store_mut().write(|tx| {
        let outbox_id = if row.authenticated && d.reply_allowed && !private_cloud {
            Some(outbox::enqueue(tx, &license_reply(&reply_from, &plan.sender, mail, &live.armored), now)?)
        } else {
            None
        };
        let settled = Settlement {
            decision: DecisionKind::Resent,
            reasons: Some(&reasons),
            license_id: Some(&live.license_id),
            outbox_id,
            at: now,
            by,
        };
        if !tx.settle_held(id, &settled)? {
            return Err(changed_meanwhile(id));
        }
        tx.decision_event(&DecisionEvent {
            decision_id: Some(id),
            dedup_key: &row.dedup_key,
            action: Action::Resent,
            reasons: &reasons,
            license_id: Some(&live.license_id),
            at: now,
            by,
        })?;
        Ok(outbox_id)
    })?;
    let mut files = Vec::new();
    let mut outbox_id = outbox_id;
    if private_cloud {
        let images = private_cloud::Images::default();
        if let Some(image) = private_cloud::deliver_image(home, id, &images, now)? {
            files.push(image);
        }
        outbox_id = decision_outbox(home, id)?;
    }
    Ok(IngestOutcome {
        source: row.source.clone(),
        message_id: row.message_id.clone(),
        from: Some(row.from.clone()),
        decision: OutcomeKind::Decided(DecisionKind::Resent),
        reasons,
        license_id: Some(live.license_id),
        files,
        decision_id: Some(id),
        outbox_id,
        pending_file: None,
        image_owed: false,
    })
}

/// Staff reject a held decision with `reason`. A reply saying so is
/// queued when `reply` is set, the sender was authenticated and is an
/// address of an enabled contract (never to an unauthenticated sender: a
/// spoofed From would make it go to someone who never wrote).
pub fn reject(
    home: &mut Home,
    id: i64,
    reason: &str,
    reply: bool,
    by: &str,
    now: Timestamp,
) -> Result<IngestOutcome, Error> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::input("--reason", reason, "say why the request is rejected"));
    }
    let row = held(home, id)?;
    let mut reasons = row.reasons.clone();
    reasons.push((ReasonCode::StaffRejected.as_str().to_owned(), reason.to_owned()));
    let mail = if reply && row.authenticated { message::parse(&row.raw).ok() } else { None };
    let to = match &mail {
        Some(m) => match m.single_from() {
            Some(addr) => contracts::find_by_email(home, addr)?.filter(|c| c.enabled).map(|_| addr.to_owned()),
            None => None,
        },
        None => None,
    };
    let reply_from = home.reply_from()?;
    let outbox_id = home.store_mut().write(|tx| {
        let outbox_id = match (&mail, &to) {
            (Some(mail), Some(to)) => {
                let why = Reason {
                    code: ReasonCode::StaffRejected,
                    message: reason.to_owned(),
                    message_zh: reason.to_owned(),
                };
                Some(outbox::enqueue(tx, &rejection_reply(&reply_from, to, mail, &[why]), now)?)
            }
            _ => None,
        };
        let settled = Settlement {
            decision: DecisionKind::Rejected,
            reasons: Some(&reasons),
            license_id: None,
            outbox_id,
            at: now,
            by,
        };
        if !tx.settle_held(id, &settled)? {
            return Err(changed_meanwhile(id));
        }
        tx.decision_event(&DecisionEvent {
            decision_id: Some(id),
            dedup_key: &row.dedup_key,
            action: Action::StaffRejected,
            reasons: &reasons,
            license_id: None,
            at: now,
            by,
        })?;
        Ok(outbox_id)
    })?;
    Ok(IngestOutcome {
        source: row.source,
        message_id: row.message_id,
        from: Some(row.from),
        decision: OutcomeKind::Decided(DecisionKind::Rejected),
        reasons,
        license_id: None,
        files: Vec::new(),
        decision_id: Some(id),
        outbox_id,
        pending_file: None,
        image_owed: false,
    })
}

/// A held decision that changed between reading and settling it.
fn changed_meanwhile(id: i64) -> Error {
    Error::input("ID", &id.to_string(), "the decision changed meanwhile; run `fanlic review` again")
}
