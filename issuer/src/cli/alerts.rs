//! `fanlic alerts`: what `fanlic serve` flagged about licenses in use.

use std::path::Path;

use clap::Args;
use fanlic_issuer::Home;
use fanlic_issuer::service::receipts::{self, Alert};
use fanlic_issuer::util::clock;
use serde_json::Value;

use crate::cli::args::{ByArg, OutputArgs};
use crate::cli::output::{Report, emit};

/// List the alerts `fanlic serve` raised for staff (forked servers, activation bursts), or close one
#[derive(Debug, Args)]
#[command(after_help = "\
Alerts are about licenses in use, not about mail (that is `fanlic review`):
  forked         an authorization server asked for a receipt with one that is not the latest
                 issued for its binding: a copy of the server (same instance key and state) runs
                 somewhere. No receipt was issued to it; the license keeps working where the
                 latest receipt is. Find out which server is the customer's, then revoke or
                 migrate the license, or `fanlic unbind` it.
  receipt_burst  one local container's binding got more than 10 receipts in 24 hours: the same
                 Container.lic is probably started in many places.
One alert per license and kind stays open until closed; each is also in `fanlic audit`.

EXAMPLES:
  fanlic alerts
  fanlic alerts --all --json
  fanlic alerts --close 3 --by alice")]
pub(crate) struct AlertsArgs {
    /// Include closed alerts
    #[arg(long)]
    all: bool,

    /// Close this alert (handled)
    #[arg(long, value_name = "ID")]
    close: Option<i64>,

    #[command(flatten)]
    by: ByArg,

    #[command(flatten)]
    format: OutputArgs,
}

/// The alerts listed, or the one closed.
struct Alerts(Vec<Alert>);

impl Report for Alerts {
    fn human(&self) -> String {
        if self.0.is_empty() {
            "No open alert.\n".to_owned()
        } else {
            self.0.iter().map(Alert::human).collect::<Vec<_>>().join("\n")
        }
    }

    fn json(&self) -> Value {
        self.0.iter().map(Alert::to_json).collect()
    }
}

/// `fanlic alerts`.
pub(crate) fn run(home: &Path, a: &AlertsArgs) -> anyhow::Result<u8> {
    let mut h = Home::open(home)?;
    let rows = match a.close {
        Some(id) => {
            let by = a.by.actor()?;
            vec![receipts::close(&mut h, id, &by, clock::now()?)?]
        }
        None => receipts::list(&mut h, a.all)?,
    };
    Ok(emit(&a.format, &Alerts(rows))?)
}
