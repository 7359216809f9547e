//! Failure causes, with stable codes (SPEC.md §4.2).

use core::fmt;

use fanlic_formats::{Date, DecodeError, KeyId, License, LicenseId, LicenseKind, RevocationList, Timestamp, Version};

/// Why a license's content is incorrect (cause `content_incorrect`): it does
/// not decode, or its chain of signatures does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentError {
    /// Armor, encoding or a field rule (SPEC.md §3).
    Decode(DecodeError),
    /// The certificate names a root key this product does not embed.
    UnknownRootKey {
        /// The root key id the certificate names.
        root_key_id: KeyId,
    },
    /// A signature does not hold. Deliberately says no more.
    BadSignature,
    /// The issuing key signed outside its certified window.
    IssuingKeyOutsideWindow {
        /// The issuing key.
        key_id: KeyId,
        /// When the license says it was signed.
        issued_at: Timestamp,
        /// Window start.
        not_before: Timestamp,
        /// Window end.
        not_after: Timestamp,
    },
    /// The issuing key is not certified for this kind of license.
    KindNotCertified {
        /// The issuing key.
        key_id: KeyId,
        /// The license's kind.
        kind: LicenseKind,
    },
}

impl ContentError {
    /// A stable snake_case name for the reason, for JSON and logs.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::Decode(DecodeError::Armor(_)) => "bad_armor",
            Self::Decode(DecodeError::UnknownMagic) => "unknown_format",
            Self::Decode(_) => "bad_encoding",
            Self::UnknownRootKey { .. } => "unknown_root_key",
            Self::BadSignature => "bad_signature",
            Self::IssuingKeyOutsideWindow { .. } => "issuing_key_outside_window",
            Self::KindNotCertified { .. } => "kind_not_certified",
        }
    }
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => e.fmt(f),
            Self::UnknownRootKey { root_key_id } => {
                write!(f, "signed under root key {root_key_id}, which this product does not trust")
            }
            Self::BadSignature => f.write_str("the signature does not hold"),
            Self::IssuingKeyOutsideWindow { key_id, issued_at, not_before, not_after } => write!(
                f,
                "issuing key {key_id} may sign from {not_before} to {not_after}, but the license says it was issued at {issued_at}"
            ),
            Self::KindNotCertified { key_id, kind } => {
                write!(f, "issuing key {key_id} is not certified to sign {kind} licenses")
            }
        }
    }
}

impl core::error::Error for ContentError {}

/// What a revocation list revokes that makes a license revoked (cause
/// `revoked`, SPEC.md §5): the license itself, the issuing key that signed
/// it, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation {
    /// The list revokes the license's id.
    License {
        /// The revoked license id.
        license_id: LicenseId,
    },
    /// The list revokes the issuing key that signed the license.
    IssuingKey {
        /// The revoked issuing key.
        key_id: KeyId,
    },
    /// The list revokes both the license's id and its issuing key.
    LicenseAndIssuingKey {
        /// The revoked license id.
        license_id: LicenseId,
        /// The revoked issuing key.
        key_id: KeyId,
    },
}

impl Revocation {
    /// What `list` revokes of a license `license_id` signed by the issuing
    /// key `key_id` (§5: a license the list names, or signed by a key it
    /// names), or `None`.
    #[must_use]
    pub fn by(list: &RevocationList<'_>, license_id: LicenseId, key_id: KeyId) -> Option<Self> {
        match (list.revokes_license(&license_id), list.revokes_key(&key_id)) {
            (true, true) => Some(Self::LicenseAndIssuingKey { license_id, key_id }),
            (true, false) => Some(Self::License { license_id }),
            (false, true) => Some(Self::IssuingKey { key_id }),
            (false, false) => None,
        }
    }
}

impl fmt::Display for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::License { license_id } => write!(f, "license {license_id}"),
            Self::IssuingKey { key_id } => write!(f, "issuing key {key_id}, which signed the license"),
            Self::LicenseAndIssuingKey { license_id, key_id } => {
                write!(f, "license {license_id} and issuing key {key_id}, which signed it")
            }
        }
    }
}

/// One failing cause. The order of the variants is the order causes are
/// reported in (SPEC.md §4.2): the product's table first, then fanlic's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause<'a> {
    /// `license_expired`.
    LicenseExpired {
        /// The expiration date.
        expiry: Date,
        /// The time of the check.
        now: Timestamp,
    },
    /// `version_mismatch`.
    VersionMismatch {
        /// Certified application version.
        licensed: Version,
        /// Local application version.
        local: &'a str,
    },
    /// `app_name_mismatch`.
    AppNameMismatch {
        /// Authentication application name.
        licensed: &'a str,
        /// Local application name.
        local: &'a str,
    },
    /// `license_exhausted`.
    LicenseExhausted {
        /// Nodes the license allows.
        max_nodes: u32,
        /// Nodes in the cluster now.
        nodes: u32,
    },
    /// `project_content_mismatch`.
    ProjectContentMismatch {
        /// Authentication project content.
        licensed: &'a str,
        /// Local project content.
        local: &'a str,
    },
    /// `license_type_mismatch`.
    LicenseTypeMismatch {
        /// The license's kind.
        licensed: LicenseKind,
        /// The authentication method selected.
        selected: LicenseKind,
    },
    /// `not_yet_valid`.
    NotYetValid {
        /// Valid from.
        not_before: Timestamp,
        /// The time of the check.
        now: Timestamp,
    },
    /// `clock_rollback`.
    ClockRollback {
        /// The time of the check.
        now: Timestamp,
        /// The latest time seen before.
        last_seen: Timestamp,
        /// Allowed difference.
        tolerance_secs: u64,
    },
    /// `revoked`: the revocation list the product supplied revokes the
    /// license or the issuing key that signed it (SPEC.md §5).
    Revoked {
        /// What is revoked.
        revocation: Revocation,
        /// The sequence number of the list that revokes it.
        sequence: u64,
    },
    /// `content_incorrect`: "License content is incorrect".
    ContentIncorrect(ContentError),
}

/// How many causes there are; [`Causes`] has a slot for each.
const SLOTS: usize = 10;

impl Cause<'_> {
    /// The stable snake_case code.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::LicenseExpired { .. } => "license_expired",
            Self::VersionMismatch { .. } => "version_mismatch",
            Self::AppNameMismatch { .. } => "app_name_mismatch",
            Self::LicenseExhausted { .. } => "license_exhausted",
            Self::ProjectContentMismatch { .. } => "project_content_mismatch",
            Self::LicenseTypeMismatch { .. } => "license_type_mismatch",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::ClockRollback { .. } => "clock_rollback",
            Self::Revoked { .. } => "revoked",
            Self::ContentIncorrect(_) => "content_incorrect",
        }
    }

    const fn slot(&self) -> usize {
        match self {
            Self::LicenseExpired { .. } => 0,
            Self::VersionMismatch { .. } => 1,
            Self::AppNameMismatch { .. } => 2,
            Self::LicenseExhausted { .. } => 3,
            Self::ProjectContentMismatch { .. } => 4,
            Self::LicenseTypeMismatch { .. } => 5,
            Self::NotYetValid { .. } => 6,
            Self::ClockRollback { .. } => 7,
            Self::Revoked { .. } => 8,
            Self::ContentIncorrect(_) => 9,
        }
    }
}

/// Every failing cause of one check, in the fixed order; needs no allocator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Causes<'a> {
    slots: [Option<Cause<'a>>; SLOTS],
}

impl<'a> Causes<'a> {
    pub(crate) const fn new() -> Self {
        Self { slots: [None; SLOTS] }
    }

    pub(crate) fn push(&mut self, cause: Cause<'a>) {
        if let Some(slot) = self.slots.get_mut(cause.slot()) {
            *slot = Some(cause);
        }
    }

    /// No cause at all.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    /// How many causes.
    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// The causes in order.
    pub fn iter(&self) -> impl Iterator<Item = &Cause<'a>> {
        self.slots.iter().flatten()
    }
}

/// A failed verification: every cause, and the license when its signatures
/// held (`None` when they did not: then its claims are not the vendor's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection<'a> {
    license: Option<License<'a>>,
    causes: Causes<'a>,
}

impl<'a> Rejection<'a> {
    pub(crate) const fn new(license: Option<License<'a>>, causes: Causes<'a>) -> Self {
        Self { license, causes }
    }

    /// The license, if its signatures held.
    pub fn license(&self) -> Option<&License<'a>> {
        self.license.as_ref()
    }

    /// The causes, in order.
    pub fn causes(&self) -> impl Iterator<Item = &Cause<'a>> {
        self.causes.iter()
    }

    /// All causes as a set.
    pub fn all(&self) -> &Causes<'a> {
        &self.causes
    }
}

impl fmt::Display for Rejection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.causes().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            c.fmt(f)?;
        }
        Ok(())
    }
}

impl core::error::Error for Rejection<'_> {}
