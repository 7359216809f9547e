//! The review queue in `fanlic console`, over plain HTTP against the real
//! binary: a held request's page (reasons, fields, the mail as text only,
//! attachments), approve and reject shown as their reply before anything
//! is done and then done under the logged-in account, refusals (a viewer,
//! a POST without the CSRF token), and the mail staff get about each new
//! held request (`fanlic config --staff-notify`).

use std::fs;

use base64::Engine as _;
use serde_json::Value;

use crate::common::console::{Client, Console, add_staff};
use crate::common::{
    AUTHSERV, BODY, CONTRACT_ADDR, Env, PASS, add_contract, body_for, issue_license, mail, ok, query_texts,
    replace_line, setup,
};

const VENDOR: &str = "licenses@vendor.example";
const STAFF: &str = "review-team@vendor.example";

fn ingest(env: &Env, name: &str, text: &str) -> Value {
    let path = env.dir.join(name);
    fs::write(&path, text).unwrap();
    serde_json::from_str(ok(env, &["ingest", "--json", path.to_str().unwrap()]).trim()).unwrap()
}

/// `fanlic review --json`: the held decisions.
fn held(env: &Env) -> Vec<Value> {
    serde_json::from_str::<Value>(&ok(env, &["review", "--json"])).unwrap().as_array().unwrap().clone()
}

/// The held decision of `message_id`.
fn held_id(env: &Env, message_id: &str) -> i64 {
    let rows = held(env);
    let row = rows.iter().find(|r| r["message_id"] == message_id).unwrap_or_else(|| panic!("{message_id} not held"));
    row["id"].as_i64().unwrap()
}

fn outbox(env: &Env) -> Vec<Value> {
    serde_json::from_str::<Value>(&ok(env, &["outbox", "list", "--all", "--json"])).unwrap().as_array().unwrap().clone()
}

/// HTML's escapes undone, to compare with plain text.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// A mail held for its special requirements note (authenticated sender).
fn special(message_id: &str) -> String {
    mail(
        Some(PASS),
        message_id,
        &replace_line(BODY, "Thank you.", "Special requirements: please add our test server too.\n\nThank you."),
    )
}

/// An HTML-only mail (no text/plain part) from the contract's address, unauthenticated.
fn html_only(message_id: &str) -> String {
    let body = "<html><head><style>p { color: red }</style></head><body>\
        <p>Company name: Customer Trading Co., Ltd.</p><p>Project name: htmlproj</p>\
        <p>Contract signing date: 2026/11/20</p><p>Registration method: Local container</p>\
        <p>Maximum number of registration: 3</p><p>Project Version: 11.0.20</p>\
        <p>JAR package version: 2023.12.14</p><p><b>Bold</b> words <img src=\"https://tracker.example/x.png\"></p>\
        </body></html>";
    let head = mail(None, message_id, "");
    let head = head.replace("Content-Type: text/plain; charset=utf-8", "Content-Type: text/html; charset=utf-8");
    format!("{head}{}", body.replace('\n', "\r\n"))
}

fn issuer_console(env: &Env) -> (Console, Client) {
    add_staff(env, "bob", "issuer");
    let console = Console::start(env, &[]);
    let mut c = console.login("bob");
    // The page in English (a browser without Accept-Language gets Chinese).
    assert_eq!(c.get("/lang/en?back=/").status, 303);
    (console, c)
}

#[test]
fn a_held_request_shows_its_reasons_fields_attachments_and_its_mail_as_text_only() {
    let env = setup();
    let body = replace_line(BODY, "Thank you.", "<script>alert('x')</script> & thanks.\n\nThank you.");
    assert_eq!(ingest(&env, "noauth.eml", &mail(None, "noauth-1@customer.example", &body))["decision"], "held");
    assert_eq!(ingest(&env, "html.eml", &html_only("html-1@customer.example"))["decision"], "held");
    let (id, html_id) = (held_id(&env, "noauth-1@customer.example"), held_id(&env, "html-1@customer.example"));
    // The customer sends it again while it is held: the resend joins it.
    assert_eq!(ingest(&env, "again.eml", &mail(None, "noauth-2@customer.example", &body))["decision"], "joined");
    let (_console, mut c) = issuer_console(&env);

    let list = c.get("/review");
    assert_eq!(list.status, 200);
    assert!(list.body.contains("id=\"list\""), "{}", list.body);
    assert!(
        list.body.contains(&format!("href=\"/review/{id}\""))
            && list.body.contains(&format!("href=\"/review/{html_id}\""))
    );
    assert!(list.body.contains("sender_unauthenticated"), "{}", list.body);

    let page = c.get(&format!("/review/{id}"));
    assert_eq!(page.status, 200);
    let b = &page.body;
    assert!(b.contains("sender_unauthenticated") && b.contains("id=\"reasons\""), "{b}");
    assert!(b.contains("not authenticated"), "{b}");
    // The customer's markup is text, never markup.
    assert!(b.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; thanks."), "{b}");
    assert!(!b.contains("<script"), "{b}");
    assert!(b.contains("<pre class=\"mail\">"), "{b}");
    let resends = b.split("id=\"resends\"").nth(1).unwrap_or_else(|| panic!("no resends: {b}"));
    assert!(resends.split("</ul>").next().unwrap().contains("again.eml"), "{resends}");
    // The fields as read, and the actions of an issuer.
    assert!(b.contains("Customer Trading Co., Ltd.") && b.contains("webroot"), "{b}");
    for button in ["id=\"approve\"", "id=\"reject\"", "name=\"reason\"", "name=\"text\""] {
        assert!(b.contains(button), "{button} not in {b}");
    }
    // An unknown request is a 404, not a failure.
    assert_eq!(c.get("/review/999999").status, 404);

    // The HTML-only mail: its text, tags stripped, nothing of its markup.
    let page = c.get(&format!("/review/{html_id}"));
    let b = &page.body;
    let mail_part = b.split("<pre class=\"mail\">").nth(1).unwrap().split("</pre>").next().unwrap();
    assert!(mail_part.contains("Project name: htmlproj") && mail_part.contains("Bold words"), "{mail_part}");
    assert!(
        !mail_part.contains("&lt;p&gt;") && !mail_part.contains("&lt;b&gt;") && !mail_part.contains("color: red"),
        "{mail_part}"
    );
    assert!(!b.contains("tracker.example") && !b.contains("<img"), "{b}");
    assert!(b.contains("htmlproj"), "fields read from the HTML part: {b}");

    // In Chinese, the page speaks Chinese.
    c.get("/lang/zh-CN?back=/");
    let zh = c.get(&format!("/review/{id}"));
    assert!(zh.body.contains("发件人地址未通过认证") && zh.body.contains("批准"), "{}", zh.body);
}

#[test]
fn approve_shows_the_reply_first_then_issues_under_the_logged_in_name() {
    let env = setup();
    ok(&env, &["config", "--reply-from", VENDOR]);
    assert_eq!(ingest(&env, "special.eml", &special("special-1@customer.example"))["decision"], "held");
    let id = held_id(&env, "special-1@customer.example");
    let (_console, mut c) = issuer_console(&env);
    let detail = format!("/review/{id}");

    // The preview: what is issued and the exact reply; nothing done yet.
    let preview = c.post_form(&detail, &format!("/review/{id}/approve"), &[]);
    assert_eq!(preview.status, 200, "{}", preview.body);
    let b = unescape(&preview.body);
    assert!(b.contains(&format!("id=\"reply-to\">{CONTRACT_ADDR}<")), "{b}");
    assert!(b.contains(&format!("id=\"reply-from\">{VENDOR}<")), "{b}");
    assert!(
        b.contains("id=\"reply-subject\">Re: Official Authorization Document of Customer Trading Co., Ltd.'s Registration for FineReport<"),
        "{b}"
    );
    assert!(
        b.contains("Your license is attached as Container.lic") && b.contains("Project:             webroot"),
        "{b}"
    );
    assert!(b.contains("<span class=\"tag\">Container.lic</span>"), "{b}");
    assert!(b.contains("id=\"license-nodes\">3<") && b.contains("id=\"license-kind\">local-container<"), "{b}");
    assert!(b.contains("id=\"confirm\"") && b.contains("name=\"confirm\" value=\"yes\""), "{b}");
    assert_eq!(held(&env).len(), 1, "a preview changes nothing");
    assert!(outbox(&env).is_empty());

    // Confirmed: issued, the reply queued, the audit row under bob.
    let done = c.post_form(&detail, &format!("/review/{id}/approve"), &[("confirm", "yes")]);
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some(format!("/review/{id}?done=approved").as_str()));
    assert!(held(&env).is_empty());
    let queued = outbox(&env);
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0]["to"], CONTRACT_ADDR);
    assert_eq!(queued[0]["attachments"][0]["file_name"], "Container.lic");
    let decision: Value = serde_json::from_str(&ok(&env, &["audit", "--json", "--action", "approved"])).unwrap();
    let row = &decision.as_array().unwrap()[0];
    assert_eq!((row["by"].as_str(), row["decision_id"].as_i64()), (Some("bob"), Some(id)), "{row}");
    let license = row["license_id"].as_str().unwrap().to_owned();

    let page = c.get(&format!("/review/{id}?done=approved"));
    let status = page.body.split("role=\"status\"").nth(1).unwrap_or_else(|| panic!("no notice: {}", page.body));
    let status = status.split("</p>").next().unwrap();
    assert!(status.contains(&license) && status.contains(&format!("#{}", queued[0]["id"])), "{status}");
    // Settled: no more actions, and acting again is refused.
    assert!(!page.body.contains("id=\"approve\""));
    let again = c.post_form(&detail, &format!("/review/{id}/approve"), &[("confirm", "yes")]);
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(outbox(&env).len(), 1);
}

#[test]
fn reissue_shows_the_license_it_replaces_then_supersedes_it() {
    let env = setup();
    // The project's live license never expires; the contract's term ends in 2099: other terms.
    let old = issue_license(&env, "Customer Trading Co., Ltd.", "webroot");
    let v = ingest(&env, "again.eml", &mail(Some(PASS), "again-1@customer.example", BODY));
    assert_eq!(v["decision"], "held", "{v}");
    assert_eq!(v["reasons"][0]["code"], "license_exists", "{v}");
    let id = held_id(&env, "again-1@customer.example");
    let (_console, mut c) = issuer_console(&env);
    let detail = format!("/review/{id}");
    assert!(c.get(&detail).body.contains("id=\"reissue\""));

    let preview = c.post_form(&detail, &format!("/review/{id}/reissue"), &[]);
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains(&old) && preview.body.contains("supersedes"), "{}", preview.body);
    assert!(preview.body.contains("id=\"license-expiry\">2099-12-31<"), "{}", preview.body);
    assert_eq!(query_texts(&env, &format!("SELECT state FROM licenses WHERE license_id = '{old}'")), ["live"]);

    let done = c.post_form(&detail, &format!("/review/{id}/reissue"), &[("confirm", "yes")]);
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some(format!("/review/{id}?done=reissued").as_str()));
    assert_eq!(query_texts(&env, &format!("SELECT state FROM licenses WHERE license_id = '{old}'")), ["superseded"]);
    let new = query_texts(&env, &format!("SELECT license_id FROM licenses WHERE supersedes = '{old}'"));
    let page = c.get(&format!("/review/{id}?done=reissued"));
    let status = page.body.split("role=\"status\"").nth(1).unwrap().split("</p>").next().unwrap();
    assert!(status.contains(&new[0]) && status.contains("Reissued"), "{status}");
}

#[test]
fn reissue_is_refused_where_no_live_license_is_replaced() {
    let env = setup();
    ingest(&env, "special.eml", &special("special-5@customer.example"));
    let id = held_id(&env, "special-5@customer.example");
    let (_console, mut c) = issuer_console(&env);
    assert!(!c.get(&format!("/review/{id}")).body.contains("id=\"reissue\""));
    let r = c.post_form(&format!("/review/{id}"), &format!("/review/{id}/reissue"), &[("confirm", "yes")]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(held(&env).len(), 1);
}

#[test]
fn approving_what_is_still_wrong_is_refused_with_the_reason_before_any_confirmation() {
    let env = setup();
    // Unauthenticated, and more nodes than the contract allows.
    let body = replace_line(BODY, "Maximum number of registration: 3", "Maximum number of registration: 9");
    assert_eq!(ingest(&env, "over.eml", &mail(None, "over-1@customer.example", &body))["decision"], "held");
    let id = held_id(&env, "over-1@customer.example");
    let (_console, mut c) = issuer_console(&env);
    let r = c.post_form(&format!("/review/{id}"), &format!("/review/{id}/approve"), &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("nodes_exceed_contract") && r.body.contains("id=\"refused\""), "{}", r.body);
    assert!(!r.body.contains("id=\"confirm\""), "{}", r.body);
    assert_eq!(held(&env).len(), 1);
}

const ZH_COMPANY: &str = "上海示例信息技术有限公司";
const ZH_ADDR: &str = "wang@shanghai-example.cn";
const ZH_SUBJECT: &str = "关于上海示例信息技术有限公司注册FineReport的正式授权文件";

/// A Chinese request from an authenticated sender, held for its special requirements.
fn chinese_special(message_id: &str) -> String {
    let body = "您好：\n\n现申请FineReport正式授权，信息如下：\n\n\
        1、公司名称：  上海示例信息技术有限公司\n2、项目名称：  decision\n3、合同签订日期：2026年11月3日\n\
        4、注册方式：本地容器认证\n5、集群节点数：２\n6、项目版本：V11.0.20\n7、JAR包版本：\n   2024-03-08\n\
        8、特殊需求：请同时授权测试服务器\n\n谢谢！\n--\n王小明\n上海示例信息技术有限公司\n";
    let subject = base64::engine::general_purpose::STANDARD.encode(ZH_SUBJECT);
    format!(
        "Authentication-Results: {AUTHSERV}; dkim=pass header.d=shanghai-example.cn\r\n\
         From: {ZH_ADDR}\r\nTo: license@vendor.example\r\nSubject: =?UTF-8?B?{subject}?=\r\n\
         Message-ID: <{message_id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{}",
        body.replace('\n', "\r\n")
    )
}

#[test]
fn reject_with_a_standard_reason_replies_in_the_mails_language() {
    let env = setup();
    add_contract(&env, ZH_COMPANY, ZH_ADDR, "2026/11/03", "3");
    let v = ingest(&env, "zh.eml", &chinese_special("zh-1@shanghai-example.cn"));
    assert_eq!(v["decision"], "held", "{v}");
    let id = held_id(&env, "zh-1@shanghai-example.cn");
    let (_console, mut c) = issuer_console(&env);
    let detail = format!("/review/{id}");
    let form = [("reason", "wrong_signing_date"), ("text", "请核对合同。")];

    // The reader reads English; the reply is in the mail's language.
    let preview = c.post_form(&detail, &format!("/review/{id}/reject"), &form);
    assert_eq!(preview.status, 200, "{}", preview.body);
    let b = unescape(&preview.body);
    assert!(b.contains(&format!("id=\"reply-to\">{ZH_ADDR}<")), "{b}");
    assert!(
        b.contains("您的授权申请未能处理")
            && b.contains("[staff_rejected] 合同签订日期与我们的记录不符。 请核对合同。"),
        "{b}"
    );
    assert!(b.contains("The contract signing date does not match our records. 请核对合同。"), "{b}");
    assert!(b.contains("name=\"reason\" value=\"wrong_signing_date\"") && b.contains("id=\"confirm\""), "{b}");
    assert_eq!(held(&env).len(), 1, "a preview changes nothing");

    let mut confirm = form.to_vec();
    confirm.push(("confirm", "yes"));
    let done = c.post_form(&detail, &format!("/review/{id}/reject"), &confirm);
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some(format!("/review/{id}?done=rejected").as_str()));
    assert!(held(&env).is_empty());
    let queued = outbox(&env);
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!((queued[0]["to"].as_str(), queued[0]["language"].as_str()), (Some(ZH_ADDR), Some("zh")));
    let body = query_texts(&env, "SELECT body FROM outbox");
    assert!(body[0].contains("合同签订日期与我们的记录不符"), "{}", body[0]);
    let audit: Value = serde_json::from_str(&ok(&env, &["audit", "--json", "--action", "staff-rejected"])).unwrap();
    assert_eq!(audit[0]["by"], "bob", "{audit}");
    let page = c.get(&format!("/review/{id}?done=rejected"));
    assert!(page.body.contains("role=\"status\""), "{}", page.body);

    // `other` needs a text of its own.
    ingest(&env, "zh2.eml", &chinese_special("zh-2@shanghai-example.cn"));
    let id = held_id(&env, "zh-2@shanghai-example.cn");
    let r =
        c.post_form(&format!("/review/{id}"), &format!("/review/{id}/reject"), &[("reason", "other"), ("text", " ")]);
    assert_eq!(r.status, 400, "{}", r.body);
}

#[test]
fn a_viewer_cannot_act_and_a_post_without_the_csrf_token_is_refused() {
    let env = setup();
    ingest(&env, "special.eml", &special("special-9@customer.example"));
    let id = held_id(&env, "special-9@customer.example");
    add_staff(&env, "vera", "viewer");
    let (console, mut issuer) = issuer_console(&env);
    let mut viewer = console.login("vera");
    let detail = format!("/review/{id}");

    let page = viewer.get(&detail);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("special_requirements"), "{}", page.body);
    assert!(!page.body.contains("id=\"approve\"") && !page.body.contains("id=\"reject\""), "{}", page.body);
    for (path, form) in [
        (format!("/review/{id}/approve"), vec![("confirm", "yes")]),
        (format!("/review/{id}/approve"), vec![]),
        (format!("/review/{id}/reject"), vec![("reason", "duplicate"), ("confirm", "yes")]),
        (format!("/review/{id}/reissue"), vec![("confirm", "yes")]),
    ] {
        let r = viewer.post_form(&detail, &path, &form);
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }
    // The issuer's own session, without its token.
    let r = issuer.post(&format!("/review/{id}/approve"), &[("confirm", "yes")]);
    assert_eq!(r.status, 403, "{}", r.body);
    let r = issuer.post(&format!("/review/{id}/approve"), &[("confirm", "yes"), ("csrf", "0000")]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(held(&env).len(), 1, "nothing changed");
    assert!(outbox(&env).is_empty());
    let audit = ok(&env, &["audit", "--json", "--action", "approved"]);
    assert_eq!(audit.trim(), "[]");
}

#[test]
fn staff_hear_of_each_new_held_request_once_with_its_link() {
    let env = setup();
    ok(
        &env,
        &[
            "config",
            "--reply-from",
            VENDOR,
            "--staff-notify",
            STAFF,
            "--console-url",
            "https://console.vendor.example/",
        ],
    );
    let conf: Value = serde_json::from_str(&ok(&env, &["config", "--json"])).unwrap();
    assert_eq!(
        (conf["staff_notify"].as_str(), conf["console_url"].as_str()),
        (Some(STAFF), Some("https://console.vendor.example"))
    );

    let body = replace_line(BODY, "Thank you.", "<b>Hi</b>\nBcc: someone@else.example\n\nThank you.");
    assert_eq!(ingest(&env, "a.eml", &mail(None, "notify-1@customer.example", &body))["decision"], "held");
    let id = held_id(&env, "notify-1@customer.example");
    let notices: Vec<Value> = outbox(&env).into_iter().filter(|e| e["to"] == STAFF).collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(
        notices[0]["subject"],
        format!("[fanlic] Held for review: Customer Trading Co., Ltd. — webroot (#{id})")
    );
    assert!(notices[0]["attachments"].as_array().unwrap().is_empty());
    let text = query_texts(&env, &format!("SELECT body FROM outbox WHERE outbox_id = {}", notices[0]["id"]));
    assert!(text[0].contains(&format!("https://console.vendor.example/review/{id}\n")), "{}", text[0]);
    assert!(
        text[0].contains("[sender_unauthenticated]") && text[0].contains("Customer Trading Co., Ltd."),
        "{}",
        text[0]
    );

    // A resend of the same request joins it: no second mail.
    let v = ingest(&env, "b.eml", &mail(None, "notify-2@customer.example", &body));
    assert_eq!(v["decision"], "joined", "{v}");
    assert_eq!(outbox(&env).iter().filter(|e| e["to"] == STAFF).count(), 1);

    // The mail goes out like any reply (here: written as a file).
    ok(&env, &["outbox", "flush"]);
    let sent = outbox(&env);
    assert!(sent.iter().any(|e| e["to"] == STAFF && e["status"] == "sent"), "{sent:?}");

    // Turned off: a new held request tells nobody.
    ok(&env, &["config", "--staff-notify", "none"]);
    let conf: Value = serde_json::from_str(&ok(&env, &["config", "--json"])).unwrap();
    assert!(conf["staff_notify"].is_null(), "{conf}");
    assert_eq!(ingest(&env, "c.eml", &mail(None, "notify-3@customer.example", &body_for("other")))["decision"], "held");
    assert_eq!(outbox(&env).iter().filter(|e| e["to"] == STAFF).count(), 1);
    // A bad address or URL is refused, and nothing changes.
    assert!(!crate::common::fanlic(&env, &["config", "--staff-notify", "not an address"], None).status.success());
    assert!(!crate::common::fanlic(&env, &["config", "--console-url", "ftp://x"], None).status.success());
}
