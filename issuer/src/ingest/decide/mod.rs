//! Validation of a registration mail against the contract registry: what to
//! do with one request.
//!
//! [`validate`] is pure: the caller parses the mail ([`crate::mail::message::parse`]),
//! evaluates its sender ([`crate::mail::auth::evaluate_mail`]), looks up the contract
//! of the company the mail names ([`company_named`], then
//! [`contracts::find_by_company`]) and the contract of the sender's address
//! ([`contracts::find_by_email`]), and passes everything with `now`. The
//! answer is a [`Decision`]: an [`Outcome`] with **every** [`Reason`] at once
//! (each with a stable code, an English message that says how to fix it and
//! a short Chinese one), and whether a reply may be sent at all.
//!
//! # Outcomes
//!
//! - **Issue** only when there is no reason at all: the sender is
//!   authenticated (DKIM/DMARC pass), is one of the contract's addresses, the
//!   contract is enabled and current, and every field is present and agrees
//!   with the contract. The [`IssuePlan`] takes its terms from the contract
//!   (company spelling, product, version, term, signing date), the project
//!   and node count from the mail.
//! - A **private-cloud** registration is issued like the others by
//!   [`validate_request`] when the authorization server image can be built
//!   (else held, `image_builder_unavailable`, with how to build it);
//!   [`validate`] and [`validate_parsed`] know no image builder and hold it.
//! - A **migration** or **destroy** request ([`intent_of`]: the customer
//!   destroys the old server, then registers the new one with the old
//!   one's `privateConfig` attached) is checked for its sender and contract as a
//!   registration, then for its `privateConfig` ([`ConfigCheck`], made by
//!   `crate::ingest::private_cloud`): `private_config_missing`, `private_config_invalid`,
//!   `private_config_unknown_license`, `private_config_not_private_cloud`,
//!   `license_already_revoked`, `license_expired` reject; a license of another
//!   company (`private_config_foreign`) is held. A valid migration is issued
//!   as an [`IssuePlan`] with [`IssuePlan::migration`]; a valid destroy
//!   request is [`Verdict::Revoke`]. A destroy request without `privateConfig`
//!   is held as a cancellation (`cancel_request`).
//! - **Hold** (for staff) when the sender is unauthenticated
//!   (`sender_unauthenticated`), *whatever else is wrong*: a spoofed mail is
//!   never issued and never answered automatically, but every other reason is
//!   still listed for staff. Also Hold when every reason is a hold-type one
//!   ([`is_hold_code`]): `special_requirements`, `cancel_request`,
//!   `unknown_request`, `fields_from_quoted_message`, `multiple_requests`,
//!   `repeated_field`, `image_builder_unavailable`, `private_config_foreign`,
//!   `license_exists`, `similar_project`.
//! - **Hold** too, whatever else is wrong, when an authenticated mail's
//!   fields come from a quoted message under new text
//!   (`fields_from_quoted_message`): the new text may correct what the
//!   quoted fields get wrong, so nothing is answered before staff read it.
//! - **Reject** otherwise: any other reason with an authenticated sender, or
//!   a failed authentication (`sender_auth_failed`, which is a reject-type
//!   reason). Hold-type reasons found alongside are listed too.
//!
//! # Never issue a guess
//!
//! - **Quoted fields under new text** (`fields_from_quoted_message`): the
//!   parser read the fields from a quoted or forwarded earlier message
//!   ([`RegistrationFields::from_earlier_message`]) and the customer's new
//!   text ([`RegistrationFields::fresh_text`]) says something
//!   ([`RegistrationFields::fresh_request`]: not only greetings, courtesy
//!   such as `see below`, `please find below`, `resending`, `FYI`,
//!   `请查收`, `见下`, `谢谢`, sign-offs, signatures, mail-program footers
//!   and disclaimers). The reason shows that text. A resend or forward with
//!   courtesy only above the request is decided on the quoted fields.
//!   Anything not known to be courtesy counts (`please make it 2 nodes`,
//!   `use project X instead`, `改成`, `换成`, a field line such as
//!   `Project name: finance_bi` above a quoted whole request): when in
//!   doubt, held. Staff may approve it ([`APPROVABLE_HOLDS`]) when the text changes
//!   nothing.
//! - **Special requirements** (`special_requirements`): a note under a
//!   label (`Special requirements`, `Special circumstances`, `Note(s)`,
//!   `Remarks`, `Comments`, `特殊需求`, `特殊情况`, `特殊情况说明`, `备注`,
//!   `其他说明`, ...) that is not empty or "none" (`none`, `N/A`, `无`,
//!   `暂无`, `无特殊要求`, also with `谢谢`); or a sentence outside the
//!   fields, or the subject, that asks for an exception
//!   ([`fields::asks_for_exception`]: more nodes or licenses than the
//!   contract, an extension, a trial or temporary license, another product
//!   or version, another site, `is it possible`, `能否`, `希望`, `特批`,
//!   `延长`, `试用`, `临时`, urgency with a condition). Ordinary politeness
//!   (`please issue the license, thanks`, `请帮忙注册，谢谢`), signatures
//!   and disclaimers are not. Approvable: staff read it.
//! - **Two requests in one mail** (`multiple_requests`, each request listed
//!   with its fields): two field sets of two or more fields each that differ
//!   in a value (a field given again starts the next set: `项目一`/`项目二`,
//!   a second `Project name:` with its own fields), or a project name that
//!   lists several (`webroot、webroot_dr`). Not approvable: approving would
//!   issue one of them. A single field given again with another value
//!   (a correction further down) stays `repeated_field`; the same value
//!   written differently (`3` and `3 nodes`) is no repetition.
//! - **Legal-form variants**: a company name (body or subject) that differs
//!   from the contract's only in legal-form spelling, punctuation, spacing
//!   or width ([`contracts::legal_form_key`]: `Co., Ltd.` = `Co.,Ltd` =
//!   `Company Limited` = `Ltd.`, `Inc` = `Incorporated`, `Corp.` =
//!   `Corporation`, `LLC` = `L.L.C.`, `（深圳）` = `(深圳)`, `有限责任公司` =
//!   `有限公司`) agrees with the contract when the authenticated sender is
//!   one of **that** contract's addresses; the license has the contract's
//!   spelling. It never finds or matches another contract: the lookup by
//!   name stays exact ([`contracts::company_key`]), and with any other
//!   sender the name is `contract_not_found` or `company_mismatch`.
//!
//! [`Decision::reply_allowed`] is true only for an authenticated, single
//! sender; replying (and never to `Reply-To`) is the caller's business.
//!
//! # Order of reasons
//!
//! Stable, by rule: sender (`sender_unauthenticated` / `sender_auth_failed`,
//! `sender_not_single`), request kind (`unknown_request`, `cancel_request`),
//! contract (`contract_not_found`, `sender_not_in_contract`,
//! `contract_disabled`, `contract_expired`), subject
//! (`subject_missing_company`, `subject_missing_product`), then
//! `fields_not_read` (no field read in a mail that attaches something or
//! speaks of the fields in prose: held, and no field is said to be
//! missing), then the body in field order (company, project, signing date, method, nodes, version, JAR
//! version; for each field the parser's problem first, then the comparison
//! with the contract), then `fields_from_quoted_message`,
//! `special_requirements`, `multiple_requests` or else `repeated_field`, and
//! `image_builder_unavailable`.
//!
//! A cancellation request is checked for its sender and contract only; an
//! unknown request for its sender only (its fields mean nothing).

mod assess;
mod intent;
mod reasons;

use std::path::PathBuf;

use fanlic_formats::{Date, Expiry, LicenseId, LicenseKind, Timestamp, Version};

use crate::contracts::{self, Contract};
use crate::license::issue::IssueRequest;
use crate::license::live;
use crate::mail::{
    auth::{self, SenderAuth},
    fields::{self, Field, Problem, RegistrationFields, RequestKind, SubjectInfo},
    message::{MailError, RegistrationMail},
};
pub use crate::store::decisions::ReasonCode;

pub use self::intent::{
    ConfigCheck, DESTROY_WORDS, DESTROYED_REASON, Intent, MIGRATION_WORDS, NamedLicense, has_private_config, intent_of,
    is_private_config_name,
};
pub use self::reasons::{standing_reason, unparseable};
#[allow(clippy::wildcard_imports)]
use self::{assess::*, intent::*, reasons::*};

/// Why a request is not issued as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// Stable code, such as `nodes_exceed_contract`.
    pub code: ReasonCode,
    /// Plain English: what is wrong and how to fix it.
    pub message: String,
    /// A short Chinese version, for replies to Chinese mails.
    pub message_zh: String,
}

impl Reason {
    fn new(code: ReasonCode, message: impl Into<String>, message_zh: impl Into<String>) -> Self {
        Self { code, message: message.into(), message_zh: message_zh.into() }
    }
}

/// Everything `fanlic issue` needs, from the contract and the mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuePlan {
    /// The contract's number.
    pub contract_id: i64,
    /// The company, as the contract spells it.
    pub company: String,
    /// The project name from the mail.
    pub project: String,
    /// The contract's product: `FineReport` or `FineBI`.
    pub app: &'static str,
    /// The contract's licensed major.minor.
    pub version: Version,
    /// The registration method (the mail's, or the contract's only one).
    pub kind: LicenseKind,
    /// Cluster nodes asked for (1 when the mail gives none).
    pub nodes: u32,
    /// The contract's term.
    pub expiry: Expiry,
    /// The contract's signing date.
    pub signed: Date,
    /// The JAR package build date the mail gives, if any.
    pub jar_date: Option<Date>,
    /// The sender, normalized.
    pub sender: String,
    /// SHA-256 of the raw request message, lowercase hex.
    pub request_sha256: String,
    /// The mail's deduplication key.
    pub dedup_key: String,
    /// The mail's `Message-ID`, if any.
    pub message_id: Option<String>,
    /// For a migration: the license the new one replaces.
    pub migration: Option<Migration>,
    /// How many projects the contract covers at once.
    pub max_licenses: u32,
    /// How the contract's licenses are activated.
    pub activation_policy: crate::contracts::ActivationPolicy,
}

/// A private-cloud migration: the new license supersedes `old`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migration {
    /// The license of the server being moved.
    pub old: LicenseId,
    /// Whether `old` is still to be revoked (false when a destroy request
    /// revoked it already and it was not migrated since).
    pub revoke: bool,
}

/// A license to revoke at the customer's request (a destroy request with a
/// valid `privateConfig`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokePlan {
    /// The license.
    pub license_id: LicenseId,
    /// The recorded reason.
    pub reason: String,
}

impl IssuePlan {
    /// The [`IssueRequest`] for [`crate::Home::issue`], written to `output`.
    pub fn to_request(&self, output: PathBuf, force: bool) -> IssueRequest {
        IssueRequest {
            company: self.company.clone(),
            project: self.project.clone(),
            app_name: self.app,
            version: self.version,
            kind: self.kind,
            max_nodes: self.nodes,
            expiry: self.expiry,
            contract_signed: self.signed,
            not_before: None,
            output,
            force,
            request_email_sha256: crate::util::hex::decode_array(&self.request_sha256),
            supersedes: self.migration.map(|m| m.old),
            by: None,
            activation_policy: self.activation_policy,
        }
    }
}

/// What to do with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Issue this license.
    Issue(IssuePlan),
    /// Refuse; the sender may fix and send again. At least one reason.
    Reject(Vec<Reason>),
    /// Keep for staff. At least one reason.
    Hold(Vec<Reason>),
}

/// The answer of [`validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Issue, reject or hold, with every reason.
    pub outcome: Outcome,
    /// Whether an automatic reply to the (single, authenticated) sender is
    /// allowed: false for unauthenticated or failed senders, or several.
    pub reply_allowed: bool,
}

impl Decision {
    /// Every reason (empty for Issue).
    pub fn reasons(&self) -> &[Reason] {
        match &self.outcome {
            Outcome::Issue(_) => &[],
            Outcome::Reject(r) | Outcome::Hold(r) => r,
        }
    }

    /// The reasons' codes, in order.
    pub fn codes(&self) -> Vec<ReasonCode> {
        self.reasons().iter().map(|r| r.code).collect()
    }

    /// `issue`, `reject` or `hold`.
    pub fn kind(&self) -> &'static str {
        match self.outcome {
            Outcome::Issue(_) => "issue",
            Outcome::Reject(_) => "reject",
            Outcome::Hold(_) => "hold",
        }
    }
}

/// Whether a code is hold-type (staff decide) rather than reject-type.
pub fn is_hold_code(code: ReasonCode) -> bool {
    code.is_hold()
}

/// The company to look the contract up by: the body's company name, else
/// the subject's.
pub fn company_named(mail: &RegistrationMail) -> Option<String> {
    ParsedRequest::of(mail).company_named()
}

/// The registration fields of a mail's subject and body, parsed once for
/// both the contract lookup ([`ParsedRequest::company_named`]) and
/// [`validate_parsed`].
#[derive(Clone, Debug)]
pub struct ParsedRequest {
    subject: SubjectInfo,
    body: RegistrationFields,
    kind: RequestKind,
}

impl ParsedRequest {
    /// Parses `mail`'s subject and text. When exactly one message is
    /// attached to the mail (a request forwarded as an attachment), its
    /// subject stands in for the company or product the mail's own subject
    /// does not name (`Fw:`, `请处理`); what the mail's subject names always
    /// wins. The sender is the mail's, never the attached message's.
    pub fn of(mail: &RegistrationMail) -> Self {
        let (body, kind) = fields::parse_request(&mail.subject, &mail.text);
        let mut subject = fields::parse_subject(&mail.subject);
        if let [attached] = mail.attached_subjects.as_slice() {
            let inner = fields::parse_subject(attached);
            subject.company = subject.company.or(inner.company);
            subject.product = subject.product.or(inner.product);
        }
        Self { subject, body, kind }
    }

    /// What the mail asks for, by its words and fields.
    pub fn kind(&self) -> RequestKind {
        self.kind
    }

    /// The company to look the contract up by: the body's company name,
    /// else the subject's.
    pub fn company_named(&self) -> Option<String> {
        parse_body_company(&self.body, &self.subject)
    }

    /// The project the mail names, as written.
    pub fn project_named(&self) -> Option<&str> {
        self.body.project_name.as_deref()
    }

    /// The body's fields, as read.
    pub fn fields(&self) -> &RegistrationFields {
        &self.body
    }

    /// What the subject says.
    pub fn subject_info(&self) -> &SubjectInfo {
        &self.subject
    }
}

/// Decides what to do with one registration mail. Pure: no database, no IO.
///
/// - `mail`: the parsed message.
/// - `auth`: [`auth::evaluate_mail`] of it.
/// - `by_company`: the contract of the company the mail names
///   ([`company_named`]), if any.
/// - `by_sender`: the contract of the mail's single From address, if any.
/// - `now`: for the contract's term.
///
/// See the [module documentation](self) for the rules.
pub fn validate(
    mail: &RegistrationMail,
    auth: &SenderAuth,
    by_company: Option<&Contract>,
    by_sender: Option<&Contract>,
    now: Timestamp,
) -> Decision {
    validate_parsed(mail, &ParsedRequest::of(mail), auth, by_company, by_sender, now)
}

/// [`validate`] with the mail's fields already parsed (`parsed` must be
/// [`ParsedRequest::of`] `mail`).
pub fn validate_parsed(
    mail: &RegistrationMail,
    parsed: &ParsedRequest,
    auth: &SenderAuth,
    by_company: Option<&Contract>,
    by_sender: Option<&Contract>,
    now: Timestamp,
) -> Decision {
    let a = assess((mail, parsed), auth, (by_company, by_sender), now, &Context::WITHOUT_IMAGES);
    decide(a.reasons, auth, a.single_sender, a.plan)
}

/// Holds that staff resolve by approving: they read the special
/// requirements note, checked the repeated fields (the values `fanlic
/// review` shows are the ones issued), or read the new text above a quoted
/// request and found that it changes nothing (approving issues the quoted
/// fields as they stand; when the new text changes something, staff reject
/// with a reply or issue by hand). `multiple_requests` is not among them:
/// approving would issue the first request only, so staff issue each by
/// hand (`fanlic issue`) or reject with a reply.
pub const APPROVABLE_HOLDS: [ReasonCode; 3] =
    [ReasonCode::SpecialRequirements, ReasonCode::RepeatedField, ReasonCode::FieldsFromQuotedMessage];

/// What `fanlic approve` may issue for a held request: the request
/// validated as if its sender were authenticated (staff member `by`
/// checked who sent it), with the [`APPROVABLE_HOLDS`] set aside. Every
/// other reason still refuses it (for example the contract was disabled
/// since, or a private-cloud request while `images_unavailable` says why no
/// image can be built).
pub fn validate_for_approval(
    mail: &RegistrationMail,
    parsed: &ParsedRequest,
    (by_company, by_sender): (Option<&Contract>, Option<&Contract>),
    now: Timestamp,
    by: &str,
    images_unavailable: Option<&str>,
) -> Decision {
    let staff = SenderAuth::Pass { method: auth::AuthMethod::Dkim, authserv_id: format!("staff:{by}") };
    let ctx = Context { images_unavailable, ..Context::WITHOUT_IMAGES };
    let a = assess((mail, parsed), &staff, (by_company, by_sender), now, &ctx);
    let mut reasons = a.reasons;
    reasons.retain(|r| !APPROVABLE_HOLDS.contains(&r.code));
    decide(reasons, &staff, a.single_sender, a.plan)
}

/// What `fanlic ingest` knows besides the mail and the contracts.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// [`intent_of`] the mail.
    pub intent: Intent,
    /// Why no authorization server image can be built now (`None`: it can).
    pub images_unavailable: Option<&'a str>,
    /// The mail's `privateConfig`, checked (for a migration or a destroy).
    pub config: &'a ConfigCheck,
}

impl Context<'_> {
    /// A registration, with no image builder: what [`validate`] assumes.
    pub const WITHOUT_IMAGES: Context<'static> = Context {
        intent: Intent::Registration,
        images_unavailable: Some("no image builder was given to this check"),
        config: &ConfigCheck::Missing,
    };
}

/// The answer of [`validate_request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Issue (a migration too: see [`IssuePlan::migration`]), reject or hold.
    Decide(Decision),
    /// Revoke a license at the customer's request (a destroy request with a
    /// valid `privateConfig`), and confirm it.
    Revoke {
        /// What to revoke.
        plan: RevokePlan,
        /// Whether a confirmation may be mailed (always, today: only an
        /// authenticated single sender gets here).
        reply_allowed: bool,
    },
}

/// [`validate_parsed`] with what `fanlic ingest` knows besides the mail:
/// the request's [`Intent`], whether images can be built, and the checked
/// `privateConfig`. A private-cloud registration is issued when images can
/// be built (else held, `image_builder_unavailable`); a migration or a
/// destroy request is checked for its sender and contract as a registration
/// is, then for its `privateConfig` (module documentation of
/// `crate::ingest::private_cloud`).
pub fn validate_request(
    mail: &RegistrationMail,
    parsed: &ParsedRequest,
    auth: &SenderAuth,
    (by_company, by_sender): (Option<&Contract>, Option<&Contract>),
    now: Timestamp,
    ctx: &Context<'_>,
) -> Verdict {
    let a = assess((mail, parsed), auth, (by_company, by_sender), now, ctx);
    match a.revoke {
        Some(plan) if a.reasons.is_empty() && auth.is_pass() && a.single_sender => {
            Verdict::Revoke { plan, reply_allowed: true }
        }
        _ => Verdict::Decide(decide(a.reasons, auth, a.single_sender, a.plan)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use fanlic_formats::{Date, Expiry, LicenseKind, Timestamp, Version};

    use super::*;
    use crate::contracts::ContractTerms;
    use crate::mail::{auth::evaluate_mail, message};

    const SUBJECT: &str =
        "Official Authorization Document of Northwind Trading Co., Ltd.'s Registration for FineReport";
    const BODY: &str = "Dear team,\n\nPlease register our project.\n\n\
        Company name: Northwind Trading Co., Ltd.\n\
        Project name: webroot\n\
        Contract signing date: 2026/11/20\n\
        Registration method: Local container\n\
        Maximum number of registration: 3\n\
        Project Version: 11.0.20\n\
        JAR package version: 2023.12.14 (Build#persist-2023.12.14.10.22.33.88)\n\n\
        Thank you.\n";
    const PASS: &str = "mx.vendor.example; dkim=pass header.d=northwind.example";
    const FAIL: &str = "mx.vendor.example; dmarc=fail header.from=northwind.example";

    fn date(y: u16, m: u8, d: u8) -> Date {
        Date::new(y, m, d).unwrap()
    }

    fn now() -> Timestamp {
        date(2026, 11, 22).start()
    }

    fn contract() -> Contract {
        Contract {
            id: 7,
            terms: ContractTerms {
                company: "Northwind Trading Co., Ltd.".to_owned(),
                emails: vec!["alice@northwind.example".to_owned(), "it@northwind.example".to_owned()],
                signed: date(2026, 11, 20),
                product: "FineReport",
                methods: vec![LicenseKind::LocalContainer],
                max_nodes: 3,
                version: Version { major: 11, minor: 0 },
                expires: Expiry::On(date(2027, 11, 19)),
                max_licenses: 1,
                activation_policy: crate::contracts::ActivationPolicy::Code,
                lease_days: None,
            },
            enabled: true,
            created_at: Timestamp(0),
            created_by: "staff".to_owned(),
            updated_at: Timestamp(0),
            updated_by: "staff".to_owned(),
        }
    }

    /// A raw message; `auth` is the trusted Authentication-Results value, if any.
    fn raw(from: &str, subject: &str, body: &str, auth: Option<&str>) -> Vec<u8> {
        let mut s = String::new();
        if let Some(a) = auth {
            s.push_str(&format!("Authentication-Results: {a}\r\n"));
        }
        s.push_str("Received: from mail.northwind.example by mx.vendor.example; Fri, 20 Nov 2026 09:30:05 +0800\r\n");
        s.push_str(&format!("From: {from}\r\nTo: license@vendor.example\r\nSubject: {subject}\r\n"));
        s.push_str("Message-ID: <req-1@northwind.example>\r\nMIME-Version: 1.0\r\n");
        s.push_str("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        s.push_str(&body.replace('\n', "\r\n"));
        s.into_bytes()
    }

    struct Case {
        from: String,
        subject: String,
        body: String,
        auth: Option<&'static str>,
        contract: Option<Contract>,
        by_company: bool,
        by_sender: bool,
        now: Timestamp,
    }

    impl Case {
        fn clean() -> Self {
            Self {
                from: "Alice Chen <Alice@Northwind.example>".to_owned(),
                subject: SUBJECT.to_owned(),
                body: BODY.to_owned(),
                auth: Some(PASS),
                contract: Some(contract()),
                by_company: true,
                by_sender: true,
                now: now(),
            }
        }

        fn body(mut self, from: &str, to: &str) -> Self {
            assert!(self.body.contains(from), "{from}");
            self.body = self.body.replace(from, to);
            self
        }

        fn terms(mut self, f: impl FnOnce(&mut Contract)) -> Self {
            f(self.contract.as_mut().unwrap());
            self
        }

        fn run(&self) -> Decision {
            let mail = message::parse(&raw(&self.from, &self.subject, &self.body, self.auth)).unwrap();
            let auth = evaluate_mail(&mail, &["mx.vendor.example".to_owned()]);
            let c = self.contract.as_ref();
            validate(&mail, &auth, c.filter(|_| self.by_company), c.filter(|_| self.by_sender), self.now)
        }
    }

    #[track_caller]
    fn assert_codes(d: &Decision, kind: &str, codes: &[&str]) {
        let got: Vec<&str> = d.codes().iter().map(|c| c.as_str()).collect();
        assert_eq!((d.kind(), got), (kind, codes.to_vec()), "{d:#?}");
        for r in d.reasons() {
            assert!(r.message.len() > 20, "{r:?}");
            assert!(r.message_zh.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)), "{r:?}");
        }
    }

    #[test]
    fn clean_request_is_issued_with_the_contracts_terms() {
        let d = Case::clean().run();
        assert!(d.reply_allowed);
        let Outcome::Issue(plan) = &d.outcome else { panic!("{d:#?}") };
        let mail = message::parse(&raw(&Case::clean().from, SUBJECT, BODY, Some(PASS))).unwrap();
        let expected = IssuePlan {
            contract_id: 7,
            company: "Northwind Trading Co., Ltd.".to_owned(),
            project: "webroot".to_owned(),
            app: "FineReport",
            version: Version { major: 11, minor: 0 },
            kind: LicenseKind::LocalContainer,
            nodes: 3,
            expiry: Expiry::On(date(2027, 11, 19)),
            signed: date(2026, 11, 20),
            jar_date: Some(date(2023, 12, 14)),
            sender: "alice@northwind.example".to_owned(),
            request_sha256: mail.raw_sha256_hex(),
            dedup_key: mail.dedup_key.clone(),
            message_id: mail.message_id.clone(),
            migration: None,
            max_licenses: 1,
            activation_policy: crate::contracts::ActivationPolicy::Code,
        };
        assert_eq!(plan, &expected);
        assert_eq!(plan.request_sha256.len(), 64);
        let req = plan.to_request(PathBuf::from("Container.lic"), false);
        assert_eq!(
            (req.company.as_str(), req.project.as_str(), req.app_name),
            ("Northwind Trading Co., Ltd.", "webroot", "FineReport")
        );
        assert_eq!((req.max_nodes, req.kind, req.not_before), (3, LicenseKind::LocalContainer, None));
    }

    #[test]
    fn body_company_in_other_case_and_width_matches() {
        let d = Case::clean()
            .body("Company name: Northwind Trading Co., Ltd.", "Company name: ＮＯＲＴＨＷＩＮＤ  Trading Co., Ltd.")
            .run();
        assert_eq!(d.kind(), "issue", "{d:#?}");
    }

    #[test]
    fn absent_method_takes_the_contracts_only_one() {
        let d = Case::clean().body("Registration method: Local container\n", "").run();
        let Outcome::Issue(plan) = &d.outcome else { panic!("{d:#?}") };
        assert_eq!(plan.kind, LicenseKind::LocalContainer);
    }

    #[test]
    fn absent_nodes_means_one() {
        let d = Case::clean().body("Maximum number of registration: 3\n", "").run();
        let Outcome::Issue(plan) = &d.outcome else { panic!("{d:#?}") };
        assert_eq!(plan.nodes, 1);
    }

    #[test]
    fn spoofed_clean_request_is_held_never_issued() {
        let mut c = Case::clean();
        c.auth = None;
        let d = c.run();
        assert_codes(&d, "hold", &["sender_unauthenticated"]);
        assert!(!d.reply_allowed);
        // An untrusted authserv-id is no better.
        c.auth = Some("mx.attacker.example; dkim=pass header.d=northwind.example");
        assert_codes(&c.run(), "hold", &["sender_unauthenticated"]);
    }

    #[test]
    fn spoofed_bad_request_is_held_with_every_reason() {
        let mut c = Case::clean().body("Maximum number of registration: 3", "Maximum number of registration: 9");
        c.auth = None;
        let d = c.run();
        assert_codes(&d, "hold", &["sender_unauthenticated", "nodes_exceed_contract"]);
        assert!(!d.reply_allowed);
    }

    #[test]
    fn sender_auth_failed_is_rejected_without_reply() {
        let mut c = Case::clean();
        c.auth = Some(FAIL);
        let d = c.run();
        assert_codes(&d, "reject", &["sender_auth_failed"]);
        assert!(!d.reply_allowed);
    }

    #[test]
    fn several_from_addresses_are_refused() {
        let mut c = Case::clean();
        c.from = "alice@northwind.example, mallory@evil.example".to_owned();
        let d = c.run();
        // evaluate_mail gives None for several senders: held, never issued.
        assert_codes(&d, "hold", &["sender_unauthenticated", "sender_not_single"]);
        assert!(!d.reply_allowed);
        // Even with a pass from elsewhere, several senders are rejected.
        let mail = message::parse(&raw(&c.from, SUBJECT, BODY, Some(PASS))).unwrap();
        let pass = SenderAuth::Pass { method: auth::AuthMethod::Dkim, authserv_id: "mx.vendor.example".to_owned() };
        let d = validate(&mail, &pass, Some(&contract()), None, now());
        assert_codes(&d, "reject", &["sender_not_single"]);
        assert!(!d.reply_allowed);
    }

    #[test]
    fn sender_not_in_contract() {
        let d = Case::clean().terms(|c| c.terms.emails = vec!["it@northwind.example".to_owned()]).run();
        assert_codes(&d, "reject", &["sender_not_in_contract"]);
        assert!(d.reply_allowed);
        assert!(d.reasons()[0].message.contains("alice@northwind.example"));
    }

    #[test]
    fn contract_not_found() {
        let mut c = Case::clean();
        c.by_company = false;
        c.by_sender = false;
        assert_codes(&c.run(), "reject", &["contract_not_found"]);
        // The sender's own contract under another name is a hint.
        let mut c = Case::clean().terms(|c| c.terms.company = "Northwind Holdings".to_owned());
        c.by_company = false;
        let d = c.run();
        assert_codes(&d, "reject", &["contract_not_found"]);
        assert!(d.reasons()[0].message.contains("Northwind Holdings"), "{d:#?}");
    }

    #[test]
    fn contract_disabled_and_expired() {
        let d = Case::clean().terms(|c| c.enabled = false).run();
        assert_codes(&d, "reject", &["contract_disabled"]);
        let d = Case::clean().terms(|c| c.terms.expires = Expiry::On(date(2026, 11, 21))).run();
        assert_codes(&d, "reject", &["contract_expired"]);
        // The last day of the term is still inside it.
        let d = Case::clean().terms(|c| c.terms.expires = Expiry::On(date(2026, 11, 22))).run();
        assert_eq!(d.kind(), "issue");
    }

    #[test]
    fn subject_missing_company_and_product() {
        let mut c = Case::clean();
        c.subject = "License request".to_owned();
        assert_codes(&c.run(), "reject", &["subject_missing_company", "subject_missing_product"]);
    }

    #[test]
    fn company_mismatch_in_body_or_subject() {
        let d =
            Case::clean().body("Company name: Northwind Trading Co., Ltd.", "Company name: Northwind Trading").run();
        assert_codes(&d, "reject", &["company_mismatch"]);
        let mut c = Case::clean();
        c.subject = SUBJECT.replace("Northwind Trading Co., Ltd.", "Southwind Ltd");
        assert_codes(&c.run(), "reject", &["company_mismatch"]);
    }

    #[test]
    fn missing_fields() {
        for (line, code) in [
            ("Company name: Northwind Trading Co., Ltd.\n", "missing_field_company_name"),
            ("Project name: webroot\n", "missing_field_project_name"),
            ("Contract signing date: 2026/11/20\n", "missing_field_signing_date"),
            ("Project Version: 11.0.20\n", "missing_field_version"),
            ("JAR package version: 2023.12.14 (Build#persist-2023.12.14.10.22.33.88)\n", "missing_field_jar_version"),
        ] {
            let d = Case::clean().body(line, "").run();
            assert_codes(&d, "reject", &[code]);
        }
    }

    #[test]
    fn missing_method_when_the_contract_allows_both() {
        let d = Case::clean()
            .terms(|c| c.terms.methods = vec![LicenseKind::LocalContainer, LicenseKind::PrivateCloud])
            .body("Registration method: Local container\n", "")
            .run();
        // Without a method, the JAR package is not known to be needed.
        assert_codes(&d, "reject", &["missing_field_method"]);
    }

    #[test]
    fn signing_date_invalid_or_mismatched() {
        let d = Case::clean().body("2026/11/20", "2026/02/30").run();
        assert_codes(&d, "reject", &["invalid_date"]);
        let d = Case::clean().body("2026/11/20", "2026/11/19").run();
        assert_codes(&d, "reject", &["signing_date_mismatch"]);
    }

    #[test]
    fn method_unknown_or_not_in_contract() {
        let d = Case::clean().body("Local container", "Floppy disk").run();
        assert_codes(&d, "reject", &["unknown_method"]);
        let d = Case::clean().body("Local container", "Private cloud").run();
        assert_codes(&d, "reject", &["method_not_in_contract", "image_builder_unavailable"]);
    }

    #[test]
    fn private_cloud_is_held_until_the_image_builder_exists() {
        let d = Case::clean()
            .terms(|c| c.terms.methods = vec![LicenseKind::LocalContainer, LicenseKind::PrivateCloud])
            .body("Local container", "Private cloud")
            .body("JAR package version: 2023.12.14 (Build#persist-2023.12.14.10.22.33.88)\n", "")
            .run();
        assert_codes(&d, "hold", &["image_builder_unavailable"]);
        assert!(d.reply_allowed);
    }

    #[test]
    fn nodes_invalid_or_over_the_contract() {
        let d = Case::clean().body("registration: 3", "registration: 0").run();
        assert_codes(&d, "reject", &["invalid_nodes"]);
        let d = Case::clean().body("registration: 3", "registration: 4").run();
        assert_codes(&d, "reject", &["nodes_exceed_contract"]);
    }

    #[test]
    fn version_invalid_or_mismatched() {
        let d = Case::clean().body("Project Version: 11.0.20", "Project Version: latest").run();
        assert_codes(&d, "reject", &["invalid_version"]);
        let d = Case::clean().body("Project Version: 11.0.20", "Project Version: 10.0.3").run();
        assert_codes(&d, "reject", &["version_mismatch"]);
        let d = Case::clean().body("Project Version: 11.0.20", "Project Version: FineBI 11.0").run();
        assert_codes(&d, "reject", &["version_mismatch"]);
        assert!(d.reasons()[0].message.contains("FineBI"), "{d:#?}");
        let mut c = Case::clean();
        c.subject = SUBJECT.replace("FineReport", "FineBI");
        assert_codes(&c.run(), "reject", &["version_mismatch"]);
    }

    #[test]
    fn jar_too_old_or_invalid() {
        let d = Case::clean().body("2023.12.14 (Build#persist-2023.12.14.10.22.33.88)", "2021.10.29").run();
        assert_codes(&d, "reject", &["jar_too_old"]);
        let d = Case::clean().body("2023.12.14 (Build#persist-2023.12.14.10.22.33.88)", "2021.10.30").run();
        assert_eq!(d.kind(), "issue", "{d:#?}");
        let d = Case::clean().body("2023.12.14 (Build#persist-2023.12.14.10.22.33.88)", "newest").run();
        assert_codes(&d, "reject", &["invalid_date"]);
    }

    #[test]
    fn special_requirements_are_held() {
        let d = Case::clean()
            .body("Thank you.", "Special requirements: cover a disaster-recovery site\n\nThank you.")
            .run();
        assert_codes(&d, "hold", &["special_requirements"]);
        assert!(d.reasons()[0].message.contains("disaster-recovery"));
    }

    #[test]
    fn cancellation_is_held_for_staff() {
        let mut c = Case::clean();
        c.subject = "Northwind: please cancel the registration of the old server".to_owned();
        assert_codes(&c.run(), "hold", &["cancel_request"]);
        // From an address outside the contract, it is rejected.
        let d = c.terms(|c| c.terms.emails = vec!["it@northwind.example".to_owned()]).run();
        assert_codes(&d, "reject", &["cancel_request", "sender_not_in_contract"]);
    }

    #[test]
    fn migration_and_destroy_requests_are_recognized() {
        let with = |subject: &str, body: &str, attach: bool| {
            let mut raw = raw("alice@northwind.example", subject, body, Some(PASS));
            if attach {
                let text = String::from_utf8(raw).unwrap().replace(
                    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
                    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; \
                     charset=utf-8\r\n\r\n",
                );
                raw = format!(
                    "{text}\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; \
                     filename=\"privateConfig\"\r\n\r\nxyz\r\n--b--\r\n"
                )
                .into_bytes();
            }
            let mail = message::parse(&raw).unwrap();
            intent_of(&mail, &ParsedRequest::of(&mail))
        };
        assert_eq!(with(SUBJECT, BODY, false), Intent::Registration);
        // Regression: a local container registration that mentions migrating
        // its servers was taken for a private-cloud migration and rejected
        // (private_config_missing).
        let local =
            BODY.replace("Please register our project.", "Please register it while we migrate the old servers.");
        assert_eq!(with(SUBJECT, &local, false), Intent::Registration);
        let cloud = local.replace("Local container", "Private cloud");
        assert_eq!(with(SUBJECT, &cloud, false), Intent::Migration);
        assert_eq!(with(SUBJECT, BODY, true), Intent::Migration, "a registration with its privateConfig");
        assert_eq!(with("Migrate our license server", "Please.\n", false), Intent::Migration);
        assert_eq!(with("授权服务器迁移", "您好，请处理。\n", true), Intent::Migration);
        assert_eq!(with("Please destroy the old authorization component", "Thanks\n", true), Intent::Destroy);
        assert_eq!(with("销毁旧授权组件", "您好\n", false), Intent::Destroy);
        // Destroying "the server to be migrated" is a migration's first step: without the file, a destroy request.
        assert_eq!(with("Destroy the authorization server to be migrated", "x\n", false), Intent::Destroy);
        assert_eq!(with("Destroy the authorization server to be migrated", "x\n", true), Intent::Migration);
        assert!(is_private_config_name("privateConfig") && is_private_config_name("PRIVATECONFIG.txt"));
        assert!(!is_private_config_name("privateConfig.zip") && !is_private_config_name("notes"));
    }

    #[test]
    fn unknown_request_is_held() {
        let mut c = Case::clean();
        c.subject = "Question about invoices".to_owned();
        c.body = "Hello, where is our invoice for October?\n".to_owned();
        assert_codes(&c.run(), "hold", &["unknown_request"]);
    }

    #[test]
    fn unparseable_message_is_rejected_without_reply() {
        let err = message::parse(b"").unwrap_err();
        let d = unparseable(&err);
        assert_codes(&d, "reject", &["unparseable_message"]);
        assert!(!d.reply_allowed);
        let big = raw("alice@northwind.example", SUBJECT, BODY, Some(PASS));
        let err = message::parse_with(&big, &message::ParseOptions { max_bytes: 10 }).unwrap_err();
        assert_codes(&unparseable(&err), "reject", &["message_too_large"]);
    }

    #[test]
    fn several_failures_are_reported_together_in_a_stable_order() {
        let c = Case::clean()
            .body("Project name: webroot\n", "")
            .body("2026/11/20", "2025/01/01")
            .body("registration: 3", "registration: 12")
            .body("11.0.20", "10.0")
            .body("2023.12.14 (Build#persist-2023.12.14.10.22.33.88)", "2020.01.01")
            .terms(|c| c.enabled = false);
        let expected = [
            "contract_disabled",
            "missing_field_project_name",
            "signing_date_mismatch",
            "nodes_exceed_contract",
            "version_mismatch",
            "jar_too_old",
        ];
        let d = c.run();
        assert_codes(&d, "reject", &expected);
        assert_eq!(c.run(), d, "deterministic");
        for r in d.reasons() {
            assert!(!r.message_zh.is_empty());
        }
    }

    #[test]
    fn chinese_request() {
        let mut c = Case::clean();
        c.subject = "关于Northwind Trading Co., Ltd.注册FineReport的正式授权文件".to_owned();
        c.body = "您好，\n\n公司名称：Northwind Trading Co., Ltd.\n项目名称：webroot\n合同签订日期：2026年11月20日\n\
                  注册方式：本地容器\n集群节点数：2\n项目版本：11.0.20\nJAR包版本：2023.12.14\n\n此致\n"
            .to_owned();
        let d = c.run();
        let Outcome::Issue(plan) = &d.outcome else { panic!("{d:#?}") };
        assert_eq!(plan.nodes, 2);
        let d = c.body("集群节点数：2", "集群节点数：5").run();
        assert_codes(&d, "reject", &["nodes_exceed_contract"]);
        assert!(d.reasons()[0].message_zh.contains("超过合同上限 3"));
    }

    #[test]
    fn hold_codes() {
        for code in [
            "sender_unauthenticated",
            "special_requirements",
            "cancel_request",
            "image_builder_unavailable",
            "fields_from_quoted_message",
            "multiple_requests",
        ] {
            assert!(is_hold_code(ReasonCode::parse(code).unwrap()), "{code}");
        }
        assert!(!is_hold_code(ReasonCode::SenderAuthFailed));
        assert!(!is_hold_code(ReasonCode::NodesExceedContract));
    }

    #[test]
    fn company_named_prefers_the_body() {
        let mail =
            message::parse(&raw("a@x.example", SUBJECT, "Company name: Body Co\nProject name: p\n", None)).unwrap();
        assert_eq!(company_named(&mail).as_deref(), Some("Body Co"));
        let mail = message::parse(&raw("a@x.example", SUBJECT, "hello\n", None)).unwrap();
        assert_eq!(company_named(&mail).as_deref(), Some("Northwind Trading Co., Ltd."));
    }

    #[test]
    fn repeated_field_is_held() {
        let d = Case::clean().body("Thank you.", "Project name: webroot-2\n\nThank you.").run();
        assert_codes(&d, "hold", &["repeated_field"]);
        assert!(d.reasons()[0].message.contains("Project name"), "{d:#?}");
    }

    /// A reply from the contract's sender: `new` above `BODY` quoted with `>`.
    fn reply_above_quote(new: &str) -> Case {
        let quoted: String = BODY.lines().map(|l| format!("> {l}\n")).collect();
        let mut c = Case::clean();
        c.subject = format!("RE: {SUBJECT}");
        c.body =
            format!("{new}\n\nOn Fri, 20 Nov 2026 at 09:30, Alice Chen <alice@northwind.example> wrote:\n{quoted}");
        c
    }

    #[test]
    fn a_change_above_a_quoted_request_is_held_with_the_new_text() {
        let d = reply_above_quote("Hi,\n\nPlease make it 2 nodes instead.\n\nThanks,\nAlice").run();
        assert_codes(&d, "hold", &["fields_from_quoted_message"]);
        assert!(d.reasons()[0].message.contains("Please make it 2 nodes instead."), "{d:#?}");
        assert!(d.reasons()[0].message_zh.contains("Please make it 2 nodes instead."), "{d:#?}");
        assert!(d.reply_allowed);
        let d = reply_above_quote("您好，项目名称换成 finance_bi，其他不变。\n\n谢谢").run();
        assert_codes(&d, "hold", &["fields_from_quoted_message"]);
        // Whatever is wrong with the quoted fields, the new text may fix it: held, not rejected.
        let d =
            reply_above_quote("Sorry, the nodes should be 2, not 9.").body("registration: 3", "registration: 9").run();
        assert_codes(&d, "hold", &["nodes_exceed_contract", "fields_from_quoted_message"]);
        // Staff may approve it when the text changes nothing.
        assert!(APPROVABLE_HOLDS.contains(&ReasonCode::FieldsFromQuotedMessage));
    }

    #[test]
    fn a_resend_with_courtesy_only_is_issued_from_the_quoted_fields() {
        for new in [
            "Resending our request below; we have not received the license yet.\n\nBest regards,\nAlice Chen\nIT Department",
            "FYI",
            "您好，请查收，谢谢！\n\n陈爱丽",
            "",
        ] {
            let d = reply_above_quote(new).run();
            let Outcome::Issue(plan) = &d.outcome else { panic!("{new:?}: {d:#?}") };
            assert_eq!((plan.project.as_str(), plan.nodes), ("webroot", 3));
        }
        // And a forward of the original as it was.
        let mut c = Case::clean();
        c.body = format!("Please see below.\n\n-------- Forwarded Message --------\n{BODY}");
        assert_eq!(c.run().kind(), "issue", "{:#?}", c.run());
    }

    #[test]
    fn notes_and_exceptions_are_held_and_none_notes_and_politeness_are_issued() {
        for note in
            ["特殊情况说明：需要覆盖灾备机房", "备注：请先发临时授权", "Note: our second site", "Remarks: two sites"]
        {
            let d = Case::clean().body("Thank you.", &format!("{note}\n\nThank you.")).run();
            assert_codes(&d, "hold", &["special_requirements"]);
        }
        for none in ["备注：无", "Notes: N/A", "特殊情况说明：暂无", "Special circumstances: none"] {
            let d = Case::clean().body("Thank you.", &format!("{none}\n\nThank you.")).run();
            assert_eq!(d.kind(), "issue", "{none}: {d:#?}");
        }
        let d = Case::clean()
            .body(
                "Please register our project.",
                "Please register our project. Could we get 5 nodes, more than the contract?",
            )
            .run();
        assert_codes(&d, "hold", &["special_requirements"]);
        assert!(d.reasons()[0].message.contains("more than the contract"), "{d:#?}");
        let d = Case::clean()
            .body("Please register our project.", "请帮忙注册，谢谢！Please issue the license, thanks.")
            .run();
        assert_eq!(d.kind(), "issue", "{d:#?}");
    }

    #[test]
    fn two_requests_in_one_mail_are_held_each_listed() {
        let d = Case::clean()
            .body(
                "Thank you.",
                "Second server:\nProject name: webroot-dr\nMaximum number of registration: 1\n\nThank you.",
            )
            .run();
        assert_codes(&d, "hold", &["multiple_requests"]);
        let m = &d.reasons()[0].message;
        assert!(m.contains("2 requests") && m.contains("\"webroot\"") && m.contains("\"webroot-dr\""), "{m}");
        assert!(d.reasons()[0].message_zh.contains("webroot-dr"), "{d:#?}");
        assert!(!APPROVABLE_HOLDS.contains(&ReasonCode::MultipleRequests));
        // One field corrected further down stays repeated_field.
        let d = Case::clean().body("Thank you.", "Project name: webroot-2\n\nThank you.").run();
        assert_codes(&d, "hold", &["repeated_field"]);
    }

    #[test]
    fn legal_form_variants_of_the_senders_own_contract_are_issued_with_its_spelling() {
        for variant in ["Northwind Trading Co.,Ltd", "Northwind Trading Co. Ltd", "NORTHWIND TRADING COMPANY LIMITED"] {
            let mut c =
                Case::clean().body("Company name: Northwind Trading Co., Ltd.", &format!("Company name: {variant}"));
            c.subject = SUBJECT.replace("Northwind Trading Co., Ltd.", variant);
            // Looked up by name, exactly: not found; the sender's contract is.
            c.by_company = false;
            let d = c.run();
            let Outcome::Issue(plan) = &d.outcome else { panic!("{variant}: {d:#?}") };
            assert_eq!(plan.company, "Northwind Trading Co., Ltd.");
        }
        // Only in the subject, the body exact.
        let mut c = Case::clean();
        c.subject = SUBJECT.replace("Co., Ltd.", "Company Limited");
        assert_eq!(c.run().kind(), "issue");
    }

    #[test]
    fn legal_form_leniency_never_reaches_another_contract_or_another_name() {
        // Other words: not the contract's company.
        let mut c = Case::clean()
            .body("Company name: Northwind Trading Co., Ltd.", "Company name: Northwind Traders Co., Ltd.");
        c.by_company = false;
        assert_codes(&c.run(), "reject", &["contract_not_found"]);
        let c = Case::clean()
            .body("Company name: Northwind Trading Co., Ltd.", "Company name: Northwind Traders Co., Ltd.");
        assert_codes(&c.run(), "reject", &["company_mismatch"]);
        // A sender of another contract: the variant does not match this one.
        let mut c =
            Case::clean().body("Company name: Northwind Trading Co., Ltd.", "Company name: Northwind Trading Ltd");
        c.subject = SUBJECT.replace("Co., Ltd.", "Ltd");
        c.by_company = false;
        let c = c.terms(|c| c.terms.emails = vec!["it@northwind.example".to_owned()]);
        assert_codes(&c.run(), "reject", &["contract_not_found"]);
        // An unauthenticated sender: no leniency (and held).
        let mut c =
            Case::clean().body("Company name: Northwind Trading Co., Ltd.", "Company name: Northwind Trading Ltd");
        c.subject = SUBJECT.replace("Co., Ltd.", "Ltd");
        c.by_company = false;
        c.auth = None;
        assert_codes(&c.run(), "hold", &["sender_unauthenticated", "contract_not_found"]);
    }

    /// The fields of one CSV line (double quotes group, `""` is a quote).
    fn csv_fields(line: &str) -> Vec<String> {
        let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
        let mut cs = line.chars().peekable();
        while let Some(c) = cs.next() {
            match c {
                '"' if quoted && cs.peek() == Some(&'"') => {
                    cur.push('"');
                    cs.next();
                }
                '"' => quoted = !quoted,
                ',' if !quoted => out.push(core::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        out.push(cur);
        out
    }

    /// The contracts of `fixtures/emails/clients/contracts.csv`.
    fn client_contracts(csv: &str) -> Vec<Contract> {
        csv.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(k, l)| {
                let f = csv_fields(l);
                assert_eq!(f.len(), 8, "{l}");
                let expires = contracts::parse_expires("expires", &f[7]).unwrap();
                Contract {
                    id: i64::try_from(k).unwrap() + 1,
                    terms: ContractTerms {
                        company: contracts::parse_company("company", &f[0]).unwrap(),
                        emails: contracts::parse_emails("email", &f[1]).unwrap(),
                        signed: contracts::parse_signed("signed", &f[2]).unwrap(),
                        product: contracts::parse_product("product", &f[3]).unwrap(),
                        methods: contracts::parse_methods("methods", &f[4]).unwrap(),
                        max_nodes: contracts::parse_max_nodes("max_nodes", &f[5]).unwrap(),
                        version: contracts::parse_version("version", &f[6]).unwrap(),
                        expires,
                        max_licenses: 1,
                        activation_policy: crate::contracts::ActivationPolicy::Code,
                        lease_days: None,
                    },
                    enabled: true,
                    created_at: Timestamp(0),
                    created_by: "staff".to_owned(),
                    updated_at: Timestamp(0),
                    updated_by: "staff".to_owned(),
                }
            })
            .collect()
    }

    #[test]
    fn client_hold_samples_are_decided_as_their_readme_says() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/emails/clients");
        let all = client_contracts(&std::fs::read_to_string(dir.join("contracts.csv")).unwrap());
        let readme = std::fs::read_to_string(dir.join("holds/README.md")).unwrap();
        let backquoted =
            |cell: &str| -> Vec<String> { cell.split('`').skip(1).step_by(2).map(str::to_owned).collect() };
        let mut listed = std::collections::BTreeSet::new();
        let mut failures = Vec::new();
        let mut kinds = std::collections::BTreeMap::new();
        for line in readme.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 6, "{line}");
            let file = backquoted(cells[0]).remove(0);
            let (want_kind, want_codes) = (cells[3], backquoted(cells[4]));
            let raw = std::fs::read(dir.join("holds").join(&file)).unwrap();
            let mail = message::parse(&raw).unwrap();
            let auth = evaluate_mail(&mail, &["mx.vendor.example".to_owned()]);
            assert!(auth.is_pass(), "{file}: {auth:?}");
            let by_company = company_named(&mail).and_then(|n| {
                all.iter().find(|c| contracts::company_key(&c.terms.company) == contracts::company_key(&n))
            });
            let by_sender = mail
                .single_from()
                .and_then(|s| all.iter().find(|c| c.terms.emails.iter().any(|e| norm_addr(e) == norm_addr(s))));
            let d = validate(&mail, &auth, by_company, by_sender, date(2026, 12, 2).start());
            let got: Vec<String> = d.codes().iter().map(|c| c.as_str().to_owned()).collect();
            if (d.kind(), &got) != (want_kind, &want_codes) {
                failures.push(format!("{file}: expected {want_kind} {want_codes:?}, got {} {got:?}: {d:#?}", d.kind()));
            }
            // An issued license has the contract's spelling, whatever the mail's.
            if let Outcome::Issue(plan) = &d.outcome {
                let c = by_sender.unwrap();
                assert_eq!(plan.company, c.terms.company, "{file}");
            }
            *kinds.entry(want_kind.to_owned()).or_insert(0) += 1;
            listed.insert(file);
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        let files: std::collections::BTreeSet<String> = std::fs::read_dir(dir.join("holds"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".eml"))
            .collect();
        assert_eq!(listed, files, "README.md table vs the .eml files");
        assert!(kinds.get("hold").is_some_and(|n| *n >= 8) && kinds.get("issue").is_some_and(|n| *n >= 6), "{kinds:?}");
    }

    #[test]
    fn project_name_fanlic_issue_would_refuse() {
        let long = "p".repeat(300);
        let d = Case::clean().body("Project name: webroot", &format!("Project name: {long}")).run();
        assert_codes(&d, "reject", &["invalid_project_name"]);
    }

    #[test]
    fn no_from_address_is_refused() {
        let mail = message::parse(b"Subject: x\r\n\r\nCompany name: Northwind Trading Co., Ltd.\r\n").unwrap();
        let pass = SenderAuth::Pass { method: auth::AuthMethod::Dkim, authserv_id: "mx.vendor.example".to_owned() };
        let d = validate(&mail, &pass, Some(&contract()), None, now());
        assert_eq!(d.codes().first(), Some(&ReasonCode::SenderNotSingle), "{d:#?}");
        assert_eq!(d.kind(), "reject");
        assert!(!d.reply_allowed);
    }
}
