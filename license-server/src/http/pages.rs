//! What the admin's pages say and how they look: the data a page shows,
//! read under one lock, and the HTML in English or Simplified Chinese.

use core::net::IpAddr;

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse as _, Response},
};
use fanlic_formats::{Expiry, Timestamp, private_cloud::NodeRecord};
use fanlic_verifier::{Lang, ShownDate, ShownTime, activation::CodeError};

use super::no_store;
use crate::{
    code_entry::ShownChallenge,
    license::{ActivationPolicy, ShownCause},
    state::{Refusal, ServerState, Status},
};

/// Everything an admin's page shows, read under one lock.
pub(super) struct PageData {
    pub(super) now: u64,
    /// How the license is activated.
    pub(super) policy: ActivationPolicy,
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
    pub(super) fn read(
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

/// The language of the admin's browser (`Accept-Language`), English by default.
pub(super) fn lang_of(headers: &HeaderMap) -> Lang {
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map_or(Lang::En, Lang::from_accept_language)
}

/// What the code page says above the QR page.
pub(super) enum Notice {
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
pub(super) fn refusal_texts(r: &Refusal, lang: Lang, now: u64) -> (String, String) {
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

pub(super) fn code_texts(e: &CodeError, lang: Lang, now: u64) -> (String, String) {
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
pub(super) fn page_response(status: StatusCode, lang: Lang, html: &str) -> Response {
    let mut resp = no_store((status, Html(html.to_owned())).into_response());
    resp.headers_mut().insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
    resp.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept, Accept-Language"));
    resp
}

pub(super) fn escape(s: &str) -> String {
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
pub(super) fn page(d: &PageData, lang: Lang, notice: Option<Notice>, base_url: &str) -> String {
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
pub(super) fn receipt_page(d: &PageData, lang: Lang, notice: Option<Notice>, base_url: &str) -> String {
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
pub(super) fn status_page(d: &PageData, lang: Lang, notice: Option<Notice>) -> String {
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
pub(super) fn shell(lang: Lang, title: &str, heading: &str, body: &str, footer: &str) -> String {
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
