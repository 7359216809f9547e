//! The license payload as a validated domain value (SPEC.md §3.3).

use core::{fmt, str::FromStr};

#[cfg(feature = "alloc")]
use crate::envelope::labelled;
use crate::{Date, DecodeError, LICENSE_SIGNATURE_LABEL, LicenseId, Timestamp, canonical, wire};
#[cfg(feature = "alloc")]
use alloc::vec::Vec;

/// Which authentication method a license is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LicenseKind {
    /// Local container authentication: `Container.lic`.
    LocalContainer,
    /// Container private cloud: the authorization server image.
    PrivateCloud,
}

impl LicenseKind {
    /// The text form used in the CLI, JSON and SPEC.md.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LocalContainer => "local-container",
            Self::PrivateCloud => "private-cloud",
        }
    }
}

impl fmt::Display for LicenseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LicenseKind {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local-container" => Ok(Self::LocalContainer),
            "private-cloud" => Ok(Self::PrivateCloud),
            _ => Err("expected `local-container` or `private-cloud`"),
        }
    }
}

/// A licensed version, major.minor (SPEC.md §3.3). A product's local version
/// matches when its major and minor are equal: 11.0.20 matches 11.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    /// Major.
    pub major: u16,
    /// Minor.
    pub minor: u16,
}

/// Why a version did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseVersionError;

impl fmt::Display for ParseVersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected a version such as 11.0 (major.minor)")
    }
}

fn parse_u16(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl Version {
    /// The major.minor of a product's local version (`11.0`, `11.0.20`,
    /// `11.0.20-build`), or `None` if it does not start with two numbers.
    pub fn of_local(local: &str) -> Option<Self> {
        let mut parts = local.splitn(3, '.');
        let major = parse_u16(parts.next()?)?;
        let minor_part = parts.next()?;
        // `11.0-rc` has no patch part but a suffix; the minor ends at the first non-digit.
        let end = minor_part.find(|c: char| !c.is_ascii_digit()).unwrap_or(minor_part.len());
        let minor = parse_u16(minor_part.get(..end)?)?;
        Some(Self { major, minor })
    }

    /// Whether a product reporting `local` runs this licensed version.
    pub fn matches_local(self, local: &str) -> bool {
        Self::of_local(local) == Some(self)
    }
}

impl FromStr for Version {
    type Err = ParseVersionError;
    /// Exactly `MAJOR.MINOR`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, b) = s.split_once('.').ok_or(ParseVersionError)?;
        Ok(Self { major: parse_u16(a).ok_or(ParseVersionError)?, minor: parse_u16(b).ok_or(ParseVersionError)? })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// When a license ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expiry {
    /// Perpetual.
    Never,
    /// Valid through the end of this UTC day; expired from the next day's
    /// first second.
    On(Date),
}

impl Expiry {
    /// Whether the license has expired at `now`.
    pub fn is_expired_at(self, now: Timestamp) -> bool {
        match self {
            Self::Never => false,
            Self::On(d) => now >= d.end(),
        }
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Never => f.write_str("never"),
            Self::On(d) => d.fmt(f),
        }
    }
}

/// How a license is activated (SPEC.md §3.3, `activation_policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ActivationPolicy {
    /// The 6-digit code: the default, and every license without the field.
    /// The license carries its activation key.
    #[default]
    Code,
    /// A vendor-signed receipt (SPEC.md §6.4). The license carries only the
    /// challenge key, which authenticates challenges but makes no code and no
    /// receipt.
    Receipt,
}

impl ActivationPolicy {
    /// The text form used in the CLI, JSON and SPEC.md.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Receipt => "receipt",
        }
    }
}

impl fmt::Display for ActivationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActivationPolicy {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "code" => Ok(Self::Code),
            "receipt" => Ok(Self::Receipt),
            _ => Err("expected `code` or `receipt`"),
        }
    }
}

/// The application names an issuer may write in `app_name`, in their exact
/// spelling (SPEC.md §3.3): the list is closed for issuers. A verifier does
/// not check it: it compares `app_name` with the product's own name exactly,
/// so any other name is `app_name_mismatch`, not a decode error.
pub const APP_NAMES: [&str; 2] = ["FineReport", "FineBI"];

/// Longest app name, in bytes.
pub const MAX_APP_NAME_LEN: usize = 64;
/// Longest company or project name, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// Longest activation base URL, in bytes.
pub const MAX_URL_LEN: usize = 512;

/// A validated license payload. Only [`License::decode`] and
/// [`License::from_wire`] make one, and both apply every rule of SPEC.md §3.3.
/// It says nothing about signatures: a verifier wraps it in `Verified`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct License<'a> {
    /// The license id.
    pub id: LicenseId,
    /// Authentication method.
    pub kind: LicenseKind,
    /// Application name, e.g. `FineReport`.
    pub app_name: &'a str,
    /// Company.
    pub company: &'a str,
    /// Project name ("project content").
    pub project: &'a str,
    /// Contract signing date.
    pub contract_signed: Date,
    /// When the issuer signed.
    pub issued_at: Timestamp,
    /// Not valid before.
    pub not_before: Timestamp,
    /// Expiry.
    pub expiry: Expiry,
    /// Licensed version.
    pub version: Version,
    /// Max cluster nodes (at least 1).
    pub max_nodes: u32,
    /// Per-license activation key. Secret-ish: never shown by tools.
    pub activation_key: Option<[u8; 32]>,
    /// Activation service base URL.
    pub activation_base_url: Option<&'a str>,
    /// Image public key (private cloud).
    pub image_public_key: Option<[u8; 32]>,
    /// License this one replaces.
    pub supersedes: Option<LicenseId>,
    /// SHA-256 of the request mail.
    pub request_email_sha256: Option<[u8; 32]>,
    /// How the license is activated; `Code` when the payload has no
    /// `activation_policy` field. Under `Receipt`, `activation_key` holds
    /// the challenge key (SPEC.md §3.3).
    pub activation_policy: ActivationPolicy,
}

impl fmt::Debug for License<'_> {
    // By hand so that the activation key never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("License")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("app_name", &self.app_name)
            .field("company", &self.company)
            .field("project", &self.project)
            .field("contract_signed", &self.contract_signed)
            .field("issued_at", &self.issued_at)
            .field("not_before", &self.not_before)
            .field("expiry", &self.expiry)
            .field("version", &self.version)
            .field("max_nodes", &self.max_nodes)
            .field("activation_key", &self.activation_key.map(|_| "<redacted>"))
            .field("activation_base_url", &self.activation_base_url)
            .field("image_public_key", &self.image_public_key.is_some())
            .field("supersedes", &self.supersedes)
            .field("request_email_sha256", &self.request_email_sha256.is_some())
            .field("activation_policy", &self.activation_policy)
            .finish()
    }
}

/// Bidirectional formatting characters (Unicode UAX #9): SPEC.md §3.3.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn text(field: &'static str, s: &str, max: usize) -> Result<(), DecodeError> {
    let invalid = |rule| Err(DecodeError::Invalid { field, rule });
    if s.is_empty() {
        return invalid("is empty");
    }
    if s.len() > max {
        return invalid("is too long");
    }
    if s.chars().any(char::is_control) {
        return invalid("contains a control character");
    }
    if s.chars().any(is_bidi_control) {
        // Right-to-left overrides can make a name read as another on screen.
        return invalid("contains a bidirectional formatting character");
    }
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return invalid("has leading or trailing white space");
    }
    Ok(())
}

fn date(field: &'static str, d: wire::Date) -> Result<Date, DecodeError> {
    Date::new(d.year, d.month, d.day).ok_or(DecodeError::Invalid { field, rule: "is not a date from 1970 to 9999" })
}

impl<'a> License<'a> {
    /// Decodes a license's signed message (label || canonical payload) and
    /// applies SPEC.md §3.3's rules.
    pub fn decode(message: &'a [u8]) -> Result<Self, DecodeError> {
        let body = message
            .strip_prefix(LICENSE_SIGNATURE_LABEL)
            .ok_or(DecodeError::Invalid { field: "license", rule: "does not start with its purpose label" })?;
        let (w, policy) = canonical::decode_trailing::<wire::LicensePayload<'a>, wire::ActivationPolicy>(body)?;
        let policy = match policy {
            None => ActivationPolicy::Code,
            Some(wire::ActivationPolicy::Receipt) => ActivationPolicy::Receipt,
            // Absence is the one encoding of `code`, so each license has one encoding.
            Some(wire::ActivationPolicy::Code) => {
                return Err(DecodeError::Invalid {
                    field: "activation_policy",
                    rule: "is `code`, written only by absence",
                });
            }
        };
        Self::from_wire_with_policy(&w, policy)
    }

    /// Validates a wire payload that has no `activation_policy` field (`Code`).
    pub fn from_wire(w: &wire::LicensePayload<'a>) -> Result<Self, DecodeError> {
        Self::from_wire_with_policy(w, ActivationPolicy::Code)
    }

    /// Validates a wire payload and its `activation_policy`.
    pub fn from_wire_with_policy(w: &wire::LicensePayload<'a>, policy: ActivationPolicy) -> Result<Self, DecodeError> {
        if policy == ActivationPolicy::Receipt && (w.activation_key.is_none() || w.activation_base_url.is_none()) {
            return Err(DecodeError::Invalid {
                field: "activation_policy",
                rule: "is `receipt` without an activation key and base URL",
            });
        }
        if w.license_id == [0; 16] {
            return Err(DecodeError::Invalid { field: "license_id", rule: "is all zero" });
        }
        text("app_name", w.app_name, MAX_APP_NAME_LEN)?;
        text("company", w.company, MAX_NAME_LEN)?;
        text("project", w.project, MAX_NAME_LEN)?;
        if w.max_nodes == 0 {
            return Err(DecodeError::Invalid { field: "max_nodes", rule: "is zero" });
        }
        if let Some(url) = w.activation_base_url {
            text("activation_base_url", url, MAX_URL_LEN)?;
            if !url.is_ascii() || url.contains(' ') {
                return Err(DecodeError::Invalid {
                    field: "activation_base_url",
                    rule: "is not a printable ASCII URL",
                });
            }
        }
        Ok(Self {
            id: LicenseId(w.license_id),
            kind: match w.kind {
                wire::Kind::LocalContainer => LicenseKind::LocalContainer,
                wire::Kind::PrivateCloud => LicenseKind::PrivateCloud,
            },
            app_name: w.app_name,
            company: w.company,
            project: w.project,
            contract_signed: date("contract_signed", w.contract_signed)?,
            issued_at: Timestamp(w.issued_at),
            not_before: Timestamp(w.not_before),
            expiry: match w.expiry {
                wire::Expiry::Never => Expiry::Never,
                wire::Expiry::On(d) => Expiry::On(date("expiry", d)?),
            },
            version: Version { major: w.version.major, minor: w.version.minor },
            max_nodes: w.max_nodes,
            activation_key: w.activation_key,
            activation_base_url: w.activation_base_url,
            image_public_key: w.image_public_key,
            supersedes: w.supersedes.map(LicenseId),
            request_email_sha256: w.request_email_sha256,
            activation_policy: policy,
        })
    }

    /// The trailing `activation_policy` field as written: `None` for `Code`.
    pub fn policy_to_wire(&self) -> Option<wire::ActivationPolicy> {
        match self.activation_policy {
            ActivationPolicy::Code => None,
            ActivationPolicy::Receipt => Some(wire::ActivationPolicy::Receipt),
        }
    }

    /// The wire form of this license (without `activation_policy`: see
    /// [`License::policy_to_wire`]).
    pub fn to_wire(&self) -> wire::LicensePayload<'a> {
        let d = |d: Date| wire::Date { year: d.year(), month: d.month(), day: d.day() };
        wire::LicensePayload {
            license_id: self.id.0,
            kind: match self.kind {
                LicenseKind::LocalContainer => wire::Kind::LocalContainer,
                LicenseKind::PrivateCloud => wire::Kind::PrivateCloud,
            },
            app_name: self.app_name,
            company: self.company,
            project: self.project,
            contract_signed: d(self.contract_signed),
            issued_at: self.issued_at.0,
            not_before: self.not_before.0,
            expiry: match self.expiry {
                Expiry::Never => wire::Expiry::Never,
                Expiry::On(x) => wire::Expiry::On(d(x)),
            },
            version: wire::Version { major: self.version.major, minor: self.version.minor },
            max_nodes: self.max_nodes,
            activation_key: self.activation_key,
            activation_base_url: self.activation_base_url,
            image_public_key: self.image_public_key,
            supersedes: self.supersedes.map(|i| i.0),
            request_email_sha256: self.request_email_sha256,
        }
    }
}

#[cfg(feature = "alloc")]
/// The message an issuing key signs for a license: label || payload.
pub fn encode_license_payload(payload: &wire::LicensePayload<'_>) -> Result<Vec<u8>, DecodeError> {
    let msg = labelled(LICENSE_SIGNATURE_LABEL, payload)?;
    License::decode(&msg)?;
    Ok(msg)
}

#[cfg(feature = "alloc")]
/// The message an issuing key signs for a license with an activation policy
/// (SPEC.md §3.3): label || payload || the trailing `activation_policy`,
/// which is written only for `Receipt` (absence means `Code`).
pub fn encode_license_payload_with_policy(
    payload: &wire::LicensePayload<'_>,
    policy: ActivationPolicy,
) -> Result<Vec<u8>, DecodeError> {
    let mut msg = labelled(LICENSE_SIGNATURE_LABEL, payload)?;
    if policy == ActivationPolicy::Receipt {
        msg.extend_from_slice(
            &postcard::to_allocvec(&wire::ActivationPolicy::Receipt).map_err(|_| DecodeError::Malformed)?,
        );
    }
    let decoded = License::decode(&msg)?;
    if decoded.activation_policy != policy {
        return Err(DecodeError::Malformed);
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_versions() {
        let v = Version { major: 11, minor: 0 };
        assert!(v.matches_local("11.0.20"));
        assert!(v.matches_local("11.0"));
        assert!(v.matches_local("11.0-rc1"));
        assert!(!v.matches_local("11.01x"));
        assert!(!v.matches_local("10.0"));
        assert!(!v.matches_local("11"));
        assert!(!v.matches_local(""));
        // SPEC.md §4.2's edges: numbers compare by value (leading zeros), the
        // minor is the longest run of ASCII digits, nothing but ASCII digits.
        assert!(v.matches_local("11.00.1"));
        assert!(v.matches_local("011.0"));
        assert!(v.matches_local("11.0x"));
        assert!(!v.matches_local("11.01"));
        assert!(!v.matches_local("\u{661}\u{661}.0"));
        assert!(!v.matches_local("11.\u{660}"));
        assert!(!v.matches_local("\u{ff11}\u{ff11}.0"));
        assert!(!v.matches_local("+11.0"));
        assert!(!v.matches_local(" 11.0"));
        assert!(!v.matches_local("11."));
        assert!(!v.matches_local("11.65536"));
        assert!(!v.matches_local("65547.0"));
        assert!(!v.matches_local("v11.0"));
        assert_eq!("11.0".parse(), Ok(v));
        assert_eq!("11.0.1".parse::<Version>(), Err(ParseVersionError));
    }

    #[test]
    fn expiry_is_end_of_day_utc() {
        let d = Date::new(2019, 2, 22).map(Expiry::On);
        let Some(e) = d else { return assert!(d.is_some()) };
        let end = 17_950 * 86_400;
        assert!(!e.is_expired_at(Timestamp(end - 1)));
        assert!(e.is_expired_at(Timestamp(end)));
        assert!(!Expiry::Never.is_expired_at(Timestamp(u64::MAX)));
    }
}
