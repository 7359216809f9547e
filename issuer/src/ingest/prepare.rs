//! The work on a message that needs no lock, done before its batch's
//! transaction: parse it, evaluate its sender with the home's trusted
//! authserv ids, look up the contracts of the company it names and of its
//! sender, [`decide`] what to do, sign the license it gets and build the
//! reply. A batch's signatures are made one after the other.

use std::path::PathBuf;

use fanlic_formats::Timestamp;

use super::decide::{self, Decision, Outcome, RevokePlan};
use super::incoming::Incoming;
use super::private_cloud::{self, Images};
use super::replies::{license_reply, rejection_reply};
use crate::Error;
use crate::Home;
use crate::contracts;
use crate::license::issue::{SignedLicense, Signer};
use crate::license::live;
use crate::mail::{
    auth, fields,
    message::{self, RegistrationMail},
};
use crate::outbox;
use crate::revoke;
use crate::util::hex;

pub(crate) fn contracts_of(
    home: &mut Home,
    mail: &RegistrationMail,
    parsed: &decide::ParsedRequest,
) -> Result<(Option<contracts::Contract>, Option<contracts::Contract>), Error> {
    ContractCache::default().contracts_of(home, mail, parsed)
}

/// Contracts looked up for one batch, by company name and by sender: a
/// batch's mails mostly come from few customers.
#[derive(Default)]
pub(crate) struct ContractCache {
    by_company: std::collections::HashMap<String, Option<contracts::Contract>>,
    by_sender: std::collections::HashMap<String, Option<contracts::Contract>>,
}

impl ContractCache {
    fn contracts_of(
        &mut self,
        home: &mut Home,
        mail: &RegistrationMail,
        parsed: &decide::ParsedRequest,
    ) -> Result<(Option<contracts::Contract>, Option<contracts::Contract>), Error> {
        let by_company = match parsed.company_named() {
            Some(name) => match self.by_company.get(&name) {
                Some(c) => c.clone(),
                None => {
                    let c = contracts::find_by_company(home, &name)?;
                    self.by_company.insert(name, c.clone());
                    c
                }
            },
            None => None,
        };
        let by_sender = match mail.single_from() {
            Some(addr) => match self.by_sender.get(addr) {
                Some(c) => c.clone(),
                None => {
                    let c = contracts::find_by_email(home, addr)?;
                    self.by_sender.insert(addr.to_owned(), c.clone());
                    c
                }
            },
            None => None,
        };
        Ok((by_company, by_sender))
    }
}

/// Whose word on the sender counts: the trusted authserv ids, and how many
/// `Received` lines of the vendor's own servers may sit above their results.
struct SenderPolicy<'a> {
    trusted: &'a [String],
    own_received_lines: usize,
}

/// A message after the work that needs no lock: parsed, its sender
/// evaluated, its contracts looked up, validated, and (if it gets a
/// license and was not decided before) its license signed.
pub(crate) struct Prepared {
    pub(crate) mail: Option<RegistrationMail>,
    pub(crate) decision: Decision,
    pub(crate) auth_ok: bool,
    pub(crate) dedup_key: String,
    pub(crate) raw_sha256: [u8; 32],
    /// The license, if the request gets one; `Err`: signing failed, which
    /// matters only if the message was not decided before.
    pub(crate) signed: Result<Option<SignedLicense>, Error>,
    /// The reply to queue with the decision, built and checked.
    pub(crate) reply: Option<outbox::CheckedReply>,
    /// A destroy request to carry out instead of the decision, with its
    /// confirmation mails (`Err`: why none may be sent).
    pub(crate) destroy: Option<(RevokePlan, Result<Vec<outbox::CheckedReply>, String>)>,
    /// [`live::request_key`] of the request, when it names one.
    pub(crate) request_key: Option<String>,
    /// A program sent it: recorded, never answered.
    pub(crate) automatic: Option<message::Automatic>,
}

/// A message parsed and validated, not signed yet.
struct Assessed {
    mail: Option<RegistrationMail>,
    decision: Decision,
    auth_ok: bool,
    sender_contract: Option<contracts::Contract>,
    dedup_key: String,
    raw_sha256: [u8; 32],
    /// A destroy request to carry out (then `decision` is not used).
    destroy: Option<RevokePlan>,
    request_key: Option<String>,
    automatic: Option<message::Automatic>,
}

/// Validates a parsed mail with what the home knows besides it: its intent
/// (migration, destroy), its `privateConfig` checked against the recorded
/// licenses, and whether images can be built (the server binary is loaded
/// only when a private-cloud license would be issued).
fn validate_mail(
    home: &mut Home,
    (mail, raw, parsed): (&RegistrationMail, &[u8], &decide::ParsedRequest),
    sender_auth: &auth::SenderAuth,
    contracts: (Option<&contracts::Contract>, Option<&contracts::Contract>),
    (images, now): (&Images, Timestamp),
) -> Result<(Decision, Option<RevokePlan>), Error> {
    let intent = decide::intent_of(mail, parsed);
    let config = match intent {
        decide::Intent::Registration => decide::ConfigCheck::Missing,
        decide::Intent::Migration | decide::Intent::Destroy => {
            private_cloud::check_private_config(home, private_cloud::private_config_of(raw).as_deref())?
        }
    };
    let mut ctx = decide::Context { intent, images_unavailable: None, config: &config };
    let mut verdict = decide::validate_request(mail, parsed, sender_auth, contracts, now, &ctx);
    let needs_image = matches!(&verdict, decide::Verdict::Decide(Decision { outcome: Outcome::Issue(plan), .. })
        if plan.kind == fanlic_formats::LicenseKind::PrivateCloud);
    if needs_image && let Err(why) = images.get(home) {
        ctx.images_unavailable = Some(why);
        verdict = decide::validate_request(mail, parsed, sender_auth, contracts, now, &ctx);
    }
    Ok(match verdict {
        decide::Verdict::Decide(d) => (d, None),
        decide::Verdict::Revoke { plan, reply_allowed } => {
            (Decision { outcome: Outcome::Hold(Vec::new()), reply_allowed }, Some(plan))
        }
    })
}

fn assess(
    home: &mut Home,
    item: &Incoming,
    policy: &SenderPolicy<'_>,
    cache: &mut ContractCache,
    (images, now): (&Images, Timestamp),
) -> Result<Assessed, Error> {
    let mut destroy = None;
    let mut request_key = None;
    let (mail, decision, auth_ok, sender_contract, raw_sha) = match item {
        Incoming::TooLarge { source, size, max, .. } => {
            let err = message::MailError::TooLarge { size: usize::try_from(*size).unwrap_or(usize::MAX), max: *max };
            // Not read: the key is of where it was and how big.
            let key = message::sha256(format!("too-large\n{source}\n{size}").as_bytes());
            (None, decide::unparseable(&err), false, None, key)
        }
        Incoming::Message(msg) => match message::parse(&msg.raw) {
            // A program sent it: nothing is validated, signed or answered.
            Ok(mail) if mail.automatic.is_some() => {
                let sha = mail.raw_sha256;
                let d = Decision { outcome: Outcome::Hold(Vec::new()), reply_allowed: false };
                (Some(mail), d, false, None, sha)
            }
            Ok(mail) => {
                let sender_auth = auth::evaluate_mail_with(&mail, policy.trusted, policy.own_received_lines);
                let parsed = decide::ParsedRequest::of(&mail);
                let (by_company, by_sender) = cache.contracts_of(home, &mail, &parsed)?;
                let (d, revoke) = validate_mail(
                    home,
                    (&mail, &msg.raw, &parsed),
                    &sender_auth,
                    (by_company.as_ref(), by_sender.as_ref()),
                    (images, now),
                )?;
                destroy = revoke;
                // Only registrations are resent; a cancellation or a
                // migration naming the same project is another request.
                let registration = parsed.kind() == fields::RequestKind::Registration
                    && decide::intent_of(&mail, &parsed) == decide::Intent::Registration;
                if let (true, Some(from), Some(company), Some(project)) =
                    (registration, mail.single_from(), parsed.company_named(), parsed.project_named())
                {
                    let app = by_company.as_ref().map_or("", |c| c.terms.product);
                    request_key = Some(live::request_key(sender_auth.is_pass(), from, &company, app, project));
                }
                // The parser hashed the bytes already.
                let sha = mail.raw_sha256;
                (Some(mail), d, sender_auth.is_pass(), by_sender, sha)
            }
            Err(e) => (None, decide::unparseable(&e), false, None, message::sha256(&msg.raw)),
        },
    };
    let dedup_key = mail.as_ref().map_or_else(|| hex::encode(&raw_sha), |m| m.dedup_key.clone());
    let automatic = mail.as_ref().and_then(|m| m.automatic.clone());
    Ok(Assessed {
        mail,
        decision,
        auth_ok,
        sender_contract,
        dedup_key,
        raw_sha256: raw_sha,
        destroy,
        request_key,
        automatic,
    })
}

/// Signs the license of an assessed message, if it gets one. Here, before
/// the transaction: slow work outside the write lock. Whether the message
/// was decided before is told inside the transaction, which then drops this
/// license; a signing error waits for that check, so that an old mail stays
/// a duplicate even once the issuing key can no longer sign.
fn sign(
    home: &Home,
    a: &Assessed,
    signer: &mut Option<Signer>,
    now: Timestamp,
) -> Result<Option<SignedLicense>, Error> {
    let Outcome::Issue(plan) = &a.decision.outcome else {
        return Ok(None);
    };
    let signer = match signer {
        Some(s) => s,
        None => signer.insert(home.signer(now)?),
    };
    signer.sign(&plan.to_request(PathBuf::new(), false), now).map(Some)
}

/// The reply to queue with the decision, built now: only to the contract's
/// address (the sender, when it is one), and only when the sender may get one.
fn reply_for(
    a: &Assessed,
    signed: &Result<Option<SignedLicense>, Error>,
    reply_from: &str,
    now: Timestamp,
) -> Result<Option<outbox::CheckedReply>, Error> {
    let decision = &a.decision;
    Ok(match (&decision.outcome, signed, &a.mail) {
        // A destroy request is confirmed by revoke's mail.
        _ if a.destroy.is_some() => None,
        // The image goes with a reply of its own once the license is recorded.
        (Outcome::Issue(plan), _, _) if plan.kind == fanlic_formats::LicenseKind::PrivateCloud => None,
        (Outcome::Issue(plan), Ok(Some(s)), Some(m)) if decision.reply_allowed => {
            Some(outbox::CheckedReply::new(license_reply(reply_from, &plan.sender, m, &s.armored), now)?)
        }
        (Outcome::Reject(rs), _, Some(m)) if decision.reply_allowed => {
            match a.sender_contract.as_ref().filter(|c| c.enabled).and_then(|_| m.single_from()) {
                Some(to) => Some(outbox::CheckedReply::new(rejection_reply(reply_from, to, m, rs), now)?),
                None => None,
            }
        }
        _ => None,
    })
}

/// [`prepare`] for each message of a batch (contracts looked up once for
/// the batch); `signer` is made at the first license and kept.
pub(crate) fn prepare_all(
    home: &mut Home,
    batch: &[Incoming],
    (trusted, images): (&[String], &Images),
    signer: &mut Option<Signer>,
    now: Timestamp,
) -> Result<Vec<Result<Prepared, Error>>, Error> {
    let mut cache = ContractCache::default();
    let reply_from = home.reply_from()?;
    let policy = SenderPolicy { trusted, own_received_lines: home.own_received_lines()? };
    let assessed: Vec<Result<Assessed, Error>> =
        batch.iter().map(|item| assess(home, item, &policy, &mut cache, (images, now))).collect();
    // All the batch's signatures one after the other: the signing key's
    // tables stay in the CPU cache (interleaved with parsing, each signature
    // cost twice as much).
    let signed: Vec<Result<Option<SignedLicense>, Error>> =
        assessed.iter().map(|a| a.as_ref().map_or(Ok(None), |a| sign(home, a, signer, now))).collect();
    let mut prepared = Vec::with_capacity(assessed.len());
    for (a, signed) in assessed.into_iter().zip(signed) {
        let one = (|| {
            let a = a?;
            let reply = reply_for(&a, &signed, &reply_from, now)?;
            let destroy = match a.destroy {
                Some(plan) => {
                    let mails = revoke::revoke_confirmations(home, &plan.license_id.to_string(), now)?;
                    let mails = match mails {
                        Ok(replies) => Ok(replies
                            .into_iter()
                            .map(|r| outbox::CheckedReply::new(r, now))
                            .collect::<Result<Vec<_>, _>>()?),
                        Err(why) => Err(why),
                    };
                    Some((plan, mails))
                }
                None => None,
            };
            Ok(Prepared {
                mail: a.mail,
                decision: a.decision,
                auth_ok: a.auth_ok,
                dedup_key: a.dedup_key,
                raw_sha256: a.raw_sha256,
                signed,
                reply,
                destroy,
                request_key: a.request_key,
                automatic: a.automatic,
            })
        })();
        prepared.push(one);
    }
    Ok(prepared)
}
