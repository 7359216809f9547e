//! `fanlic serve`: the vendor's activation service (SPEC.md §6.1).
//!
//! The phone of the customer's admin scans the product's QR code, which is
//! `BASE_URL/TOKEN`. `GET` on it only shows what would be activated (link
//! previewers must change nothing); `POST` on it (the "Confirm activation"
//! button) checks again, binds the license to the project on its first
//! activation, records the attempt, and shows the 6-digit code the admin
//! types into the product.
//!
//! Design: HTTP on tokio (axum); one dedicated thread owns the home's
//! store. Requests reach it through a channel; it takes everything
//! queued, runs it in ONE transaction and commits once (group commit), then
//! answers each request through its oneshot. License rows are immutable, so
//! they are cached (with the activation key derived from the master secret,
//! which is never stored); revocations and bindings are always read fresh,
//! inside the transaction that records. Only requests whose challenge tag
//! verifies count against a license and are recorded under it.
//!
//! Its parts: `router` accepts connections, `handlers` answer requests,
//! `pages` write what is shown, `reason` says why an activation is
//! refused, `db` is the database thread, `limits` the connection and rate
//! limits (shared with the other instances on PostgreSQL), `instance` the
//! secrets compared with the other instances' (`/readyz`), `log` the
//! request log, `license_row` the cached license rows,
//! and [`receipts`] what receipts add (alerts, lease reminders). Every
//! record is read and written through the store ([`crate::store::Tx`]).

mod db;
mod handlers;
mod instance;
mod license_row;
mod limits;
mod log;
mod pages;
mod reason;
pub mod receipts;
mod router;

use crate::error::ServiceError;
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use crate::Error;
use crate::Home;
use crate::home::activation::MasterSecret;

use self::db::{Job, ask};
use self::handlers::App;
use self::instance::Instance;
use self::license_row::LicenseCache;
use self::limits::Limiter;
use self::log::Logger;

/// `--listen`'s default: the address [`crate::home::activation::DEFAULT_BASE_URL`] points at.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8380";
/// Requests per window for one license (`--rate-license`).
pub const DEFAULT_RATE_LICENSE: u32 = 30;
/// Requests per window from one client address (`--rate-client`).
pub const DEFAULT_RATE_CLIENT: u32 = 120;
/// The rate limits' window in seconds (`--rate-window`).
pub const DEFAULT_RATE_WINDOW_SECS: u64 = 60;
/// Challenges whose tag does not verify (and unknown license ids) allowed
/// per window from one client address (`--rate-forged`).
pub const DEFAULT_RATE_FORGED: u32 = 10;
/// Seconds a client has to send a request's headers, counted from the
/// connection's start or the end of its previous response: also the idle
/// timeout of a kept-alive connection (`--header-timeout`).
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// Seconds a connection may last in all, whatever it does: a slow body or a
/// client that does not read ends there.
pub const CONNECTION_MAX_SECS: u64 = 300;
/// Open connections at once (`--max-connections`).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 1024;
/// Open connections at once from one client address
/// (`--max-connections-per-client`).
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: u32 = 32;

/// How request logs are written on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// One line for people.
    Text,
}

/// What `fanlic serve` is asked to do.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The address to listen on, e.g. `127.0.0.1:8380` (port 0: any free port).
    pub listen: String,
    /// The master secret file; `None`: the home's ([`Home::activation_master_path`]).
    pub master_secret: Option<PathBuf>,
    /// Requests allowed per window for one license id.
    pub rate_license: u32,
    /// Requests allowed per window from one client IP address.
    pub rate_client: u32,
    /// The rate limits' window, in seconds.
    pub rate_window_secs: u64,
    /// Challenges that do not verify allowed per window from one client.
    pub rate_forged: u32,
    /// Seconds to send a request's headers; also the idle timeout.
    pub header_timeout_secs: u64,
    /// Open connections at once.
    pub max_connections: u32,
    /// Open connections at once from one client address.
    pub max_connections_per_client: u32,
    /// How to write request logs.
    pub log: LogFormat,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for rate
    /// limits, logs and activation records); a proxy's own connections
    /// count against the total cap only, not the per-client one.
    pub trusted_proxies: Vec<core::net::IpAddr>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.to_owned(),
            master_secret: None,
            rate_license: DEFAULT_RATE_LICENSE,
            rate_client: DEFAULT_RATE_CLIENT,
            rate_window_secs: DEFAULT_RATE_WINDOW_SECS,
            rate_forged: DEFAULT_RATE_FORGED,
            header_timeout_secs: DEFAULT_HEADER_TIMEOUT_SECS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_client: DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
            log: LogFormat::Json,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Runs the service until SIGINT or SIGTERM. Prints `listening on
/// http://ADDR` as the first line on stdout once it accepts connections.
pub fn run(home_dir: &Path, opts: &ServeOptions) -> Result<(), Error> {
    let home = Home::open(home_dir)?;
    let master_path = match &opts.master_secret {
        Some(p) => p.clone(),
        None => home.activation_master_path()?,
    };
    if !master_path.exists() {
        return Err(Error::Service(ServiceError::NoMasterSecret { path: master_path }));
    }
    // Checks the mode (0600) too.
    let master = MasterSecret::load(&master_path)?;
    // Code-policy licenses need no receipt key; receipt requests are
    // refused (`no_receipt_key`) until one is valid. Said once at start.
    if let Ok(now) = crate::util::clock::now()
        && crate::home::newest_valid(&home.receipt_keys()?, now).is_none()
    {
        eprintln!(
            "warning: no receipt key is valid now: receipt-policy activations are refused (no_receipt_key) \
             until you run `fanlic keys receipt-key --root-key PATH`"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Service(ServiceError::Failed { reason: format!("cannot start the async runtime: {e}") }))?;
    let cache: LicenseCache = Arc::new(Mutex::new(HashMap::new()));
    let instance = Arc::new(Instance::new(home.store().is_postgres()));
    let (db, db_thread) = db::start(home, (master, master_path), Arc::clone(&cache), Arc::clone(&instance))?;
    let (lines, log_thread) = log::start()?;
    let app = Arc::new(App {
        db,
        cache,
        log: Logger { lines, format: opts.log },
        by_license: Limiter::new("license", opts.rate_license, opts.rate_window_secs),
        by_client: Limiter::new("client", opts.rate_client, opts.rate_window_secs),
        forged_by_client: Limiter::new("forged", opts.rate_forged, opts.rate_window_secs),
        instance: Arc::clone(&instance),
    });
    if instance.shared {
        // Ended with the runtime, which drops its hold on the queue.
        runtime.spawn(sync_limits(Arc::clone(&app)));
    }
    let served = runtime.block_on(router::serve(opts, Arc::clone(&app)));
    // Dropping the last senders ends both threads once their queues are done.
    drop(app);
    drop(runtime);
    let _ = db_thread.join();
    let _ = log_thread.join();
    served
}

/// Syncs the rate limits' counts with the other instances' through the
/// database every [`limits::SYNC_EVERY`] (see [`Limiter`] for the slack),
/// and removes windows long past about once a minute. A receipt key found
/// missing is looked for again with each sync.
async fn sync_limits(app: Arc<App>) {
    use crate::store::instances::RateCount;
    let mut tick = tokio::time::interval(limits::SYNC_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        n = n.wrapping_add(1);
        let license = app.by_license.unsynced();
        let client = app.by_client.unsynced();
        let forged = app.forged_by_client.unsynced();
        let mut counts = Vec::new();
        let mut add = |scope, window_start, keys: Vec<String>, adds: Vec<u32>| {
            for (key, add) in keys.into_iter().zip(adds) {
                counts.push(RateCount { scope, key, window_start, add });
            }
        };
        add(
            app.by_license.scope(),
            license.window_start,
            license.counts.iter().map(|(k, _)| k.to_string()).collect(),
            license.counts.iter().map(|(_, a)| *a).collect(),
        );
        add(
            app.by_client.scope(),
            client.window_start,
            client.counts.iter().map(|(k, _)| k.to_string()).collect(),
            client.counts.iter().map(|(_, a)| *a).collect(),
        );
        add(
            app.forged_by_client.scope(),
            forged.window_start,
            forged.counts.iter().map(|(k, _)| k.to_string()).collect(),
            forged.counts.iter().map(|(_, a)| *a).collect(),
        );
        let longest =
            app.by_license.window_secs().max(app.by_client.window_secs()).max(app.forged_by_client.window_secs());
        let prune_before = n
            .is_multiple_of(60)
            .then(|| crate::util::clock::now().ok())
            .flatten()
            .map(|now| now.0.saturating_sub(longest.saturating_mul(2)));
        let recheck = matches!(app.instance.receipt(), instance::Check::Differs { .. });
        if counts.is_empty() && prune_before.is_none() && !recheck {
            continue;
        }
        let answer = ask(&app.db, |reply| Job::Sync { counts, prune_before, reply }).await.ok();
        let (l, c) = (license.counts.len(), client.counts.len());
        let part = |from: usize, len: usize| answer.as_ref().and_then(|t| t.get(from..from + len));
        app.by_license.synced(&license, part(0, l));
        app.by_client.synced(&client, part(l, c));
        app.forged_by_client.synced(&forged, part(l + c, forged.counts.len()));
    }
}

/// Where the service publishes the newest revocation list (SPEC.md §5),
/// at a stable URL products and authorization servers can fetch.
pub const REVOCATIONS_PATH: &str = "/revocations.bin";

/// The last path segment of the receipt endpoint: `BASE/receipt`, under
/// whatever path the activation base URL has (a token is never this short).
pub const RECEIPT_SEGMENT: &str = "receipt";
