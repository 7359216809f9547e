//! Registration mail: parsing a message, who sent it and whether that is
//! proven, and the registration fields in its body.
//!
//! - [`message`]: one raw message to a [`message::RegistrationMail`] (text
//!   body, addresses, attachments' names, the header fields sender
//!   authentication needs), within a size limit.
//! - [`auth`]: whether the sender is authenticated, from the
//!   `Authentication-Results` header fields of trusted mail servers.
//! - [`fields`]: the registration fields (company, project, nodes, ...) in a
//!   subject and body, in English and Chinese, and what kind of request a
//!   mail is.
//! - [`company`]: how company names are compared (exactly, and leniently
//!   for legal-form spelling).
//! - [`Language`]: the language of a request, and so of its reply.
//!
//! Pure functions of the mail's bytes: no database, no network, no clock.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use core::fmt;

pub mod auth;
pub mod company;
pub mod fields;
pub mod message;

pub use auth::SenderAuth;
pub use fields::{RegistrationFields, RequestKind, SubjectInfo};
pub use message::{MailError, RegistrationMail};

/// The language of a request, and so of the reply's text: guessed from a
/// mail's subject and body ([`RegistrationMail::language_hint`]), stored
/// with the reply as [`Language::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    /// English: any text that is not mostly CJK.
    En,
    /// Chinese (simplified): mostly CJK text.
    Zh,
}

impl Language {
    /// `en` or `zh`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Zh => "zh",
        }
    }

    /// The language stored as `en` or `zh`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "en" => Some(Self::En),
            "zh" => Some(Self::Zh),
            _ => None,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    #[test]
    fn language_round_trips_through_its_stored_form() {
        for l in [Language::En, Language::Zh] {
            assert_eq!(Language::parse(l.as_str()), Some(l));
            assert_eq!(l.to_string(), l.as_str());
        }
        assert_eq!(Language::parse("EN"), None);
        assert_eq!(Language::parse("fr"), None);
    }
}
