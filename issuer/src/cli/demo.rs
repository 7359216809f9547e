//! `fanlic demo`: the whole loop on a throw-away home.

use std::path::PathBuf;

use clap::Args;
use fanlic_issuer::demo;

use crate::cli::output::Stdout;

/// Try it all on a throw-away home: issue, verify, ingest sample registration mails
#[derive(Debug, Args)]
#[command(after_help = "\
Needs no setup: works in a temporary folder, deleted at the end, and prints each step with the
command that does it. With --keep DIR the demo's home is left in DIR (a new or empty folder), to
open in the staff console: its held requests wait under Review.

EXAMPLES:
  fanlic demo
  fanlic demo --keep ./demo-home")]
pub(crate) struct DemoArgs {
    /// Keep the demo's home in DIR (new or empty) instead of deleting it
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

/// `fanlic demo`.
pub(crate) fn run(DemoArgs { keep }: &DemoArgs) -> anyhow::Result<u8> {
    demo::run(&mut Stdout, keep.as_deref())?;
    Ok(0)
}
