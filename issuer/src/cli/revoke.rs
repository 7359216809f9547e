//! `fanlic revoke`, `unbind` and `revocations`: take licenses and issuing
//! keys out of use, free a license's binding, publish the signed list.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use fanlic_issuer::Home;
use fanlic_issuer::revoke::{self, Exported, KeyRevoked, Revocations, Revoked, Unbound};

use crate::cli::args::{ByArg, ChangeTime, Now as _, OutputArgs, RevocationTime, SigningTime};
use crate::cli::output::{emit, library_report};

/// Revoke a license (or an issuing key), and confirm it to the customer by mail
#[derive(Debug, Args)]
#[command(
    group = clap::ArgGroup::new("what").required(true).args(["license_id", "issuing_key"]),
    after_help = "\
A license is recorded as revoked (with the reason, when and --by) in the database and its audit
trail, and a confirmation mail (English and Chinese: license, company, project, what and when;
not the reason) is queued to the addresses of the company's enabled contract; send it with
`fanlic outbox flush`. With no contract address known, nothing is queued and the output says why.
Products refuse the license once they have a revocation list naming it: publish one with
`fanlic revocations export -o FILE`.

--issuing-key revokes an issuing key instead: every license it signed is refused by products with
the next revocation list. The key that signs new licenses is refused unless --force: rotate first
(`fanlic keys rotate --root-key PATH`). No mail is sent for a key.

EXIT STATUS:
  0 revoked, 1 refused (unknown license or key, already revoked, the signing key): nothing changed,
  2 usage or I/O error.

EXAMPLES:
  fanlic revoke 0123456789abcdef0123456789abcdef --reason 'contract terminated' --by alice
  fanlic revoke 0123456789abcdef0123456789abcdef --reason 'duplicate' --no-mail --json
  fanlic revoke --issuing-key 0123456789abcdef --reason 'key file leaked' --by alice"
)]
pub(crate) struct RevokeArgs {
    /// The license id (32 hex digits), as `fanlic inspect` shows it
    #[arg(value_name = "LICENSE_ID")]
    license_id: Option<String>,

    /// Revoke this issuing key (16 hex digits, as `fanlic keys list` shows it) instead of a license
    #[arg(long, value_name = "KEY_ID")]
    issuing_key: Option<String>,

    /// Why: recorded in the database and the audit trail (not mailed)
    #[arg(long, value_name = "TEXT")]
    reason: String,

    /// With --issuing-key: revoke even the key that signs new licenses
    #[arg(long, requires = "issuing_key")]
    force: bool,

    /// Queue no confirmation mail
    #[arg(long, conflicts_with = "issuing_key")]
    no_mail: bool,

    #[command(flatten)]
    by: ByArg,

    #[command(flatten)]
    now: RevocationTime,

    #[command(flatten)]
    format: OutputArgs,
}

/// Unbind a license from its project, so that it can register a new one
#[derive(Debug, Args)]
#[command(after_help = "\
For a project change: the license's binding (set by its first activation) is removed, so the same
Container.lic can register a new project. The old project's fingerprint is kept in the audit
trail, and a confirmation mail (English and Chinese) is queued to the addresses of the company's
enabled contract; send it with `fanlic outbox flush`. A revoked license is not unbound.

EXIT STATUS:
  0 unbound, 1 refused (unknown license, revoked, not bound): nothing changed, 2 usage or I/O error.

EXAMPLES:
  fanlic unbind 0123456789abcdef0123456789abcdef --by alice
  fanlic unbind 0123456789abcdef0123456789abcdef --no-mail --json")]
pub(crate) struct UnbindArgs {
    /// The license id (32 hex digits), as `fanlic inspect` shows it
    #[arg(value_name = "LICENSE_ID")]
    license_id: String,

    /// Queue no confirmation mail
    #[arg(long)]
    no_mail: bool,

    #[command(flatten)]
    by: ByArg,

    #[command(flatten)]
    now: ChangeTime,

    #[command(flatten)]
    format: OutputArgs,
}

/// Signed revocation lists: export one, list what is revoked
#[derive(Debug, Args)]
#[command(after_help = "\
A revocation list names every revoked license and issuing key, with a sequence number that grows
with each export; products refuse a list older than one they have accepted. It is signed by the
issuing key (certified for revocation lists) and is public.

EXAMPLES:
  fanlic revocations export -o revocations.bin
  fanlic revocations list")]
pub(crate) struct RevocationsArgs {
    #[command(subcommand)]
    command: RevocationsCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RevocationsCommand {
    Export(RevocationsExportArgs),
    List(RevocationsListArgs),
}

/// Sign and write the revocation list, with the next sequence number
#[derive(Debug, Args)]
#[command(after_help = "\
The list (SPEC.md §5: sequence, issued at, every revoked license id and issuing key id) is
signed by the home's signing key, which must be certified for revocation lists, checked with the
verifier products embed, recorded in the database, then written to FILE atomically with mode 0644.
Each export takes the next sequence number (the first is 1).

EXAMPLES:
  fanlic revocations export -o revocations.bin
  fanlic revocations export -o /srv/www/fanlic/revocations.bin --force --json")]
pub(crate) struct RevocationsExportArgs {
    /// Where to write the list (raw bytes)
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,

    /// Replace FILE if it exists
    #[arg(long)]
    force: bool,

    #[command(flatten)]
    now: SigningTime,

    #[command(flatten)]
    format: OutputArgs,
}

/// List revoked licenses and issuing keys, and the lists exported
#[derive(Debug, Args)]
#[command(after_help = "\
A revocation that no exported list names yet is marked: run `fanlic revocations export`.

EXAMPLES:
  fanlic revocations list
  fanlic revocations list --json")]
pub(crate) struct RevocationsListArgs {
    #[command(flatten)]
    format: OutputArgs,
}

library_report!(Revoked, KeyRevoked, Unbound, Exported, Revocations);

/// `fanlic revoke`.
pub(crate) fn revoke(home: &Path, a: &RevokeArgs) -> anyhow::Result<u8> {
    let now = a.now.resolve()?;
    let by = a.by.actor()?;
    let mut h = Home::open(home)?;
    let code = match (&a.issuing_key, &a.license_id) {
        // A refusal (nothing changed) exits 1: the error says so.
        (Some(key), _) => emit(&a.format, &revoke::revoke_issuing_key(&mut h, key, &a.reason, &by, a.force, now)?)?,
        (None, Some(id)) => emit(&a.format, &revoke::revoke_license(&mut h, id, &a.reason, &by, !a.no_mail, now)?)?,
        // clap's group requires one of them.
        (None, None) => anyhow::bail!("give a LICENSE_ID or --issuing-key KEY_ID"),
    };
    Ok(code)
}

/// `fanlic unbind`.
pub(crate) fn unbind(home: &Path, a: &UnbindArgs) -> anyhow::Result<u8> {
    let now = a.now.resolve()?;
    let by = a.by.actor()?;
    let mut h = Home::open(home)?;
    Ok(emit(&a.format, &revoke::unbind(&mut h, &a.license_id, &by, !a.no_mail, now)?)?)
}

/// `fanlic revocations ...`.
pub(crate) fn revocations(home: &Path, a: RevocationsArgs) -> anyhow::Result<u8> {
    Ok(match a.command {
        RevocationsCommand::Export(a) => {
            let now = a.now.resolve()?;
            emit(&a.format, &revoke::export(&mut Home::open(home)?, &a.output, a.force, now)?)?
        }
        RevocationsCommand::List(a) => emit(&a.format, &revoke::list(&mut Home::open(home)?)?)?,
    })
}
