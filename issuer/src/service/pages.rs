//! What a person or a program reads: the pages (HTML for the phone, in the
//! reader's language, no script, one inline style sheet) and the JSON
//! answers of every outcome, and the security headers every answer carries.

use core::fmt::Write as _;
use std::sync::LazyLock;

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse as _, Response},
};
use fanlic_formats::{
    ActivationPolicy, Expiry, Timestamp,
    activation::{ActivationChallenge, CHALLENGE_VALID_SECS},
};
use fanlic_verifier::{Lang, ShownDate, activation::Code};
use serde_json::json;

use super::db::IssuedReceipt;
use super::license_row::LicenseRow;
use super::log::Outcome;
use super::reason::Reason;
use crate::util::hex;

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

/// The headers every answer carries (SPEC.md §6.3).
pub(crate) fn security_header_list() -> [(&'static str, &'static str); 5] {
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

pub(crate) fn secure_headers(headers: &mut HeaderMap) {
    for (name, value) in security_header_list() {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// How to answer one request: JSON or a page, in which language, and when.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pg {
    /// JSON, else a page.
    pub(crate) json: bool,
    /// The reader's language.
    pub(crate) lang: Lang,
    /// When the request is answered.
    pub(crate) now: Timestamp,
}

pub(crate) fn refused(
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

pub(crate) fn rate_limited(mut out: Outcome, pg: Pg, wait: u64) -> (Response, Outcome) {
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

pub(crate) fn internal(mut out: Outcome, pg: Pg, error: String) -> (Response, Outcome) {
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

/// Seconds a client is asked to wait when the service cannot answer now.
pub(crate) const RETRY_AFTER_SECS: u64 = 5;

/// Why the service cannot answer now (503, `Retry-After`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unavailable {
    /// The database is out of reach.
    Database,
    /// This instance's secrets differ from the other instances' (`/readyz` says which).
    Misconfigured,
}

/// A 503 with `Retry-After`: JSON or a page in the reader's language.
pub(crate) fn unavailable(mut out: Outcome, pg: Pg, why: Unavailable, error: Option<String>) -> (Response, Outcome) {
    out.status = StatusCode::SERVICE_UNAVAILABLE;
    out.error = error;
    let wait = RETRY_AFTER_SECS;
    let (code, en, zh) = match why {
        Unavailable::Database => (
            "unavailable",
            format!(
                "The activation service cannot reach its records right now; nothing was recorded. Wait {wait} \
                 seconds, then try again (the QR code stays valid for 5 minutes)."
            ),
            format!("激活服务暂时无法访问其记录，本次未记录任何内容。请等待 {wait} 秒后重试（二维码 5 分钟内有效）。"),
        ),
        Unavailable::Misconfigured => (
            "instance_misconfigured",
            format!(
                "This server of the activation service is not set up like the others, so it cannot confirm \
                 activations; nothing was recorded. Wait {wait} seconds, then try again; if this persists, contact \
                 the vendor."
            ),
            format!(
                "激活服务的此台服务器与其他服务器配置不一致，无法确认激活，本次未记录任何内容。请等待 {wait} \
                 秒后重试；如仍出现此提示，请联系厂商。"
            ),
        ),
    };
    out.outcome = code;
    let mut r = if pg.json {
        let reasons = [
            json!({"code": code, "message": en, "title": pg.lang.pick("Service unavailable", "服务暂不可用"), "prompt": pick_text(pg.lang, &en, &zh)}),
        ];
        (out.status, axum::Json(json!({"status": "refused", "lang": pg.lang.tag(), "reasons": reasons})))
            .into_response()
    } else {
        let title = pg.lang.pick("Service unavailable", "服务暂不可用");
        let text = pick_text(pg.lang, &en, &zh);
        html(
            out.status,
            pg.lang,
            title,
            &format!("<h1>{}</h1>\n<p>{}</p>\n<p class=\"code\">({code})</p>\n", esc(title), esc(text)),
        )
    };
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    (r, out)
}

fn pick_text<'a>(lang: Lang, en: &'a str, zh: &'a str) -> &'a str {
    match lang {
        Lang::ZhCn => zh,
        _ => en,
    }
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

pub(crate) fn ready(
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

pub(crate) fn activated(license: &LicenseRow, code: Code, expires_at: u64, pg: Pg) -> Response {
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

/// The receipt of a receipt-policy activation: JSON (SPEC.md §6.3), or a
/// page showing the armored receipt with a download link (`receipt.fanlic`).
pub(crate) fn receipt_issued(license: &LicenseRow, r: &IssuedReceipt, pg: Pg) -> Response {
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
