//! The HTTP side: the admin's QR page and code entry, and the application
//! API (SPEC.md §7.3). Every request's work runs on a blocking thread under
//! the state's lock, followed by a `privateConfig` write when one is due.
//!
//! This module holds the router, the middleware and what every handler
//! shares; `api` answers the applications, `admin` the admin's browser, and
//! `pages` renders what the admin reads.

#![allow(
    clippy::result_large_err,
    reason = "axum's Response is what a handler returns on failure; boxing it buys nothing"
)]

use std::{
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use axum::{
    Router,
    extract::{ConnectInfo, DefaultBodyLimit, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse as _, Redirect, Response},
    routing::{get, post},
};
use fanlic_formats::Timestamp;
use fanlic_verifier::node_auth::{JoinSecret, RequestKey};
use serde_json::{Value, json};

use crate::{
    auth::{CsrfKey, ReplayGuard},
    code_entry::{self},
    config::write_atomic,
    log::log_line,
    now,
    state::ServerState,
    tls::ClientAddr,
};

/// A field of a form (`application/x-www-form-urlencoded`), decoded.
pub(super) fn form_field(body: &[u8], name: &str) -> Option<String> {
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

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad_request(format!("the body is not the expected JSON: {e}")))
}

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
pub(super) async fn with_state<T: Send + 'static>(
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

pub(super) fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(super) fn json_response(status: StatusCode, v: &Value) -> Response {
    no_store((status, axum::Json(v.clone())).into_response())
}

pub(super) fn bad_request(message: impl Into<String>) -> Response {
    json_response(StatusCode::BAD_REQUEST, &json!({"status": "error", "error": message.into()}))
}

mod admin;
mod api;
mod pages;

pub use admin::RECEIPT_BODY_LIMIT;
use admin::{enter_code, evict, post_receipt, qrcode_page, qrcode_png, receipt_js, refresh, style_css};
use api::{deregister, heartbeat, register, status};

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
