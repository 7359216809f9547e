//! The stable codes of a decision's reasons ([`ReasonCode`]): stored in
//! the decision's reasons, printed, and sorted into hold-type (staff
//! decide) and the others.

use core::fmt;
use core::str::FromStr;

/// A name that is no decision kind or [`ReasonCode`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownCode(pub String);

impl fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown code {:?}", self.0)
    }
}

impl core::error::Error for UnknownCode {}

/// Why a request was not issued as it stands, or what was done instead: the
/// stable code of a decision's reason, stored in its reasons and printed.
/// Hold-type codes ([`ReasonCode::is_hold`]) leave the request to staff; the
/// others reject it, or say what happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ReasonCode {
    /// No trusted DKIM/DMARC pass for the From domain (held, never issued).
    SenderUnauthenticated,
    /// A trusted DKIM/DMARC result says the From domain failed (rejected).
    SenderAuthFailed,
    /// No single From address.
    SenderNotSingle,
    /// The sender is not an address of the company's contract.
    SenderNotInContract,
    /// No contract of the company named.
    ContractNotFound,
    /// The company's contract is disabled.
    ContractDisabled,
    /// The company's contract has expired.
    ContractExpired,
    /// The company named is not the sender's contract's.
    CompanyMismatch,
    /// The signing date differs from the contract's.
    SigningDateMismatch,
    /// The registration method is not in the contract.
    MethodNotInContract,
    /// More nodes than the contract allows.
    NodesExceedContract,
    /// The version differs from the contract's.
    VersionMismatch,
    /// The JAR package is older than the licensing support.
    JarTooOld,
    /// The project name is not a valid name.
    InvalidProjectName,
    /// A special requirements note (held; staff may approve it).
    SpecialRequirements,
    /// A cancellation request (held).
    CancelRequest,
    /// Not a request the issuer knows (held).
    UnknownRequest,
    /// A field given twice with different values (held; approvable).
    RepeatedField,
    /// Fields read from a quoted message under new text (held; approvable).
    FieldsFromQuotedMessage,
    /// No field read from a mail that speaks of them (held).
    FieldsNotRead,
    /// Two requests in one mail (held).
    MultipleRequests,
    /// A private-cloud license, with no image builder (held).
    ImageBuilderUnavailable,
    /// A migration or destroy request without `privateConfig`.
    PrivateConfigMissing,
    /// A `privateConfig` that does not verify.
    PrivateConfigInvalid,
    /// A `privateConfig` of a license this home does not know.
    PrivateConfigUnknownLicense,
    /// A `privateConfig` of a license that is not private cloud.
    PrivateConfigNotPrivateCloud,
    /// A `privateConfig` of another company's license (held).
    PrivateConfigForeign,
    /// The license to migrate or destroy is revoked already.
    LicenseAlreadyRevoked,
    /// The license to migrate or destroy has expired.
    LicenseExpired,
    /// The project has a live license with other terms (held).
    LicenseExists,
    /// A project that looks like a live one (held).
    SimilarProject,
    /// The contract's count of projects is reached.
    MaxLicensesReached,
    /// The live license was sent again.
    Resent,
    /// The live license was sent less than a day ago: not again.
    ResendLimited,
    /// A resend of a held request, joined to it.
    JoinedHeld,
    /// The request lacks fields.
    IncompleteRequest,
    /// `Company name` is missing.
    MissingFieldCompanyName,
    /// `Project name` is missing.
    MissingFieldProjectName,
    /// `Contract signing date` is missing.
    MissingFieldSigningDate,
    /// `Registration method` is missing.
    MissingFieldMethod,
    /// `Number of nodes` is missing.
    MissingFieldNodes,
    /// `Project version` is missing.
    MissingFieldVersion,
    /// `JAR package version` is missing.
    MissingFieldJarVersion,
    /// `Special requirements` is missing.
    MissingFieldSpecialRequirements,
    /// A date that is no real date.
    InvalidDate,
    /// A registration method not known.
    UnknownMethod,
    /// A node count that is no whole number of at least 1.
    InvalidNodes,
    /// A version without major.minor.
    InvalidVersion,
    /// The subject does not name the company.
    SubjectMissingCompany,
    /// The subject does not name the product.
    SubjectMissingProduct,
    /// The message is over the size limit.
    MessageTooLarge,
    /// The message could not be parsed.
    UnparseableMessage,
    /// An automatic mail (`Auto-Submitted`, an auto-reply header).
    AutoSubmitted,
    /// Bulk mail (`Precedence`).
    BulkMail,
    /// A bounce or delivery report.
    Bounce,
    /// The message was decided before.
    Duplicate,
    /// Staff rejected the held request.
    StaffRejected,
    /// A license revoked at the customer's request.
    LicenseRevoked,
}

impl ReasonCode {
    /// The stored (and printed) code.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReasonCode::SenderUnauthenticated => "sender_unauthenticated",
            ReasonCode::SenderAuthFailed => "sender_auth_failed",
            ReasonCode::SenderNotSingle => "sender_not_single",
            ReasonCode::SenderNotInContract => "sender_not_in_contract",
            ReasonCode::ContractNotFound => "contract_not_found",
            ReasonCode::ContractDisabled => "contract_disabled",
            ReasonCode::ContractExpired => "contract_expired",
            ReasonCode::CompanyMismatch => "company_mismatch",
            ReasonCode::SigningDateMismatch => "signing_date_mismatch",
            ReasonCode::MethodNotInContract => "method_not_in_contract",
            ReasonCode::NodesExceedContract => "nodes_exceed_contract",
            ReasonCode::VersionMismatch => "version_mismatch",
            ReasonCode::JarTooOld => "jar_too_old",
            ReasonCode::InvalidProjectName => "invalid_project_name",
            ReasonCode::SpecialRequirements => "special_requirements",
            ReasonCode::CancelRequest => "cancel_request",
            ReasonCode::UnknownRequest => "unknown_request",
            ReasonCode::RepeatedField => "repeated_field",
            ReasonCode::FieldsFromQuotedMessage => "fields_from_quoted_message",
            ReasonCode::FieldsNotRead => "fields_not_read",
            ReasonCode::MultipleRequests => "multiple_requests",
            ReasonCode::ImageBuilderUnavailable => "image_builder_unavailable",
            ReasonCode::PrivateConfigMissing => "private_config_missing",
            ReasonCode::PrivateConfigInvalid => "private_config_invalid",
            ReasonCode::PrivateConfigUnknownLicense => "private_config_unknown_license",
            ReasonCode::PrivateConfigNotPrivateCloud => "private_config_not_private_cloud",
            ReasonCode::PrivateConfigForeign => "private_config_foreign",
            ReasonCode::LicenseAlreadyRevoked => "license_already_revoked",
            ReasonCode::LicenseExpired => "license_expired",
            ReasonCode::LicenseExists => "license_exists",
            ReasonCode::SimilarProject => "similar_project",
            ReasonCode::MaxLicensesReached => "max_licenses_reached",
            ReasonCode::Resent => "resent",
            ReasonCode::ResendLimited => "resend_limited",
            ReasonCode::JoinedHeld => "joined_held",
            ReasonCode::IncompleteRequest => "incomplete_request",
            ReasonCode::MissingFieldCompanyName => "missing_field_company_name",
            ReasonCode::MissingFieldProjectName => "missing_field_project_name",
            ReasonCode::MissingFieldSigningDate => "missing_field_signing_date",
            ReasonCode::MissingFieldMethod => "missing_field_method",
            ReasonCode::MissingFieldNodes => "missing_field_nodes",
            ReasonCode::MissingFieldVersion => "missing_field_version",
            ReasonCode::MissingFieldJarVersion => "missing_field_jar_version",
            ReasonCode::MissingFieldSpecialRequirements => "missing_field_special_requirements",
            ReasonCode::InvalidDate => "invalid_date",
            ReasonCode::UnknownMethod => "unknown_method",
            ReasonCode::InvalidNodes => "invalid_nodes",
            ReasonCode::InvalidVersion => "invalid_version",
            ReasonCode::SubjectMissingCompany => "subject_missing_company",
            ReasonCode::SubjectMissingProduct => "subject_missing_product",
            ReasonCode::MessageTooLarge => "message_too_large",
            ReasonCode::UnparseableMessage => "unparseable_message",
            ReasonCode::AutoSubmitted => "auto_submitted",
            ReasonCode::BulkMail => "bulk_mail",
            ReasonCode::Bounce => "bounce",
            ReasonCode::Duplicate => "duplicate",
            ReasonCode::StaffRejected => "staff_rejected",
            ReasonCode::LicenseRevoked => "license_revoked",
        }
    }

    /// Every code.
    pub const ALL: [ReasonCode; 58] = [
        ReasonCode::SenderUnauthenticated,
        ReasonCode::SenderAuthFailed,
        ReasonCode::SenderNotSingle,
        ReasonCode::SenderNotInContract,
        ReasonCode::ContractNotFound,
        ReasonCode::ContractDisabled,
        ReasonCode::ContractExpired,
        ReasonCode::CompanyMismatch,
        ReasonCode::SigningDateMismatch,
        ReasonCode::MethodNotInContract,
        ReasonCode::NodesExceedContract,
        ReasonCode::VersionMismatch,
        ReasonCode::JarTooOld,
        ReasonCode::InvalidProjectName,
        ReasonCode::SpecialRequirements,
        ReasonCode::CancelRequest,
        ReasonCode::UnknownRequest,
        ReasonCode::RepeatedField,
        ReasonCode::FieldsFromQuotedMessage,
        ReasonCode::FieldsNotRead,
        ReasonCode::MultipleRequests,
        ReasonCode::ImageBuilderUnavailable,
        ReasonCode::PrivateConfigMissing,
        ReasonCode::PrivateConfigInvalid,
        ReasonCode::PrivateConfigUnknownLicense,
        ReasonCode::PrivateConfigNotPrivateCloud,
        ReasonCode::PrivateConfigForeign,
        ReasonCode::LicenseAlreadyRevoked,
        ReasonCode::LicenseExpired,
        ReasonCode::LicenseExists,
        ReasonCode::SimilarProject,
        ReasonCode::MaxLicensesReached,
        ReasonCode::Resent,
        ReasonCode::ResendLimited,
        ReasonCode::JoinedHeld,
        ReasonCode::IncompleteRequest,
        ReasonCode::MissingFieldCompanyName,
        ReasonCode::MissingFieldProjectName,
        ReasonCode::MissingFieldSigningDate,
        ReasonCode::MissingFieldMethod,
        ReasonCode::MissingFieldNodes,
        ReasonCode::MissingFieldVersion,
        ReasonCode::MissingFieldJarVersion,
        ReasonCode::MissingFieldSpecialRequirements,
        ReasonCode::InvalidDate,
        ReasonCode::UnknownMethod,
        ReasonCode::InvalidNodes,
        ReasonCode::InvalidVersion,
        ReasonCode::SubjectMissingCompany,
        ReasonCode::SubjectMissingProduct,
        ReasonCode::MessageTooLarge,
        ReasonCode::UnparseableMessage,
        ReasonCode::AutoSubmitted,
        ReasonCode::BulkMail,
        ReasonCode::Bounce,
        ReasonCode::Duplicate,
        ReasonCode::StaffRejected,
        ReasonCode::LicenseRevoked,
    ];

    /// The code named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether the code is hold-type (staff decide) rather than reject-type.
    pub const fn is_hold(self) -> bool {
        matches!(
            self,
            ReasonCode::SenderUnauthenticated
                | ReasonCode::SpecialRequirements
                | ReasonCode::CancelRequest
                | ReasonCode::UnknownRequest
                | ReasonCode::RepeatedField
                | ReasonCode::FieldsFromQuotedMessage
                | ReasonCode::FieldsNotRead
                | ReasonCode::MultipleRequests
                | ReasonCode::ImageBuilderUnavailable
                | ReasonCode::PrivateConfigForeign
                | ReasonCode::LicenseExists
                | ReasonCode::SimilarProject
        )
    }

    /// Whether a stored code (a reason's `code`) is this one.
    pub fn is(self, stored: &str) -> bool {
        self.as_str() == stored
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReasonCode {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownCode(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(c.as_str()), Some(c));
            assert_eq!(c.as_str().parse::<ReasonCode>(), Ok(c));
        }
        assert_eq!(ReasonCode::parse("no_such_code"), None);
    }

    #[test]
    fn codes_are_distinct() {
        let mut names: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ReasonCode::ALL.len());
    }

    #[test]
    fn holds() {
        assert!(ReasonCode::SimilarProject.is_hold());
        assert!(!ReasonCode::NodesExceedContract.is_hold());
    }
}
