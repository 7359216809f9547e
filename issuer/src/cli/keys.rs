//! `fanlic keys`: list the keys, certify a new issuing key or receipt keys
//! with the offline root key.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, value_parser};
use fanlic_issuer::home::ReceiptKeysReport;
use fanlic_issuer::util::clock;
use fanlic_issuer::{Home, KeysReport, RotateReport};

use crate::cli::args::{OutputArgs, ResultOutput};
use crate::cli::output::{emit, library_report};

/// List or rotate keys
#[derive(Debug, Args)]
#[command(
    after_help = "EXAMPLES:\n  fanlic keys list\n  fanlic keys rotate --root-key /media/usb/root-key\n  fanlic keys receipt-key --root-key /media/usb/root-key --count 3"
)]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    List(ListArgs),
    Rotate(RotateArgs),
    ReceiptKey(ReceiptKeyArgs),
}

/// Certify new receipt keys (30 days each) with the (offline) root key for `fanlic serve`
#[derive(Debug, Args)]
#[command(after_help = "\
A receipt key signs the activation receipts `fanlic serve` gives for receipt-policy licenses. The
root key certifies it for receipts only (purposes 0x8), for a window of 30 days; products refuse a
receipt signed outside its key's window. `fanlic init` makes the first one. Make the next before
the current window ends: `fanlic serve` refuses receipt requests when no key is valid. With
--count N, the keys' windows follow each other, so one session with the offline root key covers
N x 30 days. Older keys keep signing until a newer key's window starts; the files are kept like
issuing keys (HOME/receipt-keys/, PKCS#8, mode 0600).

EXAMPLES:
  fanlic keys receipt-key --root-key /media/usb/root-key
  fanlic keys receipt-key --root-key /media/usb/root-key --count 6 --json")]
pub(crate) struct ReceiptKeyArgs {
    /// The root private key: its .key.pem file, or the root-key/ folder
    #[arg(long = "root-key", value_name = "PATH")]
    root_key: PathBuf,

    /// How many keys to make, each window starting where the previous one ends (1 to 13)
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = value_parser!(u32).range(1..=i64::from(fanlic_issuer::home::MAX_RECEIPT_KEYS_AT_ONCE)))]
    count: u32,

    #[command(flatten)]
    format: ResultOutput,
}

/// List root and issuing keys: ids, windows, purposes, status, files
#[derive(Debug, Args)]
#[command(after_help = "\
Status: active (may sign; the newest signs new licenses), retired (replaced by a newer key; what
it signed stays valid), expired (its window has ended).

EXAMPLES:
  fanlic keys list
  fanlic keys list --json")]
pub(crate) struct ListArgs {
    #[command(flatten)]
    format: OutputArgs,
}

/// Certify a new issuing key with the (offline) root key; it signs from now on
#[derive(Debug, Args)]
#[command(after_help = "\
Bring the root key back only for this command. The new key signs every license issued from now
on; older keys are retired, and the licenses they signed stay valid (a key's window bounds when
it may sign, not how long its licenses last).

EXAMPLES:
  fanlic keys rotate --root-key /media/usb/root-key
  fanlic keys rotate --root-key /media/usb/root-key/root-0123456789abcdef.key.pem \\
      --valid-for-days 365")]
pub(crate) struct RotateArgs {
    /// The root private key: its .key.pem file, or the root-key/ folder
    #[arg(long = "root-key", value_name = "PATH")]
    root_key: PathBuf,

    /// Days the new issuing key may sign licenses [default: 2 years]
    #[arg(long, value_name = "N", value_parser = value_parser!(u32).range(1..=36_500))]
    valid_for_days: Option<u32>,

    #[command(flatten)]
    format: ResultOutput,
}

library_report!(KeysReport, RotateReport, ReceiptKeysReport);

/// `fanlic keys ...`.
pub(crate) fn run(home: &Path, a: KeysArgs) -> anyhow::Result<u8> {
    Ok(match a.command {
        KeysCommand::List(a) => emit(&a.format, &Home::open(home)?.list_keys(clock::now()?)?)?,
        KeysCommand::ReceiptKey(a) => {
            let report = Home::open(home)?.make_receipt_keys(&a.root_key, a.count, clock::now()?)?;
            emit(&a.format, &report)?
        }
        KeysCommand::Rotate(a) => {
            let report = Home::open(home)?.rotate(&a.root_key, a.valid_for_days, clock::now()?)?;
            emit(&a.format, &report)?
        }
    })
}
