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

/// `sender_unauthenticated`: no trusted DKIM/DMARC pass for the From domain
/// (held, never issued).
pub const SENDER_UNAUTHENTICATED: &str = auth::CODE_UNAUTHENTICATED;
/// `sender_auth_failed`: a trusted server says the From domain's check failed.
pub const SENDER_AUTH_FAILED: &str = auth::CODE_AUTH_FAILED;
/// `sender_not_single`: the mail has no From address, or several.
pub const SENDER_NOT_SINGLE: &str = "sender_not_single";
/// `sender_not_in_contract`: the sender is not one of the contract's addresses.
pub const SENDER_NOT_IN_CONTRACT: &str = "sender_not_in_contract";
/// `contract_not_found`: no contract for the company the mail names.
pub const CONTRACT_NOT_FOUND: &str = "contract_not_found";
/// `contract_disabled`.
pub const CONTRACT_DISABLED: &str = "contract_disabled";
/// `contract_expired`.
pub const CONTRACT_EXPIRED: &str = "contract_expired";
/// `company_mismatch`: the company in the body (or subject) is not the contract's.
pub const COMPANY_MISMATCH: &str = "company_mismatch";
/// `signing_date_mismatch`.
pub const SIGNING_DATE_MISMATCH: &str = "signing_date_mismatch";
/// `method_not_in_contract`.
pub const METHOD_NOT_IN_CONTRACT: &str = "method_not_in_contract";
/// `nodes_exceed_contract`.
pub const NODES_EXCEED_CONTRACT: &str = "nodes_exceed_contract";
/// `version_mismatch`: another major.minor or another product line.
pub const VERSION_MISMATCH: &str = "version_mismatch";
/// `jar_too_old`: local container needs a JAR package of 2021-10-30 or later.
pub const JAR_TOO_OLD: &str = "jar_too_old";
/// `invalid_project_name`: a project name `fanlic issue` would refuse.
pub const INVALID_PROJECT_NAME: &str = "invalid_project_name";
/// `special_requirements`: a note staff must read (held).
pub const SPECIAL_REQUIREMENTS: &str = "special_requirements";
/// `cancel_request`: a cancellation, for staff to confirm (held).
pub const CANCEL_REQUEST: &str = "cancel_request";
/// `unknown_request`: neither a registration nor a cancellation (held).
pub const UNKNOWN_REQUEST: &str = "unknown_request";
/// `repeated_field`: a field given twice with different values (held).
pub const REPEATED_FIELD: &str = "repeated_field";
/// `fields_from_quoted_message`: the fields were read from a quoted or
/// forwarded earlier message while the new text above it says something
/// that may change them (held, the new text shown to staff).
pub const FIELDS_FROM_QUOTED_MESSAGE: &str = "fields_from_quoted_message";
/// `fields_not_read`: a registration in which no field could be read,
/// though the mail attaches something or speaks of the fields in its own
/// words: written as prose, or the fields are in an attached document or
/// picture (held: staff read it, nobody is told a field is missing).
pub const FIELDS_NOT_READ: &str = "fields_not_read";
/// `multiple_requests`: two or more requests in one mail (two field sets,
/// or a project name that lists several projects), each listed (held).
pub const MULTIPLE_REQUESTS: &str = "multiple_requests";
/// `image_builder_unavailable`: the authorization server image cannot be
/// built here (no static server binary), so private cloud waits (held).
pub const IMAGE_BUILDER_UNAVAILABLE: &str = "image_builder_unavailable";
/// `private_config_missing`: a migration mail without its `privateConfig`.
pub const PRIVATE_CONFIG_MISSING: &str = "private_config_missing";
/// `private_config_invalid`: the `privateConfig` does not decode or its
/// signatures do not hold (changed, damaged, or not of that server).
pub const PRIVATE_CONFIG_INVALID: &str = "private_config_invalid";
/// `private_config_unknown_license`: the `privateConfig` names a license
/// this home never issued.
pub const PRIVATE_CONFIG_UNKNOWN_LICENSE: &str = "private_config_unknown_license";
/// `private_config_not_private_cloud`: the license it names is not a
/// private-cloud one.
pub const PRIVATE_CONFIG_NOT_PRIVATE_CLOUD: &str = "private_config_not_private_cloud";
/// `private_config_foreign`: the license it names belongs to another company
/// than the sender's contract (held: staff look).
pub const PRIVATE_CONFIG_FOREIGN: &str = "private_config_foreign";
/// `license_already_revoked`: the license was revoked (or migrated) before.
pub const LICENSE_ALREADY_REVOKED: &str = "license_already_revoked";
/// `license_expired`: the license to migrate has expired.
pub const LICENSE_EXPIRED: &str = "license_expired";
/// `license_exists`: the project already has a live license with other
/// terms (held: staff reissue it, superseding the old one, or reject).
pub const LICENSE_EXISTS: &str = "license_exists";
/// `similar_project`: a live license's project differs from this one only
/// in case, width or spacing (held: staff decide whether it is a new project).
pub const SIMILAR_PROJECT: &str = "similar_project";
/// `max_licenses_reached`: a new project, but every license the contract
/// covers is taken.
pub const MAX_LICENSES_REACHED: &str = "max_licenses_reached";
/// `resent`: the project's live license was sent again.
pub const RESENT: &str = "resent";
/// `resend_limited`: the live license was sent again less than 24 hours
/// ago; this resend is recorded, not answered.
pub const RESEND_LIMITED: &str = "resend_limited";
/// `joined_held`: a resend of a request still held for staff, added to it.
pub const JOINED_HELD: &str = "joined_held";

/// Why a request for a project that already has a live license is not
/// issued as it stands; `None` for [`live::Standing::Free`] and
/// [`live::Standing::Same`] (the license goes out again).
pub fn standing_reason(standing: &live::Standing, project: &str) -> Option<Reason> {
    Some(match standing {
        live::Standing::Free | live::Standing::Same(_) => return None,
        live::Standing::Differs(l, diff) => Reason::new(
            LICENSE_EXISTS,
            format!(
                "Project {project:?} already has license {} with other terms ({}). One Container.lic serves one \
                 project: staff will reissue it with the new terms (the old one then stops) or reply.",
                l.license_id,
                diff.join("; ")
            ),
            format!(
                "项目 {project:?} 已有授权 {}，条款不同（{}）。每个项目只有一个 Container.lic：业务人员将按新条款重新签发（旧授权随之失效）或回复您。",
                l.license_id,
                diff.join("；")
            ),
        ),
        live::Standing::Similar(l) => Reason::new(
            SIMILAR_PROJECT,
            format!(
                "Project {project:?} differs from the licensed project {:?} (license {}) only in case, width or \
                 spacing; products compare project names exactly. Staff will check whether it is a new project; \
                 if not, use the licensed name exactly.",
                l.project, l.license_id
            ),
            format!(
                "项目 {project:?} 与已授权项目 {:?}（授权 {}）仅在大小写、全角/半角或空格上不同；产品按原样比较项目名称。业务人员将确认是否为新项目；如不是，请使用已授权的项目名称。",
                l.project, l.license_id
            ),
        ),
        live::Standing::Full { max, projects } => Reason::new(
            MAX_LICENSES_REACHED,
            format!(
                "The contract covers {max} project(s), and every one holds a license: {}. To license project \
                 {project:?}, ask us to cancel one of them (it stops working) or to extend the contract.",
                projects.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(", ")
            ),
            format!(
                "合同可授权 {max} 个项目，均已有授权：{}。如需为项目 {project:?} 授权，请联系我们注销其中一个（注销后该项目停止使用）或扩充合同。",
                projects.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join("、")
            ),
        ),
    })
}

/// The earliest JAR package build that supports local container
/// authentication: 2021-10-30.
pub const MIN_JAR_DATE: Option<Date> = Date::new(2021, 10, 30);

/// Why a request is not issued as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// Stable code, such as `nodes_exceed_contract`.
    pub code: &'static str,
    /// Plain English: what is wrong and how to fix it.
    pub message: String,
    /// A short Chinese version, for replies to Chinese mails.
    pub message_zh: String,
}

impl Reason {
    fn new(code: &'static str, message: impl Into<String>, message_zh: impl Into<String>) -> Self {
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
    pub fn codes(&self) -> Vec<&'static str> {
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
pub fn is_hold_code(code: &str) -> bool {
    [
        SENDER_UNAUTHENTICATED,
        SPECIAL_REQUIREMENTS,
        CANCEL_REQUEST,
        UNKNOWN_REQUEST,
        REPEATED_FIELD,
        FIELDS_FROM_QUOTED_MESSAGE,
        FIELDS_NOT_READ,
        MULTIPLE_REQUESTS,
        IMAGE_BUILDER_UNAVAILABLE,
        PRIVATE_CONFIG_FOREIGN,
        LICENSE_EXISTS,
        SIMILAR_PROJECT,
    ]
    .contains(&code)
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

fn parse_body_company(body: &RegistrationFields, subject: &SubjectInfo) -> Option<String> {
    body.company_name.clone().or_else(|| subject.company.clone())
}

/// The decision for a message that could not be parsed (`unparseable_message`
/// or `message_too_large`): rejected, no reply (nobody is authenticated).
pub fn unparseable(err: &MailError) -> Decision {
    let reason = Reason::new(
        err.code(),
        format!("The message could not be read ({err}). Send the registration again as a plain e-mail."),
        "邮件无法解析，请以普通邮件重新发送注册信息。",
    );
    Decision { outcome: Outcome::Reject(vec![reason]), reply_allowed: false }
}

/// Normalized address for comparison: trimmed, full-width folded, lowercase.
fn norm_addr(a: &str) -> String {
    contracts::normalize_email("from", a).unwrap_or_else(|_| a.trim().to_lowercase())
}

/// Which product a text names, if exactly one: `finereport` or `finebi`
/// (any case, spaces and full-width letters ignored).
fn products_named(text: &str) -> Vec<&'static str> {
    let squashed: String = contracts::company_key(text).chars().filter(|c| !c.is_whitespace()).collect();
    fields::PRODUCTS.iter().copied().filter(|p| squashed.contains(&p.to_lowercase())).collect()
}

fn field_of(p: &Problem) -> Option<Field> {
    match p {
        Problem::MissingField(f) => Some(*f),
        Problem::InvalidDate { field, .. } => Some(*field),
        Problem::UnknownMethod { .. } => Some(Field::Method),
        Problem::InvalidNodes { .. } => Some(Field::Nodes),
        Problem::InvalidVersion { .. } => Some(Field::Version),
        Problem::SubjectMissingCompany | Problem::SubjectMissingProduct => None,
    }
}

fn field_label(f: Field) -> (&'static str, &'static str) {
    match f {
        Field::CompanyName => ("Company name", "公司名称"),
        Field::ProjectName => ("Project name", "项目名称"),
        Field::SigningDate => ("Contract signing date", "合同签订日期"),
        Field::Method => ("Registration method", "注册方式"),
        Field::Nodes => ("Number of nodes", "集群节点数"),
        Field::Version => ("Project version", "项目版本"),
        Field::JarVersion => ("JAR package version", "JAR包版本"),
        Field::SpecialRequirements => ("Special requirements", "特殊需求"),
    }
}

fn problem_reason(p: &Problem) -> Reason {
    let code = p.code();
    match p {
        Problem::MissingField(f) => {
            let (en, zh) = field_label(*f);
            let extra = match f {
                Field::Method => " (Local container or Private cloud)",
                Field::JarVersion => " (the JAR build date, such as 2023.12.14)",
                Field::SigningDate => " (YYYY/MM/DD)",
                _ => "",
            };
            Reason::new(
                code,
                format!("The line \"{en}:\" is missing. Add it with its value{extra}."),
                format!("缺少“{zh}”，请补充。"),
            )
        }
        Problem::InvalidDate { field, raw } => {
            let (en, zh) = field_label(*field);
            Reason::new(
                code,
                format!("\"{en}\" is \"{raw}\", which is not a real date. Write it as YYYY/MM/DD, such as 2026/11/20."),
                format!("“{zh}”不是有效日期（{raw}），请按 YYYY/MM/DD 填写。"),
            )
        }
        Problem::UnknownMethod { raw } => Reason::new(
            code,
            format!("The registration method \"{raw}\" is not known. Write \"Local container\" or \"Private cloud\"."),
            format!("注册方式“{raw}”无法识别，请填写“本地容器”或“私有云”。"),
        ),
        Problem::InvalidNodes { raw } => Reason::new(
            code,
            format!("The number of nodes \"{raw}\" is not a whole number of at least 1. Write a number such as 2."),
            format!("节点数“{raw}”无效，请填写不小于 1 的整数。"),
        ),
        Problem::InvalidVersion { raw } => Reason::new(
            code,
            format!("The project version \"{raw}\" has no major.minor. Write it such as 11.0 or 11.0.20."),
            format!("项目版本“{raw}”无法识别，请填写如 11.0 的版本号。"),
        ),
        Problem::SubjectMissingCompany => Reason::new(
            code,
            "The subject does not name your company. Use a subject such as \"Official Authorization Document of \
             <Company>'s Registration for FineReport\".",
            "邮件主题未写明公司名称，请使用如“关于<公司>注册FineReport的正式授权文件”的主题。",
        ),
        Problem::SubjectMissingProduct => Reason::new(
            code,
            "The subject does not name the product. Write FineReport or FineBI in the subject.",
            "邮件主题未写明产品，请在主题中注明 FineReport 或 FineBI。",
        ),
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
pub const APPROVABLE_HOLDS: [&str; 3] = [SPECIAL_REQUIREMENTS, REPEATED_FIELD, FIELDS_FROM_QUOTED_MESSAGE];

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

/// What a mail asks for among the private-cloud requests (a registration,
/// moving the server, destroying the old one), by [`intent_of`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// A registration, a cancellation or an unknown request, as
    /// [`ParsedRequest`] classifies it.
    Registration,
    /// Move the authorization server: its license is revoked and a new
    /// image, with a new license that supersedes it, is sent.
    Migration,
    /// Destroy the old authorization component: its license is revoked.
    Destroy,
}

/// Whether an attachment name is the server's state file: `privateConfig`
/// (any case), also with an extension a mail program may add.
pub fn is_private_config_name(name: &str) -> bool {
    let base = name.trim().rsplit(['/', '\\']).next().unwrap_or_default().to_ascii_lowercase();
    base == "privateconfig"
        || base.strip_prefix("privateconfig.").is_some_and(|ext| ["txt", "bin", "dat"].contains(&ext))
}

/// Whether `mail` carries a `privateConfig` attachment.
pub fn has_private_config(mail: &RegistrationMail) -> bool {
    mail.attachments
        .iter()
        .any(|a| is_private_config_name(&a.name) || a.original_name.as_deref().is_some_and(is_private_config_name))
}

/// What `mail` asks for:
///
/// - [`Intent::Migration`]: it speaks of migrating (`migrate`, `migration`,
///   `move the server`, `迁移`, ...) and either attaches a `privateConfig`
///   or does not speak of destroying (unless its registration method is
///   local container, which has no server to move, and nothing is
///   attached: then a registration); or it is a registration (or names no
///   destroying) and attaches a `privateConfig` (a migration is the
///   registration of the new server with the old one's `privateConfig`).
/// - [`Intent::Destroy`]: it asks to destroy (`destroy`, `销毁`, ...) or
///   cancel (`cancel the registration`, `注销`, ...) without migrating
///   words, or with them but without a `privateConfig` (destroying "the
///   server to be migrated" is the first step of a migration).
/// - [`Intent::Registration`] otherwise.
///
/// The words are looked for in the subject and the customer's own words
/// ([`RegistrationFields::own_words`]): never in a quoted message, a
/// signature or a confidentiality notice ("destroy all copies").
pub fn intent_of(mail: &RegistrationMail, parsed: &ParsedRequest) -> Intent {
    // The subject and the customer's own words: not quoted messages, not a
    // signature or a confidentiality notice ("destroy all copies").
    let text = contracts::company_key(&format!("{}\n{}", mail.subject, parsed.body.own_words()));
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let migrate = crate::ingest::private_cloud::MIGRATION_WORDS.iter().any(|w| text.contains(w));
    let destroy = crate::ingest::private_cloud::DESTROY_WORDS.iter().any(|w| text.contains(w))
        || parsed.kind == RequestKind::CancelRegistration;
    let config = has_private_config(mail);
    // A local container has no authorization server to move: a local
    // container registration that speaks of migrating (its servers, from
    // another tool) without a privateConfig is a registration.
    let local = parsed.body.method.as_ref().and_then(|m| m.value) == Some(LicenseKind::LocalContainer);
    match (migrate, destroy, config) {
        (true, false, false) if local => Intent::Registration,
        (true, false, _) | (true, true, true) => Intent::Migration,
        (_, true, _) => Intent::Destroy,
        (false, false, true) => Intent::Migration,
        (false, false, false) => Intent::Registration,
    }
}

/// The license a `privateConfig` names, as this home recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedLicense {
    /// Its id.
    pub license_id: LicenseId,
    /// The company it was issued to.
    pub company: String,
    /// Its project.
    pub project: String,
    /// `FineReport` or `FineBI`.
    pub app: &'static str,
    /// Its major.minor.
    pub version: Version,
    /// Its node count.
    pub nodes: u32,
    /// Its expiry.
    pub expiry: Expiry,
    /// Its contract signing date.
    pub signed: Date,
    /// `(when, reason)` if it is revoked.
    pub revoked: Option<(Timestamp, String)>,
    /// A license that supersedes it (a migration done), if any.
    pub superseded_by: Option<String>,
}

/// What checking a mail's `privateConfig` found (`crate::ingest::private_cloud`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigCheck {
    /// No `privateConfig` attached.
    Missing,
    /// It does not decode, or a signature does not hold.
    Invalid {
        /// What failed.
        why: String,
    },
    /// It names a license this home never issued.
    UnknownLicense {
        /// The id it names.
        license_id: LicenseId,
    },
    /// It names a license that is not a private-cloud one.
    NotPrivateCloud {
        /// The id it names.
        license_id: LicenseId,
    },
    /// It verifies with the image key of this license.
    Verified(NamedLicense),
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

/// What [`assess`] found.
struct Assessment {
    reasons: Vec<Reason>,
    plan: Option<IssuePlan>,
    single_sender: bool,
    revoke: Option<RevokePlan>,
}

/// `contract_disabled` and `contract_expired` of `c` at `now`; `what` is
/// what could not be issued under it (English, Chinese).
fn contract_reasons(c: &Contract, now: Timestamp, (what, what_zh): (&str, &str), reasons: &mut Vec<Reason>) {
    if !c.enabled {
        reasons.push(Reason::new(
            CONTRACT_DISABLED,
            format!(
                "The contract of \"{}\" is disabled, so no {what} can be issued under it. Please contact your \
                 sales representative.",
                c.terms.company
            ),
            format!("该合同已停用，无法签发{what_zh}，请联系销售。"),
        ));
    }
    if c.is_expired_at(now) {
        reasons.push(Reason::new(
            CONTRACT_EXPIRED,
            format!(
                "The contract of \"{}\" ended on {}. Please renew it with your sales representative first.",
                c.terms.company, c.terms.expires
            ),
            format!("合同已于 {} 到期，请先联系销售续约。", c.terms.expires),
        ));
    }
}

fn image_unavailable_reason(why: &str) -> Reason {
    Reason::new(
        IMAGE_BUILDER_UNAVAILABLE,
        format!(
            "The authorization server image (fanruan_license_server.tar) cannot be built on the vendor's side \
             right now; staff will send it. Staff: {why}; then approve or ingest the mail again."
        ),
        "授权服务器镜像暂时无法生成，工作人员处理后将发送给您。",
    )
}

/// The reasons and plans of a migration or destroy mail whose sender and
/// contract were checked (`reasons` so far), from its `privateConfig`.
fn assess_private_config(
    (mail, ctx): (&RegistrationMail, &Context<'_>),
    mut reasons: Vec<Reason>,
    contract: Option<&Contract>,
    sender: Option<&String>,
    now: Timestamp,
) -> Assessment {
    let single_sender = sender.is_some();
    let done = |reasons| Assessment { reasons, plan: None, single_sender, revoke: None };
    let old = match ctx.config {
        ConfigCheck::Missing => {
            reasons.push(Reason::new(
                PRIVATE_CONFIG_MISSING,
                "To move the authorization server, attach its privateConfig file (in /app/config of the \
                 container's mounted folder, taken after stopping the old component) to the mail, and send it \
                 again.",
                "迁移授权服务器需附上 privateConfig 文件（停止旧组件后，从容器挂载目录的 /app/config 获取），请补充后重新发送。",
            ));
            return done(reasons);
        }
        ConfigCheck::Invalid { why } => {
            reasons.push(Reason::new(
                PRIVATE_CONFIG_INVALID,
                format!(
                    "The attached privateConfig could not be verified ({why}). Attach the file exactly as the \
                     authorization server wrote it in /app/config, unchanged (not opened in an editor, not \
                     zipped), and send the mail again."
                ),
                "所附 privateConfig 文件校验失败，请附上授权服务器 /app/config 中未经修改的原文件后重新发送。",
            ));
            return done(reasons);
        }
        ConfigCheck::UnknownLicense { license_id } => {
            reasons.push(Reason::new(
                PRIVATE_CONFIG_UNKNOWN_LICENSE,
                format!(
                    "The attached privateConfig names license {license_id}, which we did not issue. Attach the \
                     privateConfig of the authorization server we sent you, or contact your sales representative."
                ),
                format!("所附 privateConfig 对应的授权 {license_id} 不是我方签发的，请附上正确的文件或联系销售。"),
            ));
            return done(reasons);
        }
        ConfigCheck::NotPrivateCloud { license_id } => {
            reasons.push(Reason::new(
                PRIVATE_CONFIG_NOT_PRIVATE_CLOUD,
                format!(
                    "License {license_id} is a local container license (Container.lic), which has no \
                     authorization server to move. To register a new project with it, re-register in the \
                     product (Registration Management), or ask us to unbind it."
                ),
                format!("授权 {license_id} 为本地容器授权，没有可迁移的授权服务器；如需更换项目，请在产品中重新注册或联系我们解绑。"),
            ));
            return done(reasons);
        }
        ConfigCheck::Verified(old) => old,
    };
    let Some(c) = contract else {
        // contract_not_found (or no sender) is already among the reasons.
        return done(reasons);
    };
    if contracts::company_key(&old.company) != contracts::company_key(&c.terms.company) {
        reasons.push(Reason::new(
            PRIVATE_CONFIG_FOREIGN,
            format!(
                "The attached privateConfig belongs to license {}, which was not issued under the contract of \
                 \"{}\"; staff will check the request with you. Only the company that holds a license can move \
                 or destroy its server.",
                old.license_id, c.terms.company
            ),
            "所附 privateConfig 不属于贵公司合同下的授权，将由工作人员核实。",
        ));
        return done(reasons);
    }
    let destroyed =
        old.revoked.as_ref().is_some_and(|(_, r)| r.starts_with(crate::ingest::private_cloud::DESTROYED_REASON));
    let revoke_old = match (&old.revoked, &old.superseded_by) {
        (None, None) => true,
        // Destroyed on request, then asked for the new image: a migration's first and last steps.
        (Some(_), None) if ctx.intent == Intent::Migration && destroyed => false,
        (revoked, superseded) => {
            let (en, zh) = match (superseded, revoked) {
                (Some(new), _) => (format!("it was migrated to license {new}"), format!("已迁移至授权 {new}")),
                (None, Some((at, _))) => (format!("it was revoked at {at}"), format!("已于 {at} 吊销")),
                (None, None) => (String::new(), String::new()),
            };
            reasons.push(Reason::new(
                LICENSE_ALREADY_REVOKED,
                format!(
                    "License {} of the attached privateConfig cannot be moved or destroyed again: {en}. If you \
                     need another authorization server, send a new registration; reply to this message if you did \
                     not ask for this.",
                    old.license_id
                ),
                format!(
                    "所附 privateConfig 对应的授权 {} {zh}，无法再次迁移或销毁。如需新的授权服务器，请重新申请注册。",
                    old.license_id
                ),
            ));
            return done(reasons);
        }
    };
    if ctx.intent == Intent::Destroy {
        let revoke = RevokePlan {
            license_id: old.license_id,
            reason: format!(
                "{} (mail {})",
                crate::ingest::private_cloud::DESTROYED_REASON,
                mail.message_id.as_deref().unwrap_or(mail.dedup_key.as_str())
            ),
        };
        return Assessment { reasons, plan: None, single_sender, revoke: Some(revoke) };
    }
    // A migration issues a new license under the contract: it must allow it.
    contract_reasons(c, now, ("new authorization server", "新的授权服务器"), &mut reasons);
    if !c.allows(LicenseKind::PrivateCloud) {
        reasons.push(Reason::new(
            METHOD_NOT_IN_CONTRACT,
            "Your contract no longer allows private cloud registration, so the authorization server cannot be \
             moved. Please contact your sales representative.",
            "合同已不包含私有云注册方式，无法迁移授权服务器，请联系销售。",
        ));
    }
    if let Expiry::On(d) = old.expiry
        && d.end() <= now
    {
        reasons.push(Reason::new(
            LICENSE_EXPIRED,
            format!(
                "License {} expired on {d}, so it cannot be moved. Renew the contract and send a new \
                 registration instead.",
                old.license_id
            ),
            format!("授权 {} 已于 {d} 到期，无法迁移，请续约后重新申请注册。", old.license_id),
        ));
    }
    if let Some(why) = ctx.images_unavailable {
        reasons.push(image_unavailable_reason(why));
    }
    let plan = sender.map(|sender| IssuePlan {
        contract_id: c.id,
        company: old.company.clone(),
        project: old.project.clone(),
        app: old.app,
        version: old.version,
        kind: LicenseKind::PrivateCloud,
        nodes: old.nodes,
        expiry: old.expiry,
        signed: old.signed,
        jar_date: None,
        sender: sender.clone(),
        request_sha256: mail.raw_sha256_hex(),
        dedup_key: mail.dedup_key.clone(),
        message_id: mail.message_id.clone(),
        migration: Some(Migration { old: old.license_id, revoke: revoke_old }),
        max_licenses: c.terms.max_licenses,
        activation_policy: c.terms.activation_policy,
    });
    Assessment { reasons, plan, single_sender, revoke: None }
}

/// Every reason, and the license to issue if nothing stands in the way.
fn assess(
    (mail, parsed): (&RegistrationMail, &ParsedRequest),
    auth: &SenderAuth,
    (by_company, by_sender): (Option<&Contract>, Option<&Contract>),
    now: Timestamp,
    ctx: &Context<'_>,
) -> Assessment {
    let mut reasons: Vec<Reason> = Vec::new();
    let ParsedRequest { subject, body, kind } = parsed;
    // A destroy request without a privateConfig is a cancellation, held for
    // staff as before; with one, and a migration, it is neither a
    // registration nor an unknown request.
    let kind = match (ctx.intent, ctx.config) {
        (Intent::Destroy, ConfigCheck::Missing) => RequestKind::CancelRegistration,
        (Intent::Destroy | Intent::Migration, _) => RequestKind::Registration,
        (Intent::Registration, _) => *kind,
    };
    let private_config_request = ctx.intent == Intent::Migration
        || (ctx.intent == Intent::Destroy && !matches!(ctx.config, ConfigCheck::Missing));
    let named = parse_body_company(body, subject);
    let sender = mail.single_from().map(norm_addr);

    // Sender.
    match auth {
        SenderAuth::Pass { .. } => {}
        SenderAuth::Fail { detail, .. } => reasons.push(Reason::new(
            SENDER_AUTH_FAILED,
            format!(
                "Our mail server could not verify that this message comes from your domain ({detail}). Send it \
                 again from your company mailbox, through your company's own mail server."
            ),
            "发件人域名验证失败，请通过贵公司邮箱服务器重新发送。",
        )),
        SenderAuth::None { why } => reasons.push(Reason::new(
            SENDER_UNAUTHENTICATED,
            format!("The sender could not be authenticated ({why}); staff will check the request by hand."),
            "无法验证发件人身份，将由工作人员人工核实。",
        )),
    }
    if sender.is_none() {
        reasons.push(Reason::new(
            SENDER_NOT_SINGLE,
            format!(
                "The message has {} From addresses; exactly one is required. Send it from one of the addresses \
                 in your contract only.",
                mail.from.len()
            ),
            "发件人地址必须且只能有一个，请仅用合同登记的邮箱发送。",
        ));
    }

    // Request kind.
    match kind {
        RequestKind::Unknown => {
            reasons.push(Reason::new(
                UNKNOWN_REQUEST,
                "This message is neither a license registration nor a cancellation; staff will read it. To \
                 register, send the registration fields (Company name, Project name, Contract signing date, ...).",
                "无法识别的请求，将由工作人员处理。如需注册，请按模板填写注册信息。",
            ));
            return Assessment { reasons, plan: None, single_sender: sender.is_some(), revoke: None };
        }
        RequestKind::CancelRegistration => reasons.push(Reason::new(
            CANCEL_REQUEST,
            "This is a request to cancel a registration; staff will confirm it with you before anything changes.",
            "此邮件为注销注册请求，工作人员确认后处理。",
        )),
        RequestKind::Registration => {}
    }

    // Contract. A name that differs from the sender's own contract's only
    // in legal-form spelling is that contract's, for an authenticated
    // sender; never another one's (that lookup is exact).
    let own = |c: &Contract| {
        auth.is_pass() && sender.as_ref().is_some_and(|s| c.terms.emails.iter().any(|e| norm_addr(e) == *s))
    };
    let variant_of_own = |company: &str| {
        by_sender.filter(|c| own(c) && contracts::same_company_but_legal_form(company, &c.terms.company))
    };
    let contract = match (by_company, &named) {
        (Some(c), _) => Some(c),
        (None, None) => by_sender,
        (None, Some(company)) if variant_of_own(company).is_some() => variant_of_own(company),
        (None, Some(company)) => {
            let hint = by_sender
                .filter(|c| contracts::company_key(&c.terms.company) != contracts::company_key(company))
                .map(|c| format!(" Your address is registered for \"{}\"; write that name exactly.", c.terms.company))
                .unwrap_or_default();
            reasons.push(Reason::new(
                CONTRACT_NOT_FOUND,
                format!(
                    "We have no contract for the company \"{company}\". Write the company name exactly as in \
                     your contract.{hint}"
                ),
                format!("未找到公司“{company}”的合同，请按合同填写公司全称。"),
            ));
            None
        }
    };
    if let (Some(c), Some(s)) = (contract, &sender)
        && !c.terms.emails.iter().any(|e| norm_addr(e) == *s)
    {
        reasons.push(Reason::new(
            SENDER_NOT_IN_CONTRACT,
            format!(
                "The address {s} is not registered for the contract of \"{}\". Send the request from an address \
                 named in the contract, or ask your sales contact to add this one.",
                c.terms.company
            ),
            format!("发件邮箱 {s} 未登记在该公司合同中，请使用合同登记的邮箱发送，或联系销售添加。"),
        ));
    }
    if kind == RequestKind::CancelRegistration {
        return Assessment { reasons, plan: None, single_sender: sender.is_some(), revoke: None };
    }
    if private_config_request {
        return assess_private_config((mail, ctx), reasons, contract, sender.as_ref(), now);
    }
    if let Some(c) = contract {
        contract_reasons(c, now, ("license", "授权"), &mut reasons);
    }

    // Subject.
    for p in subject.problems() {
        reasons.push(problem_reason(&p));
    }

    // Body, field by field.
    let contract_method = contract.and_then(|c| match c.terms.methods.as_slice() {
        [only] => Some(*only),
        _ => None,
    });
    let mut problems = body.problems(contract_method);
    // No field read, in a mail that attaches something or speaks of the
    // fields: not "every field is missing" in the customer's face.
    if !body.has_request_fields() && (!mail.attachments.is_empty() || fields::field_words_in(&body.fresh_text) >= 3) {
        problems.retain(|p| !matches!(p, Problem::MissingField(_)));
        let attached: Vec<&str> = mail.attachments.iter().map(|a| a.name.as_str()).collect();
        let (en, zh) = if attached.is_empty() {
            ("written in the mail's own words".to_owned(), "以正文叙述的方式书写".to_owned())
        } else {
            (
                format!("perhaps in the attachment ({})", attached.join(", ")),
                format!("可能在附件中（{}）", attached.join("、")),
            )
        };
        reasons.push(Reason::new(
            FIELDS_NOT_READ,
            format!(
                "No registration field could be read in this mail ({en}); staff will read it. To be quicker, write \
                 the fields in the mail as \"Company name: ...\", \"Project name: ...\", one per line."
            ),
            format!("未能从邮件中读取注册信息（{zh}），将由工作人员阅读处理。如需更快处理，请在正文中按“公司名称：……”逐行填写。"),
        ));
    }
    let method = body.effective_method(contract_method);
    for field in [
        Field::CompanyName,
        Field::ProjectName,
        Field::SigningDate,
        Field::Method,
        Field::Nodes,
        Field::Version,
        Field::JarVersion,
    ] {
        for p in problems.iter().filter(|p| field_of(p) == Some(field)) {
            reasons.push(problem_reason(p));
        }
        let legal_form_ok = contract.is_some_and(own);
        if let Some(r) = compare(field, (body, subject), contract, method, legal_form_ok) {
            reasons.push(r);
        }
    }
    // A forward (`Fwd:`, or the request attached as a message) comes with a
    // cover note: it holds the request only when it asks for a change. A
    // reply's new text holds it whenever it says anything.
    let forward = fields::is_forward_subject(&mail.subject) || !mail.attached_subjects.is_empty();
    if body.from_earlier_message
        && let Some(text) = body.fresh_request()
        && (!forward || body.fresh_asks_for_change())
    {
        let text = shown(&text.replace('\n', " / "));
        reasons.push(Reason::new(
            FIELDS_FROM_QUOTED_MESSAGE,
            format!(
                "The registration fields were read from the earlier message quoted or forwarded in this mail, \
                 and the new text above it may change them: \"{text}\". Staff will read it and reply; to be \
                 quicker, send the request again with every field written out as it should now be."
            ),
            format!(
                "注册信息取自邮件中引用或转发的原邮件，而您新写的内容可能有所修改：“{text}”。工作人员将阅读后回复；\
                 如需更快处理，请将各项注册信息按最新内容完整填写后重新发送。"
            ),
        ));
    }
    let asked: Vec<&str> = body
        .special_requirements
        .iter()
        .map(String::as_str)
        .chain(body.exception_requests.iter().map(String::as_str))
        .collect();
    if !asked.is_empty() {
        let text = shown(&asked.join(" / "));
        reasons.push(Reason::new(
            SPECIAL_REQUIREMENTS,
            format!(
                "The request has a special requirements note or asks for something outside the registration \
                 fields; staff will read it and reply: \"{text}\". Nothing is issued automatically; if you need \
                 nothing special, send the request again without it."
            ),
            format!(
                "邮件包含特殊需求或例外申请：“{text}”，将由工作人员阅读后回复，不会自动签发。如无特殊需求，请删除该内容后重新发送。"
            ),
        ));
    }
    if !body.requests.is_empty() {
        let n = body.requests.len();
        // Each request with its fields: `1) Project name "a", ...` in English,
        // `1）项目名称“a”，...` in Chinese.
        let listed = |zh: bool| -> Vec<String> {
            let (open, close, sep, num) = if zh { ("“", "”", "，", "）") } else { (" \"", "\"", ", ", ") ") };
            body.requests
                .iter()
                .enumerate()
                .map(|(k, r)| {
                    let fields: Vec<String> = r
                        .fields
                        .iter()
                        .map(|(f, v)| {
                            let (en, cn) = field_label(*f);
                            format!("{}{open}{}{close}", if zh { cn } else { en }, shown(v))
                        })
                        .collect();
                    format!("{}{num}{}", k + 1, fields.join(sep))
                })
                .collect()
        };
        let (en, zh) = (listed(false), listed(true));
        reasons.push(Reason::new(
            MULTIPLE_REQUESTS,
            format!(
                "This mail holds {n} requests: {}. Each project gets its own license: staff will handle them and \
                 reply; to be quicker, send one request per mail, each with all its fields.",
                en.join("; ")
            ),
            format!(
                "邮件包含 {n} 个注册请求：{}。每个项目单独授权，工作人员将分别处理并回复；如需更快处理，请每封邮件只发一个请求并填写完整信息。",
                zh.join("；")
            ),
        ));
    } else if !body.repeated.is_empty() {
        let en: Vec<&str> = body.repeated.iter().map(|f| field_label(*f).0).collect();
        let zh: Vec<&str> = body.repeated.iter().map(|f| field_label(*f).1).collect();
        reasons.push(Reason::new(
            REPEATED_FIELD,
            format!(
                "These fields are given more than once with different values: {}. Staff will check; to be \
                 quicker, send one request per mail with each field once.",
                en.join(", ")
            ),
            format!("以下字段重复且取值不同：{}，将由工作人员核实。", zh.join("、")),
        ));
    }
    if method == Some(LicenseKind::PrivateCloud)
        && let Some(why) = ctx.images_unavailable
    {
        reasons.push(image_unavailable_reason(why));
    }

    let plan = match (contract, method, body.node_count(), &body.project_name, &sender) {
        (Some(c), Some(kind), Some(nodes), Some(project), Some(sender)) => Some(IssuePlan {
            contract_id: c.id,
            company: c.terms.company.clone(),
            project: project.clone(),
            app: c.terms.product,
            version: c.terms.version,
            kind,
            nodes,
            expiry: c.terms.expires,
            signed: c.terms.signed,
            jar_date: body.jar_version.as_ref().and_then(|f| f.value),
            sender: sender.clone(),
            request_sha256: mail.raw_sha256_hex(),
            dedup_key: mail.dedup_key.clone(),
            message_id: mail.message_id.clone(),
            migration: None,
            max_licenses: c.terms.max_licenses,
            activation_policy: c.terms.activation_policy,
        }),
        _ => None,
    };
    Assessment { reasons, plan, single_sender: sender.is_some(), revoke: None }
}

/// A customer's text as shown in a reason: at most 600 characters.
fn shown(text: &str) -> String {
    const MAX: usize = 600;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(MAX).collect();
    s.push('…');
    s
}

/// The comparison of one field with the contract, if it disagrees.
/// `legal_form_ok`: the contract is the authenticated sender's own, so a
/// company name that differs only in legal-form spelling agrees
/// ([`contracts::same_company_but_legal_form`]).
fn compare(
    field: Field,
    (body, subject): (&RegistrationFields, &SubjectInfo),
    contract: Option<&Contract>,
    method: Option<LicenseKind>,
    legal_form_ok: bool,
) -> Option<Reason> {
    match field {
        Field::CompanyName => {
            let c = contract?;
            let key = contracts::company_key(&c.terms.company);
            let wrong: Vec<&str> = [body.company_name.as_deref(), subject.company.as_deref()]
                .into_iter()
                .flatten()
                .filter(|n| contracts::company_key(n) != key)
                .filter(|n| !(legal_form_ok && contracts::same_company_but_legal_form(n, &c.terms.company)))
                .collect();
            let first = wrong.first()?;
            Some(Reason::new(
                COMPANY_MISMATCH,
                format!(
                    "The company \"{first}\" is not the one in the contract, \"{}\". Write the company name exactly \
                     as in the contract, in the subject and the body.",
                    c.terms.company
                ),
                format!("公司名称“{first}”与合同不一致，应为“{}”。", c.terms.company),
            ))
        }
        Field::ProjectName => {
            let p = body.project_name.as_deref()?;
            let e = crate::util::input::name("project_name", p).err()?;
            Some(Reason::new(
                INVALID_PROJECT_NAME,
                format!("The project name cannot be used: {e}."),
                "项目名称无效，请修改后重新发送。",
            ))
        }
        Field::SigningDate => {
            let c = contract?;
            let d = *body.signing_date.as_ref()?.valid()?;
            (d != c.terms.signed).then(|| {
                Reason::new(
                    SIGNING_DATE_MISMATCH,
                    format!(
                        "The contract signing date {d} is not the contract's, {}. Write the date shown on the \
                         contract.",
                        c.terms.signed
                    ),
                    format!("合同签订日期 {d} 与合同不符（应为 {}）。", c.terms.signed),
                )
            })
        }
        Field::Method => {
            let c = contract?;
            let m = method?;
            (!c.allows(m)).then(|| {
                let allowed: Vec<&str> = c.terms.methods.iter().map(|m| m.as_str()).collect();
                Reason::new(
                    METHOD_NOT_IN_CONTRACT,
                    format!(
                        "The registration method {m} is not in your contract, which allows {}. Ask for an allowed \
                         method, or contact your sales representative.",
                        allowed.join(", ")
                    ),
                    format!("注册方式 {m} 不在合同范围内（合同允许：{}）。", allowed.join("、")),
                )
            })
        }
        Field::Nodes => {
            let c = contract?;
            let n = body.node_count()?;
            (n > c.terms.max_nodes).then(|| {
                Reason::new(
                    NODES_EXCEED_CONTRACT,
                    format!(
                        "{n} nodes were asked for, but the contract allows at most {}. Ask for {} or fewer, or \
                         contact your sales representative.",
                        c.terms.max_nodes, c.terms.max_nodes
                    ),
                    format!("申请节点数 {n} 超过合同上限 {}。", c.terms.max_nodes),
                )
            })
        }
        Field::Version => {
            let c = contract?;
            let mut wrong: Vec<String> = Vec::new();
            if let Some(p) = subject.product
                && p != c.terms.product
            {
                wrong.push(format!("the subject names {p}"));
            }
            if let Some(f) = &body.project_version {
                if let Some(p) = products_named(&f.raw).into_iter().find(|p| *p != c.terms.product) {
                    wrong.push(format!("the project version names {p}"));
                }
                if let Some(v) = f.valid()
                    && *v != c.terms.version
                {
                    wrong.push(format!("the project version is {v}"));
                }
            }
            (!wrong.is_empty()).then(|| {
                Reason::new(
                    VERSION_MISMATCH,
                    format!(
                        "The contract is for {} {}, but {}. Ask for the contracted product and version, or contact \
                         your sales representative.",
                        c.terms.product,
                        c.terms.version,
                        wrong.join(" and ")
                    ),
                    format!("产品或版本与合同不符，合同为 {} {}。", c.terms.product, c.terms.version),
                )
            })
        }
        Field::JarVersion => {
            if method != Some(LicenseKind::LocalContainer) {
                return None;
            }
            let d = *body.jar_version.as_ref()?.valid()?;
            let min = MIN_JAR_DATE?;
            (d < min).then(|| {
                Reason::new(
                    JAR_TOO_OLD,
                    format!(
                        "The JAR package is from {d}; local container registration needs a JAR package dated \
                         {min} or later. Update the JAR package, then send the request again with its new version."
                    ),
                    format!("JAR包版本（{d}）过旧，本地容器注册需要 {min} 及以后的JAR包，请升级后重新申请。"),
                )
            })
        }
        Field::SpecialRequirements => None,
    }
}

/// The outcome from the reasons (see the module documentation).
fn decide(reasons: Vec<Reason>, auth: &SenderAuth, single_sender: bool, plan: Option<IssuePlan>) -> Decision {
    let reply_allowed = auth.is_pass() && single_sender;
    // New text above a quoted request may correct what the quoted fields
    // get wrong: staff read it before anything is answered.
    let new_text = auth.is_pass() && reasons.iter().any(|r| r.code == FIELDS_FROM_QUOTED_MESSAGE);
    let outcome = if matches!(auth, SenderAuth::None { .. }) || new_text {
        Outcome::Hold(reasons)
    } else if reasons.iter().any(|r| !is_hold_code(r.code)) {
        Outcome::Reject(reasons)
    } else if !reasons.is_empty() {
        Outcome::Hold(reasons)
    } else {
        match plan {
            Some(plan) => Outcome::Issue(plan),
            // Unreachable in practice: a missing piece always has a reason.
            None => Outcome::Hold(vec![Reason::new(
                "incomplete_request",
                "The request is incomplete; staff will check it.",
                "请求信息不完整，将由工作人员核实。",
            )]),
        }
    };
    Decision { outcome, reply_allowed }
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
        assert_eq!((d.kind(), d.codes()), (kind, codes.to_vec()), "{d:#?}");
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
            assert!(is_hold_code(code));
        }
        assert!(!is_hold_code("sender_auth_failed"));
        assert!(!is_hold_code("nodes_exceed_contract"));
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
        assert!(APPROVABLE_HOLDS.contains(&FIELDS_FROM_QUOTED_MESSAGE));
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
        assert!(!APPROVABLE_HOLDS.contains(&MULTIPLE_REQUESTS));
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
            let got: Vec<String> = d.codes().iter().map(|c| (*c).to_owned()).collect();
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
        assert_eq!(d.codes().first(), Some(&"sender_not_single"), "{d:#?}");
        assert_eq!(d.kind(), "reject");
        assert!(!d.reply_allowed);
    }
}
