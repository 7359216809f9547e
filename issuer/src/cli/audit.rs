//! `fanlic audit`: the audit trail, filtered.

use std::path::Path;

use clap::Args;
use fanlic_issuer::store::audit::{self, Action, AuditEntry, Filter};
use fanlic_issuer::util::clock;
use fanlic_issuer::{Error, Home};
use serde_json::Value;

use crate::cli::args::OutputArgs;
use crate::cli::output::{Report, emit};

/// Show the audit trail: every state change, with who, when, what and why
#[derive(Debug, Args)]
#[command(after_help = "\
One row per change, oldest first: decisions on registration mails (issued, resent, joined,
ignored, held, rejected, approved, staff-rejected, duplicate, revoked), license changes (issue,
revoke, unbind, bind, supersede, marked-duplicate), contract changes (contract-add, -import,
-update, -disable, -enable) and key changes (key-rotate, key-revoke). Filters combine.

EXAMPLES:
  fanlic audit
  fanlic audit --license 0123456789abcdef0123456789abcdef
  fanlic audit --contract 'Acme Ltd' --since 2026-11-01
  fanlic audit --action revoke --action supersede --json")]
pub(crate) struct AuditArgs {
    /// Only this license's entries (and its mails' decisions)
    #[arg(long, value_name = "LICENSE_ID")]
    license: Option<String>,

    /// Only this contract's entries, its licenses' and their decisions' (id or company)
    #[arg(long, value_name = "ID|COMPANY")]
    contract: Option<String>,

    /// Only entries at or after this time (RFC 3339) or day
    #[arg(long, value_name = "TIME")]
    since: Option<String>,

    /// Only this action (repeatable): issued, resent, held, approved, revoke, unbind, contract-update, ...
    #[arg(long, value_name = "ACTION")]
    action: Vec<String>,

    #[command(flatten)]
    format: OutputArgs,
}

/// The entries of the trail that pass the filter, oldest first.
struct Trail(Vec<AuditEntry>);

impl Report for Trail {
    fn human(&self) -> String {
        self.0.iter().map(AuditEntry::human).collect()
    }

    fn json(&self) -> Value {
        self.0.iter().map(AuditEntry::to_json).collect()
    }
}

/// `fanlic audit`.
pub(crate) fn run(home: &Path, a: &AuditArgs) -> anyhow::Result<u8> {
    let mut actions = Vec::new();
    for name in &a.action {
        actions.push(Action::parse(name.trim()).ok_or_else(|| Error::InvalidInput {
            option: "--action",
            given: name.clone(),
            fix: format!("one of {}", Action::names().join(", ")),
        })?);
    }
    let filter = Filter {
        license: a.license.clone(),
        contract: a.contract.clone(),
        since: a.since.as_deref().map(|s| clock::parse_time_or_date("--since", s)).transpose()?,
        actions,
    };
    let entries = audit::trail(&mut Home::open(home)?, &filter)?;
    Ok(emit(&a.format, &Trail(entries))?)
}
