//! What a person reads about a failing cause, in English and Simplified
//! Chinese (SPEC.md §4.2): the product's cause name (the **title**), the
//! **prompt** with the values that failed, and the **advice**, what to do
//! next.
//!
//! Static tables and `core::fmt` only: the texts are written into the
//! caller's formatter, so nothing is allocated and the same texts serve a
//! product without an allocator, the vendor's command line and its web pages.

use core::{fmt, str::FromStr};

use fanlic_formats::{Date, DecodeError, LicenseKind, Timestamp, Version};

use crate::cause::{Cause, ContentError, Revocation};

impl fmt::Display for Cause<'_> {
    /// The English message: the product's cause name, then the details
    /// ([`Cause::message`] in [`Lang::En`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.message(Lang::En).fmt(f)
    }
}

/// A language of the texts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Lang {
    /// English, the default.
    #[default]
    En,
    /// Simplified Chinese (简体中文).
    ZhCn,
}

/// A language tag names no language the texts are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownLang;

impl fmt::Display for UnknownLang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown language: use en or zh-CN")
    }
}

impl core::error::Error for UnknownLang {}

impl Lang {
    /// Every language, in the order tests and tables list them.
    pub const ALL: [Self; 2] = [Self::En, Self::ZhCn];

    /// The language of a BCP 47 tag, by its primary subtag, case-insensitive:
    /// `en`, `en-US` → English; `zh`, `zh-CN`, `zh-Hans`, `zh_CN` → Simplified
    /// Chinese (every `zh` tag: a reader of Traditional Chinese reads it
    /// better than English). `None` for any other language.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("en") {
            Some(Self::En)
        } else if primary.eq_ignore_ascii_case("zh") {
            Some(Self::ZhCn)
        } else {
            None
        }
    }

    /// The language an HTTP `Accept-Language` header prefers among ours: the
    /// highest `q`, the first listed on a tie; English when it names none of
    /// ours (or is malformed). `q=0` means "not this one".
    pub fn from_accept_language(header: &str) -> Self {
        let mut best: Option<(u16, Self)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Self::from_tag) else { continue };
            let q = parts.find_map(|p| p.trim().strip_prefix("q=")).map_or(Some(1000), parse_q);
            let Some(q) = q else { continue };
            if q > 0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map_or(Self::En, |(_, l)| l)
    }

    /// The tag: `en` or `zh-CN`.
    pub const fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhCn => "zh-CN",
        }
    }

    /// `en` or `zh` of a pair of texts.
    pub const fn pick(self, en: &'static str, zh: &'static str) -> &'static str {
        match self {
            Self::En => en,
            Self::ZhCn => zh,
        }
    }
}

/// An `Accept-Language` quality value in thousandths (`1`, `0.8`, `0.125`).
fn parse_q(q: &str) -> Option<u16> {
    let (int, frac) = q.trim().split_once('.').unwrap_or((q.trim(), ""));
    let int = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths = 0u16;
    for b in frac.bytes().chain(core::iter::repeat(b'0')).take(3) {
        thousandths = thousandths * 10 + u16::from(b - b'0');
    }
    let q = int + thousandths;
    (q <= 1000).then_some(q)
}

impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_tag(s).ok_or(UnknownLang)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// A date as the product shows it: `YYYY/MM/DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShownDate(pub Date);

impl fmt::Display for ShownDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}/{:02}/{:02}", self.0.year(), self.0.month(), self.0.day())
    }
}

/// An instant as the product shows it: `YYYY/MM/DD HH:MM:SS UTC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShownTime(pub Timestamp);

impl fmt::Display for ShownTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.0 % 86_400;
        write!(f, "{} {:02}:{:02}:{:02} UTC", ShownDate(self.0.date()), s / 3600, (s / 60) % 60, s % 60)
    }
}

/// The name of an authentication method (a license type) as the product's
/// registration page shows it.
pub const fn kind_name(kind: LicenseKind, lang: Lang) -> &'static str {
    match kind {
        LicenseKind::LocalContainer => lang.pick("Local Container", "本地容器"),
        LicenseKind::PrivateCloud => lang.pick("Private Cloud", "私有云"),
    }
}

// The product's cause names (its table of failed registration causes), then
// the one name of every other cause.
const LICENSE_EXPIRED: [&str; 2] = ["License Expired", "许可证已过期"];
const VERSION_MISMATCH: [&str; 2] = ["Version Mismatch", "版本不匹配"];
const APP_NAME_MISMATCH: [&str; 2] = ["App Name Mismatch", "应用名称不匹配"];
const LICENSE_EXHAUSTED: [&str; 2] = ["License Exhausted", "许可证节点数已用尽"];
const PROJECT_CONTENT_MISMATCH: [&str; 2] = ["Project Content Mismatch", "项目内容不匹配"];
const LICENSE_TYPE_MISMATCH: [&str; 2] = ["License Type/Version Mismatch", "许可证类型/版本不匹配"];
const CONTENT_INCORRECT: [&str; 2] = ["License content is incorrect", "许可证内容不正确"];

// Advice shared by several causes.
const ASK_FOR_NEW: [&str; 2] = [
    "This license can no longer be registered: contact the vendor's business staff for a new one.",
    "此许可证已无法注册，请联系商务人员申请新的许可证。",
];
const CHECK_FILE: [&str; 2] = [
    "Check that you uploaded the license file the vendor sent, unchanged; if you did, contact the vendor's business staff.",
    "请确认上传的是厂商发送的许可证文件且未经修改；如确认无误，请联系商务人员。",
];

const fn pick(lang: Lang, [en, zh]: [&'static str; 2]) -> &'static str {
    lang.pick(en, zh)
}

/// The title of every cause that is not in the product's table: "License
/// content is incorrect", whose prompt says which it is.
pub const fn content_incorrect_title(lang: Lang) -> &'static str {
    pick(lang, CONTENT_INCORRECT)
}

impl<'a> Cause<'a> {
    /// The product's name of the cause: License Expired, Version Mismatch,
    /// App Name Mismatch, License Exhausted, Project Content Mismatch,
    /// License Type/Version Mismatch, and "License content is incorrect" for
    /// every other cause (the prompt then says which).
    pub const fn title(&self, lang: Lang) -> &'static str {
        pick(
            lang,
            match self {
                Self::LicenseExpired { .. } => LICENSE_EXPIRED,
                Self::VersionMismatch { .. } => VERSION_MISMATCH,
                Self::AppNameMismatch { .. } => APP_NAME_MISMATCH,
                Self::LicenseExhausted { .. } => LICENSE_EXHAUSTED,
                Self::ProjectContentMismatch { .. } => PROJECT_CONTENT_MISMATCH,
                Self::LicenseTypeMismatch { .. } => LICENSE_TYPE_MISMATCH,
                Self::NotYetValid { .. }
                | Self::ClockRollback { .. }
                | Self::Revoked { .. }
                | Self::ContentIncorrect(_) => CONTENT_INCORRECT,
            },
        )
    }

    /// The cause's details, with the values that failed (dates as
    /// `YYYY/MM/DD`), written by the caller's formatter.
    pub const fn prompt(&self, lang: Lang) -> Prompt<'_, 'a> {
        Prompt { cause: self, lang }
    }

    /// What to do next.
    pub const fn advice(&self, lang: Lang) -> Advice<'_, 'a> {
        Advice { cause: self, lang }
    }

    /// The title and the prompt on one line (English: `Title. Prompt`).
    pub const fn message(&self, lang: Lang) -> Message<'_, 'a> {
        Message { cause: self, lang }
    }
}

/// [`Cause::prompt`].
#[derive(Clone, Copy, Debug)]
pub struct Prompt<'c, 'a> {
    cause: &'c Cause<'a>,
    lang: Lang,
}

/// [`Cause::advice`].
#[derive(Clone, Copy, Debug)]
pub struct Advice<'c, 'a> {
    cause: &'c Cause<'a>,
    lang: Lang,
}

/// [`Cause::message`].
#[derive(Clone, Copy, Debug)]
pub struct Message<'c, 'a> {
    cause: &'c Cause<'a>,
    lang: Lang,
}

impl fmt::Display for Message<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = self.lang.pick(". ", "。");
        write!(f, "{}{sep}{}", self.cause.title(self.lang), self.cause.prompt(self.lang))
    }
}

/// "N node(s)" in English.
struct Nodes(u32);

impl fmt::Display for Nodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} node{}", self.0, if self.0 == 1 { "" } else { "s" })
    }
}

impl fmt::Display for Prompt<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let zh = self.lang == Lang::ZhCn;
        match *self.cause {
            Cause::LicenseExpired { expiry, .. } => {
                let label = self.lang.pick("Expiration date: ", "到期日期：");
                write!(f, "{label}{}", ShownDate(expiry))
            }
            Cause::VersionMismatch { licensed, local } if zh => {
                write!(f, "认证应用版本：{licensed}；本地应用版本：{local}")
            }
            Cause::VersionMismatch { licensed, local } => {
                write!(f, "Certified application version: {licensed}; local application version: {local}")
            }
            Cause::AppNameMismatch { licensed, local } if zh => {
                write!(f, "认证应用名称：{licensed}；本地应用名称：{local}")
            }
            Cause::AppNameMismatch { licensed, local } => {
                write!(f, "Authenticated application name: {licensed}; local application name: {local}")
            }
            Cause::LicenseExhausted { max_nodes, nodes } if zh => {
                write!(f, "集群有 {nodes} 个节点，超过了此许可证可注册的最大节点数 {max_nodes}")
            }
            Cause::LicenseExhausted { max_nodes, nodes } => write!(
                f,
                "The cluster has {}, more than the {max_nodes} this license can register at most",
                Nodes(nodes)
            ),
            Cause::ProjectContentMismatch { licensed, local } if zh => {
                write!(f, "认证项目内容：{licensed}；本地项目内容：{local}")
            }
            Cause::ProjectContentMismatch { licensed, local } => {
                write!(f, "Authenticated project content: {licensed}; local project content: {local}")
            }
            Cause::LicenseTypeMismatch { licensed, selected } if zh => write!(
                f,
                "所选认证方式（{}）与上传的许可证类型（{}）不匹配",
                kind_name(selected, self.lang),
                kind_name(licensed, self.lang)
            ),
            Cause::LicenseTypeMismatch { licensed, selected } => write!(
                f,
                "The selected authentication method ({}) does not match the uploaded license type ({})",
                kind_name(selected, self.lang),
                kind_name(licensed, self.lang)
            ),
            Cause::NotYetValid { not_before, .. } if zh => {
                write!(f, "许可证尚未生效：生效时间为 {}", ShownTime(not_before))
            }
            Cause::NotYetValid { not_before, .. } => {
                write!(f, "The license is not valid yet: it is valid from {}", ShownTime(not_before))
            }
            Cause::ClockRollback { now, last_seen, .. } if zh => {
                write!(f, "本服务器时钟为 {}，但此前已记录到 {}：时钟被调回过", ShownTime(now), ShownTime(last_seen))
            }
            Cause::ClockRollback { now, last_seen, .. } => write!(
                f,
                "This server's clock reads {}, but {} was already seen: the clock was set back",
                ShownTime(now),
                ShownTime(last_seen)
            ),
            Cause::Revoked { revocation, sequence } => revoked(f, self.lang, revocation, sequence),
            Cause::ContentIncorrect(e) => content(f, self.lang, &e),
        }
    }
}

fn revoked(f: &mut fmt::Formatter<'_>, lang: Lang, revocation: Revocation, sequence: u64) -> fmt::Result {
    match (revocation, lang) {
        (Revocation::License { license_id }, Lang::ZhCn) => {
            write!(f, "厂商已在吊销列表 {sequence} 中吊销此许可证（{license_id}）")
        }
        (Revocation::License { license_id }, _) => {
            write!(f, "The vendor revoked this license ({license_id}) in revocation list {sequence}")
        }
        (Revocation::IssuingKey { key_id }, Lang::ZhCn) => {
            write!(f, "厂商已在吊销列表 {sequence} 中吊销签发此许可证的签发密钥（{key_id}）")
        }
        (Revocation::IssuingKey { key_id }, _) => write!(
            f,
            "The vendor revoked the issuing key that signed this license ({key_id}) in revocation list {sequence}"
        ),
        (Revocation::LicenseAndIssuingKey { license_id, key_id }, Lang::ZhCn) => {
            write!(f, "厂商已在吊销列表 {sequence} 中吊销此许可证（{license_id}）及签发它的签发密钥（{key_id}）")
        }
        (Revocation::LicenseAndIssuingKey { license_id, key_id }, _) => write!(
            f,
            "The vendor revoked this license ({license_id}) and the issuing key that signed it ({key_id}) in revocation list {sequence}"
        ),
    }
}

fn content(f: &mut fmt::Formatter<'_>, lang: Lang, e: &ContentError) -> fmt::Result {
    let zh = lang == Lang::ZhCn;
    match *e {
        // The decoder's own words say which rule failed; they exist in
        // English only, so the Chinese text names the reason code instead.
        ContentError::Decode(DecodeError::Armor(_)) if zh => {
            write!(f, "上传的文件不是许可证文件（{}）", e.reason())
        }
        ContentError::Decode(d @ DecodeError::Armor(_)) => write!(f, "The uploaded file is not a license file ({d})"),
        ContentError::Decode(DecodeError::UnknownMagic) => f.write_str(
            lang.pick("The license file is in a format this product does not know", "本产品无法识别此许可证文件的格式"),
        ),
        ContentError::Decode(_) if zh => write!(f, "许可证文件已损坏或被修改（{}）", e.reason()),
        ContentError::Decode(d) => write!(f, "The license file is damaged or was edited ({d})"),
        ContentError::UnknownRootKey { root_key_id } if zh => {
            write!(f, "许可证由本产品不信任的根密钥 {root_key_id} 签署")
        }
        ContentError::UnknownRootKey { root_key_id } => {
            write!(f, "The license was signed under root key {root_key_id}, which this product does not trust")
        }
        ContentError::BadSignature => f.write_str(lang.pick(
            "The license's signature does not hold: the file was edited, or the vendor did not issue it",
            "许可证签名校验失败：文件被修改过，或不是厂商签发的",
        )),
        ContentError::IssuingKeyOutsideWindow { key_id, issued_at, not_before, not_after } if zh => write!(
            f,
            "签发密钥 {key_id} 只能在 {} 至 {} 期间签发许可证，但此许可证的签发时间为 {}",
            ShownTime(not_before),
            ShownTime(not_after),
            ShownTime(issued_at)
        ),
        ContentError::IssuingKeyOutsideWindow { key_id, issued_at, not_before, not_after } => write!(
            f,
            "Issuing key {key_id} may sign only from {} to {}, but the license says it was issued at {}",
            ShownTime(not_before),
            ShownTime(not_after),
            ShownTime(issued_at)
        ),
        ContentError::KindNotCertified { key_id, kind } if zh => {
            write!(f, "签发密钥 {key_id} 无权签发“{}”类型的许可证", kind_name(kind, lang))
        }
        ContentError::KindNotCertified { key_id, kind } => {
            write!(f, "Issuing key {key_id} is not certified to sign {} licenses", kind_name(kind, lang))
        }
    }
}

impl fmt::Display for Advice<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lang = self.lang;
        let zh = lang == Lang::ZhCn;
        match *self.cause {
            Cause::LicenseExpired { .. } => f.write_str(lang.pick(
                "Ask the vendor's business staff to renew the license, then upload the new license file.",
                "请联系商务人员续期许可证，然后上传新的许可证文件。",
            )),
            Cause::VersionMismatch { licensed, local } => {
                // A license names major.minor: ask for the local one's.
                let wanted = VersionAsked(Version::of_local(local), local);
                if zh {
                    write!(f, "请联系商务人员申请 {wanted} 版本的许可证，或在 {licensed} 版本的应用上注册。")
                } else {
                    write!(
                        f,
                        "Ask the vendor's business staff for a license of version {wanted}, or register on version {licensed} of the application."
                    )
                }
            }
            Cause::AppNameMismatch { local, .. } if zh => {
                write!(f, "请上传为 {local} 签发的许可证，或联系商务人员申请。")
            }
            Cause::AppNameMismatch { local, .. } => {
                write!(f, "Upload the license issued for {local}, or ask the vendor's business staff for one.")
            }
            Cause::LicenseExhausted { max_nodes, .. } if zh => {
                write!(f, "请将集群节点减少到 {max_nodes} 个以内，或联系商务人员申请节点数更多的许可证。")
            }
            Cause::LicenseExhausted { max_nodes, .. } => write!(
                f,
                "Reduce the cluster to at most {}, or ask the vendor's business staff for a license with more nodes.",
                Nodes(max_nodes)
            ),
            Cause::ProjectContentMismatch { licensed, .. } if zh => write!(
                f,
                "一个许可证只能注册一个项目：请在项目 {licensed} 中注册，或联系商务人员将许可证迁移到本项目。"
            ),
            Cause::ProjectContentMismatch { licensed, .. } => write!(
                f,
                "A license registers one project: register it in project {licensed}, or ask the vendor's business staff to move it to this project."
            ),
            Cause::LicenseTypeMismatch { licensed, selected } if zh => write!(
                f,
                "请选择“{}”认证方式，或联系商务人员申请“{}”类型的许可证。",
                kind_name(licensed, lang),
                kind_name(selected, lang)
            ),
            Cause::LicenseTypeMismatch { licensed, selected } => write!(
                f,
                "Select {} as the authentication method, or ask the vendor's business staff for a {} license.",
                kind_name(licensed, lang),
                kind_name(selected, lang)
            ),
            Cause::NotYetValid { .. } => f.write_str(lang.pick(
                "Check this server's date and time; if they are right, register again after that time.",
                "请检查本服务器的日期和时间；如无误，请在生效时间之后重新注册。",
            )),
            Cause::ClockRollback { .. } => f.write_str(lang.pick(
                "Correct this server's date and time, then register again.",
                "请校正本服务器的日期和时间，然后重新注册。",
            )),
            Cause::Revoked { .. } => f.write_str(pick(lang, ASK_FOR_NEW)),
            Cause::ContentIncorrect(_) => f.write_str(pick(lang, CHECK_FILE)),
        }
    }
}

/// The version to ask for: the local version's major.minor, else as given.
struct VersionAsked<'a>(Option<Version>, &'a str);

impl fmt::Display for VersionAsked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str(self.1),
        }
    }
}
