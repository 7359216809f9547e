//! `fanlic outbox`: list the queued replies, deliver those that are due.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use fanlic_issuer::Home;
use fanlic_issuer::outbox::{self, FlushReport, OutboxEntry, OutboxTransport, SmtpConfig, SmtpTls};
use fanlic_issuer::util::clock;
use serde_json::Value;

use crate::cli::args::OutputArgs;
use crate::cli::output::{Report, emit, library_report};

/// List or deliver queued replies (the outbox)
#[derive(Debug, Args)]
#[command(after_help = "\
Replies (licenses) are queued in the database and delivered by `fanlic outbox flush`: as .eml files
in HOME/outbox/ (the default; folder 0700, files 0600), or over SMTP with --smtp-host or
$FANLIC_SMTP_HOST. A failed delivery is retried after 1 minute, doubling up to 1 hour; nothing is
lost while the server is down. A permanent refusal (SMTP 5xx) marks the reply failed.

EXAMPLES:
  fanlic outbox list
  fanlic outbox flush
  FANLIC_SMTP_USER=fanlic FANLIC_SMTP_PASSWORD=... fanlic outbox flush --smtp-host mail.example.com")]
pub(crate) struct OutboxArgs {
    #[command(subcommand)]
    command: OutboxCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OutboxCommand {
    List(OutboxListArgs),
    Flush(OutboxFlushArgs),
}

/// List queued replies: status, attempts, next try, last error
#[derive(Debug, Args)]
#[command(after_help = "\
Status: pending (waiting for its next attempt), failed (refused for good; not retried), sent (shown
only with --all).

EXAMPLES:
  fanlic outbox list
  fanlic outbox list --all --json")]
pub(crate) struct OutboxListArgs {
    /// Include replies already sent
    #[arg(long)]
    all: bool,

    #[command(flatten)]
    format: OutputArgs,
}

/// Deliver every reply that is due
#[derive(Debug, Args)]
#[command(after_help = "\
Without an SMTP host the replies are written as HOME/outbox/ID.eml (or into --dir). With one, they
are sent over SMTP; the user and password come from $FANLIC_SMTP_USER and $FANLIC_SMTP_PASSWORD
only (the password is never printed). Exit status 0 even if some replies failed: they stay queued
(see `fanlic outbox list`).

Several flushes may run at once on one database (cron on two hosts): each leases the replies it
sends for 120 s (renewed while it works), so none is sent twice. A flush killed mid-send leaves its
replies leased until the lease runs out; the next flush after that sends them again, with the same
Message-ID. $FANLIC_OUTBOX_LEASE_SECS sets the lease (tests use a short one).

EXAMPLES:
  fanlic outbox flush
  fanlic outbox flush --dir /srv/mail-drop
  fanlic outbox flush --smtp-host mail.example.com --smtp-tls starttls --json")]
pub(crate) struct OutboxFlushArgs {
    #[command(flatten)]
    transport: TransportArgs,

    /// Seconds a claimed reply stays this flush's [default: $FANLIC_OUTBOX_LEASE_SECS, else 120].
    /// Hidden: for tests that kill a flush and wait for its lease to run out.
    #[arg(long, value_name = "SECONDS", env = outbox::LEASE_ENV, hide = true,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    lease_secs: Option<u64>,

    #[command(flatten)]
    format: OutputArgs,
}

/// Where replies go: an SMTP server, or .eml files.
#[derive(Debug, Args)]
pub(crate) struct TransportArgs {
    /// SMTP server [default: $FANLIC_SMTP_HOST; none: write .eml files]
    #[arg(long, value_name = "HOST", env = "FANLIC_SMTP_HOST", hide_env = true)]
    smtp_host: Option<String>,

    /// SMTP port [default: $FANLIC_SMTP_PORT, else 587 / 465 / 25 by --smtp-tls]
    #[arg(long, value_name = "PORT", env = "FANLIC_SMTP_PORT", hide_env = true)]
    smtp_port: Option<u16>,

    /// SMTP encryption: none, starttls or tls [default: $FANLIC_SMTP_TLS, else starttls]
    #[arg(long, value_name = "MODE", env = "FANLIC_SMTP_TLS", hide_env = true)]
    smtp_tls: Option<String>,

    /// Folder for the .eml files, when not sending over SMTP [default: HOME/outbox]
    #[arg(long, value_name = "DIR", conflicts_with = "smtp_host")]
    dir: Option<PathBuf>,
}

impl TransportArgs {
    /// Whether an SMTP server or a folder was named (else the default
    /// applies: .eml files in HOME/outbox).
    pub(crate) fn given(&self) -> bool {
        self.smtp_host.as_deref().is_some_and(|h| !h.trim().is_empty()) || self.dir.is_some()
    }

    /// Refuses a --smtp-tls that is not none, starttls or tls (before the
    /// home is opened: the usage error is the one to show).
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        self.smtp_tls.as_deref().map(|t| SmtpTls::parse("--smtp-tls", t)).transpose()?;
        Ok(())
    }

    /// The transport named, else .eml files in HOME/outbox. SMTP login from
    /// $FANLIC_SMTP_USER and $FANLIC_SMTP_PASSWORD.
    pub(crate) fn transport(&self, h: &Home) -> anyhow::Result<OutboxTransport> {
        let tls = self.smtp_tls.as_deref().map(|t| SmtpTls::parse("--smtp-tls", t)).transpose()?;
        Ok(match self.smtp_host.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(host) => {
                let mut cfg = SmtpConfig::new(host);
                cfg.port = self.smtp_port;
                if let Some(t) = tls {
                    cfg.tls = t;
                }
                if let Some(user) = std::env::var("FANLIC_SMTP_USER").ok().filter(|u| !u.is_empty()) {
                    cfg.credentials = Some((user, std::env::var("FANLIC_SMTP_PASSWORD").unwrap_or_default()));
                }
                OutboxTransport::Smtp(cfg)
            }
            None => match &self.dir {
                Some(dir) => OutboxTransport::Files(dir.clone()),
                None => OutboxTransport::default_files(h),
            },
        })
    }
}

/// `fanlic outbox ...`.
pub(crate) fn run(home: &Path, a: OutboxArgs) -> anyhow::Result<u8> {
    Ok(match a.command {
        OutboxCommand::List(a) => {
            let entries = outbox::list(&mut Home::open(home)?, a.all)?;
            emit(&a.format, &Queued(entries))?
        }
        OutboxCommand::Flush(a) => {
            a.transport.check()?;
            let mut h = Home::open(home)?;
            let transport = a.transport.transport(&h)?;
            let options = outbox::FlushOptions {
                lease_secs: a.lease_secs.unwrap_or(outbox::LEASE_SECS),
                ..outbox::FlushOptions::default()
            };
            let report = outbox::flush_with(&mut h, &transport, clock::now()?, options)?;
            emit(&a.format, &report)?
        }
    })
}

library_report!(FlushReport);

/// The replies `outbox list` shows.
struct Queued(Vec<OutboxEntry>);

impl Report for Queued {
    fn human(&self) -> String {
        outbox::list_human(&self.0)
    }

    fn json(&self) -> Value {
        self.0.iter().map(OutboxEntry::to_json).collect()
    }
}
