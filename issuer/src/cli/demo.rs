//! `fanlic demo`: the whole loop on a throw-away home.

use clap::Args;
use fanlic_issuer::demo;

use crate::cli::output::Stdout;

/// Try it all on a throw-away home: issue, verify, ingest sample registration mails
#[derive(Debug, Args)]
#[command(after_help = "\
Needs no setup: works in a temporary folder, deleted at the end, and prints each step with the
command that does it.

EXAMPLES:
  fanlic demo")]
pub(crate) struct DemoArgs {}

/// `fanlic demo`.
pub(crate) fn run(DemoArgs {}: &DemoArgs) -> anyhow::Result<u8> {
    demo::run(&mut Stdout)?;
    Ok(0)
}
