//! The requests: `/healthz`, the published revocation list, and the
//! activation token's page (`GET` shows, `POST` confirms) and receipt
//! endpoint. Each checks what needs no database (rate limits, the
//! challenge's tag and age, the license's terms) and asks the database
//! thread for the rest.

use core::net::{IpAddr, SocketAddr};
use std::{
    sync::{Arc, mpsc},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    extract::{ConnectInfo, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse as _, Response},
};
use fanlic_formats::{
    ActivationPolicy, LicenseId, LicenseKind, Timestamp,
    activation::{ActivationChallenge, CHALLENGE_VALID_SECS, MAX_TOKEN_LEN, Token},
};
use fanlic_verifier::{
    Lang,
    activation::{ChallengeError, claimed_license_id, open_challenge, token_from_url},
};

use super::db::{Attempt, Failed, Job, ReceiptAsk, ask};
use super::instance::{Check, Instance};
use super::license_row::{LicenseCache, LicenseRow};
use super::limits::Limiter;
use super::log::{Logger, Outcome, log_request};
use super::pages::{
    Pg, RETRY_AFTER_SECS, Unavailable, activated, internal, rate_limited, ready, receipt_issued, refused,
    secure_headers, unavailable,
};
use super::reason::Reason;
use super::{RECEIPT_SEGMENT, REVOCATIONS_PATH};
use crate::store::bindings::PublishedList;

/// Shared by every request.
pub(crate) struct App {
    /// The database thread's queue.
    pub(crate) db: mpsc::Sender<Job>,
    /// License rows by id.
    pub(crate) cache: LicenseCache,
    /// The request log.
    pub(crate) log: Logger,
    /// Requests per window for one license.
    pub(crate) by_license: Limiter<LicenseId>,
    /// Requests per window from one client address.
    pub(crate) by_client: Limiter<IpAddr>,
    /// Requests whose license id could not be authenticated (forged tag,
    /// unknown license, no key), per client: they never count against a
    /// license, so that knowing a license id does not block its activation.
    pub(crate) forged_by_client: Limiter<IpAddr>,
    /// Whether this instance's secrets match the database's.
    pub(crate) instance: Arc<Instance>,
}

/// `GET /healthz`: the process is up (`{"status":"ok"}` to a client that
/// accepts JSON, else `ok`); it asks nothing of the database.
pub(crate) async fn healthz(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
) -> Response {
    let out = Outcome { license_id: None, status: StatusCode::OK, outcome: "ok", error: None };
    log_request(&app.log, "GET", "/healthz", peer.ip(), &out, Instant::now());
    if wants_json(&headers) {
        axum::Json(serde_json::json!({"status": "ok"})).into_response()
    } else {
        "ok".into_response()
    }
}

fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"))
}

/// How long `/readyz` waits for the database thread.
const READY_TIMEOUT: core::time::Duration = core::time::Duration::from_secs(2);

/// `GET /readyz`: 200 when the database answers (a read through the
/// database thread, within [`READY_TIMEOUT`]), its schema is the one this
/// build writes, and this instance's secrets match the database's; else
/// 503 naming each failing check and what to do. JSON always; it shows no
/// secret (only versions, key ids and file names).
pub(crate) async fn readyz(State(app): State<Arc<App>>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    let started = Instant::now();
    let mut checks = Vec::new();
    let mut failed = Vec::new();
    let mut check = |name: &str, problem: Option<(String, String)>| match problem {
        None => checks.push(serde_json::json!({"name": name, "ok": true})),
        Some((problem, fix)) => {
            failed.push(name.to_owned());
            checks.push(serde_json::json!({"name": name, "ok": false, "problem": problem, "fix": fix}));
        }
    };
    let answered = tokio::time::timeout(READY_TIMEOUT, ask(&app.db, |reply| Job::Ready { reply })).await;
    let schema = match answered {
        Ok(Ok(r)) => {
            check("database", None);
            Some(r)
        }
        Ok(Err(f)) => {
            check(
                "database",
                Some((
                    f.message,
                    "Check that the database runs and that this host reaches it; the service recovers by itself \
                     when it answers again"
                        .to_owned(),
                )),
            );
            None
        }
        Err(_) => {
            check(
                "database",
                Some((
                    format!("no answer within {} s", READY_TIMEOUT.as_secs()),
                    "Check the database's load and this host's network path to it".to_owned(),
                )),
            );
            None
        }
    };
    match schema {
        Some(r) if r.schema_version == r.schema_latest => check("schema", None),
        Some(r) if r.schema_version < r.schema_latest => check(
            "schema",
            Some((
                format!(
                    "the database's schema is version {}, this fanlic writes {}",
                    r.schema_version, r.schema_latest
                ),
                "Run `fanlic db migrate`".to_owned(),
            )),
        ),
        Some(r) => check(
            "schema",
            Some((
                format!(
                    "the database's schema is version {}, newer than this fanlic's {}",
                    r.schema_version, r.schema_latest
                ),
                "Run the same fanlic version as the instance that migrated the database".to_owned(),
            )),
        ),
        None => check(
            "schema",
            Some(("not read: the database did not answer".to_owned(), "See the database check".to_owned())),
        ),
    }
    for (name, c) in [("master_secret", app.instance.master()), ("receipt_key", app.instance.receipt())] {
        match c {
            Check::Same => check(name, None),
            Check::Unknown => check(
                name,
                Some((
                    "not compared with the database yet (it did not answer)".to_owned(),
                    "See the database check".to_owned(),
                )),
            ),
            Check::Differs { problem, fix } => check(name, Some((problem, fix))),
        }
    }
    let ok = failed.is_empty();
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::json!({
        "status": if ok { "ready" } else { "not_ready" },
        "failed": failed,
        "checks": checks,
    });
    let mut r = (status, axum::Json(body)).into_response();
    if !ok && let Ok(v) = HeaderValue::from_str(&RETRY_AFTER_SECS.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    let out = Outcome { license_id: None, status, outcome: if ok { "ready" } else { "not_ready" }, error: None };
    log_request(&app.log, "GET", "/readyz", peer.ip(), &out, started);
    r
}

/// A job the database thread could not do: 503 with `Retry-After` when the
/// database is out of reach, else 500.
fn failed(out: Outcome, pg: Pg, f: Failed) -> (Response, Outcome) {
    if f.unavailable {
        unavailable(out, pg, Unavailable::Database, Some(f.message))
    } else {
        internal(out, pg, f.message)
    }
}

/// `GET /revocations.bin`: the newest list `fanlic revocations export`
/// recorded, as exported (signed; products check it and refuse an older
/// one than they have), `X-Fanlic-Sequence` naming its sequence; 404 until
/// one is exported. Public: it names only license and key ids.
pub(crate) async fn revocation_list(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let started = Instant::now();
    let (status, mut resp) = match ask(&app.db, |reply| Job::RevocationList { reply }).await {
        Ok(Some(PublishedList { sequence, file: bytes })) => {
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
        Err(f) if f.unavailable => {
            let mut r = (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the revocation list cannot be read now; try again in {RETRY_AFTER_SECS} seconds\n"),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&RETRY_AFTER_SECS.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            (StatusCode::SERVICE_UNAVAILABLE, r)
        }
        Err(f) => (StatusCode::INTERNAL_SERVER_ERROR, (StatusCode::INTERNAL_SERVER_ERROR, f.message).into_response()),
    };
    secure_headers(resp.headers_mut());
    let out = Outcome {
        license_id: None,
        status,
        outcome: if status == StatusCode::OK { "ok" } else { "no_list" },
        error: None,
    };
    log_request(&app.log, "GET", REVOCATIONS_PATH, peer.ip(), &out, started);
    resp
}

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

pub(crate) async fn token_request(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    let start = Instant::now();
    let (parts, body) = request.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let json = wants_json(&headers);
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
    log_request(&app.log, method.as_str(), path, peer.ip(), &out, start);
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
    // Secrets unlike the other instances': no token can be checked (another
    // master secret), or a receipt could not be signed as theirs are. The
    // log says which once; `/readyz` says it on every call.
    if app.instance.master_differs() || (post && app.instance.refuses_confirmations()) {
        return unavailable(out, pg, Unavailable::Misconfigured, None);
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
        None => match ask(&app.db, |reply| Job::Lookup { id, reply }).await {
            Ok(l) => (l.license.clone(), Some(l)),
            Err(f) => return failed(out, pg, f),
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
    let recorded = match ask(&app.db, |reply| Job::Record { rec, reply }).await {
        Ok(r) => r,
        Err(f) => return failed(out, pg, f),
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
    if post && let Err(f) = ask(&app.db, |reply| Job::Unverified { client, outcome: reason.code(), at, reply }).await {
        return failed(out, pg, f);
    }
    refused(out, pg, &[reason], license, 0)
}
