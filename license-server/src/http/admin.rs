//! The admin's handlers: the QR page and its PNG, refresh, the 6-digit
//! code, the receipt upload, node eviction.

use core::net::IpAddr;
use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse as _, Response},
};
use fanlic_formats::Timestamp;
use fanlic_verifier::{Lang, ShownTime, node_auth::JoinSecret};
use serde::Deserialize;
use serde_json::json;

use super::pages::{Notice, PageData, escape, lang_of, page, page_response, refusal_texts, shell, status_page};
use super::{CSP, Shared, form_field, json_response, no_store, parse_json, with_state};
use crate::{
    auth::same_origin,
    code_entry::ShownChallenge,
    config::write_atomic,
    keys::random,
    license::ActivationPolicy,
    log::log_line,
    now,
    receipt::{self, ReceiptRefusal},
    state::Refusal,
    tls::ClientAddr,
};

/// `client`'s QR code (made as needed).
async fn current(shared: &Arc<Shared>, client: IpAddr) -> Result<Result<ShownChallenge, Refusal>, Response> {
    let nonce = random::<16>().map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())?;
    let base = shared.base_url.clone();
    let mono = shared.mono();
    with_state(shared, move |s, now| s.challenge(client, now, mono, nonce, &base, false)).await
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

/// `GET` never changes anything: it shows the client's QR code (made when it
/// has none or it expired); a refresh is a `POST` (`/license/refresh`).
pub(super) async fn qrcode_page(
    State(shared): State<Arc<Shared>>,
    ci: ConnectInfo<ClientAddr>,
    headers: HeaderMap,
) -> Response {
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
pub(super) async fn receipt_js() -> Response {
    let mut resp = ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], RECEIPT_JS).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
    resp
}

const RECEIPT_JS: &str = include_str!("../assets/receipt.js");

/// The most a `POST /license/receipt` body may be: a receipt file is at
/// most 73728 bytes after its magic, which armor and form encoding grow.
pub const RECEIPT_BODY_LIMIT: usize = 256 * 1024;

/// `POST /license/receipt`: the vendor's receipt, from the page's script
/// (`Accept: application/json`) or its upload form; the form's CSRF token
/// and the Origin check as every form. Checked (the verifier, then this
/// server's pending challenge, its instance key, the receipt it holds),
/// stored atomically as `activation-receipt`, then the activation is
/// recorded.
pub(super) async fn post_receipt(
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

pub(super) async fn qrcode_png(State(shared): State<Arc<Shared>>, ci: ConnectInfo<ClientAddr>) -> Response {
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
pub(super) async fn style_css() -> Response {
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
pub(super) async fn refresh(
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
pub(super) async fn evict(
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

/// `POST /license/code`. A form must come from this server's page (Origin,
/// CSRF token); JSON (scripts) passes the Origin check only: a browser
/// cannot send `application/json` to another origin without a CORS
/// preflight, which this server never grants.
pub(super) async fn enter_code(
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
