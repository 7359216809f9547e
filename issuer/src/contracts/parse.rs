//! Reading contract terms as people type them (options and CSV cells):
//! each field checked with a message that says how to fix it, and the
//! lenient company comparison by legal form.

use fanlic_formats::{Date, Expiry, LicenseKind, Version};

use super::*;
use crate::Error;
use crate::util::input;

/// Parses an activation policy: `code` or `receipt` (case and white space
/// around ignored).
pub fn parse_activation_policy(option: &'static str, s: &str) -> Result<ActivationPolicy, Error> {
    s.trim().to_ascii_lowercase().parse().map_err(|_| {
        Error::input(
            option,
            s,
            "`code` (the admin types a 6-digit code) or `receipt` (the vendor's service signs a receipt)",
        )
    })
}

/// Addresses separated by `;` (empty pieces ignored), normalized, without
/// duplicates, at least one.
pub fn parse_emails(option: &'static str, s: &str) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::new();
    for piece in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let e = normalize_email(option, piece)?;
        if !out.contains(&e) {
            out.push(e);
        }
    }
    if out.is_empty() {
        return Err(Error::input(
            option,
            s,
            "needs at least one address, such as it@acme.example (separate several with ;)",
        ));
    }
    Ok(out)
}

/// A comma list of methods (`local-container`, `private-cloud`), at least
/// one, in canonical order.
pub fn parse_methods(option: &'static str, s: &str) -> Result<Vec<LicenseKind>, Error> {
    let mut local = false;
    let mut cloud = false;
    for piece in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match piece.to_ascii_lowercase().parse::<LicenseKind>() {
            Ok(LicenseKind::LocalContainer) => local = true,
            Ok(LicenseKind::PrivateCloud) => cloud = true,
            Err(_) => {
                return Err(Error::input(
                    option,
                    s,
                    format!(
                        "{piece:?} is not a method: use local-container, private-cloud, or both separated by a comma"
                    ),
                ));
            }
        }
    }
    let mut out = Vec::new();
    if local {
        out.push(LicenseKind::LocalContainer);
    }
    if cloud {
        out.push(LicenseKind::PrivateCloud);
    }
    if out.is_empty() {
        return Err(Error::input(option, s, "needs local-container, private-cloud, or both separated by a comma"));
    }
    Ok(out)
}

/// Most cluster nodes: a whole number from 1.
pub fn parse_max_nodes(option: &'static str, s: &str) -> Result<u32, Error> {
    match s.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(Error::input(option, s, "expected the number of cluster nodes purchased: a whole number, 1 or more")),
    }
}

/// Gives an [`Error::InvalidInput`] from a shared validator the caller's
/// option (or CSV column) name.
pub(super) fn relabel(e: Error, option: &'static str) -> Error {
    match e {
        Error::InvalidInput { given, fix, .. } => {
            let fix = if option == "--version" { fix } else { fix.replace("use --version ", "use ") };
            Error::InvalidInput { option, given, fix }
        }
        other => other,
    }
}

/// Parses a license count: a whole number from 1.
pub fn parse_max_licenses(option: &'static str, s: &str) -> Result<u32, Error> {
    match s.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(Error::input(option, s, "the number of projects the contract covers: a whole number from 1")),
    }
}

/// A lease in days: a whole number from 1 to [`MAX_LEASE_DAYS`].
pub fn parse_lease_days(option: &'static str, s: &str) -> Result<u32, Error> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_LEASE_DAYS).contains(&n) => Ok(n),
        _ => Err(Error::input(
            option,
            s,
            format!(
                "the days a private-cloud server runs on one receipt before it must be activated again: a \
                 whole number from 1 to {MAX_LEASE_DAYS}"
            ),
        )),
    }
}

/// Checks that a lease goes with the receipt policy and the private-cloud
/// method: a lease is enforced by the authorization server's receipt.
pub fn check_lease(
    option: &'static str,
    policy: ActivationPolicy,
    lease_days: Option<u32>,
    methods: &[LicenseKind],
) -> Result<(), Error> {
    let Some(days) = lease_days else { return Ok(()) };
    if policy != ActivationPolicy::Receipt {
        return Err(Error::input(
            option,
            &days.to_string(),
            "a lease needs the receipt activation policy (--activation-policy receipt): a 6-digit code carries no \
             vendor time, so only the customer's own clock could end the lease",
        ));
    }
    if !methods.contains(&LicenseKind::PrivateCloud) {
        return Err(Error::input(
            option,
            &days.to_string(),
            "a lease applies to private-cloud licenses: the contract's methods must include private-cloud",
        ));
    }
    Ok(())
}

/// The text of a contract's terms, as typed or read from a CSV row.
#[derive(Clone, Copy, Debug)]
pub struct TermsText<'a> {
    /// Company.
    pub company: &'a str,
    /// Addresses, `;` separated.
    pub email: &'a str,
    /// Signing date.
    pub signed: &'a str,
    /// Product.
    pub product: &'a str,
    /// Methods, comma separated.
    pub methods: &'a str,
    /// Max nodes.
    pub max_nodes: &'a str,
    /// Version.
    pub version: &'a str,
    /// `YYYY-MM-DD` or `never`.
    pub expires: &'a str,
    /// License count; `None` or empty: 1.
    pub max_licenses: Option<&'a str>,
    /// `code` or `receipt`; `None` or empty: `code`.
    pub activation_policy: Option<&'a str>,
    /// Lease days; `None` or empty: no lease.
    pub lease_days: Option<&'a str>,
}

/// Option names for the fields, for messages.
#[derive(Clone, Copy, Debug)]
pub struct FieldNames {
    /// For the company.
    pub company: &'static str,
    /// For the addresses.
    pub email: &'static str,
    /// For the signing date.
    pub signed: &'static str,
    /// For the product.
    pub product: &'static str,
    /// For the methods.
    pub methods: &'static str,
    /// For max nodes.
    pub max_nodes: &'static str,
    /// For the version.
    pub version: &'static str,
    /// For the term.
    pub expires: &'static str,
    /// For the license count.
    pub max_licenses: &'static str,
    /// For the activation policy.
    pub activation_policy: &'static str,
    /// For the lease.
    pub lease_days: &'static str,
}

/// The command line's option names.
pub const OPTION_NAMES: FieldNames = FieldNames {
    company: "--company",
    email: "--email",
    signed: "--signed",
    product: "--product",
    methods: "--methods",
    max_nodes: "--max-nodes",
    version: "--version",
    expires: "--expires",
    max_licenses: "--max-licenses",
    activation_policy: "--activation-policy",
    lease_days: "--lease-days",
};

/// The CSV columns; the console's contract form names its fields the same.
pub const CSV_NAMES: FieldNames = FieldNames {
    company: "company",
    email: "email",
    signed: "signed",
    product: "product",
    methods: "methods",
    max_nodes: "max_nodes",
    version: "version",
    expires: "expires",
    max_licenses: CSV_MAX_LICENSES,
    activation_policy: "activation_policy",
    lease_days: "lease_days",
};

/// Parses a company name (the rules of [`input::name`]).
pub fn parse_company(option: &'static str, s: &str) -> Result<String, Error> {
    input::name(option, s)
}

/// Parses a product (the rules of [`input::app`]).
pub fn parse_product(option: &'static str, s: &str) -> Result<&'static str, Error> {
    input::app(s).map_err(|e| relabel(e, option))
}

/// Parses a version (the rules of [`input::version`]).
pub fn parse_version(option: &'static str, s: &str) -> Result<Version, Error> {
    input::version(s).map_err(|e| relabel(e, option))
}

/// Parses a date (the rules of [`input::date`]).
pub fn parse_signed(option: &'static str, s: &str) -> Result<Date, Error> {
    input::date(option, s)
}

/// Parses a term (the rules of [`input::expiry`]).
pub fn parse_expires(option: &'static str, s: &str) -> Result<Expiry, Error> {
    input::expiry(s).map_err(|e| relabel(e, option))
}

impl TermsText<'_> {
    /// Checks every field; on failure, every problem (not just the first).
    pub fn parse(&self, names: &FieldNames) -> Result<ContractTerms, Vec<Error>> {
        fn keep<T>(errors: &mut Vec<Error>, r: Result<T, Error>) -> Option<T> {
            r.map_err(|e| errors.push(e)).ok()
        }
        let mut errors = Vec::new();
        let company = keep(&mut errors, parse_company(names.company, self.company));
        let emails = keep(&mut errors, parse_emails(names.email, self.email));
        let signed = keep(&mut errors, parse_signed(names.signed, self.signed));
        let product = keep(&mut errors, parse_product(names.product, self.product));
        let methods = keep(&mut errors, parse_methods(names.methods, self.methods));
        let max_nodes = keep(&mut errors, parse_max_nodes(names.max_nodes, self.max_nodes));
        let version = keep(&mut errors, parse_version(names.version, self.version));
        let expires = keep(&mut errors, parse_expires(names.expires, self.expires));
        let max_licenses = match self.max_licenses.map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => keep(&mut errors, parse_max_licenses(names.max_licenses, text)),
            None => Some(1),
        };
        fn non_empty(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        let policy = match non_empty(self.activation_policy) {
            Some(text) => keep(&mut errors, parse_activation_policy(names.activation_policy, text)),
            None => Some(ActivationPolicy::Code),
        };
        let lease_days = match non_empty(self.lease_days) {
            Some(text) => keep(&mut errors, parse_lease_days(names.lease_days, text)).map(Some),
            None => Some(None),
        };
        if let (Some(p), Some(l), Some(m)) = (policy, lease_days, &methods) {
            keep(&mut errors, check_lease(names.lease_days, p, l, m));
        }
        let (Some(activation_policy), Some(lease_days)) = (policy, lease_days) else { return Err(errors) };
        if !errors.is_empty() {
            return Err(errors);
        }
        match (company, emails, signed, product, methods, (max_nodes, max_licenses), version, expires) {
            (
                Some(company),
                Some(emails),
                Some(signed),
                Some(product),
                Some(methods),
                (Some(max_nodes), Some(max_licenses)),
                Some(version),
                Some(expires),
            ) => Ok(ContractTerms {
                company,
                emails,
                signed,
                product,
                methods,
                max_nodes,
                version,
                expires,
                max_licenses,
                activation_policy,
                lease_days,
            }),
            _ => Err(errors),
        }
    }
}
