//! `fanlic console`: the staff console, the web pages business staff work
//! in. A separate listener from the internet-facing `fanlic serve` (default
//! loopback), same binary, same store.
//!
//! Server-rendered HTML (maud: everything a customer wrote is escaped), no
//! script, nothing from another site: the binary serves its one stylesheet.
//! English and 简体中文 (Accept-Language, and a switch that sticks).
//!
//! Its parts:
//! - `server`: the accept loop (HTTP/1.1, optional TLS with rustls), the
//!   security headers on every answer, the stop on SIGTERM.
//! - `ctx`: what a request brings: the logged-in session (cookie), the
//!   CSRF check of every POST, the role check, the language, the client
//!   address (through a trusted proxy only when one is named).
//! - `lang`: English and Chinese texts.
//! - `html`: the page shell, the navigation, tables, pagination, errors.
//! - `pages/`: one file per area: login, dashboard, review queue,
//!   contracts, licenses, audit, outbox, staff.
//!
//! Every read and write goes through the store ([`crate::store::Tx`]) on
//! tokio's blocking threads; every action is one audit row under the
//! logged-in account.

mod ctx;
mod html;
mod lang;
mod pages;
mod server;

use core::net::IpAddr;
use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use crate::error::ConsoleError;
use crate::{Error, Home};

pub use lang::Lang;

/// `--listen`'s default: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8390";
/// Minutes a session may stay unused before it ends (`--idle-timeout`).
pub const DEFAULT_IDLE_MINUTES: u64 = 30;
/// Hours a session lasts at most, used or not.
pub const SESSION_MAX_HOURS: u64 = 12;

/// What `fanlic console` is asked to do.
#[derive(Clone, Debug)]
pub struct ConsoleOptions {
    /// The address to listen on, e.g. `127.0.0.1:8390` (port 0: any free port).
    pub listen: String,
    /// A PEM certificate chain and its PEM private key: HTTPS (cookies
    /// `Secure`); `None`: plain HTTP (loopback, or behind a TLS proxy).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are
    /// believed; from anyone else these headers are ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// Minutes a session may stay unused.
    pub idle_minutes: u64,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.to_owned(),
            tls: None,
            trusted_proxies: Vec::new(),
            idle_minutes: DEFAULT_IDLE_MINUTES,
        }
    }
}

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct App {
    /// The home; handlers use it on blocking threads, one at a time.
    pub(crate) home: Mutex<Home>,
    /// The options it was started with.
    pub(crate) opts: ConsoleOptions,
}

/// Runs the console until SIGINT or SIGTERM. Prints `listening on
/// http://ADDR` (or `https://`) as the first line on stdout once it
/// accepts connections.
pub fn run(home_dir: &Path, opts: &ConsoleOptions) -> Result<(), Error> {
    let home = Home::open(home_dir)?;
    let tls = match &opts.tls {
        Some((cert, key)) => Some(server::tls_config(cert, key)?),
        None => None,
    };
    let no_staff = home.store().read(|tx| tx.staff_accounts())?.is_empty();
    if no_staff {
        eprintln!(
            "warning: no staff account yet: nobody can log in. Create the first admin with\n  \
             fanlic --home {} staff add NAME --role admin --password-stdin",
            home_dir.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ConsoleError::Failed { reason: format!("cannot start the async runtime: {e}") })?;
    let app = Arc::new(App { home: Mutex::new(home), opts: opts.clone() });
    runtime.block_on(server::serve(app, tls))
}
