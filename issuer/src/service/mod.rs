//! `fanlic serve`: the vendor's activation service (SPEC.md §6.2).
//!
//! The phone of the customer's admin scans the product's QR code, which is
//! `BASE_URL/TOKEN`. `GET` on it only shows what would be activated (link
//! previewers must change nothing); `POST` on it (the "Confirm activation"
//! button) checks again, binds the license to the project on its first
//! activation, records the attempt, and shows the 6-digit code the admin
//! types into the product.
//!
//! Design: HTTP on tokio (axum); one dedicated thread owns the SQLite
//! connection. Requests reach it through a channel; it takes everything
//! queued, runs it in ONE transaction and commits once (group commit), then
//! answers each request through its oneshot. License rows are immutable, so
//! they are cached (with the activation key derived from the master secret,
//! which is never stored); revocations and bindings are always read fresh,
//! inside the transaction that records. Only requests whose challenge tag
//! verifies count against a license and are recorded under it.

pub mod receipts;

use core::{
    convert::Infallible,
    fmt::Write as _,
    net::{IpAddr, SocketAddr},
    time::Duration,
};
use std::{
    collections::HashMap,
    io::{BufWriter, Write as _},
    path::{Path, PathBuf},
    sync::{Arc, LazyLock, Mutex, mpsc},
    thread,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse as _, Response},
    routing::get,
};
use fanlic_formats::{
    ActivationPolicy, Date, Expiry, LicenseId, LicenseKind, SignedBody, Timestamp,
    activation::{ActivationChallenge, CHALLENGE_VALID_SECS, MAX_TOKEN_LEN, ServerInstance, Token},
    receipt::{Receipt, receipt_id},
};
use fanlic_verifier::{
    Cause, Lang, ShownDate,
    activation::{ActivationKey, ChallengeError, Code, claimed_license_id, open_challenge, token_from_url},
    content_incorrect_title,
};
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};
use serde_json::json;
use tokio::sync::oneshot;

use crate::Error;
use crate::Home;
use crate::home::activation::MasterSecret;
use crate::home::keys::SigningKey;
use crate::util::hex;

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
/// How long a stop waits for open requests.
const DRAIN_SECS: u64 = 10;
/// Most requests the database thread commits in one transaction.
const MAX_BATCH: usize = 1024;
/// Who the service writes into the audit trail.
const AUDIT_BY: &str = "fanlic serve";

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
        return Err(Error::ServeNoMasterSecret { path: master_path });
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
        .map_err(|e| Error::Serve { reason: format!("cannot start the async runtime: {e}") })?;
    let cache: LicenseCache = Arc::new(Mutex::new(HashMap::new()));
    let (db, db_thread) = start_db_thread(home, master, Arc::clone(&cache))?;
    let (log, log_thread) = start_log_thread()?;
    let app = Arc::new(App {
        db,
        cache,
        log,
        log_format: opts.log,
        by_license: Limiter::new(opts.rate_license, opts.rate_window_secs),
        by_client: Limiter::new(opts.rate_client, opts.rate_window_secs),
        forged_by_client: Limiter::new(opts.rate_forged, opts.rate_window_secs),
    });
    let served = runtime.block_on(serve(opts, Arc::clone(&app)));
    // Dropping the last senders ends both threads once their queues are done.
    drop(app);
    drop(runtime);
    let _ = db_thread.join();
    let _ = log_thread.join();
    served
}

async fn serve(opts: &ServeOptions, app: Arc<App>) -> Result<(), Error> {
    let listen_err = |source| Error::ServeListen { addr: opts.listen.clone(), source };
    let listener = tokio::net::TcpListener::bind(&opts.listen).await.map_err(listen_err)?;
    let addr = listener.local_addr().map_err(listen_err)?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}").and_then(|()| out.flush()).map_err(Error::Output)?;
    }
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route(REVOCATIONS_PATH, get(revocation_list))
        .fallback(token_request)
        .with_state(Arc::clone(&app));
    // Our own accept loop (axum::serve has no header-read timeout and no
    // connection cap): hyper's HTTP/1.1 with a header-read timeout, which
    // runs from a connection's start and again after each response, so it is
    // also the idle timeout of a kept-alive connection.
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(opts.header_timeout_secs.max(1)))
        .keep_alive(true)
        .max_buf_size(16 * 1024);
    let conns = Arc::new(Conns::new(opts.max_connections, opts.max_connections_per_client));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors, or a connection reset before it
                // was accepted: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = Conns::enter(&conns, peer.ip()) else {
            let out = Outcome {
                license_id: None,
                status: StatusCode::SERVICE_UNAVAILABLE,
                outcome: "too_many_connections",
                error: None,
            };
            // Refused before any request was read: no method, no path.
            log_request(&app, "-", "", peer.ip(), &out, Instant::now());
            tokio::spawn(refuse_connection(stream));
            continue;
        };
        let router = router.clone();
        let http = http.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let svc = hyper::service::service_fn(move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let router = router.clone();
                async move {
                    use tower::ServiceExt as _;
                    let mut r = router.oneshot(req).await.unwrap_or_else(|never: Infallible| match never {});
                    secure_headers(r.headers_mut());
                    Ok::<_, Infallible>(r)
                }
            });
            let conn = http.serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
            tokio::pin!(conn);
            let deadline = tokio::time::sleep(Duration::from_secs(CONNECTION_MAX_SECS));
            tokio::pin!(deadline);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.changed() => conn.as_mut().graceful_shutdown(),
                () = &mut deadline => conn.as_mut().graceful_shutdown(),
            }
            // A request in progress finishes; a connection that does not
            // end soon after is dropped.
            let _ = tokio::time::timeout(Duration::from_secs(DRAIN_SECS), conn).await;
        });
    }
    let _ = stop_tx.send(true);
    drop(listener);
    let until = Instant::now() + Duration::from_secs(DRAIN_SECS + 1);
    while conns.open() > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Answers a connection over the cap with a 503 and closes it, giving the
/// client at most a second to take the answer.
async fn refuse_connection(stream: tokio::net::TcpStream) {
    let body = "Too many connections. Try again in a few seconds.\n";
    let mut head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in security_header_list() {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    head.push_str(body);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut rest = head.as_bytes();
        while !rest.is_empty() && stream.writable().await.is_ok() {
            match stream.try_write(rest) {
                Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
    })
    .await;
}

/// Open connections, in all and per client address.
struct Conns {
    max: u32,
    max_per_client: u32,
    state: Mutex<(u32, HashMap<IpAddr, u32>)>,
}

/// One open connection: counted until dropped.
struct Slot {
    conns: Arc<Conns>,
    client: IpAddr,
}

impl Conns {
    fn new(max: u32, max_per_client: u32) -> Self {
        Self { max: max.max(1), max_per_client: max_per_client.max(1), state: Mutex::new((0, HashMap::new())) }
    }

    /// A slot for a new connection from `client`; `None` when over a cap.
    fn enter(this: &Arc<Self>, client: IpAddr) -> Option<Slot> {
        let mut state = this.state.lock().ok()?;
        let (total, per_client) = &mut *state;
        let n = per_client.get(&client).copied().unwrap_or(0);
        if *total >= this.max || n >= this.max_per_client {
            return None;
        }
        *total += 1;
        per_client.insert(client, n + 1);
        Some(Slot { conns: Arc::clone(this), client })
    }

    fn open(&self) -> u32 {
        self.state.lock().map_or(0, |s| s.0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut state) = self.conns.state.lock() {
            let (total, per_client) = &mut *state;
            *total = total.saturating_sub(1);
            if let Some(n) = per_client.get_mut(&self.client) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    per_client.remove(&self.client);
                }
            }
        }
    }
}

/// The page's one style sheet, inline: the CSP admits it by its hash, and
/// nothing else inline.
const STYLE: &str = "\n\
body{font-family:sans-serif;font-size:1.25rem;line-height:1.5;margin:1rem;max-width:40rem}\n\
h1{font-size:1.6rem} h2{font-size:1.3rem;margin:.5rem 0 0 0} dt{font-weight:bold} dd{margin:0 0 .5rem 0}\n\
button{font-size:1.4rem;padding:1rem;width:100%;border-radius:.5rem}\n\
.digits{font-size:3.5rem;font-weight:bold;letter-spacing:.3em;font-family:monospace;text-align:center}\n\
.next{font-weight:bold} .code{color:#666;font-size:1rem}\n";

/// The Content-Security-Policy of every answer: nothing loads but the
/// page's own style sheet; no script runs (`script-src 'self'`, and the
/// service serves none); forms post only to the service; no framing.
static CSP: LazyLock<String> = LazyLock::new(|| {
    use base64::Engine as _;
    let digest = ring::digest::digest(&ring::digest::SHA256, STYLE.as_bytes());
    let hash = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
    format!(
        "default-src 'none'; script-src 'self'; style-src 'sha256-{hash}'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
});

/// The headers every answer carries (SPEC.md §6.4).
fn security_header_list() -> [(&'static str, &'static str); 5] {
    [
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", CSP.as_str()),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        // Pages and JSON answers carry codes and license terms: no browser
        // or proxy keeps them.
        ("Cache-Control", "no-store"),
    ]
}

fn secure_headers(headers: &mut HeaderMap) {
    for (name, value) in security_header_list() {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => core::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// Shared by every request.
struct App {
    db: mpsc::Sender<Job>,
    cache: LicenseCache,
    log: mpsc::Sender<String>,
    log_format: LogFormat,
    by_license: Limiter<LicenseId>,
    by_client: Limiter<IpAddr>,
    /// Requests whose license id could not be authenticated (forged tag,
    /// unknown license, no key), per client: they never count against a
    /// license, so that knowing a license id does not block its activation.
    forged_by_client: Limiter<IpAddr>,
}

/// License rows by id: immutable once issued, so never invalidated.
type LicenseCache = Arc<Mutex<HashMap<LicenseId, Arc<LicenseRow>>>>;

/// What the service needs of a license.
#[derive(Debug)]
struct LicenseRow {
    id: LicenseId,
    app_name: String,
    company: String,
    project: String,
    expiry: Expiry,
    max_nodes: u32,
    kind: LicenseKind,
    issuing_key_id: String,
    /// The key challenges are MACed with: the activation key under the code
    /// policy, the challenge key under the receipt policy (SPEC.md §3.3).
    /// `None`: no key can be derived (none issued, or another master secret).
    key: Option<ActivationKey>,
    /// How it is activated.
    policy: ActivationPolicy,
    /// SHA-256 of the raw license file, as receipts name it.
    file_sha256: [u8; 32],
    /// The company as contracts compare it, to find the contract's lease.
    company_key: String,
}

// ---------------------------------------------------------------------------
// Refusal reasons.

/// Why an activation is refused, in the order they are checked and reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Reason {
    Malformed,
    UnknownLicense,
    NoActivationKey,
    ForgedChallenge,
    QrExpired,
    Revoked,
    LicenseExpired,
    WrongKind,
    WrongPolicy,
    InstanceKeyMissing,
    StalePrivateConfig,
    MaxLicensesReached,
    Forked,
    TooManyNodes,
    NoReceiptKey,
}

impl Reason {
    fn code(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnknownLicense => "unknown_license",
            Self::NoActivationKey => "no_activation_key",
            Self::ForgedChallenge => "forged_challenge",
            Self::QrExpired => "qr_expired",
            Self::Revoked => "revoked",
            Self::LicenseExpired => "license_expired",
            Self::WrongKind => "wrong_kind",
            Self::StalePrivateConfig => "stale_private_config",
            Self::MaxLicensesReached => "max_licenses_reached",
            Self::TooManyNodes => "too_many_nodes",
            Self::WrongPolicy => "wrong_policy",
            Self::InstanceKeyMissing => "instance_key_missing",
            Self::Forked => "forked",
            Self::NoReceiptKey => "no_receipt_key",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::Malformed => StatusCode::BAD_REQUEST,
            Self::UnknownLicense => StatusCode::NOT_FOUND,
            Self::NoActivationKey
            | Self::MaxLicensesReached
            | Self::TooManyNodes
            | Self::WrongKind
            | Self::WrongPolicy
            | Self::Forked
            | Self::StalePrivateConfig => StatusCode::CONFLICT,
            Self::InstanceKeyMissing => StatusCode::BAD_REQUEST,
            Self::NoReceiptKey => StatusCode::SERVICE_UNAVAILABLE,
            Self::ForgedChallenge | Self::Revoked | Self::LicenseExpired => StatusCode::FORBIDDEN,
            Self::QrExpired => StatusCode::GONE,
        }
    }

    /// A plain message saying what happened and what to do.
    fn message(self, license: Option<&LicenseRow>, nodes: u32) -> String {
        match self {
            Self::Malformed => "This is not a valid activation QR code. Scan the QR code on the product's \
                                activation page again; if this persists, refresh the QR code there."
                .to_owned(),
            Self::UnknownLicense => "The vendor has no record of this license. Check that the product uses the \
                                     Container.lic the vendor sent you, or contact the vendor."
                .to_owned(),
            Self::NoActivationKey => "This license cannot be activated by this service (it has no activation key \
                                      this service can check). Ask the vendor for a new license."
                .to_owned(),
            Self::ForgedChallenge => "This QR code was not made by the licensed product. Scan the QR code on \
                                      the product's own activation page; if this persists, contact the vendor."
                .to_owned(),
            Self::QrExpired => format!(
                "This QR code has expired (a QR code is valid for {} minutes). Refresh the QR code on the \
                 product and scan it again.",
                CHALLENGE_VALID_SECS / 60
            ),
            Self::Revoked => "The vendor has revoked this license. Contact the vendor for a new license.".to_owned(),
            Self::WrongKind => match license.map(|l| l.kind) {
                Some(LicenseKind::PrivateCloud) => "This license is for a private-cloud authorization server: \
                    activate it from the server's own page (https://SERVER:18081/license/qrcode), not from the \
                    product."
                    .to_owned(),
                _ => "This QR code comes from an authorization server, but the license is not a private-cloud \
                      license. Install the license in the product itself, or ask the vendor for the right one."
                    .to_owned(),
            },
            Self::StalePrivateConfig => "This authorization server's state (privateConfig) is older than the one \
                already activated: it was restored from a copy. Start the server with its current /app/config, \
                or ask the vendor to migrate the license."
                .to_owned(),
            Self::LicenseExpired => match license.map(|l| l.expiry) {
                Some(Expiry::On(d)) => {
                    format!("This license expired at the end of {d}. Contact the vendor to renew it.")
                }
                _ => "This license has expired. Contact the vendor to renew it.".to_owned(),
            },
            Self::MaxLicensesReached => format!(
                "The maximum license number has been reached. This license is already registered to \
                 another project; to move it to this one, ask the vendor to cancel the old registration \
                 (`fanlic unbind {}`).",
                license.map_or_else(String::new, |l| l.id.to_string())
            ),
            Self::TooManyNodes => format!(
                "The cluster has {nodes} nodes but this license allows at most {}. Remove nodes, or ask \
                 the vendor for a license with more nodes.",
                license.map_or(0, |l| l.max_nodes)
            ),
            Self::WrongPolicy => "This license is activated with a 6-digit code, not a receipt: open the QR \
                code's address and type the code shown into the product."
                .to_owned(),
            Self::InstanceKeyMissing => "An authorization server's receipt names its instance key: send it \
                with the token (a second line `instance-key HEX`, or `?instance_key=HEX` on the page's address), \
                the key whose fingerprint the challenge carries."
                .to_owned(),
            Self::Forked => "This authorization server asked with an activation receipt that is not the \
                latest one issued for it: a copy of the server runs somewhere. No receipt was issued; the \
                vendor has been alerted. Contact the vendor's business staff."
                .to_owned(),
            Self::NoReceiptKey => "The activation service has no valid receipt key; the vendor must make one \
                (`fanlic keys receipt-key --root-key PATH`). Try again later."
                .to_owned(),
        }
    }
}

/// A refusal as a person reads it, in their language: the cause's name, what
/// happened, and what to do next.
struct Texts {
    title: &'static str,
    prompt: String,
    advice: String,
}

impl Texts {
    fn new(lang: Lang, [en, zh]: [&'static str; 2], prompt: String, advice: [&str; 2]) -> Self {
        Self { title: lang.pick(en, zh), prompt, advice: pick(lang, advice).to_owned() }
    }

    /// The verifier's texts of a license cause, as the product shows them.
    fn of_cause(c: &Cause<'_>, lang: Lang) -> Self {
        Self { title: c.title(lang), prompt: c.prompt(lang).to_string(), advice: c.advice(lang).to_string() }
    }
}

fn pick(lang: Lang, [en, zh]: [&str; 2]) -> &str {
    match lang {
        Lang::ZhCn => zh,
        _ => en,
    }
}

impl Reason {
    /// [`Reason::message`] for a person reading `lang`: the verifier's texts
    /// where the reason is one of its causes (expired, nodes, license type),
    /// else the service's own.
    fn texts(self, lang: Lang, license: Option<&LicenseRow>, nodes: u32, now: Timestamp) -> Texts {
        let content = [content_incorrect_title(Lang::En), content_incorrect_title(Lang::ZhCn)];
        let id = license.map_or_else(String::new, |l| l.id.to_string());
        let text = |en: String, zh: String| pick(lang, [en.as_str(), zh.as_str()]).to_owned();
        match self {
            Self::Malformed => Texts::new(
                lang,
                ["Not an activation QR code", "不是有效的激活二维码"],
                text(
                    "This address is not a valid activation QR code.".to_owned(),
                    "此地址不是有效的激活二维码。".to_owned(),
                ),
                [
                    "Scan the QR code on the product's activation page again; if this persists, refresh the QR code there.",
                    "请重新扫描产品激活页面上的二维码；如仍出现此提示，请在产品上刷新二维码。",
                ],
            ),
            Self::UnknownLicense => Texts::new(
                lang,
                content,
                text("The vendor has no record of this license.".to_owned(), "厂商没有此许可证的记录。".to_owned()),
                [
                    "Check that the product uses the Container.lic the vendor sent you, or contact the vendor's business staff.",
                    "请检查产品使用的是否为厂商发送的 Container.lic，或联系商务人员。",
                ],
            ),
            Self::NoActivationKey => Texts::new(
                lang,
                content,
                text(
                    "This license has no activation key this service can check, so it cannot be activated here."
                        .to_owned(),
                    "此许可证没有本服务可校验的激活密钥，无法在此激活。".to_owned(),
                ),
                ["Ask the vendor's business staff for a new license.", "请联系商务人员申请新的许可证。"],
            ),
            Self::ForgedChallenge => Texts::new(
                lang,
                ["Invalid QR code", "二维码无效"],
                text(
                    "This QR code was not made by the licensed product.".to_owned(),
                    "此二维码不是由已授权的产品生成的。".to_owned(),
                ),
                [
                    "Scan the QR code on the product's own activation page; if this persists, contact the vendor's business staff.",
                    "请扫描产品自身激活页面上的二维码；如仍出现此提示，请联系商务人员。",
                ],
            ),
            Self::QrExpired => Texts::new(
                lang,
                ["QR code expired", "二维码已过期"],
                text(
                    format!("A QR code is valid for {} minutes, and this one has expired.", CHALLENGE_VALID_SECS / 60),
                    format!("二维码的有效期为 {} 分钟，此二维码已过期。", CHALLENGE_VALID_SECS / 60),
                ),
                ["Refresh the QR code on the product and scan it again.", "请在产品上刷新二维码后重新扫描。"],
            ),
            Self::Revoked => Texts::new(
                lang,
                content,
                text(format!("The vendor revoked this license ({id})."), format!("厂商已吊销此许可证（{id}）。")),
                [
                    "This license can no longer be activated: contact the vendor's business staff for a new one.",
                    "此许可证已无法激活，请联系商务人员申请新的许可证。",
                ],
            ),
            Self::LicenseExpired => match license.map(|l| l.expiry) {
                Some(Expiry::On(expiry)) => Texts::of_cause(&Cause::LicenseExpired { expiry, now }, lang),
                _ => Texts::new(
                    lang,
                    ["License Expired", "许可证已过期"],
                    String::new(),
                    ["Ask the vendor's business staff to renew the license.", "请联系商务人员续期许可证。"],
                ),
            },
            // The product and the license disagree on the authentication
            // method: a QR code from a product for a private-cloud license,
            // or from an authorization server for a local-container one.
            Self::WrongKind => {
                let licensed = license.map_or(LicenseKind::LocalContainer, |l| l.kind);
                let selected = match licensed {
                    LicenseKind::PrivateCloud => LicenseKind::LocalContainer,
                    LicenseKind::LocalContainer => LicenseKind::PrivateCloud,
                };
                let mut t = Texts::of_cause(&Cause::LicenseTypeMismatch { licensed, selected }, lang);
                if licensed == LicenseKind::PrivateCloud {
                    t.advice = pick(
                        lang,
                        [
                            "A private-cloud license is activated from its authorization server's own page \
                             (https://SERVER:18081/license/qrcode), not from the product: scan the QR code there.",
                            "私有云许可证需在授权服务器自己的页面（https://SERVER:18081/license/qrcode）上激活，\
                             而不是在产品上：请扫描该页面上的二维码。",
                        ],
                    )
                    .to_owned();
                }
                t
            }
            Self::StalePrivateConfig => Texts::new(
                lang,
                ["Old authorization server state", "授权服务器状态过旧"],
                text(
                    "This authorization server's state (privateConfig) is older than the one already activated: \
                     it was restored from a copy."
                        .to_owned(),
                    "此授权服务器的状态（privateConfig）比已激活的状态旧：它是从副本恢复的。".to_owned(),
                ),
                [
                    "Start the server with its current /app/config, or ask the vendor's business staff to migrate the license.",
                    "请使用当前的 /app/config 启动授权服务器，或联系商务人员迁移许可证。",
                ],
            ),
            Self::MaxLicensesReached => Texts {
                title: pick(lang, ["The maximum license number has been reached.", "已达到许可证最大注册数。"]),
                prompt: text(
                    "This license is already registered to another project.".to_owned(),
                    "此许可证已注册到另一个项目。".to_owned(),
                ),
                advice: text(
                    format!(
                        "To move it to this project, ask the vendor's business staff to cancel the old \
                         registration (fanlic unbind {id})."
                    ),
                    format!("如需迁移到本项目，请联系商务人员注销原有注册（fanlic unbind {id}）。"),
                ),
            },
            Self::TooManyNodes => {
                Texts::of_cause(&Cause::LicenseExhausted { max_nodes: license.map_or(0, |l| l.max_nodes), nodes }, lang)
            }
            Self::WrongPolicy => Texts::new(
                lang,
                ["Activated by code", "使用激活码激活"],
                text(
                    "This license is activated with a 6-digit code, not with a receipt.".to_owned(),
                    "此许可证使用 6 位激活码激活，而不是激活回执。".to_owned(),
                ),
                [
                    "Open the QR code's address on a phone and type the code shown into the product.",
                    "请用手机打开二维码中的地址，并将显示的激活码输入产品。",
                ],
            ),
            Self::InstanceKeyMissing => Texts::new(
                lang,
                ["Instance key missing", "缺少实例公钥"],
                text(
                    "An authorization server's receipt names its instance key, and none that matches the challenge was sent."
                        .to_owned(),
                    "授权服务器的激活回执须写明其实例公钥，但请求中没有与挑战相符的实例公钥。".to_owned(),
                ),
                [
                    "Use the activation button on the server's own page (https://SERVER:18081/license/qrcode).",
                    "请使用授权服务器自己页面（https://SERVER:18081/license/qrcode）上的激活按钮。",
                ],
            ),
            Self::Forked => Texts::new(
                lang,
                ["Copy of the authorization server", "授权服务器副本"],
                text(
                    "This authorization server asked with an activation receipt that is not the latest one issued \
                     for it: a copy of the server runs somewhere. No receipt was issued."
                        .to_owned(),
                    "此授权服务器提交的激活回执不是为其签发的最新回执：有一份服务器副本在别处运行。未签发回执。".to_owned(),
                ),
                [
                    "The vendor has been alerted: contact the vendor's business staff.",
                    "厂商已收到提醒：请联系商务人员。",
                ],
            ),
            Self::NoReceiptKey => Texts::new(
                lang,
                ["Service not ready", "服务暂不可用"],
                text(
                    "The activation service has no valid receipt key.".to_owned(),
                    "激活服务没有有效的回执密钥。".to_owned(),
                ),
                [
                    "Try again later; the vendor must run `fanlic keys receipt-key --root-key PATH`.",
                    "请稍后重试；厂商须运行 `fanlic keys receipt-key --root-key PATH`。",
                ],
            ),
        }
    }
}

/// How to answer one request: JSON or a page, in which language, and when.
#[derive(Clone, Copy, Debug)]
struct Pg {
    json: bool,
    lang: Lang,
    now: Timestamp,
}

// ---------------------------------------------------------------------------
// The database thread.

/// Work for the database thread.
enum Job {
    /// A license row (cached) with its revocation and binding read fresh.
    Lookup { id: LicenseId, reply: oneshot::Sender<Result<Lookup, String>> },
    /// A confirmation: check what needs the database, bind, record, and
    /// under the receipt policy sign and record the receipt.
    Record { rec: Box<Attempt>, reply: oneshot::Sender<Result<Recorded, String>> },
    /// A confirmation whose license id could not be authenticated: counted
    /// per client and day, nothing else.
    Unverified { client: IpAddr, outcome: &'static str, at: Timestamp, reply: oneshot::Sender<Result<(), String>> },
    /// The newest exported revocation list, if any: `(sequence, file)`.
    RevocationList { reply: oneshot::Sender<Result<Option<ListFile>, String>> },
}

#[derive(Debug)]
struct Lookup {
    license: Option<Arc<LicenseRow>>,
    revoked: bool,
    bound_to: Option<[u8; 32]>,
}

/// One POST whose challenge verified, recorded whatever its outcome.
struct Attempt {
    license_id: LicenseId,
    project_fingerprint: [u8; 32],
    node_id: [u8; 16],
    nodes: u32,
    /// An authorization server's instance and privateConfig generation.
    server: Option<ServerInstance>,
    at: Timestamp,
    client: IpAddr,
    /// Reasons found without the database.
    reasons: Vec<Reason>,
    /// Under the receipt policy: what the receipt needs from the request.
    receipt: Option<ReceiptAsk>,
}

/// What a receipt takes from its request.
struct ReceiptAsk {
    /// SHA-256 of the raw token.
    challenge_sha256: [u8; 32],
    /// An authorization server's instance key (checked against the
    /// challenge's fingerprint); `None` for a product.
    instance_public_key: Option<[u8; 32]>,
    /// The receipt the server holds, as its challenge names it.
    previous_receipt: Option<[u8; 32]>,
}

/// What recording a confirmation gave.
struct Recorded {
    /// Every reason it is refused (none: activated).
    reasons: Vec<Reason>,
    /// The receipt, when one was issued.
    receipt: Option<IssuedReceipt>,
}

/// A receipt signed and recorded.
struct IssuedReceipt {
    /// `receipt.fanlic`, armored.
    armored: String,
    /// Its id.
    id: [u8; 32],
    /// End of its lease, if any.
    lease_until: Option<u64>,
}

/// What the database thread keeps besides the connection.
struct DbCtx {
    master: MasterSecret,
    cache: LicenseCache,
    home_dir: PathBuf,
    /// Receipt keys loaded from their files, by key id.
    receipt_keys: HashMap<String, Arc<SigningKey>>,
}

type DbStart = (mpsc::Sender<Job>, thread::JoinHandle<()>);

fn start_db_thread(mut home: Home, master: MasterSecret, cache: LicenseCache) -> Result<DbStart, Error> {
    {
        let (conn, path) = home.conn_mut();
        let cfg = |e| crate::store::err(path, "cannot configure")(e);
        // WAL: readers (other fanlic commands) never block the service; FULL:
        // a confirmed activation survives a power cut.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)).map_err(cfg)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(cfg)?;
    }
    let (tx, rx) = mpsc::channel::<Job>();
    let handle = thread::Builder::new()
        .name("fanlic-db".to_owned())
        .spawn(move || {
            let mut ctx = DbCtx { master, cache, home_dir: home.dir().to_owned(), receipt_keys: HashMap::new() };
            db_loop(&mut home, &mut ctx, &rx);
        })
        .map_err(|e| Error::Serve { reason: format!("cannot start the database thread: {e}") })?;
    Ok((tx, handle))
}

/// An answer waiting for its batch's commit.
enum Pending {
    Lookup(oneshot::Sender<Result<Lookup, String>>, Result<Lookup, String>),
    Record(oneshot::Sender<Result<Recorded, String>>, Result<Recorded, String>),
    Unverified(oneshot::Sender<Result<(), String>>, Result<(), String>),
    RevocationList(oneshot::Sender<Result<Option<ListFile>, String>>, Result<Option<ListFile>, String>),
}

fn db_loop(home: &mut Home, ctx: &mut DbCtx, rx: &mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut pending: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (conn, path) = home.conn_mut();
        let writes = batch.iter().any(|j| matches!(j, Job::Record { .. } | Job::Unverified { .. }));
        // IMMEDIATE when writing: take the write lock first, so that a
        // concurrent `fanlic unbind` cannot invalidate what was read.
        let behavior = if writes { TransactionBehavior::Immediate } else { TransactionBehavior::Deferred };
        match conn.transaction_with_behavior(behavior) {
            Err(e) => {
                let why = format!("database {}: cannot begin a transaction: {e}", path.display());
                for job in batch.drain(..) {
                    answer_err(job, &why);
                }
            }
            Ok(txn) => {
                for job in batch.drain(..) {
                    pending.push(run_job(&txn, ctx, job));
                }
                if let Err(e) = txn.commit() {
                    let why = format!("database {}: cannot commit: {e}", path.display());
                    for p in &mut pending {
                        match p {
                            Pending::Record(_, r) => *r = Err(why.clone()),
                            Pending::Unverified(_, r) => *r = Err(why.clone()),
                            Pending::Lookup(..) | Pending::RevocationList(..) => {}
                        }
                    }
                }
            }
        }
        // Answers only after the commit: a code is never shown for an
        // activation that was not durably recorded.
        for p in pending.drain(..) {
            match p {
                Pending::Lookup(reply, r) => {
                    let _ = reply.send(r);
                }
                Pending::Record(reply, r) => {
                    let _ = reply.send(r);
                }
                Pending::Unverified(reply, r) => {
                    let _ = reply.send(r);
                }
                Pending::RevocationList(reply, r) => {
                    let _ = reply.send(r);
                }
            }
        }
    }
}

fn answer_err(job: Job, why: &str) {
    match job {
        Job::Lookup { reply, .. } => {
            let _ = reply.send(Err(why.to_owned()));
        }
        Job::Record { reply, .. } => {
            let _ = reply.send(Err(why.to_owned()));
        }
        Job::Unverified { reply, .. } => {
            let _ = reply.send(Err(why.to_owned()));
        }
        Job::RevocationList { reply } => {
            let _ = reply.send(Err(why.to_owned()));
        }
    }
}

fn run_job(conn: &rusqlite::Transaction<'_>, ctx: &mut DbCtx, job: Job) -> Pending {
    match job {
        Job::Lookup { id, reply } => {
            Pending::Lookup(reply, lookup(conn, &ctx.master, &ctx.cache, id).map_err(|e| e.to_string()))
        }
        Job::Record { rec, reply } => Pending::Record(reply, record_atomically(conn, ctx, &rec)),
        Job::Unverified { client, outcome, at, reply } => {
            Pending::Unverified(reply, count_unverified(conn, client, outcome, at).map_err(|e| e.to_string()))
        }
        Job::RevocationList { reply } => {
            Pending::RevocationList(reply, newest_revocation_list(conn).map_err(|e| e.to_string()))
        }
    }
}

/// A revocation list as exported: its sequence and its file.
type ListFile = (u64, Vec<u8>);

/// The newest revocation list `fanlic revocations export` recorded.
fn newest_revocation_list(conn: &Connection) -> Result<Option<ListFile>, rusqlite::Error> {
    conn.prepare_cached("SELECT sequence, file_bytes FROM revocation_lists ORDER BY sequence DESC LIMIT 1")?
        .query_row([], |r| Ok((u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0), r.get::<_, Vec<u8>>(1)?)))
        .optional()
}

/// One more refused confirmation from `client` today whose license id could
/// not be authenticated: a counter per client, day and reason.
fn count_unverified(conn: &Connection, client: IpAddr, outcome: &str, at: Timestamp) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(
        "INSERT INTO unverified_attempts (client_addr, day, outcome, count, last_at) VALUES (?1, ?2, ?3, 1, ?4)
         ON CONFLICT (client_addr, day, outcome) DO UPDATE SET count = count + 1, last_at = excluded.last_at",
    )?
    .execute(params![client.to_string(), crate::store::int(at.0 / 86_400), outcome, crate::store::int(at.0)])?;
    Ok(())
}

fn cached_license(
    conn: &Connection,
    master: &MasterSecret,
    cache: &LicenseCache,
    id: LicenseId,
) -> Result<Option<Arc<LicenseRow>>, rusqlite::Error> {
    if let Some(row) = cache.lock().ok().and_then(|c| c.get(&id).cloned()) {
        return Ok(Some(row));
    }
    let row = load_license(conn, master, id)?;
    if let Some(row) = &row
        && let Ok(mut c) = cache.lock()
    {
        c.insert(id, Arc::clone(row));
    }
    Ok(row)
}

fn load_license(
    conn: &Connection,
    master: &MasterSecret,
    id: LicenseId,
) -> Result<Option<Arc<LicenseRow>>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT app_name, company, project, expiry, max_nodes, file_bytes, activation_master_version,
                issuing_key_id, kind, company_key
         FROM licenses WHERE license_id = ?1",
    )?;
    stmt.query_row(params![id.to_string()], |r| {
        let expiry: String = r.get(3)?;
        let expiry = if expiry == "never" {
            Expiry::Never
        } else {
            // Anything else is a corrupt row: an error, never a guess.
            Expiry::On(Date::parse(&expiry).ok_or_else(|| {
                rusqlite::Error::InvalidColumnType(3, "expiry".to_owned(), rusqlite::types::Type::Text)
            })?)
        };
        let file: Vec<u8> = r.get(5)?;
        let version: Option<i64> = r.get(6)?;
        // The key is derived, never stored. It must be the one the license
        // file carries: another master file (or version) cannot check its
        // codes.
        let (carried, policy) = carried_key(&file);
        let key = match version {
            Some(v) if i64::from(master.version()) == v => {
                let k = master.derive(&id);
                // Under the receipt policy the license carries the
                // challenge key, which MACs its challenges (SPEC.md §3.3).
                let k = match policy {
                    ActivationPolicy::Receipt => crate::home::activation::challenge_key(&k),
                    _ => k,
                };
                (carried == Some(k.to_bytes())).then_some(k)
            }
            _ => None,
        };
        let file_sha256 = fanlic_verifier::receipt::sha256(&file);
        Ok(Arc::new(LicenseRow {
            id,
            app_name: r.get(0)?,
            company: r.get(1)?,
            project: r.get(2)?,
            expiry,
            max_nodes: u32::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
            issuing_key_id: r.get(7)?,
            // Anything but the two kinds is a corrupt row: an error, never a guess.
            kind: r
                .get::<_, String>(8)?
                .parse()
                .map_err(|_| rusqlite::Error::InvalidColumnType(8, "kind".to_owned(), rusqlite::types::Type::Text))?,
            key,
            policy,
            file_sha256,
            company_key: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
        }))
    })
    .optional()
}

/// The key a stored license file carries (`None`: none, or the file does
/// not decode) and its activation policy.
fn carried_key(file: &[u8]) -> (Option<[u8; 32]>, ActivationPolicy) {
    let license = fanlic_formats::Envelope::decode(file)
        .ok()
        .and_then(|e| fanlic_formats::License::decode(e.license.message).ok());
    match license {
        Some(l) => (l.activation_key, l.activation_policy),
        None => (None, ActivationPolicy::Code),
    }
}

fn revoked(conn: &Connection, license: &LicenseRow) -> Result<bool, rusqlite::Error> {
    // A superseded license (reissued, or its server migrated) is revoked
    // when it is replaced; its state is read too, so that re-activation
    // stops whatever the revocation records say.
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM revoked_licenses WHERE license_id = ?1)
             OR EXISTS (SELECT 1 FROM revoked_issuing_keys WHERE key_id = ?2)
             OR EXISTS (SELECT 1 FROM licenses WHERE license_id = ?1 AND state IN ('revoked', 'superseded'))",
    )?
    .query_row(params![license.id.to_string(), license.issuing_key_id], |r| r.get(0))
}

fn bound_to(conn: &Connection, id: LicenseId) -> Result<Option<[u8; 32]>, rusqlite::Error> {
    let fp: Option<Vec<u8>> = conn
        .prepare_cached("SELECT project_fingerprint FROM activation_bindings WHERE license_id = ?1")?
        .query_row(params![id.to_string()], |r| r.get(0))
        .optional()?;
    // The schema holds 32 bytes; anything else never matches a fingerprint.
    Ok(fp.map(|v| <[u8; 32]>::try_from(v.as_slice()).unwrap_or([0; 32])))
}

fn highest_generation(
    conn: &Connection,
    id: LicenseId,
    fingerprint: &[u8; 32],
) -> Result<Option<u64>, rusqlite::Error> {
    let g: Option<i64> = conn
        .prepare_cached("SELECT generation FROM server_instances WHERE license_id = ?1 AND instance_fingerprint = ?2")?
        .query_row(params![id.to_string(), fingerprint.as_slice()], |r| r.get(0))
        .optional()?;
    Ok(g.map(|g| u64::try_from(g).unwrap_or(0)))
}

fn lookup(
    conn: &Connection,
    master: &MasterSecret,
    cache: &LicenseCache,
    id: LicenseId,
) -> Result<Lookup, rusqlite::Error> {
    let Some(license) = cached_license(conn, master, cache, id)? else {
        return Ok(Lookup { license: None, revoked: false, bound_to: None });
    };
    let revoked = revoked(conn, &license)?;
    let bound_to = bound_to(conn, id)?;
    Ok(Lookup { license: Some(license), revoked, bound_to })
}

fn s<E: ToString>(e: E) -> String {
    e.to_string()
}

/// [`record`] in a savepoint of the batch's transaction: a confirmation
/// that fails half-way (a receipt that cannot be signed after the binding
/// was written) leaves nothing behind, and the others of the batch commit.
fn record_atomically(conn: &rusqlite::Transaction<'_>, ctx: &mut DbCtx, a: &Attempt) -> Result<Recorded, String> {
    conn.execute_batch("SAVEPOINT record").map_err(s)?;
    match record(conn, ctx, a) {
        Ok(r) => {
            conn.execute_batch("RELEASE record").map_err(s)?;
            Ok(r)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO record; RELEASE record");
            Err(e)
        }
    }
}

/// The binding of a license: its project fingerprint and when it was made.
fn binding(conn: &Connection, id: LicenseId) -> Result<Option<([u8; 32], u64)>, rusqlite::Error> {
    let b: Option<(Vec<u8>, i64)> = conn
        .prepare_cached("SELECT project_fingerprint, bound_at FROM activation_bindings WHERE license_id = ?1")?
        .query_row(params![id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(b.map(|(fp, at)| (<[u8; 32]>::try_from(fp.as_slice()).unwrap_or([0; 32]), u64::try_from(at).unwrap_or(0))))
}

fn record(conn: &rusqlite::Transaction<'_>, ctx: &mut DbCtx, a: &Attempt) -> Result<Recorded, String> {
    let mut reasons = a.reasons.clone();
    let mut issued = None;
    let id_text = a.license_id.to_string();
    if let Some(license) = cached_license(conn, &ctx.master, &ctx.cache, a.license_id).map_err(s)? {
        if revoked(conn, &license).map_err(s)? {
            reasons.push(Reason::Revoked);
        }
        let bound = binding(conn, a.license_id).map_err(s)?;
        if bound.is_some_and(|(fp, _)| fp != a.project_fingerprint) {
            reasons.push(Reason::MaxLicensesReached);
        }
        // SPEC.md §7.1: a server's generation never goes back.
        if let Some(server) = &a.server
            && highest_generation(conn, a.license_id, &server.instance_fingerprint)
                .map_err(s)?
                .is_some_and(|g| server.generation < g)
        {
            reasons.push(Reason::StalePrivateConfig);
        }
        // The receipt key, before anything is bound: a receipt that cannot
        // be signed binds nothing.
        let signer = match &a.receipt {
            Some(_) if reasons.is_empty() => {
                let key = receipt_signer(conn, ctx, a.at)?;
                if key.is_none() {
                    reasons.push(Reason::NoReceiptKey);
                }
                key
            }
            _ => None,
        };
        // SPEC.md §6.5, freshness: an authorization server names the
        // latest receipt of its binding as its predecessor, or none when
        // none was issued since the binding.
        if let (Some(ask), Some((fp, bound_at))) = (&a.receipt, bound)
            && reasons.is_empty()
            && ask.instance_public_key.is_some()
            && fp == a.project_fingerprint
        {
            let latest = receipts::latest_receipt(conn, &id_text, &fp, bound_at).map_err(s)?;
            if latest != ask.previous_receipt {
                reasons.push(Reason::Forked);
                let name = |r: Option<[u8; 32]>| r.map_or_else(|| "none".to_owned(), |r| hex::encode(&r));
                let detail = format!(
                    "authorization server {} (instance fingerprint) asked from {} with previous receipt {}; the \
                     latest receipt of its binding is {}",
                    a.server.map_or_else(String::new, |sv| hex::encode(&sv.instance_fingerprint)),
                    a.client,
                    name(ask.previous_receipt),
                    name(latest),
                );
                receipts::raise(conn, receipts::AlertKind::Forked, &id_text, &detail, a.at, AUDIT_BY).map_err(s)?;
            }
        }
        reasons.sort_unstable();
        if reasons.is_empty()
            && let Some(server) = &a.server
        {
            conn.prepare_cached(
                "INSERT INTO server_instances (license_id, instance_fingerprint, generation, last_activated_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (license_id, instance_fingerprint) DO UPDATE SET
                     generation = max(generation, excluded.generation), last_activated_at = excluded.last_activated_at",
            )
            .and_then(|mut st| {
                st.execute(params![
                    id_text,
                    server.instance_fingerprint.as_slice(),
                    crate::store::int(server.generation),
                    crate::store::int(a.at.0)
                ])
            })
            .map_err(s)?;
        }
        if reasons.is_empty() && bound.is_none() {
            conn.prepare_cached(
                "INSERT INTO activation_bindings (license_id, project_fingerprint, bound_at) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut st| {
                st.execute(params![id_text, a.project_fingerprint.as_slice(), crate::store::int(a.at.0)])
            })
            .map_err(s)?;
            let detail = format!(
                "bound to project fingerprint {} by node {} ({} nodes) from {}",
                hex::encode(&a.project_fingerprint),
                hex::encode(&a.node_id),
                a.nodes,
                a.client
            );
            conn.prepare_cached("INSERT INTO audit (license_id, action, why, at, by) VALUES (?1, 'bind', ?2, ?3, ?4)")
                .and_then(|mut st| st.execute(params![id_text, detail, crate::store::int(a.at.0), AUDIT_BY]))
                .map_err(s)?;
        }
        if reasons.is_empty()
            && let (Some(ask), Some((key_row, key))) = (&a.receipt, signer)
        {
            let bound_at = bound.map_or(a.at.0, |(_, at)| at);
            issued = Some(issue_receipt(conn, &license, a, ask, (&key_row, &key), bound_at)?);
        }
    }
    let outcome = reasons.first().map_or("activated", |r| r.code());
    conn.prepare_cached(
        "INSERT INTO activations (license_id, project_fingerprint, node_id, nodes, at, client_addr, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut st| {
        st.execute(params![
            id_text,
            a.project_fingerprint.as_slice(),
            a.node_id.as_slice(),
            a.nodes,
            crate::store::int(a.at.0),
            a.client.to_string(),
            outcome
        ])
    })
    .map_err(s)?;
    Ok(Recorded { reasons, receipt: issued })
}

/// The receipt key that signs at `now` (SPEC.md §3.2: receipts only, its
/// window holding `now`), loaded from its file once; `None` when no key is
/// valid now. Keys made while the service runs are found at once.
fn receipt_signer(
    conn: &Connection,
    ctx: &mut DbCtx,
    now: Timestamp,
) -> Result<Option<(crate::store::IssuingKeyRow, Arc<SigningKey>)>, String> {
    let path = conn.path().map(PathBuf::from).unwrap_or_default();
    let rows = crate::store::receipt_keys(conn, &path).map_err(s)?;
    let Some(row) = crate::home::newest_valid(&rows, now).cloned() else { return Ok(None) };
    let id = row.key_id.to_string();
    if let Some(k) = ctx.receipt_keys.get(&id) {
        return Ok(Some((row, Arc::clone(k))));
    }
    let key = SigningKey::load(&ctx.home_dir.join(&row.private_key_path)).map_err(s)?;
    if key.public_key() != row.public_key {
        return Err(format!("the private key file of receipt key {id} holds another key"));
    }
    let key = Arc::new(key);
    ctx.receipt_keys.insert(id, Arc::clone(&key));
    Ok(Some((row, key)))
}

/// Signs, records and returns the receipt of an activation that passed
/// every check, in the recording transaction: with the newest exported
/// revocation list, the contract's lease for a server, its reminder mail,
/// and, for a product, the alert when its binding gets too many receipts.
fn issue_receipt(
    conn: &rusqlite::Transaction<'_>,
    license: &LicenseRow,
    a: &Attempt,
    ask: &ReceiptAsk,
    (key_row, key): (&crate::store::IssuingKeyRow, &SigningKey),
    bound_at: u64,
) -> Result<IssuedReceipt, String> {
    let id_text = license.id.to_string();
    let server = ask.instance_public_key.is_some();
    let lease_until = if server {
        receipts::lease_days(conn, &license.company_key)
            .map_err(s)?
            .map(|d| a.at.0.saturating_add(u64::from(d).saturating_mul(86_400)))
    } else {
        None
    };
    let list = newest_revocation_list(conn).map_err(s)?;
    let body = Receipt::new(
        license.id,
        license.file_sha256,
        ask.challenge_sha256,
        ask.instance_public_key,
        if server { ask.previous_receipt } else { None },
        a.at,
        lease_until.map(Timestamp),
        license.max_nodes,
        list.as_ref().map_or(0, |(seq, _)| *seq),
    )
    .map_err(s)?;
    let message = fanlic_formats::encode_receipt_body(&body).map_err(s)?;
    let signature = key.sign(&message);
    // Signed twice: Ed25519 is deterministic, and a fault in either signing
    // (the way faults leak Ed25519 keys) makes the two differ.
    if key.sign(&message) != signature {
        return Err("signing the receipt twice gave two signatures".to_owned());
    }
    let file = fanlic_formats::encode_receipt_file(
        SignedBody { message: &key_row.certificate_message, signature: key_row.certificate_signature },
        SignedBody { message: &message, signature },
        list.as_ref().map(|(_, f)| f.as_slice()),
    )
    .map_err(s)?;
    let rid = receipt_id(&message);
    let comments = [
        format!("# fanlic activation receipt {} for license {id_text}", hex::encode(&rid)),
        format!("# {} / {} / {}", license.company, license.project, license.app_name),
        "# These # lines are NOT signed, for people only.".to_owned(),
    ];
    let refs: Vec<&str> = comments.iter().map(String::as_str).collect();
    let armored = fanlic_formats::armor::encode_receipt(&file, &refs).map_err(s)?;
    receipts::record(
        conn,
        &receipts::ReceiptRow {
            receipt_id: rid,
            license_id: &id_text,
            project_fingerprint: a.project_fingerprint,
            bound_at,
            challenge_sha256: ask.challenge_sha256,
            previous_receipt: ask.previous_receipt,
            receipt_key_id: key_row.key_id.to_string(),
            vendor_time: a.at.0,
            lease_until,
            client: a.client.to_string(),
        },
    )
    .map_err(s)?;
    if let Some(until) = lease_until {
        // A reminder that cannot be queued (no contract address) never
        // stops the activation.
        let _ = receipts::queue_reminder(conn, &id_text, &rid, Timestamp(until), a.at);
    }
    if !server {
        let since = a.at.0.saturating_sub(receipts::BURST_WINDOW_SECS);
        let n = receipts::count_since(conn, &id_text, &a.project_fingerprint, bound_at, since).map_err(s)?;
        if n > u64::from(receipts::BURST_THRESHOLD) {
            let detail = format!(
                "{n} receipts in 24 hours for project fingerprint {} (threshold {}), the last to node {} from {}",
                hex::encode(&a.project_fingerprint),
                receipts::BURST_THRESHOLD,
                hex::encode(&a.node_id),
                a.client
            );
            receipts::raise(conn, receipts::AlertKind::ReceiptBurst, &id_text, &detail, a.at, AUDIT_BY).map_err(s)?;
        }
    }
    Ok(IssuedReceipt { armored, id: rid, lease_until })
}

/// Sends a job and waits for its answer without blocking a worker thread.
async fn ask<T>(app: &App, make: impl FnOnce(oneshot::Sender<Result<T, String>>) -> Job) -> Result<T, String> {
    let (tx, rx) = oneshot::channel();
    app.db.send(make(tx)).map_err(|_| "the database thread has stopped".to_owned())?;
    rx.await.map_err(|_| "the database thread has stopped".to_owned())?
}

// ---------------------------------------------------------------------------
// Rate limits: a fixed window per key.

struct Limiter<K> {
    limit: u32,
    window_secs: u64,
    /// The current window's number and the counts in it (cleared when it ends).
    state: Mutex<(u64, HashMap<K, u32>)>,
}

impl<K: core::hash::Hash + Eq> Limiter<K> {
    fn new(limit: u32, window_secs: u64) -> Self {
        Self { limit, window_secs: window_secs.max(1), state: Mutex::new((0, HashMap::new())) }
    }

    /// `Err(seconds to wait)` when the limit is already used up; counts nothing.
    fn check(&self, key: &K, now_secs: u64) -> Result<(), u64> {
        let window = now_secs / self.window_secs;
        let retry_after = (window + 1) * self.window_secs - now_secs;
        let Ok(state) = self.state.lock() else { return Ok(()) };
        let used = if state.0 == window { state.1.get(key).copied().unwrap_or(0) } else { 0 };
        if used >= self.limit { Err(retry_after.max(1)) } else { Ok(()) }
    }

    /// Counts a request; `Err(seconds to wait)` when over the limit.
    fn hit(&self, key: K, now_secs: u64) -> Result<(), u64> {
        let window = now_secs / self.window_secs;
        let retry_after = (window + 1) * self.window_secs - now_secs;
        let Ok(mut state) = self.state.lock() else { return Ok(()) };
        if state.0 != window {
            state.0 = window;
            state.1.clear();
        }
        let n = state.1.entry(key).or_insert(0);
        *n = n.saturating_add(1);
        if *n > self.limit { Err(retry_after.max(1)) } else { Ok(()) }
    }
}

// ---------------------------------------------------------------------------
// Requests.

/// What one request did, for its log line.
struct Outcome {
    license_id: Option<LicenseId>,
    status: StatusCode,
    outcome: &'static str,
    error: Option<String>,
}

async fn healthz(State(app): State<Arc<App>>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> &'static str {
    let out = Outcome { license_id: None, status: StatusCode::OK, outcome: "ok", error: None };
    log_request(&app, "GET", "/healthz", peer.ip(), &out, Instant::now());
    "ok"
}

/// Where the service publishes the newest revocation list (SPEC.md §6.1),
/// at a stable URL products and authorization servers can fetch.
pub const REVOCATIONS_PATH: &str = "/revocations.bin";

/// `GET /revocations.bin`: the newest list `fanlic revocations export`
/// recorded, as exported (signed; products check it and refuse an older
/// one than they have), `X-Fanlic-Sequence` naming its sequence; 404 until
/// one is exported. Public: it names only license and key ids.
async fn revocation_list(State(app): State<Arc<App>>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    let started = Instant::now();
    let (status, mut resp) = match ask(&app, |reply| Job::RevocationList { reply }).await {
        Ok(Some((sequence, bytes))) => {
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            if let Ok(v) = HeaderValue::from_str(&sequence.to_string()) {
                h.insert("X-Fanlic-Sequence", v);
            }
            (StatusCode::OK, r)
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            (StatusCode::NOT_FOUND, "no revocation list has been exported yet (`fanlic revocations export`)\n")
                .into_response(),
        ),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, (StatusCode::INTERNAL_SERVER_ERROR, e).into_response()),
    };
    secure_headers(resp.headers_mut());
    let out = Outcome {
        license_id: None,
        status,
        outcome: if status == StatusCode::OK { "ok" } else { "no_list" },
        error: None,
    };
    log_request(&app, "GET", REVOCATIONS_PATH, peer.ip(), &out, started);
    resp
}

/// The last path segment of the receipt endpoint: `BASE/receipt`, under
/// whatever path the activation base URL has (a token is never this short).
pub const RECEIPT_SEGMENT: &str = "receipt";
/// The most bytes of a receipt request's body read (a token URL and an
/// instance key line are far shorter).
const MAX_RECEIPT_BODY: usize = 4096;

/// Whether `path` is the receipt endpoint.
fn is_receipt_path(path: &str) -> bool {
    path.rsplit('/').next() == Some(RECEIPT_SEGMENT)
}

/// The CORS headers of the receipt endpoint, and only of it: any origin
/// (the authorization server's page, on the customer's own address) may
/// POST a token and read the answer, without credentials (no cookie is
/// sent nor used).
fn cors(r: &mut Response) {
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
}

/// Which interface a request uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// The phone's pages (`GET`/`POST BASE/TOKEN`).
    Page,
    /// `POST BASE/receipt` with the token as its body: JSON, a receipt.
    Receipt,
}

/// An instance public key given as 64 hex digits.
fn instance_key_hex(s: &str) -> Option<[u8; 32]> {
    crate::util::hex::decode_array::<32>(s.trim())
}

async fn token_request(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    let start = Instant::now();
    let (parts, body) = request.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let json =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
    let lang =
        headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map_or(Lang::En, Lang::from_accept_language);
    let pg = Pg { json, lang, now: Timestamp(0) };
    let path = uri.path();
    let (response, out) = if is_receipt_path(path) {
        receipt_request(&app, &method, body, pg, peer.ip()).await
    } else {
        // The page may pass an authorization server's instance key on to
        // its confirmation (`?instance_key=HEX`).
        let key = uri
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("instance_key=")))
            .and_then(instance_key_hex);
        handle(&app, &method, path, pg, peer.ip(), Mode::Page, key).await
    };
    log_request(&app, method.as_str(), path, peer.ip(), &out, start);
    response
}

/// `BASE/receipt`: `OPTIONS` answers the CORS preflight; `POST` takes the
/// token text (or the QR code's whole URL) as its body, then optionally a
/// line `instance-key HEX` (an authorization server's), and answers JSON.
async fn receipt_request(
    app: &App,
    method: &Method,
    body: axum::body::Body,
    mut pg: Pg,
    client: IpAddr,
) -> (Response, Outcome) {
    let mut out = Outcome { license_id: None, status: StatusCode::OK, outcome: "preflight", error: None };
    if *method == Method::OPTIONS {
        out.status = StatusCode::NO_CONTENT;
        let mut r = StatusCode::NO_CONTENT.into_response();
        cors(&mut r);
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Content-Type"));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        return (r, out);
    }
    if *method != Method::POST {
        out.status = StatusCode::METHOD_NOT_ALLOWED;
        out.outcome = "method_not_allowed";
        let mut r = (StatusCode::METHOD_NOT_ALLOWED, "POST the activation token to get a receipt\n").into_response();
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
        return (r, out);
    }
    pg.json = true;
    let text = match axum::body::to_bytes(body, MAX_RECEIPT_BODY).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => String::new(),
    };
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let token = lines.next().unwrap_or("").to_owned();
    let key = lines.find_map(|l| l.strip_prefix("instance-key")).and_then(instance_key_hex);
    let (mut r, out) = handle(app, &Method::POST, &token, pg, client, Mode::Receipt, key).await;
    cors(&mut r);
    (r, out)
}

async fn handle(
    app: &App,
    method: &Method,
    path: &str,
    mut pg: Pg,
    client: IpAddr,
    mode: Mode,
    instance_key: Option<[u8; 32]>,
) -> (Response, Outcome) {
    let mut out = Outcome { license_id: None, status: StatusCode::OK, outcome: "ready", error: None };
    let post = *method == Method::POST;
    if !post && *method != Method::GET {
        out.status = StatusCode::METHOD_NOT_ALLOWED;
        out.outcome = "method_not_allowed";
        let mut r =
            (StatusCode::METHOD_NOT_ALLOWED, "use GET to see an activation, POST to confirm it\n").into_response();
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return (r, out);
    }
    let now = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp(d.as_secs()),
        Err(_) => return internal(out, pg, "the system clock reads a time before 1970".to_owned()),
    };
    pg.now = now;
    if let Err(wait) = app.by_client.hit(client, now.0) {
        return rate_limited(out, pg, wait);
    }
    // A client that keeps sending challenges that do not verify is stopped
    // before any lookup; its own budget, never a license's.
    if let Err(wait) = app.forged_by_client.check(&client, now.0) {
        return rate_limited(out, pg, wait);
    }
    let mut raw = [0u8; MAX_TOKEN_LEN];
    let Ok(raw) = token_from_url(path, &mut raw) else { return refused(out, pg, &[Reason::Malformed], None, 0) };
    let Ok(id) = claimed_license_id(raw) else { return refused(out, pg, &[Reason::Malformed], None, 0) };
    // The body as the token says, before anything is authenticated: used
    // only once the tag has verified and the challenge has merely expired.
    let claimed = Token::split(raw).ok().and_then(|t| ActivationChallenge::decode(t.body).ok());

    // A GET reads revocation and binding fresh; a POST reads them in its
    // recording transaction, so its license row may come from the cache.
    let cached = if post { app.cache.lock().ok().and_then(|c| c.get(&id).cloned()) } else { None };
    let (license, fresh) = match cached {
        Some(l) => (Some(l), None),
        None => match ask(app, |reply| Job::Lookup { id, reply }).await {
            Ok(l) => (l.license.clone(), Some(l)),
            Err(e) => return internal(out, pg, e),
        },
    };
    let Some(license) = license else {
        return unverified(app, out, pg, post, client, now, Reason::UnknownLicense, None).await;
    };
    let Some(key) = license.key else {
        return unverified(app, out, pg, post, client, now, Reason::NoActivationKey, Some(&license)).await;
    };
    let mut reasons = Vec::new();
    let (challenge, code) = match open_challenge(raw, &key, now) {
        Ok((c, code)) => (c, Some(code)),
        Err(ChallengeError::Expired { .. }) => match claimed {
            // The MAC held (it is checked before the age): the body is trusted.
            Some(c) => {
                reasons.push(Reason::QrExpired);
                (c, None)
            }
            None => return refused(out, pg, &[Reason::Malformed], Some(&license), 0),
        },
        Err(ChallengeError::Forged) => {
            return unverified(app, out, pg, post, client, now, Reason::ForgedChallenge, Some(&license)).await;
        }
        Err(_) => return refused(out, pg, &[Reason::Malformed], Some(&license), 0),
    };
    // The tag verified: from here on the license id is the holder's, and
    // only now does the request count against the license.
    out.license_id = Some(id);
    if let Err(wait) = app.by_license.hit(id, now.0) {
        return rate_limited(out, pg, wait);
    }
    if license.expiry.is_expired_at(now) {
        reasons.push(Reason::LicenseExpired);
    }
    if challenge.nodes > license.max_nodes {
        reasons.push(Reason::TooManyNodes);
    }
    // SPEC.md §7.1: a private-cloud license is activated by its
    // authorization server (whose challenge names its instance), and only so.
    if challenge.server.is_some() != (license.kind == LicenseKind::PrivateCloud) {
        reasons.push(Reason::WrongKind);
    }
    // A receipt only for a receipt-policy license: a code-policy product
    // waits for a code, which the receipt endpoint never shows.
    if mode == Mode::Receipt && license.policy == ActivationPolicy::Code {
        reasons.push(Reason::WrongPolicy);
    }
    let receipt_policy = license.policy == ActivationPolicy::Receipt;
    // An authorization server's receipt names its instance key, which the
    // challenge carries only as a fingerprint (authenticated by the tag):
    // the key sent along must be the one of that fingerprint.
    let instance_public_key = match (&challenge.server, instance_key) {
        (Some(sv), Some(k)) if fanlic_formats::private_cloud::instance_fingerprint(&k) == sv.instance_fingerprint => {
            Some(k)
        }
        _ => None,
    };
    if post && receipt_policy && challenge.server.is_some() && instance_public_key.is_none() {
        reasons.push(Reason::InstanceKeyMissing);
    }
    if !post {
        if let Some(fresh) = &fresh {
            if fresh.revoked {
                reasons.push(Reason::Revoked);
            }
            if fresh.bound_to.is_some_and(|fp| fp != challenge.project_fingerprint) {
                reasons.push(Reason::MaxLicensesReached);
            }
        }
        reasons.sort_unstable();
        if !reasons.is_empty() {
            return refused(out, pg, &reasons, Some(&license), challenge.nodes);
        }
        return (ready(&license, &challenge, pg, raw, instance_key), out);
    }
    let receipt = receipt_policy.then(|| ReceiptAsk {
        challenge_sha256: fanlic_verifier::receipt::sha256(raw),
        instance_public_key,
        previous_receipt: challenge.previous_receipt,
    });
    let rec = Box::new(Attempt {
        license_id: id,
        project_fingerprint: challenge.project_fingerprint,
        node_id: challenge.node_id,
        nodes: challenge.nodes,
        server: challenge.server,
        at: now,
        client,
        reasons,
        receipt,
    });
    let recorded = match ask(app, |reply| Job::Record { rec, reply }).await {
        Ok(r) => r,
        Err(e) => return internal(out, pg, e),
    };
    if !recorded.reasons.is_empty() {
        return refused(out, pg, &recorded.reasons, Some(&license), challenge.nodes);
    }
    match (recorded.receipt, code) {
        (Some(receipt), _) => {
            out.outcome = "activated";
            (receipt_issued(&license, &receipt, pg), out)
        }
        (None, Some(code)) if !receipt_policy => {
            out.outcome = "activated";
            let expires_at = challenge.issued_at.0.saturating_add(CHALLENGE_VALID_SECS);
            (activated(&license, code, expires_at, pg), out)
        }
        _ => internal(out, pg, "the activation was recorded without its code or receipt".to_owned()),
    }
}

/// Refuses a request whose license id could not be authenticated (unknown
/// license, no key, forged tag). It counts against the client's budget for
/// such requests, never the license's; a POST adds one to the client's
/// daily count of them, with no license id (the id is the sender's claim).
#[allow(clippy::too_many_arguments)]
async fn unverified(
    app: &App,
    out: Outcome,
    pg: Pg,
    post: bool,
    client: IpAddr,
    at: Timestamp,
    reason: Reason,
    license: Option<&LicenseRow>,
) -> (Response, Outcome) {
    let _ = app.forged_by_client.hit(client, at.0);
    if post && let Err(e) = ask(app, |reply| Job::Unverified { client, outcome: reason.code(), at, reply }).await {
        return internal(out, pg, e);
    }
    refused(out, pg, &[reason], license, 0)
}

fn refused(
    mut out: Outcome,
    pg: Pg,
    reasons: &[Reason],
    license: Option<&LicenseRow>,
    nodes: u32,
) -> (Response, Outcome) {
    let first = reasons.first().copied().unwrap_or(Reason::Malformed);
    out.status = first.status();
    out.outcome = first.code();
    let response = if pg.json {
        let reasons: Vec<_> = reasons
            .iter()
            .map(|r| {
                let t = r.texts(pg.lang, license, nodes, pg.now);
                json!({
                    "code": r.code(),
                    "message": r.message(license, nodes),
                    "title": t.title,
                    "prompt": t.prompt,
                    "advice": t.advice,
                })
            })
            .collect();
        (out.status, axum::Json(json!({"status": "refused", "lang": pg.lang.tag(), "reasons": reasons})))
            .into_response()
    } else {
        let heading = pg.lang.pick("Activation refused", "激活被拒绝");
        let mut body = format!("<h1>{heading}</h1>\n<ul>\n");
        for r in reasons {
            let t = r.texts(pg.lang, license, nodes, pg.now);
            let _ = writeln!(
                body,
                "<li><h2>{}</h2><p>{}</p><p class=\"next\">{}</p><p class=\"code\">({})</p></li>",
                esc(t.title),
                esc(&t.prompt),
                esc(&t.advice),
                r.code()
            );
        }
        body.push_str("</ul>\n");
        html(out.status, pg.lang, heading, &body)
    };
    (response, out)
}

fn rate_limited(mut out: Outcome, pg: Pg, wait: u64) -> (Response, Outcome) {
    out.status = StatusCode::TOO_MANY_REQUESTS;
    out.outcome = "rate_limited";
    let message = format!("Too many activation requests. Wait {wait} seconds, then try again.");
    let mut r = if pg.json {
        let reasons = [json!({"code": "rate_limited", "message": message})];
        (out.status, axum::Json(json!({"status": "refused", "reasons": reasons}))).into_response()
    } else {
        let (title, text) = match pg.lang {
            Lang::ZhCn => ("请求过多", format!("激活请求过多。请等待 {wait} 秒后重试。")),
            _ => ("Too many requests", message),
        };
        html(out.status, pg.lang, title, &format!("<h1>{}</h1>\n<p>{}</p>\n", esc(title), esc(&text)))
    };
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    (r, out)
}

fn internal(mut out: Outcome, pg: Pg, error: String) -> (Response, Outcome) {
    out.status = StatusCode::INTERNAL_SERVER_ERROR;
    out.outcome = "internal_error";
    out.error = Some(error);
    let message = "The activation service could not read or write its records. Try again in a minute; if this \
                   persists, contact the vendor.";
    let r = if pg.json {
        let reasons = [json!({"code": "internal_error", "message": message})];
        (out.status, axum::Json(json!({"status": "refused", "reasons": reasons}))).into_response()
    } else {
        let (title, text) = match pg.lang {
            Lang::ZhCn => ("服务错误", "激活服务无法读取或写入记录。请一分钟后重试；如仍出现此提示，请联系厂商。"),
            _ => ("Service error", message),
        };
        html(out.status, pg.lang, title, &format!("<h1>{}</h1>\n<p>{}</p>\n", esc(title), esc(text)))
    };
    (r, out)
}

/// Whole minutes until `until` (rounded up: a QR code with 30 s left is
/// shown as valid for 1 more minute), 0 when past.
fn minutes_left(until: u64, now: Timestamp) -> u64 {
    until.saturating_sub(now.0).div_ceil(60)
}

fn minutes_text(n: u64, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => format!("{n} 分钟"),
        _ if n == 1 => "1 minute".to_owned(),
        _ => format!("{n} minutes"),
    }
}

/// The license's expiry as the product shows dates.
fn expiry_text(e: Expiry, lang: Lang) -> String {
    match e {
        Expiry::On(d) => ShownDate(d).to_string(),
        Expiry::Never => lang.pick("never expires", "永久有效").to_owned(),
    }
}

fn ready(
    license: &LicenseRow,
    c: &ActivationChallenge<'_>,
    pg: Pg,
    token: &[u8],
    instance_key: Option<[u8; 32]>,
) -> Response {
    let qr_expires_at = c.issued_at.0.saturating_add(CHALLENGE_VALID_SECS);
    if pg.json {
        return axum::Json(json!({
            "status": "ready",
            "license_id": license.id.to_string(),
            "company": license.company,
            "project": license.project,
            "app_name": license.app_name,
            "max_nodes": license.max_nodes,
            "nodes": c.nodes,
            "expiry": license.expiry.to_string(),
            "qr_expires_at": qr_expires_at,
            "activation_policy": license.policy.as_str(),
        }))
        .into_response();
    }
    let lang = pg.lang;
    let left = minutes_text(minutes_left(qr_expires_at, pg.now), lang);
    let (heading, labels, note, button) = match lang {
        Lang::ZhCn => (
            "激活",
            ["公司", "项目", "产品", "节点数", "许可证有效期至"],
            format!(
                "请核对以上信息后确认。{}将在下一页显示。此二维码还剩 {left}有效。",
                if license.policy == ActivationPolicy::Receipt { "激活回执" } else { "激活码" }
            ),
            "确认激活",
        ),
        _ => (
            "Activate",
            ["Company", "Project", "Product", "Nodes", "License valid until"],
            format!(
                "Check these details, then confirm. The activation {} appears on the next page. This QR code \
                 is valid for {left} more.",
                if license.policy == ActivationPolicy::Receipt { "receipt" } else { "code" }
            ),
            "Confirm activation",
        ),
    };
    let [company_l, project_l, product_l, nodes_l, expiry_l] = labels;
    let max = match lang {
        Lang::ZhCn => format!("（许可证最多 {} 个）", license.max_nodes),
        _ => format!(" (licensed: at most {})", license.max_nodes),
    };
    let body = format!(
        "<h1>{heading} {app}</h1>\n<dl>\n<dt>{company_l}</dt><dd>{company}</dd>\n<dt>{project_l}</dt><dd>{project}</dd>\n\
         <dt>{product_l}</dt><dd>{app}</dd>\n<dt>{nodes_l}</dt><dd>{nodes}{max}</dd>\n\
         <dt>{expiry_l}</dt><dd>{expiry}</dd>\n</dl>\n\
         <p>{note}</p>\n\
         <form method=\"post\" action=\"{action}\"><button type=\"submit\">{button}</button></form>\n",
        app = esc(&license.app_name),
        company = esc(&license.company),
        project = esc(&license.project),
        nodes = c.nodes,
        max = esc(&max),
        expiry = esc(&expiry_text(license.expiry, lang)),
        note = esc(&note),
        action = esc(&form_action(token, instance_key)),
    );
    html(StatusCode::OK, lang, button, &body)
}

fn activated(license: &LicenseRow, code: Code, expires_at: u64, pg: Pg) -> Response {
    if pg.json {
        return axum::Json(json!({
            "status": "activated",
            "license_id": license.id.to_string(),
            "code": code.to_string(),
            "expires_at": expires_at,
        }))
        .into_response();
    }
    let lang = pg.lang;
    let left = minutes_text(minutes_left(expires_at, pg.now), lang);
    let (heading, note) = match lang {
        Lang::ZhCn => ("激活码", format!("请在 {left}内将此激活码输入产品。")),
        _ => ("Activation code", format!("Type this code into the product within {left}.")),
    };
    let body = format!(
        "<h1>{heading}</h1>\n<p class=\"digits\">{code}</p>\n\
         <p>{note}</p>\n\
         <p>{company} &middot; {project} &middot; {app}</p>\n",
        note = esc(&note),
        company = esc(&license.company),
        project = esc(&license.project),
        app = esc(&license.app_name),
    );
    html(StatusCode::OK, lang, heading, &body)
}

/// The receipt of a receipt-policy activation: JSON (SPEC.md §6.4), or a
/// page showing the armored receipt with a download link (`receipt.fanlic`).
fn receipt_issued(license: &LicenseRow, r: &IssuedReceipt, pg: Pg) -> Response {
    if pg.json {
        return axum::Json(json!({
            "status": "activated",
            "license_id": license.id.to_string(),
            "receipt": r.armored,
            "receipt_id": hex::encode(&r.id),
            "lease_until": r.lease_until,
        }))
        .into_response();
    }
    use base64::Engine as _;
    let lang = pg.lang;
    let (heading, note, download) = match lang {
        Lang::ZhCn => (
            "激活回执",
            "请下载此回执（receipt.fanlic），并在产品或授权服务器的激活页面上传；也可复制下面的文字粘贴到那里。",
            "下载 receipt.fanlic",
        ),
        _ => (
            "Activation receipt",
            "Download this receipt (receipt.fanlic) and upload it on the product's or authorization server's \
             activation page, or copy the text below and paste it there.",
            "Download receipt.fanlic",
        ),
    };
    let lease = match (r.lease_until, lang) {
        (Some(t), Lang::ZhCn) => format!("<p>须在 {} 之前重新激活。</p>\n", Timestamp(t)),
        (Some(t), _) => format!("<p>Activate again before {}.</p>\n", Timestamp(t)),
        (None, _) => String::new(),
    };
    let data = base64::engine::general_purpose::STANDARD.encode(r.armored.as_bytes());
    let body = format!(
        "<h1>{heading}</h1>\n<p>{note}</p>\n{lease}\
         <p><a download=\"receipt.fanlic\" href=\"data:application/octet-stream;base64,{data}\">{download}</a></p>\n\
         <pre>{armored}</pre>\n<p>{company} &middot; {project} &middot; {app}</p>\n",
        note = esc(note),
        armored = esc(&r.armored),
        company = esc(&license.company),
        project = esc(&license.project),
        app = esc(&license.app_name),
    );
    html(StatusCode::OK, lang, heading, &body)
}

/// A complete page in `lang`: readable on a phone, no external assets, no
/// script; [`secure_headers`] adds the rest.
fn html(status: StatusCode, lang: Lang, title: &str, body: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n{body}</body>\n</html>\n",
        lang = lang.tag(),
        title = esc(title),
    );
    let mut r = (status, page).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r.headers_mut().insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
    // The page depends on the browser's language: caches must keep them apart.
    r.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept, Accept-Language"));
    r
}

/// Where the confirm button posts: the token itself, re-encoded from its
/// decoded bytes, as a relative reference (`./TOKEN`). It resolves against
/// the page's own URL, so it stays on the service's origin whatever the
/// request path was (`//evil.example/x/TOKEN` included), and it never copies
/// the path.
fn form_action(token: &[u8], instance_key: Option<[u8; 32]>) -> String {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token);
    match instance_key {
        // Re-encoded from the decoded key: never copied from the query.
        Some(k) => format!("./{token}?instance_key={}", hex::encode(&k)),
        None => format!("./{token}"),
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Logs: written by their own thread, so a slow stderr never blocks a worker.

fn start_log_thread() -> Result<(mpsc::Sender<String>, thread::JoinHandle<()>), Error> {
    let (tx, rx) = mpsc::channel::<String>();
    let handle = thread::Builder::new()
        .name("fanlic-log".to_owned())
        .spawn(move || {
            let mut err = BufWriter::new(std::io::stderr());
            while let Ok(line) = rx.recv() {
                let _ = err.write_all(line.as_bytes());
                while let Ok(line) = rx.try_recv() {
                    let _ = err.write_all(line.as_bytes());
                }
                let _ = err.flush();
            }
        })
        .map_err(|e| Error::Serve { reason: format!("cannot start the log thread: {e}") })?;
    Ok((tx, handle))
}

/// What the log says of a request path: `/healthz`, else the path's
/// segments before the last that are short plain words (`/a`), each other
/// one as `<redacted>`, and the last as `<token>`. A token is at least 46
/// characters, so no part of one is ever logged, whatever the URL's shape
/// (a trailing or doubled slash, percent-encoding, a token in any segment).
fn logged_path(path: &str) -> String {
    /// Longest segment logged as is.
    const MAX_SEGMENT: usize = 16;
    /// Segments logged at most, before the token.
    const MAX_SEGMENTS: usize = 8;
    if path == "/healthz" {
        return path.to_owned();
    }
    if path.is_empty() {
        return "-".to_owned();
    }
    let mut out = String::new();
    let mut segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.pop();
    for seg in segments.iter().take(MAX_SEGMENTS) {
        out.push('/');
        if seg.len() <= MAX_SEGMENT && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            out.push_str(seg);
        } else {
            out.push_str("<redacted>");
        }
    }
    if segments.len() > MAX_SEGMENTS {
        out.push_str("/...");
    }
    out.push_str(if last == Some(RECEIPT_SEGMENT) { "/receipt" } else { "/<token>" });
    out
}

fn log_request(app: &App, method: &str, path: &str, client: IpAddr, out: &Outcome, start: Instant) {
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let line = match app.log_format {
        LogFormat::Json => {
            let mut v = serde_json::Map::new();
            v.insert("ts".to_owned(), json!(Timestamp(ts).to_string()));
            v.insert("method".to_owned(), json!(method));
            v.insert("path".to_owned(), json!(logged_path(path)));
            if let Some(id) = out.license_id {
                v.insert("license_id".to_owned(), json!(id.to_string()));
            }
            v.insert("client".to_owned(), json!(client.to_string()));
            v.insert("status".to_owned(), json!(out.status.as_u16()));
            v.insert("outcome".to_owned(), json!(out.outcome));
            v.insert("micros".to_owned(), json!(micros));
            if let Some(e) = &out.error {
                v.insert("error".to_owned(), json!(e));
            }
            format!("{}\n", serde_json::Value::Object(v))
        }
        LogFormat::Text => {
            let id = out.license_id.map_or_else(|| "-".to_owned(), |id| id.to_string());
            let error = out.error.as_deref().map_or_else(String::new, |e| format!(" error: {e}"));
            format!(
                "{} {client} {} {} {} license {id} {} {micros}us{error}\n",
                Timestamp(ts),
                method,
                logged_path(path),
                out.status.as_u16(),
                out.outcome
            )
        }
    };
    let _ = app.log.send(line);
}
