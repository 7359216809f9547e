//! `fanlic serve`: the activation service the product's QR codes point at.

use std::path::{Path, PathBuf};

use clap::{Args, value_parser};
use fanlic_issuer::service::{self, LogFormat, ServeOptions};

/// Run the activation service the product's QR codes point at
#[derive(Debug, Args)]
#[command(after_help = "\
The product shows a QR code for BASE_URL/TOKEN (the license's activation base URL, by default
http://127.0.0.1:8380/a). The admin's phone opens it:
  GET  /.../TOKEN   shows the company, project, product and node count, and a button; it
                    records nothing (link previewers change nothing)
  POST /.../TOKEN   confirms: checks again, binds the license to the project on its first
                    activation, records the attempt, and shows the 6-digit code to type into the
                    product within 5 minutes
  POST /.../receipt  the token as the body (text/plain; an authorization server adds a line
                    `instance-key HEX`): checks and records as the confirmation does, and answers
                    JSON with a receipt signed by the newest valid receipt key (receipt-policy
                    licenses only); the one endpoint with CORS (Access-Control-Allow-Origin: *,
                    no credentials; OPTIONS answers the preflight)
  GET  /healthz     ok (JSON {\"status\":\"ok\"} with Accept: application/json): the process is up
  GET  /readyz      200 when the database answers, its schema is current and this instance's
                    secrets match the database's; else 503, JSON naming each failing check and
                    what to do
  GET  /revocations.bin   the newest list `fanlic revocations export` recorded (404 before one)
A receipt-policy license's confirmation shows its receipt (download receipt.fanlic), not a code.
A request with `Accept: application/json` gets JSON. Refusals list every reason, each with a code
(malformed, unknown_license, no_activation_key, forged_challenge, qr_expired, revoked,
license_expired, wrong_kind, wrong_policy, instance_key_missing, stale_private_config,
max_licenses_reached, forked, too_many_nodes, no_receipt_key, rate_limited, unavailable,
instance_misconfigured, internal_error) and what to do; formats/SPEC.md §6.3 describes each.
The database out of reach gives 503 `unavailable` with Retry-After: 5 (nothing is recorded; a
code is shown only once its activation is committed); the service recovers by itself.
A license bound to another project needs `fanlic unbind` first.
A server asking with a receipt that is not the latest of its binding is refused `forked` and
flagged (`fanlic alerts`), as is a local container's binding with more than 10 receipts a day
(issued). With no valid receipt key, receipts are refused (no_receipt_key) until
`fanlic keys receipt-key` makes one.

Only a challenge whose tag verifies counts against its license (--rate-license) and is recorded
under it; a forged one, or one for an unknown license, counts against its client address
(--rate-forged) and only a per-client daily count is kept. On PostgreSQL the limits are shared by
every instance: each syncs its counts with the database about once a second, so together they
may admit what the others admitted in the last second beyond a limit. Every answer carries
X-Frame-Options: DENY, a Content-Security-Policy (no script, no framing, forms post only here),
nosniff, Referrer-Policy: no-referrer and Cache-Control: no-store. A client has --header-timeout
seconds to send a request's headers (also the idle timeout), a connection lasts at most 300 s,
and connections over --max-connections (or --max-connections-per-client from one address) get
a 503.

Several instances may serve one PostgreSQL database (--database), each holding the home's
activation/ and receipt-keys/ folders. At start each compares its master secret (version and a
check value, never the secret) and the receipt key that signs now with what the database records
(the first instance records its master secret's); one that differs says so once on stderr,
answers /readyz 503 and refuses confirmations (503 instance_misconfigured) until it is fixed.

Keys are derived from the activation master secret (mode 0600), never stored. Prints `listening
on http://ADDR` first, one log line per request on stderr (never a token or code), and stops
gracefully on Ctrl-C or SIGTERM.

EXAMPLES:
  fanlic serve
  fanlic serve --listen 0.0.0.0:8380 --log text
  fanlic serve --master-secret /etc/fanlic/master.secret --rate-license 10 --rate-window 60")]
pub(crate) struct ServeArgs {
    /// The address and port to listen on (port 0: any free port)
    #[arg(long, value_name = "ADDR", default_value = service::DEFAULT_LISTEN)]
    listen: String,

    /// The activation master secret [default: the home's, HOME/activation/master.secret]
    #[arg(long, value_name = "FILE")]
    master_secret: Option<PathBuf>,

    /// Requests allowed per window for one license
    #[arg(long, value_name = "N", default_value_t = service::DEFAULT_RATE_LICENSE,
          value_parser = value_parser!(u32).range(1..))]
    rate_license: u32,

    /// Requests allowed per window from one client address
    #[arg(long, value_name = "N", default_value_t = service::DEFAULT_RATE_CLIENT,
          value_parser = value_parser!(u32).range(1..))]
    rate_client: u32,

    /// The rate limits' window in seconds (1 to 86400)
    #[arg(long, value_name = "SECS", default_value_t = service::DEFAULT_RATE_WINDOW_SECS,
          value_parser = value_parser!(u64).range(1..=86400))]
    rate_window: u64,

    /// Challenges that do not verify (or name an unknown license) allowed per window from one
    /// client address
    #[arg(long, value_name = "N", default_value_t = service::DEFAULT_RATE_FORGED,
          value_parser = value_parser!(u32).range(1..))]
    rate_forged: u32,

    /// Seconds a client has to send a request's headers; also the idle timeout (1 to 300)
    #[arg(long, value_name = "SECS", default_value_t = service::DEFAULT_HEADER_TIMEOUT_SECS,
          value_parser = value_parser!(u64).range(1..=300))]
    header_timeout: u64,

    /// Open connections at once
    #[arg(long, value_name = "N", default_value_t = service::DEFAULT_MAX_CONNECTIONS,
          value_parser = value_parser!(u32).range(1..))]
    max_connections: u32,

    /// Open connections at once from one client address
    #[arg(long, value_name = "N", default_value_t = service::DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
          value_parser = value_parser!(u32).range(1..))]
    max_connections_per_client: u32,

    /// A reverse proxy in front of the service whose X-Forwarded-For is believed (repeatable);
    /// without it, behind a proxy every customer has the proxy's address and shares one rate limit
    #[arg(long, value_name = "ADDR")]
    trusted_proxy: Vec<core::net::IpAddr>,

    /// Request log format on stderr
    #[arg(long, value_name = "FORMAT", default_value = "json", value_parser = ["json", "text"])]
    log: String,
}

/// `fanlic serve`: returns when stopped (Ctrl-C, SIGTERM).
pub(crate) fn run(home: &Path, a: &ServeArgs) -> anyhow::Result<u8> {
    let opts = ServeOptions {
        listen: a.listen.clone(),
        master_secret: a.master_secret.clone(),
        rate_license: a.rate_license,
        rate_client: a.rate_client,
        rate_window_secs: a.rate_window,
        rate_forged: a.rate_forged,
        header_timeout_secs: a.header_timeout,
        max_connections: a.max_connections,
        max_connections_per_client: a.max_connections_per_client,
        log: if a.log == "text" { LogFormat::Text } else { LogFormat::Json },
        trusted_proxies: a.trusted_proxy.clone(),
    };
    service::run(home, &opts)?;
    Ok(0)
}
