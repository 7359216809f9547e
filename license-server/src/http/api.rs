//! The application API (SPEC.md §7.3): register, heartbeat, deregister,
//! and the status for scripts and browsers.

use core::net::IpAddr;
use std::sync::{Arc, PoisonError};

use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use fanlic_verifier::node_auth::{AUTH_SCHEME, AuthError};
use serde::Deserialize;
use serde_json::json;

use super::pages::{PageData, lang_of, page_response, status_page};
use super::{Shared, bad_request, json_response, parse_json, with_state};
use crate::{
    license::Cause,
    log::log_line,
    now, parse_hex16,
    state::{Answer, RegisterRequest, ServerState},
    tls::ClientAddr,
};

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

pub(super) async fn register(
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

pub(super) async fn heartbeat(
    State(shared): State<Arc<Shared>>,
    ci: ConnectInfo<ClientAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let inc = Incoming { client: ci.0.0.ip(), headers, body };
    node_request(shared, inc, "/api/v1/heartbeat", "heartbeat", ServerState::heartbeat).await
}

pub(super) async fn deregister(
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
pub(super) async fn status(
    State(shared): State<Arc<Shared>>,
    ci: ConnectInfo<ClientAddr>,
    headers: HeaderMap,
) -> Response {
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
