//! The registration fields of a request mail: labels in English and Chinese.
//!
//! Pure functions from a mail's subject and text body (HTML already turned
//! into text by the caller) to what the customer asked for:
//!
//! - [`parse_subject`]: company, product and whether it is a reply/forward.
//! - [`parse_body`]: the labelled fields ([`RegistrationFields`]).
//! - [`classify`]: registration, cancellation of a registration, or unknown.
//!
//! Nothing here decides; a value that is present but unusable keeps its raw
//! text ([`FieldValue`]) so that the caller reports a precise reason
//! ([`Problem::code`]).
//!
//! # Grammar
//!
//! A field is a line `LABEL: VALUE` (ASCII or full-width colon). The label
//! may be preceded by a bullet or numbering (`1. `, `- `, `• `, `1、`,
//! `(4)`, `①`, `一、`, `（一）`), may be written in English, Chinese or both
//! in either order (`Company name/公司名称`, `Project name（项目名称）`,
//! `公司名称 Company name`, `Company name 公司名称`), in brackets
//! (`【公司名称】`), bold (`**Company name:**`, `*Company name:*`), in any
//! letter case and with any spacing, and may carry a hint in parentheses
//! (`Contract signing date (YYYY/MM/DD)`). If nothing follows the colon, the
//! value is the next non-blank line unless that line is itself a label.
//! Table rows converted from HTML (`Company name<TAB>Acme`, `| Company name
//! | Acme |`; [`pair_table_cells`] turns column layouts and pairs side by
//! side into such rows), a specific label alone on its line (`Company name`,
//! not `Company`) with the value below, and a specific label followed by a
//! spaced dash (`Company Name - Acme`) also count. The first occurrence of a
//! field in a block wins; a later different value is recorded in
//! [`RegistrationFields::repeated`].
//!
//! Values: dates year first (`2026/11/20`, `2026-11-20`, `2026.11.20`,
//! `2026年11月20日`), and for the signing date also day and month before the
//! year when only one reading is a real date (`20/11/2026`, never
//! `05/08/2026`) or with an English month name (`20 November 2026`); node
//! counts in digits (full-width too) or one Chinese numeral (`两个节点`).
//!
//! The body is cut into blocks at quoted or forwarded earlier messages
//! (`>` lines, `On … wrote:`, `… 写道：`, `-------- Forwarded Message
//! --------`, `-----Original Message-----`, `---- 原始邮件 ----`,
//! `发件人:` and `From:`/`Sent:` header blocks). A signature (`-- `, or a
//! closing such as `Best regards`/`此致` after a field) ends a block. The
//! fields are read from the newest block that has any: fresh text first,
//! then unquoted forwarded messages, then `>`-quoted ones. A block holding
//! only a special requirements note does not hide the request below it; the
//! note is kept with it. Fields read from an earlier message are marked
//! ([`RegistrationFields::from_earlier_message`]). A note that is empty or
//! "none" (`none`, `N/A`, `无`, `暂无`, `无特殊要求`, with or without `谢谢`)
//! is no note.
//!
//! A correction of a field or two in the fresh text (a fresh block whose
//! fields lack the company or the project name, such as `Project name:
//! finance_bi` above a quoted request) does not hide the whole request of
//! an earlier message: that one is read (and marked), and the fresh text
//! says what changes.
//!
//! # Several requests
//!
//! The fields of a block are cut into sets in order: a field given again
//! starts the next set. Two or more sets of at least two fields each that
//! differ in a value are several requests ([`RegistrationFields::requests`],
//! each set as written: `项目一`/`项目二` with their own fields, a second
//! `Project name:` with its node count); so is one project name that lists
//! several (`webroot、webroot_dr`, `a, b`, `a and b`). One field given again
//! alone is a correction ([`RegistrationFields::repeated`] only). Values are
//! compared as values: `3` and `3 nodes`, `2026/11/20` and `2026年11月20日`,
//! two spellings of one company's legal form, are the same.
//!
//! # Free text
//!
//! [`RegistrationFields::fresh_text`] is what the customer wrote outside
//! quoted and forwarded messages. [`RegistrationFields::fresh_request`] is
//! the part of it that says something. What does not: blank lines; a
//! greeting (`Hi`, `Hello all`, `Dear team,`, `您好`, `王经理，您好`,
//! `尊敬的…`); a piece made only of courtesy words and phrases (`see
//! below`, `please find below our request`, `resending`, `FYI`, `请查收`,
//! `见下`, `谢谢`, `麻烦处理一下`, `we have not received the license yet`);
//! a sign-off (`Best regards`, `此致`, `Thanks,`, `谢谢！`) and the
//! signature after it, unless a signature line asks for something (`make`,
//! `change`, `use`, `nodes`, `改`, `换`, `节点`, an exception); a mail
//! program's footer (`Sent from my iPhone`, `发自我的iPhone`, `[cid:…]`);
//! a disclaimer and what follows it. Anything else counts, a number or a
//! word outside the lists too: when in doubt, the text says something.
//!
//! [`RegistrationFields::exception_requests`] are the sentences that ask for
//! an exception ([`asks_for_exception`]) outside the fields: in the fresh
//! text and in the message the fields were read from (up to a disclaimer),
//! and the subject.
//!
//! # Layout
//!
//! This file holds the types (what was read); the reading is in `text`
//! (folded forms), `labels` (which line is which field), `tables` (table
//! rows to field lines), `blocks` (newest, quoted and forwarded messages),
//! `values` (dates, methods, node counts, versions), `free_text` (what the
//! customer's own words ask for), `subject`, and `body` (the fields of a
//! body, several requests, what kind of request it is), each below the ones
//! it uses.

use fanlic_formats::{Date, LicenseKind, Version};

mod blocks;
mod body;
mod free_text;
mod labels;
mod subject;
mod tables;
mod text;
mod values;

pub use body::{classify, parse_body, parse_request};
pub use free_text::{EXCEPTION_PHRASES_EN, EXCEPTION_WORDS_ZH, asks_for_change, asks_for_exception, field_words_in};
pub use subject::{is_forward_subject, parse_subject};
pub use tables::pair_table_cells;

/// The products a registration may be for, in their exact spelling.
pub const PRODUCTS: [&str; 2] = ["FineReport", "FineBI"];

/// A field that was present in the mail: its raw text (trimmed) and, when it
/// could be understood, its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldValue<T> {
    /// The text after the label, trimmed, as the customer wrote it.
    pub raw: String,
    /// The value, or `None` when the raw text is not a valid one.
    pub value: Option<T>,
}

impl<T> FieldValue<T> {
    fn new(raw: &str, value: Option<T>) -> Self {
        Self { raw: raw.to_owned(), value }
    }

    /// The value, if the raw text was a valid one.
    pub fn valid(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// Whether the field was present but its text is not a valid value.
    pub fn is_invalid(&self) -> bool {
        self.value.is_none()
    }
}

/// The fields of a registration mail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistrationFields {
    /// `Company name` / `公司名称`, exactly as written (trimmed).
    pub company_name: Option<String>,
    /// `Project name` / `项目名称`, exactly as written (trimmed).
    pub project_name: Option<String>,
    /// `Contract signing date` / `合同签订日期`.
    pub signing_date: Option<FieldValue<Date>>,
    /// `Registration method` / `注册方式` / `认证方式`; optional in the mail
    /// (see [`RegistrationFields::effective_method`]).
    pub method: Option<FieldValue<LicenseKind>>,
    /// `Maximum number of registration`, `Number of nodes in the cluster
    /// project`, `最大注册数量`, `集群节点数`; absent means 1
    /// (see [`RegistrationFields::node_count`]).
    pub nodes: Option<FieldValue<u32>>,
    /// `Project version` / `项目版本`: the raw text (`11.0.20`, `V11.0`) and
    /// its major.minor.
    pub project_version: Option<FieldValue<Version>>,
    /// `JAR package version` / `JAR包版本`: a build date, alone or inside a
    /// build string (`…2023.12.14…`).
    pub jar_version: Option<FieldValue<Date>>,
    /// A special requirements note (`Special requirements`, `Special
    /// circumstances`, `特殊需求`, `备注`, ...), unless empty or "none"/"无".
    /// A mail with one is never issued automatically.
    pub special_requirements: Option<String>,
    /// Whether the fields were read from a quoted or forwarded earlier
    /// message because the newest text has none.
    pub from_earlier_message: bool,
    /// Fields given again, with a different value, in the text the fields
    /// were read from (the first value is kept): a correction further down,
    /// or one of [`RegistrationFields::requests`]. Worth holding for staff.
    pub repeated: Vec<Field>,
    /// What the customer wrote in this mail: the text outside quoted and
    /// forwarded earlier messages, without the signature after the fields,
    /// trimmed. Whether it says anything is
    /// [`RegistrationFields::fresh_request`].
    pub fresh_text: String,
    /// Sentences outside the fields (in the fresh text, in the message the
    /// fields were read from, or in the subject) that ask for an exception
    /// ([`asks_for_exception`]). Like a note, never issued automatically.
    pub exception_requests: Vec<String>,
    /// The requests of a mail that holds two or more (see
    /// [`RegistrationFields::requests`]'s rule in the module
    /// documentation), each with its own fields; empty for one request.
    pub requests: Vec<FieldSet>,
}

/// One request's fields, as written, when a mail holds several.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// Each field once, in the order given, with its text.
    pub fields: Vec<(Field, String)>,
}

impl FieldSet {
    /// The value given for `field`, if any.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.fields.iter().find(|(f, _)| *f == field).map(|(_, v)| v.as_str())
    }
}

/// The fields a registration mail has, for [`Problem`]s and labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// Company name.
    CompanyName,
    /// Project name.
    ProjectName,
    /// Contract signing date.
    SigningDate,
    /// Registration method.
    Method,
    /// Maximum number of registrations / cluster nodes.
    Nodes,
    /// Project (product) version.
    Version,
    /// JAR package version (build date).
    JarVersion,
    /// Special requirements.
    SpecialRequirements,
}

impl Field {
    /// The field's name in snake case, as in the `missing_field_*` codes.
    pub const fn name(self) -> &'static str {
        match self {
            Self::CompanyName => "company_name",
            Self::ProjectName => "project_name",
            Self::SigningDate => "signing_date",
            Self::Method => "method",
            Self::Nodes => "nodes",
            Self::Version => "version",
            Self::JarVersion => "jar_version",
            Self::SpecialRequirements => "special_requirements",
        }
    }
}

/// Something wrong with a registration mail's fields or subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A required field is absent (or empty).
    MissingField(Field),
    /// A date field ([`Field::SigningDate`] or [`Field::JarVersion`]) holds
    /// no valid date.
    InvalidDate {
        /// Which field.
        field: Field,
        /// What the mail says.
        raw: String,
    },
    /// The registration method is neither local container nor private cloud.
    UnknownMethod {
        /// What the mail says.
        raw: String,
    },
    /// The node count is not a whole number of at least 1.
    InvalidNodes {
        /// What the mail says.
        raw: String,
    },
    /// The project version has no major.minor.
    InvalidVersion {
        /// What the mail says.
        raw: String,
    },
    /// The subject names no company.
    SubjectMissingCompany,
    /// The subject names neither FineReport nor FineBI.
    SubjectMissingProduct,
}

impl Problem {
    /// The stable code: `missing_field_company_name`, `invalid_date`,
    /// `unknown_method`, `invalid_nodes`, `invalid_version`,
    /// `subject_missing_company`, `subject_missing_product`, ...
    pub const fn code(&self) -> &'static str {
        match self {
            Self::MissingField(f) => match f {
                Field::CompanyName => "missing_field_company_name",
                Field::ProjectName => "missing_field_project_name",
                Field::SigningDate => "missing_field_signing_date",
                Field::Method => "missing_field_method",
                Field::Nodes => "missing_field_nodes",
                Field::Version => "missing_field_version",
                Field::JarVersion => "missing_field_jar_version",
                Field::SpecialRequirements => "missing_field_special_requirements",
            },
            Self::InvalidDate { .. } => "invalid_date",
            Self::UnknownMethod { .. } => "unknown_method",
            Self::InvalidNodes { .. } => "invalid_nodes",
            Self::InvalidVersion { .. } => "invalid_version",
            Self::SubjectMissingCompany => "subject_missing_company",
            Self::SubjectMissingProduct => "subject_missing_product",
        }
    }
}

impl RegistrationFields {
    /// Whether any field was found.
    pub fn is_empty(&self) -> bool {
        self.special_requirements.is_none() && !self.has_request_fields()
    }

    /// Whether any field other than the special requirements was found.
    pub fn has_request_fields(&self) -> bool {
        !(self.company_name.is_none()
            && self.project_name.is_none()
            && self.signing_date.is_none()
            && self.method.is_none()
            && self.nodes.is_none()
            && self.project_version.is_none()
            && self.jar_version.is_none())
    }

    /// The node count: 1 when the mail gives none, `None` when it gives an
    /// invalid one.
    pub fn node_count(&self) -> Option<u32> {
        match &self.nodes {
            None => Some(1),
            Some(f) => f.value,
        }
    }

    /// The registration method: the mail's if it gives a valid one; if it
    /// gives none, `contract_method` (the one method the contract allows, if
    /// it allows exactly one). `None` when the mail's method is unknown.
    pub fn effective_method(&self, contract_method: Option<LicenseKind>) -> Option<LicenseKind> {
        match &self.method {
            Some(f) => f.value,
            None => contract_method,
        }
    }

    /// Every problem with these fields, in field order. `contract_method` is
    /// the one method the contract allows, if exactly one: it stands in for
    /// an absent method line. The JAR package version is required for local
    /// container only.
    pub fn problems(&self, contract_method: Option<LicenseKind>) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.company_name.is_none() {
            out.push(Problem::MissingField(Field::CompanyName));
        }
        if self.project_name.is_none() {
            out.push(Problem::MissingField(Field::ProjectName));
        }
        match &self.signing_date {
            None => out.push(Problem::MissingField(Field::SigningDate)),
            Some(f) if f.is_invalid() => {
                out.push(Problem::InvalidDate { field: Field::SigningDate, raw: f.raw.clone() })
            }
            Some(_) => {}
        }
        match &self.method {
            None if contract_method.is_none() => out.push(Problem::MissingField(Field::Method)),
            Some(f) if f.is_invalid() => out.push(Problem::UnknownMethod { raw: f.raw.clone() }),
            _ => {}
        }
        if let Some(f) = &self.nodes
            && f.is_invalid()
        {
            out.push(Problem::InvalidNodes { raw: f.raw.clone() });
        }
        match &self.project_version {
            None => out.push(Problem::MissingField(Field::Version)),
            Some(f) if f.is_invalid() => out.push(Problem::InvalidVersion { raw: f.raw.clone() }),
            Some(_) => {}
        }
        match &self.jar_version {
            Some(f) if f.is_invalid() => {
                out.push(Problem::InvalidDate { field: Field::JarVersion, raw: f.raw.clone() })
            }
            Some(_) => {}
            None => {
                if self.effective_method(contract_method) == Some(LicenseKind::LocalContainer) {
                    out.push(Problem::MissingField(Field::JarVersion));
                }
            }
        }
        out
    }
}

/// What a registration mail's subject says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectInfo {
    /// The company the subject names, if any.
    pub company: Option<String>,
    /// `FineReport` or `FineBI`, if the subject names one.
    pub product: Option<&'static str>,
    /// Whether the subject starts with `Re:`, `Fwd:`, `回复:`, `转发:`, ...
    pub is_reply_or_forward: bool,
}

impl SubjectInfo {
    /// `subject_missing_company` and `subject_missing_product`, as they apply.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.company.is_none() {
            out.push(Problem::SubjectMissingCompany);
        }
        if self.product.is_none() {
            out.push(Problem::SubjectMissingProduct);
        }
        out
    }
}

/// What a mail asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// A license registration.
    Registration,
    /// Cancel the registration of an old server or project (`注销`,
    /// `取消注册`); takes precedence when a mail also holds fields.
    CancelRegistration,
    /// Neither: reported as `unknown_request`.
    Unknown,
}

impl RequestKind {
    /// `registration`, `cancel_registration` or `unknown_request`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::CancelRegistration => "cancel_registration",
            Self::Unknown => "unknown_request",
        }
    }
}

#[cfg(test)]
mod tests;
