//! Arguments several commands share, flattened into theirs: `--json`,
//! `--now`, `--by` and the license kind.
//!
//! `--json` and `--now` read differently from one command to the next
//! ("Print the contract as JSON", "The time of the revocation"), and `--help`
//! shows each command's own wording; so each wording is its own small struct,
//! made by one macro, and the commands share the behaviour: [`Output::json`]
//! and [`Now::resolve`].

use clap::{Args, ValueEnum};
use fanlic_formats::{LicenseKind, Timestamp};
use fanlic_issuer::Error;
use fanlic_issuer::contracts;
use fanlic_issuer::util::clock;

/// How a command prints its report: [`crate::cli::output::emit`] asks.
pub(crate) trait Output {
    /// `--json` was given.
    fn json(&self) -> bool;
}

/// `--json`, with the help text `$help`.
macro_rules! output_args {
    ($(#[$meta:meta])* $name:ident, $help:literal) => {
        $(#[$meta])*
        #[derive(Debug, Args)]
        pub(crate) struct $name {
            #[doc = $help]
            #[arg(long)]
            json: bool,
        }

        impl Output for $name {
            fn json(&self) -> bool {
                self.json
            }
        }
    };
}

output_args!(
    /// `--json`: "Print as JSON".
    OutputArgs,
    "Print as JSON"
);
output_args!(
    /// `--json` of commands that report what they did.
    ResultOutput,
    "Print the result as JSON"
);
output_args!(
    /// `--json` of `issue`.
    LicenseOutput,
    "Print the license as JSON"
);
output_args!(
    /// `--json` of the contract commands that show one contract.
    ContractOutput,
    "Print the contract as JSON"
);
output_args!(
    /// `--json` of `ingest` and `watch`: one object per message.
    LinesOutput,
    "Print one JSON object per message, one per line"
);

/// The time a command acts at: `--now`, else the system clock.
pub(crate) trait Now {
    /// `--now` as given, if it was.
    fn given(&self) -> Option<&str>;

    /// `--now` (RFC 3339), else the system clock.
    fn resolve(&self) -> Result<Timestamp, Error> {
        match self.given() {
            Some(s) => clock::parse_rfc3339("--now", s),
            None => clock::now(),
        }
    }
}

/// `--now VALUE_NAME`, with the help text `$help`.
macro_rules! now_arg {
    ($(#[$meta:meta])* $name:ident, $value_name:literal, $help:literal) => {
        $(#[$meta])*
        #[derive(Debug, Args)]
        pub(crate) struct $name {
            #[doc = $help]
            #[arg(long, value_name = $value_name)]
            now: Option<String>,
        }

        impl Now for $name {
            fn given(&self) -> Option<&str> {
                self.now.as_deref()
            }
        }
    };
}

now_arg!(
    /// `--now` of `ingest`.
    DecisionTime,
    "TIME",
    "The time of the decisions (RFC 3339) [default: now]"
);
now_arg!(
    /// `--now` of `revoke`.
    RevocationTime,
    "TIME",
    "The time of the revocation (RFC 3339) [default: now]"
);
now_arg!(
    /// `--now` of `unbind`.
    ChangeTime,
    "TIME",
    "The time of the change (RFC 3339) [default: now]"
);
now_arg!(
    /// `--now` of `revocations export`.
    SigningTime,
    "TIME",
    "The time of signing (RFC 3339) [default: now]"
);
now_arg!(
    /// `--now` of `verify`: the product's clock.
    CheckTime,
    "RFC3339",
    "The time of the check, RFC 3339 [default: the system clock]"
);

/// `--by`: who makes a change, for the audit trail.
#[derive(Debug, Args)]
pub(crate) struct ByArg {
    /// Who makes this change, for the audit record [default: $USER]
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
}

impl ByArg {
    /// `--by`, else `$USER`; an error when neither names anyone.
    pub(crate) fn actor(&self) -> Result<String, Error> {
        contracts::actor(self.by.as_deref())
    }
}

/// `--kind` of `issue`, `--method` of `verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum KindArg {
    /// Local container authentication (Container.lic)
    LocalContainer,
    /// Container private cloud (authorization server image)
    PrivateCloud,
}

impl From<KindArg> for LicenseKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::LocalContainer => Self::LocalContainer,
            KindArg::PrivateCloud => Self::PrivateCloud,
        }
    }
}
