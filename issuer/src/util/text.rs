//! How names and addresses people type are compared: full-width forms
//! folded, white space collapsed, lowercase.

use crate::Error;

// How company names are compared lives with the mail fields that compare
// them; contracts find companies by the same key.
pub use fanlic_mail::company::{company_key, fold_width};

/// One address, trimmed, full-width forms folded and lowercase, if it looks
/// like `local@domain.tld`.
pub fn normalize_email(option: &'static str, s: &str) -> Result<String, Error> {
    let a: String = s.trim().chars().map(fold_width).collect::<String>().to_lowercase();
    let bad = |fix: &str| Err(Error::input(option, s, fix.to_owned()));
    let Some((local, domain)) = a.split_once('@') else {
        return bad("is not an email address: expected name@example.com");
    };
    if local.is_empty() || local.len() > 64 || a.len() > 254 {
        return bad("is not an email address: expected name@example.com");
    }
    let local_ok = local.chars().all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[]\\,;:\"@".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return bad(
            "has a space or one of <>()[]\\,;:\"@ before the @, or a misplaced dot; write a bare address such as name@example.com",
        );
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !domain_ok {
        return bad("has no valid domain after the @: expected a domain such as example.com");
    }
    Ok(a)
}

/// An error and every cause under it, `: `-separated; a cause whose text
/// the message already quotes is not said twice.
pub fn error_chain(e: &(dyn core::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}
