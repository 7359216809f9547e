//! The review queue: the held requests (`/review`), one request with its
//! reasons, the fields as fanlic read them, the original mail as text and
//! its attachments (`/review/{id}`), and the actions of issuers: approve,
//! reject with a reason, reissue, each shown as the reply it will send
//! before anything is done ([`act`]).
//!
//! The customer's mail is only ever shown as text: the text/plain part, or
//! the HTML part with its tags stripped (`fanlic_mail::message`), inside
//! `pre.mail`, escaped by maud like every value.

mod act;

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, Query},
    response::Response,
    routing::{get, post},
};
use maud::{Markup, html};
use serde::Deserialize;

use crate::console::App;
use crate::console::ctx::{Ctx, Failure};
use crate::console::html::{self, PAGE_SIZE};
use crate::console::lang::Lang;
use crate::ingest::replies::fields_as_read;
use crate::ingest::review::STAFF_REASONS;
use crate::ingest::{DecisionRow, RawCopy, decide};
use crate::outbox::Language;
use crate::store::Role;
use crate::store::decisions::{DecisionKind, HeldSummary, ReasonCode};

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r.route("/review", get(list))
        .route("/review/{id}", get(detail))
        .route("/review/{id}/approve", post(act::approve))
        .route("/review/{id}/reject", post(act::reject))
        .route("/review/{id}/reissue", post(act::reissue))
}

/// The most characters of a mail's text shown (the rest is cut, said so).
const MAX_SHOWN_CHARS: usize = 200_000;

#[derive(Debug, Deserialize)]
struct ListQuery {
    page: Option<u32>,
}

async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Response, Failure> {
    let page = q.page.unwrap_or(1).max(1);
    let offset = u64::from(page - 1) * u64::from(PAGE_SIZE);
    let (mut rows, total) = ctx
        .db(move |home| home.store().read(|tx| Ok((tx.held_page(offset, u64::from(PAGE_SIZE) + 1)?, tx.held_count()?))))
        .await?;
    let has_more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    let lang = ctx.lang();
    let body = html! {
        p.muted {
            @match lang {
                Lang::Zh => { "共 " (total) " 份申请等待审核，最早的在前。" },
                _ => { (total) " held request(s), oldest first." },
            }
        }
        @if rows.is_empty() {
            p id="empty" { (ctx.t("Nothing waits for review.", "没有待审核的申请。")) }
        } @else {
            div.table-wrap {
                table id="list" {
                    thead { tr {
                        th { "#" }
                        th { (ctx.t("Held", "时间")) }
                        th { (ctx.t("Sender", "发件人")) }
                        th { (ctx.t("Subject", "主题")) }
                        th { (ctx.t("Reasons", "原因")) }
                        th { (ctx.t("Resends", "重发")) }
                    } }
                    tbody {
                        @for r in &rows { (list_row(lang, r)) }
                    }
                }
            }
        }
        (html::pager(lang, "/review", "", page, has_more))
    };
    Ok(ctx.page(ctx.t("Review queue", "待审核"), body))
}

fn list_row(lang: Lang, r: &HeldSummary) -> Markup {
    let href = format!("/review/{}", r.id);
    html! {
        tr {
            td { a href=(href) { "#" (r.id) } }
            td { (html::time(r.decided_at)) }
            td {
                (if r.from.is_empty() { lang.t("(no sender)", "（无发件人）") } else { &r.from })
                " " (auth_tag(lang, r.authenticated))
            }
            td { a href=(href) { (if r.subject.is_empty() { lang.t("(no subject)", "（无主题）") } else { &r.subject }) } }
            td { @for (code, _) in &r.reasons { span.tag title=(reason_title(lang, code).unwrap_or(code)) { (code) } } }
            td { (r.resends_joined) }
        }
    }
}

fn auth_tag(lang: Lang, authenticated: bool) -> Markup {
    html! {
        @if authenticated {
            span.tag.ok { (lang.t("authenticated", "已认证")) }
        } @else {
            span.tag.bad { (lang.t("not authenticated", "未认证")) }
        }
    }
}

/// A short title of a reason code in the reader's language, for the codes
/// staff meet in the queue (the stored message is English).
fn reason_title(lang: Lang, code: &str) -> Option<&'static str> {
    let c = ReasonCode::parse(code)?;
    Some(match c {
        ReasonCode::SenderUnauthenticated => lang.t(
            "The sender's address is not authenticated (no trusted DKIM/DMARC pass).",
            "发件人地址未通过认证（没有可信的 DKIM/DMARC 通过结果）。",
        ),
        ReasonCode::SpecialRequirements => lang.t("The mail states special requirements.", "邮件中填写了特殊需求。"),
        ReasonCode::CancelRequest => lang.t("The mail asks to cancel a registration.", "邮件要求注销注册。"),
        ReasonCode::UnknownRequest => lang.t("What the mail asks for is not clear.", "无法判断邮件的请求内容。"),
        ReasonCode::RepeatedField => lang.t("A field is given more than once.", "有字段重复填写。"),
        ReasonCode::FieldsFromQuotedMessage => {
            lang.t("The fields come from a quoted earlier message.", "字段来自引用的旧邮件。")
        }
        ReasonCode::FieldsNotRead => lang.t("The fields could not be read.", "无法读取申请字段。"),
        ReasonCode::MultipleRequests => lang.t("The mail holds several requests.", "邮件中包含多份申请。"),
        ReasonCode::ImageBuilderUnavailable => {
            lang.t("The private-cloud image cannot be built now.", "暂时无法生成私有云镜像。")
        }
        ReasonCode::PrivateConfigForeign => {
            lang.t("The privateConfig file belongs to another company.", "privateConfig 文件属于其他公司。")
        }
        ReasonCode::LicenseExists => lang.t(
            "The project already has a live license with other terms: approving reissues it.",
            "该项目已有条款不同的有效授权：批准将重新签发并取代旧授权。",
        ),
        ReasonCode::SimilarProject => lang.t(
            "A live license exists for a project with a look-alike name: approving issues a new project's license.",
            "已有名称相近项目的有效授权：批准将作为新项目签发授权。",
        ),
        ReasonCode::StaffRejected => lang.t("Rejected by staff.", "由员工拒绝。"),
        ReasonCode::JoinedHeld => lang.t("A resend of a held request.", "待审核申请的重发。"),
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
struct DetailQuery {
    done: Option<String>,
}

/// Everything the detail page shows, read on the database thread.
struct Detail {
    row: DecisionRow,
    resends: Vec<(i64, String, fanlic_formats::Timestamp)>,
    outbox_id: Option<i64>,
}

async fn detail(ctx: Ctx, Path(id): Path<i64>, Query(q): Query<DetailQuery>) -> Result<Response, Failure> {
    let found = ctx
        .db(move |home| {
            home.store().read(|tx| {
                let Some(row) = tx.decision(id)? else { return Ok(None) };
                Ok(Some(Detail { resends: tx.joined_resends(id)?, outbox_id: tx.decision_outbox(id)?, row }))
            })
        })
        .await?;
    let Some(d) = found else { return Err(Failure::not_found(ctx.lang())) };
    let lang = ctx.lang();
    let row = &d.row;
    let mail = row.mail();
    let parsed = mail.as_ref().map(decide::ParsedRequest::of);
    let can_act = ctx.role().allows(Role::Issuer) && row.decision.is_hold();
    let body = html! {
        @if let Some(done) = q.done.as_deref() { (done_notice(lang, done, &d)) }
        p { a href="/review" { "← " (ctx.t("Review queue", "待审核")) } }
        dl.fields id="summary" {
            dt { (ctx.t("State", "状态")) } dd id="state" { (state_name(lang, row.decision)) }
            dt { (ctx.t("Sender", "发件人")) }
            dd { (if row.from.is_empty() { lang.t("(no sender)", "（无发件人）") } else { &row.from }) " " (auth_tag(lang, row.authenticated)) }
            dt { (ctx.t("Sender authentication", "发件人认证")) }
            dd id="auth" {
                @if row.authenticated {
                    (ctx.t("A trusted server found a DKIM/DMARC pass for the sender's domain: replies go to this address.",
                           "可信服务器确认发件人域名的 DKIM/DMARC 通过：回复将发送到此地址。"))
                } @else {
                    (ctx.t("Not authenticated: the From may be forged. Approving issues the license but sends it to nobody; a rejection is not answered.",
                           "未认证：发件人地址可能是伪造的。批准会签发授权但不会发送；拒绝也不会回复。"))
                }
            }
            @if let Some(m) = &mail { @if !m.reply_to.is_empty() {
                dt { "Reply-To" } dd { (m.reply_to.join(", ")) " " span.muted { (ctx.t("(never used for replies)", "（回复从不发往此地址）")) } }
            } }
            dt { (ctx.t("Subject", "主题")) } dd { (row.subject) }
            dt { "Message-ID" } dd { (row.message_id.as_deref().unwrap_or("-")) }
            dt { (ctx.t("Source", "来源")) } dd { (row.source) }
            dt { (ctx.t("Decided", "时间")) } dd { (html::time(row.decided_at)) " · " (row.decided_by) }
            @if let Some(l) = &row.license_id { dt { (ctx.t("License", "授权")) } dd { a href={ "/licenses/" (l) } { (l) } } }
            @if let Some(o) = d.outbox_id { dt { (ctx.t("Reply", "回复")) } dd { a href="/outbox" { "#" (o) } } }
        }
        h2 { (ctx.t("Reasons", "原因")) }
        ul id="reasons" {
            @for (code, message) in &row.reasons {
                li {
                    span.tag { (code) } " "
                    @match (lang, reason_title(lang, code)) {
                        (Lang::Zh, Some(t)) => { (t) br; span.muted { (message) } },
                        _ => { (message) },
                    }
                }
            }
        }
        @if !d.resends.is_empty() {
            h2 { (ctx.t("Resends joined", "合并的重发")) }
            p.muted { (ctx.t("The customer sent this request again while it was held; staff decide them together.",
                             "客户在待审核期间重新发送了此申请，将一并处理。")) }
            ul id="resends" { @for (rid, source, at) in &d.resends { li { "#" (rid) " · " (html::time(*at)) " · " (source) } } }
        }
        h2 { (ctx.t("Fields as fanlic read them", "fanlic 读取到的字段")) }
        @if let Some(p) = &parsed {
            (fields_list(lang, p))
        } @else {
            p.muted { (ctx.t("The message is not kept whole, or does not parse: no fields.", "邮件未完整保存或无法解析：无字段。")) }
        }
        @if let Some(m) = &mail {
            h2 { (ctx.t("Attachments", "附件")) }
            @if m.attachments.is_empty() {
                p.muted id="attachments" { (ctx.t("None.", "无。")) }
            } @else {
                table id="attachments" {
                    thead { tr { th { (ctx.t("Name", "文件名")) } th { (ctx.t("Type", "类型")) } th { (ctx.t("Size", "大小")) } } }
                    tbody { @for a in &m.attachments {
                        tr { td { (a.name) } td { (a.content_type.as_deref().unwrap_or("-")) } td { (a.size) " B" } }
                    } }
                }
            }
        }
        h2 { (ctx.t("The mail, as text", "邮件原文（纯文本）")) }
        @if let Some(note) = row.raw_note() { p.muted { (note) } }
        (mail_text(lang, row, mail.as_ref().map(|m| m.text.as_str())))
        @if can_act { (action_forms(&ctx, row)) }
        @else if row.decision.is_hold() {
            p.muted id="read-only" { (ctx.t("Your role can read this request; approving or rejecting needs the issuer role.",
                                       "您的角色只能查看此申请；批准或拒绝需要签发员角色。")) }
        }
    };
    let title = match lang {
        Lang::Zh => format!("申请 #{id}"),
        _ => format!("Request #{id}"),
    };
    Ok(ctx.page(&title, body))
}

fn state_name(lang: Lang, k: DecisionKind) -> &'static str {
    match k {
        DecisionKind::Held => lang.t("held for review", "待审核"),
        DecisionKind::Issued => lang.t("issued", "已签发"),
        DecisionKind::Rejected => lang.t("rejected", "已拒绝"),
        DecisionKind::Resent => lang.t("sent again", "已重新发送"),
        DecisionKind::Joined => lang.t("joined to a held request", "已合并到待审核申请"),
        DecisionKind::Ignored => lang.t("ignored (automatic mail)", "已忽略（自动邮件）"),
        _ => lang.t("revoked", "已吊销"),
    }
}

/// The notice after an action: what was done, the license and the reply.
fn done_notice(lang: Lang, done: &str, d: &Detail) -> Markup {
    let what = match done {
        "approved" => lang.t("Approved.", "已批准。"),
        "reissued" => lang.t("Reissued.", "已重新签发。"),
        "rejected" => lang.t("Rejected.", "已拒绝。"),
        _ => return html! {},
    };
    let mut text = what.to_owned();
    if let Some(l) = &d.row.license_id {
        text.push_str(&match lang {
            Lang::Zh => format!(" 授权 {l}。"),
            _ => format!(" License {l}."),
        });
    }
    text.push_str(&match (lang, d.outbox_id) {
        (Lang::Zh, Some(o)) => format!(" 回复已进入发件箱（#{o}）。"),
        (_, Some(o)) => format!(" Reply queued in the outbox (#{o})."),
        (Lang::Zh, None) => " 没有回复邮件。".to_owned(),
        (_, None) => " No reply is sent.".to_owned(),
    });
    html::notice(true, &text)
}

/// The fields as read, one per row: the same lines a rejection quotes back.
fn fields_list(lang: Lang, p: &decide::ParsedRequest) -> Markup {
    let mail_lang = if lang == Lang::Zh { Language::Zh } else { Language::En };
    let text = fields_as_read(p.fields(), p.subject_info(), mail_lang);
    let sep = if lang == Lang::Zh { '：' } else { ':' };
    html! {
        dl.fields id="fields" {
            @for line in text.lines() {
                @if let Some((k, v)) = line.trim().split_once(sep) {
                    dt { (k.trim()) } dd { (v.trim()) }
                }
            }
            dt { (lang.t("Company named", "申请的公司")) }
            dd { (p.company_named().unwrap_or_else(|| lang.t("(none)", "（无）").to_owned())) }
        }
    }
}

/// The mail's text in `pre.mail`; a message that does not parse shows its
/// bytes as text.
fn mail_text(lang: Lang, row: &DecisionRow, text: Option<&str>) -> Markup {
    let lossy;
    let text = match text {
        Some(t) => t,
        None if row.raw_kept != RawCopy::Pruned && !row.raw.is_empty() => {
            lossy = String::from_utf8_lossy(&row.raw).into_owned();
            &lossy
        }
        None => "",
    };
    let cut = text.char_indices().nth(MAX_SHOWN_CHARS).map(|(i, _)| i);
    html! {
        pre.mail { (cut.map_or(text, |i| &text[..i])) }
        @if cut.is_some() { p.muted { (lang.t("(cut: the rest of the text is not shown)", "（已截断：其余内容未显示）")) } }
    }
}

/// Approve, reissue (when the project has a live license with other
/// terms) and reject: each posts to its preview first.
fn action_forms(ctx: &Ctx, row: &DecisionRow) -> Markup {
    let lang = ctx.lang();
    let id = row.id;
    let reissue = row.has_reason(ReasonCode::LicenseExists);
    html! {
        h2 { (ctx.t("Decide", "处理")) }
        div.actions {
            form method="post" action={ "/review/" (id) "/approve" } {
                (ctx.csrf_input())
                button type="submit" id="approve" { (ctx.t("Approve…", "批准…")) }
            }
            @if reissue {
                form method="post" action={ "/review/" (id) "/reissue" } {
                    (ctx.csrf_input())
                    button.secondary type="submit" id="reissue" { (ctx.t("Reissue…", "重新签发…")) }
                }
            }
        }
        h3 { (ctx.t("Reject", "拒绝")) }
        form.stack method="post" action={ "/review/" (id) "/reject" } {
            (ctx.csrf_input())
            label { (ctx.t("Reason", "拒绝原因"))
                select name="reason" id="reason" {
                    @for r in STAFF_REASONS {
                        option value=(r.code) { (staff_reason_label(lang, r)) }
                    }
                }
            }
            label { (ctx.t("Text (added to the reason; required for “other”)", "说明（附在原因后；选择“其他”时必填）"))
                textarea name="text" id="text" maxlength="2000" {}
            }
            label.check { input type="checkbox" name="no_reply" value="yes"; " " (ctx.t("Do not reply to the customer", "不回复客户")) }
            div { button.danger type="submit" id="reject" { (ctx.t("Reject…", "拒绝…")) } }
        }
    }
}

/// A standard reason as the form offers it.
fn staff_reason_label(lang: Lang, r: &crate::ingest::review::StaffReason) -> &'static str {
    match (lang, r.code) {
        (_, "other") => lang.t("Other (write it below)", "其他（请在下方填写）"),
        (Lang::Zh, _) => r.zh,
        _ => r.en,
    }
}
