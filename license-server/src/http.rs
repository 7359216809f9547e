//! The HTTP side: the admin's QR page and code entry, and the application
//! API (SPEC.md §7.3). Every request's work runs on a blocking thread under
//! the state's lock, followed by a `privateConfig` write when one is due.

#![allow(
    clippy::result_large_err,
    reason = "axum's Response is what a handler returns on failure; boxing it buys nothing"
)]

use core::net::IpAddr;
use std::{
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use axum::{
    Router,
    body::Bytes,
    extract::{ConnectInfo, DefaultBodyLimit, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{Html, IntoResponse as _, Redirect, Response},
    routing::{get, post},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use fanlic_formats::{Expiry, Timestamp, private_cloud::NodeRecord};
use fanlic_verifier::{
    Lang, ShownDate, ShownTime,
    activation::CodeError,
    node_auth::{AUTH_SCHEME, AuthError, JoinSecret, RequestKey},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    auth::{CsrfKey, ReplayGuard, same_origin},
    code_entry::{self, ShownChallenge},
    config::write_atomic,
    keys::random,
    license::{ActivationPolicy, Cause, ShownCause},
    log::log_line,
    now, parse_hex16,
    receipt::{self, ReceiptRefusal},
    state::{Answer, Refusal, RegisterRequest, ServerState, Status},
    tls::ClientAddr,
};

/// Mode of `privateConfig`: public state only, which the customer emails to
/// the vendor for a migration (SPEC.md §7.4).
pub const PRIVATE_CONFIG_MODE: u32 = 0o644;

/// What every request shares.
#[derive(Debug)]
pub struct Shared {
    /// The state, behind its lock.
    pub state: Mutex<ServerState>,
    /// `privateConfig`.
    pub config_path: PathBuf,
    /// The activation service's base URL.
    pub base_url: String,
    /// `code-entry-locks`, beside `privateConfig`.
    pub code_entry_path: PathBuf,
    /// `activation-receipt`, beside `privateConfig`.
    pub receipt_path: PathBuf,
    /// The cluster's join secret (SPEC.md §7.3 "Authentication").
    pub join_secret: JoinSecret,
    /// The key derived from it that MACs the applications' requests.
    pub request_key: RequestKey,
    /// Nonces of accepted application requests.
    pub replay: Mutex<ReplayGuard>,
    /// The admin forms' CSRF key.
    pub csrf: CsrfKey,
    /// The process's start: a monotonic clock for the QR codes' age.
    pub started: Instant,
    /// The TLS binding file (SPEC.md §7.7), base64: public, the same for
    /// every request.
    pub tls_binding: String,
}

impl Shared {
    /// Seconds on the monotonic clock since the start.
    pub fn mono(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

/// Writes `code-entry-locks` if a count or lock changed.
fn persist_code_entry(shared: &Shared, state: &mut ServerState) {
    if let Some(bytes) = state.code_entry_mut().take_write()
        && let Err(e) = write_atomic(&shared.code_entry_path, &bytes, code_entry::FILE_MODE)
    {
        log_line(&json!({"event": "code_entry_write_failed", "error": e.to_string()}));
    }
}

/// Writes `privateConfig` if the state says a write is due.
pub fn persist(shared: &Shared, state: &mut ServerState, now: u64) {
    match state.take_write(now) {
        Ok(Some(bytes)) => {
            if let Err(e) = write_atomic(&shared.config_path, &bytes, PRIVATE_CONFIG_MODE) {
                log_line(&json!({"event": "private_config_write_failed", "error": e.to_string()}));
            }
        }
        Ok(None) => {}
        Err(e) => log_line(&json!({"event": "private_config_write_failed", "error": e.to_string()})),
    }
}

/// Runs `f` on the state at the current time, then writes `privateConfig`
/// if due. Most requests (heartbeats) write nothing and run right here:
/// the state is behind a plain mutex held for microseconds, and a hop to a
/// blocking thread per request would cost more than the work. A write (a
/// change, or time every 600 s) blocks on fsync, so it tells the runtime
/// first (`block_in_place`) and keeps the lock, so writes land in
/// generation order.
async fn with_state<T: Send + 'static>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&mut ServerState, u64) -> T + Send + 'static,
) -> Result<T, Response> {
    let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
    let now = now();
    let out = f(&mut state, now);
    if state.write_due(now) {
        tokio::task::block_in_place(|| persist(shared, &mut state, now));
    }
    if state.code_entry_mut().has_write() {
        tokio::task::block_in_place(|| persist_code_entry(shared, &mut state));
    }
    Ok(out)
}

/// The routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/license/qrcode") }))
        .route("/license/qrcode", get(qrcode_page))
        .route("/license/qrcode.png", get(qrcode_png))
        .route("/license/style.css", get(style_css))
        .route("/license/refresh", post(refresh))
        .route("/license/code", post(enter_code))
        .route("/license/receipt.js", get(receipt_js))
        // A receipt may carry a revocation list of up to 72 KiB, armored and
        // form-encoded.
        .route("/license/receipt", post(post_receipt).layer(DefaultBodyLimit::max(RECEIPT_BODY_LIMIT)))
        .route("/license/status", get(status))
        .route("/license/nodes/evict", post(evict))
        .route("/api/v1/register", post(register))
        .route("/api/v1/heartbeat", post(heartbeat))
        .route("/api/v1/deregister", post(deregister))
        .route("/api/v1/tls-binding", get(tls_binding))
        .layer(DefaultBodyLimit::max(crate::limits::MAX_BODY_BYTES))
        .layer(middleware::from_fn(request_timeout))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(log_requests))
        .with_state(shared)
}

/// The instance key's binding of the served TLS key: public, no state, no lock.
async fn tls_binding(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(json!({ "tls_binding": shared.tls_binding })).into_response()
}

/// The Content-Security-Policy of every response: nothing from elsewhere, no
/// inline script, forms post only here, never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Anti-framing, CSP, no MIME sniffing, no referrer, and `no-store` unless
/// the handler chose otherwise (pages and answers carry codes and secrets).
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The QR page under receipt policy sets its own, stricter-than-nothing
    // addition (`connect-src`); every other response gets this one.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// A request (its body included) that takes longer than
/// [`crate::limits::REQUEST_TIMEOUT`] is answered 408.
async fn request_timeout(req: Request, next: Next) -> Response {
    match tokio::time::timeout(crate::limits::REQUEST_TIMEOUT, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "request timeout").into_response(),
    }
}

/// One JSON line per request: method, path (no query), status, time,
/// client. Never a body: bodies carry codes and nonces.
async fn log_requests(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let client = req.extensions().get::<ConnectInfo<ClientAddr>>().map(|c| c.0.0.to_string());
    let resp = next.run(req).await;
    log_line(&json!({
        "at": Timestamp(now()).to_string(),
        "method": method,
        "path": path,
        "status": resp.status().as_u16(),
        "ms": u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        "client": client,
    }));
    resp
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    no_store((status, axum::Json(v.clone())).into_response())
}

fn bad_request(message: impl Into<String>) -> Response {
    json_response(StatusCode::BAD_REQUEST, &json!({"status": "error", "error": message.into()}))
}

// ---------------------------------------------------------------------------
// Application API (SPEC.md §7.3).

#[derive(Deserialize)]
struct RegisterBody {
    app_name: String,
    version: String,
    project: String,
    node_id: String,
    nonce: String,
}

#[derive(Deserialize)]
struct NodeBody {
    node_id: String,
    nonce: String,
}

fn ids(node_id: &str, nonce: &str) -> Result<([u8; 16], [u8; 16]), Response> {
    let node = parse_hex16(node_id).ok_or_else(|| bad_request("node_id must be 32 lowercase hex digits"))?;
    let nonce = parse_hex16(nonce).ok_or_else(|| bad_request("nonce must be 32 lowercase hex digits"))?;
    Ok((node, nonce))
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad_request(format!("the body is not the expected JSON: {e}")))
}

/// `{"status": ..., "answer"}`, or a refusal with every cause (403).
fn answer_response(status: &str, result: Result<Answer, Vec<Cause>>) -> Response {
    match result {
        Ok(a) => json_response(StatusCode::OK, &json!({"status": status, "answer": STANDARD.encode(&a.file)})),
        Err(causes) => json_response(StatusCode::FORBIDDEN, &json!({"status": "refused", "causes": causes})),
    }
}

/// `401`: the request does not prove the join secret. It says nothing about
/// the license (no project, version, application, company): a stranger
/// learns only that it is not authorized.
fn not_authorized(client: IpAddr, e: AuthError) -> Response {
    log_line(&json!({"event": "node_request_not_authorized", "client": client.to_string(), "reason": e.to_string()}));
    let mut resp = json_response(
        StatusCode::UNAUTHORIZED,
        &json!({"status": "refused", "causes": [{
            "code": "not_authorized",
            "message": format!(
                "Not authorized: {e}. Configure the application with this authorization server's join secret \
                 (shown when the server was activated; the file join-secret in its config folder)"
            ),
        }]}),
    );
    resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(AUTH_SCHEME));
    resp
}

/// SPEC.md §7.3 "Authentication": the MAC over the exact body, checked
/// before the body is even parsed; returns the request's time.
fn authenticate(
    shared: &Shared,
    client: IpAddr,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<u64, Response> {
    let h = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or(""));
    shared.request_key.check(h, path, body, now()).map_err(|e| not_authorized(client, e))
}

/// The nonce of an authenticated request counts once.
fn first_time(shared: &Shared, client: IpAddr, nonce: [u8; 16], at: u64) -> Result<(), Response> {
    let mut replay = shared.replay.lock().unwrap_or_else(PoisonError::into_inner);
    if replay.first_time(nonce, at, now()) { Ok(()) } else { Err(not_authorized(client, AuthError::Replayed)) }
}

async fn register(
    State(shared): State<Arc<Shared>>,
    ci: ConnectInfo<ClientAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = ci.0.0.ip();
    let at = match authenticate(&shared, client, &headers, "/api/v1/register", &body) {
        Ok(at) => at,
        Err(resp) => return resp,
    };
    let req: RegisterBody = match parse_json(&body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let (node_id, nonce) = match ids(&req.node_id, &req.nonce) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if let Err(resp) = first_time(&shared, client, nonce, at) {
        return resp;
    }
    let result = with_state(&shared, move |s, now| {
        s.register(
            &RegisterRequest { app_name: &req.app_name, version: &req.version, project: &req.project, node_id, nonce },
            now,
        )
    })
    .await;
    match result {
        Ok(r) => answer_response("registered", r),
        Err(resp) => resp,
    }
}

/// [`ServerState::heartbeat`] or [`ServerState::deregister`].
type NodeOp = fn(&mut ServerState, [u8; 16], [u8; 16], u64) -> Result<Answer, Vec<Cause>>;

/// What every application request brings.
struct Incoming {
    client: IpAddr,
    headers: HeaderMap,
    body: Bytes,
}

async fn node_request(shared: Arc<Shared>, inc: Incoming, path: &str, status: &str, op: NodeOp) -> Response {
    let at = match authenticate(&shared, inc.client, &inc.headers, path, &inc.body) {
        Ok(at) => at,
        Err(resp) => return resp,
    };
    let req: NodeBody = match parse_json(&inc.body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let (node_id, nonce) = match ids(&req.node_id, &req.nonce) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if let Err(resp) = first_time(&shared, inc.client, nonce, at) {
        return resp;
    }
    match with_state(&shared, move |s, now| op(s, node_id, nonce, now)).await {
        Ok(r) => answer_response(status, r),
        Err(resp) => resp,
    }
}

async fn heartbeat(
    State(shared): State<Arc<Shared>>,
    ci: ConnectInfo<ClientAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let inc = Incoming { client: ci.0.0.ip(), headers, body };
    node_request(shared, inc, "/api/v1/heartbeat", "heartbeat", ServerState::heartbeat).await
}

async fn deregister(
    State(shared): State<Arc<Shared>>,
    ci: ConnectInfo<ClientAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let inc = Incoming { client: ci.0.0.ip(), headers, body };
    node_request(shared, inc, "/api/v1/deregister", "deregistered", ServerState::deregister).await
}

/// JSON for scripts; a page in the browser's language for a browser (one
/// that asks for `text/html` and not for JSON).
async fn status(State(shared): State<Arc<Shared>>, ci: ConnectInfo<ClientAddr>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("text/html") && !accept.contains("application/json") {
        let lang = lang_of(&headers);
        let client = ci.0.0.ip();
        let csrf = shared.csrf.token(client);
        return match with_state(&shared, move |s, now| PageData::read(s, client, now, lang, None, csrf)).await {
            Ok(d) => page_response(StatusCode::OK, lang, &status_page(&d, lang, None)),
            Err(resp) => resp,
        };
    }
    match with_state(&shared, |s, now| s.status(now)).await {
        Ok(st) => json_response(StatusCode::OK, &json!(st)),
        Err(resp) => resp,
    }
}

// ---------------------------------------------------------------------------
// The admin's pages.

/// `client`'s QR code (made as needed).
async fn current(shared: &Arc<Shared>, client: IpAddr) -> Result<Result<ShownChallenge, Refusal>, Response> {
    let nonce = random::<16>().map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())?;
    let base = shared.base_url.clone();
    let mono = shared.mono();
    with_state(shared, move |s, now| s.challenge(client, now, mono, nonce, &base, false)).await
}

/// Everything an admin's page shows, read under one lock.
struct PageData {
    now: u64,
    /// How the license is activated.
    policy: ActivationPolicy,
    /// The license's terms, shown on the receipt page.
    terms: Terms,
    /// The instance public key, hex: the vendor names it in the receipt.
    instance_key: String,
    st: Status,
    /// The QR code, or why none is shown (`None`: not asked for).
    challenge: Option<Result<ShownChallenge, Refusal>>,
    expiry: Expiry,
    /// The server license's own causes (expired, not yet valid), as shown.
    license_causes: Vec<ShownCause>,
    /// The client's CSRF token, for the page's forms.
    csrf: String,
    /// Code entry is locked for this client until then.
    locked_until: Option<u64>,
    /// The registered nodes.
    nodes: Vec<NodeRecord>,
}

impl PageData {
    fn read(
        s: &mut ServerState,
        client: IpAddr,
        now: u64,
        lang: Lang,
        challenge: Option<Result<ShownChallenge, Refusal>>,
        csrf: String,
    ) -> Self {
        let st = s.status(now);
        let nodes = u32::try_from(st.nodes).unwrap_or(u32::MAX);
        let license = s.license();
        let license_causes = license.shown_time_causes(nodes, now, lang);
        let expiry = license.expiry;
        let policy = license.activation_policy;
        let terms = Terms {
            app_name: license.app_name.clone(),
            project: license.project.clone(),
            version: license.version.to_string(),
            max_nodes: license.max_nodes,
        };
        let locked_until = s.locked_until_for(client, now);
        let nodes = s.nodes().copied().collect();
        let instance_key = crate::hex(&s.instance_public_key());
        Self { now, policy, terms, instance_key, expiry, st, challenge, license_causes, csrf, locked_until, nodes }
    }
}

/// What the license grants, as the receipt page shows it.
struct Terms {
    app_name: String,
    project: String,
    version: String,
    max_nodes: u32,
}

/// The QR page and its data: `client`'s QR code made or refreshed as needed.
async fn qr_page_data(shared: &Arc<Shared>, client: IpAddr, refresh: bool, lang: Lang) -> Result<PageData, Response> {
    let nonce = random::<16>().map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())?;
    let base = shared.base_url.clone();
    let mono = shared.mono();
    let csrf = shared.csrf.token(client);
    with_state(shared, move |s, now| {
        let ch = s.challenge(client, now, mono, nonce, &base, refresh);
        PageData::read(s, client, now, lang, Some(ch), csrf)
    })
    .await
}

/// The language of the admin's browser (`Accept-Language`), English by default.
fn lang_of(headers: &HeaderMap) -> Lang {
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map_or(Lang::En, Lang::from_accept_language)
}

/// `GET` never changes anything: it shows the client's QR code (made when it
/// has none or it expired); a refresh is a `POST` (`/license/refresh`).
async fn qrcode_page(State(shared): State<Arc<Shared>>, ci: ConnectInfo<ClientAddr>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    match qr_page_data(&shared, ci.0.0.ip(), false, lang).await {
        Ok(d) => qr_page_response(&shared, StatusCode::OK, lang, &d, None),
        Err(resp) => resp,
    }
}

/// The QR page: under receipt policy with a CSP that lets its script reach
/// the vendor's activation service, and only that and this server.
fn qr_page_response(shared: &Shared, status: StatusCode, lang: Lang, d: &PageData, notice: Option<Notice>) -> Response {
    let html = page(d, lang, notice, &shared.base_url);
    let mut resp = page_response(status, lang, &html);
    if d.policy == ActivationPolicy::Receipt {
        let connect = receipt::origin_of(&shared.base_url).map_or_else(String::new, |o| format!(" {o}"));
        if let Ok(v) = HeaderValue::from_str(&format!("{CSP}; connect-src 'self'{connect}")) {
            resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    resp
}

/// The receipt page's script (a file: the CSP admits no inline script).
async fn receipt_js() -> Response {
    let mut resp = ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], RECEIPT_JS).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
    resp
}

const RECEIPT_JS: &str = include_str!("assets/receipt.js");

/// The most a `POST /license/receipt` body may be: a receipt file is at
/// most 73728 bytes after its magic, which armor and form encoding grow.
pub const RECEIPT_BODY_LIMIT: usize = 256 * 1024;

/// `POST /license/receipt`: the vendor's receipt, from the page's script
/// (`Accept: application/json`) or its upload form; the form's CSRF token
/// and the Origin check as every form. Checked (the verifier, then this
/// server's pending challenge, its instance key, the receipt it holds),
/// stored atomically as `activation-receipt`, then the activation is
/// recorded.
async fn post_receipt(
    State(shared): State<Arc<Shared>>,
    ci: ConnectInfo<ClientAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let client = ci.0.0.ip();
    let wants_json =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
    if let Err(resp) = check_form(&shared, client, &headers, &body, lang) {
        if wants_json {
            let message = "This request did not come from this server's own page (or the page is too old): open the page again and retry.";
            return json_response(
                StatusCode::FORBIDDEN,
                &json!({"status": "refused", "code": "cross_origin", "message": message}),
            );
        }
        return resp;
    }
    let text = form_field(&body, "receipt").unwrap_or_default().replace("\r\n", "\n");
    let mono = shared.mono();
    let path = shared.receipt_path.clone();
    let result = with_state(&shared, move |s, now| {
        let checked = s.verify_receipt(text.as_bytes(), now, mono)?;
        s.check_receipt(&checked, now, mono)?;
        // Stored before privateConfig records the activation: a crash in
        // between leaves the receipt the vendor knows as the latest.
        tokio::task::block_in_place(|| write_atomic(&path, checked.armored.as_bytes(), receipt::FILE_MODE))
            .map_err(|e| ReceiptRefusal::Storage(e.to_string()))?;
        let lease_until = checked.lease_until;
        let id = crate::hex(&checked.id);
        s.accept_receipt(checked, now, mono).map(|at| (at, id, lease_until))
    })
    .await;
    let result = match result {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    match &result {
        Ok((_, id, lease_until)) => {
            log_line(
                &json!({"event": "receipt_accepted", "client": client.to_string(), "receipt_id": id, "lease_until": lease_until}),
            );
        }
        Err(r) => log_line(&json!({"event": "receipt_refused", "client": client.to_string(), "code": r.code()})),
    }
    let http_status = match &result {
        Ok(_) => StatusCode::OK,
        Err(ReceiptRefusal::Storage(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        // Used, expired, or overtaken by another activation: activate again.
        Err(r) if matches!(r.code(), "receipt_challenge_mismatch" | "receipt_previous_mismatch") => {
            StatusCode::CONFLICT
        }
        Err(_) => StatusCode::FORBIDDEN,
    };
    let join_secret = crate::hex(shared.join_secret.as_bytes());
    if wants_json {
        let v = match &result {
            Ok((at, id, lease_until)) => json!({
                "status": "activated", "activated_at": at, "receipt_id": id, "lease_until": lease_until,
                "join_secret": join_secret, "message": activated_text(lang, *lease_until),
            }),
            Err(r) => json!({"status": "refused", "code": r.code(), "message": receipt_refusal_text(r, lang)}),
        };
        return json_response(http_status, &v);
    }
    let d = match qr_page_data(&shared, client, false, lang).await {
        Ok(d) => d,
        Err(resp) => return resp,
    };
    let notice = match &result {
        Ok(_) => Notice::Activated { join_secret },
        Err(r) => Notice::Refused { prompt: receipt_refusal_text(r, lang), advice: String::new() },
    };
    qr_page_response(&shared, http_status, lang, &d, Some(notice))
}

/// What the page says once a receipt is accepted.
fn activated_text(lang: Lang, lease_until: Option<u64>) -> String {
    let lease = lease_until.map(|u| ShownTime(Timestamp(u)).to_string());
    match (lang, lease) {
        (Lang::ZhCn, Some(u)) => format!("激活成功。帆软应用现在可以向此服务器注册。请在 {u} 之前重新激活。"),
        (Lang::ZhCn, None) => "激活成功。帆软应用现在可以向此服务器注册。".to_owned(),
        (_, Some(u)) => format!(
            "Activation succeeded. The FanRuan applications can now register with this server. Activate again before {u}."
        ),
        (_, None) => "Activation succeeded. The FanRuan applications can now register with this server.".to_owned(),
    }
}

/// Why a receipt was refused and what to do, in `lang`.
fn receipt_refusal_text(r: &ReceiptRefusal, lang: Lang) -> String {
    if lang != Lang::ZhCn {
        return r.to_string();
    }
    match r {
        ReceiptRefusal::CodePolicy => {
            "此服务器的许可证通过二维码和 6 位验证码激活，而非回执：请输入手机上显示的验证码。".to_owned()
        }
        ReceiptRefusal::Invalid(causes) => format!(
            "回执无效：{}",
            causes.iter().map(|(code, m)| format!("{m}（{code}）")).collect::<Vec<_>>().join("；")
        ),
        ReceiptRefusal::NoPendingChallenge => {
            "回执对应的二维码不是本服务器当前显示的（已使用、已超过 5 分钟有效期，或属于另一台服务器）：请重新激活。"
                .to_owned()
        }
        ReceiptRefusal::OtherInstance => "此回执是为另一台授权服务器（另一个实例密钥）签发的。".to_owned(),
        ReceiptRefusal::Revoked => {
            "厂商已吊销此服务器的许可证（回执中的吊销列表）：服务器未激活，不为任何应用提供服务。请联系商务人员。"
                .to_owned()
        }
        ReceiptRefusal::StalePrevious => {
            "此回执接续的不是本服务器持有的回执（它是为本服务器的副本签发的，或早于本服务器最近一次激活）：请重新激活。"
                .to_owned()
        }
        _ => r.to_string(),
    }
}

async fn qrcode_png(State(shared): State<Arc<Shared>>, ci: ConnectInfo<ClientAddr>) -> Response {
    match current(&shared, ci.0.0.ip()).await {
        Ok(Ok(ch)) => match fanlic_qr::Qr::new(&ch.url).and_then(|q| q.to_png(8)) {
            Ok(png) => no_store(([(header::CONTENT_TYPE, "image/png")], png).into_response()),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        },
        Ok(Err(refusal)) => no_store((StatusCode::CONFLICT, refusal.to_string()).into_response()),
        Err(resp) => resp,
    }
}

/// The pages' style sheet (a file, so the CSP can forbid inline content).
async fn style_css() -> Response {
    let mut resp = ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
    resp
}

const STYLE: &str = "body{font-family:sans-serif;max-width:32rem;margin:1rem auto;padding:0 1rem}\
.qr svg{width:100%;max-width:20rem;height:auto}.ok{color:#060}.err{color:#a00}.small{font-size:.85rem}\
h2{font-size:1.2rem;margin:.5rem 0 0 0}dt{font-weight:bold}dd{margin:0 0 .4rem 0}\
input,button{font-size:1.2rem;margin:.3rem 0;padding:.3rem}textarea{width:100%;font-family:monospace;font-size:.75rem}\
label{display:block}code{word-break:break-all}\
table{border-collapse:collapse}td,th{padding:.2rem .4rem;text-align:left;font-size:.85rem}\n";

/// Refuses a form post that is not from this server's own page: a foreign
/// `Origin` (or `Sec-Fetch-Site`), or a CSRF token that is not the client's.
fn check_form(shared: &Shared, client: IpAddr, headers: &HeaderMap, body: &[u8], lang: Lang) -> Result<(), Response> {
    let token = form_field(body, "csrf").unwrap_or_default();
    if same_origin(headers) && shared.csrf.check(client, &token) {
        return Ok(());
    }
    log_line(&json!({"event": "form_refused", "client": client.to_string(), "reason": "origin or CSRF token"}));
    let text = lang.pick(
        "This form did not come from this server's own page (or the page is too old): open the page again and retry.",
        "此表单并非来自本服务器的页面（或页面已过期）：请重新打开页面后重试。",
    );
    let body = format!("<p class=\"err\">{}</p><p><a href=\"/license/qrcode\">/license/qrcode</a></p>", escape(text));
    let title = lang.pick("Refused", "已拒绝");
    Err(page_response(StatusCode::FORBIDDEN, lang, &shell(lang, title, title, &body, "")))
}

/// `POST /license/refresh`: a new QR code for this client only (another
/// client's code stays valid), from the page's own form.
async fn refresh(
    State(shared): State<Arc<Shared>>,
    ci: ConnectInfo<ClientAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let client = ci.0.0.ip();
    if let Err(resp) = check_form(&shared, client, &headers, &body, lang) {
        return resp;
    }
    match qr_page_data(&shared, client, true, lang).await {
        Ok(d) => qr_page_response(&shared, StatusCode::OK, lang, &d, None),
        Err(resp) => resp,
    }
}

/// `POST /license/nodes/evict`: the admin removes a node, proving the join
/// secret (typed into the status page's form, which carries the CSRF token).
async fn evict(
    State(shared): State<Arc<Shared>>,
    ci: ConnectInfo<ClientAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let client = ci.0.0.ip();
    if let Err(resp) = check_form(&shared, client, &headers, &body, lang) {
        return resp;
    }
    let typed = form_field(&body, "join_secret").unwrap_or_default();
    let node = form_field(&body, "node_id").and_then(|n| crate::parse_hex16(&n));
    let authorized = JoinSecret::parse(&typed).is_ok_and(|s| s.same(&shared.join_secret));
    let csrf = shared.csrf.token(client);
    let result = with_state(&shared, move |s, now| {
        let outcome = match (authorized, node) {
            (false, _) => Err(lang.pick("Wrong join secret: nothing was changed.", "加入密钥错误：未做任何更改。")),
            (true, None) => Err(lang.pick("No such node.", "没有此节点。")),
            (true, Some(id)) if s.evict(id, now) => Ok(id),
            (true, Some(_)) => Err(lang.pick("No such node.", "没有此节点。")),
        };
        (outcome, PageData::read(s, client, now, lang, None, csrf))
    })
    .await;
    let (outcome, d) = match result {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let (status, notice) = match outcome {
        Ok(id) => {
            log_line(&json!({"event": "node_evicted", "client": client.to_string(), "node_id": crate::hex(&id)}));
            (StatusCode::OK, Notice::Ok(format!("{} {}", lang.pick("Node removed:", "已移除节点："), crate::hex(&id))))
        }
        Err(text) => (StatusCode::FORBIDDEN, Notice::Refused { prompt: text.to_owned(), advice: String::new() }),
    };
    page_response(status, lang, &status_page(&d, lang, Some(notice)))
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

/// A field of a form (`application/x-www-form-urlencoded`), decoded.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = core::str::from_utf8(body).ok()?;
    let value = text.split('&').find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')))?;
    let mut out = String::new();
    let mut bytes = value.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(' '),
            b'%' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push(char::from(u8::try_from(hi * 16 + lo).ok()?));
            }
            _ => out.push(char::from(b)),
        }
    }
    Some(out)
}

/// `POST /license/code`. A form must come from this server's page (Origin,
/// CSRF token); JSON (scripts) passes the Origin check only: a browser
/// cannot send `application/json` to another origin without a CORS
/// preflight, which this server never grants.
async fn enter_code(
    State(shared): State<Arc<Shared>>,
    ci: ConnectInfo<ClientAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = ci.0.0.ip();
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let typed = if is_json {
        if !same_origin(&headers) {
            return json_response(StatusCode::FORBIDDEN, &json!({"status": "refused", "code": "cross_origin"}));
        }
        match parse_json::<CodeBody>(&body) {
            Ok(b) => b.code,
            Err(resp) => return resp,
        }
    } else {
        if let Err(resp) = check_form(&shared, client, &headers, &body, lang_of(&headers)) {
            return resp;
        }
        form_field(&body, "code").unwrap_or_default()
    };
    let mono = shared.mono();
    let result = with_state(&shared, move |s, now| s.enter_code(client, &typed, now, mono)).await;
    let result = match result {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let http_status = match &result {
        Ok(_) => StatusCode::OK,
        Err(Refusal::Code(fanlic_verifier::activation::CodeError::Locked { .. })) => StatusCode::TOO_MANY_REQUESTS,
        Err(Refusal::Code(fanlic_verifier::activation::CodeError::NotSixDigits)) => StatusCode::BAD_REQUEST,
        Err(Refusal::AlreadyActivated { .. } | Refusal::ReceiptPolicy) => StatusCode::CONFLICT,
        Err(_) => StatusCode::FORBIDDEN,
    };
    let lang = lang_of(&headers);
    let join_secret = crate::hex(shared.join_secret.as_bytes());
    if is_json {
        let locked_until = match with_state(&shared, move |s, now| s.locked_until_for(client, now)).await {
            Ok(l) => l,
            Err(resp) => return resp,
        };
        let v = match &result {
            Ok(at) => json!({"status": "activated", "activated_at": at, "join_secret": join_secret}),
            Err(r) => {
                let (prompt, advice) = refusal_texts(r, lang, now());
                json!({
                    "status": "refused", "code": r.code(), "message": r.to_string(), "locked_until": locked_until,
                    "lang": lang.tag(), "prompt": prompt, "advice": advice,
                })
            }
        };
        return json_response(http_status, &v);
    }
    let d = match qr_page_data(&shared, client, false, lang).await {
        Ok(d) => d,
        Err(resp) => return resp,
    };
    let notice = match &result {
        Ok(_) => Notice::Activated { join_secret },
        Err(r) => {
            let (prompt, advice) = refusal_texts(r, lang, d.now);
            Notice::Refused { prompt, advice }
        }
    };
    qr_page_response(&shared, http_status, lang, &d, Some(notice))
}

/// What the code page says above the QR page.
enum Notice {
    Ok(String),
    /// The right code: shown once, with the join secret the applications need.
    Activated {
        join_secret: String,
    },
    Refused {
        prompt: String,
        advice: String,
    },
}

/// A notice as HTML.
fn notice_html(notice: Notice, lang: Lang) -> String {
    match notice {
        Notice::Ok(text) => format!("<p class=\"ok\">{}</p>", escape(&text)),
        Notice::Activated { join_secret } => format!(
            "<p class=\"ok\">{}</p><p>{}</p><p><code id=\"join-secret\">{}</code></p><p class=\"small\">{}</p>",
            escape(lang.pick(
                "Activation succeeded. The FanRuan applications can now register with this server.",
                "激活成功。帆软应用现在可以向此服务器注册。",
            )),
            escape(lang.pick(
                "Join secret: configure it in every FanRuan application that uses this server. Keep it secret.",
                "加入密钥：请在每个使用此服务器的帆软应用中配置它，并妥善保密。",
            )),
            escape(&join_secret),
            escape(lang.pick(
                "It is also in the file join-secret of the server's config folder (/app/config/join-secret).",
                "它也保存在服务器配置目录中的 join-secret 文件里（/app/config/join-secret）。",
            )),
        ),
        Notice::Refused { prompt, advice } => {
            format!("<p class=\"err\">{} <b>{}</b></p>", escape(&prompt), escape(&advice))
        }
    }
}

/// What went wrong with the admin's request, and what to do next, in `lang`.
fn refusal_texts(r: &Refusal, lang: Lang, now: u64) -> (String, String) {
    let zh = lang == Lang::ZhCn;
    let t = |ts: u64| ShownTime(Timestamp(ts)).to_string();
    let (prompt, advice) = match r {
        Refusal::ClockBehind { now, high_water } if zh => (
            format!("本服务器的时钟（{}）早于它已记录到的最新时间（{}）。", t(*now), t(*high_water)),
            "请校正时钟：在时钟超过该时间之前，所有请求都会被拒绝。".to_owned(),
        ),
        Refusal::ClockBehind { now, high_water } => (
            format!("This server's clock ({}) is behind the latest time it has seen ({}).", t(*now), t(*high_water)),
            "Correct the clock: every request is refused until it passes that time.".to_owned(),
        ),
        Refusal::AlreadyActivated { at } if zh => {
            (format!("授权服务器已于 {} 激活。", t(*at)), "无需操作：应用可以直接注册。".to_owned())
        }
        Refusal::AlreadyActivated { at } => (
            format!("The authorization server is already activated (since {}).", t(*at)),
            "Nothing to do: the applications can register.".to_owned(),
        ),
        Refusal::Code(e) => code_texts(e, lang, now),
        Refusal::ReceiptPolicy if zh => (
            "此服务器的许可证通过厂商签发的回执激活，而非 6 位验证码：本服务器无法校验验证码。".to_owned(),
            "请在 /license/qrcode 上点击“通过厂商服务激活”，或上传手机获得的回执文件。".to_owned(),
        ),
        Refusal::ReceiptPolicy => (
            "This server's license is activated by the vendor's receipt, not by a 6-digit code: this server cannot check codes."
                .to_owned(),
            "On /license/qrcode, use \"Activate through the vendor's service\", or upload the receipt file the phone got."
                .to_owned(),
        ),
        Refusal::Challenge(reason) if zh => (
            format!("无法生成二维码：{reason}"),
            "请检查服务器的许可证和 FANLIC_ACTIVATION_BASE_URL 后重启服务器；如仍出现此提示，请联系商务人员。"
                .to_owned(),
        ),
        Refusal::Challenge(reason) => (
            format!("The QR code cannot be made: {reason}"),
            "Check the server's license and FANLIC_ACTIVATION_BASE_URL, then restart the server; if this persists, \
             contact the vendor's business staff."
                .to_owned(),
        ),
    };
    (prompt, advice)
}

fn code_texts(e: &CodeError, lang: Lang, now: u64) -> (String, String) {
    let zh = lang == Lang::ZhCn;
    match e {
        CodeError::NoChallenge => (
            lang.pick("No QR code is shown.", "当前没有显示二维码。").to_owned(),
            lang.pick(
                "Refresh the QR code, scan it, then enter the new code.",
                "请刷新二维码并扫描，然后输入新的验证码。",
            )
            .to_owned(),
        ),
        CodeError::NotSixDigits => (
            lang.pick("The code has exactly 6 digits.", "验证码必须是 6 位数字。").to_owned(),
            lang.pick("Type the 6 digits the phone shows.", "请输入手机上显示的 6 位数字。").to_owned(),
        ),
        CodeError::ChallengeExpired { .. } => (
            lang.pick(
                "The QR code has expired: a QR code is valid for 5 minutes.",
                "二维码已过期：二维码的有效期为 5 分钟。",
            )
            .to_owned(),
            lang.pick("Refresh the QR code and scan it again.", "请刷新二维码后重新扫描。").to_owned(),
        ),
        CodeError::Locked { until, .. } => {
            let left = minutes(until.0.saturating_sub(now), lang);
            let at = ShownTime(*until);
            if zh {
                (
                    format!("验证码错误次数过多：输入已锁定至 {at}（还剩 {left}）。"),
                    "请等待锁定结束后刷新二维码再试。".to_owned(),
                )
            } else {
                (
                    format!("Too many wrong codes: code entry is locked until {at} ({left} more)."),
                    "Wait until then, then refresh the QR code and try again.".to_owned(),
                )
            }
        }
        CodeError::WrongCode { remaining } if zh => (
            format!("验证码错误。再错 {remaining} 次，输入将被锁定 15 分钟。"),
            "请核对手机上显示的 6 位数字后重新输入。".to_owned(),
        ),
        CodeError::WrongCode { remaining } => (
            format!("Wrong code. {remaining} more wrong codes lock code entry for 15 minutes."),
            "Check the 6 digits the phone shows and type them again.".to_owned(),
        ),
        other => {
            (other.to_string(), lang.pick("Refresh the QR code and try again.", "请刷新二维码后重试。").to_owned())
        }
    }
}

/// Whole minutes in `secs`, rounded up (30 s left shows as 1 minute).
fn minutes(secs: u64, lang: Lang) -> String {
    let n = secs.div_ceil(60);
    match lang {
        Lang::ZhCn => format!("{n} 分钟"),
        _ if n == 1 => "1 minute".to_owned(),
        _ => format!("{n} minutes"),
    }
}

fn expiry_text(e: Expiry, lang: Lang) -> String {
    match e {
        Expiry::On(d) => ShownDate(d).to_string(),
        Expiry::Never => lang.pick("never expires", "永久有效").to_owned(),
    }
}

/// A page in `lang`, never cached, that caches keep apart by language.
fn page_response(status: StatusCode, lang: Lang, html: &str) -> Response {
    let mut resp = no_store((status, Html(html.to_owned())).into_response());
    resp.headers_mut().insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
    resp.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept, Accept-Language"));
    resp
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The license's own causes (expired, not yet valid), as the product shows them.
fn license_causes_html(d: &PageData) -> String {
    let mut out = String::new();
    for c in &d.license_causes {
        out.push_str(&format!(
            "<div class=\"err\"><h2>{}</h2><p>{}</p><p><b>{}</b></p><p class=\"small\">({})</p></div>",
            escape(c.title),
            escape(&c.prompt),
            escape(&c.advice),
            escape(c.code)
        ));
    }
    out
}

fn clock_behind_html(d: &PageData, lang: Lang) -> String {
    let (prompt, advice) =
        refusal_texts(&Refusal::ClockBehind { now: d.now, high_water: d.st.time_high_water }, lang, d.now);
    format!("<p class=\"err\">{} <b>{}</b></p>", escape(&prompt), escape(&advice))
}

/// The QR page: mobile-friendly, no external resources; no script under
/// code policy, one script file under receipt policy.
fn page(d: &PageData, lang: Lang, notice: Option<Notice>, base_url: &str) -> String {
    if d.policy == ActivationPolicy::Receipt {
        return receipt_page(d, lang, notice, base_url);
    }
    let st = &d.st;
    let zh = lang == Lang::ZhCn;
    let mut body = notice.map(|n| notice_html(n, lang)).unwrap_or_default();
    body.push_str(&license_causes_html(d));
    if st.clock_behind {
        body.push_str(&clock_behind_html(d, lang));
    } else if let Some(at) = st.activated_at {
        let since = escape(&ShownTime(Timestamp(at)).to_string());
        body.push_str(&if zh {
            format!(
                "<p class=\"ok\">已于 {since} 激活。</p><p>在每个帆软应用中：系统管理 &gt; 注册管理，认证方式选择<b>私有云</b>，并填写此服务器的地址（<code>https://IP:PORT/</code>）。</p>"
            )
        } else {
            format!(
                "<p class=\"ok\">Activated since {since}.</p><p>In each FanRuan application: System Management &gt; Registration Management, authentication method <b>Private Cloud</b>, and this server's address (<code>https://IP:PORT/</code>).</p>"
            )
        });
    } else if let Some(Ok(ch)) = &d.challenge {
        let svg = fanlic_qr::Qr::new(&ch.url).map(|q| q.to_svg()).unwrap_or_default();
        let until = ch.issued_at.saturating_add(crate::code_entry::CHALLENGE_VALID_SECS);
        let left = minutes(until.saturating_sub(d.now), lang);
        let until = ShownTime(Timestamp(until));
        let (steps, valid, link, refresh) = if zh {
            (
                "1. 用手机浏览器扫描此二维码。2. 在下方输入手机上显示的 6 位验证码。".to_owned(),
                format!("此二维码还剩 {left}有效（至 {until}）。"),
                "激活链接",
                "刷新二维码",
            )
        } else {
            (
                "1. Scan this QR code with a phone's browser. 2. Enter the 6-digit code it shows below.".to_owned(),
                format!("This QR code is valid for {left} more (until {until})."),
                "Activation link",
                "Refresh the QR code",
            )
        };
        body.push_str(&format!(
            "<p>{steps}</p><div class=\"qr\">{svg}</div>\
             <p class=\"small\">{valid} <a href=\"{url}\">{link}</a></p>\
             <form method=\"post\" action=\"/license/refresh\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\">{refresh}</button></form>",
            steps = escape(&steps),
            valid = escape(&valid),
            url = escape(&ch.url),
            csrf = escape(&d.csrf),
        ));
        if let Some(until) = d.locked_until {
            let (prompt, advice) =
                code_texts(&CodeError::Locked { until: Timestamp(until), now: Timestamp(d.now) }, lang, d.now);
            body.push_str(&format!("<p class=\"err\">{} <b>{}</b></p>", escape(&prompt), escape(&advice)));
        }
        let (label, button) = if zh { ("6 位验证码", "激活") } else { ("6-digit code", "Activate") };
        body.push_str(&format!(
            "<form method=\"post\" action=\"/license/code\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"code\">{label}</label>\
             <input id=\"code\" name=\"code\" inputmode=\"numeric\" pattern=\"[0-9 ]*\" maxlength=\"8\" autocomplete=\"one-time-code\" required>\
             <button type=\"submit\">{button}</button></form>",
            csrf = escape(&d.csrf),
        ));
    } else if let Some(Err(r)) = &d.challenge {
        let (prompt, advice) = refusal_texts(r, lang, d.now);
        body.push_str(&format!("<p class=\"err\">{} <b>{}</b></p>", escape(&prompt), escape(&advice)));
    }
    let title = lang.pick("Authorization server activation", "授权服务器激活");
    shell(lang, title, lang.pick("Authorization server", "授权服务器"), &body, &footer(d, lang))
}

/// The QR page under receipt policy: the terms, the QR code (the phone
/// path: the vendor's page gives the phone a receipt file, which the admin
/// uploads here), the button that fetches the receipt through this browser,
/// and the upload form. Shown while activated too: activating again renews
/// the lease.
fn receipt_page(d: &PageData, lang: Lang, notice: Option<Notice>, base_url: &str) -> String {
    let st = &d.st;
    let zh = lang == Lang::ZhCn;
    let mut body = notice.map(|n| notice_html(n, lang)).unwrap_or_default();
    body.push_str(&license_causes_html(d));
    if st.clock_behind {
        body.push_str(&clock_behind_html(d, lang));
    }
    if st.revoked {
        body.push_str(&format!(
            "<p class=\"err\">{}</p>",
            escape(lang.pick(
                "The vendor has revoked this server's license: it serves no application. Contact the vendor's business staff.",
                "厂商已吊销此服务器的许可证：它不再为任何应用提供服务。请联系商务人员。",
            ))
        ));
    }
    if let Some(at) = st.activated_at {
        let since = ShownTime(Timestamp(at)).to_string();
        let text = match (st.lease_until, zh) {
            (Some(u), true) => format!("已于 {since} 激活。请在 {} 之前重新激活。", ShownTime(Timestamp(u))),
            (Some(u), false) => format!("Activated since {since}. Activate again before {}.", ShownTime(Timestamp(u))),
            (None, true) => format!("已于 {since} 激活。"),
            (None, false) => format!("Activated since {since}."),
        };
        let class = if st.lease_expired { "err" } else { "ok" };
        body.push_str(&format!("<p class=\"{class}\">{}</p>", escape(&text)));
    }
    let t = &d.terms;
    let rows: [(&str, String); 4] = [
        (lang.pick("License", "许可证"), st.license_id.clone()),
        (lang.pick("Application", "应用"), format!("{} {}", t.app_name, t.version)),
        (lang.pick("Project", "项目"), t.project.clone()),
        (lang.pick("Nodes", "节点数"), t.max_nodes.to_string()),
    ];
    body.push_str("<dl id=\"terms\">");
    for (k, v) in rows {
        body.push_str(&format!("<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v)));
    }
    body.push_str("</dl>");
    match &d.challenge {
        Some(Ok(ch)) => {
            let svg = fanlic_qr::Qr::new(&ch.url).map(|q| q.to_svg()).unwrap_or_default();
            let until = ch.issued_at.saturating_add(crate::code_entry::CHALLENGE_VALID_SECS);
            let left = minutes(until.saturating_sub(d.now), lang);
            let until = ShownTime(Timestamp(until));
            let (button_steps, phone_steps, valid) = if zh {
                (
                    "此浏览器能访问厂商的激活服务时：点击下面的按钮。此浏览器把二维码的内容发送给厂商，再把厂商签发的回执交给本服务器。",
                    "否则：用手机扫描此二维码，在手机上确认后下载回执文件，再在下方上传该文件（或粘贴其内容）。",
                    format!("此二维码还剩 {left}有效（至 {until}）。"),
                )
            } else {
                (
                    "If this browser can reach the vendor's activation service: press the button below. This browser sends the QR code's content to the vendor and hands the receipt the vendor signs to this server.",
                    "Otherwise: scan this QR code with a phone, confirm there, download the receipt file, and upload it below (or paste its content).",
                    format!("This QR code is valid for {left} more (until {until})."),
                )
            };
            body.push_str(&format!(
                "<p>{}</p><p><button type=\"button\" id=\"vendor-activate\" data-base=\"{base}\" data-token=\"{token}\" data-instance-key=\"{instance}\" \
                 data-working=\"{working}\" data-failed=\"{failed}\" data-unreachable=\"{unreachable}\">{label}</button></p>\
                 <p id=\"vendor-result\" role=\"status\"></p><p><code id=\"vendor-join-secret\"></code></p>\
                 <p>{}</p><div class=\"qr\">{svg}</div>\
                 <p class=\"small\">{valid} <a href=\"{url}\">{link}</a></p>",
                escape(button_steps),
                escape(phone_steps),
                base = escape(base_url),
                token = escape(ch.token_text()),
                instance = escape(&d.instance_key),
                working = escape(lang.pick("Asking the vendor's service…", "正在请求厂商的激活服务……")),
                failed = escape(lang.pick("Activation failed:", "激活失败：")),
                unreachable = escape(lang.pick(
                    "The vendor's activation service cannot be reached from this browser: use the phone and upload the receipt file",
                    "此浏览器无法访问厂商的激活服务：请使用手机并上传回执文件",
                )),
                label = escape(lang.pick("Activate through the vendor's service", "通过厂商服务激活")),
                valid = escape(&valid),
                url = escape(&ch.url),
                link = escape(lang.pick("Activation link", "激活链接")),
            ));
            body.push_str(&format!(
                "<form method=\"post\" action=\"/license/refresh\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <button type=\"submit\">{refresh}</button></form>",
                csrf = escape(&d.csrf),
                refresh = escape(lang.pick("Refresh the QR code", "刷新二维码")),
            ));
        }
        Some(Err(r)) => {
            let (prompt, advice) = refusal_texts(r, lang, d.now);
            body.push_str(&format!("<p class=\"err\">{} <b>{}</b></p>", escape(&prompt), escape(&advice)));
        }
        None => {}
    }
    body.push_str(&format!(
        "<h2>{heading}</h2><form method=\"post\" action=\"/license/receipt\" id=\"receipt-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"receipt-file\">{file}</label>\
         <input type=\"file\" id=\"receipt-file\" accept=\".fanlic,text/plain\">\
         <label for=\"receipt-text\">{text}</label>\
         <textarea id=\"receipt-text\" name=\"receipt\" rows=\"6\" required></textarea>\
         <button type=\"submit\">{button}</button></form>\
         <script src=\"/license/receipt.js\"></script>",
        heading = escape(lang.pick("Upload the receipt", "上传回执")),
        csrf = escape(&d.csrf),
        file = escape(lang.pick("Receipt file (receipt.fanlic)", "回执文件（receipt.fanlic）")),
        text = escape(lang.pick("or its content", "或其内容")),
        button = escape(lang.pick("Activate with this receipt", "用此回执激活")),
    ));
    let title = lang.pick("Authorization server activation", "授权服务器激活");
    shell(lang, title, lang.pick("Authorization server", "授权服务器"), &body, &footer(d, lang))
}

/// `/license/status` for a browser.
fn status_page(d: &PageData, lang: Lang, notice: Option<Notice>) -> String {
    let st = &d.st;
    let zh = lang == Lang::ZhCn;
    let mut body = notice.map(|n| notice_html(n, lang)).unwrap_or_default();
    body.push_str(&license_causes_html(d));
    if st.clock_behind {
        body.push_str(&clock_behind_html(d, lang));
    }
    let activated = match (st.activated_at, d.policy) {
        (Some(at), _) => format!("{} {}", lang.pick("since", "激活时间"), ShownTime(Timestamp(at))),
        (None, ActivationPolicy::Receipt) => lang
            .pick(
                "not activated: open /license/qrcode and activate through the vendor's service",
                "未激活：请打开 /license/qrcode，通过厂商服务激活",
            )
            .to_owned(),
        (None, ActivationPolicy::Code) => lang
            .pick(
                "not activated: open /license/qrcode, scan the QR code and enter the code",
                "未激活：请打开 /license/qrcode，扫描二维码并输入验证码",
            )
            .to_owned(),
    };
    let mut rows: Vec<(&str, String)> = vec![
        (lang.pick("Activated", "激活状态"), activated),
        (
            lang.pick("Nodes registered", "已注册节点"),
            if zh {
                format!("{} / {}", st.nodes, st.max_nodes)
            } else {
                format!("{} of at most {}", st.nodes, st.max_nodes)
            },
        ),
        (lang.pick("License", "许可证"), st.license_id.clone()),
        (lang.pick("License valid until", "许可证有效期至"), expiry_text(d.expiry, lang)),
        (
            lang.pick("Code entry locked until", "验证码输入锁定至"),
            d.locked_until.map_or_else(|| "-".to_owned(), |u| ShownTime(Timestamp(u)).to_string()),
        ),
        (lang.pick("Latest time seen", "记录到的最新时间"), ShownTime(Timestamp(st.time_high_water)).to_string()),
        (lang.pick("privateConfig generation", "privateConfig 版本"), st.generation.to_string()),
        (lang.pick("Instance", "实例"), st.instance_fingerprint.clone()),
    ];
    if d.policy == ActivationPolicy::Receipt {
        // Under receipt policy only: the code policy's page stays as it was.
        rows.extend([
            (lang.pick("Activated by", "激活方式"), lang.pick("the vendor's receipt", "厂商签发的回执").to_owned()),
            (lang.pick("Receipt", "回执"), st.receipt_id.clone().unwrap_or_else(|| "-".to_owned())),
            (
                lang.pick("Re-activation due", "需重新激活的时间"),
                match (st.lease_until, st.lease_expired) {
                    (Some(u), false) => ShownTime(Timestamp(u)).to_string(),
                    (Some(u), true) => format!(
                        "{} {}",
                        ShownTime(Timestamp(u)),
                        lang.pick(
                            "(passed: applications are refused until it is activated again on /license/qrcode)",
                            "（已过期：在 /license/qrcode 重新激活之前，应用的请求都会被拒绝）",
                        )
                    ),
                    (None, _) => "-".to_owned(),
                },
            ),
        ]);
    }
    body.push_str("<dl>");
    for (k, v) in rows {
        body.push_str(&format!("<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v)));
    }
    body.push_str("</dl>");
    body.push_str(&nodes_html(d, lang));
    let title = lang.pick("Authorization server status", "授权服务器状态");
    shell(lang, title, title, &body, "")
}

/// The registered nodes, each with a form to evict it: the admin proves the
/// join secret (the page never shows it), the form carries the CSRF token.
fn nodes_html(d: &PageData, lang: Lang) -> String {
    let mut out = format!("<h2>{}</h2>", escape(lang.pick("Registered nodes", "已注册节点")));
    if d.nodes.is_empty() {
        out.push_str(&format!("<p>{}</p>", escape(lang.pick("None.", "无。"))));
        return out;
    }
    out.push_str(&format!(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
        escape(lang.pick("Node", "节点")),
        escape(lang.pick("Registered", "注册时间")),
        escape(lang.pick("Last heard from", "最近联系")),
    ));
    for n in &d.nodes {
        out.push_str(&format!(
            "<tr><td><code>{id}</code></td><td>{reg}</td><td>{seen}</td><td>\
             <form method=\"post\" action=\"/license/nodes/evict\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"node_id\" value=\"{id}\">\
             <input type=\"password\" name=\"join_secret\" placeholder=\"{ph}\" autocomplete=\"off\" required>\
             <button type=\"submit\">{button}</button></form></td></tr>",
            id = crate::hex(&n.node_id),
            reg = escape(&ShownTime(Timestamp(n.registered_at)).to_string()),
            seen = escape(&ShownTime(Timestamp(n.last_seen)).to_string()),
            csrf = escape(&d.csrf),
            ph = escape(lang.pick("join secret", "加入密钥")),
            button = escape(lang.pick("Remove", "移除")),
        ));
    }
    out.push_str("</table>");
    out
}

fn footer(d: &PageData, lang: Lang) -> String {
    let st = &d.st;
    let expiry = expiry_text(d.expiry, lang);
    let text = match lang {
        Lang::ZhCn => format!(
            "许可证 {} · 已注册 {} / {} 个节点 · 有效期至 {expiry} · 实例 {}",
            st.license_id,
            st.nodes,
            st.max_nodes,
            st.instance_fingerprint.get(..16).unwrap_or("")
        ),
        _ => format!(
            "License {} · {} of {} nodes registered · valid until {expiry} · instance {}",
            st.license_id,
            st.nodes,
            st.max_nodes,
            st.instance_fingerprint.get(..16).unwrap_or("")
        ),
    };
    format!("<p class=\"small\">{}</p>", escape(&text))
}

/// A whole page: `body` and `footer` are HTML whose values are escaped.
fn shell(lang: Lang, title: &str, heading: &str, body: &str, footer: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{tag}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/license/style.css\"></head><body>\
         <h1>{heading}</h1>{body}{footer}</body></html>",
        tag = lang.tag(),
        title = escape(title),
        heading = escape(heading),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_of_a_form() {
        assert_eq!(form_field(b"code=123456", "code").unwrap(), "123456");
        assert_eq!(form_field(b"x=1&code=+12%203+", "code").unwrap(), " 12 3 ");
        assert!(form_field(b"x=1", "code").is_none());
        assert!(form_field(b"codex=1", "code").is_none());
        assert!(form_field(b"code=%4", "code").is_none());
        assert_eq!(form_field(b"code=1&csrf=ab", "csrf").unwrap(), "ab");
    }
}
