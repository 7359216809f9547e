//! `fanlic init`: make a vendor home.

use std::path::Path;

use clap::{Args, value_parser};
use fanlic_issuer::util::{clock, input};
use fanlic_issuer::{Home, InitOptions, InitReport};

use crate::cli::args::ResultOutput;
use crate::cli::output::{emit, library_report};

const INIT_AFTER_HELP: &str = "\
Makes the home (which must not exist, or be empty: init never overwrites a home) with:
  root-key/root-<id>.key.pem   the root PRIVATE key (PKCS#8 PEM, mode 0600).
                               MOVE THE root-key/ FOLDER OFFLINE: only `keys rotate` needs it.
  public/root-<id>.pub.pem     the root public key products embed (also printed in hex)
  issuing-keys/issuing-<id>.*  the first issuing key, certified by the root key to sign all
                               kinds of licenses and revocation lists, from now for 2 years
                               (or --valid-for-days)
  fanlic.db                    the database; --authserv-id values go to its `authserv_ids` table
Public keys are PEM SubjectPublicKeyInfo, private keys PKCS#8 v1: openssl reads both, e.g.
`openssl pkey -pubin -in public/root-<id>.pub.pem -noout -text`.

EXAMPLES:
  fanlic init
  fanlic init --home /srv/fanlic --authserv-id mx1.example.com --authserv-id mx2.example.com
  FANLIC_HOME=/srv/fanlic fanlic init --json";

/// Create a vendor home: root key, first issuing key, database
#[derive(Debug, Args)]
#[command(after_help = INIT_AFTER_HELP)]
pub(crate) struct InitArgs {
    /// Authserv-id of one of your mail servers, as it writes it in Authentication-Results headers
    /// (repeatable); kept in the database's `authserv_ids` table
    #[arg(long = "authserv-id", value_name = "ID")]
    authserv_ids: Vec<String>,

    /// Days the first issuing key may sign licenses [default: 2 years]
    #[arg(long, value_name = "N", value_parser = value_parser!(u32).range(1..=36_500))]
    valid_for_days: Option<u32>,

    #[command(flatten)]
    format: ResultOutput,
}

library_report!(InitReport);

/// `fanlic init`.
pub(crate) fn run(home: &Path, a: &InitArgs) -> anyhow::Result<u8> {
    let authserv_ids = a.authserv_ids.iter().map(|s| input::authserv_id(s)).collect::<Result<Vec<_>, _>>()?;
    let opts = InitOptions { authserv_ids, valid_for_days: a.valid_for_days, now: clock::now()? };
    let (_, report) = Home::init(home, &opts)?;
    Ok(emit(&a.format, &report)?)
}
