//! The HTTP side: the admin's QR page and code entry, and the application
//! API (SPEC.md §7.3). Every request's work runs on a blocking thread under
//! the state's lock, followed by a `privateConfig` write when one is due.

#![allow(
    clippy::result_large_err,
    reason = "axum's Response is what a handler returns on failure; boxing it buys nothing"
)]

use std::{
    io::Write as _,
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use axum::{
    Router,
    body::Bytes,
    extract::{ConnectInfo, Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{Html, IntoResponse as _, Redirect, Response},
    routing::{get, post},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use fanlic_formats::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    config::write_atomic,
    keys::random,
    now, parse_hex16,
    state::{Answer, Cause, Refusal, RegisterRequest, ServerState, ShownChallenge, Status},
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
}

/// One JSON line on stderr. Callers never pass a code, key, token or nonce.
pub fn log_line(v: &Value) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{v}");
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
    Ok(out)
}

/// The routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/license/qrcode") }))
        .route("/license/qrcode", get(qrcode_page))
        .route("/license/qrcode.png", get(qrcode_png))
        .route("/license/code", post(enter_code))
        .route("/license/status", get(status))
        .route("/api/v1/register", post(register))
        .route("/api/v1/heartbeat", post(heartbeat))
        .route("/api/v1/deregister", post(deregister))
        .layer(middleware::from_fn(log_requests))
        .with_state(shared)
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

async fn register(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: RegisterBody = match parse_json(&body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let (node_id, nonce) = match ids(&req.node_id, &req.nonce) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
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

async fn node_request(shared: Arc<Shared>, body: Bytes, status: &str, op: NodeOp) -> Response {
    let req: NodeBody = match parse_json(&body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let (node_id, nonce) = match ids(&req.node_id, &req.nonce) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    match with_state(&shared, move |s, now| op(s, node_id, nonce, now)).await {
        Ok(r) => answer_response(status, r),
        Err(resp) => resp,
    }
}

async fn heartbeat(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    node_request(shared, body, "heartbeat", ServerState::heartbeat).await
}

async fn deregister(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    node_request(shared, body, "deregistered", ServerState::deregister).await
}

async fn status(State(shared): State<Arc<Shared>>) -> Response {
    match with_state(&shared, |s, now| s.status(now)).await {
        Ok(st) => json_response(StatusCode::OK, &json!(st)),
        Err(resp) => resp,
    }
}

// ---------------------------------------------------------------------------
// The admin's pages.

#[derive(Deserialize)]
struct QrQuery {
    refresh: Option<String>,
}

/// The status and the QR code (made or refreshed as needed).
async fn current(shared: &Arc<Shared>, refresh: bool) -> Result<(Status, Result<ShownChallenge, Refusal>), Response> {
    let nonce = random::<16>().map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())?;
    let base = shared.base_url.clone();
    with_state(shared, move |s, now| {
        let ch = s.challenge(now, nonce, &base, refresh);
        (s.status(now), ch)
    })
    .await
}

async fn qrcode_page(State(shared): State<Arc<Shared>>, Query(q): Query<QrQuery>) -> Response {
    match current(&shared, q.refresh.is_some()).await {
        Ok((st, ch)) => no_store(Html(page(&st, ch.as_ref().ok(), None)).into_response()),
        Err(resp) => resp,
    }
}

async fn qrcode_png(State(shared): State<Arc<Shared>>) -> Response {
    match current(&shared, false).await {
        Ok((_, Ok(ch))) => match fanlic_qr::Qr::new(&ch.url).and_then(|q| q.to_png(8)) {
            Ok(png) => no_store(([(header::CONTENT_TYPE, "image/png")], png).into_response()),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        },
        Ok((_, Err(refusal))) => no_store((StatusCode::CONFLICT, refusal.to_string()).into_response()),
        Err(resp) => resp,
    }
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

/// `code=NNNNNN` of a form: only digits, spaces and `+` matter here.
fn form_code(body: &[u8]) -> Option<String> {
    let text = core::str::from_utf8(body).ok()?;
    let value = text.split('&').find_map(|kv| kv.strip_prefix("code="))?;
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

async fn enter_code(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let typed = if is_json {
        match parse_json::<CodeBody>(&body) {
            Ok(b) => b.code,
            Err(resp) => return resp,
        }
    } else {
        form_code(&body).unwrap_or_default()
    };
    let result = with_state(&shared, move |s, now| s.enter_code(&typed, now)).await;
    let result = match result {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let http_status = match &result {
        Ok(_) => StatusCode::OK,
        Err(Refusal::Code(fanlic_verifier::activation::CodeError::Locked { .. })) => StatusCode::TOO_MANY_REQUESTS,
        Err(Refusal::Code(fanlic_verifier::activation::CodeError::NotSixDigits)) => StatusCode::BAD_REQUEST,
        Err(Refusal::AlreadyActivated { .. }) => StatusCode::CONFLICT,
        Err(_) => StatusCode::FORBIDDEN,
    };
    if is_json {
        let st = match with_state(&shared, |s, now| s.status(now)).await {
            Ok(st) => st,
            Err(resp) => return resp,
        };
        let v = match &result {
            Ok(at) => json!({"status": "activated", "activated_at": at}),
            Err(r) => json!({
                "status": "refused", "code": r.code(), "message": r.to_string(), "locked_until": st.locked_until,
            }),
        };
        return json_response(http_status, &v);
    }
    let (st, ch) = match current(&shared, false).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let notice = match &result {
        Ok(_) => (true, "Activation succeeded. The FanRuan applications can now register with this server.".to_owned()),
        Err(r) => (false, r.to_string()),
    };
    no_store((http_status, Html(page(&st, ch.as_ref().ok(), Some(notice)))).into_response())
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

/// The QR page: mobile-friendly, no script, no external resources.
fn page(st: &Status, challenge: Option<&ShownChallenge>, notice: Option<(bool, String)>) -> String {
    let mut body = String::new();
    if let Some((ok, text)) = notice {
        let class = if ok { "ok" } else { "err" };
        body.push_str(&format!("<p class=\"{class}\">{}</p>", escape(&text)));
    }
    if st.clock_behind {
        body.push_str(&format!(
            "<p class=\"err\">This server's clock is behind the latest time it has seen ({}). Correct the clock: every request is refused until it passes that time.</p>",
            Timestamp(st.time_high_water)
        ));
    } else if let Some(at) = st.activated_at {
        body.push_str(&format!(
            "<p class=\"ok\">Activated since {}.</p><p>In each FanRuan application: System Management &gt; Registration Management, authentication method <b>Private Cloud</b>, and this server's address (<code>https://IP:PORT/</code>).</p>",
            Timestamp(at)
        ));
    } else if let Some(ch) = challenge {
        let svg = fanlic_qr::Qr::new(&ch.url).map(|q| q.to_svg()).unwrap_or_default();
        let expires = Timestamp(ch.issued_at.saturating_add(crate::state::CHALLENGE_VALID_SECS));
        body.push_str(&format!(
            "<p>1. Scan this QR code with a phone's browser. 2. Enter the 6-digit code it shows below.</p>\
             <div class=\"qr\">{svg}</div>\
             <p class=\"small\">Valid until {expires} (5 minutes). <a href=\"{url}\">Activation link</a></p>\
             <form method=\"get\" action=\"/license/qrcode\"><button name=\"refresh\" value=\"1\">Refresh the QR code</button></form>",
            url = escape(&ch.url)
        ));
        if let Some(until) = st.locked_until {
            body.push_str(&format!(
                "<p class=\"err\">Too many wrong codes: code entry is locked until {}.</p>",
                Timestamp(until)
            ));
        }
        body.push_str(
            "<form method=\"post\" action=\"/license/code\">\
             <label for=\"code\">6-digit code</label>\
             <input id=\"code\" name=\"code\" inputmode=\"numeric\" pattern=\"[0-9 ]*\" maxlength=\"8\" autocomplete=\"one-time-code\" required>\
             <button type=\"submit\">Activate</button></form>",
        );
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Authorization server activation</title>\
         <style>body{{font-family:sans-serif;max-width:32rem;margin:1rem auto;padding:0 1rem}}\
         .qr svg{{width:100%;max-width:20rem;height:auto}}.ok{{color:#060}}.err{{color:#a00}}.small{{font-size:.85rem}}\
         input,button{{font-size:1.2rem;margin:.3rem 0;padding:.3rem}}</style></head><body>\
         <h1>Authorization server</h1>{body}\
         <p class=\"small\">License {lic} &middot; {nodes} of {max} nodes registered &middot; instance {fp}</p>\
         </body></html>",
        lic = escape(&st.license_id),
        nodes = st.nodes,
        max = st.max_nodes,
        fp = escape(st.instance_fingerprint.get(..16).unwrap_or("")),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code
mod tests {
    use super::*;

    #[test]
    fn reads_the_code_of_a_form() {
        assert_eq!(form_code(b"code=123456").unwrap(), "123456");
        assert_eq!(form_code(b"x=1&code=+12%203+").unwrap(), " 12 3 ");
        assert!(form_code(b"x=1").is_none());
        assert!(form_code(b"code=%4").is_none());
    }
}
