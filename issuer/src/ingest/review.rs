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
use super::replies::{Licensed, license_body, license_reply, rejection_reply};
use crate::Error;
use crate::Home;
use crate::IssueRequest;
use crate::contracts;
use crate::license::issue;
use crate::license::live::{self, Standing};
use crate::mail::message::{self, RegistrationMail};
use crate::outbox::{self, Language, Reply};
use crate::store::{
    self, Tx,
    audit::Action,
    decisions::{DecisionEvent, DecisionKind, DecisionRow, RawCopy, ReasonCode, Settlement},
};

impl DecisionRow {
    /// The message, parsed, when it is kept whole (a cut or pruned copy is
    /// not parsed: what it would show could mislead).
    pub fn mail(&self) -> Option<RegistrationMail> {
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

/// What approving a held request does.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApprovalAction {
    /// A new license is issued.
    Issue,
    /// A new license is issued and supersedes the project's live one
    /// (other terms), which is revoked.
    Reissue {
        /// The live license replaced.
        supersedes: String,
    },
    /// No new license: the project's live license with the same terms is
    /// sent again.
    Resend {
        /// The live license.
        license_id: String,
    },
}

/// What approving a held request would do, built without signing or
/// writing anything ([`preview_approve`]); [`approve`] builds its reply with
/// the same code.
#[derive(Clone, Debug)]
pub struct ApprovalPreview {
    /// Issue, reissue or send again.
    pub action: ApprovalAction,
    /// The terms of the license issued (its id is empty until it is
    /// signed) or sent again.
    pub licensed: Licensed,
    /// The reply queued, if one is (its attachment's bytes are empty until
    /// the license is signed).
    pub reply: Option<Reply>,
    /// Why no reply goes out, when none does.
    pub no_reply: Option<NoReply>,
}

/// Why approving sends no reply to the customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoReply {
    /// The sender was not authenticated: a forged From would get the license.
    Unauthenticated,
    /// The request allows no automatic reply (several senders, for example).
    NotAllowed,
    /// Private cloud: the image goes out in its own mail, built after the commit.
    ImageFollows,
}

/// A held request checked for approval: everything approving needs up to
/// signing.
struct Approval {
    row: DecisionRow,
    mail: RegistrationMail,
    d: Decision,
    plan: decide::IssuePlan,
    standing: Standing,
    request: IssueRequest,
    images: private_cloud::Images,
}

impl Approval {
    fn private_cloud(&self) -> bool {
        self.plan.kind == fanlic_formats::LicenseKind::PrivateCloud
    }

    /// Why no reply goes out, if none does.
    fn no_reply(&self) -> Option<NoReply> {
        if !self.row.authenticated {
            Some(NoReply::Unauthenticated)
        } else if !self.d.reply_allowed {
            Some(NoReply::NotAllowed)
        } else if self.private_cloud() {
            Some(NoReply::ImageFollows)
        } else {
            None
        }
    }

    /// The reply carrying `armored` (what [`approve`] queues), if one goes out.
    fn reply(&self, reply_from: &str, armored: &str) -> Option<Reply> {
        self.no_reply().is_none().then(|| license_reply(reply_from, &self.plan.sender, &self.mail, armored))
    }

    fn standing_of(&self, tx: &Tx<'_>) -> Result<Standing, Error> {
        approval_standing(tx, &self.plan, self.row.has_reason(ReasonCode::SimilarProject))
    }
}

/// Where the plan's project stands: one live license per project; a
/// migration supersedes by design.
fn approval_standing(tx: &Tx<'_>, plan: &decide::IssuePlan, similar_is_new: bool) -> Result<Standing, Error> {
    if plan.migration.is_some() {
        return Ok(Standing::Free);
    }
    live::standing(
        tx,
        (&plan.company, plan.app, &plan.project),
        &terms_of(plan),
        (Some(plan.max_licenses), similar_is_new),
    )
}

/// Checks a held request for approval; refused, with the reasons, when it
/// cannot be approved as it stands.
fn check_approval(home: &mut Home, id: i64, by: &str, now: Timestamp) -> Result<Approval, Error> {
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
    let Outcome::Issue(plan) = d.outcome.clone() else {
        let why: Vec<String> = d.reasons().iter().map(|r| format!("{}: {}", r.code, r.message)).collect();
        return Err(Error::input(
            "ID",
            &id.to_string(),
            format!("cannot issue this request as it stands ({}); use `fanlic reject`", why.join("; ")),
        ));
    };
    // One live license per project: approving a request whose project has a
    // live license with other terms reissues it (the new license supersedes
    // the old, which is revoked); one with the same terms sends it again.
    let similar_is_new = row.has_reason(ReasonCode::SimilarProject);
    let standing = home.store().read(|tx| approval_standing(tx, &plan, similar_is_new))?;
    let mut request = plan.to_request(PathBuf::new(), false);
    match &standing {
        Standing::Free | Standing::Same(_) => {}
        Standing::Differs(l, _) => {
            request.supersedes = Some(l.license_id.parse().map_err(|_| {
                store::corrupt(home.db_path(), format!("a license id {:?} does not parse", l.license_id))
            })?)
        }
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
    Ok(Approval { row, mail, d, plan, standing, request, images })
}

/// What [`approve`] would do with the held decision `id`, checked the same
/// way, with nothing signed or written: issue, reissue or send again, the
/// license's terms, and the reply to the customer (or why there is none).
/// Refused, with the reasons, as [`approve`] would be.
pub fn preview_approve(home: &mut Home, id: i64, by: &str, now: Timestamp) -> Result<ApprovalPreview, Error> {
    let a = check_approval(home, id, by, now)?;
    let reply_from = home.reply_from()?;
    let (action, licensed, armored) = match &a.standing {
        Standing::Same(l) => {
            let licensed = Licensed::of_armored(&l.armored).unwrap_or_else(|| planned(&a.plan, &l.license_id));
            (ApprovalAction::Resend { license_id: l.license_id.clone() }, licensed, l.armored.clone())
        }
        Standing::Differs(l, _) => {
            (ApprovalAction::Reissue { supersedes: l.license_id.clone() }, planned(&a.plan, ""), String::new())
        }
        _ => (ApprovalAction::Issue, planned(&a.plan, ""), String::new()),
    };
    let mut reply = a.reply(&reply_from, &armored);
    if let Some(r) = reply.as_mut()
        && armored.is_empty()
    {
        // The license is not signed yet: its terms come from the plan, as
        // the signed license will state them; its id is said to follow.
        let id = match r.language {
            Language::Zh => "（签发时生成）",
            _ => "(given when the license is signed)",
        };
        r.body = license_body(Some(&Licensed { license_id: id.to_owned(), ..licensed.clone() }), r.language);
    }
    Ok(ApprovalPreview { action, licensed, reply, no_reply: a.no_reply() })
}

/// The terms a plan gives, as a reply states them.
fn planned(plan: &decide::IssuePlan, license_id: &str) -> Licensed {
    Licensed {
        license_id: license_id.to_owned(),
        company: plan.company.clone(),
        project: plan.project.clone(),
        app: plan.app.to_owned(),
        version: plan.version,
        kind: plan.kind,
        nodes: plan.nodes,
        expiry: plan.expiry,
        policy: plan.activation_policy,
    }
}

/// Staff approve a held decision: the mail is validated again as if its
/// sender were authenticated (staff checked it), with the holds approving
/// resolves set aside ([`decide::validate_for_approval`]: a special
/// requirements note, repeated fields); if that gives a license, it is
/// issued now, recorded and (for an authenticated sender only) a reply
/// queued. Refused, with the reasons, when anything else is still wrong
/// (for example the contract no longer exists, or private cloud).
///
/// A project with a live license of other terms gets a new license that
/// supersedes it (a reissue: the old one is revoked); one with the same
/// terms gets its live license sent again. [`preview_approve`] shows which,
/// before.
pub fn approve(home: &mut Home, id: i64, by: &str, now: Timestamp) -> Result<IngestOutcome, Error> {
    let a = check_approval(home, id, by, now)?;
    if let Standing::Same(l) = &a.standing {
        let l = l.clone();
        return approve_as_resend(home, &a, l, (by, now));
    }
    let Approval { row, request, images, standing, .. } = &a;
    let private_cloud = a.private_cloud();
    let signed = home.sign_license(request, now)?;
    let home_dir = home.dir().to_owned();
    let reply_from = home.reply_from()?;
    let lid = signed.license_id.to_string();
    let outbox_id = home.store_mut().write(|tx| {
        // Checked again under the write lock: a concurrent ingest or approve
        // may have issued for this project meanwhile.
        if a.standing_of(tx)? != *standing {
            return Err(Error::input("ID", &id.to_string(), "the project's licenses changed meanwhile; approve again"));
        }
        issue::supersede_live(tx, request, &lid, (by, now))?;
        issue::record_license(tx, &signed, &license_path(&home_dir, &lid))?;
        let outbox_id = match a.reply(&reply_from, &signed.armored) {
            Some(reply) => Some(outbox::enqueue(tx, &reply, now)?),
            None => None,
        };
        let settled = Settlement {
            decision: DecisionKind::Issued,
            reasons: None,
            license_id: Some(&lid),
            outbox_id,
            at: now,
            by,
        };
        settle(tx, row, &settled, Action::Approved)?;
        Ok(outbox_id)
    })?;
    let file = write_license_file(&home_dir, &lid, &signed.armored)?;
    let mut files = vec![file];
    let mut outbox_id = outbox_id;
    if private_cloud {
        // Idempotent: a crash here is repaired by the next ingest run, as
        // for an ingested request.
        if let Some(image) = private_cloud::deliver_image(home, id, images, now)? {
            files.push(image);
        }
        outbox_id = decision_outbox(home, id)?;
    }
    Ok(IngestOutcome {
        source: row.source.clone(),
        message_id: row.message_id.clone(),
        from: Some(row.from.clone()),
        decision: OutcomeKind::Decided(DecisionKind::Issued),
        reasons: Vec::new(),
        license_id: Some(lid),
        files,
        decision_id: Some(id),
        outbox_id,
        earlier_decided_at: None,
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
    a: &Approval,
    live: live::LiveLicense,
    (by, now): (&str, Timestamp),
) -> Result<IngestOutcome, Error> {
    let Approval { row, plan, .. } = a;
    let id = row.id;
    let private_cloud = a.private_cloud();
    let reply_from = home.reply_from()?;
    let reasons = vec![(
        ReasonCode::Resent.as_str().to_owned(),
        format!(
            "Project {:?} already has license {} with these terms; it is sent again.",
            plan.project, live.license_id
        ),
    )];
    let outbox_id = home.store_mut().write(|tx| {
        let outbox_id = match a.reply(&reply_from, &live.armored) {
            Some(reply) => Some(outbox::enqueue(tx, &reply, now)?),
            None => None,
        };
        let settled = Settlement {
            decision: DecisionKind::Resent,
            reasons: Some(&reasons),
            license_id: Some(&live.license_id),
            outbox_id,
            at: now,
            by,
        };
        settle(tx, row, &settled, Action::Resent)?;
        Ok(outbox_id)
    })?;
    let mut files = Vec::new();
    let mut outbox_id = outbox_id;
    if private_cloud {
        if let Some(image) = private_cloud::deliver_image(home, id, &a.images, now)? {
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
        earlier_decided_at: None,
        pending_file: None,
        image_owed: false,
    })
}

/// A standard reason staff reject a request with: its code (a form's
/// value) and its text in English and Chinese.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaffReason {
    /// The form's value.
    pub code: &'static str,
    /// English.
    pub en: &'static str,
    /// Chinese.
    pub zh: &'static str,
}

/// The standard reasons, in the order a form offers them; `other` takes
/// the free text alone.
pub const STAFF_REASONS: &[StaffReason] = &[
    StaffReason {
        code: "wrong_signing_date",
        en: "The contract signing date does not match our records.",
        zh: "合同签订日期与我们的记录不符。",
    },
    StaffReason {
        code: "nodes_over_contract",
        en: "The number of nodes is more than the contract allows.",
        zh: "集群节点数超过合同允许的数量。",
    },
    StaffReason {
        code: "unknown_contract",
        en: "We could not find a contract for this company.",
        zh: "未找到该公司的合同。",
    },
    StaffReason {
        code: "sender_not_authenticated",
        en: "We could not confirm that this mail comes from your company's address; send it again from the \
             address in the contract.",
        zh: "无法确认此邮件来自贵公司的地址，请使用合同中登记的邮箱重新发送。",
    },
    StaffReason {
        code: "duplicate",
        en: "This request duplicates one already handled.",
        zh: "此申请与已处理的申请重复。",
    },
    StaffReason { code: "other", en: "", zh: "" },
];

/// The reason of a staff rejection: the standard reason `code` (one of
/// [`STAFF_REASONS`]) followed by `text`, or `text` alone for `other`
/// (then it is required).
pub fn staff_reason(code: &str, text: &str) -> Result<Reason, Error> {
    let text = text.trim();
    let std = STAFF_REASONS.iter().find(|r| r.code == code).ok_or_else(|| {
        let codes: Vec<&str> = STAFF_REASONS.iter().map(|r| r.code).collect();
        Error::input("reason", code, format!("choose one of {}", codes.join(", ")))
    })?;
    let join = |a: &str| match (a.is_empty(), text.is_empty()) {
        (true, _) => text.to_owned(),
        (false, true) => a.to_owned(),
        (false, false) => format!("{a} {text}"),
    };
    let (message, message_zh) = (join(std.en), join(std.zh));
    if message.is_empty() {
        return Err(Error::input("text", text, "say why the request is rejected"));
    }
    Ok(Reason { code: ReasonCode::StaffRejected, message, message_zh })
}

/// Why a rejection sends no reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoRejectionReply {
    /// Staff asked for none.
    NotAsked,
    /// The sender was not authenticated: a spoofed From would make the
    /// reply go to someone who never wrote.
    Unauthenticated,
    /// The message is not kept whole or does not parse.
    MessageNotRead,
    /// The sender is not one address, or not one of an enabled contract.
    NotToContract,
}

/// What [`reject`] would record and send, with nothing written.
#[derive(Clone, Debug)]
pub struct RejectionPreview {
    /// The reply queued, if one is.
    pub reply: Option<Reply>,
    /// Why none is, when none is.
    pub no_reply: Option<NoRejectionReply>,
    /// The decision's reasons afterwards (`staff_rejected` last).
    pub reasons: Vec<(String, String)>,
}

/// The reply to a staff rejection of `row` for `why` (what [`reject`]
/// queues and [`preview_reject`] shows), or why there is none.
fn rejection_of(
    home: &mut Home,
    row: &DecisionRow,
    why: &Reason,
    reply: bool,
) -> Result<Result<Reply, NoRejectionReply>, Error> {
    if !reply {
        return Ok(Err(NoRejectionReply::NotAsked));
    }
    if !row.authenticated {
        return Ok(Err(NoRejectionReply::Unauthenticated));
    }
    let Some(mail) = row.mail() else { return Ok(Err(NoRejectionReply::MessageNotRead)) };
    let to = match mail.single_from() {
        Some(addr) => contracts::find_by_email(home, addr)?.filter(|c| c.enabled).map(|_| addr.to_owned()),
        None => None,
    };
    let Some(to) = to else { return Ok(Err(NoRejectionReply::NotToContract)) };
    let reply_from = home.reply_from()?;
    Ok(Ok(rejection_reply(&reply_from, &to, &mail, core::slice::from_ref(why))))
}

fn with_staff_reason(row: &DecisionRow, why: &Reason) -> Vec<(String, String)> {
    let mut reasons = row.reasons.clone();
    reasons.push((why.code.as_str().to_owned(), why.message.clone()));
    reasons
}

/// What [`reject_with`] would do with the held decision `id`: the reply (in
/// the mail's language) or why there is none, and the reasons recorded.
pub fn preview_reject(home: &mut Home, id: i64, why: &Reason, reply: bool) -> Result<RejectionPreview, Error> {
    let row = held(home, id)?;
    let r = rejection_of(home, &row, why, reply)?;
    Ok(RejectionPreview { reasons: with_staff_reason(&row, why), no_reply: r.as_ref().err().copied(), reply: r.ok() })
}

/// Settles the held decision `row` as `settled` and records its audit
/// event `action`, in the same unit of work; refused when the decision is
/// no longer held (settled meanwhile by someone else).
fn settle(tx: &Tx<'_>, row: &DecisionRow, settled: &Settlement<'_>, action: Action) -> Result<(), Error> {
    if !tx.settle_held(row.id, settled)? {
        return Err(changed_meanwhile(row.id));
    }
    tx.decision_event(&DecisionEvent {
        decision_id: Some(row.id),
        dedup_key: &row.dedup_key,
        action,
        reasons: settled.reasons.unwrap_or_default(),
        license_id: settled.license_id,
        at: settled.at,
        by: settled.by,
    })
}

/// Staff reject a held decision with `reason` (the same text in every
/// language); see [`reject_with`].
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
    let why = Reason { code: ReasonCode::StaffRejected, message: reason.to_owned(), message_zh: reason.to_owned() };
    reject_with(home, id, &why, reply, by, now)
}

/// Staff reject a held decision for `why` (its English text is recorded).
/// A reply saying so, in the mail's language, is queued when `reply` is
/// set, the sender was authenticated and is an address of an enabled
/// contract (never to an unauthenticated sender: a spoofed From would make
/// it go to someone who never wrote).
pub fn reject_with(
    home: &mut Home,
    id: i64,
    why: &Reason,
    reply: bool,
    by: &str,
    now: Timestamp,
) -> Result<IngestOutcome, Error> {
    let row = held(home, id)?;
    let reasons = with_staff_reason(&row, why);
    let reply = rejection_of(home, &row, why, reply)?.ok();
    let outbox_id = home.store_mut().write(|tx| {
        let outbox_id = match &reply {
            Some(reply) => Some(outbox::enqueue(tx, reply, now)?),
            None => None,
        };
        let settled = Settlement {
            decision: DecisionKind::Rejected,
            reasons: Some(&reasons),
            license_id: None,
            outbox_id,
            at: now,
            by,
        };
        settle(tx, &row, &settled, Action::StaffRejected)?;
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
        earlier_decided_at: None,
        pending_file: None,
        image_owed: false,
    })
}

/// A held decision that changed between reading and settling it.
fn changed_meanwhile(id: i64) -> Error {
    Error::input("ID", &id.to_string(), "the decision changed meanwhile; run `fanlic review` again")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    #[test]
    fn a_staff_reason_is_a_standard_one_with_text_or_other_with_text() {
        let r = staff_reason("duplicate", " see ticket 12 ").unwrap();
        assert_eq!(r.code, ReasonCode::StaffRejected);
        assert_eq!(r.message, "This request duplicates one already handled. see ticket 12");
        assert_eq!(r.message_zh, "此申请与已处理的申请重复。 see ticket 12");
        assert_eq!(staff_reason("duplicate", "").unwrap().message_zh, "此申请与已处理的申请重复。");
        let other = staff_reason("other", "Call us.").unwrap();
        assert_eq!((other.message.as_str(), other.message_zh.as_str()), ("Call us.", "Call us."));
        assert!(staff_reason("other", "  ").is_err());
        assert!(staff_reason("no_such_reason", "x").is_err());
        for r in STAFF_REASONS.iter().filter(|r| r.code != "other") {
            assert!(!r.en.is_empty() && !r.zh.is_empty(), "{}", r.code);
        }
    }
}
