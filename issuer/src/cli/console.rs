//! `fanlic console`: the staff console, a web page on its own listener.

use core::net::IpAddr;
use std::path::{Path, PathBuf};

use clap::{Args, value_parser};
use fanlic_issuer::console::{self, ConsoleOptions};

/// Run the staff console: the review queue, contracts, licenses, audit and outbox in a browser
#[derive(Debug, Args)]
#[command(after_help = "\
The staff console is a separate listener from `fanlic serve` (which faces the internet): same
binary, same home. It listens on loopback by default; staff log in with the accounts of
`fanlic staff` (create the first admin with `fanlic staff add NAME --role admin
--password-stdin`). Pages are in English and 简体中文 (the browser's Accept-Language, and a switch
that sticks). Every action is one audit row under the account logged in.

Sessions: a cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) that ends after --idle-timeout
minutes unused and after 12 hours in all; every form carries a CSRF token. Every answer has
X-Frame-Options: DENY, a Content-Security-Policy (no script, forms post only here), nosniff
and Cache-Control: no-store.

HTTPS: --tls-cert and --tls-key (PEM), or a reverse proxy that terminates TLS: then name it with
--trusted-proxy ADDR, so that its X-Forwarded-For (the client's address, for the login limits)
and X-Forwarded-Proto: https (Secure cookies) are believed; from anyone else those headers are
ignored. Prints `listening on http://ADDR` first and stops gracefully on Ctrl-C or SIGTERM.

EXAMPLES:
  fanlic console
  fanlic console --listen 0.0.0.0:8390 --tls-cert console.crt --tls-key console.key
  fanlic console --listen 127.0.0.1:8390 --trusted-proxy 127.0.0.1")]
pub(crate) struct ConsoleArgs {
    /// The address and port to listen on (port 0: any free port)
    #[arg(long, value_name = "ADDR", default_value = console::DEFAULT_LISTEN)]
    listen: String,

    /// HTTPS: the certificate chain (PEM); needs --tls-key
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,

    /// HTTPS: the certificate's private key (PEM, mode 0600); needs --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,

    /// A reverse proxy in front of the console whose X-Forwarded-For and X-Forwarded-Proto are
    /// believed (repeatable)
    #[arg(long, value_name = "ADDR")]
    trusted_proxy: Vec<IpAddr>,

    /// Minutes a session may stay unused before it ends (1 to 1440)
    #[arg(long, value_name = "MINUTES", default_value_t = console::DEFAULT_IDLE_MINUTES,
          value_parser = value_parser!(u64).range(1..=1440))]
    idle_timeout: u64,
}

/// `fanlic console`: returns when stopped (Ctrl-C, SIGTERM).
pub(crate) fn run(home: &Path, a: &ConsoleArgs) -> anyhow::Result<u8> {
    let opts = ConsoleOptions {
        listen: a.listen.clone(),
        tls: a.tls_cert.clone().zip(a.tls_key.clone()),
        trusted_proxies: a.trusted_proxy.clone(),
        idle_minutes: a.idle_timeout,
    };
    console::run(home, &opts)?;
    Ok(0)
}
