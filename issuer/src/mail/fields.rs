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

use std::{collections::HashMap, sync::OnceLock};

use fanlic_formats::{Date, LicenseKind, Version};

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

// ---------------------------------------------------------------------------
// Text helpers

/// Full-width ASCII forms and ideographic/no-break spaces to ASCII, for
/// matching (never for the values kept).
fn fold(s: &str) -> String {
    // Most lines are ASCII, which folding leaves as it is (called for every
    // line of every mail: `fanlic ingest`'s time).
    if s.is_ascii() {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    out.extend(s.chars().map(|c| match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' | '\u{2002}'..='\u{200D}' | '\u{FEFF}' => ' ',
        '\u{2018}' | '\u{2019}' => '\'',
        _ => c,
    }));
    out
}

/// Folded, lower case, white space removed: the form labels are compared in.
fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    out.extend(fold(s).chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase));
    out
}

/// The value's trimmed text, without trailing `;`, `,` or `。`, and without
/// surrounding quotes.
fn clean_value(s: &str) -> &str {
    let invisible = |c: char| c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}');
    let mut v = s.trim_matches(invisible).trim_end_matches([';', '；', ',', '，', '。']).trim_matches(invisible);
    // Markdown emphasis left by an HTML conversion: `**Example Co.**`.
    v = v.trim_matches(|c: char| c == '*' || invisible(c));
    for (open, close) in [('"', '"'), ('“', '”'), ('「', '」'), ('『', '』'), ('【', '】'), ('《', '》')] {
        if let Some(inner) = v.strip_prefix(open).and_then(|x| x.strip_suffix(close)) {
            v = inner.trim();
        }
    }
    v
}

/// Labels, squashed (lower case, no white space, folded), per field.
const LABELS: &[(Field, &[&str])] = &[
    (
        Field::CompanyName,
        &[
            "companyname",
            "company",
            "nameofcompany",
            "customername",
            "companyfullname",
            "公司名称",
            "公司名",
            "公司全称",
            "客户名称",
            "单位名称",
        ],
    ),
    (Field::ProjectName, &["projectname", "project", "nameofproject", "项目名称", "项目名", "工程名称"]),
    (
        Field::SigningDate,
        &[
            "contractsigningdate",
            "contractsignaturedate",
            "signaturedate",
            "contractsigneddate",
            "contractsigndate",
            "contractdate",
            "signingdate",
            "signeddate",
            "signed",
            "signedon",
            "contractsigned",
            "dateofcontractsigning",
            "dateofsigning",
            "合同签订日期",
            "合同签署日期",
            "合同签约日期",
            "签订日期",
            "签署日期",
            "签约日期",
            "合同日期",
        ],
    ),
    (
        Field::Method,
        &[
            "registrationmethod",
            "method",
            "authmethod",
            "registrationmode",
            "registrationtype",
            "authenticationmethod",
            "authorizationmethod",
            "authorisationmethod",
            "licensetype",
            "注册方式",
            "认证方式",
            "授权方式",
            "注册类型",
        ],
    ),
    (
        Field::Nodes,
        &[
            "maximumnumberofregistration",
            "maximumnumberofregistrations",
            "maxnumberofregistration",
            "maxnumberofregistrations",
            "maximumregistrations",
            "numberofnodesintheclusterproject",
            "numberofnodesinclusterproject",
            "numberofnodesinthecluster",
            "numberofclusternodes",
            "numberofnodes",
            "noofnodes",
            "nodecount",
            "maxnodes",
            "maximumnodes",
            "nodesmax",
            "clusternodes",
            "nodes",
            "最大注册数量",
            "最大注册数",
            "集群节点数",
            "集群节点数量",
            "集群项目节点数",
            "节点数",
            "节点数量",
            "节点",
            "最大节点数",
            "授权节点数",
        ],
    ),
    (
        Field::Version,
        &[
            "projectversion",
            "finereportversion",
            "finebiversion",
            "productversion",
            "version",
            "项目版本",
            "项目版本号",
            "产品版本",
            "产品版本号",
            "版本",
            "版本号",
        ],
    ),
    (
        Field::JarVersion,
        &[
            "jarpackageversion",
            "jarbuilddate",
            "builddate",
            "jar包日期",
            "jar包构建日期",
            "jar版本号",
            "jarversion",
            "jar",
            "jarpackage",
            "jar包版本",
            "jar包版本号",
            "jar版本",
        ],
    ),
    (
        Field::SpecialRequirements,
        &[
            "specialrequirements",
            "specialrequirement",
            "specialrequests",
            "specialrequest",
            "specialcircumstances",
            "specialcircumstance",
            "specialnotes",
            "remarks",
            "remark",
            "特殊需求",
            "特殊要求",
            "特殊情况",
            "特殊说明",
            "备注",
            "特殊情况说明",
            "特殊需求说明",
            "特别说明",
            "其他说明",
            "其他要求",
            "其他需求",
            "补充说明",
            "备注说明",
            "附注",
            "note",
            "notes",
            "specialnote",
            "specialinstructions",
            "otherrequirements",
            "additionalrequirements",
            "additionalnotes",
            "comment",
            "comments",
        ],
    ),
];

fn field_of_piece(piece: &str) -> Option<Field> {
    // `Max. number of registrations`, `No. of nodes`.
    let piece: String = piece.chars().filter(|c| *c != '.').collect();
    LABELS.iter().find(|(_, labels)| labels.contains(&piece.as_str())).map(|(f, _)| *f)
}

/// Ideographs and CJK punctuation: where a Chinese label meets an English one.
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// A squashed piece that is one label, or a Chinese and an English label of
/// the same field written one after the other (`公司名称 Company name`,
/// `Company name 公司名称`, `JAR包版本 JAR package version`): the piece is
/// cut where the script changes and every way of grouping the runs is tried
/// (a handful of runs at most), each group having to be a whole label.
fn field_of_mixed(piece: &str) -> Option<Field> {
    if let Some(f) = field_of_piece(piece) {
        return Some(f);
    }
    let mut runs: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut last: Option<bool> = None;
    for (i, c) in piece.char_indices() {
        let cjk = is_cjk(c);
        if last.is_some_and(|l| l != cjk) {
            runs.push(piece.get(start..i)?);
            start = i;
        }
        last = Some(cjk);
    }
    runs.push(piece.get(start..)?);
    if runs.len() < 2 || runs.len() > 6 {
        return None;
    }
    // Bit k of `cuts` set: a group ends after run k.
    'cuts: for cuts in 0u32..(1 << (runs.len() - 1)) {
        let mut found: Option<Field> = None;
        let mut group = String::new();
        for (k, run) in runs.iter().enumerate() {
            group.push_str(run);
            if k + 1 == runs.len() || cuts & (1 << k) != 0 {
                match field_of_piece(&group) {
                    Some(f) if found.is_none_or(|g| g == f) => found = Some(f),
                    _ => continue 'cuts,
                }
                group.clear();
            }
        }
        if found.is_some() && cuts != 0 {
            return found;
        }
    }
    None
}

/// Strips a leading bullet or numbering: `- `, `• `, `* `, `1. `, `1)`,
/// `(1)`, `1、`, `a. `, `①`.
fn strip_bullet(s: &str) -> &str {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix(['-', '•', '*', '·', '●', '▪', '◦', '○', '■', '□', '–', '—', '+', '>'])
    {
        return rest.trim_start();
    }
    if let Some(c) = s.chars().next()
        && ('\u{2460}'..='\u{2473}').contains(&c)
    {
        return s.get(c.len_utf8()..).unwrap_or("").trim_start();
    }
    if let Some(rest) = chinese_numbering(s) {
        return rest;
    }
    let open = s.strip_prefix(['(', '（'].as_slice());
    let body = open.unwrap_or(s);
    let digits = body.find(|c: char| !c.is_ascii_digit()).unwrap_or(body.len());
    let after = if digits > 0 {
        body.get(digits..).unwrap_or("")
    } else {
        // A single letter enumerator: `a.` / `a)`.
        let mut cs = body.chars();
        match (cs.next(), cs.next()) {
            (Some(c), Some('.' | ')')) if c.is_ascii_alphabetic() && open.is_none() => body.get(1..).unwrap_or(""),
            _ => return s,
        }
    };
    if let Some(rest) = after.strip_prefix(['.', ')', '）', '、', '．']) {
        // `1.5` is not a numbering.
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            return rest.trim_start();
        }
    }
    s
}

/// The text after a Chinese numbering: `一、`, `二．`, `三.`, `（四）`, `(五)`,
/// `六）`; `None` when `s` does not start with one.
fn chinese_numbering(s: &str) -> Option<&str> {
    const NUMERALS: &[char] = &['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];
    let open = s.strip_prefix(['(', '（']);
    let body = open.unwrap_or(s);
    let end = body.find(|c: char| !NUMERALS.contains(&c))?;
    if end == 0 || end > 3 * '十'.len_utf8() {
        return None;
    }
    let after = body.get(end..)?;
    let rest = if open.is_some() {
        after.strip_prefix([')', '）'])?
    } else {
        after.strip_prefix(['、', '.', '．', ')', '）'])?
    };
    Some(rest.trim_start())
}

/// The field a label (the text before the colon) names: one or more labels
/// of the same field, separated by `/`, `or`, `或` (`Company name/公司名称`),
/// plus parenthesised parts that are either labels of that field
/// (`Project name（项目名称）`) or hints, which are ignored
/// (`Contract signing date (YYYY/MM/DD)`, `Number of nodes (optional)`).
fn field_of_label(label: &str) -> Option<Field> {
    let folded = fold(label);
    let label = strip_bullet(&folded).to_lowercase();
    let label = label.trim().trim_matches(['*', '_']).trim();
    // `【公司名称】`, `[Company name]`.
    let label = match label.strip_prefix(['【', '[']).and_then(|l| l.strip_suffix(['】', ']'])) {
        Some(inner) => inner.trim(),
        None => label,
    };
    if label.is_empty() || label.chars().count() > 100 {
        return None;
    }
    // Split into the top level and the parenthesised groups.
    let mut top = String::new();
    let mut groups: Vec<String> = Vec::new();
    let mut depth = 0usize;
    for c in label.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                if depth == 1 {
                    groups.push(String::new());
                    top.push('/');
                }
            }
            ')' | ']' if depth > 0 => depth -= 1,
            _ if depth > 0 => {
                if let Some(g) = groups.last_mut() {
                    g.push(c);
                }
            }
            _ => top.push(c),
        }
    }
    let pieces = |text: &str| -> Option<Option<Field>> {
        // `Some(Some(f))`: all pieces name f; `Some(None)`: no pieces;
        // `None`: an unknown piece or two fields.
        let mut found: Option<Field> = None;
        for piece in text.split(['/', '|', '\\', ',', '、', '*', ':']) {
            for piece in piece.split(" or ").flat_map(|p| p.split('或')) {
                let sq: String = piece.chars().filter(|c| !c.is_whitespace()).collect();
                if sq.is_empty() {
                    continue;
                }
                let f = field_of_mixed(&sq)?;
                if found.is_some_and(|g| g != f) {
                    return None;
                }
                found = Some(f);
            }
        }
        Some(found)
    };
    let field = pieces(&top)??;
    for g in &groups {
        if let Some(Some(other)) = pieces(g)
            && other != field
        {
            return None;
        }
    }
    Some(field)
}

/// The first `:` or `：` outside parentheses, and its length.
fn label_colon(line: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (i, c) in line.char_indices() {
        match c {
            '(' | '（' | '[' => depth += 1,
            ')' | '）' | ']' => depth = depth.saturating_sub(1),
            // `∶` and `︰` come from some Chinese input methods.
            ':' | '：' | '∶' | '︰' if depth == 0 => return Some((i, c.len_utf8())),
            _ => {}
        }
    }
    None
}

/// Whether a label may stand alone on its line with the value on the next
/// one: only specific labels (`Company name`, not `Company`).
fn may_stand_alone(line: &str) -> bool {
    squash(strip_bullet(&fold(line))).len() >= 8
}

/// A field line: the field and the text after the label. The label ends at
/// a colon; without one, at a tab, a `|` or two spaces (tables converted
/// from HTML). A line that is only a specific label counts too, with an
/// empty value (the value is then on the next line).
fn field_line(line: &str) -> Option<(Field, &str)> {
    if let Some((i, n)) = label_colon(line)
        && let Some(f) = field_of_label(line.get(..i)?)
    {
        return Some((f, line.get(i + n..).unwrap_or("")));
    }
    let t = line.trim().trim_matches('|').trim();
    for sep in ["\t", "|", "  ", "\u{3000}", " - ", " – ", " — "] {
        let Some((label, value)) = t.split_once(sep) else { continue };
        // A table row: the value is the next cell that is not empty (a
        // spacer cell may come first), and a row of labels is no field.
        let value = match sep {
            "\t" | "|" => value.split(sep).map(str::trim).find(|c| !c.is_empty()).unwrap_or(""),
            _ => value.trim(),
        };
        if !value.is_empty()
            && (matches!(sep, "\t" | "|" | "\u{3000}") || may_stand_alone(label))
            && let Some(f) = field_of_label(label)
        {
            if matches!(sep, "\t" | "|") && cell_label(value).is_some() {
                return None;
            }
            return Some((f, value));
        }
    }
    // `【公司名称】上海…`: the bracket closes the label.
    if let Some(rest) = t.strip_prefix('【')
        && let Some((label, value)) = rest.split_once('】')
        && let Some(f) = field_of_label(label)
    {
        return Some((f, value.trim_start_matches([':', '：', ' ', '\u{3000}'])));
    }
    if label_colon(line).is_none()
        && may_stand_alone(t)
        && let Some(f) = field_of_label(t)
    {
        return Some((f, ""));
    }
    // `最大注册数 2`: a Chinese label of four characters or more, one blank,
    // then the value (a Chinese label cannot run into its value unseen).
    if label_colon(line).is_none()
        && let Some((label, value)) = strip_bullet(t).split_once([' ', '\u{3000}'])
        && label.chars().count() >= 4
        && label.chars().all(is_cjk)
        && !value.trim().is_empty()
        && let Some(f) = field_of_label(label)
    {
        return Some((f, value.trim()));
    }
    None
}

/// The field a table cell names when the cell is a label and nothing else
/// (`Company name`, `公司名称：`, `公司名称 Company name`); `None` for a cell
/// holding a value, or a label and its value.
pub(crate) fn cell_label(cell: &str) -> Option<Field> {
    let cell = cell.trim();
    let bare = cell.trim_end_matches([':', '：', ' ', '\t', '*']);
    if label_colon(bare).is_some() {
        return None;
    }
    field_of_label(bare)
}

/// Whether a table cell is only a colon (`Rate | : | 85`, as Word lays out
/// forms).
fn is_colon_cell(cell: &str) -> bool {
    matches!(cell.trim(), ":" | "：")
}

/// Table rows (cells separated by tabs, as an HTML table is converted, or as
/// Outlook and Word write a table as plain text) turned into one
/// `label<TAB>value` line per field, so that [`parse_body`] reads them:
///
/// - a header row of labels (at least two, and more labels than other
///   cells) with one or more rows of values below: each value under its
///   label, column by column; each row of values after the first is set off
///   by a blank line (a second request, which the block then shows as
///   repeated fields);
/// - a row of several label/value pairs side by side (`Company name | Acme |
///   Project name | webroot`), a label given in two cells (`公司名称 |
///   Company name | Acme`), or a colon cell between label and value.
///
/// Every other line is kept as it is.
pub fn pair_table_cells(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() + 64);
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        i += 1;
        if !line.contains('\t') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
        if let Some(header) = header_row(&cells) {
            let mut rows = 0;
            while let Some(next) = lines.get(i).filter(|l| l.contains('\t')) {
                let values: Vec<&str> = next.split('\t').map(str::trim).collect();
                if header_row(&values).is_some() {
                    break;
                }
                if rows > 0 {
                    out.push('\n');
                }
                for (k, label) in header.iter().enumerate() {
                    let value = values.get(k).copied().unwrap_or("");
                    if label.is_some() && !value.is_empty() && !is_colon_cell(value) {
                        out.push_str(cells.get(k).copied().unwrap_or(""));
                        out.push('\t');
                        out.push_str(value);
                        out.push('\n');
                    }
                }
                rows += 1;
                i += 1;
            }
            if rows > 0 {
                continue;
            }
        }
        match row_pairs(&cells) {
            Some(pairs) => {
                for (label, value) in pairs {
                    out.push_str(&label);
                    out.push('\t');
                    out.push_str(value);
                    out.push('\n');
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    std::borrow::Cow::Owned(out)
}

/// The label of each cell when `cells` is a header row: at least two labels
/// of different fields, and more labels than other cells.
fn header_row(cells: &[&str]) -> Option<Vec<Option<Field>>> {
    let labels: Vec<Option<Field>> =
        cells.iter().map(|c| if c.is_empty() || is_colon_cell(c) { None } else { cell_label(c) }).collect();
    let found: Vec<Field> = labels.iter().flatten().copied().collect();
    let others = cells.iter().zip(&labels).filter(|(c, l)| !c.is_empty() && l.is_none()).count();
    let distinct = found.iter().any(|f| Some(f) != found.first());
    (found.len() >= 2 && distinct && found.len() > others).then_some(labels)
}

/// The label/value pairs of a row that holds several side by side, or a
/// label in two cells; `None` for any other row (kept as it is).
fn row_pairs<'a>(cells: &[&'a str]) -> Option<Vec<(String, &'a str)>> {
    let cells: Vec<&str> = cells.iter().copied().filter(|c| !c.is_empty() && !is_colon_cell(c)).collect();
    let mut pairs = Vec::new();
    let mut merged = false;
    let mut k = 0;
    while let Some(first) = cells.get(k) {
        let bare = |c: &str| c.trim_end_matches([':', '：', ' ']).to_owned();
        let field = cell_label(first)?;
        let mut label = bare(first);
        k += 1;
        // The same field's label again, in the other language.
        while let Some(more) = cells.get(k).filter(|c| cell_label(c) == Some(field)) {
            label.push(' ');
            label.push_str(&bare(more));
            merged = true;
            k += 1;
        }
        let value = cells.get(k).filter(|c| cell_label(c).is_none())?;
        pairs.push((label.clone(), *value));
        k += 1;
        // More values after the first (requests side by side, or a note
        // column): each is given as the field again, so that different
        // values show as a repeated field rather than one being dropped.
        while let Some(more) = cells.get(k).filter(|c| cell_label(c).is_none()) {
            pairs.push((label.clone(), *more));
            k += 1;
        }
    }
    (pairs.len() >= 2 || merged).then_some(pairs)
}

// ---------------------------------------------------------------------------
// Blocks: the newest message, quoted and forwarded ones

/// What a line is, for cutting the body into blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    /// Starts an earlier message (the line itself is dropped).
    Earlier,
    /// Starts a signature (dropped until the next earlier message).
    Signature,
}

fn is_closing(line: &str) -> bool {
    let s = squash(line);
    let s = s.trim_end_matches([',', '.', '!', ':', '，', '。', '！']);
    matches!(
        s,
        "bestregards"
            | "regards"
            | "kindregards"
            | "warmregards"
            | "bestwishes"
            | "sincerely"
            | "yourssincerely"
            | "cheers"
            | "thanksandregards"
            | "thanks&regards"
            | "thanksandbestregards"
            | "此致"
            | "此致敬礼"
            | "顺祝商祺"
            | "顺颂商祺"
            | "祝好"
    )
}

fn header_name(line: &str) -> Option<String> {
    let s = fold(line);
    let s = s.trim().trim_start_matches('*');
    let (name, _) = s.split_once(':')?;
    Some(name.trim().trim_end_matches('*').trim().to_lowercase())
}

fn is_header_line(line: &str) -> bool {
    header_name(line).is_some_and(|n| {
        matches!(
            n.as_str(),
            "sent" | "date" | "to" | "cc" | "subject" | "发送时间" | "时间" | "日期" | "收件人" | "抄送" | "主题"
        )
    })
}

fn marker(lines: &[&str], i: usize, in_fields: bool) -> Option<Marker> {
    let line = lines.get(i)?;
    let t = line.trim();
    if t == "--" || *line == "-- " || t == "—" {
        return Some(Marker::Signature);
    }
    let lower = fold(t).to_lowercase();
    if lower.ends_with("wrote:")
        || lower.ends_with("schrieb:")
        || lower.ends_with("写道:")
        || (lower.ends_with("写道") && lower.len() < 200)
    {
        return Some(Marker::Earlier);
    }
    // `-------- Forwarded Message --------`, `-----Original Message-----`,
    // `---- 原始邮件 ----`, `---------- 转发的邮件 ---------`.
    let dashed = lower.contains("---") || lower.contains("___") || lower.contains("===");
    // QQ Mail and Foxmail in English: `------------------ Original ------------------`.
    let names_earlier =
        ["forwarded message", "original message", "原始邮件", "转发邮件", "转发的邮件", "原邮件", "- original -"]
            .iter()
            .any(|p| lower.contains(p));
    if (dashed && names_earlier && lower.len() < 120) || lower.starts_with("begin forwarded message") {
        return Some(Marker::Earlier);
    }
    if t.chars().count() >= 8 && t.chars().all(|c| c == '_') {
        return Some(Marker::Earlier);
    }
    match header_name(t).as_deref() {
        Some("发件人") => return Some(Marker::Earlier),
        Some("from") => {
            let next = lines.iter().skip(i + 1).filter(|l| !l.trim().is_empty()).take(3);
            if next.into_iter().any(|l| is_header_line(l)) {
                return Some(Marker::Earlier);
            }
        }
        _ => {}
    }
    if in_fields && is_closing(t) {
        return Some(Marker::Signature);
    }
    None
}

#[derive(Debug, Default)]
struct Block<'a> {
    lines: Vec<&'a str>,
    /// [`field_line`] of each of `lines`, when `blocks` already worked it
    /// out (unquoted lines); `None` for quoted ones, done when needed.
    parsed: Vec<Option<Option<(Field, &'a str)>>>,
    /// A run of `>` lines.
    quoted: bool,
    /// Starts at an earlier-message marker (a forwarded or quoted message
    /// without `>`), or is quoted.
    earlier: bool,
}

impl Block<'_> {
    /// Newest first: fresh text, then unquoted earlier messages, then `>`.
    const fn rank(&self) -> u8 {
        if self.quoted {
            2
        } else if self.earlier {
            1
        } else {
            0
        }
    }
}

/// Cuts a body into blocks, newest first: unquoted text between markers,
/// and runs of `>` lines (with the `>` removed). Signatures are dropped.
fn blocks(text: &str) -> Vec<Block<'_>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<Block<'_>> = vec![Block::default()];
    let mut in_signature = false;
    let mut seen_field = false;
    for (i, line) in lines.iter().enumerate() {
        let ts = line.trim_start();
        if ts.starts_with('>') {
            let stripped = ts.trim_start_matches(['>', ' ']);
            if !out.last().is_some_and(|b| b.quoted) {
                out.push(Block { lines: Vec::new(), parsed: Vec::new(), quoted: true, earlier: true });
            }
            in_signature = false;
            seen_field = false;
            if let Some(b) = out.last_mut() {
                b.lines.push(stripped);
                b.parsed.push(None);
            }
            continue;
        }
        if out.last().is_some_and(|b| b.quoted) && !ts.is_empty() {
            out.push(Block::default());
            in_signature = false;
            seen_field = false;
        }
        match marker(&lines, i, seen_field) {
            Some(Marker::Earlier) => {
                out.push(Block { lines: Vec::new(), parsed: Vec::new(), quoted: false, earlier: true });
                in_signature = false;
                seen_field = false;
                continue;
            }
            Some(Marker::Signature) => {
                in_signature = true;
                continue;
            }
            None => {}
        }
        if in_signature {
            continue;
        }
        let parsed = field_line(line);
        if parsed.is_some() {
            seen_field = true;
        }
        if let Some(b) = out.last_mut() {
            b.lines.push(line);
            b.parsed.push(Some(parsed));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Values

/// Reads `n` (1..=max) ASCII digits at `*i`, not followed by another digit.
fn digits(cs: &[char], i: &mut usize, min: usize, max: usize) -> Option<u32> {
    let start = *i;
    let mut v: u32 = 0;
    while let Some(d) = cs.get(*i).and_then(|c| c.to_digit(10)) {
        if *i - start >= max {
            return None;
        }
        v = v * 10 + d;
        *i += 1;
    }
    if *i - start < min {
        return None;
    }
    Some(v)
}

fn skip_spaces(cs: &[char], i: &mut usize) {
    while cs.get(*i).is_some_and(|c| *c == ' ') {
        *i += 1;
    }
}

/// A date pattern at `start`: `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`
/// (one or two digit month and day) or `YYYY年MM月DD日`. `Some(None)` when
/// it has the shape of a date but is not a real one.
fn date_at(cs: &[char], start: usize) -> Option<Option<Date>> {
    let mut i = start;
    let year = digits(cs, &mut i, 4, 4)?;
    skip_spaces(cs, &mut i);
    let sep = *cs.get(i).filter(|c| matches!(c, '-' | '/' | '.' | '年'))?;
    i += 1;
    skip_spaces(cs, &mut i);
    let month = digits(cs, &mut i, 1, 2)?;
    skip_spaces(cs, &mut i);
    let sep2 = *cs.get(i)?;
    if sep2 != if sep == '年' { '月' } else { sep } {
        return None;
    }
    i += 1;
    skip_spaces(cs, &mut i);
    let day = digits(cs, &mut i, 1, 2)?;
    let date = Date::new(u16::try_from(year).ok()?, u8::try_from(month).ok()?, u8::try_from(day).ok()?);
    Some(date)
}

/// Every date pattern in `s` (folded), in order.
fn dates_in(s: &str) -> Vec<Option<Date>> {
    let cs: Vec<char> = fold(s).chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let boundary = i == 0 || !cs.get(i - 1).is_some_and(char::is_ascii_digit);
        if boundary && cs.get(i).is_some_and(char::is_ascii_digit) {
            if let Some(d) = date_at(&cs, i) {
                out.push(d);
            }
            // Skip the rest of this run of digits.
            while cs.get(i).is_some_and(char::is_ascii_digit) {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    out
}

/// A contract signing date: the first date in the value; without one in
/// the year-first forms, a day and month before the year (`20/11/2026`,
/// `11/20/2026`, `20.11.2026`) when only one reading is a real date
/// (`05/08/2026` could be May or August: no date).
fn parse_date(raw: &str) -> Option<Date> {
    let dates = dates_in(raw);
    match dates.first() {
        Some(d) => *d,
        None => year_last_date(&fold(raw)).or_else(|| month_name_date(&fold(raw))),
    }
}

/// `20 November 2026`, `20 Nov. 2026`, `November 20, 2026`, `Nov 20th 2026`:
/// an English month name, a day and a four-digit year, and nothing else
/// (apart from a trailing note in parentheses).
fn month_name_date(s: &str) -> Option<Date> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let s = s.split(['(', '（']).next().unwrap_or(s).to_lowercase();
    let words: Vec<&str> = s.split([' ', ',', '\t']).filter(|w| !w.is_empty()).collect();
    let [a, b, y] = words.as_slice() else { return None };
    let month = |w: &str| {
        let w = w.trim_end_matches('.');
        let m = MONTHS.iter().position(|m| w.len() >= 3 && (*m == w || (m.starts_with(w) && w.len() <= 4)))?;
        u8::try_from(m + 1).ok()
    };
    let day = |w: &str| {
        let w = ["st", "nd", "rd", "th"].iter().find_map(|x| w.strip_suffix(x)).unwrap_or(w);
        (w.len() <= 2 && w.bytes().all(|c| c.is_ascii_digit())).then(|| w.parse::<u8>().ok()).flatten()
    };
    let (m, d) = match (month(a), month(b)) {
        (Some(m), None) => (m, day(b)?),
        (None, Some(m)) => (m, day(a)?),
        _ => return None,
    };
    if y.len() != 4 || !y.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Date::new(y.parse().ok()?, m, d)
}

/// `D/M/YYYY` or `M/D/YYYY` (`/`, `-` or `.`, the same twice) alone in the
/// value (apart from blanks and a trailing note in parentheses), when
/// exactly one reading is a real date, or both readings are the same date.
fn year_last_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let s = s.split(['(', '（']).next().unwrap_or(s).trim();
    let sep = s.chars().find(|c| matches!(c, '/' | '-' | '.'))?;
    let parts: Vec<&str> = s.split(sep).map(str::trim).collect();
    let [a, b, y] = parts.as_slice() else { return None };
    let ok =
        |p: &str, n: core::ops::RangeInclusive<usize>| n.contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit());
    if !(ok(a, 1..=2) && ok(b, 1..=2) && ok(y, 4..=4)) {
        return None;
    }
    let (a, b, y): (u8, u8, u16) = (a.parse().ok()?, b.parse().ok()?, y.parse().ok()?);
    match (Date::new(y, b, a), Date::new(y, a, b)) {
        (Some(d), None) | (None, Some(d)) => Some(d),
        (Some(d), Some(e)) if d == e => Some(d),
        _ => None,
    }
}

/// A JAR build date: the first valid date in the value (`2023.12.14`,
/// `persist-2023.12.14.10.22.33.88`), else a run of exactly 8 digits that
/// is a valid `YYYYMMDD`.
fn parse_build_date(raw: &str) -> Option<Date> {
    if let Some(d) = dates_in(raw).into_iter().flatten().next() {
        return Some(d);
    }
    let folded = fold(raw);
    folded.split(|c: char| !c.is_ascii_digit()).filter(|r| r.len() == 8).find_map(|r| {
        let y = r.get(..4)?.parse().ok()?;
        let m = r.get(4..6)?.parse().ok()?;
        let d = r.get(6..)?.parse().ok()?;
        Date::new(y, m, d)
    })
}

/// A registration method in any case and spacing.
fn parse_method(raw: &str) -> Option<LicenseKind> {
    let s: String = squash(raw).chars().filter(|c| c.is_alphanumeric()).collect();
    let local = s.contains("localcontainer") || s.contains("本地容器") || s == "local" || s == "本地";
    let cloud = s.contains("privatecloud") || s.contains("私有云");
    match (local, cloud) {
        (true, false) => Some(LicenseKind::LocalContainer),
        (false, true) => Some(LicenseKind::PrivateCloud),
        _ => None,
    }
}

/// A node count: a whole number of at least 1, optionally followed by a
/// unit (`3 nodes`, `3个`, `3台`).
fn parse_nodes(raw: &str) -> Option<u32> {
    let s = fold(raw);
    let s = s.trim();
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    // One Chinese numeral from one to ten (`两个节点`, `三台`).
    const NUMERALS: [char; 11] = ['一', '二', '两', '三', '四', '五', '六', '七', '八', '九', '十'];
    const VALUES: [u32; 11] = [1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    let (n, rest) = match s.chars().next() {
        Some(c) if end == 0 && NUMERALS.contains(&c) => {
            let k = NUMERALS.iter().position(|n| *n == c)?;
            let rest = s.get(c.len_utf8()..)?;
            if rest.starts_with(|c: char| NUMERALS.contains(&c)) {
                return None;
            }
            (*VALUES.get(k)?, rest.trim())
        }
        _ => (s.get(..end)?.parse().ok()?, s.get(end..)?.trim()),
    };
    // A remark in parentheses without a number: `1 (single node)`,
    // `2（主备）`, `3 (three)`.
    let rest = match rest.find(['(', '（']) {
        Some(open)
            if rest.ends_with([')', '）']) && !rest.get(open..).unwrap_or("").chars().any(|c| c.is_ascii_digit()) =>
        {
            rest.get(..open).unwrap_or("").trim()
        }
        _ => rest,
    };
    if n == 0 || rest.starts_with(['.', ',', '-', '/']) || rest.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let unit = rest.trim_end_matches(['.', ')', '）']).trim().to_lowercase();
    let units = [
        "",
        "node",
        "nodes",
        "server",
        "servers",
        "instance",
        "instances",
        "个",
        "台",
        "个节点",
        "节点",
        "台服务器",
        "台机器",
        "(nodes)",
        "(node)",
    ];
    if units.contains(&unit.as_str()) { Some(n) } else { None }
}

/// A product version's major.minor: `11.0.20`, `V11.0`, `FineReport 11.0`.
fn parse_version(raw: &str) -> Option<Version> {
    let s = fold(raw);
    let start = s.find(|c: char| c.is_ascii_digit())?;
    Version::of_local(s.get(start..)?)
}

/// Whether a note says nothing: empty, or every piece of it (split at line
/// breaks and `,;.!` of either width) is a "none" word (`none`, `N/A`,
/// `no special requirements`, `无`, `暂无`, `无特殊要求`, `没有`, `-`, ...)
/// or thanks (`thanks`, `谢谢`), with at least one "none" word or nothing
/// at all. `无，谢谢` says nothing; `无。另需延长一年` says something.
fn is_none_note(s: &str) -> bool {
    let folded = fold(s);
    // `n/a` is one piece: `/` does not split.
    let pieces = folded.split([',', ';', '.', '!', '。', '、', '\n']).map(squash).filter(|p| !p.is_empty());
    let mut none = 0usize;
    for p in pieces {
        if NONE_NOTES.contains(&p.as_str()) {
            none += 1;
        } else if !THANKS.contains(&p.as_str()) {
            return false;
        }
    }
    none > 0 || folded.trim_matches(|c: char| !c.is_alphanumeric()).is_empty()
}

/// What a note says when it says nothing, squashed.
const NONE_NOTES: &[&str] = &[
    "none",
    "no",
    "nil",
    "null",
    "n/a",
    "na",
    "-",
    "--",
    "—",
    "——",
    "/",
    "nothing",
    "notapplicable",
    "nothingspecial",
    "nospecialrequirements",
    "nospecialrequirement",
    "nospecialrequests",
    "nospecialrequest",
    "nospecialcircumstances",
    "noremarks",
    "nonotes",
    "无",
    "没有",
    "暂无",
    "无无",
    "否",
    "不涉及",
    "无特殊需求",
    "无特殊要求",
    "无特殊情况",
    "无特殊说明",
    "无其他要求",
    "无其他需求",
    "没有特殊需求",
    "没有特殊要求",
    "没有特殊情况",
    "暂无特殊需求",
    "暂无特殊要求",
    "无备注",
];

/// Thanks, squashed: words that change nothing.
const THANKS: &[&str] = &[
    "thanks",
    "thankyou",
    "thx",
    "tks",
    "ty",
    "manythanks",
    "thanksalot",
    "thanksinadvance",
    "thankyouverymuch",
    "谢谢",
    "多谢",
    "感谢",
    "谢谢您",
    "非常感谢",
    "辛苦了",
];

// ---------------------------------------------------------------------------
// Body

/// Whether two values given for one field say the same: the same value when
/// both parse (`3` and `3 nodes`, `2026/11/20` and `2026年11月20日`), the
/// same company but for legal-form spelling, else the same text.
fn same_value(field: Field, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match field {
        Field::CompanyName => crate::contracts::same_company_but_legal_form(a, b),
        Field::ProjectName | Field::SpecialRequirements => false,
        Field::SigningDate => parse_date(a).is_some_and(|d| parse_date(b) == Some(d)),
        Field::Method => parse_method(a).is_some_and(|m| parse_method(b) == Some(m)),
        Field::Nodes => parse_nodes(a).is_some_and(|n| parse_nodes(b) == Some(n)),
        Field::Version => parse_version(a).is_some_and(|v| parse_version(b) == Some(v)),
        Field::JarVersion => parse_build_date(a).is_some_and(|d| parse_build_date(b) == Some(d)),
    }
}

/// A project name that lists several projects: `webroot、webroot_dr`,
/// `webroot, test`, `a; b`, and between single words `a and b`, `a & b`
/// (two to four different parts of at most 40 characters each).
fn listed_projects(value: &str) -> Vec<String> {
    let folded = fold(value);
    let mut parts: Vec<String> = folded.split([',', ';', '、', '，', '；']).map(|p| p.trim().to_owned()).collect();
    if parts.len() == 1 {
        // `a and b` between single words only: `Sales and Marketing
        // Dashboard` is one name.
        let words: Vec<String> =
            folded.split(" and ").flat_map(|p| p.split(" & ")).map(|p| p.trim().to_owned()).collect();
        if words.iter().all(|w| !w.contains(char::is_whitespace)) {
            parts = words;
        }
    }
    // A description with commas (`…平台，覆盖总部及华东、华南…`) is not a list,
    // nor is one name written twice.
    let short = |p: &String| !p.is_empty() && p.chars().count() <= 40;
    let distinct = parts.iter().any(|p| Some(p) != parts.first());
    if (2..=4).contains(&parts.len()) && parts.iter().all(short) && distinct { parts } else { Vec::new() }
}

/// The fields of one block, and which of its lines are field lines or
/// their values (the others are free text).
fn fields_of_block(block: &Block<'_>) -> (RegistrationFields, Vec<bool>) {
    let lines = &block.lines;
    // Each line's field, worked out once (most already by `blocks`).
    let parsed: Vec<Option<(Field, &str)>> = lines
        .iter()
        .zip(block.parsed.iter().chain(core::iter::repeat(&None)))
        .map(|(l, p)| p.unwrap_or_else(|| field_line(l)))
        .collect();
    let field_line = |i: usize| parsed.get(i).copied().flatten();
    let mut consumed = vec![false; lines.len()];
    let mut f = RegistrationFields::default();
    // Field sets: a field seen again starts the next set.
    let mut sets: Vec<FieldSet> = vec![FieldSet::default()];
    let mut i = 0;
    while i < lines.len() {
        let Some((field, after)) = field_line(i) else {
            i += 1;
            continue;
        };
        let mut value = clean_value(after).to_owned();
        let mut next = i + 1;
        if field == Field::SpecialRequirements {
            // A line or a paragraph: continuation lines up to a blank line or
            // another field.
            let mut parts: Vec<&str> = if value.is_empty() { Vec::new() } else { vec![value.as_str()] };
            // The paragraph may start on the next line.
            if parts.is_empty() {
                while lines.get(next).is_some_and(|l| l.trim().is_empty()) {
                    next += 1;
                }
            }
            while let Some(l) = lines.get(next) {
                if l.trim().is_empty() || field_line(next).is_some() {
                    break;
                }
                parts.push(l.trim());
                next += 1;
            }
            let note = parts.join("\n");
            if f.special_requirements.is_none() && !is_none_note(&note) {
                f.special_requirements = Some(note);
            }
            consumed.iter_mut().take(next).skip(i).for_each(|c| *c = true);
            i = next;
            continue;
        }
        if value.is_empty() && after.trim().is_empty() {
            // The value on the next non-blank line, unless that is a label.
            while lines.get(next).is_some_and(|l| l.trim().is_empty()) {
                next += 1;
            }
            if let Some(l) = lines.get(next)
                && field_line(next).is_none()
            {
                value = clean_value(l).to_owned();
                next += 1;
            }
        }
        consumed.iter_mut().take(next).skip(i).for_each(|c| *c = true);
        i = next;
        if value.is_empty() {
            continue;
        }
        let raw = value.as_str();
        let kept = match field {
            Field::CompanyName => f.company_name.get_or_insert_with(|| raw.to_owned()).clone(),
            Field::ProjectName => f.project_name.get_or_insert_with(|| raw.to_owned()).clone(),
            Field::SigningDate => {
                f.signing_date.get_or_insert_with(|| FieldValue::new(raw, parse_date(raw))).raw.clone()
            }
            Field::Method => f.method.get_or_insert_with(|| FieldValue::new(raw, parse_method(raw))).raw.clone(),
            Field::Nodes => f.nodes.get_or_insert_with(|| FieldValue::new(raw, parse_nodes(raw))).raw.clone(),
            Field::Version => {
                f.project_version.get_or_insert_with(|| FieldValue::new(raw, parse_version(raw))).raw.clone()
            }
            Field::JarVersion => {
                f.jar_version.get_or_insert_with(|| FieldValue::new(raw, parse_build_date(raw))).raw.clone()
            }
            Field::SpecialRequirements => continue,
        };
        if !same_value(field, &kept, raw) && !f.repeated.contains(&field) {
            f.repeated.push(field);
        }
        if sets.last().is_some_and(|s| s.get(field).is_some()) {
            sets.push(FieldSet::default());
        }
        if let Some(s) = sets.last_mut() {
            s.fields.push((field, raw.to_owned()));
        }
    }
    f.requests = several_requests(sets);
    (f, consumed)
}

/// The requests of a block's field sets, when there are several: two or
/// more sets of at least two fields each that differ in a value; or one
/// project name that lists several projects. Empty otherwise (one request,
/// perhaps with one field corrected further down).
fn several_requests(sets: Vec<FieldSet>) -> Vec<FieldSet> {
    let full: Vec<&FieldSet> = sets.iter().filter(|s| s.fields.len() >= 2).collect();
    let differ = full.iter().enumerate().any(|(k, a)| {
        full.iter()
            .skip(k + 1)
            .any(|b| a.fields.iter().any(|(field, v)| b.get(*field).is_some_and(|w| !same_value(*field, v, w))))
    });
    if full.len() >= 2 && differ {
        return sets.into_iter().filter(|s| !s.fields.is_empty()).collect();
    }
    // `Project name: webroot、webroot_dr`: one set, several projects.
    if let [only] = sets.as_slice()
        && let Some(p) = only.get(Field::ProjectName)
    {
        let projects = listed_projects(p);
        if !projects.is_empty() {
            return projects
                .into_iter()
                .map(|name| FieldSet {
                    fields: only
                        .fields
                        .iter()
                        .map(|(f, v)| (*f, if *f == Field::ProjectName { name.clone() } else { v.clone() }))
                        .collect(),
                })
                .collect();
        }
    }
    Vec::new()
}

/// The registration fields of a text body: those of the newest block that
/// has any (see the module documentation). Never fails: absent fields are
/// `None`, invalid ones keep their raw text.
pub fn parse_body(text: &str) -> RegistrationFields {
    fields_of_blocks(&blocks(text))
}

/// [`parse_body`] and [`classify`] of one mail, cutting its body into
/// blocks once. A subject that asks for an exception
/// ([`asks_for_exception`]) adds to [`RegistrationFields::exception_requests`].
pub fn parse_request(subject: &str, body: &str) -> (RegistrationFields, RequestKind) {
    let blocks = blocks(body);
    let mut fields = fields_of_blocks(&blocks);
    let kind = classify_blocks(subject, &blocks, &fields);
    let (subj, _) = strip_subject_prefixes(subject);
    if asks_for_exception(subj) && !fields.exception_requests.iter().any(|s| s == subj) {
        fields.exception_requests.insert(0, subj.to_owned());
    }
    (fields, kind)
}

fn fields_of_blocks(blocks: &[Block<'_>]) -> RegistrationFields {
    let mut order: Vec<(usize, &Block<'_>)> = blocks.iter().enumerate().collect();
    order.sort_by_key(|(_, b)| b.rank());
    // A block with only a special requirements note (a comment on a
    // forwarded request) does not hide the request below it: its note is
    // kept with the request's fields.
    let mut notes: Vec<String> = Vec::new();
    let mut chosen: Option<(usize, RegistrationFields, Vec<bool>)> = None;
    // A correction of a field or two in the fresh text (`Project name:
    // finance_bi` above the quoted request) is not a request of its own:
    // the quoted request is read, and the fresh text says what changes.
    let whole = |f: &RegistrationFields| f.company_name.is_some() && f.project_name.is_some();
    for (k, b) in order {
        let (mut f, consumed) = fields_of_block(b);
        if f.has_request_fields() {
            f.from_earlier_message = b.earlier;
            notes.extend(f.special_requirements.take());
            let partial_fresh = b.rank() == 0 && !whole(&f);
            let earlier_whole = || {
                blocks.iter().enumerate().filter(|(_, e)| e.rank() > 0).find_map(|(j, e)| {
                    let (mut g, c) = fields_of_block(e);
                    whole(&g).then(|| {
                        g.from_earlier_message = true;
                        notes.extend(g.special_requirements.take());
                        (j, g, c)
                    })
                })
            };
            chosen = match partial_fresh.then(earlier_whole).flatten() {
                Some(earlier) => Some(earlier),
                None => Some((k, f, consumed)),
            };
            break;
        }
        notes.extend(f.special_requirements.take());
    }
    let (chosen_at, mut f, chosen_consumed) = match chosen {
        Some((k, f, c)) => (Some(k), f, c),
        None => (None, RegistrationFields::default(), Vec::new()),
    };
    if !notes.is_empty() {
        f.special_requirements = Some(notes.join("\n\n"));
    }
    // The fresh text, and the free lines that may ask for an exception: of
    // the fresh blocks and of the block the fields were read from.
    let mut fresh: Vec<&str> = Vec::new();
    let mut asks: Vec<String> = Vec::new();
    for (k, b) in blocks.iter().enumerate() {
        let fresh_block = b.rank() == 0;
        if !fresh_block && chosen_at != Some(k) {
            continue;
        }
        if fresh_block {
            fresh.extend(b.lines.iter().copied());
        }
        let consumed = if chosen_at == Some(k) { chosen_consumed.clone() } else { fields_of_block(b).1 };
        let free = b.lines.iter().zip(consumed.iter().chain(core::iter::repeat(&false))).filter(|(_, c)| !**c);
        for (line, _) in free {
            if is_disclaimer(line) {
                break;
            }
            for sentence in sentences(line) {
                if asks_for_exception(sentence) && !asks.iter().any(|a| a == sentence) {
                    asks.push(sentence.to_owned());
                }
            }
        }
    }
    f.fresh_text = fresh.join("\n").trim().to_owned();
    f.exception_requests = asks;
    f
}

// ---------------------------------------------------------------------------
// Free text: courtesy, requests for an exception

/// A line's sentences: split after `.`, `!`, `?`, `;` (either width) and
/// `。`, trimmed, non-empty.
fn sentences(line: &str) -> impl Iterator<Item = &str> {
    line.split_inclusive(['.', '!', '?', ';', '。', '！', '？', '；'])
        .map(str::trim)
        .filter(|s| s.chars().any(char::is_alphanumeric))
}

/// A list of words and phrases, for matching a line in one pass (every
/// line of every mail is checked: `fanlic ingest`'s time): English phrases
/// by their first word, Chinese ones by their first character.
struct Lexicon {
    /// First word of an ASCII phrase → the phrases' words.
    en: HashMap<&'static str, Vec<Vec<&'static str>>>,
    /// First character of another phrase → the phrases.
    zh: HashMap<char, Vec<&'static str>>,
}

impl Lexicon {
    fn new(lists: &[&[&'static str]]) -> Self {
        let mut lex = Self { en: HashMap::new(), zh: HashMap::new() };
        for p in lists.iter().flat_map(|l| l.iter()) {
            if p.is_ascii() {
                let ws: Vec<&'static str> = p.split(' ').collect();
                if let Some(first) = ws.first() {
                    lex.en.entry(*first).or_default().push(ws);
                }
            } else if let Some(c) = p.chars().next() {
                lex.zh.entry(c).or_default().push(p);
            }
        }
        lex
    }

    /// Whether a line, as its lower-case folded text and that text's ASCII
    /// words, holds one of the phrases (English ones as whole words).
    fn matches(&self, folded: &str, words: &[&str]) -> bool {
        let en = words.iter().enumerate().any(|(i, w)| {
            self.en.get(w).is_some_and(|ps| ps.iter().any(|p| words.get(i..i + p.len()) == Some(p.as_slice())))
        });
        en || (!folded.is_ascii()
            && folded.char_indices().any(|(i, c)| {
                self.zh.get(&c).is_some_and(|ps| ps.iter().any(|p| folded.get(i..).is_some_and(|t| t.starts_with(p))))
            }))
    }
}

/// The ASCII words (letters, digits, `'`) of a lower-case folded text.
fn ascii_words(folded: &str) -> Vec<&str> {
    folded.split(|c: char| !(c.is_ascii_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).collect()
}

fn exception_lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| Lexicon::new(&[EXCEPTION_PHRASES_EN, EXCEPTION_WORDS_ZH]))
}

fn urgency_lexicons() -> &'static (Lexicon, Lexicon) {
    static LEX: OnceLock<(Lexicon, Lexicon)> = OnceLock::new();
    LEX.get_or_init(|| (Lexicon::new(&[URGENCY]), Lexicon::new(&[URGENCY_CONDITIONS])))
}

fn disclaimer_lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| Lexicon::new(&[DISCLAIMER]))
}

/// English words and phrases that ask for an exception: more than the
/// contract, another term, product or version, a trial or temporary
/// license, another site.
pub const EXCEPTION_PHRASES_EN: &[&str] = &[
    "extend",
    "extends",
    "extended",
    "extension",
    "prolong",
    "trial",
    "temporary",
    "temporarily",
    "provisional",
    "provisionally",
    "interim",
    "proof of concept",
    "evaluation license",
    "evaluation licence",
    "demo license",
    "more nodes",
    "additional nodes",
    "extra nodes",
    "more than",
    "additional license",
    "additional licence",
    "extra license",
    "extra licence",
    "another license",
    "another licence",
    "second license",
    "more licenses",
    "exceed",
    "exceeds",
    "exceeding",
    "beyond",
    "exception",
    "special",
    "waive",
    "waiver",
    "perpetual",
    "permanent",
    "permanently",
    "unlimited",
    "never expire",
    "never expires",
    "no expiry",
    "no expiration",
    "upgrade",
    "downgrade",
    "different version",
    "another version",
    "other version",
    "older version",
    "newer version",
    "different product",
    "another product",
    "other product",
    "switch to",
    "disaster recovery",
    "dr site",
    "standby",
    "failover",
    "backup server",
    "is it possible",
    "would it be possible",
    "possible to",
    "not yet signed",
    "not signed yet",
    "before the contract",
    "in the meantime",
    "meanwhile",
    "free of charge",
    "discount",
    "transfer",
];

/// Chinese words that ask for an exception (`能否`, `特批`, `延长`,
/// `试用`, `临时`, `超过`, ...).
pub const EXCEPTION_WORDS_ZH: &[&str] = &[
    "能否",
    "能不能",
    "可否",
    "是否可以",
    "是否能",
    "可不可以",
    "特批",
    "特殊",
    "例外",
    "破例",
    "通融",
    "延长",
    "延期",
    "续期",
    "展期",
    "推迟",
    "试用",
    "临时",
    "测试授权",
    "永久",
    "不限",
    "无限",
    "超过",
    "超出",
    "额外",
    "多加",
    "增加",
    "加节点",
    "多给",
    "多开",
    "升级",
    "降级",
    "其他版本",
    "其它版本",
    "别的版本",
    "灾备",
    "容灾",
    "备机",
    "双机",
    "热备",
    "冷备",
    "先发",
    "先给",
    "先开",
    "先出",
    "先提供",
    "合同还没",
    "合同未",
    "合同尚未",
    "后补",
    "补签",
    "免费",
    "优惠",
];

/// Urgency, which asks for an exception only with a condition
/// ([`URGENCY_CONDITIONS`]): "urgent, if the contract is not ready send a
/// temporary one" does; "please handle it soon" does not.
const URGENCY: &[&str] = &[
    "urgent",
    "urgently",
    "asap",
    "as soon as possible",
    "immediately",
    "today",
    "tonight",
    "tomorrow",
    "加急",
    "紧急",
    "急用",
    "尽快",
    "马上",
    "立即",
    "今天",
    "明天",
];

/// Conditions that make urgency an exception.
const URGENCY_CONDITIONS: &[&str] =
    &["unless", "until", "otherwise", "before", "first", "先", "之前", "否则", "待", "以后", "之后"];

/// Whether a sentence outside the fields asks for an exception: an English
/// phrase of [`EXCEPTION_PHRASES_EN`] (whole words), a Chinese word of
/// [`EXCEPTION_WORDS_ZH`], or urgency with a condition. A "none" sentence
/// (`No special requirements.`, `无特殊要求`) does not; nor does ordinary
/// politeness (`Please issue the license, thanks`, `请帮忙注册，谢谢`).
pub fn asks_for_exception(sentence: &str) -> bool {
    let mut folded = fold(sentence).to_lowercase();
    for p in NOT_EXCEPTIONS {
        if folded.contains(p) {
            folded = folded.replace(p, " ");
        }
    }
    let w = ascii_words(&folded);
    let (urgent, condition) = urgency_lexicons();
    let asks =
        exception_lexicon().matches(&folded, &w) || (urgent.matches(&folded, &w) && condition.matches(&folded, &w));
    asks && !is_none_note(sentence)
}

/// Phrases with an exception word that ask for none: a negation (`No
/// special circumstances`, `无特殊情况`) and the upgraded JAR package a
/// rejection asked for (`JAR包已升级，重新提交如下`).
const NOT_EXCEPTIONS: &[&str] = &[
    "no special",
    "nothing special",
    "not special",
    "without special",
    "no exception",
    "无特殊",
    "没有特殊",
    "无特别",
    "没有特别",
    "jar包已升级",
    "jar包已经升级",
    "jar包升级",
    "升级了jar包",
    "已升级jar包",
    "jar包已更新",
    "upgraded the jar",
    "upgraded jar",
    "jar package has been upgraded",
    "jar package was upgraded",
    "jar has been upgraded",
];

/// Whether a line starts a confidentiality notice or disclaimer (the rest
/// of its block is not the customer's words).
fn is_disclaimer(line: &str) -> bool {
    let l = fold(line).to_lowercase();
    disclaimer_lexicon().matches(&l, &ascii_words(&l))
}

/// What starts a disclaimer.
const DISCLAIMER: &[&str] = &[
    "confidential",
    "confidentiality",
    "intended recipient",
    "intended only for",
    "disclaimer",
    "this e mail and any",
    "this email and any",
    "this message and any",
    "保密",
    "机密",
    "免责声明",
    "本邮件及其附件",
    "本邮件包含",
    "如果您不是本邮件",
    "若您不是",
    "如非指定收件人",
];

/// Whether a line is a mail program's footer or an inline-image
/// placeholder: `Sent from my iPhone`, `Get Outlook for iOS`, `发自我的
/// iPhone`, `[cid:image001.png@...]`, `[image: logo.png]`.
fn is_footer(line: &str) -> bool {
    let l = fold(line.trim()).to_lowercase();
    let starts = ["sent from my", "sent from mail for", "get outlook for", "sent with", "发自我的", "发自网易", "来自"];
    starts.iter().any(|p| l.starts_with(p))
        || (l.starts_with("[cid:") || l.starts_with("[image:") || l.starts_with("[图片")) && l.ends_with(']')
}

/// Courtesy phrases (several words, English, or Chinese), removed from a
/// piece of text before its words are checked against [`COURTESY_WORDS`].
const COURTESY_PHRASES: &[&str] = &[
    "have not received",
    "haven't received",
    "has not been issued",
    "have not heard back",
    "haven't heard back",
    "not yet received",
    "not received",
    "no reply yet",
    "thank you",
    "any update",
    "any updates",
    "any news",
    "follow up",
    "following up",
    "for your information",
    "in advance",
    "last week",
    "earlier this week",
    "yesterday",
    "a few days ago",
    "some days ago",
    "still waiting",
    "as soon as possible",
    "late reply",
    "as requested",
    "烦请",
    "上周",
    "这边",
    "比较",
    "请查收",
    "请见",
    "尽快",
    "这个",
    "这封",
    "如何",
    "怎么样",
    "见下",
    "详见",
    "如下",
    "下方",
    "下面",
    "下文",
    "以下",
    "附件",
    "原邮件",
    "原始邮件",
    "之前",
    "上次",
    "邮件",
    "申请",
    "注册",
    "授权",
    "项目",
    "信息",
    "资料",
    "谢谢",
    "多谢",
    "感谢",
    "非常",
    "麻烦",
    "辛苦",
    "帮忙",
    "协助",
    "处理",
    "一下",
    "重新",
    "再次",
    "发送",
    "重发",
    "转发",
    "查收",
    "我们",
    "我司",
    "贵司",
    "您好",
    "你好",
    "没有",
    "尚未",
    "收到",
    "回复",
    "进度",
    "请问",
    "已经",
    "提交",
    "一次",
    "审核",
    "确认",
    "烦请",
];

/// Words that, alone or with one another, change nothing: a piece made of
/// them only (and [`COURTESY_PHRASES`]) is courtesy. `not`, `new`,
/// `other`, `instead`, `use`, `make`, `change` and any number are not among
/// them.
const COURTESY_WORDS: &[&str] = &[
    "please",
    "pls",
    "plz",
    "kindly",
    "see",
    "find",
    "below",
    "attached",
    "enclosed",
    "following",
    "the",
    "our",
    "my",
    "a",
    "an",
    "this",
    "that",
    "these",
    "is",
    "are",
    "was",
    "it",
    "its",
    "here",
    "as",
    "for",
    "to",
    "of",
    "on",
    "in",
    "from",
    "with",
    "and",
    "we",
    "us",
    "you",
    "your",
    "i",
    "me",
    "thanks",
    "thank",
    "thx",
    "many",
    "much",
    "very",
    "lot",
    "hi",
    "hello",
    "dear",
    "all",
    "team",
    "process",
    "handle",
    "help",
    "register",
    "issue",
    "request",
    "requests",
    "registration",
    "license",
    "licence",
    "mail",
    "email",
    "e",
    "message",
    "original",
    "previous",
    "earlier",
    "again",
    "resend",
    "resending",
    "resent",
    "re",
    "send",
    "sending",
    "sent",
    "forward",
    "forwarding",
    "forwarded",
    "fwd",
    "fw",
    "fyi",
    "have",
    "has",
    "been",
    "yet",
    "received",
    "any",
    "regarding",
    "info",
    "information",
    "details",
    "just",
    "quick",
    "reminder",
    "kind",
    "regards",
    "best",
    "cheers",
    "appreciate",
    "appreciated",
    "would",
    "be",
    "grateful",
    "could",
    "can",
    "project",
    "server",
    "same",
    "sorry",
    "ok",
    "okay",
    "refer",
    "check",
    "assist",
    "assistance",
    "gentle",
    "on",
    "reply",
    "replied",
    "response",
    "heard",
    "back",
    "didn't",
    "get",
    "got",
    "since",
    "requested",
    "mentioned",
    "attention",
    "asap",
    "soon",
    "sir",
    "madam",
    "late",
    "delay",
];

/// Chinese characters left after [`COURTESY_PHRASES`] are removed that
/// change nothing (particles, `请`, `再`, `好`).
const COURTESY_CHARS: &str = "的了呢吧啊哈呀哦嗯请再好您你发给还未已过帮中下烦是看急";

/// Who a forwarded request comes from, which changes nothing: `from our
/// (plant IT) team`, `from my colleague`: `from our`/`from my`, at most
/// three words, then one of these.
const FORWARDED_FROM: &[&str] = &["team", "department", "dept", "colleague", "colleagues", "office", "group"];

/// `s` without `from our|my <up to three words> <FORWARDED_FROM>`.
fn without_forwarded_from(s: &str) -> String {
    let w: Vec<&str> = s.split_whitespace().collect();
    let mut out: Vec<&str> = Vec::with_capacity(w.len());
    let mut i = 0;
    while i < w.len() {
        let starts = w.get(i) == Some(&"from") && matches!(w.get(i + 1), Some(&"our" | &"my"));
        let end = (i + 2..(i + 6).min(w.len()))
            .find(|&k| w.get(k).is_some_and(|x| FORWARDED_FROM.contains(&x.trim_end_matches(['.', ',', '!']))));
        match (starts, end) {
            (true, Some(k)) => i = k + 1,
            _ => {
                out.extend(w.get(i));
                i += 1;
            }
        }
    }
    out.join(" ")
}

/// Whether a piece of text (a sentence or part of one) is courtesy only.
fn is_courtesy(piece: &str) -> bool {
    let mut s = without_forwarded_from(&fold(piece).to_lowercase());
    for p in COURTESY_PHRASES {
        if s.contains(p) {
            s = s.replace(p, " ");
        }
    }
    s.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|t| !t.is_empty())
        .all(|t| if t.is_ascii() { COURTESY_WORDS.contains(&t) } else { t.chars().all(|c| COURTESY_CHARS.contains(c)) })
}

/// Whether a piece is a greeting: `Hi`, `Hello all`, `Dear FanRuan license
/// team`, `Good morning`, `您好`, `王经理您好`, `尊敬的帆软授权团队`.
fn is_greeting(piece: &str) -> bool {
    let l = fold(piece.trim()).to_lowercase();
    if l.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let w = ascii_words(&l);
    let en = ["hi", "hello", "hey", "dear", "greetings", "morning", "afternoon", "evening", "good"];
    if w.first().is_some_and(|f| en.contains(f)) && w.len() <= 6 && l.is_ascii() {
        return true;
    }
    let zh_in = ["您好", "你好", "大家好", "早上好", "上午好", "下午好", "晚上好"];
    let zh_start = ["尊敬的", "亲爱的", "各位", "dear", "hi"];
    l.chars().count() <= 30 && (zh_in.iter().any(|p| l.contains(p)) || zh_start.iter().any(|p| l.starts_with(p)))
}

/// Whether a line closes the mail (what follows is a signature): a
/// closing (`Best regards`, `此致`), or thanks alone, perhaps with a name
/// (`Thanks,`, `Thank you!`, `Thanks, Alice`, `谢谢！`).
fn is_sign_off(line: &str) -> bool {
    let short = ["best", "br", "brs", "rgds", "--", "-"];
    if is_closing(line) || short.contains(&squash(line).trim_end_matches([',', '.', '!', '，', '。', '！'])) {
        return true;
    }
    let mut pieces = line.split([',', '，', '!', '！', '.', '。']).map(str::trim).filter(|p| !p.is_empty());
    let Some(first) = pieces.next() else { return false };
    let rest: Vec<&str> = pieces.collect();
    THANKS.contains(&squash(first).as_str())
        && rest.len() <= 1
        && rest.iter().all(|r| r.chars().count() <= 20 && !r.chars().any(|c| c.is_ascii_digit()))
}

/// Whether a line of a signature still asks for something (a signature
/// does not say `make`, `change`, `nodes`, `改成`, `节点`, ...).
fn signature_line_asks(line: &str) -> bool {
    let folded = fold(line).to_lowercase();
    let w = ascii_words(&folded);
    let en = ["make", "change", "use", "instead", "correct", "update", "add", "need", "want", "node", "nodes"];
    let zh = ["改", "换", "节点", "延长", "希望", "能否", "需要", "麻烦"];
    w.iter().any(|x| en.contains(x)) || zh.iter().any(|p| folded.contains(p)) || asks_for_exception(line)
}

impl RegistrationFields {
    /// The customer's own words in the fresh text: its lines up to the
    /// first line of a disclaimer. What intent words (`destroy`, `migrate`)
    /// are looked for in: a confidentiality notice's "destroy all copies"
    /// or a quoted reply's text is not the customer asking.
    pub fn own_words(&self) -> String {
        let mut out = String::new();
        for line in self.fresh_text.lines() {
            if is_disclaimer(line) {
                break;
            }
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Whether the fresh text asks to change something
    /// ([`asks_for_change`]): what a forwarder's cover note must do to hold
    /// the forwarded request.
    pub fn fresh_asks_for_change(&self) -> bool {
        self.fresh_request().is_some_and(|t| asks_for_change(&t))
    }
}

/// How many of the registration's subjects a free text speaks of: the
/// company, the project, the contract or its signing, nodes, the version,
/// the JAR package, the registration method (English or Chinese words).
/// A mail whose fields could not be read but that speaks of several was
/// written as prose, not left empty.
pub fn field_words_in(text: &str) -> usize {
    let folded = fold(text).to_lowercase();
    let groups: [&[&str]; 7] = [
        &["company", "公司"],
        &["project", "项目", "工程"],
        &["contract", "signed", "signing", "合同", "签订", "签署"],
        &["node", "cluster", "节点", "集群"],
        &["version", "版本"],
        &["jar"],
        &["container", "private cloud", "容器", "私有云"],
    ];
    groups.iter().filter(|g| g.iter().any(|w| folded.contains(w))).count()
}

/// Whether a text asks to change something: a number, a field label, a
/// verb of change (`make`, `change`, `use`, `instead`, `should`, `not`,
/// `改`, `换`, `应为`, `不是`, ...) or an exception ([`asks_for_exception`]).
/// A forwarder's cover note (`Please find our request attached`, `Alice is
/// on leave, so I am forwarding it`) asks for none of these.
pub fn asks_for_change(text: &str) -> bool {
    text.lines().any(|line| {
        let folded = fold(line).to_lowercase();
        let w = ascii_words(&folded);
        let en = [
            "should",
            "not",
            "wrong",
            "rather",
            "modify",
            "replace",
            "correct",
            "correction",
            "instead",
            "change",
            "changed",
            "update",
            "updated",
            "make",
            "use",
            "add",
            "remove",
            "only",
            "but",
        ];
        let zh = ["应为", "应该", "修改", "更正", "改", "换", "不是", "而非", "错", "只", "但"];
        // A number alone is no change (a hotline or ticket number in the
        // forwarder's signature); next to a field's word it is.
        let field_word = ["node", "nodes", "version", "project", "date", "节点", "台", "版本", "项目", "日期"];
        (line.chars().any(|c| c.is_ascii_digit())
            && (w.iter().any(|x| field_word.contains(x)) || field_word.iter().skip(5).any(|p| folded.contains(p))))
            || field_line(line).is_some()
            || w.iter().any(|x| en.contains(x))
            || zh.iter().any(|p| folded.contains(p))
            || signature_line_asks(line)
    })
}

impl RegistrationFields {
    /// What the fresh text asks for, if anything: its lines that are not a
    /// greeting, courtesy, a sign-off, a signature, a mail program's footer
    /// or a disclaimer (see the module documentation for the words).
    /// `None` when the customer wrote nothing that could change the request
    /// (a resend or forward with `see below`, `FYI`, `请查收`, `谢谢`).
    pub fn fresh_request(&self) -> Option<String> {
        let said = substantive_lines(&self.fresh_text);
        if said.is_empty() { None } else { Some(said.join("\n")) }
    }
}

/// Whether a line is a short addressee: `张工：`, `Alice,`, `王经理，` (at
/// most ten characters, ending with a colon or comma, no digit, asking
/// nothing).
fn is_addressee(line: &str) -> bool {
    let t = line.trim();
    t.chars().count() <= 10
        && t.ends_with([':', '：', ',', '，'])
        && !t.chars().any(|c| c.is_ascii_digit())
        && !signature_line_asks(t)
}

/// Whether a line is a person's name, as a signature starts: one to three
/// capitalised words of letters (`Alice Chen`), or two or three Chinese
/// characters (`张伟`, `陈晓东`).
fn is_name(line: &str) -> bool {
    let t = line.trim();
    let words: Vec<&str> = t.split_whitespace().collect();
    let latin = (1..=3).contains(&words.len())
        && words.iter().all(|w| {
            let mut cs = w.chars();
            cs.next().is_some_and(|c| c.is_ascii_uppercase())
                && cs.all(|c| c.is_ascii_lowercase() || c == '-' || c == '\'')
        });
    let n = t.chars().count();
    let han = (2..=3).contains(&n) && t.chars().all(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    latin || han
}

/// The lines of a fresh text that say something (see
/// [`RegistrationFields::fresh_request`]). The last paragraph is a
/// signature when it starts with a name ([`is_name`]) and no line of it
/// asks for anything.
fn substantive_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    // Where the last paragraph starts.
    let last_para = lines.iter().rposition(|l| l.trim().is_empty()).map_or(0, |i| i + 1);
    // Only after some text: a name alone may as well be a project's.
    let trailing_signature = lines.iter().take(last_para).any(|l| !l.trim().is_empty())
        && lines.get(last_para).is_some_and(|l| is_name(l))
        && lines.iter().skip(last_para).all(|l| !signature_line_asks(l));
    let lines = if trailing_signature { lines.get(..last_para).unwrap_or_default() } else { &lines[..] };
    let mut out = Vec::new();
    let mut signature = false;
    for line in lines {
        let t = line.trim();
        if t.is_empty() || is_footer(t) {
            continue;
        }
        if is_disclaimer(t) {
            break;
        }
        if signature {
            if signature_line_asks(t) {
                out.push(t);
            }
            continue;
        }
        if is_sign_off(t) {
            signature = true;
            continue;
        }
        if is_addressee(t) {
            continue;
        }
        let pieces: Vec<&str> = t
            .split([',', ';', ':', '!', '?', '.', '，', '；', '：', '！', '？', '。', '、'])
            .map(str::trim)
            .filter(|p| p.chars().any(char::is_alphanumeric))
            .collect();
        let said = pieces.iter().enumerate().any(|(k, p)| {
            let addressee =
                k == 0 && p.chars().count() <= 12 && pieces.get(1).is_some_and(|n| is_greeting(n)) && !p.contains(' ');
            !(is_greeting(p) || is_courtesy(p) || addressee)
        });
        if said {
            out.push(t);
        } else if pieces.last().is_some_and(|p| THANKS.contains(&squash(p).trim_end_matches(['.', '!']))) {
            // `请查收，谢谢！`, `Please see below. Thanks!`: a sign-off.
            signature = true;
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Subject

/// Whether a subject says the mail forwards another (`Fwd:`, `FW:`, `转发:`,
/// `WG:`), after any bracketed tags or `Re:`; a reply alone is not a forward.
pub fn is_forward_subject(subject: &str) -> bool {
    subject_prefixes(subject).2
}

/// Strips `Re:`, `Fwd:`, `回复：`, `[External]`, ... from the front.
fn strip_subject_prefixes(subject: &str) -> (&str, bool) {
    let (s, stripped, _) = subject_prefixes(subject);
    (s, stripped)
}

/// The subject without its tags and `Re:`/`Fwd:` prefixes, whether any
/// prefix was stripped, and whether one of them was a forward's.
fn subject_prefixes(subject: &str) -> (&str, bool, bool) {
    let mut s = subject.trim();
    let mut stripped = false;
    let mut forward = false;
    loop {
        let before = s;
        // Bracketed tags: `[External]`, `【外部邮件】`.
        for (open, close) in [('[', ']'), ('【', '】')] {
            if let Some(rest) = s.strip_prefix(open)
                && let Some(end) = rest.find(close)
            {
                s = rest.get(end + close.len_utf8()..).unwrap_or("").trim_start();
            }
        }
        if let Some((i, c)) = s.char_indices().take(8).find(|&(_, c)| c == ':' || c == '：') {
            let tag = s.get(..i).unwrap_or("").trim().to_lowercase();
            let tag = tag.trim_end_matches(|c: char| c.is_ascii_digit() || matches!(c, '[' | ']' | '(' | ')')).trim();
            let fwd = matches!(tag, "fw" | "fwd" | "wg" | "转发" | "转" | "轉寄");
            if fwd || matches!(tag, "re" | "aw" | "sv" | "回复" | "答复" | "回覆") {
                s = s.get(i + c.len_utf8()..).unwrap_or("").trim_start();
                stripped = true;
                forward |= fwd;
            }
        }
        if s == before {
            return (s, stripped, forward);
        }
    }
}

/// The product a text names, by token: `FineReport` or `FineBI`, any case,
/// full-width letters too, also with a space (`Fine Report`). The first one
/// named wins; the offset is a byte offset into `s`.
fn product_in(s: &str) -> Option<(usize, &'static str)> {
    // Folded lower-case characters with their byte offsets in `s`.
    let chars: Vec<(usize, char)> = s
        .char_indices()
        .map(|(i, c)| (i, fold(&c.to_string()).chars().next().unwrap_or(c).to_ascii_lowercase()))
        .collect();
    let needles =
        [("finereport", "FineReport"), ("fine report", "FineReport"), ("finebi", "FineBI"), ("fine bi", "FineBI")];
    for start in 0..chars.len() {
        for (needle, product) in needles {
            let matched = needle.chars().enumerate().all(|(k, n)| chars.get(start + k).is_some_and(|&(_, c)| c == n));
            if matched {
                return chars.get(start).map(|&(i, _)| (i, product));
            }
        }
    }
    None
}

fn trim_company(s: &str) -> Option<String> {
    let t =
        clean_value(s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '-' | ':' | '：' | ',' | '，' | '|')));
    let t = t.strip_suffix("的").unwrap_or(t).trim();
    if t.is_empty() { None } else { Some(t.to_owned()) }
}

/// `... Document of <Company>'s Registration ...`, `... of <Company>
/// Registration ...` or `<Company>'s Registration ...`; nothing is guessed
/// without `of` or a possessive.
fn english_company(s: &str) -> Option<String> {
    // ASCII lower-casing keeps byte offsets.
    let lower = s.to_ascii_lowercase();
    let reg = lower.find("registration")?;
    let head = s.get(..reg)?.trim_end();
    let lhead = lower.get(..head.len())?;
    let possessive = head.strip_suffix("'s").or_else(|| head.strip_suffix("’s")).or_else(|| head.strip_suffix("＇s"));
    let anchor =
        lhead.rfind("document of ").map(|p| p + "document of ".len()).or_else(|| lhead.rfind(" of ").map(|p| p + 4));
    let start = match (anchor, possessive) {
        (Some(a), _) => a,
        // `Acme's Registration`: the company starts after any `...:`.
        (None, Some(_)) => head.rfind([':', '：', '|']).map_or(0, |p| p + 1),
        (None, None) => return None,
    };
    let company = possessive.unwrap_or(head);
    trim_company(company.get(start..)?)
}

/// `关于<公司>注册...`, `关于<公司>的注册...`, `<公司>FineBI注册...`; for a
/// cancellation also `关于<公司>注销...` and `(申请)注销<公司>FineBI注册...`.
fn chinese_company(s: &str) -> Option<String> {
    const CANCEL: [&str; 4] = ["注销", "取消", "撤销", "解除"];
    let start = s.find("关于").map_or(0, |p| p + "关于".len());
    let mut tail = s.get(start..)?.trim_start();
    // `申请注销<公司>...`: the company follows the verb.
    let verb_first = tail.strip_prefix("申请").unwrap_or(tail);
    if let Some(rest) = CANCEL.iter().find_map(|v| verb_first.strip_prefix(v)) {
        tail = rest;
    }
    let mut end = tail.len();
    for pat in ["的注册", "注册", "的授权", "授权"].iter().chain(&CANCEL) {
        if let Some(p) = tail.find(pat) {
            end = end.min(p);
        }
    }
    if let Some((p, _)) = product_in(tail) {
        end = end.min(p);
    }
    trim_company(tail.get(..end)?)
}

/// What a registration mail's subject says: `Official Authorization Document
/// of <Company>'s Registration for FineReport`, `关于<公司>注册FineReport的正式
/// 授权文件`, `<公司>FineBI注册授权申请`, with or without `Re:`/`Fwd:`.
pub fn parse_subject(subject: &str) -> SubjectInfo {
    let (s, is_reply_or_forward) = strip_subject_prefixes(subject);
    let product = product_in(s).map(|(_, p)| p);
    let has_cjk = s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    let company = if has_cjk && (s.contains("注册") || s.contains("授权")) {
        chinese_company(s).or_else(|| english_company(s))
    } else {
        english_company(s)
    };
    SubjectInfo { company, product, is_reply_or_forward }
}

// ---------------------------------------------------------------------------
// Classification

/// Whether a text asks to cancel a registration: `注销`, `取消注册`, ...;
/// `deregister`, `unregister`; or the verb `cancel`/`revoke` (not
/// `cancelled`) or `cancellation of`, followed within a few words by
/// registration, license, authorization or an old server/project.
fn mentions_cancellation(text: &str) -> bool {
    let lower = fold(text).to_lowercase();
    let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    let zh = ["注销", "取消注册", "取消授权", "取消认证", "取消原注册", "解除注册", "撤销注册", "撤销授权"];
    if zh.iter().any(|p| lower.contains(p)) {
        return true;
    }
    if ["deregist", "de-regist", "unregister", "un-register"].iter().any(|p| lower.contains(p)) {
        return true;
    }
    let objects =
        ["registration", "register", "license", "licence", "authoriz", "authoris", "old server", "old project"];
    ["cancel ", "revoke ", "cancellation of "].iter().any(|verb| {
        lower.match_indices(verb).any(|(i, _)| {
            // A whole word: `cancel`, not `precancel`.
            let word_start = lower.get(..i).is_none_or(|h| !h.ends_with(|c: char| c.is_alphanumeric()));
            let after: String = lower.get(i + verb.len()..).unwrap_or("").chars().take(50).collect();
            word_start && objects.iter().any(|o| after.contains(o))
        })
    })
}

/// What a mail asks for. A cancellation (`cancel the registration of the old
/// server`, `注销`, `取消注册`) in the subject or the newest text wins; a
/// registration is a subject about registration/authorization or a body with
/// registration fields; anything else is [`RequestKind::Unknown`]. Quoted
/// earlier messages are not read for cancellation.
pub fn classify(subject: &str, body: &str) -> RequestKind {
    parse_request(subject, body).1
}

fn classify_blocks(subject: &str, blocks: &[Block<'_>], fields: &RegistrationFields) -> RequestKind {
    // The fresh text: every block that is not an earlier message.
    // A confidentiality notice ("…to cancel these notices reply
    // UNSUBSCRIBE") is not the customer asking.
    let newest = blocks
        .iter()
        .filter(|b| b.rank() == 0)
        .flat_map(|b| b.lines.iter().copied().take_while(|l| !is_disclaimer(l)))
        .collect::<Vec<_>>();
    let newest = newest.join("\n");
    let (subj, _) = strip_subject_prefixes(subject);
    if mentions_cancellation(subj) || mentions_cancellation(&newest) {
        return RequestKind::CancelRegistration;
    }
    let ls = fold(subj).to_lowercase();
    let subject_says = ["registration", "register", "authorization", "authorisation", "注册", "授权", "认证"]
        .iter()
        .any(|w| ls.contains(w));
    if subject_says || fields.company_name.is_some() || fields.project_name.is_some() {
        RequestKind::Registration
    } else {
        RequestKind::Unknown
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    fn d(y: u16, m: u8, day: u8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    fn codes(f: &RegistrationFields, contract: Option<LicenseKind>) -> Vec<&'static str> {
        f.problems(contract).iter().map(Problem::code).collect()
    }

    const SEED: &str = "Dear team,\n\nCompany name: Example Co.\nProject name: webroot\n\
        Contract signing date: 2026/11/20\nMaximum number of registration: 3\n\
        Project version: 11.0.20\nJAR package version: 2023.12.14 (Build#persist-2023.12.14.10.22.33.88)\n\nThanks\n";

    #[test]
    fn english_seed() {
        let f = parse_body(SEED);
        assert_eq!(f.company_name.as_deref(), Some("Example Co."));
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
        assert_eq!(f.signing_date.as_ref().unwrap().value, Some(d(2026, 11, 20)));
        assert_eq!(f.nodes.as_ref().unwrap().value, Some(3));
        assert_eq!(f.node_count(), Some(3));
        let v = f.project_version.as_ref().unwrap();
        assert_eq!(v.raw, "11.0.20");
        assert_eq!(v.value, Some(Version { major: 11, minor: 0 }));
        let j = f.jar_version.as_ref().unwrap();
        assert_eq!(j.value, Some(d(2023, 12, 14)));
        assert!(j.raw.starts_with("2023.12.14 (Build#"));
        assert!(f.method.is_none());
        assert!(f.special_requirements.is_none());
        assert!(!f.from_earlier_message);
        // No method line: the contract's method stands in, else it is missing.
        assert!(codes(&f, Some(LicenseKind::LocalContainer)).is_empty());
        assert!(codes(&f, Some(LicenseKind::PrivateCloud)).is_empty());
        assert_eq!(codes(&f, None), ["missing_field_method"]);
        assert_eq!(f.effective_method(Some(LicenseKind::PrivateCloud)), Some(LicenseKind::PrivateCloud));
    }

    #[test]
    fn chinese_full_width_colons_and_spacing() {
        let body = "公司名称：帆软软件有限公司\n项目名称 ： decision\n合同签订日期：2026年1月5日\n\
            注册方式：本地容器认证\n集群节点数：３\n项目版本：11.0\nJAR包版本：2024-03-08\n特殊需求：无\n";
        let f = parse_body(body);
        assert_eq!(f.company_name.as_deref(), Some("帆软软件有限公司"));
        assert_eq!(f.project_name.as_deref(), Some("decision"));
        assert_eq!(f.signing_date.unwrap().value, Some(d(2026, 1, 5)));
        assert_eq!(f.method.unwrap().value, Some(LicenseKind::LocalContainer));
        assert_eq!(f.nodes.unwrap().value, Some(3));
        assert_eq!(f.project_version.unwrap().value, Some(Version { major: 11, minor: 0 }));
        assert_eq!(f.jar_version.unwrap().value, Some(d(2024, 3, 8)));
        assert!(f.special_requirements.is_none());
    }

    #[test]
    fn labels_any_case_bullets_bilingual_and_alternatives() {
        let body = "  1.  COMPANY NAME   :   Acme (Beijing) Ltd.  \n\
            - project NAME: webroot\n\
            • Contract Signing Date/合同签订日期: 2026-02-01\n\
            (4) 认证方式: LOCAL container AUTHENTICATION\n\
            5) Maximum number of registration or Number of nodes in the cluster project: 2 nodes\n\
            a. Project Version（项目版本）: V11.0\n\
            * JAR包版本: persist-20240105\n";
        let f = parse_body(body);
        assert_eq!(f.company_name.as_deref(), Some("Acme (Beijing) Ltd."));
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
        assert_eq!(f.signing_date.unwrap().value, Some(d(2026, 2, 1)));
        assert_eq!(f.method.unwrap().value, Some(LicenseKind::LocalContainer));
        assert_eq!(f.nodes.unwrap().value, Some(2));
        assert_eq!(f.project_version.unwrap().value, Some(Version { major: 11, minor: 0 }));
        assert_eq!(f.jar_version.unwrap().value, Some(d(2024, 1, 5)));
    }

    #[test]
    fn full_width_company_kept_verbatim() {
        let f = parse_body("公司名称：示例（北京）科技有限公司；\n");
        assert_eq!(f.company_name.as_deref(), Some("示例（北京）科技有限公司"));
    }

    #[test]
    fn value_on_the_next_line() {
        let body = "Company name:\n\n   Example Co.\nProject name:\nProject version: 11.0\n";
        let f = parse_body(body);
        assert_eq!(f.company_name.as_deref(), Some("Example Co."));
        // The next line is a label: no project name.
        assert!(f.project_name.is_none());
        assert_eq!(f.project_version.unwrap().raw, "11.0");
    }

    #[test]
    fn methods() {
        for (raw, kind) in [
            ("Local Container Authentication", LicenseKind::LocalContainer),
            ("local-container", LicenseKind::LocalContainer),
            ("本地容器认证", LicenseKind::LocalContainer),
            ("(Container) Private Cloud", LicenseKind::PrivateCloud),
            ("container private cloud", LicenseKind::PrivateCloud),
            ("PRIVATE CLOUD", LicenseKind::PrivateCloud),
            ("私有云认证", LicenseKind::PrivateCloud),
            ("容器私有云认证", LicenseKind::PrivateCloud),
        ] {
            assert_eq!(parse_method(raw), Some(kind), "{raw}");
        }
        for raw in ["container", "cloud", "public cloud", "Local container or private cloud", "USB dongle"] {
            assert_eq!(parse_method(raw), None, "{raw}");
        }
        let f = parse_body("Registration method: USB dongle\n");
        assert_eq!(f.method.as_ref().unwrap().raw, "USB dongle");
        assert!(codes(&f, Some(LicenseKind::LocalContainer)).contains(&"unknown_method"));
        assert_eq!(f.effective_method(Some(LicenseKind::LocalContainer)), None);
    }

    #[test]
    fn dates() {
        for (raw, want) in [
            ("2026/11/20", d(2026, 11, 20)),
            ("2026-11-20", d(2026, 11, 20)),
            ("2026年11月20日", d(2026, 11, 20)),
            ("2026 年 1 月 2 日", d(2026, 1, 2)),
            ("２０２６／１１／２０", d(2026, 11, 20)),
            ("2026.11.20", d(2026, 11, 20)),
            ("2026-1-2 (Friday)", d(2026, 1, 2)),
        ] {
            assert_eq!(parse_date(raw), Some(want), "{raw}");
        }
        for raw in ["2026/02/30", "2026-13-01", "05/08/2026", "2026-11/20", "yesterday", "12026/11/20", "1969/12/31"] {
            assert_eq!(parse_date(raw), None, "{raw}");
        }
    }

    #[test]
    fn invalid_date_keeps_raw() {
        let f = parse_body("Contract signing date: 2026/02/30\nJAR package version: latest\n");
        assert_eq!(f.signing_date.as_ref().unwrap().raw, "2026/02/30");
        assert!(f.signing_date.as_ref().unwrap().is_invalid());
        let p = f.problems(Some(LicenseKind::LocalContainer));
        assert!(p.contains(&Problem::InvalidDate { field: Field::SigningDate, raw: "2026/02/30".into() }));
        assert!(p.contains(&Problem::InvalidDate { field: Field::JarVersion, raw: "latest".into() }));
    }

    #[test]
    fn jar_build_strings() {
        for (raw, want) in [
            ("2023.12.14 (Build#persist-2023.12.14.10.22.33.88)", d(2023, 12, 14)),
            ("Build#persist-2023.12.14.10.22.33.88", d(2023, 12, 14)),
            ("fine-report-engine-11.0-RELEASE-2024.03.08", d(2024, 3, 8)),
            ("2024-03-08", d(2024, 3, 8)),
            ("2024年3月8日", d(2024, 3, 8)),
            ("persist-20240105-1022", d(2024, 1, 5)),
        ] {
            assert_eq!(parse_build_date(raw), Some(want), "{raw}");
        }
        for raw in ["11.0.20", "latest", "Build#12345678", "2023.12.34"] {
            assert_eq!(parse_build_date(raw), None, "{raw}");
        }
    }

    #[test]
    fn nodes() {
        for (raw, n) in [("3", 3), ("３", 3), ("3 nodes", 3), ("2个", 2), ("4台", 4), (" 10 ", 10)] {
            assert_eq!(parse_nodes(raw), Some(n), "{raw}");
        }
        for raw in ["three", "0", "-1", "1.5", "3 or 4", "99999999999", "many", "3-4"] {
            assert_eq!(parse_nodes(raw), None, "{raw}");
        }
        let f = parse_body("Number of nodes in the cluster project: three\n");
        assert_eq!(f.node_count(), None);
        assert!(f.problems(None).contains(&Problem::InvalidNodes { raw: "three".into() }));
        for raw in ["0", "-1"] {
            let f = parse_body(&format!("集群节点数：{raw}\n"));
            assert_eq!(f.nodes.as_ref().unwrap().raw, raw);
            assert!(codes(&f, None).contains(&"invalid_nodes"));
        }
        // Absent: 1.
        assert_eq!(parse_body("Company name: X\n").node_count(), Some(1));
    }

    #[test]
    fn versions() {
        for (raw, v) in
            [("11.0.20", (11, 0)), ("V11.0", (11, 0)), ("v6.1", (6, 1)), ("FineBI 6.1.2", (6, 1)), ("１１.０", (11, 0))]
        {
            assert_eq!(parse_version(raw), Some(Version { major: v.0, minor: v.1 }), "{raw}");
        }
        for raw in ["latest", "11", "V11"] {
            assert_eq!(parse_version(raw), None, "{raw}");
        }
        let f = parse_body("Project version: eleven\n");
        assert!(codes(&f, None).contains(&"invalid_version"));
    }

    #[test]
    fn missing_fields() {
        let f = parse_body("Hello, please register us.\n");
        assert!(f.is_empty());
        assert_eq!(
            codes(&f, None),
            [
                "missing_field_company_name",
                "missing_field_project_name",
                "missing_field_signing_date",
                "missing_field_method",
                "missing_field_version"
            ]
        );
        // The JAR version is required for local container only.
        let f = parse_body("Registration method: local container authentication\n");
        assert!(codes(&f, None).contains(&"missing_field_jar_version"));
        let f = parse_body("Registration method: private cloud\n");
        assert!(!codes(&f, None).contains(&"missing_field_jar_version"));
        let f = parse_body("Company name: X\n");
        assert!(codes(&f, Some(LicenseKind::LocalContainer)).contains(&"missing_field_jar_version"));
        assert!(!codes(&f, Some(LicenseKind::PrivateCloud)).contains(&"missing_field_jar_version"));
        // An empty value is a missing field.
        let f = parse_body("Company name:   \n\nProject name: webroot\n");
        assert!(f.company_name.is_none());
    }

    #[test]
    fn quoted_reply_newest_wins() {
        let body = "Company name: New Co.\nProject name: new-project\n\n\
            On Mon, 12 Feb 2024 at 10:22, Bob <bob@example.com> wrote:\n\
            > Company name: Old Co.\n> Project name: old-project\n> Special requirements: old note\n";
        let f = parse_body(body);
        assert_eq!(f.company_name.as_deref(), Some("New Co."));
        assert_eq!(f.project_name.as_deref(), Some("new-project"));
        assert!(f.special_requirements.is_none());
        assert!(!f.from_earlier_message);
        // Bottom posting: the unquoted text wins over the quoted one.
        let body = "On Mon, 12 Feb 2024, Bob wrote:\n> Project name: old\n\nProject name: new\n";
        assert_eq!(parse_body(body).project_name.as_deref(), Some("new"));
        // The "On ..." line wrapped before "wrote:".
        let body = "Project name: new\n\nOn Mon, 12 Feb 2024 at 10:22, Bob Smith\n<bob@example.com> wrote:\n\nProject name: old\n";
        assert_eq!(parse_body(body).project_name.as_deref(), Some("new"));
    }

    #[test]
    fn forwarded_and_header_blocks_ignored_below_fields() {
        for sep in [
            "-------- Forwarded Message --------",
            "---------- Forwarded message ---------",
            "-----Original Message-----",
            "---- 原始邮件 ----",
            "------------------ 原始邮件 ------------------",
            "发件人: 张三 <zs@example.com>",
            "发件人：张三",
            "________________________________",
        ] {
            let body = format!("公司名称：新公司\n项目名称：新项目\n\n{sep}\n项目名称：旧项目\n公司名称：旧公司\n");
            let f = parse_body(&body);
            assert_eq!(f.project_name.as_deref(), Some("新项目"), "{sep}");
            assert_eq!(f.company_name.as_deref(), Some("新公司"), "{sep}");
            assert!(!f.from_earlier_message, "{sep}");
        }
        let body =
            "Project name: new\n\nFrom: Bob <bob@example.com>\nSent: Monday\nTo: us\nSubject: x\n\nProject name: old\n";
        assert_eq!(parse_body(body).project_name.as_deref(), Some("new"));
        // `From:` that is not a header block does not cut.
        let body = "From: our IT team\nProject name: webroot\n";
        assert_eq!(parse_body(body).project_name.as_deref(), Some("webroot"));
    }

    #[test]
    fn fields_only_in_the_forwarded_message() {
        let body = "Please handle the request below.\n\n-------- Forwarded Message --------\n\
            Subject: x\nDate: y\nFrom: z\n\nCompany name: Customer Co.\nProject name: webroot\n";
        let f = parse_body(body);
        assert_eq!(f.company_name.as_deref(), Some("Customer Co."));
        assert!(f.from_earlier_message);
        let body = "See below.\n\n> Project name: quoted\n";
        let f = parse_body(body);
        assert_eq!(f.project_name.as_deref(), Some("quoted"));
        assert!(f.from_earlier_message);
    }

    #[test]
    fn signatures_ignored() {
        let body = "Project name: webroot\n-- \nJohn\nCompany name: Signature Co.\n";
        let f = parse_body(body);
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
        assert!(f.company_name.is_none());
        let body = "Project name: webroot\n\nBest regards,\nJohn\nCompany: Signature Co.\n";
        assert!(parse_body(body).company_name.is_none());
        let body = "项目名称：webroot\n\n此致\n敬礼\n公司：签名公司\n";
        assert!(parse_body(body).company_name.is_none());
        // A closing before any field does not end the block.
        let body = "Thanks!\nCompany name: Real Co.\n";
        assert_eq!(parse_body(body).company_name.as_deref(), Some("Real Co."));
    }

    #[test]
    fn special_requirements() {
        let f = parse_body("Special requirements: please make it perpetual\n");
        assert_eq!(f.special_requirements.as_deref(), Some("please make it perpetual"));
        let f =
            parse_body("Special circumstances:\nWe run two data centres.\nOnly one is active.\n\nProject name: x\n");
        assert_eq!(f.special_requirements.as_deref(), Some("We run two data centres.\nOnly one is active."));
        assert_eq!(f.project_name.as_deref(), Some("x"));
        let f = parse_body("特殊需求：需要支持双机热备\n");
        assert_eq!(f.special_requirements.as_deref(), Some("需要支持双机热备"));
        let f = parse_body("Special requirements\nExtra nodes for testing\n");
        assert_eq!(f.special_requirements.as_deref(), Some("Extra nodes for testing"));
        for none in ["none", "None.", "N/A", "无", "无。", "-", ""] {
            let f = parse_body(&format!("Special requirements: {none}\nProject name: x\n"));
            assert!(f.special_requirements.is_none(), "{none:?}");
        }
        // Special requirements alone count as fields (the mail is held).
        assert!(!parse_body("Remarks: call me\n").is_empty());
    }

    #[test]
    fn not_labels() {
        let body = "The project name is webroot.\nOur company: we are a bank\nNote: version 11\n10:30 meeting\n";
        let f = parse_body(body);
        assert!(f.project_name.is_none());
        assert!(f.project_version.is_none());
        // `Our company` is not a label.
        assert!(f.company_name.is_none());
    }

    #[test]
    fn first_occurrence_in_a_block_wins() {
        let f = parse_body("Project name: first\nProject name: second\n");
        assert_eq!(f.project_name.as_deref(), Some("first"));
        assert_eq!(f.repeated, [Field::ProjectName]);
        // The same value twice is not a repetition.
        let f = parse_body("Project name: same\n项目名称：same\n");
        assert!(f.repeated.is_empty());
        assert!(parse_body(SEED).repeated.is_empty());
    }

    #[test]
    fn crlf_bodies() {
        let f = parse_body("Company name: A\r\nProject name: b\r\n");
        assert_eq!(f.company_name.as_deref(), Some("A"));
        assert_eq!(f.project_name.as_deref(), Some("b"));
    }

    #[test]
    fn subjects_english() {
        let s = parse_subject("Official Authorization Document of Example Co., Ltd.'s Registration for FineReport");
        assert_eq!(s.company.as_deref(), Some("Example Co., Ltd."));
        assert_eq!(s.product, Some("FineReport"));
        assert!(!s.is_reply_or_forward);
        assert!(s.problems().is_empty());
        let s = parse_subject("RE: Fwd: official authorization document of Acme’s registration for finebi");
        assert_eq!(s.company.as_deref(), Some("Acme"));
        assert_eq!(s.product, Some("FineBI"));
        assert!(s.is_reply_or_forward);
        let s = parse_subject("[External] Re[2]: Acme's Registration for FineReport");
        assert_eq!(s.company.as_deref(), Some("Acme"));
        assert!(s.is_reply_or_forward);
        let s = parse_subject("Official Authorization Document of 's Registration for FineReport");
        assert_eq!(s.company, None);
        assert_eq!(s.problems().iter().map(Problem::code).collect::<Vec<_>>(), ["subject_missing_company"]);
        let s = parse_subject("Official Authorization Document of Acme's Registration");
        assert_eq!(s.product, None);
        assert_eq!(s.problems().iter().map(Problem::code).collect::<Vec<_>>(), ["subject_missing_product"]);
        let s = parse_subject("Hello");
        assert_eq!(s, SubjectInfo::default());
    }

    #[test]
    fn subjects_chinese() {
        let s = parse_subject("关于上海示例信息技术有限公司注册FineReport的正式授权文件");
        assert_eq!(s.company.as_deref(), Some("上海示例信息技术有限公司"));
        assert_eq!(s.product, Some("FineReport"));
        let s = parse_subject("回复：关于北京某某科技有限公司的注册FineBI的正式授权文件");
        assert_eq!(s.company.as_deref(), Some("北京某某科技有限公司"));
        assert_eq!(s.product, Some("FineBI"));
        assert!(s.is_reply_or_forward);
        let s = parse_subject("转发: 深圳某公司FineBI注册授权申请");
        assert_eq!(s.company.as_deref(), Some("深圳某公司"));
        assert_eq!(s.product, Some("FineBI"));
        assert!(s.is_reply_or_forward);
        let s = parse_subject("关于注册FineReport的正式授权文件");
        assert_eq!(s.company, None);
        assert_eq!(s.product, Some("FineReport"));
    }

    #[test]
    fn chinese_cancellation_subjects_name_the_company_before_the_verb() {
        // Regression: the company ran on to the next 注册/授权, so the contract
        // of "上海示例信息技术有限公司注销旧服务器" was not found and a genuine
        // cancellation from a contract address was rejected.
        for subject in [
            "关于上海示例信息技术有限公司注销旧服务器FineBI注册的申请",
            "关于上海示例信息技术有限公司的注销FineReport授权申请",
            "关于上海示例信息技术有限公司取消原注册的申请",
            "关于上海示例信息技术有限公司撤销授权的申请",
            "回复：关于上海示例信息技术有限公司解除注册的申请",
        ] {
            assert_eq!(parse_subject(subject).company.as_deref(), Some("上海示例信息技术有限公司"), "{subject}");
            assert_eq!(classify(subject, ""), RequestKind::CancelRegistration, "{subject}");
        }
        // The verb first: the company follows it.
        for subject in ["申请注销上海示例信息技术有限公司FineBI注册", "注销上海示例信息技术有限公司的FineReport授权"]
        {
            assert_eq!(parse_subject(subject).company.as_deref(), Some("上海示例信息技术有限公司"), "{subject}");
        }
    }

    #[test]
    fn classification() {
        let reg = "Official Authorization Document of Acme's Registration for FineReport";
        assert_eq!(classify(reg, SEED), RequestKind::Registration);
        assert_eq!(classify("Hello", SEED), RequestKind::Registration);
        assert_eq!(classify(reg, "see attachment"), RequestKind::Registration);
        assert_eq!(classify("Invoice", "Please pay."), RequestKind::Unknown);
        assert_eq!(RequestKind::Unknown.code(), "unknown_request");
        assert_eq!(
            classify("Re: server move", "Please cancel the registration of the old server.\nThanks"),
            RequestKind::CancelRegistration
        );
        assert_eq!(classify("Cancel registration of old project", ""), RequestKind::CancelRegistration);
        assert_eq!(classify("注销旧服务器的注册", ""), RequestKind::CancelRegistration);
        assert_eq!(classify("申请", "请帮忙取消注册旧项目，谢谢"), RequestKind::CancelRegistration);
        assert_eq!(
            classify("Move", "We would like to cancel\nthe license of the old project."),
            RequestKind::CancelRegistration
        );
        assert_eq!(classify("Move", "Please deregister our old server."), RequestKind::CancelRegistration);
        // A registration whose note mentions a cancelled contract is not a cancellation.
        let note = format!("{SEED}Special requirements: if the contract is cancelled the license should end\n");
        assert_eq!(classify(reg, &note), RequestKind::Registration);
        assert_eq!(classify("Cancel the meeting", "See you."), RequestKind::Unknown);
        // A cancellation only in a quoted earlier message does not count.
        let body = format!("{SEED}\nOn Mon, Bob wrote:\n> Please cancel the registration of the old server.\n");
        assert_eq!(classify(reg, &body), RequestKind::Registration);
    }

    #[test]
    fn fixtures() {
        let seed = parse_body(include_str!("../../../fixtures/emails/bodies/english-seed.txt"));
        assert_eq!(seed.company_name.as_deref(), Some("Northwind Trading Co., Ltd."));
        assert_eq!(seed.project_name.as_deref(), Some("webroot"));
        assert_eq!(seed.signing_date.as_ref().unwrap().value, Some(d(2026, 11, 20)));
        assert_eq!(seed.node_count(), Some(3));
        assert_eq!(seed.project_version.as_ref().unwrap().value, Some(Version { major: 11, minor: 0 }));
        assert_eq!(seed.jar_version.as_ref().unwrap().value, Some(d(2023, 12, 14)));
        assert!(seed.special_requirements.is_none());
        assert!(codes(&seed, Some(LicenseKind::LocalContainer)).is_empty());

        let zh = parse_body(include_str!("../../../fixtures/emails/bodies/chinese-fullwidth.txt"));
        assert_eq!(zh.company_name.as_deref(), Some("上海示例信息技术有限公司"));
        assert_eq!(zh.project_name.as_deref(), Some("decision"));
        assert_eq!(zh.signing_date.as_ref().unwrap().value, Some(d(2026, 11, 3)));
        assert_eq!(zh.method.as_ref().unwrap().value, Some(LicenseKind::LocalContainer));
        assert_eq!(zh.node_count(), Some(2));
        assert_eq!(zh.project_version.as_ref().unwrap().value, Some(Version { major: 11, minor: 0 }));
        assert_eq!(zh.jar_version.as_ref().unwrap().value, Some(d(2024, 3, 8)));
        assert!(zh.special_requirements.is_none());
        assert!(codes(&zh, None).is_empty());

        let pc = parse_body(include_str!("../../../fixtures/emails/bodies/english-private-cloud-reply.txt"));
        assert_eq!(pc.company_name.as_deref(), Some("Contoso Analytics GmbH"));
        assert_eq!(pc.project_name.as_deref(), Some("bi-prod"));
        assert_eq!(pc.method.as_ref().unwrap().value, Some(LicenseKind::PrivateCloud));
        assert_eq!(pc.node_count(), Some(4));
        assert_eq!(pc.project_version.as_ref().unwrap().value, Some(Version { major: 6, minor: 1 }));
        assert_eq!(
            pc.special_requirements.as_deref(),
            Some("We need the license to also cover a disaster-recovery site\nthat is normally switched off.")
        );
        assert!(codes(&pc, None).is_empty());

        let fwd = parse_body(include_str!("../../../fixtures/emails/bodies/chinese-forwarded.txt"));
        assert!(fwd.from_earlier_message);
        assert_eq!(fwd.company_name.as_deref(), Some("北京某某科技有限公司"));
        assert_eq!(fwd.project_name.as_deref(), Some("webroot"));
        assert_eq!(fwd.signing_date.as_ref().unwrap().value, Some(d(2026, 11, 15)));
        assert_eq!(fwd.method.as_ref().unwrap().value, Some(LicenseKind::PrivateCloud));
        assert_eq!(fwd.node_count(), Some(1));
        assert_eq!(fwd.project_version.as_ref().unwrap().value, Some(Version { major: 6, minor: 0 }));
        assert!(fwd.special_requirements.is_none());
        assert!(codes(&fwd, None).is_empty());

        let cancel = include_str!("../../../fixtures/emails/bodies/english-cancel.txt");
        assert_eq!(classify("Re: new server", cancel), RequestKind::CancelRegistration);
        assert!(parse_body(cancel).is_empty());

        let bad = parse_body(include_str!("../../../fixtures/emails/bodies/english-bad-values.txt"));
        assert_eq!(bad.company_name.as_deref(), Some("Litware Ltd."));
        assert_eq!(
            codes(&bad, None),
            ["invalid_date", "unknown_method", "invalid_nodes", "invalid_version", "invalid_date"]
        );
        assert_eq!(bad.nodes.as_ref().unwrap().raw, "three");
        assert_eq!(bad.method.as_ref().unwrap().raw, "Cloud on premises");
    }

    #[test]
    fn label_hints_and_table_layouts() {
        let body = "Contract signing date (YYYY/MM/DD): 2026/11/20\n\
            合同签订日期（格式：YYYY年MM月DD日）：2026年11月21日\n\
            Maximum number of registration(s): 2\n\
            Registration method (Local Container Authentication / Private Cloud): Private Cloud\n\
            | Company name | Table Co. |\n\
            Project name\twebroot\n\
            Project version   11.0.3\n";
        let f = parse_body(body);
        assert_eq!(f.signing_date.unwrap().value, Some(d(2026, 11, 20)));
        assert_eq!(f.nodes.unwrap().value, Some(2));
        assert_eq!(f.method.unwrap().value, Some(LicenseKind::PrivateCloud));
        assert_eq!(f.company_name.as_deref(), Some("Table Co."));
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
        assert_eq!(f.project_version.unwrap().value, Some(Version { major: 11, minor: 0 }));
        // Two fields in one label are not a label.
        assert!(parse_body("Company name / Project name: x\n").is_empty());
        // A generic word followed by two spaces is not a label.
        assert!(parse_body("Project  was delayed\n").is_empty());
    }

    #[test]
    fn label_alone_then_value() {
        let f = parse_body("Company name\nAlone Co.\n\nJAR package version\n2024.01.02\nProject\nnot-a-label\n");
        assert_eq!(f.company_name.as_deref(), Some("Alone Co."));
        assert_eq!(f.jar_version.unwrap().value, Some(d(2024, 1, 2)));
        // `Project` alone is too generic to stand alone.
        assert!(f.project_name.is_none());
    }

    #[test]
    fn invisible_characters_and_emphasis() {
        let f = parse_body("\u{FEFF}**Company name:** **Bold Co.**\n\u{200B}Project name:\u{3000}webroot\u{200B}\n");
        assert_eq!(f.company_name.as_deref(), Some("Bold Co."));
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
    }

    #[test]
    fn thanks_mid_body_does_not_hide_special_requirements() {
        let body =
            "Project name: webroot\nThanks!\nSpecial requirements: two sites\n\nBest regards,\nAnn\nRemarks: sig\n";
        let f = parse_body(body);
        assert_eq!(f.special_requirements.as_deref(), Some("two sites"));
    }

    #[test]
    fn bottom_posted_reply_is_not_earlier() {
        let body = "On Mon, 12 Feb 2024, Bob wrote:\n> Project name: old\n\nProject name: new\n";
        let f = parse_body(body);
        assert_eq!(f.project_name.as_deref(), Some("new"));
        assert!(!f.from_earlier_message);
        let body = "在 2024年2月12日 10:22，张三 <zs@example.com> 写道：\n项目名称：旧\n";
        let f = parse_body(&format!("项目名称：新\n\n{body}"));
        assert_eq!(f.project_name.as_deref(), Some("新"));
        let body = "---------- 转发的邮件 ---------\n项目名称：转发\n";
        let f = parse_body(body);
        assert_eq!(f.project_name.as_deref(), Some("转发"));
        assert!(f.from_earlier_message);
    }

    #[test]
    fn subjects_are_not_guessed() {
        // No `of` and no possessive: no company.
        assert_eq!(parse_subject("Application for FineReport registration - Acme").company, None);
        assert_eq!(parse_subject("FineReport注册申请").company, None);
        let s = parse_subject("Fwd: FineReport: Acme's Registration");
        assert_eq!(s.company.as_deref(), Some("Acme"));
        assert_eq!(s.product, Some("FineReport"));
        // Full-width product letters.
        let s = parse_subject("关于（测试）公司注册ＦｉｎｅＢＩ的正式授权文件");
        assert_eq!(s.company.as_deref(), Some("（测试）公司"));
        assert_eq!(s.product, Some("FineBI"));
        let s = parse_subject("某公司ＦｉｎｅＲｅｐｏｒｔ注册");
        assert_eq!(s.company.as_deref(), Some("某公司"));
        assert_eq!(s.product, Some("FineReport"));
    }

    #[test]
    fn a_note_on_a_forwarded_request_is_kept() {
        let body = "Remarks: the customer wants a perpetual license\n\n\
            -------- Forwarded Message --------\nCompany name: Customer Co.\nSpecial requirements: two sites\n";
        let f = parse_body(body);
        assert_eq!(f.company_name.as_deref(), Some("Customer Co."));
        assert!(f.from_earlier_message);
        assert_eq!(f.special_requirements.as_deref(), Some("the customer wants a perpetual license\n\ntwo sites"));
        // A note alone is still a field.
        let f = parse_body("特殊需求：加急\n");
        assert!(!f.is_empty());
        assert_eq!(f.special_requirements.as_deref(), Some("加急"));
        // A sentence naming the original mail is not a marker.
        let f = parse_body("请见原邮件中的信息。\n项目名称：webroot\n");
        assert!(!f.from_earlier_message);
    }

    #[test]
    fn never_panics_on_arbitrary_text() {
        let pieces = [
            "Company name",
            "项目名称",
            ":",
            "：",
            "\n",
            " ",
            "  ",
            "\t",
            "|",
            "(",
            "）",
            "（",
            ")",
            ">",
            "-- \n",
            "2026",
            "/",
            "-",
            ".",
            "年",
            "月",
            "日",
            "1",
            "99",
            "０",
            "ＦｉｎｅＢＩ",
            "FineReport",
            "'s Registration",
            "关于",
            "注册",
            "的",
            "wrote:",
            "发件人：",
            "---- 原始邮件 ----",
            "Special requirements",
            "无",
            "•",
            "1、",
            "①",
            "\u{FEFF}",
            "\u{200B}",
            "*",
            "cancel ",
            "Re:",
            "[",
            "]",
            "【",
            "】",
            "é",
            "𝔘",
            "\r\n",
        ];
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut lengths = 0;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(next() % 40) {
                text.push_str(pieces[(next() % pieces.len() as u64) as usize]);
                lengths += 1;
            }
            let f = parse_body(&text);
            let _ = f.problems(None);
            let _ = parse_body(&pair_table_cells(&text));
            let _ = parse_date(&text);
            let _ = parse_subject(&text);
            let _ = classify(&text, &text);
        }
        assert!(lengths > 3000 * 10);
    }

    #[test]
    fn label_variants() {
        let body = "Contract Signature Date: 2026-03-04\nMax. number of registrations: 5\nFineBI version: 6.1\n\
            Build date: 2025/12/01\n";
        let f = parse_body(body);
        assert_eq!(f.signing_date.unwrap().value, Some(d(2026, 3, 4)));
        assert_eq!(f.nodes.unwrap().value, Some(5));
        assert_eq!(f.project_version.unwrap().value, Some(Version { major: 6, minor: 1 }));
        assert_eq!(f.jar_version.unwrap().value, Some(d(2025, 12, 1)));
        let f = parse_body("１．公司名称：全角编号\n");
        assert_eq!(f.company_name.as_deref(), Some("全角编号"));
        let f = parse_body("No. of nodes: 2\n最大注册数量：4\n");
        assert_eq!(f.nodes.as_ref().unwrap().value, Some(2));
        assert_eq!(f.repeated, [Field::Nodes]);
    }

    fn fresh(text: &str) -> Option<String> {
        RegistrationFields { fresh_text: text.to_owned(), ..RegistrationFields::default() }.fresh_request()
    }

    #[test]
    fn courtesy_above_a_quote_says_nothing() {
        for text in [
            "",
            "Hi,",
            "Dear FanRuan license team,\n\nPlease see below.\n\nBest regards,\nAlice Chen\nIT Department\nTel: +86 21 5555 0188",
            "Hi Lily, please find below our registration request. Thanks!",
            "Resending our request from last week, as we have not received the license yet.\n\nThanks,\nAlice",
            "FYI",
            "Hello all,\nForwarding the request below. Thank you in advance.\n\nSent from my iPhone",
            "您好，\n\n请查收，谢谢！\n\n张伟\n上海明远数据科技有限公司\n手机：138 0000 0000",
            "王经理，您好：\n见下，麻烦处理一下，谢谢。",
            "您好！之前的邮件没有回复，重新发送一下，请帮忙注册，谢谢。",
            "见下\n\n发自我的iPhone",
            "Please process the request below.\n[cid:image001.png@01DB3D4E.6A7B8C90]\nThis e-mail and any attachments are confidential. Please make sure you are the intended recipient.",
            "FYI - forwarding the request below from our plant IT team.",
            "Please see below.\n\nAlice Chen\nIT Department\nNorthwind Trading Co., Ltd.\nTel: +86 21 5555 0188",
            "张工：\n您好！\n烦请尽快处理，谢谢！",
            "Hi team,\n\nAny update on this? Sorry for the late reply.\n\nAlice",
            "Hello, just following up on the request below. Could you please issue the license? Thank you!",
            "Dear Sir/Madam,\n\nPlease find the request below.",
            "请问这个申请进度如何？",
            "Hi,\n\nForwarding as requested.\n\nBR,\nTom",
            "Hello FanRuan,\n\nPlease refer to the email below for our license registration. Appreciate your help!\n\n\
             Best Regards,\nTom Baker | BI Platform Lead\nM: +1 555 0100",
            "Hi team, resending since I didn't get a reply. Thanks",
            "Gentle reminder on the below.",
            "Kindly assist.",
            "您好：\n\n烦请查收下方的注册申请，谢谢！\n\n--\n赵磊",
            "您好，附件是我们的注册信息，请查收。",
            "麻烦帮忙尽快处理一下哈，我们这边比较急，谢谢！",
            "您好，上周发的申请还没有回复，麻烦看一下。",
            "转发一下，谢谢。",
        ] {
            assert_eq!(fresh(text), None, "{text:?}");
        }
    }

    #[test]
    fn new_text_that_asks_for_anything_counts() {
        for (text, line) in [
            ("Hi,\n\nPlease make it 2 nodes.\n\nThanks,\nAlice", "Please make it 2 nodes."),
            ("Hi, please make it 2 nodes", "Hi, please make it 2 nodes"),
            ("Use project webroot-bi instead.\nRegards", "Use project webroot-bi instead."),
            ("Not this project", "Not this project"),
            ("Thanks!\nPlease make it 2 nodes.", "Please make it 2 nodes."),
            ("您好，节点数改成2个，其他不变。\n谢谢", "您好，节点数改成2个，其他不变。"),
            ("项目名称换成 finance_bi，谢谢！", "项目名称换成 finance_bi，谢谢！"),
            (
                "Please see below. The server moved to the DR room.",
                "Please see below. The server moved to the DR room.",
            ),
            ("Please see below.\n\nfinance_bi", "finance_bi"),
            ("见下\n\n财务分析平台二期", "财务分析平台二期"),
            ("Please change the project name to finance_bi.", "Please change the project name to finance_bi."),
            ("The JAR version is 2024.06.18 now.", "The JAR version is 2024.06.18 now."),
            ("Sorry, wrong project. It should be bi-prod.", "Sorry, wrong project. It should be bi-prod."),
            ("Same as below but for our test server.", "Same as below but for our test server."),
            ("请把节点数改为3。", "请把节点数改为3。"),
            ("同上", "同上"),
            (
                "Please ignore the previous mail and use the info below.",
                "Please ignore the previous mail and use the info below.",
            ),
            ("Hi, see below. Note the project name changed.", "Hi, see below. Note the project name changed."),
            ("Please issue for 2 nodes only.", "Please issue for 2 nodes only."),
            ("上次的申请作废，以这封为准。", "上次的申请作废，以这封为准。"),
            ("Please register the license below for 2 years.", "Please register the license below for 2 years."),
        ] {
            assert_eq!(fresh(text).as_deref(), Some(line), "{text:?}");
        }
    }

    #[test]
    fn exceptions_in_sentences() {
        for s in [
            "Could we get 5 nodes, more than the contract, for the migration?",
            "Is it possible to extend the license to the end of next year?",
            "We would like a temporary license while the contract is signed.",
            "Please issue a trial license for FineBI as well.",
            "Urgent: if the contract is not ready, send one for a month first.",
            "能否先发一个临时授权？",
            "希望授权期限延长到明年底。",
            "麻烦把授权延长三个月",
            "合同还没盖章，先给一个授权，特批一下。",
            "加急，如果合同没到先处理。",
        ] {
            assert!(asks_for_exception(s), "{s}");
        }
        for s in [
            "Please issue the license, thanks.",
            "Please register the license for our reporting server.",
            "请帮忙注册，谢谢",
            "请尽快处理，谢谢！",
            "No special requirements.",
            "无特殊要求。",
            "Dear FanRuan license team,",
            "IT Department, Northwind Trading Co., Ltd.",
            "Please treat this urgently.",
            "If possible, please issue it today.",
            "我们今天上线，如果可以请尽快处理。",
        ] {
            assert!(!asks_for_exception(s), "{s}");
        }
    }

    #[test]
    fn an_exception_outside_the_fields_is_kept_and_politeness_is_not() {
        let f = parse_body(&format!("Hello,\n\nIs it possible to extend the license until 2028?\n\n{SEED}"));
        assert_eq!(f.exception_requests, ["Is it possible to extend the license until 2028?"]);
        let f = parse_body(&format!("您好，请帮忙注册，谢谢！\n\n{SEED}"));
        assert!(f.exception_requests.is_empty(), "{f:?}");
        // A field value is not free text: a project called "trial" asks nothing.
        let f = parse_body("Project name: trial\nCompany name: X\n");
        assert!(f.exception_requests.is_empty(), "{f:?}");
        // In the forwarded request the fields come from, too.
        let body =
            "FYI\n\n-------- Forwarded Message --------\n能否先给一个临时授权？\n公司名称：某公司\n项目名称：webroot\n";
        let f = parse_body(body);
        assert!(f.from_earlier_message);
        assert_eq!(f.exception_requests, ["能否先给一个临时授权？"]);
        assert_eq!(f.fresh_text, "FYI");
        // The subject.
        let (f, _) = parse_request("关于某公司注册FineReport的临时授权申请", "公司名称：某公司\n");
        assert_eq!(f.exception_requests, ["关于某公司注册FineReport的临时授权申请"]);
        // A disclaimer is not the customer's words.
        let f = parse_body(
            "Company name: X\nProject name: y\n\nCONFIDENTIAL: this message is not a temporary license request.\n",
        );
        assert!(f.exception_requests.is_empty(), "{f:?}");
    }

    #[test]
    fn notes_under_more_labels_and_none_notes() {
        for label in
            ["Note", "Notes", "Remarks", "特殊情况说明", "特殊情况", "备注", "Special circumstances", "其他说明"]
        {
            let f = parse_body(&format!("Project name: x\n{label}: two sites\n"));
            assert_eq!(f.special_requirements.as_deref(), Some("two sites"), "{label}");
        }
        for none in ["无", "暂无", "无，谢谢", "无\n谢谢！", "N/A", "none, thanks", "没有特殊要求", "不涉及", "--"]
        {
            let f = parse_body(&format!("Project name: x\n备注：{none}\n"));
            assert!(f.special_requirements.is_none(), "{none:?}: {f:?}");
        }
        let f = parse_body("Project name: x\n备注：无。另需延长一年\n");
        assert_eq!(f.special_requirements.as_deref(), Some("无。另需延长一年"));
    }

    #[test]
    fn fresh_text_is_the_text_outside_earlier_messages() {
        let body = "Please make it 2 nodes.\n\nOn Mon, 23 Nov 2026, Alice wrote:\n> Company name: X\n> Project name: webroot\n";
        let f = parse_body(body);
        assert!(f.from_earlier_message);
        assert_eq!(f.fresh_text, "Please make it 2 nodes.");
        assert_eq!(f.fresh_request().as_deref(), Some("Please make it 2 nodes."));
        // Fields in the fresh text: it holds them too, and nothing is from earlier.
        assert!(!parse_body(SEED).from_earlier_message);
        assert!(parse_body(SEED).fresh_text.contains("Project name: webroot"));
    }

    #[test]
    fn a_partial_correction_above_a_quoted_request_reads_the_quoted_one() {
        let body = "Project name: finance_bi\n\nOn Mon, 23 Nov 2026, Alice wrote:\n> Company name: X\n> Project name: webroot\n\
            > Maximum number of registration: 2\n";
        let f = parse_body(body);
        assert!(f.from_earlier_message);
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
        assert_eq!(f.fresh_request().as_deref(), Some("Project name: finance_bi"));
        // A whole request in the fresh text is read as it stands.
        let f = parse_body(&format!("{SEED}\nOn Mon, Alice wrote:\n> Company name: X\n> Project name: old\n"));
        assert!(!f.from_earlier_message);
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
    }

    #[test]
    fn two_requests_in_one_mail() {
        let body = "公司名称：某公司\n合同签订日期：2026/11/20\n\n项目一：\n项目名称：webroot\n集群节点数：2\n\n\
            项目二：\n项目名称：finance\n集群节点数：1\n";
        let f = parse_body(body);
        assert_eq!(f.requests.len(), 2, "{f:?}");
        assert_eq!(f.requests[0].get(Field::ProjectName), Some("webroot"));
        assert_eq!(f.requests[1].get(Field::ProjectName), Some("finance"));
        assert_eq!(f.requests[1].get(Field::Nodes), Some("1"));
        assert_eq!(f.project_name.as_deref(), Some("webroot"), "the first value is kept");
        // Two full field sets in English.
        let second = SEED.replace("webroot", "webroot-dr").replace("registration: 3", "registration: 1");
        let f = parse_body(&format!("{SEED}\n{second}"));
        assert_eq!(f.requests.len(), 2, "{f:?}");
        // One project name listing two projects.
        let f = parse_body("Company name: X\nProject name: webroot、webroot_dr\nNumber of nodes: 2\n");
        let projects: Vec<_> = f.requests.iter().map(|r| r.get(Field::ProjectName).unwrap()).collect();
        assert_eq!(projects, ["webroot", "webroot_dr"]);
        let f = parse_body("Company name: X\nProject name: webroot and webroot-dr\n");
        assert_eq!(f.requests.len(), 2, "{f:?}");
        for one in ["Sales and Marketing Dashboard", "webroot, webroot", "R&D"] {
            let f = parse_body(&format!("Company name: X\nProject name: {one}\n"));
            assert!(f.requests.is_empty(), "{one}: {f:?}");
        }
        // A correction of one field is not a second request.
        let f = parse_body(&format!("{SEED}Project name: webroot-2\n"));
        assert!(f.requests.is_empty());
        assert_eq!(f.repeated, [Field::ProjectName]);
        // The same request written twice (English, then Chinese) is one.
        let body = "Company name: Northwind Trading Co., Ltd.\nProject name: webroot\nMaximum number of registration: 3\n\
            公司名称：Northwind Trading Co.,Ltd\n项目名称：webroot\n集群节点数：3个\n";
        let f = parse_body(body);
        assert!(f.requests.is_empty() && f.repeated.is_empty(), "{f:?}");
    }

    #[test]
    fn bilingual_labels_in_every_order() {
        for label in [
            "公司名称 Company name",
            "Company name 公司名称",
            "Company name / 公司名称",
            "公司名称/Company Name",
            "公司名称（Company name）",
            "Company name (公司名称)",
            "公司名称Company name",
            "1. 公司名称",
            "一、公司名称",
            "（一）公司名称",
            "(二) Company name",
            "三．公司名称 Company Name",
            "**Company name**",
            "*Company name",
        ] {
            for colon in [":", "：", " :", ""] {
                let body = if colon.is_empty() {
                    format!("{label}\tAcme 有限公司\n")
                } else {
                    format!("{label}{colon} Acme 有限公司\n")
                };
                assert_eq!(parse_body(&body).company_name.as_deref(), Some("Acme 有限公司"), "{body:?}");
            }
        }
        let f = parse_body("JAR包版本 JAR package version：2024.03.08\n节点数 Nodes: 2\n");
        assert_eq!(f.jar_version.unwrap().value, Some(d(2024, 3, 8)));
        assert_eq!(f.nodes.unwrap().value, Some(2));
        // Gmail's plain text of bold: `*Company name:* Acme`.
        let f = parse_body("*Company name:* Gmail Co.\n*Project name:*  webroot\n");
        assert_eq!(f.company_name.as_deref(), Some("Gmail Co."));
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
        // Two fields' labels, or a label and an unknown word, are no label.
        assert!(parse_body("公司名称 Project name: x\n").is_empty());
        assert!(parse_body("公司 Company name: x\n").is_empty());
        assert!(parse_body("一些公司名称: x\n").is_empty());
    }

    #[test]
    fn a_dash_after_a_specific_label() {
        let f = parse_body("Company Name - Acme Ltd.\nProject name – webroot\n");
        assert_eq!(f.company_name.as_deref(), Some("Acme Ltd."));
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
        // `Project - ...` is too generic to be a label.
        assert!(parse_body("Project - we moved the server\n").is_empty());
    }

    #[test]
    fn table_rows_become_pairs() {
        // Two pairs side by side, a label in two cells, a colon cell.
        let text = "Company name\tAcme\tProject name\twebroot\n公司名称\tCompany name\tAcme\n\
            合同签订日期\t:\t2026/11/20\nSomething\telse\n";
        let paired = pair_table_cells(text);
        assert_eq!(
            paired,
            "Company name\tAcme\nProject name\twebroot\n公司名称 Company name\tAcme\n\
             合同签订日期\t:\t2026/11/20\nSomething\telse\n"
        );
        let f = parse_body(&paired);
        assert_eq!(f.company_name.as_deref(), Some("Acme"));
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
        assert_eq!(f.signing_date.unwrap().value, Some(d(2026, 11, 20)));
        // A table laid out in columns: labels in the header row, values below.
        let text = "序号\t公司名称\t项目名称\t节点数\n1\t上海明远数据科技有限公司\twebroot\t2\n";
        let paired = pair_table_cells(text);
        assert_eq!(paired, "公司名称\t上海明远数据科技有限公司\n项目名称\twebroot\n节点数\t2\n");
        // Two rows of values: two requests, set apart, the fields repeated.
        let text = "Company name\tProject name\nA Co.\tone\nA Co.\ttwo\n";
        let f = parse_body(&pair_table_cells(text));
        assert_eq!(f.project_name.as_deref(), Some("one"));
        assert_eq!(f.repeated, [Field::ProjectName]);
        // A label with two values side by side: both are kept, so that the
        // second shows as a repeated field (two requests are never one).
        let f = parse_body(&pair_table_cells("Project name\tone\ttwo\nCompany name\tA\n"));
        assert_eq!(f.project_name.as_deref(), Some("one"));
        assert_eq!(f.repeated, [Field::ProjectName]);
        // A header row alone is read as no field at all (not as a value).
        let f = parse_body(&pair_table_cells("Company name\tProject name\n"));
        assert!(f.company_name.is_none() && f.project_name.is_none(), "{f:?}");
        // The next cell after a spacer is the value.
        assert_eq!(parse_body("Company name\t\tSpacer Co.\n").company_name.as_deref(), Some("Spacer Co."));
        // Text without tabs is not touched.
        assert!(matches!(pair_table_cells("Company name: A\n"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn day_first_dates_only_when_unambiguous() {
        for (raw, want) in [
            ("20/11/2026", d(2026, 11, 20)),
            ("11/20/2026", d(2026, 11, 20)),
            ("20.11.2026", d(2026, 11, 20)),
            ("1-20-2026", d(2026, 1, 20)),
            ("05/05/2026", d(2026, 5, 5)),
            ("２０/１１/２０２６ (DD/MM/YYYY)", d(2026, 11, 20)),
        ] {
            assert_eq!(parse_date(raw), Some(want), "{raw}");
        }
        for raw in ["05/08/2026", "13/13/2026", "31/02/2026", "20/11/26", "20/11-2026", "on 20/11/2026 or so"] {
            assert_eq!(parse_date(raw), None, "{raw}");
        }
        // Build dates are never read this way.
        assert_eq!(parse_build_date("20/11/2026"), None);
    }

    #[test]
    fn other_colons_and_qq_original_marker() {
        let f = parse_body(
            "公司名称∶甲公司
项目名称︰p
",
        );
        assert_eq!(f.company_name.as_deref(), Some("甲公司"));
        assert_eq!(f.project_name.as_deref(), Some("p"));
        let body = "Project name: new

------------------ Original ------------------
Project name: old
";
        assert_eq!(parse_body(body).project_name.as_deref(), Some("new"));
        let f = parse_body(
            "Please see below.
------------------ Original ------------------
Project name: old
",
        );
        assert!(f.from_earlier_message);
    }

    #[test]
    fn bracketed_labels_numeral_nodes_and_month_names() {
        let f = parse_body(
            "【公司名称】示例科技有限公司\n【项目名称】：webroot\n[Project version]: 11.0\n【节点数】两个节点\n",
        );
        assert_eq!(f.company_name.as_deref(), Some("示例科技有限公司"));
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
        assert_eq!(f.project_version.unwrap().value, Some(Version { major: 11, minor: 0 }));
        assert_eq!(f.nodes.unwrap().value, Some(2));
        assert!(parse_body("【通知】明天停机\n").is_empty());
        for (raw, n) in [("三", 3), ("两台", 2), ("十个节点", 10), ("一", 1)] {
            assert_eq!(parse_nodes(raw), Some(n), "{raw}");
        }
        for raw in ["十二", "三四", "三或四", "零"] {
            assert_eq!(parse_nodes(raw), None, "{raw}");
        }
        for raw in ["20 November 2026", "20 Nov. 2026", "November 20, 2026", "Nov 20th 2026", "Sept 20, 2026 (signed)"]
        {
            let want = if raw.starts_with("Sept") { d(2026, 9, 20) } else { d(2026, 11, 20) };
            assert_eq!(parse_date(raw), Some(want), "{raw}");
        }
        for raw in ["November 2026", "20 Nov 26", "Nov 31, 2026", "May be 2026", "20 11 2026", "Mayo 20 2026"] {
            assert_eq!(parse_date(raw), None, "{raw}");
        }
    }

    #[test]
    fn codes_and_names() {
        assert_eq!(Problem::MissingField(Field::JarVersion).code(), "missing_field_jar_version");
        assert_eq!(Problem::MissingField(Field::CompanyName).code(), "missing_field_company_name");
        assert_eq!(Problem::SubjectMissingCompany.code(), "subject_missing_company");
        assert_eq!(Field::SigningDate.name(), "signing_date");
        assert_eq!(RequestKind::CancelRegistration.code(), "cancel_registration");
    }

    #[test]
    fn short_labels_a_chinese_label_and_its_value_and_node_remarks() {
        let f = parse_body("公司名称:北京华信\n项目名称: 移动报表\n最大注册数 2\n节点：两台\n");
        assert_eq!(f.nodes.as_ref().and_then(|n| n.value), Some(2), "{f:?}");
        let f = parse_body("Signed: 2026/02/02\nJAR: 2024.05.09\nMethod: Local container\nMax nodes: 3\n");
        assert_eq!(f.signing_date.and_then(|d| d.value), Date::new(2026, 2, 2));
        assert_eq!(f.jar_version.and_then(|d| d.value), Date::new(2024, 5, 9));
        assert_eq!(f.method.and_then(|m| m.value), Some(LicenseKind::LocalContainer));
        assert_eq!(f.nodes.and_then(|n| n.value), Some(3));
        for (raw, n) in
            [("1 (single node)", Some(1)), ("2（主备）", Some(2)), ("3 (three)", Some(3)), ("2 (plus 1 standby)", None)]
        {
            assert_eq!(parse_nodes(raw), n, "{raw}");
        }
    }

    #[test]
    fn a_cover_note_asks_for_a_change_only_with_words_of_change() {
        assert!(!asks_for_change("Forwarding the request of our BI team (Alice is on leave).\nHotline +65 6123 4500"));
        assert!(!asks_for_change("Please find our registration request attached."));
        assert!(asks_for_change("Please make it 3 nodes."));
        assert!(asks_for_change("3 nodes please"));
        assert!(asks_for_change("项目名称应为 finance_bi"));
        assert!(is_forward_subject("FW: Official Authorization Document"));
        assert!(is_forward_subject("[External] 转发：关于注册"));
        assert!(!is_forward_subject("RE: Official Authorization Document"));
    }

    #[test]
    fn negations_and_the_upgraded_jar_ask_for_no_exception() {
        assert!(!asks_for_exception("No special circumstances on our side."));
        assert!(!asks_for_exception("您好，JAR包已升级，重新提交注册信息如下："));
        assert!(!asks_for_exception("我司项目希望使用私有云认证，注册信息如下："));
        assert!(asks_for_exception("能否先给一个临时授权？"));
        assert!(asks_for_exception("Could we upgrade to FineReport 12 under this contract?"));
    }

    #[test]
    fn a_disclaimer_never_makes_a_cancellation() {
        let body = "Company name: Fabrikam Data Services Inc.\nProject name: ops\n\nThis message may contain \
                    privileged information. If you are not the intended recipient, delete it. To cancel Fabrikam \
                    service notices or your registration reply UNSUBSCRIBE.\n";
        assert_eq!(
            classify("Official Authorization Document of Fabrikam's Registration for FineBI", body),
            RequestKind::Registration
        );
        assert_eq!(
            classify("Registration", "Please cancel the registration of our old server."),
            RequestKind::CancelRegistration
        );
    }
}
