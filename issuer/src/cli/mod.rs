//! The `fanlic` command line: one file per command group, each with its
//! arguments (their help texts are the documentation staff read) and a `run`
//! that calls the library and prints the result.
//!
//! Arguments several commands share are in [`args`]. Every byte printed goes
//! through [`output`]: a result is a [`output::Report`] (text for people,
//! JSON, exit status) printed by one [`output::emit`]; a closed pipe ends the
//! output, not the command.

pub(crate) mod alerts;
pub(crate) mod args;
pub(crate) mod audit;
pub(crate) mod config;
pub(crate) mod console;
pub(crate) mod contract;
pub(crate) mod db;
pub(crate) mod demo;
pub(crate) mod image;
pub(crate) mod ingest;
pub(crate) mod init;
pub(crate) mod keys;
pub(crate) mod license;
pub(crate) mod outbox;
pub(crate) mod output;
pub(crate) mod revoke;
pub(crate) mod serve;
pub(crate) mod staff;
pub(crate) mod watch;

/// `fanlic --help` after the list of commands.
pub(crate) const MAIN_AFTER_HELP: &str = "\
THE HOME:
  Every command that needs the vendor home takes it from --home DIR, else $FANLIC_HOME, else
  ./fanlic-home. It holds fanlic.db (SQLite: keys, certificates, every issued license with its
  file, and the settings: authserv ids are in its table `authserv_ids`), issuing-keys/ (private
  keys, mode 0600), public/ (the root public key products embed) and, right after `init`,
  root-key/ (the root PRIVATE key: move that folder offline; only `keys rotate` needs it).

EXIT STATUS:
  0 success (verify: the license is valid), 1 verify: invalid / inspect: does not decode /
  revoke, unbind: refused (nothing changed), 2 usage or I/O error.

EXAMPLES:
  fanlic demo
  fanlic init --home /srv/fanlic --authserv-id mx.example.com
  fanlic issue --company 'Acme Ltd' --project webroot --app FineReport --version 11.0 \\
      --kind local-container --nodes 2 --expires 2027-12-31 --signed 2026/11/20 -o Container.lic
  fanlic verify Container.lic --app FineReport --version 11.0.20 --project webroot
  fanlic inspect Container.lic --json
  fanlic keys rotate --root-key /media/usb/root-key
  fanlic contract import contracts.csv";
